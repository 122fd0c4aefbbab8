#include "models/host.h"

#include <gtest/gtest.h>

#include <memory>
#include <vector>

#include "dfw/rules.h"
#include "models/switched_fabric.h"

namespace models {
namespace {

// A minimal Ethernet + IPv4 + UDP frame (real bytes, valid IPv4 checksum), built here so the host
// tests depend on nothing but the host and dfw.
void build_udp(Packet& p, const Vm& from, const Vm& to, uint16_t source_port,
               uint16_t destination_port, uint32_t payload_size) {
  uint8_t* h = p.header.data();
  std::copy(to.mac.begin(), to.mac.end(), h);
  std::copy(from.mac.begin(), from.mac.end(), h + 6);
  h[12] = 0x08;
  h[13] = 0x00;
  uint8_t* ip = h + 14;
  const uint16_t total = static_cast<uint16_t>(20 + 8 + payload_size);
  const uint8_t ip_header[20] = {0x45, 0, static_cast<uint8_t>(total >> 8),
                                 static_cast<uint8_t>(total), 0, 0, 0x40, 0, 64, 17, 0, 0,
                                 static_cast<uint8_t>(from.ipv4 >> 24),
                                 static_cast<uint8_t>(from.ipv4 >> 16),
                                 static_cast<uint8_t>(from.ipv4 >> 8), static_cast<uint8_t>(from.ipv4),
                                 static_cast<uint8_t>(to.ipv4 >> 24), static_cast<uint8_t>(to.ipv4 >> 16),
                                 static_cast<uint8_t>(to.ipv4 >> 8), static_cast<uint8_t>(to.ipv4)};
  std::copy(ip_header, ip_header + 20, ip);
  uint32_t sum = 0;
  for (int i = 0; i < 20; i += 2) sum += (ip[i] << 8) | ip[i + 1];
  while (sum >> 16) sum = (sum & 0xFFFF) + (sum >> 16);
  const uint16_t checksum = static_cast<uint16_t>(~sum);
  ip[10] = static_cast<uint8_t>(checksum >> 8);
  ip[11] = static_cast<uint8_t>(checksum);
  uint8_t* udp = ip + 20;
  const uint16_t udp_length = static_cast<uint16_t>(8 + payload_size);
  const uint8_t udp_header[8] = {static_cast<uint8_t>(source_port >> 8), static_cast<uint8_t>(source_port),
                                 static_cast<uint8_t>(destination_port >> 8),
                                 static_cast<uint8_t>(destination_port),
                                 static_cast<uint8_t>(udp_length >> 8), static_cast<uint8_t>(udp_length),
                                 0, 0};
  std::copy(udp_header, udp_header + 8, udp);
  p.header_size = 14 + 20 + 8;
  p.payload_size = payload_size;
  p.wire_size = std::max<uint32_t>(14 + 20 + 8 + payload_size, 60);
  p.segment_count = 1;
  p.flow_hash = (uint64_t{from.ipv4} << 32 | to.ipv4) * 0x9E3779B97F4A7C15ULL ^
                (uint64_t{source_port} << 16 | destination_port);
}

class RecordingStack final : public PacketReceiver {
 public:
  RecordingStack(sim::Kernel& kernel, PacketPool& pool) : kernel_(kernel), pool_(pool) {}
  void receive(Packet* packet) override {
    arrivals.push_back({kernel_.now().ns(), packet->source_vm, packet->header[23]});
    pool_.release(packet);
  }
  struct Arrival {
    int64_t time_ns;
    VmIndex from;
    uint8_t ip_protocol;
  };
  std::vector<Arrival> arrivals;

