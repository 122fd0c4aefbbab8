#pragma once
// A small estate for control-plane tests: a controller service and one agent per host, each
// agent with its own real dfw datapath, all on a ManualLoop with an in-memory channel. Verdicts
// are read from the datapaths with real frames.

#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "agent/agent.h"
#include "controller/address.h"
#include "controller/policy_loader.h"
#include "controller/service.h"
#include "frame_builder.h"
#include "memory_channel.h"

namespace controlplane_test {

inline constexpr const char* kControllerAddress = "controller";
inline constexpr Nanos kLatency = 1 * kMs;

// web -> api on tcp/8080, api -> db on tcp/5432, everything else dropped.
inline constexpr const char* kPolicy = R"(
default_action: drop
rules:
  - name: web-to-api
    from: {role: web}
    to: {role: api}
    services: [tcp/8080]
    action: allow
  - name: api-to-db
    from: {role: api}
    to: {role: db}
    services: [tcp/5432]
    action: allow
)";

struct TestHost {
  TestHost(const std::string& host_name, ManualLoop& loop, MemoryNetwork& network)
      : name(host_name),
        env{loop, loop, log, metrics, frames},
        driver(datapath, env),
        connector(network.connector(host_name)) {}
  std::string name;
  platform::NullLog log;
  platform::NullMetrics metrics;
  platform::NullFrames frames;
  platform::Env env;
  dfw::Datapath datapath{dfw::DatapathConfig{}};
  dfw::DatapathDriver driver;
  std::unique_ptr<platform::ChannelConnector> connector;
  std::unique_ptr<agent::Agent> agent;
};

class ControlPlaneTest : public ::testing::Test {
 protected:
  ControlPlaneTest() : network_(loop_, kLatency) {}

  static controller::Policy policy(const std::string& text) {
    auto loaded = controller::load_policy_text(text, "test.yaml");
    EXPECT_TRUE(loaded.ok()) << (loaded.errors.empty() ? "" : loaded.errors[0].to_string());
    return loaded.policy;
  }

  static controller::Workload workload(controller::WorkloadId id, const std::string& name,
                                       const std::string& address, const std::string& role,
                                       const std::string& host) {
    controller::Workload w;
    w.id = id;
    w.name = name;
    dfw::IpPrefix p;
    EXPECT_TRUE(controller::parse_address(address, p));
    w.addresses = {p};
    w.labels = {{"role", role}};
    w.host = host;
    return w;
  }

  // web-1 on h1, api-1 on h2, db-1 on h3.
  static std::vector<controller::Workload> estate() {
    return {workload(1, "web-1", "10.0.0.1", "web", "h1"), workload(2, "api-1", "10.0.0.2", "api", "h2"),
            workload(3, "db-1", "10.0.0.3", "db", "h3")};
  }

  void start_controller(const controller::Policy& p, std::vector<controller::Workload> workloads) {
    dfw::Status status;
    auto ctl = controller::Controller::create(p, std::move(workloads), status);
    ASSERT_TRUE(ctl) << status.message();
    listener_ = network_.listen(kControllerAddress);
    service_ = std::make_unique<controller::ControllerService>(
        std::move(ctl), *listener_, controller::ServiceEnv{loop_, loop_, log_, metrics_});
  }

  // Kills the controller process: its connections break, its state is gone.
  void kill_controller() {
    service_.reset();
    listener_.reset();
  }

  TestHost& add_host(const std::string& name) {
    auto host = std::make_unique<TestHost>(name, loop_, network_);
    agent::AgentConfig config;
    config.host = name;
    config.controller_address = kControllerAddress;
    host->agent = std::make_unique<agent::Agent>(config, host->driver, *host->connector,
                                                 agent::AgentEnv{loop_, loop_, host->log, host->metrics});
    host->agent->start();
    TestHost& ref = *host;
    hosts_[name] = std::move(host);
    return ref;
  }
  TestHost& host(const std::string& name) { return *hosts_.at(name); }

  // A new TCP connection's first packet at `port` in `direction`: fresh source port each time,
  // so that the rule table (not a connection) decides.
  dfw::Verdict syn(const std::string& host_name, dfw::PortId port, dfw::Direction direction,
                   const std::string& src, const std::string& dst, uint16_t dport) {
    dfw::testing::Bytes frame = dfw::testing::tcp4(src, dst, next_sport_++, dport, dfw::testing::SYN);
    return host(host_name).driver.process(port, direction, dfw::testing::view(frame)).verdict;
  }
  // The same flow checked where the policy enforces it: egress at the sender, ingress at the receiver.
  bool allowed_end_to_end(const std::string& src_host, dfw::PortId src_port, const std::string& dst_host,
                          dfw::PortId dst_port, const std::string& src, const std::string& dst,
                          uint16_t dport) {
    return syn(src_host, src_port, dfw::Direction::kEgress, src, dst, dport) == dfw::Verdict::kAllow &&
           syn(dst_host, dst_port, dfw::Direction::kIngress, src, dst, dport) == dfw::Verdict::kAllow;
  }

  controller::ControllerService& service() { return *service_; }

  ManualLoop loop_;
  MemoryNetwork network_;
  platform::NullLog log_;
  platform::NullMetrics metrics_;
  std::unique_ptr<platform::ChannelListener> listener_;
  std::unique_ptr<controller::ControllerService> service_;
  std::map<std::string, std::unique_ptr<TestHost>> hosts_;
  uint16_t next_sport_ = 20000;
};

}  // namespace controlplane_test
