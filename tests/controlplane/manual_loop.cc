#include "manual_loop.h"

#include <algorithm>

namespace controlplane_test {
namespace {

// A timer's state outlives the handle only inside queued tasks, which check the arming serial:
// a cancelled, re-armed or destroyed timer's old task does nothing.
struct TimerState {
  std::function<void()> callback;
  uint64_t serial = 0;
  bool armed = false;
};

class ManualTimer final : public platform::Timer {
 public:
  ManualTimer(ManualLoop& loop, std::function<void()> callback)
      : loop_(loop), state_(std::make_shared<TimerState>()) {
    state_->callback = std::move(callback);
  }
  ~ManualTimer() override { cancel(); }
  void arm(Nanos deadline) override {
    const uint64_t serial = ++state_->serial;
    state_->armed = true;
    std::weak_ptr<TimerState> weak = state_;
    loop_.post(std::max(deadline, loop_.now()), [weak, serial] {
      auto state = weak.lock();
      if (!state || state->serial != serial || !state->armed) return;
      state->armed = false;
      // Copy: the callback may destroy the timer (and with it the state's callback).
      auto callback = state->callback;
      callback();
    });
  }
  void cancel() override {
    ++state_->serial;
    state_->armed = false;
  }
  bool armed() const override { return state_->armed; }

 private:
  ManualLoop& loop_;
  std::shared_ptr<TimerState> state_;
};

}  // namespace

platform::TimerPtr ManualLoop::create_timer(std::function<void()> callback) {
  return std::make_unique<ManualTimer>(*this, std::move(callback));
}

void ManualLoop::post(Nanos at, std::function<void()> task) {
  queue_.emplace(std::make_pair(std::max(at, now_), sequence_++), std::move(task));
}

void ManualLoop::run_until(Nanos until) {
  while (!queue_.empty() && queue_.begin()->first.first <= until) {
    auto node = queue_.extract(queue_.begin());
    now_ = node.key().first;
    node.mapped()();
  }
  now_ = std::max(now_, until);
}

}  // namespace controlplane_test
