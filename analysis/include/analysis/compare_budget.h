#pragma once
// Budgets of `segsim compare`: how much each metric may move before it counts as a regression.
//
// A tolerance has a relative part (a fraction of the BASE value) and an absolute part (in the
// metric's units); the allowed change is the larger of the two: max(absolute, relative * |base|).
// The built-in defaults (default_budget_rules(), listed in docs/compare.md) are keyed by metric
// name patterns; a budget file overrides them:
//
//   # budget.yaml
//   metrics:
//     latency.*:                  {relative: 0.10, absolute: 2000}   # ns
//     firewall.cycles_per_packet: {relative: 0.01}
//     drops.link.*:               {ignore: true}
//
// A pattern is a metric name in which `*` matches any run of characters (dots included). For a
// metric, the most specific matching entry of the file applies (an exact name first, then the
// pattern with the most literal characters); fields it leaves out keep the built-in default's
// value. Errors name the file and line.

#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace analysis {

// Which way a metric gets worse.
enum class Direction {
  kHigherIsWorse,  // latency, cycles, drops, downtime, violations
  kLowerIsWorse,   // flows completed
  kAnyChange,      // the firewall's verdict counts: more and fewer denials are both suspect
};

const char* direction_name(Direction direction);  // "higher is worse", ...

struct Tolerance {
  double relative = 0;  // fraction of |base|, e.g. 0.05 = 5%
  double absolute = 0;  // in the metric's units
  bool ignore = false;  // report the metric, never fail on it

  // The change allowed from `base`: max(absolute, relative * |base|).
  double allowed_change(double base) const;
};

// One entry: a pattern and the fields it sets.
struct BudgetRule {
  std::string pattern;
  std::optional<double> relative;
  std::optional<double> absolute;
  std::optional<bool> ignore;
  std::string origin;  // "budget.yaml:7" or "built-in"
};

// The metric families `segsim compare` knows (the first segment of every metric name).
const std::vector<std::string>& metric_families();

// The built-in tolerances, most general first (each sets all three fields).
const std::vector<BudgetRule>& default_budget_rules();

class Budget {
 public:
  // The built-in defaults only.
  Budget() = default;
  explicit Budget(std::vector<BudgetRule> overrides) : overrides_(std::move(overrides)) {}

  // The tolerance of `metric`: the built-in default, then the most specific override.
  Tolerance tolerance_for(const std::string& metric) const;
  // The override that applies to `metric`, if any (for reports: "budget.yaml:7").
  const BudgetRule* override_for(const std::string& metric) const;

  const std::vector<BudgetRule>& overrides() const { return overrides_; }

 private:
  std::vector<BudgetRule> overrides_;
};

// True if `pattern` (with `*` wildcards) matches the whole of `name`.
bool pattern_matches(const std::string& pattern, const std::string& name);

// Reads a budget file. False with `error` ("budget.yaml:4: metrics.latency.*: relative: expected
// a number >= 0, got 'ten'") if it cannot be read, is not YAML, has unknown keys, negative or
// non-numeric tolerances, or a pattern whose family is not one of metric_families().
bool load_budget(const std::string& path, Budget& out, std::string& error);
// The same for text in memory; `display_name` stands for the file in errors.
bool parse_budget(const std::string& text, const std::string& display_name, Budget& out,
                  std::string& error);

// The built-in defaults as a budget file (what `segsim compare --print-default-budget` prints).
std::string format_default_budget();

}  // namespace analysis
