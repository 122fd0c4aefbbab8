// Failure injection in the models: links down (queued packets lost, ECMP reroutes), link loss and
// corruption (seeded, per link), switch failure, host down.

#include <gtest/gtest.h>

#include <map>
#include <set>

#include "dfw/rules.h"
#include "models/host.h"
#include "models/switched_fabric.h"
#include "net_test_util.h"

namespace models {
namespace {

using testing::make_packet;
using testing::RecordingReceiver;

// A host NIC that records when each packet was sent and when it arrived.
class TimingHost final : public HostPort {
 public:
  TimingHost(sim::Kernel& kernel, PacketPool& pool) : kernel_(kernel), pool_(pool) {}
  void receive_from_fabric(Packet* packet, uint32_t) override {
    arrivals.push_back({packet->sent_at.ns(), kernel_.now().ns()});
    pool_.release(packet);
  }
  struct Arrival {
    int64_t sent_ns;
    int64_t arrived_ns;
  };
  std::vector<Arrival> arrivals;

 private:
  sim::Kernel& kernel_;
  PacketPool& pool_;
};

// 2 leaves x 2 spines, one host per leaf; the leaf-spine links as slow as the host links so that
// a burst builds a queue on them.
struct LeafSpineFixture : ::testing::Test {
  sim::Kernel kernel{7};
  PacketPool pool;
  FabricGraph graph;
  std::unique_ptr<SwitchedFabric> fabric;
  std::vector<std::unique_ptr<TimingHost>> hosts;

