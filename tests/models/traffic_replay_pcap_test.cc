// pcap replay: exact timing with speed and loops, address mapping, frame rewriting, coalescing,
// bounded memory, the replay-mode receiver, and malformed input.
#include <gtest/gtest.h>

#include <set>

#include "models/traffic/transport_stack.h"
#include "traffic_replay_util.h"

namespace models::traffic {
namespace {

using testing::PcapWriter;
using testing::ReplayWorld;
using testing::TempFile;
using testing::ipv4;
using testing::trace_tcp;
using testing::trace_udp;

const IpAddress kA = ipv4(192, 0, 2, 1);
const IpAddress kB = ipv4(192, 0, 2, 2);
const IpAddress kC = ipv4(192, 0, 2, 3);

ReplayParams table_params(const std::string& file) {
  ReplayParams p;
  p.file = file;
  p.mapping = ReplayMapping::kTable;
  p.address_table = {{"192.0.2.1", "vm0"}, {"192.0.2.2", "vm1"}};
  return p;
}

// A -> B at 0, B -> A at 1 ms, A -> B at 3 ms (a UDP request/response exchange).
std::string write_exchange(const TempFile& file) {
  PcapWriter w;
  w.add(10'000'000, trace_udp(kA, 5000, kB, 53, 40));
  w.add(10'001'000, trace_udp(kB, 53, kA, 5000, 100));
  w.add(10'003'000, trace_udp(kA, 5000, kB, 53, 40));
  w.save(file.path);
  return file.path;
}

TEST(TrafficReplayPcap, SpeedAndLoopsGiveExactTimesAndDistinctFlows) {
  TempFile file("exchange.pcap");
  ReplayWorld w(2);
  w.attach();
  ReplayParams p = table_params(write_exchange(file));
  p.speed = 2;
  p.loops = 2;
  p.start = sim::Millis(1);
  auto replay = w.pcap(p);
  replay->start();
  w.kernel.run_until(sim::Seconds(1));
  ASSERT_EQ(w.log.size(), 6u);
  // Loop 0 at start + t/2; the trace spans 1.5 ms scaled, the mean gap is 0.75 ms, so loop 1
  // starts 2.25 ms after loop 0.
  const int64_t expected_us[] = {1000, 1500, 2500, 3250, 3750, 4750};
  for (std::size_t i = 0; i < 6; ++i) EXPECT_EQ(w.log[i].at, sim::Micros(expected_us[i])) << i;
  // Loop 1 moves the higher port (5000) by 1009; port 53 stays.
  EXPECT_EQ(w.log[0].frame.tuple.source_port, 5000);
  EXPECT_EQ(w.log[3].frame.tuple.source_port, 6009);
  EXPECT_EQ(w.log[4].frame.tuple.destination_port, 6009);
  EXPECT_EQ(w.log[4].frame.tuple.source_port, 53);
  // Two one-way flows per loop, every packet delivered.
  w.flows.finish();
  ASSERT_EQ(w.records.size(), 4u);
  EXPECT_EQ(w.records.packets_sent[0], 2u);
  EXPECT_EQ(w.records.bytes_sent[0], 80u);
  EXPECT_EQ(w.records.bytes_received[0], 80u);
  EXPECT_EQ(w.records.start_ns[0], sim::Micros(1000).ns());
  EXPECT_EQ(w.records.end_ns[0], sim::Micros(2500).ns());
  for (FlowId f = 0; f < 4; ++f) {
    EXPECT_EQ(w.records.outcome[f], FlowOutcome::kCompleted) << f;
    EXPECT_EQ(w.records.reason[f], FlowReason::kAllPacketsDelivered) << f;
  }
  EXPECT_EQ(replay->stats().records_read, 6u);
  EXPECT_EQ(replay->stats().packets_replayed, 6u);
  EXPECT_EQ(replay->stats().loops_completed, 2u);
  EXPECT_FALSE(replay->failed());
}

TEST(TrafficReplayPcap, FramesCarryTheVmsAddressesAndTheTracesTcpFields) {
  TempFile file("syn.pcap");
  PcapWriter pcap;
  TcpFields syn;
  syn.seq = 123456789;
  syn.flags = tcp_flags::kSyn;
  syn.window = 29200;
  syn.mss_option = 1460;
  syn.window_scale_option = 7;
  pcap.add(0, trace_tcp(kA, 40000, kB, 443, syn, 0));
  TcpFields data;
  data.seq = 123456790;
  data.ack = 42;
  data.flags = tcp_flags::kAck | tcp_flags::kPsh;
  data.window = 229;
  pcap.add(50, trace_tcp(kA, 40000, kB, 443, data, 1200));
  pcap.save(file.path);
  ReplayWorld w(2);
  w.attach();
  auto replay = w.pcap(table_params(file.path));
  replay->start();
  w.kernel.run_until(sim::Seconds(1));
  ASSERT_EQ(w.log.size(), 2u);
  EXPECT_EQ(w.checksum_errors, 0u);
  for (const auto& c : w.log) {
    EXPECT_EQ(c.source_mac, w.vms[0].mac);
    EXPECT_EQ(c.destination_mac, w.vms[1].mac);
    EXPECT_EQ(c.frame.tuple.source, IpAddress::v4(w.vms[0].ipv4));
    EXPECT_EQ(c.frame.tuple.destination, IpAddress::v4(w.vms[1].ipv4));
    EXPECT_EQ(c.frame.tuple.source_port, 40000);
    EXPECT_EQ(c.frame.tuple.destination_port, 443);
  }
  EXPECT_EQ(w.log[0].frame.tcp.seq, 123456789u);
  EXPECT_EQ(w.log[0].frame.tcp.flags, tcp_flags::kSyn);
  EXPECT_EQ(w.log[0].frame.tcp.mss_option, 1460);
  EXPECT_EQ(w.log[0].frame.tcp.window_scale_option, 7);
  EXPECT_EQ(w.log[0].frame.tcp.window, 29200);
  EXPECT_EQ(w.log[1].frame.tcp.ack, 42u);
  EXPECT_EQ(w.log[1].frame.tcp.flags, tcp_flags::kAck | tcp_flags::kPsh);
  EXPECT_EQ(w.log[1].frame.l4_payload_size, 1200u);
  EXPECT_EQ(w.log[1].wire_size, 14u + 20 + 20 + 1200);
  EXPECT_EQ(w.log[1].at, sim::Micros(50));
}

TEST(TrafficReplayPcap, TableMappingSkipsAndCountsUnmappedAddresses) {
  TempFile file("unmapped.pcap");
  PcapWriter pcap;
  pcap.add(0, trace_udp(kA, 1111, kB, 2222, 10));
  pcap.add(1, trace_udp(kA, 1111, kC, 2222, 10));  // C is not in the table
  pcap.add(2, trace_udp(kA, 1111, kA, 2223, 10));  // both ends on vm0
  const uint8_t arp[42] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xaa, 0, 0, 0, 0, 1, 0x08, 0x06};
  pcap.add(3, arp, sizeof arp);
  pcap.save(file.path);
  ReplayWorld w(2);
  w.attach();
  auto replay = w.pcap(table_params(file.path));
  replay->start();
  w.kernel.run_until(sim::Seconds(1));
  EXPECT_EQ(w.log.size(), 1u);
  const auto& s = replay->stats();
  EXPECT_EQ(s.records_read, 4u);
  EXPECT_EQ(s.packets_replayed, 1u);
  EXPECT_EQ(s.skipped[static_cast<int>(ReplaySkip::kUnmappedAddress)], 1u);
  EXPECT_EQ(s.skipped[static_cast<int>(ReplaySkip::kSameVm)], 1u);
  EXPECT_EQ(s.skipped[static_cast<int>(ReplaySkip::kNonIp)], 1u);
}

TEST(TrafficReplayPcap, RoundRobinMapsAddressesInFirstSeenOrder) {
  TempFile file("rr.pcap");
  PcapWriter pcap;
  pcap.add(0, trace_udp(kC, 1, kA, 2, 10));  // C -> vm0, A -> vm1
  pcap.add(1, trace_udp(kB, 1, kC, 2, 10));  // B -> vm2
  pcap.add(2, trace_udp(kA, 1, kB, 2, 10));
  pcap.save(file.path);
  ReplayWorld w(3);
  w.attach();
  ReplayParams p;
  p.file = file.path;
  p.mapping = ReplayMapping::kRoundRobin;
  auto replay = w.pcap(p);
  replay->start();
  w.kernel.run_until(sim::Seconds(1));
  ASSERT_EQ(w.log.size(), 3u);
  EXPECT_EQ(w.log[0].from, 0u);
  EXPECT_EQ(w.log[0].to, 1u);
  EXPECT_EQ(w.log[1].from, 2u);
  EXPECT_EQ(w.log[1].to, 0u);
  EXPECT_EQ(w.log[2].from, 1u);
  EXPECT_EQ(w.log[2].to, 2u);
}

TEST(TrafficReplayPcap, HashMappingIsStableAndConsistentPerAddress) {
  TempFile file("hash.pcap");
  PcapWriter pcap;
  for (int i = 0; i < 40; ++i) {
    const IpAddress a = ipv4(198, 51, 100, static_cast<uint8_t>(i));
    pcap.add(i * 10, trace_udp(a, 1000, kA, 53, 10));
    pcap.add(i * 10 + 1, trace_udp(kA, 53, a, 1000, 10));
  }
  pcap.save(file.path);
  std::vector<std::vector<std::pair<VmIndex, VmIndex>>> runs;
  for (int run = 0; run < 2; ++run) {
    ReplayWorld w(8);
    w.attach();
    ReplayParams p;
    p.file = file.path;
    auto replay = w.pcap(p);
    replay->start();
    w.kernel.run_until(sim::Seconds(1));
    std::vector<std::pair<VmIndex, VmIndex>> pairs;
    for (const auto& c : w.log) pairs.emplace_back(c.from, c.to);
    runs.push_back(pairs);
    // Replies go back to the VM the request came from; several VMs are used.
    std::set<VmIndex> used;
    for (std::size_t i = 0; i + 1 < w.log.size(); ++i) used.insert(w.log[i].from);
    EXPECT_GE(used.size(), 5u);
    EXPECT_EQ(replay->stats().packets_replayed + replay->stats().skipped[static_cast<int>(ReplaySkip::kSameVm)], 80u);
  }
  EXPECT_EQ(runs[0], runs[1]);
}

TEST(TrafficReplayPcap, CoalescingMergesInOrderSegmentsOfOneFlow) {
  TempFile file("coalesce.pcap");
  PcapWriter pcap;
  TcpFields d;
  d.flags = tcp_flags::kAck;
  for (int i = 0; i < 3; ++i) {
    d.seq = 1000 + 1000u * i;
    pcap.add(i * 10, trace_tcp(kA, 40000, kB, 80, d, 1000));
  }
  TcpFields fin = d;
  fin.seq = 4000;
  fin.flags = tcp_flags::kAck | tcp_flags::kFin;
  pcap.add(40, trace_tcp(kA, 40000, kB, 80, fin, 0));
  pcap.save(file.path);
  ReplayWorld w(2);
  w.attach();
  ReplayParams p = table_params(file.path);
  p.coalesce = true;
  auto replay = w.pcap(p);
  replay->start();
  w.kernel.run_until(sim::Seconds(1));
  ASSERT_EQ(w.log.size(), 2u);
  EXPECT_EQ(w.log[0].segment_count, 3u);
  EXPECT_EQ(w.log[0].payload_size, 3000u);
  EXPECT_EQ(w.log[0].wire_size, 3u * (14 + 20 + 20 + 1000));
  EXPECT_EQ(w.log[0].frame.tcp.seq, 1000u);
  EXPECT_EQ(w.log[0].frame.l4_payload_size, 3000u);
  EXPECT_EQ(w.log[0].at, sim::Time::zero());
  EXPECT_EQ(w.log[1].frame.tcp.flags, tcp_flags::kAck | tcp_flags::kFin);
  EXPECT_EQ(w.log[1].at, sim::Micros(40));
  w.flows.finish();
  EXPECT_EQ(w.records.packets_sent[0], 4u);
  EXPECT_EQ(w.records.bytes_received[0], 3000u);
  EXPECT_EQ(w.records.outcome[0], FlowOutcome::kCompleted);
}

TEST(TrafficReplayPcap, LoopingDoesNotGrowThePacketPool) {
  TempFile file("loops.pcap");
  write_exchange(file);
  auto capacity_after = [&](uint32_t loops) {
    ReplayWorld w(2);
    w.logging = false;
    w.attach();
    ReplayParams p = table_params(file.path);
    p.loops = loops;
    auto replay = w.pcap(p);
    replay->start();
    w.kernel.run_until(sim::Seconds(100));
    EXPECT_EQ(replay->stats().packets_replayed, 3u * loops);
    EXPECT_EQ(w.pool.live_count(), 0u);
    return w.pool.capacity();
  };
  EXPECT_EQ(capacity_after(1), capacity_after(200));
}

TEST(TrafficReplayPcap, ReplayedTcpIsConsumedNotAnsweredByTheStack) {
  TempFile file("midstream.pcap");
  PcapWriter pcap;
  TcpFields d;
  d.seq = 77;
  d.flags = tcp_flags::kAck;
  pcap.add(0, trace_tcp(kA, 40000, kB, 80, d, 500));  // no connection at the receiver
  pcap.save(file.path);
  ReplayWorld w(2);
  TransportStack stack(w.kernel, w.vms, 1, w.pool, w.records, TransportParams{});
  w.attach();
  auto replay = w.pcap(table_params(file.path));
  replay->start();
  w.kernel.run_until(sim::Seconds(1));
  EXPECT_EQ(w.log.size(), 1u);  // no RST came back
  EXPECT_EQ(stack.stats().packets_received, 0u);
  EXPECT_EQ(stack.stats().resets_sent, 0u);
  EXPECT_EQ(w.flows.packets_received(0), 1u);
  EXPECT_EQ(w.records.bytes_received[0], 500u);
}

TEST(TrafficReplayPcap, LostPacketsMarkTheFlow) {
  TempFile file("lost.pcap");
  ReplayWorld w(2);
  w.drop = [](const testing::Carried& c) { return c.frame.tuple.destination_port == 53; };
  w.attach();
  auto replay = w.pcap(table_params(write_exchange(file)));
  replay->start();
  w.kernel.run_until(sim::Seconds(1));
  w.flows.finish();
  ASSERT_EQ(w.records.size(), 2u);
  EXPECT_EQ(w.records.outcome[0], FlowOutcome::kFailedTimeout);
  EXPECT_EQ(w.records.reason[0], FlowReason::kPacketsLost);
  EXPECT_EQ(w.records.bytes_received[0], 0u);
  EXPECT_EQ(w.records.outcome[1], FlowOutcome::kCompleted);
}

TEST(TrafficReplayPcap, TruncatedFileFailsNamingTheRecord) {
  TempFile file("truncated.pcap");
  PcapWriter pcap;
  for (int i = 0; i < 3; ++i) pcap.add(i * 100, trace_udp(kA, 5000, kB, 53, 40));
  pcap.save(file.path, 10);  // cut inside record 3's frame
  ReplayWorld w(2);
  w.attach();
  auto replay = w.pcap(table_params(file.path));
  replay->start();
  const sim::RunStatus status = w.kernel.run_until(sim::Seconds(1));
  EXPECT_EQ(status, sim::RunStatus::kStopped);
  ASSERT_TRUE(replay->failed());
  EXPECT_NE(replay->error().find(file.path + ": record 3: packet data: truncated"), std::string::npos)
      << replay->error();
  EXPECT_EQ(w.log.size(), 2u);  // records 1 and 2 went out before record 3 was read
}

TEST(TrafficReplayPcap, SkipBadRecordsCountsTheTruncatedRecord) {
  TempFile file("truncated-skip.pcap");
  PcapWriter pcap;
  for (int i = 0; i < 3; ++i) pcap.add(i * 100, trace_udp(kA, 5000, kB, 53, 40));
  pcap.save(file.path, 10);
  ReplayWorld w(2);
  w.attach();
  ReplayParams p = table_params(file.path);
  p.skip_bad_records = true;
  p.loops = 2;
  auto replay = w.pcap(p);
  replay->start();
  w.kernel.run_until(sim::Seconds(1));
  EXPECT_FALSE(replay->failed());
  EXPECT_EQ(replay->stats().packets_replayed, 4u);
  EXPECT_EQ(replay->stats().skipped[static_cast<int>(ReplaySkip::kBadRecord)], 2u);
}

TEST(TrafficReplayPcap, UnreadableFilesFailAtCreation) {
  TempFile garbage("garbage.pcap");
  garbage.write("this is not a capture");
  ReplayWorld w(2);
  std::string error;
  ReplayParams p = table_params(garbage.path);
  EXPECT_FALSE(create_pcap_replay(w.kernel, w.vms, w.pool, w.flows, p, error));
  EXPECT_NE(error.find(garbage.path + ": cannot read as pcap"), std::string::npos) << error;
  TempFile gz("capture.pcap.gz");
  gz.write(std::string("\x1f\x8b\x08\x00", 4) + "rest");
  p.file = gz.path;
  p.entity_name = "replay/1";
  EXPECT_FALSE(create_pcap_replay(w.kernel, w.vms, w.pool, w.flows, p, error));
  EXPECT_NE(error.find("gunzip it first"), std::string::npos) << error;
}

}  // namespace
}  // namespace models::traffic
