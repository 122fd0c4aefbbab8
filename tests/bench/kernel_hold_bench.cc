// Hold-model benchmark of segsim's event kernel (see hold_model.h for the model).
//
//   --scheduler kernel  the whole kernel: Kernel::schedule + Kernel::run_until (the headline figure)
//   --scheduler queue   the bare EventQueue: push + pop + run_and_release, no kernel bookkeeping
//
// The events target kEntityCount entities round robin, so that ties at one nanosecond are broken
// by the full key (time, target, source, sequence) as they are in a real model.

#include <cstdio>
#include <string>
#include <vector>

#include "hold_model.h"
#include "sim/event_queue.h"
#include "sim/kernel.h"

namespace {

constexpr uint32_t kEntityCount = 64;

class KernelHold {
 public:
  KernelHold(const bench::HoldParams& p)
      : kernel_(p.seed), delays_(p.seed, p.mean_delay_ns), remaining_(p.events) {
    for (uint32_t i = 0; i < kEntityCount; ++i) targets_.push_back(kernel_.add_entity("hold-" + std::to_string(i)));
    for (uint64_t i = 0; i < p.pending; ++i) schedule_next(targets_[i % kEntityCount]);
  }

  uint64_t run() {
    kernel_.run_until(sim::Time::max());
    return kernel_.events_executed();
  }

 private:
  void schedule_next(sim::EntityId target) {
    kernel_.schedule(sim::Nanos(delays_.next_ns()), target, [this, target] { fire(target); });
  }
  void fire(sim::EntityId target) {
    if (--remaining_ == 0) {
      kernel_.stop();
      return;
    }
    schedule_next(target);
  }

  sim::Kernel kernel_;
  bench::HoldDelays delays_;
  uint64_t remaining_;
  std::vector<sim::EntityId> targets_;
};

class QueueHold {
 public:
  QueueHold(const bench::HoldParams& p) : delays_(p.seed, p.mean_delay_ns), remaining_(p.events) {
    for (uint64_t i = 0; i < p.pending; ++i) schedule_next(static_cast<sim::EntityId>(i % kEntityCount));
  }

  uint64_t run() {
    uint64_t executed = 0;
    sim::EventQueue::Popped ev;
    while (!done_ && queue_.pop(ev)) {
      now_ = ev.time.ns();
      source_ = ev.target;
      queue_.run_and_release(ev.slot);
      ++executed;
    }
    return executed;
  }

 private:
  void schedule_next(sim::EntityId target) {
    queue_.push(sim::Nanos(now_ + delays_.next_ns()), target, source_, sequence_++,
                [this, target] { fire(target); });
  }
  void fire(sim::EntityId target) {
    if (--remaining_ == 0) {
      done_ = true;
      return;
    }
    schedule_next(target);
  }

  sim::EventQueue queue_;
  bench::HoldDelays delays_;
  uint64_t remaining_;
  int64_t now_ = 0;
  sim::EntityId source_ = 0;
  uint64_t sequence_ = 0;  // one sequence for the whole model is enough for a valid key
  bool done_ = false;
};

template <class Model>
bench::HoldResult measure(const bench::HoldParams& p) {
  bench::HoldResult r;
  const auto setup_start = std::chrono::steady_clock::now();
  Model model(p);
  r.setup_seconds = bench::seconds_since(setup_start);
  bench::time_run(r, [&model] { return model.run(); });
  return r;
}

}  // namespace

int main(int argc, char** argv) {
  bench::HoldParams params;
  int exit_code = 0;
  if (!bench::parse_hold_args(argc, argv, "segsim", "kernel | queue", "kernel", params, exit_code)) {
    return exit_code;
  }
  bench::HoldResult result;
  if (params.scheduler == "kernel") {
    result = measure<KernelHold>(params);
  } else if (params.scheduler == "queue") {
    result = measure<QueueHold>(params);
  } else {
    std::fprintf(stderr, "%s: --scheduler: expected kernel or queue, got '%s'\n", argv[0],
                 params.scheduler.c_str());
    return 2;
  }
  if (result.events_run != params.events) {
    std::fprintf(stderr, "%s: ran %llu events, expected %llu\n", argv[0],
                 static_cast<unsigned long long>(result.events_run),
                 static_cast<unsigned long long>(params.events));
    return 1;
  }
  bench::print_hold_result("segsim", params, result);
  return 0;
}
