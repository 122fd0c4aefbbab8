// `segsim compare`: pairing two files' metrics and judging each against its budget.

#include "analysis/compare.h"

#include <algorithm>
#include <cmath>
#include <map>

#include "analysis/result_format.h"
#include "analysis/sweep_index.h"
#include "compare_metrics.h"

namespace analysis {
namespace {

using detail::FamilyMetrics;
using detail::MetricValue;

std::string family_of(const std::string& metric) { return metric.substr(0, metric.find('.')); }

std::string meta_text(const ResultReader& reader, const char* key) {
  const auto value = reader.meta(key);
  return value ? to_display_string(*value) : std::string();
}

bool describe(const ResultReader& reader, RunDescription& out, std::string& error) {
  out.path = reader.path();
  out.scenario_name = meta_text(reader, format::kScenarioNameKey);
  out.seed = meta_text(reader, format::kSeedKey);
  out.segsim_version = meta_text(reader, format::kSegsimVersionKey);
  out.git_revision = meta_text(reader, format::kGitRevisionKey);
  if (meta_text(reader, "kind") == kSweepIndexKind) {
    error = reader.path() + ": a sweep index, not a run result (compare the points' result files it lists)";
    return false;
  }
  const std::optional<TableInfo> summary = reader.table(format::kSummaryTable);
  if (!summary || summary->row_count == 0) {
    error = reader.path() + ": no /summary table: not the result of a finished run";
    return false;
  }
  std::vector<int64_t> simulated;
  if (detail::has_column(*summary, "simulated_ns") &&
      reader.read_int64(std::string(format::kSummaryTable) + "/simulated_ns", simulated, error) && !simulated.empty()) {
    out.simulated_ns = simulated.front();
  }
  error.clear();
  return true;
}

// Files that measure different things are refused rather than compared number by number.
bool check_compatible(const Comparison& c, const CompareOptions& options, std::string& error) {
  std::string problem;
  if (c.base.scenario_name != c.candidate.scenario_name) {
    problem = "different scenarios ('" + c.base.scenario_name + "' and '" + c.candidate.scenario_name + "')";
  } else if (c.base.simulated_ns != c.candidate.simulated_ns) {
    auto text = [](const std::optional<int64_t>& ns) { return ns ? std::to_string(*ns) + " ns" : std::string("?"); };
    problem = "different simulated durations (" + text(c.base.simulated_ns) + " and " +
              text(c.candidate.simulated_ns) + ")";
  }
  if (problem.empty() || options.allow_incompatible) return true;
  error = c.base.path + " and " + c.candidate.path + " are runs of " + problem +
          ": their numbers are not comparable (--allow-incompatible compares them anyway)";
  return false;
}

void judge(MetricResult& m) {
  if (!m.base || !m.candidate) return;  // status set by the caller
  const double allowed = m.tolerance.allowed_change(*m.base);
  const double change = *m.candidate - *m.base;
  switch (m.direction) {
    case Direction::kHigherIsWorse:
      m.limit = *m.base + allowed;
      m.status = change > allowed ? MetricStatus::kRegression
                 : -change > allowed ? MetricStatus::kImproved
                                     : MetricStatus::kWithinBudget;
      break;
    case Direction::kLowerIsWorse:
      m.limit = *m.base - allowed;
      m.status = -change > allowed ? MetricStatus::kRegression
                 : change > allowed ? MetricStatus::kImproved
                                    : MetricStatus::kWithinBudget;
      break;
    case Direction::kAnyChange:
      m.limit = *m.base + (change < 0 ? -allowed : allowed);
      m.status = std::fabs(change) > allowed ? MetricStatus::kRegression : MetricStatus::kWithinBudget;
      break;
  }
}

MetricResult start_result(const MetricValue& v, const Budget& budget) {
  MetricResult m;
  m.name = v.name;
  m.family = family_of(v.name);
  m.units = v.units;
  m.direction = v.direction;
  m.tolerance = budget.tolerance_for(v.name);
  return m;
}

// Pairs one family's metrics of both files by name (BASE's order, then NEW's extras) and judges them.
void pair_family(const FamilyMetrics& a, const FamilyMetrics& b, const Budget& budget,
                 std::vector<MetricResult>& out) {
  std::vector<const MetricValue*> order;
  std::map<std::string, std::pair<const MetricValue*, const MetricValue*>> by_name;
  for (const MetricValue& v : a.metrics) {
    if (by_name.emplace(v.name, std::make_pair(&v, nullptr)).second) order.push_back(&v);
  }
  for (const MetricValue& v : b.metrics) {
    auto [it, added] = by_name.emplace(v.name, std::make_pair(nullptr, &v));
    if (added) {
      order.push_back(&v);
    } else {
      it->second.second = &v;
    }
  }
  for (const MetricValue* v : order) {
    const auto [in_base, in_new] = by_name[v->name];
    MetricResult m = start_result(*v, budget);
    if (in_new && !in_new->units.empty()) m.units = in_new->units;
    if (!a.present && !b.present) {
      m.status = MetricStatus::kNotPresent;
      m.note = "no " + a.table + " table";
    } else if (!b.present) {
      m.base = in_base ? in_base->value : std::nullopt;
      m.status = MetricStatus::kOnlyInBase;
      m.note = a.table + " is only in base";
    } else if (!a.present) {
      m.candidate = in_new ? in_new->value : std::nullopt;
      m.status = MetricStatus::kOnlyInNew;
      m.note = b.table + " is only in new";
    } else {
      m.base = in_base ? in_base->value : std::nullopt;
      m.candidate = in_new ? in_new->value : std::nullopt;
      if (!in_base && in_new->missing_is_zero) m.base = 0;
      if (!in_new && in_base->missing_is_zero) m.candidate = 0;
      if (m.base && m.candidate) {
        judge(m);
      } else if (!m.base && !m.candidate) {
        m.status = MetricStatus::kNotPresent;
        m.note = (in_base && !in_base->note.empty()) ? in_base->note : std::string();
      } else {
        m.status = m.base ? MetricStatus::kOnlyInBase : MetricStatus::kOnlyInNew;
        const MetricValue* lacking = m.base ? in_new : in_base;
        m.note = std::string(m.base ? "new" : "base") + " has no value" +
                 (lacking && !lacking->note.empty() ? " (" + lacking->note + ")" : "");
      }
    }
    if (m.tolerance.ignore && is_failure(m.status)) m.status = MetricStatus::kIgnored;
    if (m.tolerance.ignore && m.status != MetricStatus::kIgnored) m.note += m.note.empty() ? "ignored" : "; ignored";
    out.push_back(std::move(m));
  }
}

// The per-flow verdict changes: "base" is zero by definition, "new" the number of changed flows.
void add_flow_pairs(const detail::FlowPairMetrics& p, const Budget& budget, std::vector<MetricResult>& out) {
  struct Item {
    const char* name;
    uint64_t count;
    const std::vector<std::string>* examples;
    std::string note;
  };
  const Item items[] = {
      {"verdicts.newly_allowed", p.newly_allowed, &p.newly_allowed_examples, "flows denied in base, allowed in new"},
      {"verdicts.newly_denied", p.newly_denied, &p.newly_denied_examples, "flows allowed in base, denied in new"},
      {"flows.unmatched", p.only_in_base + p.only_in_new, nullptr,
       std::to_string(p.only_in_base) + " only in base, " + std::to_string(p.only_in_new) +
           " only in new (matched by 5-tuple and start time)"},
  };
  for (const Item& item : items) {
    MetricValue v{item.name, "flows", Direction::kHigherIsWorse, std::nullopt, false, ""};
    MetricResult m = start_result(v, budget);
    if (!p.present_in_base && !p.present_in_new) {
      m.status = MetricStatus::kNotPresent;
      m.note = "no /flows table";
    } else if (!p.present_in_base || !p.present_in_new) {
      m.status = p.present_in_base ? MetricStatus::kOnlyInBase : MetricStatus::kOnlyInNew;
      m.note = std::string("/flows is only in ") + (p.present_in_base ? "base" : "new");
    } else {
      m.base = 0;
      m.candidate = static_cast<double>(item.count);
      m.note = item.note;
      if (item.examples) m.examples = *item.examples;
      judge(m);
    }
    if (m.tolerance.ignore && is_failure(m.status)) m.status = MetricStatus::kIgnored;
    out.push_back(std::move(m));
  }
}

}  // namespace

const char* metric_status_name(MetricStatus status) {
  switch (status) {
    case MetricStatus::kWithinBudget: return "ok";
    case MetricStatus::kImproved: return "improved";
    case MetricStatus::kRegression: return "REGRESSION";
    case MetricStatus::kOnlyInBase: return "only in base";
    case MetricStatus::kOnlyInNew: return "only in new";
    case MetricStatus::kNotPresent: return "not present in either";
    case MetricStatus::kIgnored: return "ignored";
  }
  return "?";
}

bool is_failure(MetricStatus status) {
  return status == MetricStatus::kRegression || status == MetricStatus::kOnlyInBase ||
         status == MetricStatus::kOnlyInNew;
}

bool Comparison::has_regression() const {
  return std::any_of(metrics.begin(), metrics.end(), [](const MetricResult& m) { return is_failure(m.status); });
}

std::size_t Comparison::count(MetricStatus status) const {
  return static_cast<std::size_t>(
      std::count_if(metrics.begin(), metrics.end(), [&](const MetricResult& m) { return m.status == status; }));
}

bool compare_results(const ResultReader& base, const ResultReader& candidate, const Budget& budget,
                     const CompareOptions& options, Comparison& out, std::string& error) {
  out = Comparison{};
  if (!describe(base, out.base, error) || !describe(candidate, out.candidate, error) ||
      !check_compatible(out, options, error)) {
    return false;
  }
  if (out.base.seed != out.candidate.seed) {
    out.notes.push_back("the seeds differ (" + out.base.seed + " and " + out.candidate.seed +
                        "): flows and timings differ for that reason alone");
  }
  if (out.base.scenario_name != out.candidate.scenario_name || out.base.simulated_ns != out.candidate.simulated_ns) {
    out.notes.push_back("compared although the scenarios or durations differ (--allow-incompatible)");
  }

  using Extractor = bool (*)(const ResultReader&, FamilyMetrics&, std::string&);
  auto add_family = [&](Extractor extract) {
    FamilyMetrics a, b;
    if (!extract(base, a, error) || !extract(candidate, b, error)) return false;
    pair_family(a, b, budget, out.metrics);
    return true;
  };
  // Report order: the firewall's decisions first (counts, then the flows that changed), then
  // what they cost.
  if (!add_family(detail::flow_metrics)) return false;
  detail::FlowPairMetrics pairs;
  if (!detail::pair_flows(base, candidate, options.max_examples, pairs, error)) return false;
  add_flow_pairs(pairs, budget, out.metrics);
  for (const Extractor extract : {detail::drop_metrics, detail::latency_metrics, detail::firewall_metrics,
                                  detail::convergence_metrics, detail::migration_metrics, detail::invariant_metrics}) {
    if (!add_family(extract)) return false;
  }
  return true;
}

}  // namespace analysis
