#pragma once
// The parameter grid of `segsim sweep`: `--param key=v1,v2,...` arguments and their Cartesian
// product. Each point becomes `--set key=value` overrides of one `segsim run`.

#include <string>
#include <utility>
#include <vector>

namespace segsim::cli {

struct SweepParameter {
  std::string key;                  // a --set path: "traffic.0.load"
  std::string values_text;          // "0.1,0.2,0.4" as given
  std::vector<std::string> values;  // {"0.1", "0.2", "0.4"}
};

// Splits "key=v1,v2,..." at the commas outside brackets and quotes, so that a YAML value with
// commas stays whole: "timeline=[{at: 1ms, action: x}],[]" has two values. False with `error`
// for a missing key or '=', an empty value or a value given twice.
inline bool parse_sweep_parameter(const std::string& text, SweepParameter& out, std::string& error) {
  const std::size_t equals = text.find('=');
  if (equals == std::string::npos || equals == 0) {
    error = "--param " + text + ": expected key=value1,value2,... (e.g. --param traffic.0.load=0.1,0.2)";
    return false;
  }
  out.key = text.substr(0, equals);
  out.values_text = text.substr(equals + 1);
  out.values.clear();
  std::string current;
  int depth = 0;
  char quote = 0;
  auto finish_value = [&]() {
    if (current.empty()) {
      error = "--param " + text + ": empty value (two commas in a row, or a comma at an end)";
      return false;
    }
    for (const std::string& v : out.values) {
      if (v == current) {
        error = "--param " + text + ": value '" + current + "' is given twice";
        return false;
      }
    }
    out.values.push_back(current);
    current.clear();
    return true;
  };
  for (const char c : out.values_text) {
    if (quote) {
      if (c == quote) quote = 0;
    } else if (c == '"' || c == '\'') {
      quote = c;
    } else if (c == '[' || c == '{') {
      ++depth;
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    } else if (c == ',' && depth == 0) {
      if (!finish_value()) return false;
      continue;
    }
    current += c;
  }
  return finish_value();
}

// The Cartesian product of the parameters' values, one vector of values (in parameter order) per
// point; the last parameter varies fastest, like nested loops written in argument order.
inline std::vector<std::vector<std::string>> sweep_points(const std::vector<SweepParameter>& parameters) {
  std::vector<std::vector<std::string>> points(1);
  for (const SweepParameter& p : parameters) {
    std::vector<std::vector<std::string>> extended;
    for (const auto& point : points) {
      for (const std::string& value : p.values) {
        extended.push_back(point);
        extended.back().push_back(value);
      }
    }
    points = std::move(extended);
  }
  return points;
}

}  // namespace segsim::cli
