#include <gtest/gtest.h>

#include <map>
#include <set>

#include "models/switched_fabric.h"
#include "net_test_util.h"

namespace models {
namespace {

using testing::make_packet;

std::vector<std::string> host_names(uint32_t n) {
  std::vector<std::string> names;
  for (uint32_t i = 0; i < n; ++i) names.push_back("h" + std::to_string(i));
  return names;
}

// A host's NIC as the fabric sees it: records arrivals.
class RecordingHost final : public HostPort {
 public:
  RecordingHost(sim::Kernel& kernel, PacketPool& pool) : kernel_(kernel), pool_(pool) {}
  void receive_from_fabric(Packet* packet, uint32_t uplink) override {
    arrivals.push_back({kernel_.now().ns(), packet->destination_vm, uplink});
    pool_.release(packet);
  }
  struct Arrival {
    int64_t time_ns;
    VmIndex vm;
    uint32_t uplink;
  };
  std::vector<Arrival> arrivals;

 private:
  sim::Kernel& kernel_;
  PacketPool& pool_;
};

struct FabricFixture : ::testing::Test {
  sim::Kernel kernel{1};
  PacketPool pool;
  std::unique_ptr<SwitchedFabric> fabric;
  std::vector<std::unique_ptr<RecordingHost>> hosts;

