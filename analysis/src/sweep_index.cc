// The index file of a parameter sweep (analysis/sweep_index.h).

#include "analysis/sweep_index.h"

#include <algorithm>
#include <filesystem>
#include <limits>
#include <map>

#include "analysis/result_format.h"
#include "analysis/result_reader.h"
#include "analysis/result_writer.h"

namespace analysis {
namespace {

// The numeric /summary columns of every point's result, aligned by name; NaN where a point has
// no result or no such column.
struct SummaryColumns {
  std::vector<std::string> names;  // in order of first appearance
  std::map<std::string, std::string> units;
  std::map<std::string, std::vector<double>> values;
};

SummaryColumns read_summaries(const SweepIndex& index) {
  SummaryColumns out;
  const std::size_t count = index.points.size();
  for (std::size_t p = 0; p < count; ++p) {
    const SweepPoint& point = index.points[p];
    if (point.status != "ok") continue;
    std::string error;
    const auto reader = ResultReader::open(point.result_path, error);
    if (!reader) continue;  // the point said ok but left no readable result: its numbers stay NaN
    const std::optional<TableInfo> summary = reader->table(format::kSummaryTable);
    if (!summary || summary->row_count == 0) continue;
    for (const ColumnInfo& column : summary->columns) {
      if (column.type == ColumnType::kString) continue;
      std::vector<double> values;
      if (!reader->read_doubles(column.path, values, error) || values.empty()) continue;
      auto [it, added] = out.values.emplace(column.name, std::vector<double>());
      if (added) {
        out.names.push_back(column.name);
        out.units[column.name] = column.units.empty() ? "1" : column.units;
        it->second.assign(count, std::numeric_limits<double>::quiet_NaN());
      }
      it->second[p] = values.front();
    }
  }
  return out;
}

// A point's result path as the index stores it: relative to the index's directory when the
// result lies under it, so that the sweep directory can be moved as a whole.
std::string relative_result_path(const std::string& result, const std::string& index_path) {
  namespace fs = std::filesystem;
  const fs::path directory = fs::absolute(fs::path(index_path)).parent_path();
  const fs::path absolute = fs::absolute(fs::path(result)).lexically_normal();
  const fs::path relative = absolute.lexically_relative(directory);
  if (relative.empty() || *relative.begin() == "..") return result;
  return relative.string();
}

}  // namespace

const std::vector<std::string>& sweep_index_reserved_columns() {
  static const std::vector<std::string> names = {"point", "result_path", "exit_code", "status", "error"};
  return names;
}

bool write_sweep_index(const SweepIndex& index, const std::string& path, std::string& error) {
  auto writer = ResultWriter::create(path, error);
  if (!writer) return false;
  writer->set_meta("kind", kSweepIndexKind);
  writer->set_meta(format::kScenarioPathKey, index.scenario_path);
  std::string overrides;
  for (const std::string& o : index.common_overrides) overrides += o + "\n";
  writer->set_meta(format::kOverridesKey, overrides);

  const std::size_t count = index.points.size();
  std::vector<uint64_t> point_numbers(count);
  std::vector<std::string> result_paths, statuses, errors;
  std::vector<int64_t> exit_codes;
  for (std::size_t p = 0; p < count; ++p) {
    point_numbers[p] = p;
    result_paths.push_back(relative_result_path(index.points[p].result_path, path));
    exit_codes.push_back(index.points[p].exit_code);
    statuses.push_back(index.points[p].status);
    errors.push_back(index.points[p].error);
  }
  std::vector<Column> columns;
  columns.push_back({"point", "1", std::move(point_numbers)});
  for (std::size_t k = 0; k < index.parameters.size(); ++k) {
    std::vector<std::string> values;
    for (const SweepPoint& point : index.points) values.push_back(k < point.values.size() ? point.values[k] : "");
    columns.push_back({index.parameters[k], "1", std::move(values)});
  }
  columns.push_back({"result_path", "1", std::move(result_paths)});
  columns.push_back({"exit_code", "1", std::move(exit_codes)});
  columns.push_back({"status", "1", std::move(statuses)});
  columns.push_back({"error", "1", std::move(errors)});

  SummaryColumns summaries = read_summaries(index);
  for (const std::string& name : summaries.names) {
    const bool taken = std::any_of(columns.begin(), columns.end(), [&](const Column& c) { return c.name == name; });
    if (taken) continue;
    columns.push_back({name, summaries.units[name], std::move(summaries.values[name])});
  }
  if (!writer->write_table("/points", columns, error)) return false;
  if (!writer->write_table("/parameters",
                           {{"key", "1", index.parameters}, {"values", "1", index.parameter_values}}, error)) {
    return false;
  }
  return writer->commit(error);
}

}  // namespace analysis
