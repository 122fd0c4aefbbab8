// DatapathDriver against a hand-driven platform::Env: timer arming and firing, expiry, frames
// and metrics.

#include <gtest/gtest.h>

#include <map>

#include "datapath_fixture.h"
#include "dfw/driver.h"

namespace dfw::testing {
namespace {

class ManualClock final : public platform::Clock {
 public:
  platform::Nanos now() const override { return now_; }
  platform::Nanos now_ = kT0;
};

class ManualTimers final : public platform::TimerService {
 public:
  class ManualTimer final : public platform::Timer {
   public:
    explicit ManualTimer(std::function<void()> cb) : callback(std::move(cb)) {}
    void arm(platform::Nanos d) override {
      deadline = d;
      is_armed = true;
      ++arms;
    }
    void cancel() override { is_armed = false; }
    bool armed() const override { return is_armed; }
    std::function<void()> callback;
    platform::Nanos deadline = 0;
    bool is_armed = false;
    int arms = 0;
  };
  platform::TimerPtr create_timer(std::function<void()> callback) override {
    auto t = std::make_unique<ManualTimer>(std::move(callback));
    last = t.get();
    return t;
  }
  ManualTimer* last = nullptr;
};

class RecordingMetrics final : public platform::MetricsSink {
 public:
  void counter(std::string_view name, std::string_view, uint64_t v) override {
    counters[std::string(name)] = v;
  }
  void gauge(std::string_view name, std::string_view, double v) override {
    gauges[std::string(name)] = v;
  }
  std::map<std::string, uint64_t> counters;
  std::map<std::string, double> gauges;
};

class RecordingLog final : public platform::Log {
 public:
  void write(platform::LogLevel, std::string_view component, std::string_view message) override {
    lines.push_back(std::string(component) + ": " + std::string(message));
  }
  std::vector<std::string> lines;
};

class DriverTest : public ::testing::Test {
 protected:
  DriverTest() {
    config.timeouts = distinct_timeouts();
    dp = std::make_unique<Datapath>(config);
    driver = std::make_unique<DatapathDriver>(*dp, env);
  }
  // Fires the timer the way a platform would: at its deadline, with the clock there.
  void fire() {
    ASSERT_TRUE(timers.last->is_armed);
    clock.now_ = timers.last->deadline;
    timers.last->is_armed = false;
    timers.last->callback();
  }
  DatapathConfig config;
  ManualClock clock;
  ManualTimers timers;
  RecordingLog log;
  RecordingMetrics metrics;
  CapturingFrames frames;
  platform::Env env{clock, timers, log, metrics, frames};
  std::unique_ptr<Datapath> dp;
  std::unique_ptr<DatapathDriver> driver;
};

TEST_F(DriverTest, TimerFollowsTheNextDeadlineAndExpiresConnections) {
  ASSERT_TRUE(dp->add_port(1, make_table({}, Action::kAllow)));
  EXPECT_FALSE(timers.last->is_armed);
  ASSERT_TRUE(driver->process(1, Direction::kEgress, view(udp4(kVm, kPeer, 1, 2))).connection_created);
  ASSERT_TRUE(timers.last->is_armed);
  EXPECT_LE(timers.last->deadline, kT0 + 21 * kSecond);
  // Firing repeatedly lands on the exact deadline and then disarms.
  for (int i = 0; i < 50 && timers.last->is_armed; ++i) fire();
  EXPECT_FALSE(timers.last->is_armed);
  EXPECT_EQ(clock.now_, kT0 + 21 * kSecond);
  EXPECT_EQ(dp->connection_count(1), 0u);
}

TEST_F(DriverTest, ConnectionHitsDoNotRearm) {
  ASSERT_TRUE(dp->add_port(1, make_table({}, Action::kAllow)));
  driver->process(1, Direction::kEgress, view(udp4(kVm, kPeer, 1, 2)));
  const int arms = timers.last->arms;
  for (int i = 0; i < 10; ++i) driver->process(1, Direction::kEgress, view(udp4(kVm, kPeer, 1, 2)));
  EXPECT_EQ(timers.last->arms, arms);
}

TEST_F(DriverTest, RejectFramesGoToTheEnvironmentsFrameSink) {
  ASSERT_TRUE(dp->add_port(3, make_table({{.id = 1, .action = Action::kReject}}, Action::kAllow)));
  std::vector<PacketView> views{view(tcp4(kVm, kPeer, 1, 2, SYN))};
  const Bytes f = tcp4(kVm, kPeer, 1, 2, SYN);
  views[0] = view(f);
  std::vector<Result> results(1);
  driver->process_batch(3, Direction::kEgress, views, results);
  EXPECT_EQ(results[0].reason, DropReason::kRuleReject);
  ASSERT_EQ(frames.frames.size(), 1u);
  EXPECT_EQ(frames.frames[0].port, 3u);
  EXPECT_TRUE(frames.frames[0].toward_vm);
}

TEST_F(DriverTest, RulesWithTheLogFlagAreLogged) {
  ASSERT_TRUE(dp->add_port(1, make_table({{.id = 5, .action = Action::kDrop, .protocol = 6,
                                           .log = true},
                                          {.id = 6, .action = Action::kAllow}},
                                         Action::kDrop)));
  driver->process(1, Direction::kEgress, view(tcp4(kVm, kPeer, 1, 2, SYN)));
  driver->process(1, Direction::kEgress, view(udp4(kVm, kPeer, 1, 2)));
  ASSERT_EQ(log.lines.size(), 1u);
  EXPECT_EQ(log.lines[0], "dfw: port 1 egress rule 5 drop (rule_drop)");
}

TEST_F(DriverTest, PublishesCountersAndGauges) {
  ASSERT_TRUE(dp->add_port(1, make_table({}, Action::kDrop)));
  driver->process(1, Direction::kEgress, view(udp4(kVm, kPeer, 1, 2)));
  driver->process(1, Direction::kEgress, view(Bytes(3, 0)));
  driver->publish_metrics();
  EXPECT_EQ(metrics.counters.at("dfw.drops.default_drop"), 1u);
  EXPECT_EQ(metrics.counters.at("dfw.drops.truncated"), 1u);
  EXPECT_EQ(metrics.gauges.at("dfw.connections.live"), 0.0);
  EXPECT_EQ(metrics.counters.at("dfw.connections.created"), 0u);
}

TEST_F(DriverTest, ImportArmsTheTimerForImportedConnections) {
  ASSERT_TRUE(dp->add_port(1, make_table({}, Action::kAllow)));
  driver->process(1, Direction::kEgress, view(udp4(kVm, kPeer, 1, 2)));
  std::vector<uint8_t> blob;
  ASSERT_TRUE(driver->export_port(1, blob));
  Datapath other(config);
  DatapathDriver other_driver(other, env);
  ASSERT_TRUE(other_driver.import_port(1, blob, make_table({}, Action::kAllow)));
  EXPECT_TRUE(timers.last->is_armed);
  EXPECT_LE(timers.last->deadline, kT0 + 21 * kSecond);
}

}  // namespace
}  // namespace dfw::testing