 private:
  sim::Kernel& kernel_;
  PacketPool& pool_;
};

dfw::RuleTablePtr compile(const dfw::RuleSetSpec& spec) {
  dfw::Status status;
  dfw::RuleTablePtr table = dfw::compile_rules(spec, status);
  EXPECT_TRUE(status.is_ok()) << status.message();
  return table;
}

dfw::RuleTablePtr allow_all() {
  dfw::RuleSetSpec spec;
  spec.default_action = dfw::Action::kAllow;
  return compile(spec);
}

// Drops (or rejects) UDP to `port` in `direction`, allows everything else.
dfw::RuleTablePtr deny_udp_port(uint16_t port, dfw::RuleDirection direction,
                                dfw::Action action = dfw::Action::kDrop) {
  dfw::RuleSetSpec spec;
  spec.default_action = dfw::Action::kAllow;
  dfw::RuleSpec rule;
  rule.id = 7;
  rule.protocol = dfw::kProtoUdp;
  rule.destination_ports = {port, port};
  rule.direction = direction;
  rule.action = action;
  spec.sections.push_back({"deny", {rule}});
  return compile(spec);
}

struct HostFixture : ::testing::Test {
  sim::Kernel kernel{1};
  PacketPool pool;
  VmTable vms;
  std::unique_ptr<SwitchedFabric> fabric;
  CostModel cost;
  std::vector<std::unique_ptr<Host>> hosts;
  std::vector<std::unique_ptr<RecordingStack>> stacks;

