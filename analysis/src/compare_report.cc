// The text table and the JUnit XML of `segsim compare`.

#include "analysis/compare_report.h"

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace analysis {
namespace {

std::string optional_value(const std::optional<double>& value) {
  return value ? format_metric_value(*value) : std::string("-");
}

std::string change_text(const MetricResult& m) {
  if (!m.base || !m.candidate) return "";
  const double change = *m.candidate - *m.base;
  std::string text = (change > 0 ? "+" : "") + format_metric_value(change);
  if (change != 0 && *m.base != 0) {
    char percent[32];
    std::snprintf(percent, sizeof percent, " (%+.1f%%)", 100.0 * change / std::fabs(*m.base));
    text += percent;
  }
  return text;
}

std::string limit_text(const MetricResult& m) {
  if (!m.limit) return "";
  if (m.direction == Direction::kAnyChange && *m.base != *m.limit) {
    return format_metric_value(*m.base - m.tolerance.allowed_change(*m.base)) + ".." +
           format_metric_value(*m.base + m.tolerance.allowed_change(*m.base));
  }
  const char* sign = m.direction == Direction::kHigherIsWorse ? "<= " : m.direction == Direction::kLowerIsWorse ? ">= " : "= ";
  return sign + format_metric_value(*m.limit);
}

std::string tolerance_text(const MetricResult& m) {
  const std::string units = m.units.empty() || m.units == "1" ? "" : " " + m.units;
  std::string text = "tolerance max(" + format_metric_value(m.tolerance.absolute) + units + ", " +
                     format_metric_value(100.0 * m.tolerance.relative) + "% of base)";
  return text + ", " + direction_name(m.direction);
}

bool unchanged_ok(const MetricResult& m) {
  return m.status == MetricStatus::kNotPresent ||
         (m.status == MetricStatus::kWithinBudget && m.base && m.candidate && *m.base == *m.candidate);
}

std::string describe_run(const RunDescription& run) {
  std::string text = run.path + "  (scenario " + (run.scenario_name.empty() ? "?" : run.scenario_name) + ", seed " +
                     (run.seed.empty() ? "?" : run.seed) + ", segsim " + run.segsim_version;
  if (!run.git_revision.empty()) text += " " + run.git_revision;
  return text + ")";
}

// The one-line failure message CI shows next to the test case.
std::string failure_message(const MetricResult& m) {
  std::string text = m.name + ": " + metric_status_name(m.status) + ": base " + optional_value(m.base) + ", new " +
                     optional_value(m.candidate);
  if (m.limit) text += ", limit " + limit_text(m);
  if (!m.units.empty() && m.units != "1") text += " (" + m.units + ")";
  if (!m.note.empty()) text += "; " + m.note;
  return text;
}

std::string xml_escape(const std::string& text) {
  std::string out;
  for (const char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&apos;"; break;
      case '\n': out += "&#10;"; break;
      default:
        // Control characters are not allowed in XML 1.0; none should occur, drop them if they do.
        if (static_cast<unsigned char>(c) >= 0x20 || c == '\t') out += c;
    }
  }
  return out;
}

}  // namespace

std::string format_metric_value(double value) {
  if (std::isnan(value)) return "nan";
  if (std::fabs(value) < 1e15 && value == std::floor(value)) {
    char buffer[32];
    std::snprintf(buffer, sizeof buffer, "%.0f", value);
    return buffer;
  }
  // Large non-integers (limits of nanosecond metrics) in fixed notation: 1077349.4, not 1.07735e+06.
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, std::fabs(value) >= 1e4 && std::fabs(value) < 1e15 ? "%.1f" : "%.6g", value);
  return buffer;
}