  void SetUp() override {
    LeafSpineParams params;
    params.leaves = 2;
    params.spines = 2;
    params.hosts_per_leaf = 1;
    params.host_link.rate = sim::DataRate::gbps(40);
    params.fabric_link = {sim::DataRate::gbps(10), sim::Micros(1), sim::Bytes{4 * 1024 * 1024}, {}};
    std::string error;
    ASSERT_TRUE(leaf_spine_graph(params, {"h0", "h1"}, graph, error)) << error;
    fabric = build_switched_fabric(graph, kernel, pool, error);
    ASSERT_NE(fabric, nullptr) << error;
    for (uint32_t h = 0; h < 2; ++h) {
      hosts.push_back(std::make_unique<TimingHost>(kernel, pool));
      fabric->attach_host(h, *hosts.back(), kernel.add_entity("host/" + std::to_string(h)));
      fabric->set_vm_host(h, h);
    }
  }
  std::size_t edge(const std::string& a, const std::string& b) const { return fabric->find_edge(a, b); }
  // `count` 1500-byte packets from h0 to VM 1, one every `gap`, from `start`, each its own flow.
  void send_burst(sim::Time start, sim::Time gap, int count, uint64_t first_flow) {
    for (int i = 0; i < count; ++i) {
      kernel.schedule_at(start + gap * i, sim::kWorld, [this, i, first_flow] {
        Packet* p = make_packet(pool, 1500, (first_flow + i) * 0x9E3779B97F4A7C15ULL, 1);
        p->sent_at = kernel.now();
        fabric->send_from_host(0, p);
      });
    }
  }
  uint64_t link_drops(std::size_t e, LinkDropReason reason) {
    return fabric->edge_link(e, 0).drops(reason) + fabric->edge_link(e, 1).drops(reason);
  }
};

TEST_F(LeafSpineFixture, LinkDownLosesOnlyWhatWasQueuedOnItAndEcmpUsesTheOtherSpine) {
  const std::size_t dead = edge("leaf-0", "spine-0");
  ASSERT_NE(dead, SIZE_MAX);
  EXPECT_EQ(edge("spine-0", "leaf-0"), dead);  // either order
  // 2000 packets over 600 us at 40 Gb/s into two 10 Gb/s spine links: queues build on both.
  send_burst(sim::Time::zero(), sim::Nanos(300), 2000, 0);
  const sim::Time failure = sim::Micros(200);
  kernel.schedule_at(failure, sim::kWorld, [&] {
    ASSERT_GT(fabric->edge_link(dead, 0).queue_size(kernel.now()), 100'000u);  // a real queue is lost
    fabric->set_edge_up(dead, false);
  });
  // Long after the reroute: another 2000 packets, all of which must arrive (over spine-1).
  send_burst(sim::Millis(5), sim::Micros(2), 2000, 5000);
  kernel.run_until(sim::Seconds(1));

  const uint64_t lost = link_drops(dead, LinkDropReason::kLinkDown);
  EXPECT_GT(lost, 50u);
  // Every packet sent once the link was down arrived: the 1333 of the first burst sent from
  // 200.1 us on (packet i leaves at 300 ns x i) and all of the second burst.
  uint64_t sent_after_failure = 0, second_burst = 0;
  for (const auto& a : hosts[1]->arrivals) {
    sent_after_failure += a.sent_ns >= failure.ns() && a.sent_ns < sim::Millis(5).ns();
    second_burst += a.sent_ns >= sim::Millis(5).ns();
  }
  EXPECT_EQ(sent_after_failure, 1333u);
  EXPECT_EQ(second_burst, 2000u);
  // Every packet is either delivered or lost on the dead link; nothing else dropped anywhere.
  EXPECT_EQ(hosts[1]->arrivals.size() + lost, 4000u);
  for (std::size_t l = 0; l < fabric->link_count(); ++l)
    EXPECT_EQ(fabric->link(l).drops(LinkDropReason::kQueueFull), 0u) << fabric->link(l).name();
  EXPECT_EQ(fabric->no_route_drops(), 0u);
  // Routes now avoid spine-0 from leaf-0.
  for (uint64_t flow = 0; flow < 100; ++flow)
    EXPECT_EQ(fabric->trace_route(0, 1, flow * 0x9E3779B97F4A7C15ULL).at(1), "leaf-0->spine-1");
}

TEST_F(LeafSpineFixture, LinkBackUpStartsWithAnEmptyQueueAndCarriesTrafficAgain) {
  const std::size_t e = edge("leaf-0", "spine-0");
  send_burst(sim::Time::zero(), sim::Nanos(300), 2000, 0);
  kernel.schedule_at(sim::Micros(200), sim::kWorld, [&] { fabric->set_edge_up(e, false); });
  kernel.schedule_at(sim::Micros(250), sim::kWorld, [&] {
    fabric->set_edge_up(e, true);
    EXPECT_EQ(fabric->edge_link(e, 0).queue_size(kernel.now()), 0u);
  });
  kernel.run_until(sim::Millis(5));
  EXPECT_GT(link_drops(e, LinkDropReason::kLinkDown), 0u);
  std::set<std::string> spines;
  for (uint64_t flow = 0; flow < 100; ++flow) spines.insert(fabric->trace_route(0, 1, flow * 0x9E3779B97F4A7C15ULL).at(1));
  EXPECT_EQ(spines.size(), 2u);
  const uint64_t before = fabric->edge_link(e, 0).sample(kernel.now()).packets;
  send_burst(sim::Millis(5), sim::Micros(2), 200, 9000);
  kernel.run_until(sim::Seconds(1));
  EXPECT_GT(fabric->edge_link(e, 0).sample(kernel.now()).packets, before);  // used again
  EXPECT_EQ(hosts[1]->arrivals.size() + link_drops(e, LinkDropReason::kLinkDown), 2200u);
}

TEST_F(LeafSpineFixture, SwitchFailureReroutesEverythingOverTheOtherSpine) {
  const std::size_t spine0 = fabric->find_switch("spine-0");
  fabric->set_switch_up(spine0, false);
  EXPECT_FALSE(fabric->switch_up(spine0));
  const std::vector<std::size_t> edges = fabric->switch_edges(spine0);
  ASSERT_EQ(edges.size(), 2u);
  for (std::size_t e : edges) EXPECT_FALSE(fabric->edge_up(e));
  std::set<std::string> via;
  for (uint64_t flow = 0; flow < 200; ++flow) {
    const auto path = fabric->trace_route(0, 1, flow * 0x9E3779B97F4A7C15ULL);
    ASSERT_EQ(path.size(), 4u);
    via.insert(path[1]);
  }
  EXPECT_EQ(via, (std::set<std::string>{"leaf-0->spine-1"}));
  send_burst(sim::Time::zero(), sim::Micros(2), 500, 0);
  kernel.run_until(sim::Seconds(1));
  EXPECT_EQ(hosts[1]->arrivals.size(), 500u);

  // A link taken down on its own stays down when the switch recovers.
  const std::size_t own = edge("leaf-1", "spine-0");
  fabric->set_edge_up(own, false);
  fabric->set_switch_up(spine0, true);
  EXPECT_TRUE(fabric->edge_up(edge("leaf-0", "spine-0")));
  EXPECT_FALSE(fabric->edge_up(own));
}

TEST_F(LeafSpineFixture, HostWithItsOnlyUplinkDownIsCutOff) {
  const std::size_t uplink = edge("h1", "leaf-1");
  fabric->set_edge_up(uplink, false);
  EXPECT_TRUE(fabric->trace_route(0, 1, 42).empty());
  send_burst(sim::Time::zero(), sim::Micros(1), 10, 0);
  kernel.run_until(sim::Seconds(1));
  EXPECT_TRUE(hosts[1]->arrivals.empty());
  EXPECT_EQ(fabric->no_route_drops(), 10u);  // leaf-0 has no route to h1
}

// One link with loss / corruption, fed far below its rate (no queueing).
struct LossyLink {
  explicit LossyLink(uint64_t seed) : kernel(seed), receiver(kernel, pool) {
    link = std::make_unique<Link>("a->b", LinkParams{}, kernel, pool);
    link->connect(receiver, kernel.add_entity("b"), 0);
  }
  // Sends `count` packets of `segments` segments, 2 us apart (a 1500-byte packet serializes in
  // 1.2 us at 10 Gb/s: no queue); returns the arrivals' flow hashes.
  std::vector<uint64_t> run(int count, uint32_t segments = 1) {
    for (int i = 0; i < count; ++i) {
      kernel.schedule_at(sim::Micros(2 * i), sim::kWorld, [this, i, segments] {
        Packet* p = make_packet(pool, 1500, static_cast<uint64_t>(i));
        p->segment_count = segments;
        link->send(p);
      });
    }
    kernel.run_until(sim::Seconds(10));
    std::vector<uint64_t> hashes;
    for (const auto& a : receiver.arrivals) hashes.push_back(a.flow_hash);
    return hashes;
  }
  sim::Kernel kernel;
  PacketPool pool;
  RecordingReceiver receiver;
  std::unique_ptr<Link> link;
};

TEST(LinkImpairment, LossRateIsAsSetAndDeterministicPerSeed) {
  constexpr int kPackets = 20000;
  LossyLink a(11), b(11), c(12);
  for (LossyLink* l : {&a, &b, &c}) l->link->set_impairment(0.1, 0);
  const auto got_a = a.run(kPackets), got_b = b.run(kPackets), got_c = c.run(kPackets);
  // 10% of 20000 = 2000 lost; 3 sigma = 3 * sqrt(20000 * 0.1 * 0.9) ~ 127.
  const uint64_t lost = a.link->drops(LinkDropReason::kLoss);
  EXPECT_NEAR(static_cast<double>(lost), 2000.0, 130.0);
  EXPECT_EQ(got_a.size() + lost, static_cast<std::size_t>(kPackets));
  EXPECT_EQ(a.link->drops(LinkDropReason::kCorrupted), 0u);
  EXPECT_EQ(got_a, got_b);  // same seed: the very same packets lost
  EXPECT_NE(got_a, got_c);  // another seed: others
}

TEST(LinkImpairment, CorruptionIsItsOwnReasonAndSuperPacketsLoseIfAnySegmentDoes) {
  LossyLink corrupt(3);
  corrupt.link->set_impairment(0, 0.2);
  const auto got = corrupt.run(10000);
  EXPECT_EQ(corrupt.link->drops(LinkDropReason::kLoss), 0u);
  EXPECT_NEAR(static_cast<double>(corrupt.link->drops(LinkDropReason::kCorrupted)), 2000.0, 130.0);
  EXPECT_EQ(got.size() + corrupt.link->drops(LinkDropReason::kCorrupted), 10000u);

  // 10 segments at 5% each: 1 - 0.95^10 = 40.1% of super-packets lost (3 sigma ~ 147 of 10000).
  LossyLink super(4);
  super.link->set_impairment(0.05, 0);
  super.run(10000, 10);
  EXPECT_NEAR(static_cast<double>(super.link->drops(LinkDropReason::kLoss)), 4013.0, 150.0);

  // Cleared: nothing lost any more.
  LossyLink cleared(5);
  cleared.link->set_impairment(0.5, 0.5);
  cleared.link->set_impairment(0, 0);
  EXPECT_EQ(cleared.run(1000).size(), 1000u);
}

// A real host (dfw inside) that goes down: packets to its VM are dropped as host_down.
TEST(HostDown, PacketsToItsVmsAreDroppedWithTheReason) {
  sim::Kernel kernel(1);
  PacketPool pool;
  VmTable vms;
  FabricGraph graph;
  std::string error;
  ASSERT_TRUE(star_graph(StarParams{}, {"h0", "h1"}, graph, error)) << error;
  auto fabric = build_switched_fabric(graph, kernel, pool, error);
  ASSERT_NE(fabric, nullptr) << error;
  CostModel cost;
  Host h1("h1", 1, HostParams{}, kernel, pool, vms, *fabric, cost);
  Vm vm;
  vm.name = "vm0";
  vm.mac = {0x02, 0, 0, 0, 0, 1};
  const VmIndex v = vms.add(vm);
  dfw::RuleSetSpec spec;
  spec.default_action = dfw::Action::kAllow;
  dfw::Status status;
  ASSERT_TRUE(h1.add_vm(v, dfw::compile_rules(spec, status)).is_ok());
  EXPECT_EQ(h1.local_vms(), std::vector<VmIndex>{v});

  auto send = [&] {
    Packet* p = make_packet(pool, 100, 1, v);
    std::copy(vm.mac.begin(), vm.mac.end(), p->header.begin());  // destination MAC: the VM's
    p->header_size = 14;
    fabric->send_from_host(0, p);
  };
  h1.set_down(true);
  for (int i = 0; i < 5; ++i) send();
  kernel.run_until(sim::Millis(1));
  EXPECT_EQ(h1.drops(HostDropReason::kHostDown), 5u);
  EXPECT_EQ(h1.sample(kernel.now()).packets_from_fabric, 0u);
  EXPECT_EQ(host_drop_reason_name(HostDropReason::kHostDown), "host_down");

  // Up again: packets reach the vSwitch (and go on to dfw), no more host_down.
  h1.set_down(false);
  send();
  kernel.run_until(sim::Millis(2));
  EXPECT_EQ(h1.drops(HostDropReason::kHostDown), 5u);
  EXPECT_EQ(h1.sample(kernel.now()).packets_from_fabric, 1u);
}

}  // namespace
}  // namespace models
