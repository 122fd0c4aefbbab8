// The kernel allocates nothing per event in steady state. This binary links the counting
// allocation functions (tests/support), which is why it is its own executable.

#include <gtest/gtest.h>

#include <string>
#include <utility>

#include "allocation_counter.h"
#include "sim/kernel.h"

namespace sim {
namespace {

// A hold model with timers that get cancelled and re-armed, zero-delay events, and several
// entities: the event patterns of a packet-level model.
class Workload {
 public:
  Workload(Kernel& k, int pending) : k_(k), rng_(k.rng_for("workload")) {
    for (int i = 0; i < 16; ++i) {
      std::string name = "e";  // (not "e" + to_string: GCC 12 -O3 warns falsely, -Wrestrict)
      name += std::to_string(i);
      entities_[i] = k_.add_entity(std::move(name));
    }
    for (int i = 0; i < pending; ++i) hold(static_cast<uint32_t>(i % 16));
  }

 private:
  void hold(uint32_t e) {
    const Time delay = rng_.below(8) == 0 ? Time::zero() : Nanos(static_cast<int64_t>(rng_.exponential(1e5)));
    k_.schedule(delay, entities_[e], [this, e] {
      if (rng_.below(4) == 0) {
        k_.cancel(timers_[e]);
        timers_[e] = k_.schedule(Micros(50), entities_[e], [] {});
      }
      hold((e + 1) % 16);
    });
  }

  Kernel& k_;
  Rng rng_;
  EntityId entities_[16] = {};
  EventId timers_[16] = {};
};

TEST(NoAllocationTest, SteadyStateSchedulingAllocatesNothing) {
  Kernel k(1);
  Workload w(k, 10'000);
  uint64_t events = 0;
  // Warm up: slab chunks, bucket buffers and the free-slot stack reach their working sizes. 20 ms
  // of virtual time is more than one revolution of the queue's level-2 digits (16.8 ms).
  k.run_until(Millis(20));
  events = k.events_executed();
  ASSERT_GT(events, 500'000u);
  const uint64_t before = segsim::testing::allocation_count();
  k.run_until(Millis(40));
  const uint64_t allocations = segsim::testing::allocation_count() - before;
  const uint64_t measured = k.events_executed() - events;
  ASSERT_GT(measured, 500'000u);
  EXPECT_EQ(allocations, 0u) << "over " << measured << " events";
}

TEST(NoAllocationTest, CounterSeesAllocations) {
  // The test above could pass vacuously if the replacement were not in effect.
  const uint64_t before = segsim::testing::allocation_count();
  int* volatile p = new int(3);  // volatile: the compiler may not elide the allocation
  delete p;
  EXPECT_EQ(segsim::testing::allocation_count() - before, 1u);
}

}  // namespace
}  // namespace sim
