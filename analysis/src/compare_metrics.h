#pragma once
// Internal to `segsim compare`: reducing one result file (or a pair, for per-flow verdicts) to
// named metrics. One function per metric family; compare.cc pairs and judges them.

#include <optional>
#include <string>
#include <vector>

#include "analysis/compare_budget.h"
#include "analysis/result_reader.h"

namespace analysis::detail {

struct MetricValue {
  std::string name;
  std::string units;
  Direction direction = Direction::kHigherIsWorse;
  std::optional<double> value;  // empty: not computable here (no rows, no such column)
  // A counter the other file may simply not list (a drop reason added by a newer build):
  // missing on one side means zero there, not a finding.
  bool missing_is_zero = false;
  std::string note;
};

// A family's metrics from one file. `present` is false if the file lacks the family's table;
// the metric names are then still listed (without values) so that the report shows them.
struct FamilyMetrics {
  std::string table;  // "/migrations"
  bool present = false;
  std::vector<MetricValue> metrics;
};

// The per-flow verdict comparison of two files: metrics plus examples of changed flows.
struct FlowPairMetrics {
  bool present_in_base = false;
  bool present_in_new = false;
  uint64_t newly_allowed = 0;
  uint64_t newly_denied = 0;
  uint64_t only_in_base = 0;
  uint64_t only_in_new = 0;
  std::vector<std::string> newly_allowed_examples;
  std::vector<std::string> newly_denied_examples;
};

// Each returns false with `error` only if a table that is there cannot be read.
bool firewall_metrics(const ResultReader& reader, FamilyMetrics& out, std::string& error);
bool latency_metrics(const ResultReader& reader, FamilyMetrics& out, std::string& error);
bool drop_metrics(const ResultReader& reader, FamilyMetrics& out, std::string& error);
bool flow_metrics(const ResultReader& reader, FamilyMetrics& out, std::string& error);
bool convergence_metrics(const ResultReader& reader, FamilyMetrics& out, std::string& error);
bool migration_metrics(const ResultReader& reader, FamilyMetrics& out, std::string& error);
bool invariant_metrics(const ResultReader& reader, FamilyMetrics& out, std::string& error);

bool pair_flows(const ResultReader& base, const ResultReader& candidate, std::size_t max_examples,
                FlowPairMetrics& out, std::string& error);

// --- column helpers shared by the extractors ---

// The units of `table`'s column `column` ("" if absent).
std::string column_units(const TableInfo& table, const std::string& column);
bool has_column(const TableInfo& table, const std::string& column);
// Reads a numeric column as doubles; an absent column gives an empty optional.
bool read_optional_doubles(const ResultReader& reader, const TableInfo& table, const std::string& column,
                           std::optional<std::vector<double>>& values, std::string& error);

}  // namespace analysis::detail
