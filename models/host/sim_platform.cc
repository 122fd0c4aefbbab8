#include "models/sim_platform.h"

namespace models {

namespace {

class SimTimer final : public platform::Timer {
 public:
  SimTimer(sim::Kernel& kernel, sim::EntityId entity, std::function<void()> callback)
      : kernel_(kernel), entity_(entity), callback_(std::move(callback)) {}
  ~SimTimer() override { cancel(); }

  void arm(platform::Nanos deadline) override {
    cancel();
    const sim::Time when = deadline < kernel_.now().ns() ? kernel_.now() : sim::Nanos(deadline);
    event_ = kernel_.schedule_at(when, entity_, [this] { fire(); });
  }
  void cancel() override {
    if (event_.valid()) kernel_.cancel(event_);
    event_ = sim::EventId{};
  }
  bool armed() const override { return event_.valid() && kernel_.pending(event_); }

 private:
  void fire() {
    event_ = sim::EventId{};
    callback_();  // may re-arm or destroy this timer's owner's state, but not this timer
  }

  sim::Kernel& kernel_;
  sim::EntityId entity_;
  std::function<void()> callback_;
  sim::EventId event_;
};

}  // namespace

platform::TimerPtr SimTimerService::create_timer(std::function<void()> callback) {
  return std::make_unique<SimTimer>(kernel_, entity_, std::move(callback));
}

void SimLog::write(platform::LogLevel level, std::string_view component, std::string_view message) {
  ++counts_[static_cast<std::size_t>(level)];
  if (handler_) handler_(kernel_.now(), level, component, message);
}

void SimMetrics::counter(std::string_view name, std::string_view unit, uint64_t value) {
  auto it = values_.find(name);
  if (it == values_.end()) it = values_.emplace(std::string(name), Value{}).first;
  it->second.unit = std::string(unit);
  it->second.value = static_cast<double>(value);
  it->second.is_counter = true;
}

void SimMetrics::gauge(std::string_view name, std::string_view unit, double value) {
  auto it = values_.find(name);
  if (it == values_.end()) it = values_.emplace(std::string(name), Value{}).first;
  it->second.unit = std::string(unit);
  it->second.value = value;
  it->second.is_counter = false;
}

}  // namespace models
