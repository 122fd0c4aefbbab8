// Kernel: key order as models see it, determinism, run_until/stop/progress semantics, cancel.

#include "sim/kernel.h"

#include <gtest/gtest.h>

#include <string>
#include <tuple>
#include <vector>

namespace sim {
namespace {

struct Ran {
  int64_t time_ns;
  EntityId target;
  std::string label;
  bool operator==(const Ran&) const = default;
};

TEST(KernelTest, SameTimeEventsRunInTargetSourceSequenceOrder) {
  Kernel k(1);
  const EntityId a = k.add_entity("a");  // 1
  const EntityId b = k.add_entity("b");  // 2
  const EntityId c = k.add_entity("c");  // 3
  std::vector<Ran> ran;
  auto log = [&](std::string label) { ran.push_back(Ran{k.now().ns(), k.current(), std::move(label)}); };

  // Setup (source: world). Pushed in an order unrelated to the expected one.
  k.schedule(Nanos(10), c, [&] { log("c0"); });
  k.schedule(Nanos(10), a, [&] {
    log("a0");
    // Zero-delay events from inside an event: key (10, target, source a, a's sequence). Target b
    // sorts before c, so it runs before the already queued c0; target a runs right away too.
    k.schedule(Time::zero(), b, [&] { log("b-from-a"); });
    k.schedule(Time::zero(), a, [&] { log("a-from-a"); });
  });
  k.schedule(Nanos(10), a, [&] { log("a1"); });  // same target and source: after a0 by sequence
  k.schedule(Nanos(9), c, [&] { log("c-early"); });

  EXPECT_EQ(k.run_until(Nanos(100)), RunStatus::kQueueEmpty);
  const std::vector<Ran> expected = {
      {9, c, "c-early"},  {10, a, "a0"}, {10, a, "a1"},
      {10, a, "a-from-a"},  // source a sorts after source world (entity 0)
      {10, b, "b-from-a"}, {10, c, "c0"}};
  EXPECT_EQ(ran, expected);
}

TEST(KernelTest, SourceBreaksTiesBetweenSendersToOneTarget) {
  Kernel k(1);
  const EntityId sink = k.add_entity("sink");
  const EntityId low = k.add_entity("low-sender");
  const EntityId high = k.add_entity("high-sender");
  std::vector<EntityId> order;
  // high sends first in virtual time order of its own event, but low has the smaller id.
  k.schedule(Nanos(1), high, [&] { k.schedule(Nanos(9), sink, [&] { order.push_back(high); }); });
  k.schedule(Nanos(2), low, [&] { k.schedule(Nanos(8), sink, [&] { order.push_back(low); }); });
  k.run_until(Nanos(11));
  EXPECT_EQ(order, (std::vector<EntityId>{low, high}));
}

// A small random model: entities draw from their own streams, schedule each other with random
// delays (some zero), and cancel some of their pending timers.
std::vector<Ran> run_random_model(uint64_t seed) {
  Kernel k(seed);
  constexpr int kEntities = 12;
  struct Node {
    EntityId id;
    Rng rng;
    EventId timer;
  };
  std::vector<Node> nodes;
  for (int i = 0; i < kEntities; ++i) {
    const std::string name = "node-" + std::to_string(i);
    nodes.push_back(Node{k.add_entity(name), k.rng_for(name), EventId{}});
  }
  std::vector<Ran> trace;
  std::function<void(int)> act = [&](int i) {
    Node& n = nodes[i];
    trace.push_back(Ran{k.now().ns(), k.current(), std::to_string(i)});
    const int peer = static_cast<int>(n.rng.below(kEntities));
    const Time delay = n.rng.below(4) == 0 ? Time::zero() : Nanos(static_cast<int64_t>(n.rng.exponential(500)));
    k.schedule(delay, nodes[peer].id, [&act, peer] { act(peer); });
    if (n.rng.below(3) == 0) {
      k.cancel(n.timer);
      n.timer = k.schedule(Micros(2), n.id, [&act, i] { act(i); });
    }
  };
  for (int i = 0; i < kEntities; ++i) k.schedule(Nanos(i), nodes[i].id, [&act, i] { act(i); });
  k.run_until(Micros(200));
  return trace;
}

TEST(KernelTest, SameSeedGivesSameTraceAndOtherSeedDiffers) {
  const std::vector<Ran> first = run_random_model(42);
  const std::vector<Ran> second = run_random_model(42);
  ASSERT_GT(first.size(), 1000u);
  EXPECT_EQ(first, second);
  EXPECT_NE(first, run_random_model(43));
}

TEST(KernelTest, RunUntilExcludesEndAndAdvancesNow) {
  Kernel k(1);
  const EntityId e = k.add_entity("e");
  std::vector<int64_t> ran;
  for (int64_t t : {5, 10, 15}) k.schedule(Nanos(t), e, [&] { ran.push_back(k.now().ns()); });

  EXPECT_EQ(k.run_until(Nanos(10)), RunStatus::kReachedEnd);
  EXPECT_EQ(ran, (std::vector<int64_t>{5})) << "an event at exactly `end` must not run";
  EXPECT_EQ(k.now(), Nanos(10));
  EXPECT_EQ(k.pending_count(), 2u);

  // Scheduled between two calls, at the current time: runs first in the next call (its key
  // (10, e, world, ...) and the pending event at 10 are ordered by sequence).
  k.schedule(Time::zero(), e, [&] { ran.push_back(-k.now().ns()); });
  EXPECT_EQ(k.run_until(Nanos(10)), RunStatus::kReachedEnd) << "a repeated call runs nothing";
  EXPECT_EQ(ran.size(), 1u);
  EXPECT_EQ(k.run_until(Nanos(12)), RunStatus::kReachedEnd);
  EXPECT_EQ(ran, (std::vector<int64_t>{5, 10, -10}));
  EXPECT_EQ(k.now(), Nanos(12));

  EXPECT_EQ(k.run_until(Nanos(100)), RunStatus::kQueueEmpty);
  EXPECT_EQ(ran.back(), 15);
  EXPECT_EQ(k.now(), Nanos(100)) << "time reaches `end` even when the queue runs dry";
  EXPECT_EQ(k.run_until(Nanos(50)), RunStatus::kQueueEmpty);
  EXPECT_EQ(k.now(), Nanos(100)) << "an earlier `end` never moves time backwards";
  EXPECT_EQ(k.events_executed(), 4u);
}

TEST(KernelTest, StopEndsTheRunAfterTheCurrentEvent) {
  Kernel k(1);
  const EntityId e = k.add_entity("e");
  int ran = 0;
  k.schedule(Nanos(1), e, [&] { ++ran; });
  k.schedule(Nanos(2), e, [&] {
    ++ran;
    k.stop();
  });
  k.schedule(Nanos(2), e, [&] { ++ran; });
  k.schedule(Nanos(3), e, [&] { ++ran; });
  EXPECT_EQ(k.run_until(Seconds(1)), RunStatus::kStopped);
  EXPECT_EQ(ran, 2);
  EXPECT_EQ(k.now(), Nanos(2)) << "a stopped run leaves time at the stopping event";
  EXPECT_EQ(k.run_until(Seconds(1)), RunStatus::kQueueEmpty) << "stop() does not outlive its run";
  EXPECT_EQ(ran, 4);
}

TEST(KernelTest, StopConditionIsCheckedEveryPeriod) {
  Kernel k(1);
  const EntityId e = k.add_entity("e");
  int ticks = 0;
  std::function<void()> tick = [&] {
    ++ticks;
    k.schedule(Micros(1), e, tick);
  };
  k.schedule(Micros(1), e, [&] { tick(); });
  std::vector<int64_t> checked_at;
  k.add_stop_condition(Micros(10), [&] {
    checked_at.push_back(k.now().ns());
    return ticks >= 35;
  });
  EXPECT_EQ(k.run_until(Seconds(1)), RunStatus::kStopped);
  EXPECT_EQ(checked_at, (std::vector<int64_t>{10'000, 20'000, 30'000, 40'000}));
  EXPECT_EQ(k.now(), Micros(40));
  // At t=40us the world's check (target 0) runs before e's tick at 40us (target 1).
  EXPECT_EQ(ticks, 39);
}

TEST(KernelTest, ProgressCallbackFiresDuringAndAtTheEndOfARun) {
  Kernel k(1);
  const EntityId e = k.add_entity("e");
  std::function<void()> tick = [&] { k.schedule(Nanos(1), e, tick); };
  k.schedule(Nanos(1), e, [&] { tick(); });
  std::vector<Progress> reports;
  k.set_progress_callback(std::chrono::milliseconds(0), [&](const Progress& p) { reports.push_back(p); });
  constexpr int64_t kEnd = 100'000;  // 100k events: several progress checks
  k.run_until(Nanos(kEnd));
  ASSERT_GE(reports.size(), 3u);
  for (std::size_t i = 1; i < reports.size(); ++i) {
    EXPECT_GE(reports[i].now, reports[i - 1].now);
    EXPECT_GE(reports[i].events, reports[i - 1].events);
  }
  EXPECT_EQ(reports.back().now, Nanos(kEnd));
  EXPECT_EQ(reports.back().end, Nanos(kEnd));
  EXPECT_EQ(reports.back().events, static_cast<uint64_t>(kEnd - 1));
  EXPECT_EQ(reports.back().events, k.events_executed());
}

TEST(KernelTest, CancelThroughTheKernel) {
  Kernel k(1);
  const EntityId e = k.add_entity("e");
  int ran = 0;
  EventId self;
  self = k.schedule(Nanos(1), e, [&] {
    ++ran;
    EXPECT_FALSE(k.cancel(self)) << "an event cannot cancel itself while running";
  });
  const EventId victim = k.schedule(Nanos(2), e, [&] { ran += 100; });
  k.schedule(Nanos(1), e, [&] { EXPECT_TRUE(k.cancel(victim)); });
  EXPECT_TRUE(k.pending(victim));
  k.run_until(Nanos(10));
  EXPECT_EQ(ran, 1);
  EXPECT_FALSE(k.pending(victim));
  EXPECT_FALSE(k.cancel(self));
  EXPECT_EQ(k.pending_count(), 0u);
}

TEST(KernelTest, EntitiesHaveNamesAndStreamsIndependentOfRegistrationOrder) {
  Kernel k1(9);
  Kernel k2(9);
  k1.add_entity("x");
  const EntityId y1 = k1.add_entity("y");
  const EntityId y2 = k2.add_entity("y");
  k2.add_entity("x");
  EXPECT_EQ(k1.entity_name(y1), "y");
  EXPECT_EQ(k2.entity_name(y2), "y");
  EXPECT_EQ(k1.entity_name(kWorld), "world");
  EXPECT_EQ(k1.entity_count(), 3u);
  Rng a = k1.rng_for("y");
  Rng b = k2.rng_for("y");
  for (int i = 0; i < 10; ++i) EXPECT_EQ(a.next_u64(), b.next_u64());
}

using KernelDeathTest = ::testing::Test;

TEST(KernelDeathTest, BadSchedulesAbortWithAMessage) {
  EXPECT_DEATH(
      {
        Kernel k(1);
        k.run_until(Nanos(10));
        k.schedule_at(Nanos(5), kWorld, [] {});
      },
      "scheduled in the past");
  EXPECT_DEATH(
      {
        Kernel k(1);
        k.schedule(Nanos(-1), kWorld, [] {});
      },
      "negative delay");
  EXPECT_DEATH(
      {
        Kernel k(1);
        k.run_until(Nanos(10));
        k.schedule(Time::max(), kWorld, [] {});
      },
      "overflow");
  EXPECT_DEATH(
      {
        Kernel k(1);
        k.add_entity("twin");
        k.add_entity("twin");
      },
      "duplicate entity name 'twin'");
  EXPECT_DEATH(
      {
        Kernel k(1);
        k.schedule(Nanos(1), kWorld, EventCallback{});
      },
      "empty EventCallback");
}

}  // namespace
}  // namespace sim
