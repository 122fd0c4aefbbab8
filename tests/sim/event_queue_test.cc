// EventQueue: order by the full key, cancellation, slot reuse, and a randomized differential test
// against a plain std::set reference.

#include "sim/event_queue.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <memory>
#include <random>
#include <set>
#include <tuple>
#include <vector>

namespace sim {
namespace {

struct Key {
  int64_t time;
  EntityId target;
  EntityId source;
  uint64_t sequence;
  auto operator<=>(const Key&) const = default;
};

TEST(EventQueueTest, PopsInTimeOrderAcrossRadixLevels) {
  EventQueue q;
  const std::vector<int64_t> times = {5, 1, 1'000'000'007, 300, 256, 255, 65'536, 0,
                                      int64_t{1} << 40, 2, (int64_t{1} << 62) + 3, 65'535};
  uint64_t seq = 0;
  for (int64_t t : times) q.push(Nanos(t), 1, 1, seq++, [] {});
  std::vector<int64_t> sorted = times;
  std::sort(sorted.begin(), sorted.end());
  std::vector<int64_t> popped;
  EventQueue::Popped p;
  while (q.pop(p)) {
    popped.push_back(p.time.ns());
    q.run_and_release(p.slot);
  }
  EXPECT_EQ(popped, sorted);
  EXPECT_TRUE(q.empty());
}

TEST(EventQueueTest, TiesAreBrokenByTargetThenSourceThenSequence) {
  EventQueue q;
  std::vector<std::tuple<EntityId, EntityId, uint64_t>> ran;
  // Pushed in the reverse of the expected order, so insertion order cannot explain the result.
  const std::vector<std::tuple<EntityId, EntityId, uint64_t>> expected = {
      {1, 1, 0}, {1, 1, 7}, {1, 2, 0}, {1, 9, 3}, {2, 0, 5}, {4, 1, 1}, {4, 1, 2}};
  for (auto it = expected.rbegin(); it != expected.rend(); ++it) {
    const auto [target, source, sequence] = *it;
    q.push(Micros(3), target, source, sequence, [&ran, key = *it] { ran.push_back(key); });
  }
  EventQueue::Popped p;
  while (q.pop(p)) {
    EXPECT_EQ(p.time, Micros(3));
    q.run_and_release(p.slot);
  }
  EXPECT_EQ(ran, expected);
}

TEST(EventQueueTest, BurstOfSimultaneousEventsKeepsKeyOrder) {
  // Hundreds of events at one time, more arriving while they are popped: the front switches from
  // a sorted vector to a heap and back; the order must stay the key order throughout.
  std::mt19937_64 gen(5);
  EventQueue q;
  std::set<Key> ref;
  std::vector<uint64_t> sequences(64, 0);
  auto push = [&](int64_t t) {
    const auto source = static_cast<EntityId>(gen() % 64);
    const Key k{t, static_cast<EntityId>(gen() % 64), source, sequences[source]++};
    q.push(Nanos(k.time), k.target, k.source, k.sequence, [] {});
    ref.insert(k);
  };
  for (int round = 0; round < 20; ++round) {
    const int64_t t = 1'000 * (round + 1);
    for (int i = 0; i < 300; ++i) push(t);
    EventQueue::Popped p;
    while (!ref.empty()) {
      ASSERT_TRUE(q.pop(p));
      const Key expected = *ref.begin();
      ref.erase(ref.begin());
      ASSERT_EQ(p.time.ns(), expected.time);
      ASSERT_EQ(p.target, expected.target);
      ASSERT_EQ(p.source, expected.source);
      q.run_and_release(p.slot);
      if (gen() % 3 == 0) push(t);  // zero-delay arrivals during the burst
    }
  }
  EXPECT_TRUE(q.empty());
}

TEST(EventQueueTest, PopBeforeLeavesEventsAtOrAfterEnd) {
  EventQueue q;
  q.push(Nanos(10), 0, 0, 0, [] {});
  q.push(Nanos(20), 0, 0, 1, [] {});
  EventQueue::Popped p;
  ASSERT_TRUE(q.pop_before(Nanos(20), p));
  EXPECT_EQ(p.time, Nanos(10));
  q.run_and_release(p.slot);
  EXPECT_FALSE(q.pop_before(Nanos(20), p));
  EXPECT_EQ(q.size(), 1u);
  EXPECT_EQ(q.peek_time(), Nanos(20));
  // An event earlier than the one the queue already looked at, as the kernel schedules between
  // two run_until calls, still comes out first.
  q.push(Nanos(15), 3, 0, 2, [] {});
  ASSERT_TRUE(q.pop_before(Nanos(21), p));
  EXPECT_EQ(p.time, Nanos(15));
  q.run_and_release(p.slot);
  ASSERT_TRUE(q.pop_before(Nanos(21), p));
  EXPECT_EQ(p.time, Nanos(20));
  q.run_and_release(p.slot);
  EXPECT_EQ(q.peek_time(), Time::max());
}

TEST(EventQueueTest, CancelSemantics) {
  EventQueue q;
  int runs = 0;
  const EventId a = q.push(Nanos(5), 0, 0, 0, [&runs] { runs += 1; });
  const EventId b = q.push(Nanos(6), 0, 0, 1, [&runs] { runs += 10; });
  EXPECT_TRUE(q.pending(a));
  EXPECT_TRUE(q.cancel(a));
  EXPECT_FALSE(q.pending(a));
  EXPECT_FALSE(q.cancel(a)) << "a second cancel must report that nothing was cancelled";
  EXPECT_EQ(q.size(), 1u);
  EXPECT_EQ(q.peek_time(), Nanos(6)) << "the cancelled front event must be skipped";

  EventQueue::Popped p;
  ASSERT_TRUE(q.pop(p));
  EXPECT_FALSE(q.pending(b)) << "a popped (running) event is no longer pending";
  EXPECT_FALSE(q.cancel(b)) << "cancelling a running event must fail";
  q.run_and_release(p.slot);
  EXPECT_EQ(runs, 10);
  EXPECT_FALSE(q.cancel(b)) << "cancelling an event that already ran must fail";
  EXPECT_FALSE(q.cancel(EventId{})) << "an invalid id names nothing";
  EXPECT_FALSE(q.cancel(EventId{123456, 0})) << "an id beyond the slab names nothing";
  EXPECT_FALSE(q.pop(p));
}

TEST(EventQueueTest, SlotReuseDoesNotResurrectOldIds) {
  EventQueue q;
  const EventId old_id = q.push(Nanos(1), 0, 0, 0, [] {});
  EventQueue::Popped p;
  ASSERT_TRUE(q.pop(p));
  q.run_and_release(p.slot);
  const EventId new_id = q.push(Nanos(2), 0, 0, 1, [] {});
  ASSERT_EQ(new_id.slot, old_id.slot) << "the released slot is expected to be reused first";
  EXPECT_NE(new_id.generation, old_id.generation);
  EXPECT_FALSE(q.pending(old_id));
  EXPECT_FALSE(q.cancel(old_id));
  EXPECT_TRUE(q.pending(new_id));

  // The same through cancellation: the cancelled slot is recycled once its entry is dropped.
  ASSERT_TRUE(q.cancel(new_id));
  EXPECT_FALSE(q.pop(p));
  const EventId third = q.push(Nanos(3), 0, 0, 2, [] {});
  EXPECT_EQ(third.slot, new_id.slot);
  EXPECT_FALSE(q.cancel(new_id));
  EXPECT_TRUE(q.pending(third));
}

TEST(EventQueueTest, CancelReleasesCapturesImmediately) {
  EventQueue q;
  auto token = std::make_shared<int>(7);
  const EventId id = q.push(Seconds(1), 0, 0, 0, [token] { (void)*token; });
  EXPECT_EQ(token.use_count(), 2);
  ASSERT_TRUE(q.cancel(id));
  EXPECT_EQ(token.use_count(), 1);
}

TEST(EventQueueTest, DestroyingTheQueueReleasesPendingCaptures) {
  // Slots are raw storage: the queue itself must destroy the closures still pending (and those
  // of cancelled events must not be destroyed twice).
  auto token = std::make_shared<int>(7);
  {
    EventQueue q;
    q.push(Seconds(1), 0, 0, 0, [token] { (void)*token; });
    q.push(Seconds(2), 0, 0, 1, [token] { (void)*token; });
    const EventId cancelled = q.push(Seconds(3), 0, 0, 2, [token] { (void)*token; });
    ASSERT_TRUE(q.cancel(cancelled));
    EXPECT_EQ(token.use_count(), 3);
  }
  EXPECT_EQ(token.use_count(), 1);
}

TEST(EventQueueTest, EventCallbackObjectsAreMovedIntoTheirSlot) {
  // A callback built elsewhere (an EventCallback) is moved into the slab with its captures; the
  // source is left empty, the captures are released once the event has run.
  EventQueue q;
  auto token = std::make_shared<int>(5);
  int ran = 0;
  EventCallback fn = [token, &ran] { ran += *token; };
  q.push(Nanos(4), 0, 0, 0, std::move(fn));
  EXPECT_FALSE(static_cast<bool>(fn));
  EXPECT_EQ(token.use_count(), 2);
  EventQueue::Popped p;
  ASSERT_TRUE(q.pop(p));
  q.run_and_release(p.slot);
  EXPECT_EQ(ran, 5);
  EXPECT_EQ(token.use_count(), 1);
}

TEST(EventQueueTest, ConsecutiveSmallBucketsFormOneFrontInKeyOrder) {
  // Events a few hundred ns apart fill consecutive level-1 buckets that are taken into the front
  // together; ties inside a bucket still follow the full key. Pushed in descending key order.
  EventQueue q;
  std::vector<Key> expected;
  for (int64_t t = 1'000; t < 20'000; t += 97) {
    for (EntityId target = 0; target < 3; ++target) expected.push_back(Key{t, target, 1, 0});
  }
  uint64_t seq = 0;
  for (auto it = expected.rbegin(); it != expected.rend(); ++it) {
    it->sequence = seq++;
    q.push(Nanos(it->time), it->target, it->source, it->sequence, [] {});
  }
  EventQueue::Popped p;
  for (const Key& k : expected) {
    ASSERT_TRUE(q.pop(p));
    ASSERT_EQ(p.time.ns(), k.time);
    ASSERT_EQ(p.target, k.target);
    q.run_and_release(p.slot);
  }
  EXPECT_FALSE(q.pop(p));
}

// Every way a bucket can become the front, checked against a std::set on the full key: a
// level-0 bucket of one time value, a level-1 bucket of one time value, level-2 and level-3
// buckets radix-sorted with many equal times, a bucket too large to sort (redistributed, with
// entries at exactly its lowest time) and one beyond the sorted levels. While they are popped,
// new events arrive inside the front's time window (often at a time already pending) and
// pending events are cancelled.
TEST(EventQueueTest, BucketsOfEveryShapeComeOutInKeyOrder) {
  struct Shape {
    const char* name;
    int64_t start;      // an event here is popped first, to move the queue's base
    int count;
    int64_t first;      // events at first + step * k, k uniform in [0, values)
    int64_t step;
    int64_t values;
  };
  const Shape shapes[] = {
      {"level-0 bucket, one time", 1'000, 200, 1'001, 1, 1},
      {"level-1 bucket, one time", 0, 200, 5'000, 1, 1},
      {"level-2 bucket, ties", 0, 3'000, 70'000, 64, 900},
      {"level-3 bucket, ties", 0, 2'000, int64_t{1} << 24, 1'000, 16'000},
      {"too large to sort", 0, 10'000, 65'536, 7, 9'000},
      {"beyond the sorted levels", 0, 100, int64_t{1} << 40, 4'099, 1'000'000},
  };
  for (const Shape& shape : shapes) {
    SCOPED_TRACE(shape.name);
    std::mt19937_64 gen(77);
    EventQueue q;
    std::set<Key> ref;
    std::vector<std::pair<EventId, Key>> handles;
    std::vector<uint64_t> sequences(16, 0);
    auto push = [&](int64_t t) {
      const auto source = static_cast<EntityId>(gen() % 16);
      const Key k{t, static_cast<EntityId>(gen() % 16), source, sequences[source]++};
      handles.emplace_back(q.push(Nanos(k.time), k.target, k.source, k.sequence, [] {}), k);
      ref.insert(k);
    };
    EventQueue::Popped p;
    push(shape.start);
    ASSERT_TRUE(q.pop(p));
    q.run_and_release(p.slot);
    ref.clear();
    handles.clear();
    for (int i = 0; i < shape.count; ++i) {
      const auto k = static_cast<int64_t>(gen() % static_cast<uint64_t>(shape.values));
      push(shape.first + shape.step * k);
    }
    // Exactly the bucket's lowest time: a redistribution moves these straight to the front.
    if (shape.count >= 10'000) {
      for (int i = 0; i < 50; ++i) push(shape.first);
    }
    std::size_t popped = 0;
    while (!ref.empty()) {
      ASSERT_TRUE(q.pop(p));
      const Key expected = *ref.begin();
      ref.erase(ref.begin());
      ASSERT_EQ(p.time.ns(), expected.time) << "after " << popped << " pops";
      ASSERT_EQ(p.target, expected.target);
      ASSERT_EQ(p.source, expected.source);
      q.run_and_release(p.slot);
      ++popped;
      const uint64_t r = gen() % 8;
      if (r < 2) {
        push(expected.time + (r == 0 ? 0 : static_cast<int64_t>(gen() % 2'000)));
      } else if (r == 2 && !handles.empty()) {
        const auto& [id, key] = handles[gen() % handles.size()];
        ASSERT_EQ(q.cancel(id), ref.erase(key) == 1);
      }
      ASSERT_EQ(q.size(), ref.size());
    }
    EXPECT_FALSE(q.pop(p));
    EXPECT_GT(popped, static_cast<std::size_t>(shape.count) / 2);
  }
}

TEST(EventQueueTest, CallbackMaySchedulePastSlabGrowth) {
  // A running callback that schedules thousands of events grows the slab (new chunks); it must
  // keep running in place and its captures must stay valid.
  EventQueue q;
  uint64_t seq = 0;
  int scheduled = 0;
  std::vector<int> payload(3, 42);
  q.push(Nanos(1), 0, 0, seq++, [&, copy = payload] {
    for (int i = 0; i < 10'000; ++i) q.push(Nanos(2 + i), 0, 0, seq++, [&scheduled] { ++scheduled; });
    EXPECT_EQ(copy, std::vector<int>(3, 42));
  });
  EventQueue::Popped p;
  while (q.pop(p)) q.run_and_release(p.slot);
  EXPECT_EQ(scheduled, 10'000);
}

// Randomized differential test: hundreds of thousands of pushes, pops, cancels and bounded pops
// (as run_until does) against a std::set on the full key.
TEST(EventQueueTest, MatchesReferenceUnderRandomOperations) {
  struct RefEntry {
    Key key;
    uint64_t tag;
    auto operator<=>(const RefEntry&) const = default;
  };
  struct Handle {
    EventId id;
    RefEntry entry;
  };
  std::mt19937_64 gen(20261122);
  EventQueue q;
  std::set<RefEntry> ref;
  std::vector<Handle> handles;
  std::vector<uint64_t> next_sequence(8, 0);
  int64_t now = 0;
  uint64_t next_tag = 0;
  uint64_t ran_tag = UINT64_MAX;
  std::size_t early_pushes = 0;

  auto random_delay = [&]() -> int64_t {
    switch (gen() % 6) {
      case 0: return 0;                                              // ties at the current time
      case 1: return static_cast<int64_t>(gen() % 4);                // dense
      case 2: return static_cast<int64_t>(gen() % 300);              // level 0/1
      case 3: return static_cast<int64_t>(gen() % (1 << 20));        // level 2
      case 4: return static_cast<int64_t>(gen() % (int64_t{1} << 40));
      default: return static_cast<int64_t>(gen() % 70'000);
    }
  };
  auto push = [&] {
    const EntityId target = static_cast<EntityId>(gen() % 8);
    const EntityId source = static_cast<EntityId>(gen() % 8);
    const RefEntry e{Key{now + random_delay(), target, source, next_sequence[source]++}, next_tag++};
    if (!ref.empty() && e.key.time < q.peek_time().ns()) ++early_pushes;
    const EventId id = q.push(Nanos(e.key.time), target, source, e.key.sequence,
                              [&ran_tag, tag = e.tag] { ran_tag = tag; });
    ref.insert(e);
    handles.push_back(Handle{id, e});
  };
  auto pop_expect = [&](const RefEntry expected) {  // a copy: the set entry is erased below
    EventQueue::Popped p{};
    ASSERT_TRUE(q.pop(p));
    ASSERT_EQ(p.time.ns(), expected.key.time);
    ASSERT_EQ(p.target, expected.key.target);
    ASSERT_EQ(p.source, expected.key.source);
    q.run_and_release(p.slot);
    ASSERT_EQ(ran_tag, expected.tag) << "the callback of a different event ran";
    ref.erase(ref.begin());
    now = expected.key.time;
  };

  constexpr int kOperations = 400'000;
  for (int op = 0; op < kOperations; ++op) {
    const uint64_t r = gen() % 100;
    if (r < 50) {
      push();
    } else if (r < 85) {
      if (ref.empty()) {
        EventQueue::Popped p;
        ASSERT_FALSE(q.pop(p));
        continue;
      }
      pop_expect(*ref.begin());
    } else if (r < 97) {
      if (handles.empty()) continue;
      const Handle& h = handles[gen() % handles.size()];
      const bool expected = ref.count(h.entry) == 1;
      ASSERT_EQ(q.pending(h.id), expected);
      ASSERT_EQ(q.cancel(h.id), expected);
      ref.erase(h.entry);
    } else {
      // A run_until boundary: pop everything before `end`, then time stands at `end`. The queue
      // may have looked past `end`, so the next pushes can land before its internal base.
      const int64_t end = now + random_delay();
      EventQueue::Popped p;
      while (!ref.empty() && ref.begin()->key.time < end) pop_expect(*ref.begin());
      ASSERT_FALSE(q.pop_before(Nanos(end), p));
      now = std::max(now, end);
    }
    ASSERT_EQ(q.size(), ref.size());
    if (handles.size() > 100'000) handles.erase(handles.begin(), handles.begin() + 50'000);
  }
  while (!ref.empty()) pop_expect(*ref.begin());
  EventQueue::Popped p;
  EXPECT_FALSE(q.pop(p));
  EXPECT_TRUE(q.empty());
  EXPECT_GT(early_pushes, 100u) << "the test must exercise pushes before the queue's front";
}

}  // namespace
}  // namespace sim
