#pragma once
// Test world: a manual clock, timers and posted tasks in one queue ordered by (time, sequence),
// advanced by the test (run_until / run_for). Deterministic, single-threaded, like the simulator.

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <utility>

#include "platform/platform.h"

namespace controlplane_test {

using platform::Nanos;
inline constexpr Nanos kMs = 1'000'000;
inline constexpr Nanos kSecond = 1'000'000'000;

class ManualLoop final : public platform::Clock, public platform::TimerService {
 public:
  Nanos now() const override { return now_; }
  platform::TimerPtr create_timer(std::function<void()> callback) override;

  // Runs `task` at `at` (not before now), after everything already queued for that time.
  void post(Nanos at, std::function<void()> task);
  // Runs every task due up to `until`, in order, then sets the clock to `until`.
  void run_until(Nanos until);
  void run_for(Nanos duration) { run_until(now_ + duration); }
  std::size_t pending() const { return queue_.size(); }

 private:
  Nanos now_ = 0;
  uint64_t sequence_ = 0;
  std::map<std::pair<Nanos, uint64_t>, std::function<void()>> queue_;
};

}  // namespace controlplane_test
