#include "models/sim_platform.h"

#include <gtest/gtest.h>

#include <vector>

namespace models {
namespace {

TEST(SimPlatform, TimersFireAtTheirDeadlineInVirtualTime) {
  sim::Kernel kernel(1);
  const sim::EntityId host = kernel.add_entity("host/h0");
  SimClock clock(kernel);
  SimTimerService timers(kernel, host);
  std::vector<int64_t> fired;
  platform::TimerPtr timer = timers.create_timer([&] { fired.push_back(clock.now()); });
  timer->arm(5'000);
  EXPECT_TRUE(timer->armed());
  timer->arm(7'000);  // re-arming replaces the deadline
  kernel.run_until(sim::Micros(20));
  EXPECT_EQ(fired, (std::vector<int64_t>{7'000}));
  EXPECT_FALSE(timer->armed());

  timer->arm(30'000);
  timer->cancel();
  kernel.run_until(sim::Micros(40));
  EXPECT_EQ(fired.size(), 1u);

  timer->arm(1);  // a deadline in the past fires now
  kernel.run_until(sim::Micros(41));
  EXPECT_EQ(fired.back(), 40'000);

  timer->arm(50'000);
  timer.reset();  // destroying the handle cancels: the callback must never run
  kernel.run_until(sim::Micros(60));
  EXPECT_EQ(fired.size(), 2u);
}

TEST(SimPlatform, LogAndMetricsKeepWhatTheCodeUnderTestPublishes) {
  sim::Kernel kernel(1);
  SimLog log(kernel);
  std::vector<std::string> lines;
  log.set_handler([&](sim::Time, platform::LogLevel, std::string_view component,
                      std::string_view message) {
    lines.push_back(std::string(component) + ": " + std::string(message));
  });
  log.write(platform::LogLevel::kWarning, "dfw", "table 90% full");
  EXPECT_EQ(log.message_count(platform::LogLevel::kWarning), 1u);
  EXPECT_EQ(lines, (std::vector<std::string>{"dfw: table 90% full"}));

  SimMetrics metrics;
  metrics.counter("dfw.connections.created", "connections", 12);
  metrics.counter("dfw.connections.created", "connections", 15);
  metrics.gauge("dfw.table.fill", "1", 0.5);
  ASSERT_EQ(metrics.values().size(), 2u);
  EXPECT_EQ(metrics.values().at("dfw.connections.created").value, 15);
  EXPECT_EQ(metrics.values().at("dfw.connections.created").unit, "connections");
  EXPECT_FALSE(metrics.values().at("dfw.table.fill").is_counter);
}

}  // namespace
}  // namespace models
