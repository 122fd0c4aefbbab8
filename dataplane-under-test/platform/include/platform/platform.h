#pragma once
// The platform interface: the only things the code under test (dfw, the host agent, the policy
// controller) may use from the world it runs in. Each world provides its own implementations:
// Sim* in models/ (virtual time, simulated links), Linux* for the daemons (real clock, real
// sockets), Guest* inside a QEMU guest. The code under test receives them by reference at
// construction and never asks which world it is in.
//
// Contracts common to every interface here:
//  - Calls are made from the single thread that drives the code under test; implementations need
//    not be thread-safe unless they say so.
//  - Time is integer nanoseconds since an arbitrary epoch fixed for the process (or run).
//  - Nothing here throws.

#include <cstdint>
#include <functional>
#include <memory>
#include <string_view>

namespace platform {

using Nanos = int64_t;

// A monotonic clock.
class Clock {
 public:
  virtual ~Clock() = default;
  virtual Nanos now() const = 0;
};

// A one-shot timer. Destroying the handle cancels it: a callback never runs after its timer is
// gone. Re-arming replaces the previous deadline.
class Timer {
 public:
  virtual ~Timer() = default;
  virtual void arm(Nanos deadline) = 0;
  virtual void cancel() = 0;
  virtual bool armed() const = 0;
};
using TimerPtr = std::unique_ptr<Timer>;

class TimerService {
 public:
  virtual ~TimerService() = default;
  // The callback runs on the driving thread at or after the deadline (in simulation: exactly at).
  virtual TimerPtr create_timer(std::function<void()> callback) = 0;
};

enum class LogLevel : uint8_t { kDebug, kInfo, kWarning, kError };

class Log {
 public:
  virtual ~Log() = default;
  virtual void write(LogLevel level, std::string_view component, std::string_view message) = 0;
};

// Where the code under test publishes its counters and gauges. Names are dotted paths
// ("dfw.drops.rule_deny"); the unit is part of the declaration ("packets", "bytes", "ns").
class MetricsSink {
 public:
  virtual ~MetricsSink() = default;
  virtual void counter(std::string_view name, std::string_view unit, uint64_t value) = 0;
  virtual void gauge(std::string_view name, std::string_view unit, double value) = 0;
};

// Frames the code under test originates (TCP RST, ICMP unreachable for a reject rule).
// `port` is the dfw port id, `toward_vm` says which side of the port the frame leaves on.
class FrameSink {
 public:
  virtual ~FrameSink() = default;
  virtual void transmit(uint32_t port, bool toward_vm, const uint8_t* frame, uint32_t size) = 0;
};

// Everything above, handed in as one bundle.
struct Env {
  Clock& clock;
  TimerService& timers;
  Log& log;
  MetricsSink& metrics;
  FrameSink& frames;
};

// Implementations that discard everything: for tools and tests that do not care.
class NullLog final : public Log {
 public:
  void write(LogLevel, std::string_view, std::string_view) override {}
};
class NullMetrics final : public MetricsSink {
 public:
  void counter(std::string_view, std::string_view, uint64_t) override {}
  void gauge(std::string_view, std::string_view, double) override {}
};
class NullFrames final : public FrameSink {
 public:
  void transmit(uint32_t, bool, const uint8_t*, uint32_t) override {}
};

}  // namespace platform