  // Two hosts on one switch (10 Gb/s, 1 us links); cost: `base` cycles per dfw check at 1 GHz.
  void build(double base, HostParams params = {}) {
    CostCoefficients c;
    c.base = base;
    cost = CostModel(c);
    FabricGraph graph;
    std::string error;
    ASSERT_TRUE(star_graph(StarParams{}, {"h0", "h1"}, graph, error)) << error;
    fabric = build_switched_fabric(graph, kernel, pool, error);
    ASSERT_NE(fabric, nullptr) << error;
    params.clock_hz = 1'000'000'000;
    for (uint32_t h = 0; h < 2; ++h)
      hosts.push_back(std::make_unique<Host>("h" + std::to_string(h), h, params, kernel, pool, vms,
                                             *fabric, cost));
  }
  VmIndex add_vm(uint32_t host, dfw::RuleTablePtr rules,
                 sim::DataRate vnic_rate = sim::DataRate::gbps(10)) {
    Vm vm;
    const auto n = static_cast<uint8_t>(vms.size() + 1);
    vm.name = "vm" + std::to_string(n - 1);
    vm.mac = {0x02, 0, 0, 0, 0, n};
    vm.ipv4 = (10u << 24) | n;
    vm.vnic_rate = vnic_rate;
    const VmIndex index = vms.add(vm);
    stacks.push_back(std::make_unique<RecordingStack>(kernel, pool));
    vms[index].receiver = stacks.back().get();
    const dfw::Status status = hosts[host]->add_vm(index, std::move(rules));
    EXPECT_TRUE(status.is_ok()) << status.message();
    return index;
  }
  // VM `from` sends a UDP packet of `payload` bytes to `to` at time `at`.
  void send_at(sim::Time at, VmIndex from, VmIndex to, uint16_t source_port,
               uint16_t destination_port, uint32_t payload = 58) {
    kernel.schedule_at(at, sim::kWorld, [=, this] {
      Packet* p = pool.allocate();
      build_udp(*p, vms[from], vms[to], source_port, destination_port, payload);
      p->source_vm = from;
      p->destination_vm = to;
      p->sent_at = kernel.now();
      p->ecn_marked = false;
      vms[from].transmitter->transmit(p);
    });
  }
  std::size_t dfw_drops(uint32_t host, dfw::DropReason reason) {
    return hosts[host]->sample(kernel.now()).dfw_drops[static_cast<std::size_t>(reason)];
  }
};

TEST_F(HostFixture, AllowedFlowIsDeliveredBothWaysWithExactLatency) {
  build(1000);  // 1000 cycles at 1 GHz: 1 us per dfw check
  const VmIndex a = add_vm(0, allow_all());
  const VmIndex b = add_vm(1, allow_all());
  send_at(sim::Time::zero(), a, b, 5000, 53, 58);  // 100-byte frame
  send_at(sim::Millis(1), b, a, 53, 5000, 58);     // the reply
  kernel.run_until(sim::Seconds(1));
  ASSERT_EQ(stacks[b]->arrivals.size(), 1u);
  ASSERT_EQ(stacks[a]->arrivals.size(), 1u);
  // vNIC 80 ns + egress core 1000 ns + two 10 Gb/s hops (80 + 1000 each) + ingress core 1000 ns.
  const int64_t one_way = 80 + 1000 + 2 * (80 + 1000) + 1000;
  EXPECT_EQ(stacks[b]->arrivals[0].time_ns, one_way);
  EXPECT_EQ(stacks[a]->arrivals[0].time_ns, 1'000'000 + one_way);
  EXPECT_EQ(hosts[1]->latency().count(), 1u);
  EXPECT_EQ(hosts[1]->latency().percentile(0.5), static_cast<uint64_t>(one_way));
  const HostSample s0 = hosts[0]->sample(kernel.now());
  EXPECT_EQ(s0.packets_from_vms, 1u);
  EXPECT_EQ(s0.packets_to_fabric, 1u);
  EXPECT_EQ(s0.packets_from_fabric, 1u);
  EXPECT_EQ(s0.packets_delivered, 1u);
  EXPECT_EQ(s0.total_drops(), 0u);
  EXPECT_EQ(s0.live_connections, 1u);  // each host tracks the flow at its own port
  EXPECT_EQ(s0.cores.size(), 4u);
  uint64_t cycles = 0;
  for (const CoreSample& c : s0.cores) cycles += c.busy_cycles;
  EXPECT_EQ(cycles, 2000u);  // egress of the request, ingress of the reply
  EXPECT_EQ(pool.live_count(), 0u);
}

TEST_F(HostFixture, DenyRuleDropsAtTheSourceHostEgress) {
  build(1000);
  const VmIndex a = add_vm(0, deny_udp_port(9999, dfw::RuleDirection::kOut));
  const VmIndex b = add_vm(1, allow_all());
  send_at(sim::Time::zero(), a, b, 5000, 9999);
  send_at(sim::Time::zero(), a, b, 5000, 80);  // another port: allowed
  kernel.run_until(sim::Seconds(1));
  EXPECT_EQ(dfw_drops(0, dfw::DropReason::kRuleDrop), 1u);
  EXPECT_EQ(hosts[0]->sample(kernel.now()).packets_to_fabric, 1u);
  EXPECT_EQ(hosts[1]->sample(kernel.now()).packets_from_fabric, 1u);
  EXPECT_EQ(stacks[b]->arrivals.size(), 1u);
  EXPECT_EQ(pool.live_count(), 0u);
}

TEST_F(HostFixture, IngressRuleDropsAtTheDestinationHost) {
  build(1000);
  const VmIndex a = add_vm(0, allow_all());
  const VmIndex b = add_vm(1, deny_udp_port(9999, dfw::RuleDirection::kIn));
  send_at(sim::Time::zero(), a, b, 5000, 9999);
  kernel.run_until(sim::Seconds(1));
  EXPECT_EQ(hosts[0]->sample(kernel.now()).packets_to_fabric, 1u);
  EXPECT_EQ(hosts[1]->sample(kernel.now()).packets_from_fabric, 1u);
  EXPECT_EQ(dfw_drops(1, dfw::DropReason::kRuleDrop), 1u);
  EXPECT_TRUE(stacks[b]->arrivals.empty());
}

TEST_F(HostFixture, SaturatedCoreQueuesThenDropsWithANamedReason) {
  HostParams params;
  params.cores = 1;
  params.rx_queue_count = 1;
  params.core_queue_packets = 4;
  build(1000, params);
  const VmIndex a = add_vm(0, allow_all(), sim::DataRate::gbps(800));  // 100 B in 1 ns
  const VmIndex b = add_vm(0, allow_all());                            // same host
  for (int i = 0; i < 10; ++i) send_at(sim::Time::zero(), a, b, 5000, 53);
  kernel.run_until(sim::Seconds(1));
  // Each packet costs egress + ingress = 2000 cycles = 2 us on the single core; packets reach the
  // core 1 ns apart, so four fit in the backlog and six are dropped.
  ASSERT_EQ(stacks[b]->arrivals.size(), 4u);
  for (int i = 0; i < 4; ++i) EXPECT_EQ(stacks[b]->arrivals[i].time_ns, 1 + 2000 * (i + 1));
  const HostSample s = hosts[0]->sample(kernel.now());
  EXPECT_EQ(s.host_drops[static_cast<std::size_t>(HostDropReason::kCoreBacklogFull)], 6u);
  EXPECT_EQ(HostSample::host_drop_column_name(
                static_cast<std::size_t>(HostDropReason::kCoreBacklogFull)),
            "drops_core_backlog_full");
  EXPECT_EQ(s.packets_local, 4u);
  EXPECT_EQ(s.packets_to_fabric, 0u);  // VM to VM on one host never touches the fabric
  EXPECT_EQ(s.cores[0].busy_cycles, 8000u);
  EXPECT_EQ(s.cores[0].busy_ns, 8000);
  EXPECT_EQ(hosts[0]->latency().max(), 8001u);
  for (std::size_t i = 0; i < fabric->link_count(); ++i)
    EXPECT_EQ(fabric->link(i).sample(kernel.now()).packets, 0u);
}

TEST_F(HostFixture, CyclesFollowTheFirewallsOwnWorkCounters) {
  build(0);
  CostCoefficients c;
  c.base = 100;
  c.per_byte_parsed = 1;
  c.per_hash_probe = 10;
  c.per_classifier_step = 5;
  c.per_connection_created = 300;
  cost = CostModel(c);
  const VmIndex a = add_vm(0, deny_udp_port(9999, dfw::RuleDirection::kOut));
  const VmIndex b = add_vm(1, allow_all());
  send_at(sim::Time::zero(), a, b, 5000, 80);
  kernel.run_until(sim::Seconds(1));
  // The same packet through a fresh datapath with the same rules reports the same work.
  dfw::Datapath reference{dfw::DatapathConfig{}};
  ASSERT_TRUE(reference.add_port(a, deny_udp_port(9999, dfw::RuleDirection::kOut)).is_ok());
  Packet p;
  build_udp(p, vms[a], vms[b], 5000, 80, 58);
  dfw::PacketView view{p.header.data(), p.header_size, p.wire_size, p.segment_count};
  const dfw::Result r = reference.process(a, dfw::Direction::kEgress, view, 0);
  ASSERT_EQ(r.verdict, dfw::Verdict::kAllow);
  EXPECT_GT(r.work.bytes_parsed, 0u);
  EXPECT_EQ(r.work.conns_created, 1u);
  uint64_t cycles = 0;
  for (const CoreSample& core : hosts[0]->sample(kernel.now()).cores) cycles += core.busy_cycles;
  EXPECT_EQ(cycles, cost.cycles(r.work, p));
  EXPECT_GT(cycles, 100u + 300u);
}

TEST_F(HostFixture, RejectRuleSendsAFrameBackToTheVm) {
  build(1000);
  const VmIndex a = add_vm(0, deny_udp_port(9999, dfw::RuleDirection::kOut, dfw::Action::kReject));
  const VmIndex b = add_vm(1, allow_all());
  send_at(sim::Time::zero(), a, b, 5000, 9999);
  kernel.run_until(sim::Seconds(1));
  EXPECT_EQ(dfw_drops(0, dfw::DropReason::kRuleReject), 1u);
  EXPECT_EQ(hosts[0]->sample(kernel.now()).frames_generated, 1u);
  ASSERT_EQ(stacks[a]->arrivals.size(), 1u);          // ICMP unreachable back to the sender
  EXPECT_EQ(stacks[a]->arrivals[0].ip_protocol, 1u);  // ICMP
  EXPECT_EQ(stacks[a]->arrivals[0].time_ns, 80 + 1000);
  EXPECT_TRUE(stacks[b]->arrivals.empty());
}

TEST_F(HostFixture, IngressRejectAnswersTheRemoteSenderThroughTheFabric) {
  build(1000);
  const VmIndex a = add_vm(0, allow_all());
  const VmIndex b = add_vm(1, deny_udp_port(9999, dfw::RuleDirection::kIn, dfw::Action::kReject));
  send_at(sim::Time::zero(), a, b, 5000, 9999);
  kernel.run_until(sim::Seconds(1));
  EXPECT_EQ(dfw_drops(1, dfw::DropReason::kRuleReject), 1u);
  EXPECT_EQ(hosts[1]->sample(kernel.now()).frames_generated, 1u);
  EXPECT_EQ(hosts[1]->sample(kernel.now()).packets_to_fabric, 1u);  // the ICMP error
  ASSERT_EQ(stacks[a]->arrivals.size(), 1u);
  EXPECT_EQ(stacks[a]->arrivals[0].ip_protocol, 1u);
  EXPECT_EQ(stacks[a]->arrivals[0].from, b);
  EXPECT_TRUE(stacks[b]->arrivals.empty());
  EXPECT_EQ(pool.live_count(), 0u);
}

TEST_F(HostFixture, ConnectionsExpireOnTheHostTimerAtBoundedRate) {
  HostParams params;
  params.datapath.timeouts.udp_unreplied = 1'000'000'000;  // 1 s
  build(0, params);
  const VmIndex a = add_vm(0, allow_all());
  const VmIndex b = add_vm(1, allow_all());
  send_at(sim::Time::zero(), a, b, 5000, 53);
  kernel.run_until(sim::Millis(500));
  EXPECT_EQ(hosts[0]->sample(kernel.now()).live_connections, 1u);
  kernel.run_until(sim::Seconds(10));
  const HostSample s = hosts[0]->sample(kernel.now());
  EXPECT_EQ(s.live_connections, 0u);
  EXPECT_EQ(s.connections_expired, 1u);
  EXPECT_GE(s.expiry_sweeps, 1u);
  EXPECT_LE(s.expiry_sweeps, 3u);  // swept at 100 ms (nothing due) and at the 1 s deadline
}

TEST_F(HostFixture, ImportedVmKeepsItsConnectionsAndMovesInTheFabric) {
  build(0);
  const VmIndex a = add_vm(0, allow_all());
  const VmIndex b = add_vm(1, allow_all());
  send_at(sim::Time::zero(), a, b, 5000, 53);
  kernel.run_until(sim::Millis(1));
  ASSERT_EQ(hosts[0]->datapath().connection_count(a), 1u);
  std::vector<uint8_t> blob;
  ASSERT_TRUE(hosts[0]->datapath().export_port(a, kernel.now().ns(), blob).is_ok());
  ASSERT_TRUE(hosts[0]->remove_vm(a).is_ok());
  EXPECT_FALSE(hosts[0]->has_vm(a));
  std::vector<uint8_t> corrupt = blob;
  corrupt[corrupt.size() / 2] ^= 0xFF;
  EXPECT_FALSE(hosts[1]->import_vm(a, corrupt, allow_all()).is_ok());
  EXPECT_FALSE(hosts[1]->has_vm(a));
  ASSERT_TRUE(hosts[1]->import_vm(a, blob, allow_all()).is_ok());
  EXPECT_EQ(hosts[1]->datapath().connection_count(a), 1u);
  EXPECT_EQ(vms[a].host, 1u);
  EXPECT_EQ(fabric->vm_host(a), 1u);
  send_at(sim::Millis(2), a, b, 5000, 53);  // now VM to VM on host 1
  kernel.run_until(sim::Seconds(1));
  EXPECT_EQ(stacks[b]->arrivals.size(), 2u);
  EXPECT_EQ(hosts[1]->sample(kernel.now()).packets_local, 1u);
}

TEST_F(HostFixture, PacketsToAStoppedVmAreDroppedWithAReason) {
  build(0);
  const VmIndex a = add_vm(0, allow_all());
  const VmIndex b = add_vm(1, allow_all());
  vms[b].running = false;
  send_at(sim::Time::zero(), a, b, 5000, 53);
  kernel.run_until(sim::Seconds(1));
  EXPECT_EQ(hosts[1]->sample(kernel.now()).host_drops[static_cast<std::size_t>(
                HostDropReason::kVmNotRunning)],
            1u);
  EXPECT_EQ(pool.live_count(), 0u);
}

}  // namespace
}  // namespace models
