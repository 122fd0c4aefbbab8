#include "flow_size_cdf.h"

#include <cerrno>
#include <cmath>
#include <cstring>
#include <fstream>
#include <sstream>

namespace scenarios::detail {

std::optional<std::vector<CdfPoint>> read_flow_size_cdf(LoadContext& ctx, const std::filesystem::path& path,
                                                        const YAML::Node& reference, std::string_view field) {
  std::ifstream in(path);
  if (!in) {
    ctx.error(reference, field, "cannot read '" + path.string() + "': " + std::strerror(errno) + " (expected a readable flow-size CDF file)");
    return std::nullopt;
  }
  const std::string file = path.string();
  const std::string table_form = "(expected '<size_bytes> <cumulative>' per line, e.g. '10000 15')";
  std::vector<CdfPoint> points;
  std::vector<int> lines;
  bool valid = true;
  auto fail = [&](int line, const std::string& message) {
    ctx.diagnostics().error({file, line, 1}, std::string(field), message);
    valid = false;
  };
  std::string text;
  for (int line = 1; std::getline(in, text); ++line) {
    const size_t start = text.find_first_not_of(" \t\r");
    if (start == std::string::npos || text[start] == '#') continue;
    std::istringstream fields(text);
    std::string size_text, cumulative_text, extra;
    fields >> size_text >> cumulative_text;
    if (cumulative_text.empty() || (fields >> extra)) {
      fail(line, "malformed line '" + text + "' " + table_form);
      continue;
    }
    char* end = nullptr;
    errno = 0;
    const double size = std::strtod(size_text.c_str(), &end);
    const bool size_ok = end == size_text.c_str() + size_text.size() && errno == 0 && std::isfinite(size) && size >= 0 &&
                         size == std::floor(size) && size < 1.8e19;
    const double cumulative = std::strtod(cumulative_text.c_str(), &end);
    const bool cumulative_ok = end == cumulative_text.c_str() + cumulative_text.size() && std::isfinite(cumulative) && cumulative >= 0;
    if (!size_ok || !cumulative_ok) {
      fail(line, "malformed line '" + text + "' " + table_form);
      continue;
    }
    if (!points.empty() && static_cast<uint64_t>(size) <= points.back().size_bytes) {
      fail(line, "flow sizes must increase from line to line (" + size_text + " follows " +
                     std::to_string(points.back().size_bytes) + ")");
      continue;
    }
    if (!points.empty() && cumulative < points.back().cumulative) {
      fail(line, "cumulative values must not decrease (" + cumulative_text + " after line " + std::to_string(lines.back()) + ")");
      continue;
    }
    points.push_back({static_cast<uint64_t>(size), cumulative});
    lines.push_back(line);
  }
  if (in.bad()) {
    ctx.error(reference, field, "error while reading '" + file + "'");
    return std::nullopt;
  }
  if (!valid) return std::nullopt;
  if (points.size() < 2) {
    ctx.diagnostics().error({file, 0, 0}, std::string(field), "a flow-size CDF needs at least two points " + table_form);
    return std::nullopt;
  }
  const double last = points.back().cumulative;
  if (last != 1.0 && last != 100.0) {
    ctx.diagnostics().error({file, lines.back(), 1}, std::string(field),
                            "the last cumulative value is " + std::to_string(last) + " (expected 1 for probabilities or 100 for percent)");
    return std::nullopt;
  }
  for (CdfPoint& p : points) p.cumulative /= last;
  return points;
}

}  // namespace scenarios::detail
