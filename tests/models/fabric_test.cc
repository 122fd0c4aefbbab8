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
  params.leaves = 3;
  params.spines = 2;
  params.hosts_per_leaf = 3;
  params.uplinks_per_host = 2;
  build_leaf_spine(params);
  EXPECT_EQ(fabric->link_count(), 2u * (3 * 2 + 9 * 2));
  for (uint32_t src = 0; src < 9; ++src) {
    EXPECT_EQ(fabric->uplinks(src).size(), 2u);
    for (uint32_t dst = 0; dst < 9; ++dst) {
      if (src == dst) continue;
      const auto path = fabric->trace_route(src, dst, src * 131 + dst);
      ASSERT_FALSE(path.empty()) << src << " -> " << dst;
      const bool same_leaf = src / 3 == dst / 3;
      EXPECT_EQ(path.size(), same_leaf ? 2u : 4u) << src << " -> " << dst;
      const std::string last = path.back();
      EXPECT_EQ(last.substr(last.find("->") + 2, std::string("h" + std::to_string(dst)).size()),
                "h" + std::to_string(dst));
    }
  }
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
  params.leaves = 2;
  params.spines = 2;
  params.hosts_per_leaf = 1;
  params.uplinks_per_host = 2;
  FabricGraph graph;
  std::string error;
  ASSERT_TRUE(leaf_spine_graph(params, host_names(2), graph, error)) << error;
  build(graph);
  auto edge_of = [&](const std::string& a, const std::string& b) {
    for (std::size_t e = 0; e < graph.edges.size(); ++e)
      if (graph.edges[e].a == a && graph.edges[e].b == b) return e;
    return SIZE_MAX;
  };
  fabric->set_edge_up(edge_of("leaf-0", "spine-0"), false);
  std::set<std::string> spines_used, uplinks_used;
  for (uint64_t flow = 0; flow < 200; ++flow) {
    const auto path = fabric->trace_route(0, 1, flow * 0x9E3779B97F4A7C15ULL);
    ASSERT_EQ(path.size(), 4u);
    uplinks_used.insert(path[0]);
    spines_used.insert(path[1]);
  }
  EXPECT_EQ(spines_used, (std::set<std::string>{"leaf-0->spine-1"}));
  EXPECT_EQ(uplinks_used.size(), 2u);  // both bond members still carry flows

  // One bond member down: every flow uses the other.
  const std::size_t first_uplink = edge_of("h0", "leaf-0");
  fabric->set_edge_up(first_uplink, false);
  uplinks_used.clear();
  for (uint64_t flow = 0; flow < 200; ++flow)
    uplinks_used.insert(fabric->trace_route(0, 1, flow * 0x9E3779B97F4A7C15ULL).at(0));
  EXPECT_EQ(uplinks_used, (std::set<std::string>{"h0->leaf-0#1"}));

  // Back up: both spines again.
  fabric->set_edge_up(edge_of("leaf-0", "spine-0"), true);
  spines_used.clear();
  for (uint64_t flow = 0; flow < 200; ++flow)
    spines_used.insert(fabric->trace_route(0, 1, flow * 0x9E3779B97F4A7C15ULL).at(1));
  EXPECT_EQ(spines_used.size(), 2u);
  fabric->send_from_host(0, make_packet(pool, 1500, 3, 1));
  kernel.run_until(sim::Seconds(1));
  EXPECT_EQ(hosts[1]->arrivals.size(), 1u);
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
