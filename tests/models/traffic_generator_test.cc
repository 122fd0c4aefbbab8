// Flow generator: patterns, load -> Poisson arrival rate, determinism of the whole flow table.
#include <gtest/gtest.h>

#include <map>
#include <memory>

#include "models/traffic/flow_generator.h"
#include "traffic_test_wire.h"

namespace models::traffic {
namespace {

using testing::TestWorld;

FlowSizeCdf uniform_sizes(double max_size) {
  FlowSizeCdf cdf;
  std::string error;
  EXPECT_TRUE(FlowSizeCdf::from_points({{0, 0}, {max_size, 1}}, cdf, error)) << error;
  return cdf;
}

// A world whose vNICs are slow (1 Mb/s) so that a load turns into a handful of flows per second.
std::unique_ptr<TestWorld> slow_world(uint64_t seed, std::size_t vms) {
  TransportParams params;
  params.udp.rate = sim::DataRate::gbps(10);
  auto w = std::make_unique<TestWorld>(seed, vms, sim::Micros(5), params);
  for (VmIndex v = 0; v < vms; ++v) w->vms[v].vnic_rate = sim::DataRate::bps(1'000'000);
  return w;
}

TEST(TrafficGenerator, PoissonArrivalRateMatchesTheLoad) {
  auto w = slow_world(11, 4);
  FlowGeneratorParams p;
  p.load = 0.5;
  p.protocol = TransportProtocol::kUdp;
  const FlowSizeCdf sizes = uniform_sizes(20000);  // mean 10 kB = 80 kbit
  std::string error;
  auto g = FlowGenerator::create(w->kernel, w->vms, w->stack_pointers(), sizes, p, error);
  ASSERT_TRUE(g) << error;
  // Each source offers 0.5 * 1 Mb/s = 500 kb/s: 6.25 flows/s.
  EXPECT_DOUBLE_EQ(g->offered_load_bps(), 4 * 500'000.0);
  EXPECT_DOUBLE_EQ(g->arrival_rate(2), 6.25);
  g->start();
  w->kernel.run_until(sim::Seconds(200));
  // 5000 expected flows; the Poisson standard deviation is ~71, so 4% is ~3 sigma.
  EXPECT_NEAR(static_cast<double>(w->records.size()), 5000.0, 200.0);
  std::map<VmIndex, int> per_source;
  double bytes = 0;
  for (std::size_t i = 0; i < w->records.size(); ++i) {
    ++per_source[w->records.source_vm[i]];
    EXPECT_NE(w->records.source_vm[i], w->records.destination_vm[i]);
    bytes += static_cast<double>(w->records.size_bytes[i]);
  }
  for (const auto& [vm, count] : per_source) EXPECT_NEAR(count, 1250, 125) << "source " << vm;
  // Offered payload over the run is load * capacity * time, within 5%.
  EXPECT_NEAR(bytes * 8, 2e6 * 200, 0.05 * 2e6 * 200);
}

TEST(TrafficGenerator, TiersSendOnlyToTheNextTier) {
  auto w = slow_world(12, 6);
  const char* roles[] = {"web", "web", "app", "app", "db", "db"};
  for (VmIndex v = 0; v < 6; ++v) w->vms[v].labels["role"] = roles[v];
  FlowGeneratorParams p;
  p.pattern = CommunicationPattern::kTiers;
  p.tiers = {"web", "app", "db"};
  p.protocol = TransportProtocol::kUdp;
  std::string error;
  auto g = FlowGenerator::create(w->kernel, w->vms, w->stack_pointers(), uniform_sizes(20000), p,
                                 error);
  ASSERT_TRUE(g) << error;
  EXPECT_EQ(g->source_count(), 4u);  // web and app send; db only receives
  g->start();
  w->kernel.run_until(sim::Seconds(100));
  ASSERT_GT(w->records.size(), 500u);
  std::map<std::pair<std::string, std::string>, int> pairs;
  for (std::size_t i = 0; i < w->records.size(); ++i)
    ++pairs[{roles[w->records.source_vm[i]], roles[w->records.destination_vm[i]]}];
  EXPECT_EQ(pairs.size(), 2u);
  EXPECT_GT((pairs[{"web", "app"}]), 0);
  EXPECT_GT((pairs[{"app", "db"}]), 0);
}

TEST(TrafficGenerator, MatrixWeightsSplitTheAggregateLoad) {
  auto w = slow_world(13, 3);
  FlowGeneratorParams p;
  p.pattern = CommunicationPattern::kMatrix;
  p.matrix = {{0, 3, 1}, {0, 0, 0}, {0, 0, 0}};  // only VM 0 sends, 3:1 to VMs 1 and 2
  p.load = 0.5;
  p.protocol = TransportProtocol::kUdp;
  std::string error;
  auto g = FlowGenerator::create(w->kernel, w->vms, w->stack_pointers(), uniform_sizes(20000), p,
                                 error);
  ASSERT_TRUE(g) << error;
  EXPECT_DOUBLE_EQ(g->offered_load_bps(), 500'000.0);  // load * the one source's vNIC
  g->start();
  w->kernel.run_until(sim::Seconds(400));
  int to1 = 0, to2 = 0;
  for (std::size_t i = 0; i < w->records.size(); ++i) {
    EXPECT_EQ(w->records.source_vm[i], 0u);
    (w->records.destination_vm[i] == 1 ? to1 : to2)++;
  }
  ASSERT_GT(to1 + to2, 2000);
  EXPECT_NEAR(static_cast<double>(to1) / (to1 + to2), 0.75, 0.03);
}

TEST(TrafficGenerator, HostLinkReferenceSharesTheLinkAmongAHostsSources) {
  auto w = slow_world(14, 3);
  w->vms[0].host = 0;
  w->vms[1].host = 0;
  w->vms[2].host = 1;
  FlowGeneratorParams p;
  p.load = 0.4;
  p.load_reference = LoadReference::kHostLink;
  p.host_link_rate = sim::DataRate::bps(2'000'000);
  std::string error;
  auto g = FlowGenerator::create(w->kernel, w->vms, w->stack_pointers(), uniform_sizes(20000), p,
                                 error);
  ASSERT_TRUE(g) << error;
  EXPECT_DOUBLE_EQ(g->offered_load_bps(), 0.4 * 2 * 2'000'000.0);  // two hosts
  EXPECT_DOUBLE_EQ(g->arrival_rate(0), 0.4 * 1'000'000.0 / 80'000.0);
  EXPECT_DOUBLE_EQ(g->arrival_rate(2), 0.4 * 2'000'000.0 / 80'000.0);
}

TEST(TrafficGenerator, BadParametersAreReportedByField) {
  auto w = slow_world(15, 3);
  const FlowSizeCdf sizes = uniform_sizes(1000);
  std::string error;
  FlowGeneratorParams p;
  p.name = "t1";
  p.load = 0;
  EXPECT_FALSE(FlowGenerator::create(w->kernel, w->vms, w->stack_pointers(), sizes, p, error));
  EXPECT_NE(error.find("traffic 't1': load"), std::string::npos) << error;
  p.load = 0.3;
  p.pattern = CommunicationPattern::kTiers;
  p.tiers = {"web", "app"};
  EXPECT_FALSE(FlowGenerator::create(w->kernel, w->vms, w->stack_pointers(), sizes, p, error));
  EXPECT_NE(error.find("tiers[0]: no VM has label role=web"), std::string::npos) << error;
  p.pattern = CommunicationPattern::kMatrix;
  p.matrix = {{0, 1}, {1, 0}};
  EXPECT_FALSE(FlowGenerator::create(w->kernel, w->vms, w->stack_pointers(), sizes, p, error));
  EXPECT_NE(error.find("matrix: expected 3 rows"), std::string::npos) << error;
  p.matrix = {{1, 0, 0}, {0, 0, 0}, {0, 0, 0}};
  EXPECT_FALSE(FlowGenerator::create(w->kernel, w->vms, w->stack_pointers(), sizes, p, error));
  EXPECT_NE(error.find("matrix[0][0]"), std::string::npos) << error;
  p.pattern = CommunicationPattern::kAllToAll;
  p.ipv6 = true;
  w->vms[1].has_ipv6 = false;
  EXPECT_FALSE(FlowGenerator::create(w->kernel, w->vms, w->stack_pointers(), sizes, p, error));
  EXPECT_NE(error.find("ipv6: VM vm1 has no IPv6 address"), std::string::npos) << error;
}

// A complete run: TCP flows over a lossy wire, many at once between four VMs.
struct RunResult {
  FlowRecords records;
  uint64_t packets = 0;
};

RunResult run_tcp_mix(uint64_t seed) {
  TransportParams params;
  params.tcp.min_rto = sim::Millis(1);
  TestWorld w(seed, 4, sim::Micros(20), params);
  for (VmIndex v = 0; v < 4; ++v) w.vms[v].vnic_rate = sim::DataRate::gbps(1);
  sim::Rng loss(seed ^ 0xABCDEF);
  w.wire.set_drop_rule([&](const Packet&, const ParsedFrame&) { return loss.uniform() < 0.02; });
  FlowSizeCdf sizes;
  std::string error;
  EXPECT_TRUE(FlowSizeCdf::load(std::string(SEGSIM_SHARED_DATA_DIR) +
                                    "/flow-size-cdfs/hpcc_AliStorage2019.txt",
                                sizes, error))
      << error;
  FlowGeneratorParams p;
  p.load = 0.2;
  p.stop = sim::Millis(200);
  auto g = FlowGenerator::create(w.kernel, w.vms, w.stack_pointers(), sizes, p, error);
  EXPECT_TRUE(g) << error;
  g->start();
  // Long enough for a SYN lost three times (1 + 2 + 4 s of backoff) to get through.
  w.kernel.run_until(sim::Seconds(10));
  RunResult r;
  r.records = w.records;
  r.packets = w.wire.log().size();
  EXPECT_EQ(w.wire.checksum_errors(), 0u);
  for (auto& s : w.stacks) EXPECT_EQ(s->live_tcp_connection_count(), 0u);
  EXPECT_EQ(w.pool.live_count(), 0u);
  return r;
}

TEST(TrafficGenerator, SameSeedGivesAnIdenticalFlowTable) {
  const RunResult a = run_tcp_mix(21);
  const RunResult b = run_tcp_mix(21);
  const RunResult c = run_tcp_mix(22);
  ASSERT_GT(a.records.size(), 300u);
  EXPECT_EQ(a.packets, b.packets);
  EXPECT_EQ(a.records.flow_id, b.records.flow_id);
  EXPECT_EQ(a.records.source_vm, b.records.source_vm);
  EXPECT_EQ(a.records.destination_vm, b.records.destination_vm);
  EXPECT_EQ(a.records.source_port, b.records.source_port);
  EXPECT_EQ(a.records.size_bytes, b.records.size_bytes);
  EXPECT_EQ(a.records.start_ns, b.records.start_ns);
  EXPECT_EQ(a.records.end_ns, b.records.end_ns);
  EXPECT_EQ(a.records.bytes_sent, b.records.bytes_sent);
  EXPECT_EQ(a.records.bytes_received, b.records.bytes_received);
  EXPECT_EQ(a.records.packets_sent, b.records.packets_sent);
  EXPECT_EQ(a.records.retransmissions, b.records.retransmissions);
  EXPECT_EQ(a.records.outcome, b.records.outcome);
  EXPECT_NE(a.records.start_ns, c.records.start_ns);
  // Every flow of the lossy run finished, carried all its bytes, and some needed retransmissions.
  uint64_t retransmissions = 0;
  for (std::size_t i = 0; i < a.records.size(); ++i) {
    EXPECT_EQ(a.records.outcome[i], FlowOutcome::kCompleted) << i;
    EXPECT_EQ(a.records.bytes_received[i], a.records.size_bytes[i]) << i;
    retransmissions += a.records.retransmissions[i];
  }
  EXPECT_GT(retransmissions, 0u);
}

}  // namespace
}  // namespace models::traffic
