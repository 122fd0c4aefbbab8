#pragma once
// The simulation world's implementation of the platform interface (platform/platform.h): what
// the code under test sees of time, timers, logging and metrics inside segsim.
//
//  - SimClock reads the kernel's virtual time.
//  - SimTimerService arms one kernel event per armed timer, as an event of the owning entity
//    (the host), so timer callbacks run at exactly their deadline, in the kernel's deterministic
//    order. Destroying or re-arming a timer cancels its pending event.
//  - SimLog counts messages per level and forwards them, stamped with virtual time, to an
//    optional handler (the runner's log); SimMetrics keeps the latest value of every named
//    counter and gauge for the host's statistics.
// Frames the code under test originates (platform::FrameSink) are the host's business: the host
// implements that interface itself (host.h).

#include <array>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>

#include "platform/platform.h"
#include "sim/kernel.h"

namespace models {

class SimClock final : public platform::Clock {
 public:
  explicit SimClock(const sim::Kernel& kernel) : kernel_(kernel) {}
  platform::Nanos now() const override { return kernel_.now().ns(); }

 private:
  const sim::Kernel& kernel_;
};

class SimTimerService final : public platform::TimerService {
 public:
  // Timer callbacks run as events of `entity`.
  SimTimerService(sim::Kernel& kernel, sim::EntityId entity) : kernel_(kernel), entity_(entity) {}
  platform::TimerPtr create_timer(std::function<void()> callback) override;

 private:
  sim::Kernel& kernel_;
  sim::EntityId entity_;
};

class SimLog final : public platform::Log {
 public:
  using Handler = std::function<void(sim::Time now, platform::LogLevel level,
                                     std::string_view component, std::string_view message)>;
  explicit SimLog(const sim::Kernel& kernel) : kernel_(kernel) {}
  void set_handler(Handler handler) { handler_ = std::move(handler); }
  void write(platform::LogLevel level, std::string_view component,
             std::string_view message) override;
  // Messages written so far at `level`.
  uint64_t message_count(platform::LogLevel level) const {
    return counts_[static_cast<std::size_t>(level)];
  }

 private:
  const sim::Kernel& kernel_;
  Handler handler_;
  std::array<uint64_t, 4> counts_{};
};

class SimMetrics final : public platform::MetricsSink {
 public:
  struct Value {
    std::string unit;
    double value = 0;
    bool is_counter = false;
  };
  void counter(std::string_view name, std::string_view unit, uint64_t value) override;
  void gauge(std::string_view name, std::string_view unit, double value) override;
  // Latest value of every metric published so far, by name (sorted: deterministic output).
  const std::map<std::string, Value, std::less<>>& values() const { return values_; }

 private:
  std::map<std::string, Value, std::less<>> values_;
};

}  // namespace models
