// Flow-size CDF: parsing with file:line errors, inverse-transform sampling, piecewise-linear mean.
#include "models/traffic/flow_size_cdf.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <sstream>

namespace models::traffic {
namespace {

bool parse_number(std::string_view token, double& value) {
  const std::string s(token);
  char* end = nullptr;
  errno = 0;
  value = std::strtod(s.c_str(), &end);
  return end == s.c_str() + s.size() && errno == 0 && std::isfinite(value);
}

std::string_view trim(std::string_view s) {
  const auto first = s.find_first_not_of(" \t\r");
  if (first == std::string_view::npos) return {};
  const auto last = s.find_last_not_of(" \t\r");
  return s.substr(first, last - first + 1);
}

// Splits on spaces/tabs; at most 3 tokens are reported (the third only to detect extras).
int split(std::string_view line, std::string_view tokens[3]) {
  int n = 0;
  std::size_t i = 0;
  while (i < line.size() && n < 3) {
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
    if (i == line.size()) break;
    const std::size_t start = i;
    while (i < line.size() && line[i] != ' ' && line[i] != '\t') ++i;
    tokens[n++] = line.substr(start, i - start);
  }
  return n;
}

std::string located(std::string_view name, int line, const std::string& message) {
  std::ostringstream s;
  s << name << ':' << line << ": " << message;
  return s.str();
}

}  // namespace

bool FlowSizeCdf::load(const std::string& path, FlowSizeCdf& out, std::string& error) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    error = path + ": cannot open flow-size CDF file";
    return false;
  }
  std::ostringstream text;
  text << in.rdbuf();
  return parse(text.str(), path, out, error);
}

bool FlowSizeCdf::parse(std::string_view text, std::string_view name, FlowSizeCdf& out,
                        std::string& error) {
  std::vector<Point> points;
  std::vector<int> lines;
  int line_number = 0;
  std::size_t pos = 0;
  while (pos <= text.size()) {
    const std::size_t end = std::min(text.find('\n', pos), text.size());
    const std::string_view line = trim(text.substr(pos, end - pos));
    ++line_number;
    pos = end + 1;
    if (line.empty() || line.front() == '#') continue;
    std::string_view tokens[3];
    const int n = split(line, tokens);
    if (n != 2) {
      error = located(name, line_number, "expected two columns `<size_bytes> <cumulative>`");
      return false;
    }
    Point p{};
    if (!parse_number(tokens[0], p.size) || p.size < 0) {
      error = located(name, line_number, "size_bytes: not a non-negative number: '" +
                                             std::string(tokens[0]) + "'");
      return false;
    }
    if (!parse_number(tokens[1], p.cumulative) || p.cumulative < 0) {
      error = located(name, line_number, "cumulative: not a non-negative number: '" +
                                             std::string(tokens[1]) + "'");
      return false;
    }
    if (!points.empty()) {
      if (p.size <= points.back().size) {
        error = located(name, line_number, "size_bytes must increase strictly (previous line " +
                                               std::to_string(lines.back()) + ")");
        return false;
      }
      if (p.cumulative <= points.back().cumulative) {
        error = located(name, line_number, "cumulative must increase strictly (previous line " +
                                               std::to_string(lines.back()) + ")");
        return false;
      }
    }
    points.push_back(p);
    lines.push_back(line_number);
  }
  if (points.empty()) {
    error = std::string(name) + ": no CDF points";
    return false;
  }
  const double last = points.back().cumulative;
  double scale = 0;
  if (last == 100.0) {
    scale = 100.0;
  } else if (last == 1.0) {
    scale = 1.0;
  } else {
    error = located(name, lines.back(),
                    "cumulative: the last point must be 100 (percent) or 1 (probability)");
    return false;
  }
  for (Point& p : points) p.cumulative /= scale;
  if (points.size() < 2 && points.front().size == 0) {
    error = located(name, lines.back(), "the distribution has no mass above 0 bytes");
    return false;
  }
  return from_points(std::move(points), out, error);
}

bool FlowSizeCdf::from_points(std::vector<Point> points, FlowSizeCdf& out, std::string& error) {
  if (points.empty()) {
    error = "flow-size CDF: no points";
    return false;
  }
  for (std::size_t i = 0; i < points.size(); ++i) {
    if (points[i].size < 0 || points[i].cumulative < 0 || points[i].cumulative > 1) {
      error = "flow-size CDF: point " + std::to_string(i) + " out of range";
      return false;
    }
    if (i > 0 && (points[i].size <= points[i - 1].size ||
                  points[i].cumulative <= points[i - 1].cumulative)) {
      error = "flow-size CDF: point " + std::to_string(i) + " does not increase strictly";
      return false;
    }
  }
  if (points.back().cumulative != 1.0) {
    error = "flow-size CDF: the last cumulative value must be 1";
    return false;
  }
  // Mass at the first point (an atom), then each segment's mass at its midpoint.
  double mean = points.front().cumulative * points.front().size;
  for (std::size_t i = 1; i < points.size(); ++i) {
    mean += (points[i].cumulative - points[i - 1].cumulative) *
            (points[i].size + points[i - 1].size) / 2.0;
  }
  out.points_ = std::move(points);
  out.mean_ = mean;
  return true;
}

double FlowSizeCdf::quantile(double u) const {
  const auto& p = points_;
  if (u <= p.front().cumulative) return p.front().size;
  // First point with cumulative >= u; u lies in (p[i-1].cumulative, p[i].cumulative].
  const auto it = std::lower_bound(p.begin(), p.end(), u,
                                   [](const Point& a, double v) { return a.cumulative < v; });
  if (it == p.end()) return p.back().size;
  const Point& hi = *it;
  const Point& lo = *(it - 1);
  return lo.size + (hi.size - lo.size) * (u - lo.cumulative) / (hi.cumulative - lo.cumulative);
}

uint64_t FlowSizeCdf::size_at(double u) const {
  const double q = std::round(quantile(u));
  return q < 1.0 ? 1 : static_cast<uint64_t>(q);
}

}  // namespace models::traffic
