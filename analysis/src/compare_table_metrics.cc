// Metrics of `segsim compare` read from one file's tables: the firewall's cost (/summary),
// latency percentiles, drops by reason, policy convergence, migrations and invariants.

#include <algorithm>
#include <numeric>

#include "compare_metrics.h"

namespace analysis::detail {
namespace {

constexpr Direction kHigher = Direction::kHigherIsWorse;

std::optional<double> mean(const std::vector<double>& values) {
  if (values.empty()) return std::nullopt;
  return std::accumulate(values.begin(), values.end(), 0.0) / static_cast<double>(values.size());
}

std::optional<double> max(const std::vector<double>& values) {
  if (values.empty()) return std::nullopt;
  return *std::max_element(values.begin(), values.end());
}

std::optional<double> sum(const std::vector<double>& values) {
  return std::accumulate(values.begin(), values.end(), 0.0);
}

// Statistics of a column: an absent column leaves the metrics without value, with a note.
struct ColumnStat {
  const char* column;
  const char* metric;
  std::optional<double> (*statistic)(const std::vector<double>&);
  const char* fallback_units;
};

bool add_column_stats(const ResultReader& reader, const std::optional<TableInfo>& table,
                      const std::vector<ColumnStat>& stats, FamilyMetrics& out, std::string& error,
                      const std::vector<bool>* keep_rows = nullptr) {
  for (const ColumnStat& s : stats) {
    MetricValue m{s.metric, s.fallback_units, kHigher, std::nullopt, false, ""};
    if (table) {
      std::optional<std::vector<double>> values;
      if (!read_optional_doubles(reader, *table, s.column, values, error)) return false;
      if (values) {
        // -1 in a time column means "never" (not converged, not recovered): not a time to average.
        const std::string column = s.column;
        const bool is_time = column.size() > 3 && column.compare(column.size() - 3, 3, "_ns") == 0;
        std::vector<double> kept;
        for (std::size_t i = 0; i < values->size(); ++i) {
          if (keep_rows && (i >= keep_rows->size() || !(*keep_rows)[i])) continue;
          if (is_time && (*values)[i] < 0) continue;
          kept.push_back((*values)[i]);
        }
        values = std::move(kept);
        m.value = s.statistic(*values);
        m.units = column_units(*table, s.column);
        if (!m.value) m.note = "no rows";
      } else {
        m.note = std::string("no column ") + s.column;
      }
    }
    out.metrics.push_back(std::move(m));
  }
  return true;
}

void start(const ResultReader& reader, const char* table, FamilyMetrics& out, std::optional<TableInfo>& info) {
  out.table = table;
  info = reader.table(table);
  out.present = info.has_value();
}

}  // namespace

std::string column_units(const TableInfo& table, const std::string& column) {
  for (const ColumnInfo& c : table.columns) {
    if (c.name == column) return c.units;
  }
  return "";
}

bool has_column(const TableInfo& table, const std::string& column) {
  return std::any_of(table.columns.begin(), table.columns.end(),
                     [&](const ColumnInfo& c) { return c.name == column; });
}

bool read_optional_doubles(const ResultReader& reader, const TableInfo& table, const std::string& column,
                           std::optional<std::vector<double>>& values, std::string& error) {
  values.reset();
  if (!has_column(table, column)) return true;
  std::vector<double> read;
  if (!reader.read_doubles(table.path + "/" + column, read, error)) {
    error = reader.path() + ": " + error;
    return false;
  }
  values = std::move(read);
  return true;
}

bool firewall_metrics(const ResultReader& reader, FamilyMetrics& out, std::string& error) {
  std::optional<TableInfo> summary;
  start(reader, "/summary", out, summary);
  return add_column_stats(reader, summary,
                          {{"firewall_cycles_per_packet", "firewall.cycles_per_packet", max, "cycles"},
                           {"peak_core_utilization", "firewall.peak_core_utilization", max, "1"},
                           {"busiest_core_mean_utilization", "firewall.busiest_core_mean_utilization", max, "1"}},
                          out, error);
}

bool latency_metrics(const ResultReader& reader, FamilyMetrics& out, std::string& error) {
  // Percentiles over all hosts (the "all" scope); per-host rows are left to the reader of the
  // file, as they multiply with the scenario's size.
  std::optional<TableInfo> table;
  start(reader, "/latency/percentiles", out, table);
  std::vector<bool> all_scope;
  if (table) {
    std::vector<std::string> scopes;
    if (has_column(*table, "scope") && !reader.read_strings(table->path + "/scope", scopes, error)) {
      error = reader.path() + ": " + error;
      return false;
    }
    for (const std::string& s : scopes) all_scope.push_back(s == "all");
  }
  return add_column_stats(reader, table,
                          {{"p50_ns", "latency.all.p50_ns", max, "ns"},
                           {"p99_ns", "latency.all.p99_ns", max, "ns"},
                           {"p999_ns", "latency.all.p999_ns", max, "ns"}},
                          out, error, &all_scope);
}

bool drop_metrics(const ResultReader& reader, FamilyMetrics& out, std::string& error) {
  std::optional<TableInfo> table;
  start(reader, "/drops", out, table);
  MetricValue total{"drops.total", "packets", kHigher, std::nullopt, false, ""};
  if (!table) {
    out.metrics.push_back(total);
    return true;
  }
  std::vector<std::string> layers, reasons;
  std::vector<double> packets;
  for (const char* column : {"layer", "reason", "packets"}) {
    if (!has_column(*table, column)) {
      error = reader.path() + ": /drops has no column '" + column + "'";
      return false;
    }
  }
  if (!reader.read_strings("/drops/layer", layers, error) || !reader.read_strings("/drops/reason", reasons, error) ||
      !reader.read_doubles("/drops/packets", packets, error)) {
    error = reader.path() + ": " + error;
    return false;
  }
  const std::string units = column_units(*table, "packets");
  total.units = units;
  total.value = 0;
  for (std::size_t i = 0; i < packets.size() && i < layers.size() && i < reasons.size(); ++i) {
    *total.value += packets[i];
    out.metrics.push_back({"drops." + layers[i] + "." + reasons[i], units, kHigher, packets[i], true, ""});
  }
  out.metrics.insert(out.metrics.begin(), std::move(total));
  return true;
}

bool convergence_metrics(const ResultReader& reader, FamilyMetrics& out, std::string& error) {
  std::optional<TableInfo> table;
  start(reader, "/convergence", out, table);
  // converged_ns is -1 for a change that never converged: those count apart and stay out of the
  // time statistics.
  MetricValue not_converged{"convergence.not_converged", "changes", kHigher, std::nullopt, false, ""};
  std::vector<bool> converged;
  if (table) {
    std::optional<std::vector<double>> converged_ns;
    if (!read_optional_doubles(reader, *table, "converged_ns", converged_ns, error)) return false;
    if (converged_ns) {
      not_converged.value = 0;
      for (double v : *converged_ns) {
        converged.push_back(v >= 0);
        if (v < 0) *not_converged.value += 1;
      }
    } else {
      not_converged.note = "no column converged_ns";
      converged.assign(table->row_count, true);
    }
  }
  out.metrics.push_back(std::move(not_converged));
  return add_column_stats(reader, table,
                          {{"convergence_ns", "convergence.convergence_ns.mean", mean, "ns"},
                           {"convergence_ns", "convergence.convergence_ns.max", max, "ns"}},
                          out, error, table ? &converged : nullptr) &&
         add_column_stats(reader, table,
                          {{"messages", "convergence.messages", sum, "messages"},
                           {"bytes", "convergence.bytes", sum, "bytes"}},
                          out, error);
}

bool migration_metrics(const ResultReader& reader, FamilyMetrics& out, std::string& error) {
  std::optional<TableInfo> table;
  start(reader, "/migrations", out, table);
  // Like the run's /summary, the statistics cover the migrations that finished; the others are
  // counted apart (an aborted migration has no downtime).
  MetricValue not_done{"migrations.not_done", "migrations", kHigher, std::nullopt, false, ""};
  std::vector<bool> done;
  if (table) {
    std::vector<std::string> outcomes;
    if (has_column(*table, "outcome")) {
      if (!reader.read_strings(table->path + "/outcome", outcomes, error)) {
        error = reader.path() + ": " + error;
        return false;
      }
    } else {
      outcomes.assign(table->row_count, "done");
    }
    not_done.value = 0;
    for (const std::string& o : outcomes) {
      done.push_back(o == "done");
      if (o != "done") *not_done.value += 1;
    }
  }
  out.metrics.push_back(std::move(not_done));
  return add_column_stats(reader, table,
                          {{"downtime_ns", "migrations.downtime_ns.mean", mean, "ns"},
                           {"downtime_ns", "migrations.downtime_ns.max", max, "ns"},
                           {"policy_gap_ns", "migrations.policy_gap_ns.max", max, "ns"},
                           {"switchover_drops", "migrations.switchover_drops", sum, "packets"},
                           {"connections_broken", "migrations.connections_broken", sum, "connections"}},
                          out, error, table ? &done : nullptr);
}

bool invariant_metrics(const ResultReader& reader, FamilyMetrics& out, std::string& error) {
  std::optional<TableInfo> table;
  start(reader, "/invariants", out, table);
  MetricValue total{"invariants.violations", "violations", kHigher, std::nullopt, false, ""};
  if (!table) {
    out.metrics.push_back(std::move(total));
    return true;
  }
  std::vector<std::string> names;
  if (!has_column(*table, "name") || !has_column(*table, "violations")) {
    error = reader.path() + ": /invariants needs the columns 'name' and 'violations'";
    return false;
  }
  if (!reader.read_strings("/invariants/name", names, error)) {
    error = reader.path() + ": " + error;
    return false;
  }
  std::optional<std::vector<double>> violations, counts_only;
  if (!read_optional_doubles(reader, *table, "violations", violations, error) ||
      !read_optional_doubles(reader, *table, "counts_only", counts_only, error)) {
    return false;
  }
  const std::string units = column_units(*table, "violations");
  total.units = units;
  total.value = 0;
  for (std::size_t i = 0; i < names.size() && i < violations->size(); ++i) {
    // A counts-only row reports exposure (packets under a stale policy), not a correctness
    // violation: it stays out of the total, like /summary invariant_violations, and is reported
    // as invariants.<name>.count, which the default budget never fails on.
    const bool exposure = counts_only && i < counts_only->size() && (*counts_only)[i] != 0;
    if (!exposure) *total.value += (*violations)[i];
    // An invariant missing on one side is a check that came or went: a finding, not a zero.
    out.metrics.push_back({"invariants." + names[i] + (exposure ? ".count" : ".violations"), units, kHigher,
                           (*violations)[i], false, ""});
  }
  out.metrics.insert(out.metrics.begin(), std::move(total));
  return true;
}

}  // namespace analysis::detail
