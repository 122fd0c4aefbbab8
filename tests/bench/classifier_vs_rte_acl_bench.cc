// dfw's classifier versus DPDK's rte_acl on the same ClassBench rules and header trace, side by
// side in one process: both classify the whole trace, their answers are compared header by header
// (exit 1 on any difference), then each is timed over repeated passes, in the thread's CPU time
// (the machines this runs on are shared). --leaf-size, --space-factor and --max-cuts build the dfw
// table with other ForestLimits, for tuning experiments (docs/classifier.md).
//
//   classifier_vs_rte_acl_bench --rules acl1_1k --trace acl1_1k_trace [--json]
//   classifier_vs_rte_acl_bench --generate 10000 --seed 1 [--trace-size 100000] [--json]
//
// dfw classifies one header per call (the datapath's contract); rte_acl gets its natural batch
// interface (--batch headers per rte_acl_classify call, default 64) with its default (best
// available SIMD) algorithm. rte_acl needs the EAL for its memory; it is initialised without
// hugepages, PCI or shared files. Memory: dfw's table reports its size; rte_acl's is the growth of
// the EAL heap across rte_acl_build.

#include <rte_acl.h>
#include <rte_eal.h>
#include <rte_malloc.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <string>
#include <vector>

#include "classifier/classbench.h"
#include "classifier_classbench_generator.h"

