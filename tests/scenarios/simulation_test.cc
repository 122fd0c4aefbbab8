// The steerable run: stepping, callbacks at simulated times, actions, annotations, finishing.

#include "scenarios/simulation.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "test_support.h"

namespace scenarios {
namespace {

using ::testing::HasSubstr;

struct TempResult {
  std::filesystem::path path =
      std::filesystem::temp_directory_path() / ("segsim-simulation-test-" + std::to_string(getpid()) + ".h5");
  ~TempResult() { std::filesystem::remove(path); }
};

Scenario quickstart(const std::string& duration = "150ms") {
  auto r = testing::load_file(std::string(SEGSIM_SOURCE_DIR) + "/scenarios/examples/quickstart.yaml",
                              {"duration=" + duration});
  EXPECT_TRUE(r.scenario) << r.text;
  return *r.scenario;
}

std::unique_ptr<Simulation> create(const Scenario& s, const TempResult& out) {
  RunOptions options;
  options.output_path = out.path;
  std::string error;
  int exit_code = -1;
  auto simulation = Simulation::create(s, options, error, exit_code);
  EXPECT_TRUE(simulation) << error;
  EXPECT_EQ(exit_code, 0);
  return simulation;
}

TEST(Simulation, SteppedRunEqualsOneShotRun) {
  const Scenario s = quickstart();
  TempResult out_a, out_b;
  RunSummary one_shot, stepped;
  std::string error;
  {
    auto simulation = create(s, out_a);
    ASSERT_EQ(simulation->run(error), 0) << error;
    ASSERT_EQ(simulation->finish(one_shot, error), 0) << error;
  }
  {
    auto simulation = create(s, out_b);
    for (sim::Time t = sim::Millis(7); t < simulation->end(); t += sim::Millis(7)) {
      ASSERT_EQ(simulation->run_until(t, error), 0) << error;
      EXPECT_EQ(simulation->now(), t);
    }
    ASSERT_EQ(simulation->run(error), 0) << error;
    EXPECT_EQ(simulation->now(), simulation->end());
    ASSERT_EQ(simulation->finish(stepped, error), 0) << error;
  }
  EXPECT_GT(one_shot.packets_delivered, 1000u);
  EXPECT_EQ(stepped.events, one_shot.events);
  EXPECT_EQ(stepped.packets_from_vms, one_shot.packets_from_vms);
  EXPECT_EQ(stepped.packets_delivered, one_shot.packets_delivered);
  EXPECT_EQ(stepped.flows_completed, one_shot.flows_completed);
  EXPECT_EQ(stepped.drops_by_reason, one_shot.drops_by_reason);
  EXPECT_EQ(stepped.latency_p99_ns, one_shot.latency_p99_ns);
  EXPECT_EQ(stepped.simulated_ns, sim::Millis(150).ns());
}

TEST(Simulation, CallbacksRunAtTheirSimulatedTimeInOrder) {
  const Scenario s = quickstart("50ms");
  TempResult out;
  auto simulation = create(s, out);
  std::vector<std::pair<int, int64_t>> calls;
  std::string error;
  ASSERT_TRUE(simulation->at(sim::Millis(20), [&] { calls.push_back({2, simulation->now().ns()}); }, error));
  ASSERT_TRUE(simulation->at(sim::Millis(10), [&] {
    calls.push_back({1, simulation->now().ns()});
    // A callback may schedule more work; the same time runs after the current event.
    std::string inner_error;
    EXPECT_TRUE(simulation->at(sim::Millis(10), [&] { calls.push_back({3, simulation->now().ns()}); }, inner_error));
  }, error));
  ASSERT_EQ(simulation->run_until(sim::Millis(15), error), 0) << error;
  ASSERT_EQ(calls.size(), 2u);
  EXPECT_EQ(calls[0], std::make_pair(1, sim::Millis(10).ns()));
  EXPECT_EQ(calls[1], std::make_pair(3, sim::Millis(10).ns()));
  // The past and the time after the end are refused.
  EXPECT_FALSE(simulation->at(sim::Millis(5), [] {}, error));
  EXPECT_THAT(error, HasSubstr("outside the remaining run"));
  EXPECT_FALSE(simulation->at(sim::Millis(51), [] {}, error));
  ASSERT_EQ(simulation->run(error), 0) << error;
  ASSERT_EQ(calls.size(), 3u);
  EXPECT_EQ(calls[2], std::make_pair(2, sim::Millis(20).ns()));
}

TEST(Simulation, StopEndsTheCurrentStepEarly) {
  const Scenario s = quickstart("50ms");
  TempResult out;
  auto simulation = create(s, out);
  std::string error;
  ASSERT_TRUE(simulation->at(sim::Millis(12), [&] { simulation->stop(); }, error));
  ASSERT_EQ(simulation->run(error), 0) << error;
  EXPECT_EQ(simulation->now(), sim::Millis(12));
  ASSERT_EQ(simulation->run(error), 0) << error;
  EXPECT_EQ(simulation->now(), sim::Millis(50));
}

TEST(Simulation, UnknownActionsAndPastTimesAreRefused) {
  const Scenario s = quickstart("20ms");
  TempResult out;
  auto simulation = create(s, out);
  std::string error;
  EXPECT_FALSE(simulation->apply({sim::Millis(5), "no_such_action", {}, 0}, error));
  EXPECT_THAT(error, HasSubstr("no_such_action"));
  EXPECT_FALSE(simulation->has_action("no_such_action"));
}

TEST(Simulation, FinishWritesTheResultOnceAndEndsTheRun) {
  const Scenario s = quickstart("20ms");
  TempResult out;
  auto simulation = create(s, out);
  std::string error;
  RunSummary summary;
  ASSERT_EQ(simulation->run(error), 0) << error;
  ASSERT_EQ(simulation->finish(summary, error), 0) << error;
  EXPECT_EQ(summary.result_path, out.path.string());
  EXPECT_TRUE(std::filesystem::exists(out.path));
  EXPECT_TRUE(simulation->finished());
  EXPECT_EQ(simulation->finish(summary, error), 2);
  EXPECT_THAT(error, HasSubstr("already finished"));
  EXPECT_EQ(simulation->run(error), 2);
}

TEST(Simulation, DroppedWithoutFinishLeavesNoResultFile) {
  const Scenario s = quickstart("20ms");
  TempResult out;
  {
    auto simulation = create(s, out);
    std::string error;
    ASSERT_EQ(simulation->run(error), 0) << error;
  }
  EXPECT_FALSE(std::filesystem::exists(out.path));
}

TEST(Annotations, ListenersGetTheirKindSampledDeterministically) {
  Annotations a;
  EXPECT_FALSE(a.wants(AnnotationKind::kDrop));
  std::vector<int64_t> every_third, all_failures;
  const int drops = a.subscribe(AnnotationKind::kDrop, [&](const Annotation& r) { every_third.push_back(r.time_ns); }, 3);
  a.subscribe(AnnotationKind::kFailure, [&](const Annotation& r) { all_failures.push_back(r.time_ns); });
  EXPECT_TRUE(a.wants(AnnotationKind::kDrop));
  EXPECT_FALSE(a.wants(AnnotationKind::kConverged));
  for (int64_t t = 1; t <= 10; ++t) a.emit({t, AnnotationKind::kDrop, {}});
  a.emit({42, AnnotationKind::kFailure, {{"host", std::string("h1")}}});
  EXPECT_EQ(every_third, (std::vector<int64_t>{1, 4, 7, 10}));
  EXPECT_EQ(all_failures, (std::vector<int64_t>{42}));
  a.unsubscribe(drops);
  EXPECT_FALSE(a.wants(AnnotationKind::kDrop));
  a.emit({11, AnnotationKind::kDrop, {}});
  EXPECT_EQ(every_third.size(), 4u);
}

TEST(Annotations, KindNamesRoundTrip) {
  for (int k = 0; k < static_cast<int>(AnnotationKind::kCount); ++k) {
    AnnotationKind parsed;
    ASSERT_TRUE(parse_annotation_kind(annotation_kind_name(static_cast<AnnotationKind>(k)), parsed));
    EXPECT_EQ(static_cast<int>(parsed), k);
  }
  AnnotationKind parsed;
  EXPECT_FALSE(parse_annotation_kind("migration", parsed));
  EXPECT_THAT(annotation_kind_names(), HasSubstr("migration_done"));
}

}  // namespace
}  // namespace scenarios