void print_comparison(const Comparison& c, const ReportOptions& options, std::ostream& out) {
  out << "base  " << describe_run(c.base) << "\n";
  out << "new   " << describe_run(c.candidate) << "\n";
  for (const std::string& note : c.notes) out << "note: " << note << "\n";
  out << "\n";

  const std::vector<std::string> headers = {"metric", "units", "base", "new", "change", "limit", "status"};
  std::vector<std::vector<std::string>> rows;
  for (const MetricResult& m : c.metrics) {
    if (options.changes_only && unchanged_ok(m)) continue;
    std::string status = metric_status_name(m.status);
    if (!m.note.empty() && !m.base && !m.candidate) status += " (" + m.note + ")";
    rows.push_back({m.name, m.units, optional_value(m.base), optional_value(m.candidate), change_text(m),
                    limit_text(m), status});
  }
  std::vector<std::size_t> widths(headers.size());
  for (std::size_t i = 0; i < headers.size(); ++i) widths[i] = headers[i].size();
  for (const auto& row : rows) {
    for (std::size_t i = 0; i + 1 < row.size(); ++i) widths[i] = std::max(widths[i], row[i].size());
  }
  auto print_row = [&](const std::vector<std::string>& row) {
    std::string line;
    for (std::size_t i = 0; i < row.size(); ++i) {
      const bool last = i + 1 == row.size();
      const bool numeric = i >= 2 && i <= 5;  // right-aligned columns
      const std::string padding(last ? 0 : widths[i] - row[i].size(), ' ');
      line += numeric ? padding + row[i] : row[i] + padding;
      if (!last) line += "  ";
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    out << line << "\n";
  };
  print_row(headers);
  for (const auto& row : rows) print_row(row);

  bool examples_header = false;
  for (const MetricResult& m : c.metrics) {
    if (!is_failure(m.status)) continue;
    if (!examples_header) {
      out << "\nfailures\n";
      examples_header = true;
    }
    out << "  " << failure_message(m) << "\n    " << tolerance_text(m) << "\n";
    for (const std::string& e : m.examples) out << "    " << e << "\n";
  }

  const std::size_t failures = c.count(MetricStatus::kRegression) + c.count(MetricStatus::kOnlyInBase) +
                               c.count(MetricStatus::kOnlyInNew);
  out << "\n" << c.metrics.size() << " metrics: " << c.count(MetricStatus::kWithinBudget) << " ok, "
      << c.count(MetricStatus::kImproved) << " improved, " << failures << " failed, "
      << c.count(MetricStatus::kNotPresent) << " not present, " << c.count(MetricStatus::kIgnored) << " ignored\n";
  out << (failures ? "REGRESSION\n" : "within budget\n");
}

std::string format_junit(const Comparison& c) {
  std::size_t failures = 0, skipped = 0;
  for (const MetricResult& m : c.metrics) {
    failures += is_failure(m.status) ? 1 : 0;
    skipped += (m.status == MetricStatus::kNotPresent || m.status == MetricStatus::kIgnored) ? 1 : 0;
  }
  std::ostringstream x;
  x << "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
  x << "<testsuites name=\"segsim compare\" tests=\"" << c.metrics.size() << "\" failures=\"" << failures
    << "\" errors=\"0\" skipped=\"" << skipped << "\">\n";
  x << "  <testsuite name=\"segsim compare\" tests=\"" << c.metrics.size() << "\" failures=\"" << failures
    << "\" errors=\"0\" skipped=\"" << skipped << "\" time=\"0\">\n";
  x << "    <properties>\n";
  x << "      <property name=\"base\" value=\"" << xml_escape(describe_run(c.base)) << "\"/>\n";
  x << "      <property name=\"new\" value=\"" << xml_escape(describe_run(c.candidate)) << "\"/>\n";
  for (const std::string& note : c.notes) x << "      <property name=\"note\" value=\"" << xml_escape(note) << "\"/>\n";
  x << "    </properties>\n";
  for (const MetricResult& m : c.metrics) {
    x << "    <testcase classname=\"segsim.compare." << xml_escape(m.family) << "\" name=\"" << xml_escape(m.name)
      << "\" time=\"0\"";
    if (is_failure(m.status)) {
      std::string body = tolerance_text(m);
      for (const std::string& e : m.examples) body += "\n" + e;
      x << ">\n      <failure type=\"" << (m.status == MetricStatus::kRegression ? "regression" : "finding")
        << "\" message=\"" << xml_escape(failure_message(m)) << "\">" << xml_escape(body) << "</failure>\n";
      x << "    </testcase>\n";
    } else if (m.status == MetricStatus::kNotPresent || m.status == MetricStatus::kIgnored) {
      const std::string why = m.status == MetricStatus::kIgnored ? "ignored by the budget: " + failure_message(m)
                                                                 : std::string("not present in either file") +
                                                                       (m.note.empty() ? "" : " (" + m.note + ")");
      x << ">\n      <skipped message=\"" << xml_escape(why) << "\"/>\n    </testcase>\n";
    } else {
      x << ">\n      <system-out>" << xml_escape(failure_message(m)) << "</system-out>\n    </testcase>\n";
    }
  }
  x << "  </testsuite>\n</testsuites>\n";
  return x.str();
}

bool write_junit(const Comparison& comparison, const std::string& path, std::string& error) {
  const std::string temporary = path + ".tmp-" + std::to_string(::getpid());
  {
    std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
    out << format_junit(comparison);
    out.flush();
    if (!out) {
      std::error_code ignored;
      std::filesystem::remove(temporary, ignored);
      error = path + ": cannot write the JUnit file";
      return false;
    }
  }
  std::error_code ec;
  std::filesystem::rename(temporary, path, ec);
  if (ec) {
    std::filesystem::remove(temporary, ec);
    error = path + ": cannot write the JUnit file: " + ec.message();
    return false;
  }
  return true;
}

}  // namespace analysis
