#include "daemons/linux_platform.h"

#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <memory>

namespace daemons {

platform::Nanos LinuxClock::now() const {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

namespace {

// Shared with the pending wait, which checks `serial` so that a cancelled or re-armed timer's
// old wait does nothing, and which may outlive the handle.
struct TimerCore {
  explicit TimerCore(boost::asio::io_context& io) : timer(io) {}
  boost::asio::steady_timer timer;
  std::function<void()> callback;
  uint64_t serial = 0;
  bool armed = false;
};

class AsioTimer final : public platform::Timer {
 public:
  AsioTimer(boost::asio::io_context& io, std::function<void()> callback)
      : core_(std::make_shared<TimerCore>(io)) {
    core_->callback = std::move(callback);
  }
  ~AsioTimer() override { cancel(); }

  void arm(platform::Nanos deadline) override {
    cancel();
    const uint64_t serial = ++core_->serial;
    core_->armed = true;
    core_->timer.expires_at(std::chrono::steady_clock::time_point(std::chrono::nanoseconds(deadline)));
    core_->timer.async_wait([core = core_, serial](const boost::system::error_code&) {
      if (core->serial != serial || !core->armed) return;
      core->armed = false;
      auto callback = core->callback;  // the callback may destroy the timer
      callback();
    });
  }
  void cancel() override {
    ++core_->serial;
    core_->armed = false;
    core_->timer.cancel();
  }
  bool armed() const override { return core_->armed; }

 private:
  std::shared_ptr<TimerCore> core_;
};

}  // namespace

platform::TimerPtr AsioTimerService::create_timer(std::function<void()> callback) {
  return std::make_unique<AsioTimer>(io_, std::move(callback));
}

void StderrLog::write(platform::LogLevel level, std::string_view component, std::string_view message) {
  if (level < min_level_) return;
  static constexpr const char* kNames[] = {"debug", "info", "warning", "error"};
  const auto now = std::chrono::system_clock::now();
  const std::time_t seconds = std::chrono::system_clock::to_time_t(now);
  const auto millis =
      std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char stamp[32];
  std::strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &utc);
  std::fprintf(stderr, "%s.%03dZ %s %.*s: %.*s\n", stamp, static_cast<int>(millis),
               kNames[static_cast<int>(level)], static_cast<int>(component.size()), component.data(),
               static_cast<int>(message.size()), message.data());
}

}  // namespace daemons
