// segsim-dfw classify: first-match classification of a ClassBench header trace against a
// ClassBench filter set with dfw's classifier.
//
// Writes OUT with one line per trace header: the 0-based index of the first matching rule, or -1.
// OUT is written to a temporary file beside it and renamed, so a failed run leaves no partial
// output. Prints build time, table memory and lookup throughput to stdout.

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "classifier/classbench.h"
#include "commands.h"

namespace dfw::tools {

namespace {

namespace cb = dfw::classifier::classbench;

constexpr const char* kUsage =
    "usage: segsim-dfw classify --rules RULES --trace TRACE --out OUT [--repeat-seconds S]\n"
    "  RULES  ClassBench filter set (one rule per line, first match wins)\n"
    "  TRACE  ClassBench header trace (5 fields used: src dst sport dport proto)\n"
    "  OUT    written with the 0-based index of the first matching rule per header, or -1\n"
    "  S      time the lookups for at least S seconds (default 0.5) for the throughput figure\n";

struct Options {
  std::string rules, trace, out;
  double repeat_seconds = 0.5;
};

bool parse_options(int argc, char** argv, Options& o) {
  for (int i = 1; i < argc; ++i) {
    const std::string flag = argv[i];
    if (flag == "-h" || flag == "--help") return false;
    if (i + 1 >= argc) {
      std::fprintf(stderr, "segsim-dfw classify: %s needs a value\n", flag.c_str());
      return false;
    }
    const char* value = argv[++i];
    if (flag == "--rules") {
      o.rules = value;
    } else if (flag == "--trace") {
      o.trace = value;
    } else if (flag == "--out") {
      o.out = value;
    } else if (flag == "--repeat-seconds") {
      char* end = nullptr;
      o.repeat_seconds = std::strtod(value, &end);
      if (end == value || *end != '\0' || !(o.repeat_seconds >= 0 && o.repeat_seconds <= 3600)) {
        std::fprintf(stderr, "segsim-dfw classify: --repeat-seconds: expected 0..3600 seconds\n");
        return false;
      }
    } else {
      std::fprintf(stderr, "segsim-dfw classify: unknown option %s\n", flag.c_str());
      return false;
    }
  }
  if (o.rules.empty() || o.trace.empty() || o.out.empty()) {
    std::fprintf(stderr, "segsim-dfw classify: --rules, --trace and --out are required\n");
    return false;
  }
  return true;
}

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// Writes all results to `path` through a temporary file and a rename.
bool write_results(const std::string& path, const std::vector<int32_t>& results, std::string& error) {
  const std::string temporary = path + ".tmp." + std::to_string(::getpid());
  std::FILE* file = std::fopen(temporary.c_str(), "wb");
  if (file == nullptr) {
    error = temporary + ": cannot create: " + std::strerror(errno);
    return false;
  }
  std::string text;
  text.reserve(results.size() * 5);
  for (int32_t r : results) {
    text += std::to_string(r);
    text += '\n';
  }
  const bool written = std::fwrite(text.data(), 1, text.size(), file) == text.size();
  const bool closed = std::fclose(file) == 0;
  if (!written || !closed || std::rename(temporary.c_str(), path.c_str()) != 0) {
    error = path + ": cannot write: " + std::strerror(errno);
    std::remove(temporary.c_str());
    return false;
  }
  return true;
}

}  // namespace

int run_classify_command(int argc, char** argv) {
  Options options;
  if (!parse_options(argc, argv, options)) {
    std::fputs(kUsage, stderr);
    return 2;
  }
  std::string text, error;
  std::vector<cb::Rule> rules;
  std::vector<cb::Header> headers;
  if (!cb::read_file(options.rules, text, error) || !cb::parse_rules(text, options.rules, rules, error) ||
      !cb::read_file(options.trace, text, error) || !cb::parse_trace(text, options.trace, headers, error)) {
    std::fprintf(stderr, "segsim-dfw classify: %s\n", error.c_str());
    return 2;
  }

  const auto build_start = std::chrono::steady_clock::now();
  const classifier::ForestRuleTablePtr table = cb::compile(rules);
  const double build_seconds = seconds_since(build_start);

  std::vector<classifier::PointKey> points;
  points.reserve(headers.size());
  for (const cb::Header& h : headers) points.push_back(cb::point_of(h));
  std::vector<int32_t> results(points.size());
  uint64_t steps = 0;
  {
    uint32_t pass_steps = 0;
    for (std::size_t i = 0; i < points.size(); ++i) {
      uint32_t s = 0;
      results[i] = table->classify_point(points[i], s);
      pass_steps += s;
    }
    steps = pass_steps;
  }
  if (!write_results(options.out, results, error)) {
    std::fprintf(stderr, "segsim-dfw classify: %s\n", error.c_str());
    return 2;
  }

  // Throughput: repeated passes over the trace until the time budget is used.
  uint64_t lookups = 0;
  uint32_t sink = 0;
  const auto timing_start = std::chrono::steady_clock::now();
  double elapsed = 0;
  do {
    for (const classifier::PointKey& p : points) {
      uint32_t s = 0;
      sink += static_cast<uint32_t>(table->classify_point(p, s));
    }
    lookups += points.size();
    elapsed = seconds_since(timing_start);
  } while (elapsed < options.repeat_seconds && !points.empty());

  const auto& stats = table->forest().stats();
  std::printf("rules: %zu  headers: %zu  matched: %zu\n", rules.size(), headers.size(),
              static_cast<std::size_t>(std::count_if(results.begin(), results.end(), [](int32_t r) { return r >= 0; })));
  std::printf("build: %.3f ms  memory: %zu bytes (%.1f bytes/rule)  trees: %u  nodes: %u  leaves: %u  leaf entries: %u\n",
              build_seconds * 1e3, table->memory_size(),
              rules.empty() ? 0.0 : static_cast<double>(table->memory_size()) / static_cast<double>(rules.size()),
              stats.tree_count, stats.node_count, stats.leaf_count, stats.leaf_entry_count);
  std::printf("lookups: %llu in %.3f s  %.2f Mlookups/s  %.1f ns/lookup  steps/lookup: %.2f  (checksum %u)\n",
              static_cast<unsigned long long>(lookups), elapsed, elapsed > 0 ? lookups / elapsed / 1e6 : 0.0,
              lookups > 0 ? elapsed * 1e9 / static_cast<double>(lookups) : 0.0,
              points.empty() ? 0.0 : static_cast<double>(steps) / static_cast<double>(points.size()), sink);
  return 0;
}

}  // namespace dfw::tools
