// TCP small queues through real hosts: a bulk TCP flow whose vNIC is slower than everything
// behind it fills the vNIC queue only up to the small-queue limit, so it loses nothing there and
// runs at the vNIC's rate; without the limit (or with open-loop UDP) the same vNIC overflows.
#include <gtest/gtest.h>

#include <memory>
#include <vector>

#include "dfw/rules.h"
#include "models/host.h"
#include "models/switched_fabric.h"
#include "models/traffic/flow_records.h"
#include "models/traffic/transport_stack.h"

namespace models::traffic {
namespace {

constexpr uint64_t kVnicBps = 1'000'000'000;  // the sender's vNIC: 1 Gb/s behind 10 Gb/s links

dfw::RuleTablePtr allow_all() {
  dfw::RuleSetSpec spec;
  spec.default_action = dfw::Action::kAllow;
  dfw::Status status;
  dfw::RuleTablePtr table = dfw::compile_rules(spec, status);
  EXPECT_TRUE(status.is_ok()) << status.message();
  return table;
}

// Two hosts on one switch; VM 0 (1 Gb/s vNIC) on h0 sends to VM 1 (10 Gb/s) on h1.
struct SmallQueueWorld {
  explicit SmallQueueWorld(const TransportParams& transport) {
    FabricGraph graph;
    std::string error;
    EXPECT_TRUE(star_graph(StarParams{}, {"h0", "h1"}, graph, error)) << error;
    fabric = build_switched_fabric(graph, kernel, pool, error);
    for (uint32_t h = 0; h < 2; ++h)
      hosts.push_back(std::make_unique<Host>("h" + std::to_string(h), h, HostParams{}, kernel, pool, vms,
                                             *fabric, cost));
    for (uint32_t v = 0; v < 2; ++v) {
      Vm vm;
      vm.name = "vm" + std::to_string(v);
      vm.mac = {0x02, 0, 0, 0, 0, static_cast<uint8_t>(v + 1)};
      vm.ipv4 = 0x0A000001 + v;
      vm.vnic_rate = v == 0 ? sim::DataRate::bps(kVnicBps) : sim::DataRate::gbps(10);
      const VmIndex index = vms.add(vm);
      EXPECT_TRUE(hosts[v]->add_vm(index, allow_all()).is_ok());
      stacks.push_back(std::make_unique<TransportStack>(kernel, vms, index, pool, records, transport));
    }
  }
  uint64_t vnic_drops() {
    return hosts[0]->sample(kernel.now()).host_drops[static_cast<std::size_t>(HostDropReason::kVnicQueueFull)];
  }

  sim::Kernel kernel{7};
  PacketPool pool;
  VmTable vms;
  CostModel cost;  // off: only the vNIC limits the sender
  std::unique_ptr<SwitchedFabric> fabric;
  std::vector<std::unique_ptr<Host>> hosts;
  FlowRecords records;
  std::vector<std::unique_ptr<TransportStack>> stacks;
};

TransportParams with_limit(uint64_t small_queue_limit) {
  TransportParams p;
  p.tcp.min_rto = sim::Millis(5);
  p.tcp.small_queue_limit = sim::Bytes(small_queue_limit);
  return p;
}

TEST(TcpSmallQueues, BulkFlowOverASlowVnicLosesNothingAndRunsAtTheVnicRate) {
  SmallQueueWorld w(with_limit(128 * 1024));
  const uint64_t size = 50'000'000;
  FlowId id = 0;
  w.kernel.schedule_at(sim::Time::zero(), w.stacks[0]->entity(),
                       [&] { id = w.stacks[0]->start_tcp_flow(1, 5001, size); });
  w.kernel.run_until(sim::Seconds(2));
  ASSERT_EQ(w.records.outcome[id], FlowOutcome::kCompleted);
  EXPECT_EQ(w.vnic_drops(), 0u);
  EXPECT_EQ(w.records.retransmissions[id], 0u);
  EXPECT_EQ(w.stacks[0]->stats().timeouts, 0u);
  // Goodput: payload over the flow's life, against the payload share of a 1 Gb/s wire
  // (1460 of every 1514 bytes): within 2% of it (the handshake and the first RTTs cost ~0.1%).
  const double goodput_bps = static_cast<double>(size) * 8e9 / static_cast<double>(w.records.fct_ns(id));
  const double payload_rate_bps = kVnicBps * 1460.0 / 1514.0;
  EXPECT_GT(goodput_bps, 0.98 * payload_rate_bps);
  EXPECT_LE(goodput_bps, payload_rate_bps);
}

TEST(TcpSmallQueues, WithoutTheLimitTheSameFlowOverrunsTheVnicQueue) {
  SmallQueueWorld w(with_limit(0));
  FlowId id = 0;
  w.kernel.schedule_at(sim::Time::zero(), w.stacks[0]->entity(),
                       [&] { id = w.stacks[0]->start_tcp_flow(1, 5001, 50'000'000); });
  w.kernel.run_until(sim::Seconds(2));
  EXPECT_GT(w.vnic_drops(), 0u);
  EXPECT_GT(w.records.retransmissions[id], 0u);
}

TEST(TcpSmallQueues, OpenLoopUdpStillOverflowsTheVnicQueue) {
  TransportParams p = with_limit(128 * 1024);
  p.udp.rate = sim::DataRate::gbps(2);  // twice the vNIC
  SmallQueueWorld w(p);
  FlowId id = 0;
  w.kernel.schedule_at(sim::Time::zero(), w.stacks[0]->entity(),
                       [&] { id = w.stacks[0]->start_udp_flow(1, 5001, 20'000'000); });
  w.kernel.run_until(sim::Seconds(1));
  EXPECT_GT(w.vnic_drops(), 0u);
  EXPECT_LT(w.records.bytes_received[id], w.records.bytes_sent[id]);
}

}  // namespace
}  // namespace models::traffic
