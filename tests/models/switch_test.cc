#include "models/switch.h"

#include <gtest/gtest.h>

#include <map>
#include <set>

#include "net_test_util.h"

namespace models {
namespace {

using testing::make_packet;
using testing::RecordingReceiver;

TEST(EcmpSelect, IsDeterministicAndCoversEveryNextHop) {
  std::map<uint32_t, int> counts;
  for (uint64_t flow = 0; flow < 4000; ++flow) {
    const uint32_t choice = ecmp_select(flow * 0x9E3779B97F4A7C15ULL, 42, 4);
    ASSERT_LT(choice, 4u);
    EXPECT_EQ(choice, ecmp_select(flow * 0x9E3779B97F4A7C15ULL, 42, 4));
    ++counts[choice];
  }
  ASSERT_EQ(counts.size(), 4u);
  for (const auto& [choice, n] : counts) {
    EXPECT_GT(n, 850) << "next hop " << choice;
    EXPECT_LT(n, 1150) << "next hop " << choice;
  }
}

TEST(EcmpSelect, DifferentSaltsDecorrelateChoices) {
  int same = 0;
  for (uint64_t flow = 0; flow < 2000; ++flow)
    same += ecmp_select(flow, 1, 2) == ecmp_select(flow, 2, 2);
  EXPECT_GT(same, 850);  // independent choices agree about half the time
  EXPECT_LT(same, 1150);
}

struct SwitchFixture : ::testing::Test {
  sim::Kernel kernel{1};
  PacketPool pool;
  RecordingReceiver receiver{kernel, pool};
  sim::EntityId far_end = kernel.add_entity("far-end");
  std::vector<uint32_t> vm_hosts{0, 1, kNoHost};  // vm 0 on host 0, vm 1 on host 1, vm 2 nowhere
  std::vector<std::unique_ptr<Link>> links;
  Switch sw{"leaf-0", pool, vm_hosts};

  void SetUp() override {
    for (uint32_t i = 0; i < 3; ++i) {
      links.push_back(std::make_unique<Link>("out-" + std::to_string(i), LinkParams{}, kernel, pool));
      links.back()->connect(receiver, far_end, i);
      sw.add_port(*links.back());
    }
    sw.set_routes({{0}, {1, 2}});  // host 0 via port 0; host 1 via ports 1 and 2 (ECMP)
  }
};

TEST_F(SwitchFixture, ForwardsByDestinationAndSpreadsOverEqualCostPorts) {
  for (uint64_t flow = 0; flow < 200; ++flow) {
    sw.receive_from_link(make_packet(pool, 100, flow * 7919, 1), 0);
    sw.receive_from_link(make_packet(pool, 100, flow * 7919, 0), 0);
  }
  kernel.run_until(sim::Seconds(1));
  std::map<uint32_t, int> by_port;
  std::map<uint64_t, std::set<uint32_t>> ports_of_flow;
  for (const auto& a : receiver.arrivals) {
    ++by_port[a.port];
    ports_of_flow[a.flow_hash].insert(a.port);
  }
  EXPECT_EQ(by_port[0], 200);
  EXPECT_GT(by_port[1], 60);
  EXPECT_GT(by_port[2], 60);
  EXPECT_EQ(by_port[1] + by_port[2], 200);
}

TEST_F(SwitchFixture, KeepsAFlowOnOnePort) {
  for (int i = 0; i < 50; ++i) sw.receive_from_link(make_packet(pool, 100, 12345, 1), 0);
  kernel.run_until(sim::Seconds(1));
  std::set<uint32_t> ports;
  for (const auto& a : receiver.arrivals) ports.insert(a.port);
  EXPECT_EQ(receiver.arrivals.size(), 50u);
  EXPECT_EQ(ports.size(), 1u);
}

TEST_F(SwitchFixture, DropsWithoutARoute) {
  sw.receive_from_link(make_packet(pool, 100, 1, 2), 0);       // VM nowhere
  sw.receive_from_link(make_packet(pool, 100, 1, 99), 0);      // unknown VM
  sw.receive_from_link(make_packet(pool, 100, 1, kNoVm), 0);   // no destination
  EXPECT_EQ(sw.no_route_drops(), 3u);
  EXPECT_EQ(pool.live_count(), 0u);
}

TEST_F(SwitchFixture, FollowsTheDirectoryWhenAVmMoves) {
  EXPECT_EQ(sw.select_port(*make_packet(pool, 100, 5, 0)), 0u);
  vm_hosts[0] = 1;  // what Fabric::move_vm does
  const uint32_t port = sw.select_port(*make_packet(pool, 100, 5, 0));
  EXPECT_TRUE(port == 1u || port == 2u);
}

}  // namespace
}  // namespace models