  void build(const FabricGraph& graph) {
    std::string error;
    fabric = build_switched_fabric(graph, kernel, pool, error);
    ASSERT_NE(fabric, nullptr) << error;
    for (uint32_t h = 0; h < fabric->host_count(); ++h) {
      hosts.push_back(std::make_unique<RecordingHost>(kernel, pool));
      fabric->attach_host(h, *hosts.back(), kernel.add_entity("host/" + std::to_string(h)));
      fabric->set_vm_host(h, h);  // VM h runs on host h
    }
  }
  void build_leaf_spine(const LeafSpineParams& params) {
    FabricGraph graph;
    std::string error;
    ASSERT_TRUE(leaf_spine_graph(params, host_names(params.leaves * params.hosts_per_leaf), graph,
                                 error))
        << error;
    build(graph);
  }
};

TEST_F(FabricFixture, LeafSpineHasTheRightSwitchesAndLinks) {
  LeafSpineParams params;
  params.leaves = 4;
  params.spines = 2;
  params.hosts_per_leaf = 8;
  build_leaf_spine(params);
  EXPECT_EQ(fabric->switch_count(), 6u);
  EXPECT_EQ(fabric->host_count(), 32u);
  EXPECT_EQ(fabric->link_count(), 2u * (4 * 2 + 32));  // both directions of every edge
  EXPECT_NE(fabric->find_switch("spine-1"), SIZE_MAX);
  EXPECT_NE(fabric->find_switch("leaf-3"), SIZE_MAX);
  EXPECT_DOUBLE_EQ(params.oversubscription(), 8.0 * 10 / (2 * 40));
}

TEST_F(FabricFixture, LeafSpineRoutesEveryHostPairOnShortestPaths) {
  LeafSpineParams params;
  params.leaves = 4;
  params.spines = 2;
  params.hosts_per_leaf = 3;
  params.uplinks_per_host = 2;  // dual-homed: leaf pairs 0-1 and 2-3
  build_leaf_spine(params);
  EXPECT_EQ(fabric->link_count(), 2u * (4 * 2 + 12 * 2));
  for (uint32_t src = 0; src < 12; ++src) {
    ASSERT_EQ(fabric->uplinks(src).size(), 2u);
    // One uplink to the host's leaf, one to its partner leaf (xor 1).
    const uint32_t leaf = src / 3;
    EXPECT_EQ(fabric->uplinks(src)[0]->name(), "h" + std::to_string(src) + "->leaf-" + std::to_string(leaf));
    EXPECT_EQ(fabric->uplinks(src)[1]->name(), "h" + std::to_string(src) + "->leaf-" + std::to_string(leaf ^ 1));
    for (uint32_t dst = 0; dst < 12; ++dst) {
      if (src == dst) continue;
      const auto path = fabric->trace_route(src, dst, src * 131 + dst);
      ASSERT_FALSE(path.empty()) << src << " -> " << dst;
      // Hosts of one leaf pair share both leaves: one switch between them.
      const bool same_pair = src / 6 == dst / 6;
      EXPECT_EQ(path.size(), same_pair ? 2u : 4u) << src << " -> " << dst;
      const std::string last = path.back();
      EXPECT_EQ(last.substr(last.find("->") + 2, std::string("h" + std::to_string(dst)).size()),
                "h" + std::to_string(dst));
    }
  }
  LeafSpineParams odd = params;
  odd.leaves = 3;
  FabricGraph graph;
  std::string error;
  EXPECT_FALSE(leaf_spine_graph(odd, host_names(9), graph, error));
  EXPECT_NE(error.find("number of leaves must be even, got 3"), std::string::npos) << error;
}

TEST_F(FabricFixture, EcmpSpreadsFlowsOverSpinesAndKeepsEachFlowOnOnePath) {
  LeafSpineParams params;
  params.leaves = 2;
  params.spines = 4;
  params.hosts_per_leaf = 1;
  build_leaf_spine(params);
  std::map<std::string, int> by_spine_link;
  for (uint64_t flow = 0; flow < 4000; ++flow) {
    const uint64_t hash = flow * 0xD6E8FEB86659FD93ULL;
    const auto path = fabric->trace_route(0, 1, hash);
    ASSERT_EQ(path.size(), 4u);
    EXPECT_EQ(path, fabric->trace_route(0, 1, hash));
    ++by_spine_link[path[1]];
  }
  ASSERT_EQ(by_spine_link.size(), 4u);
  for (const auto& [link, n] : by_spine_link) {
    EXPECT_GT(n, 850) << link;
    EXPECT_LT(n, 1150) << link;
  }
  // Sent for real, one flow's packets all cross the same spine.
  for (int i = 0; i < 20; ++i) fabric->send_from_host(0, make_packet(pool, 1500, 777, 1));
  kernel.run_until(sim::Seconds(1));
  EXPECT_EQ(hosts[1]->arrivals.size(), 20u);
  int spines_used = 0;
  for (std::size_t i = 0; i < fabric->link_count(); ++i) {
    const Link& link = fabric->link(i);
    if (link.name().rfind("leaf-0->spine", 0) == 0 && fabric->link(i).sample(kernel.now()).packets > 0)
      ++spines_used;
  }
  EXPECT_EQ(spines_used, 1);
}

TEST_F(FabricFixture, DeliveryTimeAddsEveryHopsSerializationAndDelay) {
  LeafSpineParams params;  // 10 Gb/s host links, 40 Gb/s fabric links, 1 us each
  params.leaves = 2;
  params.spines = 1;
  params.hosts_per_leaf = 1;
  build_leaf_spine(params);
  fabric->send_from_host(0, make_packet(pool, 1500, 1, 1));
  kernel.run_until(sim::Seconds(1));
  ASSERT_EQ(hosts[1]->arrivals.size(), 1u);
  EXPECT_EQ(hosts[1]->arrivals[0].time_ns, (1200 + 1000) + (300 + 1000) * 2 + (1200 + 1000));
  EXPECT_EQ(pool.live_count(), 0u);
}

TEST_F(FabricFixture, MoveVmRedirectsTraffic) {
  StarParams params;
  FabricGraph graph;
  std::string error;
  ASSERT_TRUE(star_graph(params, host_names(3), graph, error));
  build(graph);
  EXPECT_EQ(fabric->switch_count(), 1u);
  fabric->send_from_host(0, make_packet(pool, 100, 1, 1));
  // The switch decides when the packet reaches it: move the VM only after that.
  kernel.run_until(sim::Micros(10));
  fabric->move_vm(1, 2);
  fabric->send_from_host(0, make_packet(pool, 100, 1, 1));
  kernel.run_until(sim::Seconds(1));
  EXPECT_EQ(hosts[1]->arrivals.size(), 1u);
  EXPECT_EQ(hosts[2]->arrivals.size(), 1u);
}

TEST_F(FabricFixture, RoutesAroundADownEdgeAndBondsFailOver) {
  LeafSpineParams params;
  params.leaves = 4;  // h0 on leaves 0+1, h1 on 1+0, h2 on 2+3, h3 on 3+2
  params.spines = 2;
  params.hosts_per_leaf = 1;
  params.uplinks_per_host = 2;
  FabricGraph graph;
  std::string error;
  ASSERT_TRUE(leaf_spine_graph(params, host_names(4), graph, error)) << error;
  build(graph);
  auto edge_of = [&](const std::string& a, const std::string& b) {
    for (std::size_t e = 0; e < graph.edges.size(); ++e)
      if (graph.edges[e].a == a && graph.edges[e].b == b) return e;
    return SIZE_MAX;
  };
  auto paths = [&](uint32_t src, uint32_t dst) {
    std::vector<std::vector<std::string>> out;
    for (uint64_t flow = 0; flow < 400; ++flow) out.push_back(fabric->trace_route(src, dst, flow * 0x9E3779B97F4A7C15ULL));
    return out;
  };
  fabric->set_edge_up(edge_of("leaf-0", "spine-0"), false);
  std::set<std::string> via_leaf0, via_leaf1, uplinks_used, last_hops;
  for (const auto& path : paths(0, 2)) {
    ASSERT_EQ(path.size(), 4u);
    uplinks_used.insert(path[0]);
    (path[0] == "h0->leaf-0" ? via_leaf0 : via_leaf1).insert(path[1]);
    last_hops.insert(path[3]);
  }
  EXPECT_EQ(uplinks_used, (std::set<std::string>{"h0->leaf-0", "h0->leaf-1"}));  // active/active
  EXPECT_EQ(via_leaf0, (std::set<std::string>{"leaf-0->spine-1"}));
  EXPECT_EQ(via_leaf1, (std::set<std::string>{"leaf-1->spine-0", "leaf-1->spine-1"}));
  EXPECT_EQ(last_hops, (std::set<std::string>{"leaf-2->h2", "leaf-3->h2"}));  // spines use both leaves

  // One bond member down: every flow leaves on the other; arriving traffic takes the other leaf.
  fabric->set_edge_up(edge_of("h0", "leaf-0"), false);
  uplinks_used.clear();
  for (const auto& path : paths(0, 2)) uplinks_used.insert(path.at(0));
  EXPECT_EQ(uplinks_used, (std::set<std::string>{"h0->leaf-1"}));
  last_hops.clear();
  for (const auto& path : paths(2, 0)) last_hops.insert(path.at(path.size() - 1));
  EXPECT_EQ(last_hops, (std::set<std::string>{"leaf-1->h0"}));
  // A whole leaf down: its dual-homed hosts stay reachable through the partner.
  fabric->set_edge_up(edge_of("h0", "leaf-0"), true);
  fabric->set_switch_up(fabric->find_switch("leaf-0"), false);
  for (const auto& path : paths(2, 0)) EXPECT_EQ(path.at(path.size() - 1), "leaf-1->h0");
  fabric->set_switch_up(fabric->find_switch("leaf-0"), true);

  // Back up: both spines again.
  fabric->set_edge_up(edge_of("leaf-0", "spine-0"), true);
  std::set<std::string> spines_used;
  for (const auto& path : paths(0, 2))
    if (path.at(0) == "h0->leaf-0") spines_used.insert(path.at(1));
  EXPECT_EQ(spines_used.size(), 2u);
  fabric->send_from_host(0, make_packet(pool, 1500, 3, 2));
  kernel.run_until(sim::Seconds(1));
  EXPECT_EQ(hosts[2]->arrivals.size(), 1u);
}

// topology.fabric.routing.reconvergence_delay: during the delay leaf-0 still hashes flows onto
// its dead spine-0 link and drops them (stale_route); from the delay on, every flow gets through.
TEST_F(FabricFixture, RoutesFollowALinkFailureOnlyAfterTheReconvergenceDelay) {
  LeafSpineParams params;  // 10 Gb/s host links, 1 us; 1500 B serialize in 1.2 us
  params.leaves = 2;
  params.spines = 2;
  params.hosts_per_leaf = 2;  // h0, h1 on leaf-0; h2, h3 on leaf-1
  FabricGraph graph;
  std::string error;
  ASSERT_TRUE(leaf_spine_graph(params, host_names(4), graph, error)) << error;
  build(graph);
  const sim::Time delay = sim::Millis(1);
  fabric->set_reconvergence_delay(delay);
  std::size_t edge = SIZE_MAX;
  for (std::size_t e = 0; e < graph.edges.size(); ++e)
    if (graph.edges[e].a == "leaf-0" && graph.edges[e].b == "spine-0") edge = e;
  ASSERT_NE(edge, SIZE_MAX);
  // Which of 200 flows leaf-0 hashes onto spine-0 (before the failure: the independent oracle;
  // leaf-0's choice depends on the flow hash only, not on the sending host).
  constexpr int kFlows = 200;
  auto hash = [](int f) { return static_cast<uint64_t>(f + 1) * 0x9E3779B97F4A7C15ULL; };
  int over_spine0 = 0;
  for (int f = 0; f < kFlows; ++f)
    if (fabric->trace_route(0, 2, hash(f)).at(1) == "leaf-0->spine-0") ++over_spine0;
  ASSERT_GT(over_spine0, 50);
  ASSERT_LT(over_spine0, 150);

  fabric->set_edge_up(edge, false);  // at t = 0
  // Arrival at leaf-0 of the k-th (from 1) back-to-back packet = start + k * 1.2 us + 1 us.
  const int64_t serialize = 1200, propagate = 1000;
  // Batch A from h0: its last packet reaches leaf-0 10 ns before the delay ends.
  const int64_t a_start = delay.ns() - 10 - propagate - kFlows * serialize;
  // Batch B from h1: its first packet reaches leaf-0 10 ns after.
  const int64_t b_start = delay.ns() + 10 - propagate - serialize;
  kernel.schedule_at(sim::Nanos(a_start), sim::kWorld, [&] {
    for (int f = 0; f < kFlows; ++f) fabric->send_from_host(0, make_packet(pool, 1500, hash(f), 2));
  });
  kernel.schedule_at(sim::Nanos(b_start), sim::kWorld, [&] {
    for (int f = 0; f < kFlows; ++f) fabric->send_from_host(1, make_packet(pool, 1500, hash(f), 2));
  });
  kernel.run_until(sim::Nanos(delay.ns() - 5));
  // Still the old table: A's spine-0 flows died at leaf-0.
  EXPECT_EQ(fabric->stale_route_drops(), static_cast<uint64_t>(over_spine0));
  kernel.run_until(sim::Seconds(1));
  // B found the converged table: no more drops, all of it arrived.
  EXPECT_EQ(fabric->stale_route_drops(), static_cast<uint64_t>(over_spine0));
  EXPECT_EQ(hosts[2]->arrivals.size(), static_cast<std::size_t>(2 * kFlows - over_spine0));
  for (int f = 0; f < kFlows; ++f) EXPECT_EQ(fabric->trace_route(1, 2, hash(f)).at(1), "leaf-0->spine-1");
  EXPECT_EQ(pool.live_count(), 0u);
}

TEST_F(FabricFixture, GraphRoutesOnShortestPathsOnly) {
  // h0 - a - b - h1 (two hops between switches) and a - c - d - b (a longer detour).
  FabricGraph graph;
  graph.switch_names = {"a", "b", "c", "d"};
  graph.host_names = {"h0", "h1"};
  graph.edges = {{"h0", "a", {}}, {"a", "b", {}}, {"b", "h1", {}},
                 {"a", "c", {}},  {"c", "d", {}}, {"d", "b", {}}};
  build(graph);
  for (uint64_t flow = 0; flow < 100; ++flow)
    EXPECT_EQ(fabric->trace_route(0, 1, flow), (std::vector<std::string>{"h0->a", "a->b", "b->h1"}));
}

TEST(FabricBuilder, RejectsBadGraphsWithAClearMessage) {
  sim::Kernel kernel{1};
  PacketPool pool;
  std::string error;
  FabricGraph unknown;
  unknown.switch_names = {"s"};
  unknown.host_names = {"h0", "h1"};
  unknown.edges = {{"h0", "s", {}}, {"h1", "t", {}}};
  EXPECT_EQ(build_switched_fabric(unknown, kernel, pool, error), nullptr);
  EXPECT_NE(error.find("fabric.links[1]: unknown node 't'"), std::string::npos) << error;

  FabricGraph split;
  split.switch_names = {"s1", "s2"};
  split.host_names = {"h0", "h1"};
  split.edges = {{"h0", "s1", {}}, {"h1", "s2", {}}};
  EXPECT_EQ(build_switched_fabric(split, kernel, pool, error), nullptr);
  EXPECT_NE(error.find("no path"), std::string::npos) << error;

  FabricGraph host_to_host;
  host_to_host.host_names = {"h0", "h1"};
  host_to_host.edges = {{"h0", "h1", {}}};
  EXPECT_EQ(build_switched_fabric(host_to_host, kernel, pool, error), nullptr);
  EXPECT_NE(error.find("hosts never forward"), std::string::npos) << error;

  FabricGraph leaf_spine;
  LeafSpineParams params;
  params.uplinks_per_host = 3;
  EXPECT_FALSE(leaf_spine_graph(params, host_names(4), leaf_spine, error));
  EXPECT_NE(error.find("uplinks_per_host"), std::string::npos);
  params.uplinks_per_host = 1;
  EXPECT_FALSE(leaf_spine_graph(params, host_names(5), leaf_spine, error));
  EXPECT_NE(error.find("needs 4 hosts, got 5"), std::string::npos) << error;
}

}  // namespace
}  // namespace models
