#pragma once
// The Linux world of the platform interface, for the daemons (dfw-controller, dfw-agent) and the
// emulation: the real monotonic clock, timers on a Boost.Asio io_context, a log on stderr. All
// callbacks run on the thread that runs the io_context (the single driving thread).

#include <boost/asio/io_context.hpp>

#include "platform/platform.h"

namespace daemons {

// std::chrono::steady_clock in ns.
class LinuxClock final : public platform::Clock {
 public:
  platform::Nanos now() const override;
};

// Timers on an io_context; deadlines are LinuxClock times.
class AsioTimerService final : public platform::TimerService {
 public:
  explicit AsioTimerService(boost::asio::io_context& io) : io_(io) {}
  platform::TimerPtr create_timer(std::function<void()> callback) override;

 private:
  boost::asio::io_context& io_;
};

// "2026-11-22T05:40:01.123Z info controller: message" lines on stderr, from `min_level` up.
class StderrLog final : public platform::Log {
 public:
  explicit StderrLog(platform::LogLevel min_level = platform::LogLevel::kInfo) : min_level_(min_level) {}
  void write(platform::LogLevel level, std::string_view component, std::string_view message) override;

 private:
  platform::LogLevel min_level_;
};

}  // namespace daemons
