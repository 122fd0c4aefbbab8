// UDP open loop: pacing, byte accounting at the receiver, ICMP unreachable as a reject.
#include <gtest/gtest.h>

#include <cstring>

#include "models/headers.h"
#include "models/traffic/transport_stack.h"
#include "traffic_test_wire.h"

namespace models::traffic {
namespace {

using testing::TestWorld;
using testing::WireEvent;

constexpr sim::Time kDelay = sim::Micros(10);

TEST(TrafficUdp, ConstantRateSendsEveryByteAtTheConfiguredPace) {
  TransportParams params;
  params.udp.payload_size = 1472;
  params.udp.rate = sim::DataRate::gbps(1);
  TestWorld w(1, 2, kDelay, params);
  const uint64_t size = 9 * 1472 + 100;  // nine full datagrams and a short tail
  const FlowId id = w.stacks[0]->start_udp_flow(1, 5001, size);
  w.kernel.run_until(sim::Millis(10));
  const auto& log = w.wire.log();
  ASSERT_EQ(log.size(), 10u);
  const sim::Time gap = sim::Nanos(1514 * 8);  // a 1514-byte frame at 1 Gb/s
  for (std::size_t i = 0; i < log.size(); ++i) {
    EXPECT_EQ(log[i].at, gap * static_cast<int64_t>(i)) << i;
    EXPECT_EQ(log[i].frame.tuple.protocol, kProtocolUdp);
    EXPECT_EQ(log[i].frame.l4_payload_size, i < 9 ? 1472u : 100u);
  }
  EXPECT_EQ(w.records.outcome[id], FlowOutcome::kCompleted);
  EXPECT_EQ(w.records.reason[id], FlowReason::kAllDataSent);
  EXPECT_EQ(w.records.end_ns[id], (gap * 9).ns());
  EXPECT_EQ(w.records.bytes_sent[id], size);
  EXPECT_EQ(w.records.bytes_received[id], size);
  EXPECT_EQ(w.records.packets_sent[id], 10u);
  EXPECT_EQ(w.stacks[0]->live_udp_flow_count(), 0u);
  EXPECT_EQ(w.wire.checksum_errors(), 0u);
}

TEST(TrafficUdp, DroppedDatagramsShowAsMissingReceivedBytes) {
  TestWorld w(2, 2, kDelay);
  int n = 0;
  w.wire.set_drop_rule([&](const Packet&, const ParsedFrame&) { return ++n % 2 == 0; });
  const FlowId id = w.stacks[0]->start_udp_flow(1, 5001, 10 * 1472);
  w.kernel.run_until(sim::Millis(10));
  EXPECT_EQ(w.records.outcome[id], FlowOutcome::kCompleted);  // open loop: the sender cannot tell
  EXPECT_EQ(w.records.bytes_sent[id], 10u * 1472);
  EXPECT_EQ(w.records.bytes_received[id], 5u * 1472);
}

TEST(TrafficUdp, PoissonPacingKeepsTheMeanRate) {
  TransportParams params;
  params.udp.poisson = true;
  params.udp.rate = sim::DataRate::gbps(1);
  TestWorld w(3, 2, kDelay, params);
  const uint64_t datagrams = 20000;
  const FlowId id = w.stacks[0]->start_udp_flow(1, 5001, datagrams * 1472);
  w.kernel.run_until(sim::Seconds(10));
  ASSERT_EQ(w.records.outcome[id], FlowOutcome::kCompleted);
  // 19999 exponential gaps of mean 12112 ns: the sum is within 3% (about 4 standard deviations).
  const double expected = 19999 * 12112.0;
  EXPECT_NEAR(static_cast<double>(w.records.end_ns[id]), expected, 0.03 * expected);
}

TEST(TrafficUdp, IcmpPortUnreachableRejectsTheFlow) {
  TestWorld w(4, 2, kDelay);
  w.wire.set_drop_rule([&](const Packet& p, const ParsedFrame& f) {
    if (f.tuple.protocol != kProtocolUdp) return false;
    // A reject rule for UDP: ICMP port unreachable quoting the datagram, sent back at once.
    FiveTuple back = f.tuple;
    std::swap(back.source, back.destination);
    L2Addresses l2;
    std::copy_n(p.header.begin(), 6, l2.source.begin());
    std::copy_n(p.header.begin() + 6, 6, l2.destination.begin());
    IcmpFields unreachable;
    unreachable.type = 3;
    unreachable.code = 3;
    Packet* reply = w.pool.allocate();
    EXPECT_TRUE(build_icmp_frame(*reply, l2, back, unreachable, 28));
    std::memcpy(reply->header.data() + reply->header_size, p.header.data() + f.l3_offset, 28);
    reply->header_size = static_cast<uint16_t>(reply->header_size + 28);
    reply->source_vm = 1;
    reply->destination_vm = 0;
    w.wire.inject(reply, 0);
    return true;
  });
  const FlowId id = w.stacks[0]->start_udp_flow(1, 53, 100 * 1472);
  w.kernel.run_until(sim::Millis(10));
  EXPECT_EQ(w.records.outcome[id], FlowOutcome::kFailedRejected);
  EXPECT_EQ(w.records.reason[id], FlowReason::kIcmpUnreachable);
  EXPECT_EQ(w.records.end_ns[id], kDelay.ns());
  // At 1 Gb/s the sender got one datagram out per 12.112 us: only the first left before the
  // ICMP error came back after 10 us.
  EXPECT_EQ(w.records.packets_sent[id], 1u);
  EXPECT_EQ(w.stacks[0]->live_udp_flow_count(), 0u);
}

}  // namespace
}  // namespace models::traffic
