#pragma once
// The discrete-event kernel: virtual time, entities, the event loop.
//
// Entities. Everything that receives events (a host, a link, a traffic source, the scenario
// timeline) is an entity with a stable name and a dense id. Its random stream is derived from the
// scenario seed and its name (see rng.h), so adding or reordering entities never changes another
// entity's draws.
//
// Scheduling. schedule(delay, target, fn) queues fn to run as `target` at now + delay. The source
// of the event is the entity whose event is running (or the world during setup); with the
// source's own sequence counter it completes the ordering key. Closures are stored inline (48
// bytes), so scheduling allocates nothing in steady state.
//
// Partitioning (for MPI, later). The ordering key and the per-entity streams are already
// independent of which process runs an entity. What a partitioned run adds is a rule for events
// that cross partitions: such events must be at least `lookahead` in the future (the smallest
// link latency between partitions) and carry plain data rather than closures. Models obey this by
// sending cross-entity traffic through links (models/), never by scheduling closures that touch
// another entity's memory with zero delay. See docs/kernel.md for the contract.

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "sim/event_queue.h"
#include "sim/rng.h"
#include "sim/time.h"

namespace sim {

inline constexpr EntityId kWorld = 0;  // the scenario itself: setup and timeline events

struct Progress {
  Time now;                       // simulated time reached
  Time end;                       // the run_until target
  uint64_t events = 0;            // events executed so far
  double wall_seconds = 0;        // since the first run_until
  double events_per_second = 0;   // over the whole run so far
};

enum class RunStatus { kReachedEnd, kStopped, kQueueEmpty };

class Kernel {
 public:
  explicit Kernel(uint64_t seed);
  Kernel(const Kernel&) = delete;
  Kernel& operator=(const Kernel&) = delete;

  uint64_t seed() const { return seed_; }

  // Registers an entity. Names must be unique; they key the entity's random stream.
  EntityId add_entity(std::string name);
  const std::string& entity_name(EntityId id) const { return entities_[id].name; }
  std::size_t entity_count() const { return entities_.size(); }
  // The entity's own random stream, derived from the seed and its name.
  Rng rng_for(std::string_view name) const { return Rng::stream(seed_, name); }

  Time now() const { return now_; }
  EntityId current() const { return current_; }

  // Queues fn to run as `target` at now() + delay. fn is any void() callable of at most 48
  // bytes (a lambda, or an EventCallback); it is stored in place. A negative delay, or one that
  // overflows virtual time, aborts with a message naming the scheduling entity.
  template <class F>
  EventId schedule(Time delay, EntityId target, F&& fn) {
    if (delay < Time::zero() || delay > Time::max() - now_) fail_bad_delay(delay);
    return schedule_at(now_ + delay, target, std::forward<F>(fn));
  }
  // Queues fn to run as `target` at `when`; `when` < now() aborts.
  template <class F>
  EventId schedule_at(Time when, EntityId target, F&& fn) {
    if (when < now_) fail_past(when);
    const uint64_t sequence = entities_[current_].next_sequence++;
    return queue_.push(when, target, current_, sequence, std::forward<F>(fn));
  }
  bool cancel(EventId id) { return queue_.cancel(id); }
  bool pending(EventId id) const { return queue_.pending(id); }
  std::size_t pending_count() const { return queue_.size(); }

  // Executes every event with time < end (in key order). Afterwards now() == end, unless the run
  // was stopped (now() is then the time of the event that called stop()) or end is Time::max()
  // (now() is then the time of the last event). Events at exactly `end` stay pending for the next
  // call. Safe to call repeatedly with growing `end`; an `end` before now() runs nothing.
  RunStatus run_until(Time end);
  // Ends the current run_until after the running event returns.
  void stop() { stop_requested_ = true; }

  // Calls fn(progress) every `wall_interval` of wall-clock time during run_until. Wall time only
  // decides when the callback fires, never what the simulation does.
  void set_progress_callback(std::chrono::milliseconds wall_interval,
                             std::function<void(const Progress&)> fn);
  // Evaluates `condition` every `period` of simulated time (deterministically, as a world event)
  // and stops the run when it returns true.
  void add_stop_condition(Time period, std::function<bool()> condition);

  uint64_t events_executed() const { return events_executed_; }
  double wall_seconds() const;

 private:
  struct Entity {
    std::string name;
    uint64_t next_sequence = 0;
  };
  void report_progress(Time end);
  [[noreturn]] void fail_past(Time when) const;
  [[noreturn]] void fail_bad_delay(Time delay) const;
  void arm_stop_condition(std::size_t index);

  uint64_t seed_;
  Time now_ = Time::zero();
  EntityId current_ = kWorld;
  std::vector<Entity> entities_;
  std::unordered_map<std::string, EntityId> entity_ids_;  // for the uniqueness check only
  EventQueue queue_;
  bool stop_requested_ = false;
  uint64_t events_executed_ = 0;

  std::function<void(const Progress&)> progress_fn_;
  std::chrono::milliseconds progress_interval_{1000};
  std::chrono::steady_clock::time_point wall_start_{};
  std::chrono::steady_clock::time_point next_progress_{};
  bool wall_started_ = false;

  struct StopCondition {
    Time period;
    std::function<bool()> condition;
  };
  std::vector<StopCondition> stop_conditions_;
};

}  // namespace sim