namespace {

namespace cb = dfw::classifier::classbench;
using Clock = std::chrono::steady_clock;

struct Options {
  std::string rules_path, trace_path;
  std::size_t generate = 0;
  uint64_t seed = 1;
  std::size_t trace_size = 100000;
  double seconds = 1.0;
  uint32_t batch = 64;
  bool json = false;
  dfw::classifier::ForestLimits limits;  // --leaf-size, --space-factor, --max-cuts: tuning experiments
};

uint32_t to_u32(const char* v) { return static_cast<uint32_t>(std::strtoul(v, nullptr, 10)); }

bool parse(int argc, char** argv, Options& o) {
  for (int i = 1; i < argc; ++i) {
    const std::string f = argv[i];
    auto value = [&]() -> const char* { return i + 1 < argc ? argv[++i] : nullptr; };
    const char* v = nullptr;
    if (f == "--json") {
      o.json = true;
      continue;
    }
    if ((v = value()) == nullptr) return false;
    if (f == "--rules") o.rules_path = v;
    else if (f == "--trace") o.trace_path = v;
    else if (f == "--generate") o.generate = std::strtoull(v, nullptr, 10);
    else if (f == "--seed") o.seed = std::strtoull(v, nullptr, 10);
    else if (f == "--trace-size") o.trace_size = std::strtoull(v, nullptr, 10);
    else if (f == "--seconds") o.seconds = std::strtod(v, nullptr);
    else if (f == "--batch") o.batch = static_cast<uint32_t>(std::strtoul(v, nullptr, 10));
    else if (f == "--leaf-size") o.limits.leaf_rule_limit = to_u32(v);
    else if (f == "--space-factor") o.limits.space_factor = to_u32(v);
    else if (f == "--max-cuts") o.limits.max_cuts = to_u32(v);
    else return false;
  }
  const bool from_files = !o.rules_path.empty() && !o.trace_path.empty();
  return (from_files != (o.generate > 0)) && o.batch > 0 && o.seconds > 0 && o.limits.leaf_rule_limit > 0 &&
         o.limits.space_factor > 0 && o.limits.max_cuts >= 2;
}

// The rte_acl input: protocol first (rte_acl consumes the first byte on its own), then addresses
// and ports in network byte order, as they sit in a packet.
struct AclInput {
  uint8_t protocol;
  uint8_t pad[3];
  uint32_t source;
  uint32_t destination;
  uint16_t source_port;
  uint16_t destination_port;
};

RTE_ACL_RULE_DEF(AclRule, 5);

const rte_acl_field_def kFieldDefs[5] = {
    {RTE_ACL_FIELD_TYPE_BITMASK, sizeof(uint8_t), 0, 0, offsetof(AclInput, protocol)},
    {RTE_ACL_FIELD_TYPE_MASK, sizeof(uint32_t), 1, 1, offsetof(AclInput, source)},
    {RTE_ACL_FIELD_TYPE_MASK, sizeof(uint32_t), 2, 2, offsetof(AclInput, destination)},
    {RTE_ACL_FIELD_TYPE_RANGE, sizeof(uint16_t), 3, 3, offsetof(AclInput, source_port)},
    {RTE_ACL_FIELD_TYPE_RANGE, sizeof(uint16_t), 4, 3, offsetof(AclInput, destination_port)},
};

rte_acl_ctx* build_acl(const std::vector<cb::Rule>& rules, std::size_t& memory_size, double& build_seconds) {
  rte_acl_param param{};
  param.name = "classifier_bench";
  param.socket_id = SOCKET_ID_ANY;
  param.rule_size = RTE_ACL_RULE_SZ(5);
  param.max_rule_num = static_cast<uint32_t>(rules.size());
  rte_malloc_socket_stats before{}, after{};
  rte_malloc_get_socket_stats(0, &before);
  const auto start = Clock::now();
  rte_acl_ctx* ctx = rte_acl_create(&param);
  if (ctx == nullptr) return nullptr;
  std::vector<AclRule> acl_rules(rules.size());
  for (std::size_t i = 0; i < rules.size(); ++i) {
    const cb::Rule& r = rules[i];
    AclRule& a = acl_rules[i];
    std::memset(&a, 0, sizeof(a));
    a.data.category_mask = 1;
    a.data.priority = static_cast<int32_t>(RTE_ACL_MAX_PRIORITY - i);
    a.data.userdata = static_cast<uint32_t>(i + 1);  // 0 means no match
    a.field[0].value.u8 = r.protocol;
    a.field[0].mask_range.u8 = r.protocol_any ? 0 : 0xff;
    a.field[1].value.u32 = r.source;
    a.field[1].mask_range.u32 = r.source_length;
    a.field[2].value.u32 = r.destination;
    a.field[2].mask_range.u32 = r.destination_length;
    a.field[3].value.u16 = r.source_port_first;
    a.field[3].mask_range.u16 = r.source_port_last;
    a.field[4].value.u16 = r.destination_port_first;
    a.field[4].mask_range.u16 = r.destination_port_last;
  }
  if (rte_acl_add_rules(ctx, reinterpret_cast<const rte_acl_rule*>(acl_rules.data()),
                        static_cast<uint32_t>(acl_rules.size())) != 0) {
    return nullptr;
  }
  rte_acl_config config{};
  config.num_categories = 1;
  config.num_fields = 5;
  std::memcpy(config.defs, kFieldDefs, sizeof(kFieldDefs));
  if (rte_acl_build(ctx, &config) != 0) return nullptr;
  build_seconds = std::chrono::duration<double>(Clock::now() - start).count();
  rte_malloc_get_socket_stats(0, &after);
  memory_size = after.heap_allocsz_bytes - before.heap_allocsz_bytes;
  return ctx;
}

// CPU time of this thread, in seconds: on a shared machine, time spent descheduled is not counted
// against either contender (wall time was, and made single rounds swing by 2x under load).
double thread_cpu_seconds() {
  timespec t{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_nsec) * 1e-9;
}

// Lookups per CPU second of one timed run of `pass` (which classifies `per_pass` headers),
// repeated until `seconds` of CPU time have passed.
template <typename Pass>
double timed_rate(std::size_t per_pass, double seconds, Pass&& pass) {
  uint64_t lookups = 0;
  const double start = thread_cpu_seconds();
  double elapsed = 0;
  do {
    pass();
    lookups += per_pass;
    elapsed = thread_cpu_seconds() - start;
  } while (elapsed < seconds);
  return static_cast<double>(lookups) / elapsed;
}

// The contenders are timed in alternation, `rounds` times each, and each keeps its best round, so
// that load from other processes on a shared machine hits both alike.
constexpr int kRounds = 5;

}  // namespace

