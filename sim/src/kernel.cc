#include "sim/kernel.h"

#include <cstdio>
#include <cstdlib>

namespace sim {

Kernel::Kernel(uint64_t seed) : seed_(seed) {
  entities_.push_back(Entity{"world", 0});
  entity_ids_.emplace("world", kWorld);
}

EntityId Kernel::add_entity(std::string name) {
  const auto id = static_cast<EntityId>(entities_.size());
  if (!entity_ids_.emplace(name, id).second) {
    // Names key the random streams; two entities with one name would share draws.
    std::fprintf(stderr, "sim: duplicate entity name '%s'\n", name.c_str());
    std::abort();
  }
  entities_.push_back(Entity{std::move(name), 0});
  return id;
}

void Kernel::fail_past(Time when) const {
  std::fprintf(stderr, "sim: event scheduled in the past (%lld ns < now %lld ns) by '%s'\n",
               static_cast<long long>(when.ns()), static_cast<long long>(now_.ns()),
               entities_[current_].name.c_str());
  std::abort();
}

void Kernel::fail_bad_delay(Time delay) const {
  std::fprintf(stderr, "sim: event scheduled with delay %lld ns at now %lld ns by '%s': %s\n",
               static_cast<long long>(delay.ns()), static_cast<long long>(now_.ns()),
               entities_[current_].name.c_str(),
               delay < Time::zero() ? "negative delay" : "virtual time would overflow");
  std::abort();
}

double Kernel::wall_seconds() const {
  if (!wall_started_) return 0;
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_start_).count();
}

void Kernel::set_progress_callback(std::chrono::milliseconds wall_interval,
                                   std::function<void(const Progress&)> fn) {
  progress_interval_ = wall_interval;
  progress_fn_ = std::move(fn);
}

void Kernel::add_stop_condition(Time period, std::function<bool()> condition) {
  if (period <= Time::zero()) {
    std::fprintf(stderr, "sim: stop condition period must be positive, got %lld ns\n",
                 static_cast<long long>(period.ns()));
    std::abort();
  }
  stop_conditions_.push_back(StopCondition{period, std::move(condition)});
  arm_stop_condition(stop_conditions_.size() - 1);
}

void Kernel::arm_stop_condition(std::size_t index) {
  const EntityId saved = current_;
  current_ = kWorld;
  schedule(stop_conditions_[index].period, kWorld, [this, index] {
    if (stop_conditions_[index].condition()) {
      stop();
    } else {
      arm_stop_condition(index);
    }
  });
  current_ = saved;
}

void Kernel::report_progress(Time end) {
  Progress p;
  p.now = now_;
  p.end = end;
  p.events = events_executed_;
  p.wall_seconds = wall_seconds();
  p.events_per_second = p.wall_seconds > 0 ? static_cast<double>(events_executed_) / p.wall_seconds : 0;
  progress_fn_(p);
}

RunStatus Kernel::run_until(Time end) {
  if (!wall_started_) {
    wall_started_ = true;
    wall_start_ = std::chrono::steady_clock::now();
    next_progress_ = wall_start_ + progress_interval_;
  }
  stop_requested_ = false;
  // Reading the wall clock costs ~20 ns; look at it only every 16k events.
  constexpr uint64_t kProgressCheckMask = (1u << 14) - 1;
  RunStatus status = RunStatus::kReachedEnd;
  EventQueue::Popped ev;
  for (;;) {
    if (!queue_.pop_before(end, ev)) {
      if (queue_.empty()) status = RunStatus::kQueueEmpty;
      break;
    }
    now_ = ev.time;
    current_ = ev.target;
    queue_.run_and_release(ev.slot);
    ++events_executed_;
    if (stop_requested_) {
      status = RunStatus::kStopped;
      break;
    }
    if (progress_fn_ && (events_executed_ & kProgressCheckMask) == 0) {
      const auto t = std::chrono::steady_clock::now();
      if (t >= next_progress_) {
        next_progress_ = t + progress_interval_;
        report_progress(end);
      }
    }
  }
  current_ = kWorld;
  if (status != RunStatus::kStopped && end != Time::max() && now_ < end) now_ = end;
  if (progress_fn_) report_progress(end);
  return status;
}

}  // namespace sim
