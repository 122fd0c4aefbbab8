// segsim-dfw bench: datapath throughput on one core.
//
//   established  N live UDP connections (default 1M); 64-byte packets of random connections in
//                batches, every one a connection-table hit. The timed loop includes writing each
//                packet's headers into a hot batch buffer (what a NIC's DMA would have done).
//   new          fresh flows against generated rule sets (default 1k and 10k rules): parse,
//                classify, create a connection.
// Also reports memory per connection: sizeof(Conn) and the table's own byte count / live
// connections, and the process's resident-set growth.

#include <boost/program_options.hpp>

#include <time.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "bench_command.h"
#include "conntrack/conn.h"
#include "dfw/datapath.h"

namespace dfw::tools {
namespace {

namespace po = boost::program_options;
using Clock = std::chrono::steady_clock;

struct Options {
  std::string mode = "all";
  uint32_t connections = 1'000'000;
  std::vector<uint32_t> rule_counts{1000, 10000};
  uint64_t packets = 50'000'000;
  uint32_t new_flows = 1'000'000;
  uint32_t batch = 32;
  uint64_t seed = 1;
  bool json = false;
};

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// CPU time of this thread: on a shared machine the wall clock also counts time spent waiting for
// a core, so throughput is computed from CPU time and the wall time is reported beside it.
double thread_cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

uint64_t resident_bytes() {
  std::ifstream statm("/proc/self/statm");
  uint64_t size = 0, resident = 0;
  statm >> size >> resident;
  return resident * 4096;
}

struct EstablishedResult {
  double setup_seconds = 0, seconds = 0, wall_seconds = 0, mpps = 0, ns_per_packet = 0;
  uint64_t packets = 0, hits = 0;
  double table_bytes_per_connection = 0, rss_bytes_per_connection = 0;
  uint64_t hash_probes = 0;
};

bool run_established(const Options& o, EstablishedResult& out) {
  DatapathConfig config;
  config.connection_limit = o.connections;
  Datapath dp(config);
  RuleSetSpec allow_all;
  allow_all.default_action = Action::kAllow;
  Status error;
  RuleTablePtr table = compile_rules(allow_all, error);
  if (!table) {
    std::fprintf(stderr, "bench: compile_rules: %s\n", error.message().c_str());
    return false;
  }
  if (!dp.add_port(1, table)) return false;

  const uint64_t rss_before = resident_bytes();
  std::vector<uint8_t> frames(std::size_t{o.batch} * kBenchFrameSize);
  std::vector<PacketView> views(o.batch);
  std::vector<Result> results(o.batch);
  for (uint32_t i = 0; i < o.batch; ++i)
    views[i] = PacketView{frames.data() + std::size_t{i} * kBenchFrameSize, kBenchFrameSize,
                          kBenchFrameSize, 1};
  const int64_t now = 1'000'000'000;
  auto setup = Clock::now();
  for (uint32_t flow = 0; flow < o.connections; ++flow) {
    write_bench_frame(flow, frames.data());
    const Result r = dp.process(1, Direction::kEgress, views[0], now);
    if (!r.connection_created) {
      std::fprintf(stderr, "bench: flow %u not created (%s)\n", flow,
                   std::string(drop_reason_name(r.reason)).c_str());
      return false;
    }
  }
  out.setup_seconds = seconds_since(setup);
  const DatapathStats stats = dp.stats();
  out.table_bytes_per_connection =
      static_cast<double>(stats.connection_table_size) / static_cast<double>(o.connections);
  out.rss_bytes_per_connection =
      static_cast<double>(resident_bytes() - rss_before) / static_cast<double>(o.connections);

  const uint64_t batches = o.packets / o.batch;
  uint64_t sequence = 0;
  auto start = Clock::now();
  const double cpu_start = thread_cpu_seconds();
  for (uint64_t b = 0; b < batches; ++b) {
    for (uint32_t i = 0; i < o.batch; ++i) {
      // A multiplicative walk visits connections in scattered order, so neither the index nor
      // the connection pool is read sequentially.
      const auto flow = static_cast<uint32_t>((sequence++ * 0x9E3779B1ull) % o.connections);
      write_bench_frame(flow, frames.data() + std::size_t{i} * kBenchFrameSize);
    }
    dp.process_batch(1, Direction::kEgress, views, now, results);
    for (const Result& r : results) {
      out.hits += r.connection_hit;
      out.hash_probes += r.work.hash_probes;
    }
  }
  out.seconds = thread_cpu_seconds() - cpu_start;
  out.wall_seconds = seconds_since(start);
  out.packets = batches * o.batch;
  out.mpps = static_cast<double>(out.packets) / out.seconds / 1e6;
  out.ns_per_packet = out.seconds * 1e9 / static_cast<double>(out.packets);
  return out.hits == out.packets;
}

struct NewConnResult {
  uint32_t rules = 0;
  double compile_seconds = 0, seconds = 0, wall_seconds = 0, mpps = 0, ns_per_packet = 0;
  uint64_t created = 0, dropped = 0, classifier_steps = 0;
  std::size_t table_memory = 0;
};

bool run_new(const Options& o, uint32_t rule_count, NewConnResult& out) {
  out.rules = rule_count;
  auto compile_start = Clock::now();
  Status error;
  RuleTablePtr table = compile_rules(generate_bench_rules(rule_count, o.seed), error);
  if (!table) {
    std::fprintf(stderr, "bench: compile_rules: %s\n", error.message().c_str());
    return false;
  }
  out.compile_seconds = seconds_since(compile_start);
  out.table_memory = rule_table_memory_size(*table);
  DatapathConfig config;
  config.connection_limit = o.new_flows;
  Datapath dp(config);
  if (!dp.add_port(1, table)) return false;
  std::vector<uint8_t> frames(std::size_t{o.batch} * kBenchFrameSize);
  std::vector<PacketView> views(o.batch);
  std::vector<Result> results(o.batch);
  for (uint32_t i = 0; i < o.batch; ++i)
    views[i] = PacketView{frames.data() + std::size_t{i} * kBenchFrameSize, kBenchFrameSize,
                          kBenchFrameSize, 1};
  const int64_t now = 1'000'000'000;
  const uint32_t batches = o.new_flows / o.batch;
  uint32_t flow = 0;
  auto start = Clock::now();
  const double cpu_start = thread_cpu_seconds();
  for (uint32_t b = 0; b < batches; ++b) {
    for (uint32_t i = 0; i < o.batch; ++i)
      write_bench_frame(flow++ * 0x9E3779B1u, frames.data() + std::size_t{i} * kBenchFrameSize);
    dp.process_batch(1, Direction::kEgress, views, now, results);
    for (const Result& r : results) {
      out.created += r.connection_created;
      out.dropped += r.verdict == Verdict::kDrop;
      out.classifier_steps += r.work.classifier_steps;
    }
  }
  out.seconds = thread_cpu_seconds() - cpu_start;
  out.wall_seconds = seconds_since(start);
  const double packets = static_cast<double>(batches) * o.batch;
  out.mpps = packets / out.seconds / 1e6;
  out.ns_per_packet = out.seconds * 1e9 / packets;
  return out.created + out.dropped == static_cast<uint64_t>(packets);
}

std::vector<uint32_t> parse_counts(const std::string& text, bool& ok) {
  std::vector<uint32_t> counts;
  std::stringstream in(text);
  std::string item;
  ok = true;
  while (std::getline(in, item, ',')) {
    char* end = nullptr;
    const unsigned long v = std::strtoul(item.c_str(), &end, 10);
    if (item.empty() || *end != '\0' || v == 0 || v > 1'000'000) ok = false;
    counts.push_back(static_cast<uint32_t>(v));
  }
  return counts;
}

}  // namespace

int run_bench_command(int argc, char** argv) {
  Options o;
  std::string rules_text = "1000,10000";
  po::options_description desc("segsim-dfw bench options");
  desc.add_options()("help,h", "this help")(
      "mode", po::value(&o.mode)->default_value(o.mode), "established | new | all")(
      "connections", po::value(&o.connections)->default_value(o.connections),
      "live connections for the established path")(
      "packets", po::value(&o.packets)->default_value(o.packets),
      "packets timed on the established path")(
      "rules", po::value(&rules_text)->default_value(rules_text),
      "comma-separated rule counts for the new-connection path")(
      "new-flows", po::value(&o.new_flows)->default_value(o.new_flows),
      "new flows timed per rule count")(
      "batch", po::value(&o.batch)->default_value(o.batch), "packets per process_batch call")(
      "seed", po::value(&o.seed)->default_value(o.seed), "rule generator seed")(
      "json", po::bool_switch(&o.json), "print one JSON object instead of text");
  po::variables_map vm;
  // Boost.Program_options reports bad usage by throwing; this tool (not the library) turns that
  // into a usage error at its boundary.
  try {
    po::store(po::parse_command_line(argc, argv, desc), vm);
    po::notify(vm);
  } catch (const po::error& e) {
    std::fprintf(stderr, "segsim-dfw bench: %s\n", e.what());
    return 2;
  }
  if (vm.count("help")) {
    std::cout << desc;
    return 0;
  }
  bool counts_ok = false;
  o.rule_counts = parse_counts(rules_text, counts_ok);
  if (!counts_ok || o.batch == 0 || o.batch > 1024 || o.connections == 0 || o.new_flows < o.batch ||
      (o.mode != "established" && o.mode != "new" && o.mode != "all")) {
    std::fprintf(stderr, "segsim-dfw bench: bad --rules, --batch (1..1024), --connections, "
                         "--new-flows (>= batch) or --mode\n");
    return 2;
  }

  std::ostringstream json;
  json << "{\"sizeof_conn\":" << sizeof(Conn) << ",\"batch\":" << o.batch;
  if (o.mode != "new") {
    EstablishedResult e;
    if (!run_established(o, e)) {
      std::fprintf(stderr, "segsim-dfw bench: established path did not hit every packet\n");
      return 1;
    }
    json << ",\"established\":{\"connections\":" << o.connections << ",\"packets\":" << e.packets
         << ",\"cpu_seconds\":" << e.seconds << ",\"wall_seconds\":" << e.wall_seconds << ",\"mpps\":" << e.mpps
         << ",\"ns_per_packet\":" << e.ns_per_packet
         << ",\"hash_probes_per_packet\":" << static_cast<double>(e.hash_probes) / e.packets
         << ",\"setup_seconds\":" << e.setup_seconds
         << ",\"table_bytes_per_connection\":" << e.table_bytes_per_connection
         << ",\"rss_bytes_per_connection\":" << e.rss_bytes_per_connection << "}";
    if (!o.json)
      std::printf("established: %u connections, %llu packets of 64 B, batch %u: %.2f Mpps "
                  "(%.1f ns/packet of CPU time; wall %.2f s for %.2f s CPU), %.2f hash probes/packet\n"
                  "memory: sizeof(Conn) %zu B, table %.1f B/connection, RSS growth %.1f "
                  "B/connection (setup %.2f s = %.2f M new connections/s, empty policy)\n",
                  o.connections, static_cast<unsigned long long>(e.packets), o.batch, e.mpps,
                  e.ns_per_packet, e.wall_seconds, e.seconds, static_cast<double>(e.hash_probes) / e.packets, sizeof(Conn),
                  e.table_bytes_per_connection, e.rss_bytes_per_connection, e.setup_seconds,
                  o.connections / e.setup_seconds / 1e6);
  }
  if (o.mode != "established") {
    json << ",\"new_connection\":[";
    bool first = true;
    for (uint32_t count : o.rule_counts) {
      NewConnResult n;
      if (!run_new(o, count, n)) {
        std::fprintf(stderr, "segsim-dfw bench: new-connection path lost packets\n");
        return 1;
      }
      json << (first ? "" : ",") << "{\"rules\":" << n.rules << ",\"flows\":"
           << n.created + n.dropped << ",\"created\":" << n.created << ",\"dropped\":" << n.dropped
           << ",\"cpu_seconds\":" << n.seconds << ",\"wall_seconds\":" << n.wall_seconds << ",\"mpps\":" << n.mpps
           << ",\"ns_per_packet\":" << n.ns_per_packet << ",\"classifier_steps_per_packet\":"
           << static_cast<double>(n.classifier_steps) / static_cast<double>(n.created + n.dropped)
           << ",\"compile_seconds\":" << n.compile_seconds
           << ",\"rule_table_bytes\":" << n.table_memory << "}";
      first = false;
      if (!o.json)
        std::printf("new connections, %u rules: %.3f Mpps (%.0f ns/packet), %llu created, %llu "
                    "dropped, %.1f classifier steps/packet; compile %.2f s, table %zu B\n",
                    n.rules, n.mpps, n.ns_per_packet, static_cast<unsigned long long>(n.created),
                    static_cast<unsigned long long>(n.dropped),
                    static_cast<double>(n.classifier_steps) /
                        static_cast<double>(n.created + n.dropped),
                    n.compile_seconds, n.table_memory);
    }
    json << "]";
  }
  json << "}";
  if (o.json) std::printf("%s\n", json.str().c_str());
  return 0;
}

}  // namespace dfw::tools