int main(int argc, char** argv) {
  Options o;
  if (!parse(argc, argv, o)) {
    std::fprintf(stderr,
                 "usage: %s (--rules FILE --trace FILE | --generate N [--seed S] [--trace-size M])\n"
                 "          [--seconds S] [--batch B] [--json]\n"
                 "          [--leaf-size N] [--space-factor N] [--max-cuts N]   (dfw build limits)\n",
                 argv[0]);
    return 2;
  }
  std::vector<cb::Rule> rules;
  std::vector<cb::Header> headers;
  std::string name;
  if (o.generate > 0) {
    rules = dfw::bench::generate_rules(o.generate, o.seed);
    headers = dfw::bench::generate_trace(rules, o.trace_size, o.seed);
    name = "generated-" + std::to_string(o.generate) + "-seed" + std::to_string(o.seed);
  } else {
    std::string text, error;
    if (!cb::read_file(o.rules_path, text, error) || !cb::parse_rules(text, o.rules_path, rules, error) ||
        !cb::read_file(o.trace_path, text, error) || !cb::parse_trace(text, o.trace_path, headers, error)) {
      std::fprintf(stderr, "%s\n", error.c_str());
      return 2;
    }
    name = o.rules_path.substr(o.rules_path.find_last_of('/') + 1);
  }

  char arg0[] = "classifier_bench", a1[] = "--no-huge", a2[] = "--no-pci", a3[] = "-m", a4[] = "256",
       a5[] = "--no-shconf", a6[] = "--log-level=error", a7[] = "--no-telemetry";
  char* eal_argv[] = {arg0, a1, a2, a3, a4, a5, a6, a7};
  if (rte_eal_init(8, eal_argv) < 0) {
    std::fprintf(stderr, "rte_eal_init failed\n");
    return 1;
  }

  // dfw
  const auto start = Clock::now();
  const dfw::classifier::ForestRuleTablePtr table = cb::compile(rules, o.limits);
  const double dfw_build_seconds = std::chrono::duration<double>(Clock::now() - start).count();
  std::vector<dfw::classifier::PointKey> points;
  for (const cb::Header& h : headers) points.push_back(cb::point_of(h));

  // rte_acl
  std::size_t acl_memory = 0;
  double acl_build_seconds = 0;
  rte_acl_ctx* ctx = build_acl(rules, acl_memory, acl_build_seconds);
  if (ctx == nullptr) {
    std::fprintf(stderr, "rte_acl build failed: %s\n", std::strerror(rte_errno));
    return 1;
  }
  std::vector<AclInput> inputs(headers.size());
  std::vector<const uint8_t*> input_pointers(headers.size());
  for (std::size_t i = 0; i < headers.size(); ++i) {
    inputs[i] = {headers[i].protocol, {0, 0, 0}, rte_cpu_to_be_32(headers[i].source),
                 rte_cpu_to_be_32(headers[i].destination), rte_cpu_to_be_16(headers[i].source_port),
                 rte_cpu_to_be_16(headers[i].destination_port)};
    input_pointers[i] = reinterpret_cast<const uint8_t*>(&inputs[i]);
  }

  // Same answers, header by header.
  std::vector<uint32_t> acl_results(headers.size());
  rte_acl_classify(ctx, input_pointers.data(), acl_results.data(), static_cast<uint32_t>(headers.size()), 1);
  uint64_t steps = 0;
  for (std::size_t i = 0; i < headers.size(); ++i) {
    uint32_t s = 0;
    const int32_t ours = table->classify_point(points[i], s);
    steps += s;
    const int32_t theirs = static_cast<int32_t>(acl_results[i]) - 1;
    if (ours != theirs) {
      std::fprintf(stderr, "MISMATCH at header %zu: dfw %d, rte_acl %d\n", i, ours, theirs);
      return 1;
    }
  }

  uint32_t sink = 0;
  auto dfw_pass = [&] {
    for (const auto& p : points) {
      uint32_t s = 0;
      sink += static_cast<uint32_t>(table->classify_point(p, s));
    }
  };
  std::vector<int32_t> batch_results(points.size());
  auto dfw_batch_pass = [&] {
    for (std::size_t i = 0; i < points.size(); i += o.batch) {
      const std::size_t n = std::min<std::size_t>(o.batch, points.size() - i);
      uint32_t s = 0;
      table->classify_batch({points.data() + i, n}, {batch_results.data() + i, n}, s);
    }
  };
  auto acl_pass = [&] {
    for (std::size_t i = 0; i < headers.size(); i += o.batch) {
      const uint32_t n = static_cast<uint32_t>(std::min<std::size_t>(o.batch, headers.size() - i));
      rte_acl_classify(ctx, input_pointers.data() + i, acl_results.data() + i, n, 1);
    }
  };
  dfw_batch_pass();
  for (std::size_t i = 0; i < points.size(); ++i) {
    if (batch_results[i] != static_cast<int32_t>(acl_results[i]) - 1) {
      std::fprintf(stderr, "MISMATCH (dfw batch) at header %zu\n", i);
      return 1;
    }
  }
  double dfw_rate = 0, dfw_batch_rate = 0, acl_rate = 0;
  const double round_seconds = o.seconds / kRounds;
  for (int round = 0; round < kRounds; ++round) {
    dfw_rate = std::max(dfw_rate, timed_rate(points.size(), round_seconds, dfw_pass));
    dfw_batch_rate = std::max(dfw_batch_rate, timed_rate(points.size(), round_seconds, dfw_batch_pass));
    acl_rate = std::max(acl_rate, timed_rate(headers.size(), round_seconds, acl_pass));
  }

  const double ratio = dfw_rate / acl_rate;
  const double batch_ratio = dfw_batch_rate / acl_rate;
  const auto& st = table->forest().stats();
  if (o.json) {
    std::printf(
        "{\"ruleset\": \"%s\", \"rules\": %zu, \"headers\": %zu, \"agree\": true,\n"
        " \"dfw\": {\"lookups_per_second\": %.0f, \"build_seconds\": %.6f, \"memory_bytes\": %zu,"
        " \"memory_bytes_per_rule\": %.1f, \"steps_per_lookup\": %.2f, \"trees\": %u, \"nodes\": %u,"
        " \"leaf_entries\": %u, \"leaves\": %u, \"max_leaf_size\": %u, \"max_depth\": %u},\n"
        " \"rte_acl\": {\"lookups_per_second\": %.0f, \"build_seconds\": %.6f, \"memory_bytes\": %zu,"
        " \"memory_bytes_per_rule\": %.1f, \"batch\": %u},\n"
        " \"dfw_batch\": {\"lookups_per_second\": %.0f, \"batch\": %u},\n"
        " \"speedup\": %.3f, \"batch_speedup\": %.3f, \"checksum\": %u}\n",
        name.c_str(), rules.size(), headers.size(), dfw_rate, dfw_build_seconds, table->memory_size(),
        static_cast<double>(table->memory_size()) / static_cast<double>(rules.size()),
        static_cast<double>(steps) / static_cast<double>(headers.size()), st.tree_count, st.node_count,
        st.leaf_entry_count, st.leaf_count, st.max_leaf_size, st.max_depth, acl_rate, acl_build_seconds,
        acl_memory,
        static_cast<double>(acl_memory) / static_cast<double>(rules.size()), o.batch, dfw_batch_rate, o.batch,
        ratio, batch_ratio, sink);
  } else {
    std::printf("%s: %zu rules, %zu headers, answers agree\n", name.c_str(), rules.size(), headers.size());
    std::printf("  dfw      %8.2f Mlookups/s  build %8.2f ms  memory %9zu B (%6.1f B/rule)  steps/lookup %.2f\n",
                dfw_rate / 1e6, dfw_build_seconds * 1e3, table->memory_size(),
                static_cast<double>(table->memory_size()) / static_cast<double>(rules.size()),
                static_cast<double>(steps) / static_cast<double>(headers.size()));
    std::printf("  rte_acl  %8.2f Mlookups/s  build %8.2f ms  memory %9zu B (%6.1f B/rule)  batch %u\n",
                acl_rate / 1e6, acl_build_seconds * 1e3, acl_memory,
                static_cast<double>(acl_memory) / static_cast<double>(rules.size()), o.batch);
    std::printf("  dfw batch%8.2f Mlookups/s  (classify_batch, %u headers per call)\n", dfw_batch_rate / 1e6, o.batch);
    std::printf("  dfw / rte_acl = %.2fx   dfw batch / rte_acl = %.2fx\n", ratio, batch_ratio);
  }
  rte_acl_free(ctx);
  rte_eal_cleanup();
  return 0;
}
