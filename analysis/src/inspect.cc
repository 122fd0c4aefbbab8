#include "analysis/inspect.h"

#include <algorithm>
#include <iomanip>
#include <set>
#include <utility>
#include <vector>

#include "analysis/result_format.h"
#include "analysis/result_reader.h"

namespace analysis {
namespace {

constexpr std::size_t kInlineTextLimit = 72;

// A value fit for one line: short single-line text as it is, long text by its size.
std::string one_line(const AttributeValue& value) {
  const std::string text = to_display_string(value);
  if (std::holds_alternative<std::string>(value) &&
      (text.size() > kInlineTextLimit || text.find('\n') != std::string::npos)) {
    const auto lines = std::count(text.begin(), text.end(), '\n') + (text.back() == '\n' ? 0 : 1);
    return "(text, " + std::to_string(lines) + " lines, " + std::to_string(text.size()) +
           " bytes)";
  }
  return text.empty() ? std::string("\"\"") : text;
}

std::string meta_or(const ResultReader& reader, const char* key, const char* fallback) {
  const auto value = reader.meta(key);
  return value ? one_line(*value) : fallback;
}

void print_rows(const std::vector<std::pair<std::string, std::string>>& rows, std::ostream& out) {
  std::size_t label_width = 0;
  for (const auto& row : rows) label_width = std::max(label_width, row.first.size());
  for (const auto& [label, value] : rows) {
    out << "  " << std::left << std::setw(static_cast<int>(label_width)) << label << "  " << value
        << "\n";
  }
}

void print_run(const ResultReader& reader, std::ostream& out) {
  std::vector<std::pair<std::string, std::string>> rows;
  std::string scenario = meta_or(reader, format::kScenarioNameKey, "(not recorded)");
  if (const auto scenario_path = reader.meta(format::kScenarioPathKey)) {
    scenario += "  (" + one_line(*scenario_path) + ")";
  }
  rows.emplace_back("scenario", scenario);
  rows.emplace_back("seed", meta_or(reader, format::kSeedKey, "(not recorded)"));
  rows.emplace_back("segsim", meta_or(reader, format::kSegsimVersionKey, "(not recorded)") +
                                  ", git " +
                                  meta_or(reader, format::kGitRevisionKey, "(not recorded)"));
  const auto start = reader.wall(format::kWallStartKey);
  const auto end = reader.wall(format::kWallEndKey);
  std::string wall = (start ? one_line(*start) : "?") + " to " + (end ? one_line(*end) : "?");
  if (const auto seconds = reader.wall(format::kWallSecondsKey)) {
    wall += " (" + one_line(*seconds) + " s)";
  }
  rows.emplace_back("wall clock", wall);

  // Everything else on /meta and /meta/wall, in creation order, so nothing stays hidden.
  const std::set<std::string> shown = {
      format::kFormatKey,       format::kFormatVersionKey, format::kScenarioNameKey,
      format::kScenarioPathKey, format::kSeedKey,          format::kSegsimVersionKey,
      format::kGitRevisionKey};
  for (const auto& [key, value] : reader.attributes(format::kMetaGroup)) {
    if (shown.count(key) == 0) rows.emplace_back(key, one_line(value));
  }
  const std::set<std::string> shown_wall = {format::kWallStartKey, format::kWallEndKey,
                                            format::kWallSecondsKey};
  for (const auto& [key, value] : reader.attributes(format::kWallGroup)) {
    if (shown_wall.count(key) == 0) rows.emplace_back("wall/" + key, one_line(value));
  }
  out << "run\n";
  print_rows(rows, out);
}

void print_tables(const std::vector<TableInfo>& tables, std::ostream& out) {
  out << "\ntables (" << tables.size() << ")\n";
  for (const TableInfo& table : tables) {
    out << "  " << table.path << "  " << table.row_count << (table.row_count == 1 ? " row" : " rows")
        << (table.equal_lengths ? "" : "  (columns of unequal length!)") << "\n";
    std::size_t name_width = 0;
    for (const ColumnInfo& column : table.columns) {
      name_width = std::max(name_width, column.name.size());
    }
    for (const ColumnInfo& column : table.columns) {
      out << "    " << std::left << std::setw(static_cast<int>(name_width)) << column.name << "  "
          << std::setw(8) << column.stored_type << " "
          << (column.units.empty() ? std::string("(no units)") : column.units);
      if (!table.equal_lengths) out << "  [" << column.length << "]";
      out << "\n";
    }
  }
}

void print_summary(const ResultReader& reader, const TableInfo& summary, std::ostream& out) {
  out << "\nsummary";
  if (summary.row_count != 1) out << " (" << summary.row_count << " rows; first row shown)";
  out << "\n";
  if (summary.row_count == 0) return;
  std::vector<std::pair<std::string, std::string>> rows;
  for (const ColumnInfo& column : summary.columns) {
    std::string error;
    std::string value;
    if (column.type == ColumnType::kString) {
      std::vector<std::string> values;
      value = reader.read_strings(column.path, values, error) ? values.front() : "?";
    } else if (column.type == ColumnType::kFloat64) {
      std::vector<double> values;
      value = reader.read_doubles(column.path, values, error) ? to_display_string(values.front())
                                                              : "?";
    } else if (column.type == ColumnType::kUInt64) {
      std::vector<uint64_t> values;
      value = reader.read_uint64(column.path, values, error) ? std::to_string(values.front())
                                                             : "?";
    } else {
      std::vector<int64_t> values;
      value = reader.read_int64(column.path, values, error) ? std::to_string(values.front())
                                                            : "?";
    }
    if (!column.units.empty() && column.units != "1") value += " " + column.units;
    rows.emplace_back(column.name, value);
  }
  print_rows(rows, out);
}

}  // namespace

int inspect_file(const std::string& path, std::ostream& out, std::ostream& err) {
  std::string error;
  const std::unique_ptr<ResultReader> reader = ResultReader::open(path, error);
  if (!reader) {
    err << "segsim inspect: " << error << "\n";
    return 2;
  }
  out << path << ": " << format::kFormatName << " version " << reader->format_version() << "\n\n";
  print_run(*reader, out);
  const std::vector<TableInfo> tables = reader->tables();
  print_tables(tables, out);
  for (const TableInfo& table : tables) {
    if (table.path == format::kSummaryTable) print_summary(*reader, table, out);
  }
  return 0;
}

}  // namespace analysis
