#pragma once
// Regression comparison of two result files (what `segsim compare BASE.h5 NEW.h5` runs).
//
// Both files are reduced to named metrics ("latency.all.p99_ns", "drops.dfw.rule_drop",
// "verdicts.newly_allowed", ...; the catalogue is in docs/compare.md), each with units and a
// direction: for most of them more is worse (latency, cycles, drops, downtime, violations), for
// some less is worse (flows completed), and for the firewall's verdict counts any change is
// suspect. Every metric is then checked against its tolerance from the Budget
// (analysis/compare_budget.h): a change beyond the tolerance in the worse direction is a
// regression, one in the better direction an improvement.
//
// Tables written only by some scenarios (/convergence, /migrations, /invariants) may be absent:
// absent from both files, their metrics are reported as "not present"; present in only one file,
// each of their metrics is a finding (a regression), because a check or a feature came or went.
//
// Single-threaded (it reads HDF5).

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "analysis/compare_budget.h"
#include "analysis/result_reader.h"

namespace analysis {

enum class MetricStatus {
  kWithinBudget,  // changed by no more than the tolerance (or not at all)
  kImproved,      // changed beyond the tolerance in the better direction
  kRegression,    // changed beyond the tolerance in the worse direction
  kOnlyInBase,    // the metric (or its table) exists in BASE only: a finding
  kOnlyInNew,     // the metric (or its table) exists in NEW only: a finding
  kNotPresent,    // in neither file (e.g. no migrations in this scenario)
  kIgnored,       // the budget says `ignore: true`
};

// "ok", "improved", "REGRESSION", "only in base", "only in new", "not present in either",
// "ignored".
const char* metric_status_name(MetricStatus status);
// True for the statuses that make `segsim compare` exit 1.
bool is_failure(MetricStatus status);

struct MetricResult {
  std::string name;     // "latency.all.p99_ns"
  std::string family;   // the first segment: "latency"
  std::string units;    // as in the result file: "ns", "packets", "flows", "cycles", "1"
  Direction direction = Direction::kHigherIsWorse;
  Tolerance tolerance;
  std::optional<double> base;
  std::optional<double> candidate;  // the NEW file's value
  // The value NEW may reach without failing: base + tolerance (higher is worse), base -
  // tolerance (lower is worse), base +- tolerance (any change). Set when both values are.
  std::optional<double> limit;
  MetricStatus status = MetricStatus::kNotPresent;
  std::string note;                   // why, when the numbers alone do not say it
  std::vector<std::string> examples;  // a few offending items (flows whose verdict changed)
};

// One file's identity, for the report header.
struct RunDescription {
  std::string path;
  std::string scenario_name;
  std::string seed;
  std::string segsim_version;
  std::string git_revision;
  std::optional<int64_t> simulated_ns;
};

struct Comparison {
  RunDescription base;
  RunDescription candidate;
  std::vector<std::string> notes;  // e.g. "the seeds differ (1 vs 7)"
  std::vector<MetricResult> metrics;

  bool has_regression() const;
  std::size_t count(MetricStatus status) const;
};

struct CompareOptions {
  // Compare files of different scenarios (scenario_name) or lengths (simulated_ns); refused
  // otherwise, as their numbers do not measure the same thing.
  bool allow_incompatible = false;
  // How many flows with a changed verdict to list per metric.
  std::size_t max_examples = 10;
};

// Compares two open result files. False with `error` for bad input: a file without /summary
// (not a finished run), or files of different scenarios or lengths (unless allowed), or a
// table whose columns cannot be read.
bool compare_results(const ResultReader& base, const ResultReader& candidate, const Budget& budget,
                     const CompareOptions& options, Comparison& out, std::string& error);

}  // namespace analysis
