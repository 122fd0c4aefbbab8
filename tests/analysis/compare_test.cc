// `segsim compare`'s logic on result files written here with the analysis writer: which changes
// count as regressions, improvements or findings under the default budget and budget files, the
// per-flow verdict pairing, absent tables, incompatible inputs and the JUnit report.

#include "analysis/compare.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <map>

#include "analysis/compare_budget.h"
#include "analysis/compare_report.h"
#include "analysis/result_reader.h"
#include "analysis/result_writer.h"
#include "temp_dir.h"

namespace analysis {
namespace {

using ::testing::HasSubstr;
using testing::TempDir;

struct Flow {
  std::string source;
  int64_t source_port;
  std::string destination;
  int64_t destination_port;
  int64_t start_ns;
  std::string outcome;
  std::string reason;
};

// What a test result file holds; the defaults make a small allowed-and-denied run.
struct ResultSpec {
  std::string scenario = "shop";
  uint64_t seed = 1;
  int64_t simulated_ns = 1'000'000'000;
  double cycles_per_packet = 200;
  uint64_t p99_ns = 100'000;
  std::map<std::string, uint64_t> dfw_drops = {{"rule_drop", 40}, {"default_drop", 60}};
  std::vector<Flow> flows = {
      {"10.0.0.1", 40000, "10.0.0.2", 8080, 1000, "completed", "all_data_acknowledged"},
      {"10.0.0.1", 40001, "10.0.0.3", 9000, 2000, "failed_timeout", "syn_retries_exhausted"},
      {"10.0.0.4", 40000, "10.0.0.3", 5432, 3000, "failed_rejected", "rst_during_handshake"},
      {"10.0.0.4", 40001, "10.0.0.2", 8080, 4000, "completed", "all_data_acknowledged"},
  };
  std::optional<std::vector<int64_t>> migration_downtimes_ns;
  std::vector<std::string> migration_outcomes;  // empty: no outcome column
  std::vector<std::string> counts_only_invariants;
  std::optional<std::vector<std::pair<std::string, uint64_t>>> invariants;
  std::optional<std::vector<int64_t>> converged_ns;  // -1: not converged; convergence_ns = converged_ns - 0
  bool with_summary = true;
};

void write_run(const std::string& path, const ResultSpec& run) {
  std::string error;
  auto writer = ResultWriter::create(path, error);
  ASSERT_TRUE(writer) << error;
  writer->set_meta(format::kScenarioNameKey, run.scenario);
  writer->set_meta(format::kSeedKey, run.seed);
  if (run.with_summary) {
    ASSERT_TRUE(writer->write_table("/summary",
                                    {{"simulated_ns", "ns", std::vector<int64_t>{run.simulated_ns}},
                                     {"firewall_cycles_per_packet", "cycles", std::vector<double>{run.cycles_per_packet}},
                                     {"peak_core_utilization", "1", std::vector<double>{0.5}}},
                                    error))
        << error;
  }
  ASSERT_TRUE(writer->write_table("/latency/percentiles",
                                  {{"scope", "1", std::vector<std::string>{"all", "h0"}},
                                   {"p50_ns", "ns", std::vector<uint64_t>{50'000, 1}},
                                   {"p99_ns", "ns", std::vector<uint64_t>{run.p99_ns, 1}},
                                   {"p999_ns", "ns", std::vector<uint64_t>{200'000, 1}}},
                                  error))
      << error;
  std::vector<std::string> layers, reasons;
  std::vector<uint64_t> packets;
  for (const auto& [reason, count] : run.dfw_drops) {
    layers.push_back("dfw");
    reasons.push_back(reason);
    packets.push_back(count);
  }
  ASSERT_TRUE(writer->write_table("/drops", {{"layer", "1", layers}, {"reason", "1", reasons}, {"packets", "packets", packets}},
                                  error))
      << error;
  std::vector<std::string> source, destination, outcome, reason;
  std::vector<int64_t> source_port, destination_port, protocol, start;
  for (const Flow& f : run.flows) {
    source.push_back(f.source);
    destination.push_back(f.destination);
    source_port.push_back(f.source_port);
    destination_port.push_back(f.destination_port);
    protocol.push_back(6);
    start.push_back(f.start_ns);
    outcome.push_back(f.outcome);
    reason.push_back(f.reason);
  }
  ASSERT_TRUE(writer->write_table("/flows",
                                  {{"source_address", "1", source}, {"destination_address", "1", destination},
                                   {"source_port", "1", source_port}, {"destination_port", "1", destination_port},
                                   {"protocol", "1", protocol}, {"start_ns", "ns", start}, {"outcome", "1", outcome},
                                   {"reason", "1", reason}},
                                  error))
      << error;
  if (run.migration_downtimes_ns) {
    const std::size_t n = run.migration_downtimes_ns->size();
    std::vector<Column> columns = {{"vm", "1", std::vector<std::string>(n, "vm")},
                                   {"downtime_ns", "ns", *run.migration_downtimes_ns},
                                   {"policy_gap_ns", "ns", std::vector<int64_t>(n, 0)},
                                   {"switchover_drops", "packets", std::vector<uint64_t>(n, 0)},
                                   {"connections_broken", "connections", std::vector<uint64_t>(n, 0)}};
    if (!run.migration_outcomes.empty()) columns.push_back({"outcome", "1", run.migration_outcomes});
    ASSERT_TRUE(writer->write_table("/migrations", columns, error)) << error;
  }
  if (run.invariants) {
    std::vector<std::string> names;
    std::vector<uint64_t> checked, violations, counts_only;
    for (const auto& [name, v] : *run.invariants) {
      names.push_back(name);
      checked.push_back(100);
      violations.push_back(v);
      const auto& exposure = run.counts_only_invariants;
      counts_only.push_back(std::find(exposure.begin(), exposure.end(), name) != exposure.end() ? 1 : 0);
    }
    ASSERT_TRUE(writer->write_table("/invariants",
                                    {{"name", "1", names}, {"checked", "checks", checked},
                                     {"violations", "violations", violations}, {"counts_only", "1", counts_only}},
                                    error))
        << error;
  }
  if (run.converged_ns) {
    std::vector<int64_t> convergence;
    for (int64_t c : *run.converged_ns) convergence.push_back(c < 0 ? -1 : c);
    const std::size_t n = run.converged_ns->size();
    ASSERT_TRUE(writer->write_table("/convergence",
                                    {{"change", "1", std::vector<uint64_t>(n, 1)},
                                     {"at_ns", "ns", std::vector<int64_t>(n, 0)},
                                     {"converged_ns", "ns", *run.converged_ns},
                                     {"convergence_ns", "ns", convergence},
                                     {"messages", "messages", std::vector<uint64_t>(n, 4)},
                                     {"bytes", "bytes", std::vector<uint64_t>(n, 400)}},
                                    error))
        << error;
  }
  ASSERT_TRUE(writer->commit(error)) << error;
}

class CompareTest : public ::testing::Test {
 protected:
  // Writes both runs and compares them; fails the test on bad input.
  Comparison compare(const ResultSpec& base, const ResultSpec& candidate, const Budget& budget = Budget()) {
    std::string error;
    Comparison out;
    EXPECT_TRUE(compare_or_error(base, candidate, budget, out, error)) << error;
    return out;
  }

  bool compare_or_error(const ResultSpec& base, const ResultSpec& candidate, const Budget& budget, Comparison& out,
                        std::string& error, CompareOptions options = {}) {
    write_run(dir_.file("base.h5"), base);
    write_run(dir_.file("new.h5"), candidate);
    const auto a = ResultReader::open(dir_.file("base.h5"), error);
    const auto b = ResultReader::open(dir_.file("new.h5"), error);
    if (!a || !b) return false;
    return compare_results(*a, *b, budget, options, out, error);
  }

  static const MetricResult& metric(const Comparison& c, const std::string& name) {
    for (const MetricResult& m : c.metrics) {
      if (m.name == name) return m;
    }
    ADD_FAILURE() << "no metric " << name;
    static const MetricResult none;
    return none;
  }

  static std::vector<std::string> failing(const Comparison& c) {
    std::vector<std::string> names;
    for (const MetricResult& m : c.metrics) {
      if (is_failure(m.status)) names.push_back(m.name);
    }
    return names;
  }

  TempDir dir_;
};

TEST_F(CompareTest, IdenticalRunsAreWithinBudgetAndAbsentTablesAreNotPresent) {
  const Comparison c = compare(ResultSpec{}, ResultSpec{});
  EXPECT_FALSE(c.has_regression());
  EXPECT_THAT(failing(c), ::testing::IsEmpty());
  EXPECT_EQ(metric(c, "verdicts.allowed").base, 2);
  EXPECT_EQ(metric(c, "verdicts.denied").candidate, 2);
  EXPECT_EQ(metric(c, "drops.dfw.rule_drop").base, 40);
  EXPECT_EQ(metric(c, "drops.total").base, 100);
  EXPECT_EQ(metric(c, "latency.all.p99_ns").base, 100'000);
  EXPECT_EQ(metric(c, "verdicts.newly_allowed").candidate, 0);
  EXPECT_EQ(metric(c, "migrations.downtime_ns.max").status, MetricStatus::kNotPresent);
  EXPECT_EQ(metric(c, "invariants.violations").status, MetricStatus::kNotPresent);
  EXPECT_EQ(metric(c, "convergence.not_converged").status, MetricStatus::kNotPresent);
  EXPECT_EQ(metric(c, "firewall.cycles_per_packet").status, MetricStatus::kWithinBudget);
}

TEST_F(CompareTest, LatencyIsJudgedAgainstTheDefaultTolerance) {
  // Default for latency: max(1000 ns, 5% of base) = 5000 ns on a p99 of 100 us.
  ResultSpec slower;
  slower.p99_ns = 105'001;
  Comparison c = compare(ResultSpec{}, slower);
  EXPECT_EQ(metric(c, "latency.all.p99_ns").status, MetricStatus::kRegression);
  EXPECT_NEAR(*metric(c, "latency.all.p99_ns").limit, 105'000, 1e-6);
  EXPECT_THAT(failing(c), ::testing::ElementsAre("latency.all.p99_ns"));

  slower.p99_ns = 105'000;
  EXPECT_EQ(metric(compare(ResultSpec{}, slower), "latency.all.p99_ns").status, MetricStatus::kWithinBudget);

  ResultSpec faster;
  faster.p99_ns = 90'000;
  c = compare(ResultSpec{}, faster);
  EXPECT_EQ(metric(c, "latency.all.p99_ns").status, MetricStatus::kImproved);
  EXPECT_FALSE(c.has_regression());
}

TEST_F(CompareTest, MoreFirewallCyclesPerPacketIsARegression) {
  ResultSpec slow;
  slow.cycles_per_packet = 210;  // +5%: beyond the default 2%
  const Comparison c = compare(ResultSpec{}, slow);
  EXPECT_EQ(metric(c, "firewall.cycles_per_packet").status, MetricStatus::kRegression);
  EXPECT_NEAR(*metric(c, "firewall.cycles_per_packet").limit, 204, 1e-9);
  ResultSpec cheap;
  cheap.cycles_per_packet = 150;
  EXPECT_EQ(metric(compare(ResultSpec{}, cheap), "firewall.cycles_per_packet").status, MetricStatus::kImproved);
}

TEST_F(CompareTest, AFlowThatBecomesAllowedFailsTheVerdictMetricsAndIsNamed) {
  ResultSpec permissive;
  permissive.flows[1] = {"10.0.0.1", 40001, "10.0.0.3", 9000, 2000, "completed", "all_data_acknowledged"};
  const Comparison c = compare(ResultSpec{}, permissive);
  EXPECT_EQ(metric(c, "verdicts.newly_allowed").candidate, 1);
  EXPECT_EQ(metric(c, "verdicts.newly_allowed").status, MetricStatus::kRegression);
  EXPECT_EQ(metric(c, "verdicts.newly_denied").candidate, 0);
  EXPECT_EQ(metric(c, "verdicts.allowed").status, MetricStatus::kRegression);  // 2 -> 3
  EXPECT_EQ(metric(c, "verdicts.denied").status, MetricStatus::kRegression);   // 2 -> 1: any change fails
  ASSERT_EQ(metric(c, "verdicts.newly_allowed").examples.size(), 1u);
  EXPECT_THAT(metric(c, "verdicts.newly_allowed").examples[0],
              HasSubstr("tcp 10.0.0.1:40001 -> 10.0.0.3:9000 started at 0.002000 ms: denied (syn_retries_exhausted) -> "
                        "allowed (all_data_acknowledged)"));
  // More completed flows is better for the outcome metric; the verdicts already caught it.
  EXPECT_EQ(metric(c, "flows.completed").status, MetricStatus::kImproved);
}

TEST_F(CompareTest, FlowsAreMatchedByFiveTupleAndStart) {
  ResultSpec shifted;
  shifted.flows[0].start_ns += 1;    // a different flow now
  shifted.flows[3].source_port = 1;  // and another
  const Comparison c = compare(ResultSpec{}, shifted);
  EXPECT_EQ(metric(c, "flows.unmatched").candidate, 4);  // two only in base, two only in new
  EXPECT_THAT(metric(c, "flows.unmatched").note, HasSubstr("2 only in base, 2 only in new"));
  EXPECT_EQ(metric(c, "verdicts.newly_allowed").candidate, 0);
  EXPECT_EQ(metric(c, "verdicts.allowed").status, MetricStatus::kWithinBudget);
}

TEST_F(CompareTest, MoreDropsAreARegressionAndAReasonMissingOnOneSideCountsAsZero) {
  ResultSpec more;
  more.dfw_drops = {{"rule_drop", 40}, {"default_drop", 70}, {"out_of_window", 3}};
  const Comparison c = compare(ResultSpec{}, more);
  EXPECT_EQ(metric(c, "drops.dfw.default_drop").status, MetricStatus::kRegression);  // 60 -> 70 > 5%
  EXPECT_EQ(metric(c, "drops.dfw.out_of_window").base, 0);
  EXPECT_EQ(metric(c, "drops.dfw.out_of_window").status, MetricStatus::kRegression);
  EXPECT_EQ(metric(c, "drops.dfw.rule_drop").status, MetricStatus::kWithinBudget);
}

TEST_F(CompareTest, ATableInOnlyOneFileIsAFinding) {
  ResultSpec with_invariants;
  with_invariants.invariants = {{{"no_policy_gap", 0}, {"conntrack_consistent", 0}}};
  Comparison c = compare(ResultSpec{}, with_invariants);
  EXPECT_EQ(metric(c, "invariants.violations").status, MetricStatus::kOnlyInNew);
  EXPECT_EQ(metric(c, "invariants.no_policy_gap.violations").status, MetricStatus::kOnlyInNew);
  EXPECT_TRUE(c.has_regression());

  c = compare(with_invariants, ResultSpec{});
  EXPECT_EQ(metric(c, "invariants.violations").status, MetricStatus::kOnlyInBase);
  EXPECT_THAT(metric(c, "invariants.violations").note, HasSubstr("/invariants is only in base"));
}

TEST_F(CompareTest, InvariantViolationsAndVanishedInvariantsFail) {
  ResultSpec base;
  base.invariants = {{{"no_policy_gap", 0}, {"conntrack_consistent", 0}}};
  ResultSpec broken;
  broken.invariants = {{{"no_policy_gap", 2}}};
  const Comparison c = compare(base, broken);
  EXPECT_EQ(metric(c, "invariants.violations").status, MetricStatus::kRegression);
  EXPECT_EQ(metric(c, "invariants.no_policy_gap.violations").status, MetricStatus::kRegression);
  EXPECT_EQ(metric(c, "invariants.conntrack_consistent.violations").status, MetricStatus::kOnlyInBase);
}

TEST_F(CompareTest, MigrationDowntimeBeyondBudgetFails) {
  ResultSpec base;
  base.migration_downtimes_ns = {{1'000'000, 3'000'000}};
  ResultSpec slow = base;
  slow.migration_downtimes_ns = {{1'000'000, 3'400'000}};  // max +13%; mean +10% = 200 us of 2 ms: ok
  const Comparison c = compare(base, slow);
  EXPECT_EQ(metric(c, "migrations.downtime_ns.max").status, MetricStatus::kRegression);
  EXPECT_NEAR(*metric(c, "migrations.downtime_ns.max").limit, 3'300'000, 1e-6);
  EXPECT_EQ(metric(c, "migrations.downtime_ns.mean").status, MetricStatus::kWithinBudget);
}

TEST_F(CompareTest, OnlyFinishedMigrationsCountAndTheOthersAreCountedApart) {
  ResultSpec base;
  base.migration_downtimes_ns = {{1'000'000, 2'000'000}};
  base.migration_outcomes = {"done", "done"};
  ResultSpec aborted;
  aborted.migration_downtimes_ns = {{1'000'000, -1, 9'000'000}};
  aborted.migration_outcomes = {"done", "aborted", "unfinished"};
  const Comparison c = compare(base, aborted);
  EXPECT_EQ(metric(c, "migrations.downtime_ns.max").candidate, 1'000'000);
  EXPECT_EQ(metric(c, "migrations.not_done").base, 0);
  EXPECT_EQ(metric(c, "migrations.not_done").candidate, 2);
  EXPECT_EQ(metric(c, "migrations.not_done").status, MetricStatus::kRegression);
}

TEST_F(CompareTest, CountsOnlyInvariantsStayOutOfTheViolationsAndNeverFail) {
  ResultSpec base;
  base.invariants = {{{"no_policy_gap", 0}, {"stale_policy_packets", 5}}};
  base.counts_only_invariants = {"stale_policy_packets"};
  ResultSpec more = base;
  more.invariants = {{{"no_policy_gap", 0}, {"stale_policy_packets", 50}}};
  const Comparison c = compare(base, more);
  EXPECT_EQ(metric(c, "invariants.violations").candidate, 0);
  EXPECT_EQ(metric(c, "invariants.stale_policy_packets.count").candidate, 50);
  EXPECT_EQ(metric(c, "invariants.stale_policy_packets.count").status, MetricStatus::kIgnored);
  EXPECT_FALSE(c.has_regression());
}

TEST_F(CompareTest, ConvergenceCountsChangesThatNeverConvergedApart) {
  ResultSpec base;
  base.converged_ns = {{1'000'000, 2'000'000}};
  ResultSpec stuck;
  stuck.converged_ns = {{1'000'000, -1}};
  const Comparison c = compare(base, stuck);
  EXPECT_EQ(metric(c, "convergence.not_converged").base, 0);
  EXPECT_EQ(metric(c, "convergence.not_converged").candidate, 1);
  EXPECT_EQ(metric(c, "convergence.not_converged").status, MetricStatus::kRegression);
  EXPECT_EQ(metric(c, "convergence.convergence_ns.max").candidate, 1'000'000);  // the -1 row left out
  EXPECT_EQ(metric(c, "convergence.convergence_ns.max").status, MetricStatus::kImproved);
}

TEST_F(CompareTest, BudgetFileOverridesTheDefaults) {
  ResultSpec slower;
  slower.p99_ns = 108'000;
  slower.cycles_per_packet = 260;
  Budget budget;
  std::string error;
  ASSERT_TRUE(parse_budget("metrics:\n"
                           "  latency.*: {relative: 0.10}\n"
                           "  firewall.cycles_per_packet: {ignore: true}\n",
                           "budget.yaml", budget, error))
      << error;
  const Comparison c = compare(ResultSpec{}, slower, budget);
  EXPECT_EQ(metric(c, "latency.all.p99_ns").status, MetricStatus::kWithinBudget);
  EXPECT_EQ(metric(c, "latency.all.p99_ns").tolerance.absolute, 1000);  // kept from the default
  EXPECT_EQ(metric(c, "firewall.cycles_per_packet").status, MetricStatus::kIgnored);
  EXPECT_FALSE(c.has_regression());
}

TEST(BudgetTest, TheMostSpecificEntryApplies) {
  Budget budget;
  std::string error;
  ASSERT_TRUE(parse_budget("metrics:\n"
                           "  \"*\": {relative: 0.5}\n"
                           "  latency.*: {relative: 0.2}\n"
                           "  latency.all.p99_ns: {relative: 0.1}\n"
                           "  latency.all.p9*: {relative: 0.3}\n",
                           "b.yaml", budget, error))
      << error;
  EXPECT_EQ(budget.tolerance_for("latency.all.p99_ns").relative, 0.1);
  EXPECT_EQ(budget.tolerance_for("latency.all.p999_ns").relative, 0.3);
  EXPECT_EQ(budget.tolerance_for("latency.all.p50_ns").relative, 0.2);
  EXPECT_EQ(budget.tolerance_for("drops.total").relative, 0.5);
  EXPECT_EQ(budget.override_for("latency.all.p99_ns")->origin, "b.yaml:4");
  // Without a file: the documented defaults.
  EXPECT_EQ(Budget().tolerance_for("verdicts.allowed").relative, 0);
  EXPECT_EQ(Budget().tolerance_for("latency.all.p99_ns").absolute, 1000);
  EXPECT_EQ(Budget().tolerance_for("firewall.cycles_per_packet").relative, 0.02);
}

TEST(BudgetTest, BadBudgetFilesNameTheLine) {
  const std::pair<const char*, const char*> cases[] = {
      {"metrics:\n  latency.*: {relative: ten}\n", "b.yaml:2: metrics.latency.*.relative: expected a number >= 0, got 'ten'"},
      {"metrics:\n  latency.*: {relative: -0.1}\n", "b.yaml:2: metrics.latency.*.relative: expected a number >= 0"},
      {"metrics:\n  latncy.p99: {relative: 0.1}\n", "b.yaml:2: metrics.latncy.p99: unknown metric family 'latncy'"},
      {"metrics:\n\n  drops.*: {relativ: 0.1}\n", "b.yaml:3: metrics.drops.*: unknown key 'relativ'"},
      {"metrics:\n  drops.*: 0.1\n", "b.yaml:2: metrics.drops.*: expected a map"},
      {"metric:\n  drops.*: {relative: 0.1}\n", "b.yaml:1: unknown key 'metric'"},
      {"metrics: {drops.*: {relative: 0.1}\n", "b.yaml:"},
      {"metrics:\n  drops.*: {ignore: maybe}\n", "b.yaml:2: metrics.drops.*.ignore: expected true or false"},
  };
  for (const auto& [text, expected] : cases) {
    Budget budget;
    std::string error;
    EXPECT_FALSE(parse_budget(text, "b.yaml", budget, error)) << text;
    EXPECT_THAT(error, HasSubstr(expected)) << text;
  }
  Budget budget;
  std::string error;
  EXPECT_FALSE(load_budget("/nonexistent/budget.yaml", budget, error));
  EXPECT_THAT(error, HasSubstr("/nonexistent/budget.yaml"));
}

TEST(BudgetTest, PatternsMatchWholeNames) {
  EXPECT_TRUE(pattern_matches("latency.*", "latency.all.p99_ns"));
  EXPECT_TRUE(pattern_matches("*.p99_ns", "latency.all.p99_ns"));
  EXPECT_TRUE(pattern_matches("*", "x"));
  EXPECT_TRUE(pattern_matches("a*b*c", "a.b.b.c"));
  EXPECT_FALSE(pattern_matches("latency.*", "latency"));
  EXPECT_FALSE(pattern_matches("latency.all", "latency.all.p99_ns"));
  EXPECT_FALSE(pattern_matches("a*b*c", "a.b.b.d"));
}

TEST(BudgetTest, DefaultBudgetTextReadsBackAsTheDefaults) {
  Budget budget;
  std::string error;
  ASSERT_TRUE(parse_budget(format_default_budget(), "defaults.yaml", budget, error)) << error;
  for (const std::string name : {"latency.all.p99_ns", "verdicts.newly_allowed", "drops.dfw.rule_drop",
                                 "migrations.connections_broken", "firewall.cycles_per_packet"}) {
    EXPECT_EQ(budget.tolerance_for(name).relative, Budget().tolerance_for(name).relative) << name;
    EXPECT_EQ(budget.tolerance_for(name).absolute, Budget().tolerance_for(name).absolute) << name;
  }
}

TEST_F(CompareTest, DifferentScenariosOrDurationsAreBadInputUnlessAllowed) {
  ResultSpec other;
  other.scenario = "dc-1k";
  Comparison c;
  std::string error;
  EXPECT_FALSE(compare_or_error(ResultSpec{}, other, Budget(), c, error));
  EXPECT_THAT(error, HasSubstr("different scenarios ('shop' and 'dc-1k')"));

  ResultSpec shorter;
  shorter.simulated_ns = 100;
  EXPECT_FALSE(compare_or_error(ResultSpec{}, shorter, Budget(), c, error));
  EXPECT_THAT(error, HasSubstr("different simulated durations"));

  CompareOptions allow;
  allow.allow_incompatible = true;
  EXPECT_TRUE(compare_or_error(ResultSpec{}, other, Budget(), c, error, allow)) << error;
  EXPECT_THAT(c.notes, ::testing::Contains(HasSubstr("--allow-incompatible")));
}

TEST_F(CompareTest, AFileWithoutSummaryIsBadInput) {
  ResultSpec unfinished;
  unfinished.with_summary = false;
  Comparison c;
  std::string error;
  EXPECT_FALSE(compare_or_error(ResultSpec{}, unfinished, Budget(), c, error));
  EXPECT_THAT(error, HasSubstr("new.h5: no /summary table"));
}

TEST_F(CompareTest, DifferentSeedsAreANote) {
  ResultSpec seven;
  seven.seed = 7;
  const Comparison c = compare(ResultSpec{}, seven);
  EXPECT_THAT(c.notes, ::testing::Contains(HasSubstr("the seeds differ (1 and 7)")));
}

TEST_F(CompareTest, JunitHasOneTestCasePerMetricAndFailuresWithTheNumbers) {
  ResultSpec slower;
  slower.p99_ns = 200'000;
  const Comparison c = compare(ResultSpec{}, slower);
  const std::string xml = format_junit(c);
  std::size_t testcases = 0;
  for (std::size_t at = xml.find("<testcase "); at != std::string::npos; at = xml.find("<testcase ", at + 1)) ++testcases;
  EXPECT_EQ(testcases, c.metrics.size());
  EXPECT_THAT(xml, HasSubstr("tests=\"" + std::to_string(c.metrics.size()) + "\" failures=\"1\""));
  EXPECT_THAT(xml, HasSubstr("<testcase classname=\"segsim.compare.latency\" name=\"latency.all.p99_ns\""));
  EXPECT_THAT(xml, HasSubstr("<failure type=\"regression\" message=\"latency.all.p99_ns: REGRESSION: base 100000, new "
                             "200000, limit &lt;= 105000 (ns)"));
  EXPECT_THAT(xml, HasSubstr("<skipped message=\"not present in either file (no /migrations table)\"/>"));

  TempDir dir;
  std::string error;
  ASSERT_TRUE(write_junit(c, dir.file("out.xml"), error)) << error;
  std::ifstream in(dir.file("out.xml"));
  EXPECT_EQ(std::string(std::istreambuf_iterator<char>(in), {}), xml);
  EXPECT_EQ(dir.entries(), std::vector<std::string>{"out.xml"});
  EXPECT_FALSE(write_junit(c, dir.file("missing/out.xml"), error));
}

TEST_F(CompareTest, ThePrintedTableShowsEachMetricAndTheVerdict) {
  ResultSpec slower;
  slower.p99_ns = 200'000;
  std::ostringstream out;
  print_comparison(compare(ResultSpec{}, slower), ReportOptions{}, out);
  const std::string text = out.str();
  EXPECT_THAT(text, HasSubstr("latency.all.p99_ns"));
  EXPECT_THAT(text, ::testing::ContainsRegex("latency\\.all\\.p99_ns +ns +100000 +200000 +\\+100000 \\(\\+100\\.0%\\) +<= "
                                             "105000 +REGRESSION"));
  EXPECT_THAT(text, HasSubstr("tolerance max(1000 ns, 5% of base), higher is worse"));
  EXPECT_THAT(text, ::testing::EndsWith("REGRESSION\n"));

  std::ostringstream changes;
  print_comparison(compare(ResultSpec{}, slower), ReportOptions{true}, changes);
  EXPECT_THAT(changes.str(), ::testing::Not(HasSubstr("drops.dfw.rule_drop")));
  EXPECT_THAT(changes.str(), HasSubstr("latency.all.p99_ns"));
}

}  // namespace
}  // namespace analysis
