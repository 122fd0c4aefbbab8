// Budgets of `segsim compare`: built-in tolerances, pattern lookup and the budget file reader.

#include "analysis/compare_budget.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <sstream>

namespace analysis {
namespace {

BudgetRule rule(const char* pattern, double relative, double absolute) {
  return {pattern, relative, absolute, false, "built-in"};
}

// Literal characters of a pattern: the more, the more specific (an exact name has no `*`).
std::size_t specificity(const std::string& pattern) {
  return pattern.size() - static_cast<std::size_t>(std::count(pattern.begin(), pattern.end(), '*'));
}

// The most specific rule of `rules` matching `metric`; on a tie the later rule wins, so a budget
// file can restate a pattern further down.
const BudgetRule* most_specific(const std::vector<BudgetRule>& rules, const std::string& metric) {
  const BudgetRule* best = nullptr;
  for (const BudgetRule& r : rules) {
    if (!pattern_matches(r.pattern, metric)) continue;
    const bool exact = r.pattern == metric;
    const bool best_exact = best && best->pattern == metric;
    if (!best || (exact && !best_exact) ||
        (exact == best_exact && specificity(r.pattern) >= specificity(best->pattern))) {
      best = &r;
    }
  }
  return best;
}

std::string at(const std::string& file, const YAML::Node& node) {
  const YAML::Mark mark = node.Mark();
  return mark.is_null() ? file : file + ":" + std::to_string(mark.line + 1);
}

bool read_tolerance(const YAML::Node& node, const std::string& file, const std::string& field,
                    std::optional<double>& out, std::string& error) {
  double value = 0;
  bool ok = node.IsScalar();
  if (ok) {
    const std::string text = node.Scalar();
    std::istringstream stream(text);
    stream >> value;
    ok = !text.empty() && stream && stream.peek() == std::char_traits<char>::eof() &&
         std::isfinite(value) && value >= 0;
  }
  if (!ok) {
    error = at(file, node) + ": " + field + ": expected a number >= 0" +
            (node.IsScalar() ? ", got '" + node.Scalar() + "'" : "");
    return false;
  }
  out = value;
  return true;
}

bool read_rule(const YAML::Node& key, const YAML::Node& value, const std::string& file,
               BudgetRule& out, std::string& error) {
  if (!key.IsScalar() || key.Scalar().empty()) {
    error = at(file, key) + ": metrics: expected a metric name or pattern as key";
    return false;
  }
  out.pattern = key.Scalar();
  out.origin = at(file, key);
  const std::string field = "metrics." + out.pattern;
  const std::string family = out.pattern.substr(0, out.pattern.find('.'));
  const auto& families = metric_families();
  if (family.find('*') == std::string::npos &&
      std::find(families.begin(), families.end(), family) == families.end()) {
    std::string known;
    for (const std::string& f : families) known += (known.empty() ? "" : ", ") + f;
    error = at(file, key) + ": " + field + ": unknown metric family '" + family + "' (expected one of " +
            known + ", or a pattern with *)";
    return false;
  }
  if (!value.IsMap()) {
    error = at(file, value) + ": " + field +
            ": expected a map such as {relative: 0.05, absolute: 1000} or {ignore: true}";
    return false;
  }
  for (const auto& entry : value) {
    const std::string name = entry.first.IsScalar() ? entry.first.Scalar() : std::string();
    if (name == "relative" || name == "absolute") {
      if (!read_tolerance(entry.second, file, field + "." + name,
                          name == "relative" ? out.relative : out.absolute, error)) {
        return false;
      }
    } else if (name == "ignore") {
      bool flag = false;
      if (!entry.second.IsScalar() || !YAML::convert<bool>::decode(entry.second, flag)) {
        error = at(file, entry.second) + ": " + field + ".ignore: expected true or false";
        return false;
      }
      out.ignore = flag;
    } else {
      error = at(file, entry.first) + ": " + field + ": unknown key '" + name +
              "' (expected relative, absolute or ignore)";
      return false;
    }
  }
  if (!out.relative && !out.absolute && !out.ignore) {
    error = at(file, value) + ": " + field + ": sets nothing (expected relative, absolute or ignore)";
    return false;
  }
  return true;
}

std::string number_text(double value) {
  std::ostringstream out;
  out << value;
  return out.str();
}

}  // namespace

const char* direction_name(Direction direction) {
  switch (direction) {
    case Direction::kHigherIsWorse: return "higher is worse";
    case Direction::kLowerIsWorse: return "lower is worse";
    case Direction::kAnyChange: return "any change is worse";
  }
  return "?";
}

double Tolerance::allowed_change(double base) const { return std::max(absolute, relative * std::fabs(base)); }

const std::vector<std::string>& metric_families() {
  static const std::vector<std::string> families = {"verdicts", "flows",       "drops",      "latency",
                                                    "firewall", "convergence", "migrations", "invariants"};
  return families;
}

// The defaults of docs/compare.md ("Default budget"); keep the two in step. Simulations are
// deterministic, so an unchanged build and scenario give identical numbers: the tolerances
// are there for deliberate small changes (a refactoring that moves a few cycles), not for noise.
const std::vector<BudgetRule>& default_budget_rules() {
  static const std::vector<BudgetRule> rules = {
      rule("*", 0.05, 0),
      // The firewall's decisions: a single flow changing its verdict is a finding.
      rule("verdicts.*", 0, 0),
      // Flow outcomes move with timing (a flow finishing just before or after the end).
      rule("flows.*", 0.01, 0),
      rule("flows.unmatched", 0, 0),
      rule("drops.*", 0.05, 0),
      rule("latency.*", 0.05, 1000),  // ns
      rule("firewall.cycles_per_packet", 0.02, 0.5),
      rule("firewall.peak_core_utilization", 0.05, 0.01),
      // Sustained load averages out the bursts, so it may move less than the peak.
      rule("firewall.busiest_core_mean_utilization", 0.02, 0.002),
      rule("convergence.*", 0.10, 100000),  // ns
      rule("convergence.not_converged", 0, 0),
      rule("convergence.messages", 0.10, 0),
      rule("convergence.bytes", 0.10, 0),
      rule("migrations.*", 0.10, 100000),  // ns
      rule("migrations.switchover_drops", 0.10, 0),
      rule("migrations.connections_broken", 0, 0),
      rule("migrations.not_done", 0, 0),
      rule("invariants.*", 0, 0),
      // Exposure counters (counts_only invariants): reported, never failing by default.
      {"invariants.*.count", 0, 0, true, "built-in"},
  };
  return rules;
}

bool pattern_matches(const std::string& pattern, const std::string& name) {
  // Iterative glob with backtracking to the last `*`: linear in practice, no recursion.
  std::size_t p = 0, n = 0, star = std::string::npos, resume = 0;
  while (n < name.size()) {
    if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      resume = n;
    } else if (p < pattern.size() && pattern[p] == name[n]) {
      ++p;
      ++n;
    } else if (star != std::string::npos) {
      p = star + 1;
      n = ++resume;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

Tolerance Budget::tolerance_for(const std::string& metric) const {
  Tolerance tolerance;
  if (const BudgetRule* d = most_specific(default_budget_rules(), metric)) {
    tolerance = {d->relative.value_or(0), d->absolute.value_or(0), d->ignore.value_or(false)};
  }
  if (const BudgetRule* o = override_for(metric)) {
    if (o->relative) tolerance.relative = *o->relative;
    if (o->absolute) tolerance.absolute = *o->absolute;
    if (o->ignore) tolerance.ignore = *o->ignore;
  }
  return tolerance;
}

const BudgetRule* Budget::override_for(const std::string& metric) const { return most_specific(overrides_, metric); }

bool parse_budget(const std::string& text, const std::string& display_name, Budget& out, std::string& error) {
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::Exception& e) {
    const std::string where =
        e.mark.is_null() ? display_name : display_name + ":" + std::to_string(e.mark.line + 1);
    error = where + ": not valid YAML: " + e.msg;
    return false;
  }
  std::vector<BudgetRule> rules;
  if (root.IsNull()) {  // an empty file: the defaults
    out = Budget(std::move(rules));
    return true;
  }
  if (!root.IsMap()) {
    error = at(display_name, root) + ": expected a map with a 'metrics' key";
    return false;
  }
  for (const auto& entry : root) {
    const std::string key = entry.first.IsScalar() ? entry.first.Scalar() : std::string();
    if (key == "version") {
      if (!entry.second.IsScalar() || entry.second.Scalar() != "1") {
        error = at(display_name, entry.second) + ": version: expected 1";
        return false;
      }
    } else if (key == "metrics") {
      const YAML::Node& metrics = entry.second;
      if (metrics.IsNull()) continue;
      if (!metrics.IsMap()) {
        error = at(display_name, metrics) + ": metrics: expected a map of metric name or pattern to tolerance";
        return false;
      }
      for (const auto& metric : metrics) {
        BudgetRule r;
        if (!read_rule(metric.first, metric.second, display_name, r, error)) return false;
        rules.push_back(std::move(r));
      }
    } else {
      error = at(display_name, entry.first) + ": unknown key '" + key + "' (expected metrics or version)";
      return false;
    }
  }
  out = Budget(std::move(rules));
  return true;
}

bool load_budget(const std::string& path, Budget& out, std::string& error) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    error = path + ": cannot read the budget file";
    return false;
  }
  std::ostringstream text;
  text << in.rdbuf();
  return parse_budget(text.str(), path, out, error);
}

std::string format_default_budget() {
  std::string out =
      "# segsim compare: the built-in budget (docs/compare.md). Tolerance = max(absolute,\n"
      "# relative * |base|), absolute in the metric's units; the most specific pattern applies.\n"
      "version: 1\nmetrics:\n";
  for (const BudgetRule& r : default_budget_rules()) {
    out += "  \"" + r.pattern + "\": {relative: " + number_text(r.relative.value_or(0)) +
           ", absolute: " + number_text(r.absolute.value_or(0)) + (r.ignore.value_or(false) ? ", ignore: true" : "") +
           "}\n";
  }
  return out;
}

}  // namespace analysis
