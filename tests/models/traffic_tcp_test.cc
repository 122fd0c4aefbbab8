// The TCP model over a fixed-delay wire: handshake, exact timing, loss recovery, failure outcomes.
#include <gtest/gtest.h>

#include <set>

#include "models/headers.h"
#include "models/traffic/transport_stack.h"
#include "traffic_test_wire.h"

namespace models::traffic {
namespace {

using testing::TestWorld;
using testing::WireEvent;

constexpr sim::Time kDelay = sim::Micros(10);  // one way; RTT 20 us
constexpr uint32_t kMss = 1460;

TransportParams datacenter_params() {
  TransportParams p;
  p.tcp.min_rto = sim::Millis(1);
  return p;
}

bool is_data(const WireEvent& e) { return e.frame.l4_payload_size > 0; }
uint8_t flags_of(const WireEvent& e) { return e.frame.tcp.flags; }

TEST(TrafficTcp, SmallFlowHandshakeDataAndCloseAtExactTimes) {
  TestWorld w(1, 2, kDelay, datacenter_params());
  const FlowId id = w.stacks[0]->start_tcp_flow(1, 8080, 10 * kMss);
  w.kernel.run_until(sim::Seconds(5));

  using namespace tcp_flags;
  const auto& log = w.wire.log();
  ASSERT_EQ(log.size(), 8u);
  const uint32_t iss = log[0].frame.tcp.seq;
  // SYN: options as Linux sends them.
  EXPECT_EQ(log[0].at, sim::Time::zero());
  EXPECT_EQ(flags_of(log[0]), kSyn);
  EXPECT_EQ(log[0].frame.tcp.mss_option, kMss);
  EXPECT_GE(log[0].frame.tcp.window_scale_option, 0);
  EXPECT_EQ(log[0].frame.tuple.destination_port, 8080);
  // SYN-ACK one delay later.
  EXPECT_EQ(log[1].at, kDelay);
  EXPECT_EQ(flags_of(log[1]), kSyn | kAck);
  EXPECT_EQ(log[1].frame.tcp.ack, iss + 1);
  EXPECT_EQ(log[1].frame.tcp.mss_option, kMss);
  const uint32_t server_iss = log[1].frame.tcp.seq;
  // Third ACK, the whole initial window as one super-packet, and FIN, all at one RTT.
  EXPECT_EQ(log[2].at, kDelay * 2);
  EXPECT_EQ(flags_of(log[2]), kAck);
  EXPECT_EQ(log[2].frame.tcp.ack, server_iss + 1);
  EXPECT_EQ(log[3].at, kDelay * 2);
  EXPECT_EQ(log[3].frame.tcp.seq, iss + 1);
  EXPECT_EQ(log[3].frame.l4_payload_size, 10 * kMss);
  EXPECT_EQ(log[3].segment_count, 10);
  EXPECT_EQ(log[3].wire_size, 10 * (kMss + 54));
  EXPECT_EQ(flags_of(log[4]), kFin | kAck);
  EXPECT_EQ(log[4].at, kDelay * 2);
  EXPECT_EQ(log[4].frame.tcp.seq, iss + 1 + 10 * kMss);
  // The server acknowledges the data, then answers the FIN with its own FIN|ACK.
  EXPECT_EQ(log[5].at, kDelay * 3);
  EXPECT_EQ(flags_of(log[5]), kAck);
  EXPECT_EQ(log[5].frame.tcp.ack, iss + 1 + 10 * kMss);
  EXPECT_EQ(log[6].at, kDelay * 3);
  EXPECT_EQ(flags_of(log[6]), kFin | kAck);
  EXPECT_EQ(log[6].frame.tcp.ack, iss + 2 + 10 * kMss);
  EXPECT_EQ(log[6].frame.tcp.seq, server_iss + 1);
  // The client acknowledges the server's FIN when it arrives.
  EXPECT_EQ(log[7].at, kDelay * 4);
  EXPECT_EQ(flags_of(log[7]), kAck);
  EXPECT_EQ(log[7].frame.tcp.ack, server_iss + 2);

  EXPECT_EQ(w.records.outcome[id], FlowOutcome::kCompleted);
  EXPECT_EQ(w.records.reason[id], FlowReason::kAllDataAcknowledged);
  EXPECT_EQ(w.records.fct_ns(id), (kDelay * 4).ns());
  EXPECT_EQ(w.records.bytes_sent[id], 10 * kMss);
  EXPECT_EQ(w.records.bytes_received[id], 10 * kMss);
  EXPECT_EQ(w.records.retransmissions[id], 0u);
  EXPECT_EQ(w.wire.checksum_errors(), 0u);
}

TEST(TrafficTcp, FinTeardownClosesBothSides) {
  TransportParams params = datacenter_params();
  params.tcp.time_wait = sim::Millis(5);
  TestWorld w(2, 2, kDelay, params);
  const FlowId id = w.stacks[0]->start_tcp_flow(1, 80, 3000);
  w.kernel.run_until(kDelay * 5 + sim::Nanos(1));
  // The server got the client's last ACK at 5 delays and is gone; the client waits in TIME_WAIT.
  EXPECT_EQ(w.stacks[1]->live_tcp_connection_count(), 0u);
  EXPECT_EQ(w.stacks[0]->live_tcp_connection_count(), 1u);
  const auto& log = w.wire.log();
  ASSERT_EQ(log.size(), 8u);
  EXPECT_EQ(flags_of(log[7]), tcp_flags::kAck);
  EXPECT_EQ(log[7].from, 0u);
  EXPECT_EQ(log[7].at, kDelay * 4);
  EXPECT_EQ(log[7].frame.tcp.ack, log[6].frame.tcp.seq + 1);  // acknowledges the server's FIN
  w.kernel.run_until(sim::Millis(4) + kDelay * 4);
  EXPECT_EQ(w.stacks[0]->live_tcp_connection_count(), 1u);
  w.kernel.run_until(sim::Millis(6));
  EXPECT_EQ(w.stacks[0]->live_tcp_connection_count(), 0u);
  EXPECT_EQ(w.stacks[0]->stats().connections_closed, 1u);
  EXPECT_EQ(w.stacks[1]->stats().connections_closed, 1u);
  EXPECT_EQ(w.records.outcome[id], FlowOutcome::kCompleted);
  EXPECT_EQ(w.pool.live_count(), 0u);
}

TEST(TrafficTcp, SlowStartDoublesTheWindowEachRoundTrip) {
  TestWorld w(3, 2, kDelay, datacenter_params());
  const FlowId id = w.stacks[0]->start_tcp_flow(1, 80, 100 * kMss);
  w.kernel.run_until(sim::Seconds(1));
  // 10, 20, 40 and the last 30 segments, one super-packet per round trip.
  std::vector<uint32_t> bursts;
  std::vector<sim::Time> times;
  for (const WireEvent& e : w.wire.log()) {
    if (e.from == 0 && is_data(e)) {
      bursts.push_back(e.segment_count);
      times.push_back(e.at);
    }
  }
  EXPECT_EQ(bursts, (std::vector<uint32_t>{10, 20, 40, 30}));
  EXPECT_EQ(times, (std::vector<sim::Time>{kDelay * 2, kDelay * 4, kDelay * 6, kDelay * 8}));
  EXPECT_EQ(w.records.fct_ns(id), (kDelay * 10).ns());
  EXPECT_EQ(w.records.bytes_received[id], 100 * kMss);
}

TEST(TrafficTcp, LargeBurstsAreCappedByTheIpLengthField) {
  TestWorld w(4, 2, kDelay, datacenter_params());
  const FlowId id = w.stacks[0]->start_tcp_flow(1, 80, 400 * kMss);
  w.kernel.run_until(sim::Seconds(1));
  uint32_t largest = 0;
  for (const WireEvent& e : w.wire.log()) largest = std::max(largest, e.frame.l4_payload_size);
  EXPECT_EQ(largest, 44 * kMss);  // 64240 bytes: the largest whole-MSS burst under 65535
  EXPECT_EQ(w.records.outcome[id], FlowOutcome::kCompleted);
  EXPECT_EQ(w.records.bytes_received[id], 400 * kMss);
}

TEST(TrafficTcp, OneLostSegmentIsFastRetransmitted) {
  TransportParams params = datacenter_params();
  params.tcp.segment_size = sim::Bytes(kMss);  // no offload: one packet per segment
  TestWorld w(5, 2, kDelay, params);
  uint32_t iss = 0;
  bool dropped = false;
  w.wire.set_drop_rule([&](const Packet&, const ParsedFrame& f) {
    if (f.tcp.flags == tcp_flags::kSyn) iss = f.tcp.seq;
    // The first transmission of the third data segment.
    if (!dropped && f.l4_payload_size > 0 && f.tcp.seq == iss + 1 + 2 * kMss) {
      dropped = true;
      return true;
    }
    return false;
  });
  const FlowId id = w.stacks[0]->start_tcp_flow(1, 80, 30 * kMss);
  w.kernel.run_until(sim::Seconds(1));
  ASSERT_TRUE(dropped);
  EXPECT_EQ(w.records.outcome[id], FlowOutcome::kCompleted);
  EXPECT_EQ(w.records.retransmissions[id], 1u);
  EXPECT_EQ(w.stacks[0]->stats().fast_retransmits, 1u);
  EXPECT_EQ(w.stacks[0]->stats().timeouts, 0u);
  EXPECT_EQ(w.records.bytes_received[id], 30 * kMss);
  // The retransmission answers the third duplicate ACK, which arrives one RTT after the burst.
  sim::Time retransmitted_at;
  for (const WireEvent& e : w.wire.log()) {
    if (e.from == 0 && e.frame.tcp.seq == iss + 1 + 2 * kMss && e.at > kDelay * 2)
      retransmitted_at = e.at;
  }
  EXPECT_EQ(retransmitted_at, kDelay * 4);
  // Fast recovery halves the window (ssthresh 6 segments from 12 in flight), so the remaining
  // segments take three more round trips: 12 delays instead of the lossless 6.
  EXPECT_EQ(w.records.fct_ns(id), (kDelay * 12).ns());
}

TEST(TrafficTcp, LostSynIsRetriedAfterTheInitialRto) {
  TestWorld w(6, 2, kDelay, datacenter_params());
  int syns = 0;
  w.wire.set_drop_rule([&](const Packet&, const ParsedFrame& f) {
    return f.tcp.flags == tcp_flags::kSyn && ++syns == 1;
  });
  const FlowId id = w.stacks[0]->start_tcp_flow(1, 80, 5000);
  w.kernel.run_until(sim::Seconds(5));
  EXPECT_EQ(syns, 2);
  const auto& log = w.wire.log();
  ASSERT_GE(log.size(), 2u);
  EXPECT_TRUE(log[0].dropped);
  EXPECT_EQ(log[1].at, sim::Seconds(1));  // RFC 6298 initial RTO
  EXPECT_EQ(flags_of(log[1]), tcp_flags::kSyn);
  EXPECT_EQ(log[1].frame.tcp.seq, log[0].frame.tcp.seq);
  EXPECT_EQ(w.records.outcome[id], FlowOutcome::kCompleted);
  EXPECT_EQ(w.records.retransmissions[id], 1u);
  EXPECT_EQ(w.records.fct_ns(id), (sim::Seconds(1) + kDelay * 4).ns());
}

TEST(TrafficTcp, DroppedSynsFailTheFlowAfterTheConfiguredRetries) {
  TransportParams params = datacenter_params();
  params.tcp.syn_retries = 3;
  TestWorld w(7, 2, kDelay, params);
  w.wire.set_drop_rule([](const Packet&, const ParsedFrame&) { return true; });  // a drop rule
  const FlowId id = w.stacks[0]->start_tcp_flow(1, 80, 5000);
  w.kernel.run_until(sim::Seconds(60));
  std::vector<sim::Time> syn_times;
  for (const WireEvent& e : w.wire.log()) syn_times.push_back(e.at);
  EXPECT_EQ(syn_times, (std::vector<sim::Time>{sim::Seconds(0), sim::Seconds(1), sim::Seconds(3),
                                               sim::Seconds(7)}));
  EXPECT_EQ(w.records.outcome[id], FlowOutcome::kFailedTimeout);
  EXPECT_EQ(w.records.reason[id], FlowReason::kSynRetriesExhausted);
  EXPECT_EQ(w.records.end_ns[id], sim::Seconds(15).ns());
  EXPECT_EQ(w.records.packets_sent[id], 4u);
  EXPECT_EQ(w.records.retransmissions[id], 3u);
  EXPECT_EQ(w.records.bytes_sent[id], 0u);
  EXPECT_EQ(w.stacks[0]->live_tcp_connection_count(), 0u);
  EXPECT_EQ(w.pool.live_count(), 0u);
}

TEST(TrafficTcp, ResetFromARejectRuleFailsTheFlowAtOnce) {
  TestWorld w(8, 2, kDelay, datacenter_params());
  w.wire.set_drop_rule([&](const Packet& p, const ParsedFrame& f) {
    if (f.tcp.flags != tcp_flags::kSyn) return false;
    // What a reject rule answers: RST|ACK acknowledging the SYN, from the destination's address.
    FiveTuple back = f.tuple;
    std::swap(back.source, back.destination);
    std::swap(back.source_port, back.destination_port);
    L2Addresses l2;
    std::copy_n(p.header.begin(), 6, l2.source.begin());
    std::copy_n(p.header.begin() + 6, 6, l2.destination.begin());
    TcpFields rst;
    rst.flags = tcp_flags::kRst | tcp_flags::kAck;
    rst.ack = f.tcp.seq + 1;
    Packet* reply = w.pool.allocate();
    EXPECT_TRUE(build_tcp_frame(*reply, l2, back, rst, 0, 0));
    reply->source_vm = 1;
    reply->destination_vm = 0;
    w.wire.inject(reply, 0);
    return true;
  });
  const FlowId id = w.stacks[0]->start_tcp_flow(1, 22, 5000);
  w.kernel.run_until(sim::Seconds(10));
  EXPECT_EQ(w.records.outcome[id], FlowOutcome::kFailedRejected);
  EXPECT_EQ(w.records.reason[id], FlowReason::kResetDuringHandshake);
  EXPECT_EQ(w.records.end_ns[id], kDelay.ns());
  EXPECT_EQ(w.records.retransmissions[id], 0u);
  EXPECT_EQ(w.wire.log().size(), 1u);  // no SYN retry after the reset
  EXPECT_EQ(w.stacks[0]->live_tcp_connection_count(), 0u);
}

TEST(TrafficTcp, RandomLossStillDeliversEveryByteWithinTheWindow) {
  TestWorld w(9, 2, kDelay, datacenter_params());
  sim::Rng loss(1234);
  w.wire.set_drop_rule([&](const Packet&, const ParsedFrame& f) {
    return f.l4_payload_size > 0 && loss.uniform() < 0.05;
  });
  const uint64_t size = 3'000'000;
  const FlowId id = w.stacks[0]->start_tcp_flow(1, 80, size);
  w.kernel.run_until(sim::Seconds(30));
  EXPECT_EQ(w.records.outcome[id], FlowOutcome::kCompleted);
  EXPECT_EQ(w.records.bytes_received[id], size);
  EXPECT_EQ(w.records.bytes_sent[id], size);
  EXPECT_GT(w.records.retransmissions[id], 0u);
  // The sender never sends past the right edge the receiver advertised (what conntrack checks).
  const auto& log = w.wire.log();
  uint64_t right_edge = 0;  // as a 64-bit offset from the client's ISS
  const uint32_t iss = log[0].frame.tcp.seq;
  const uint8_t shift = static_cast<uint8_t>(log[1].frame.tcp.window_scale_option);
  for (const WireEvent& e : log) {
    if (e.from == 1 && (e.frame.tcp.flags & tcp_flags::kAck)) {
      const uint64_t window = e.frame.tcp.flags & tcp_flags::kSyn
                                  ? e.frame.tcp.window
                                  : uint64_t{e.frame.tcp.window} << shift;
      right_edge = std::max<uint64_t>(right_edge, uint32_t(e.frame.tcp.ack - iss) + window);
    }
    if (e.from == 0 && is_data(e)) {
      EXPECT_LE(uint32_t(e.frame.tcp.seq - iss) + uint64_t{e.frame.l4_payload_size}, right_edge);
    }
  }
  EXPECT_EQ(w.wire.checksum_errors(), 0u);
  w.kernel.run_until(sim::Seconds(40));
  EXPECT_EQ(w.pool.live_count(), 0u);
}

TEST(TrafficTcp, Ipv6FlowCompletes) {
  TestWorld w(10, 2, kDelay, datacenter_params());
  const FlowId id = w.stacks[0]->start_tcp_flow(1, 443, 200'000, /*ipv6=*/true);
  w.kernel.run_until(sim::Seconds(1));
  EXPECT_EQ(w.records.ip_version[id], 6);
  EXPECT_EQ(w.records.outcome[id], FlowOutcome::kCompleted);
  EXPECT_EQ(w.records.bytes_received[id], 200'000u);
  EXPECT_TRUE(w.wire.log()[0].frame.tuple.source.is_v6);
  EXPECT_EQ(w.wire.checksum_errors(), 0u);
}

TEST(TrafficTcp, DelayedAcksAcknowledgeEverySecondSegment) {
  TransportParams params = datacenter_params();
  params.tcp.segment_size = sim::Bytes(kMss);
  params.tcp.delayed_ack = true;
  TestWorld w(12, 2, kDelay, params);
  const FlowId id = w.stacks[0]->start_tcp_flow(1, 80, 10 * kMss);
  w.kernel.run_until(sim::Seconds(1));
  int pure_acks = 0;
  for (const WireEvent& e : w.wire.log())
    if (e.from == 1 && flags_of(e) == tcp_flags::kAck) ++pure_acks;
  EXPECT_EQ(pure_acks, 5);  // ten segments, one ACK per two
  EXPECT_EQ(w.records.fct_ns(id), (kDelay * 4).ns());
}

TEST(TrafficTcp, DelayedAckTimerAcknowledgesALoneSegment) {
  TransportParams params = datacenter_params();
  params.tcp.segment_size = sim::Bytes(kMss);
  params.tcp.delayed_ack = true;
  params.tcp.delayed_ack_timeout = sim::Millis(40);
  params.tcp.min_rto = sim::Millis(200);  // with a 1 ms RTO the sender would retransmit first
  TestWorld w(13, 2, kDelay, params);
  bool fin_dropped = false;
  w.wire.set_drop_rule([&](const Packet&, const ParsedFrame& f) {
    if (!fin_dropped && (f.tcp.flags & tcp_flags::kFin)) return fin_dropped = true;
    return false;
  });
  const FlowId id = w.stacks[0]->start_tcp_flow(1, 80, 3 * kMss);
  w.kernel.run_until(sim::Seconds(1));
  // Segments 1-2 are acknowledged at once; segment 3 waits for the 40 ms timer (its FIN was lost).
  EXPECT_EQ(w.records.fct_ns(id), (kDelay * 4 + sim::Millis(40)).ns());
  EXPECT_EQ(w.records.outcome[id], FlowOutcome::kCompleted);
}

TEST(TrafficTcp, LostSynAckIsRecovered) {
  TestWorld w(14, 2, kDelay, datacenter_params());
  int syn_acks = 0;
  w.wire.set_drop_rule([&](const Packet&, const ParsedFrame& f) {
    return f.tcp.flags == (tcp_flags::kSyn | tcp_flags::kAck) && ++syn_acks == 1;
  });
  const FlowId id = w.stacks[0]->start_tcp_flow(1, 80, 50'000);
  w.kernel.run_until(sim::Seconds(5));
  EXPECT_EQ(w.records.outcome[id], FlowOutcome::kCompleted);
  EXPECT_EQ(w.records.bytes_received[id], 50'000u);
  EXPECT_EQ(w.records.retransmissions[id], 1u);  // the client's SYN, once
  // Both sides closed cleanly: no stray segment was answered with a reset.
  EXPECT_EQ(w.stacks[0]->live_tcp_connection_count(), 0u);
  EXPECT_EQ(w.stacks[1]->live_tcp_connection_count(), 0u);
  EXPECT_EQ(w.stacks[0]->stats().resets_sent + w.stacks[1]->stats().resets_sent, 0u);
}

TEST(TrafficTcp, ManyConcurrentFlowsUseDistinctPortsAndAllComplete) {
  TestWorld w(15, 2, kDelay, datacenter_params());
  std::vector<FlowId> ids;
  for (int i = 0; i < 200; ++i) ids.push_back(w.stacks[0]->start_tcp_flow(1, 80, 20'000));
  EXPECT_EQ(w.stacks[0]->live_tcp_connection_count(), 200u);
  EXPECT_EQ(w.stacks[1]->live_tcp_connection_count(), 0u);
  w.kernel.run_until(sim::Seconds(5));
  std::set<uint16_t> ports;
  for (FlowId id : ids) {
    EXPECT_EQ(w.records.outcome[id], FlowOutcome::kCompleted);
    EXPECT_EQ(w.records.bytes_received[id], 20'000u);
    ports.insert(w.records.source_port[id]);
  }
  EXPECT_EQ(ports.size(), 200u);
  EXPECT_EQ(w.stacks[0]->live_tcp_connection_count(), 0u);
  EXPECT_EQ(w.pool.live_count(), 0u);
}

TEST(TrafficTcp, ParameterValidationNamesTheField) {
  std::string error;
  EXPECT_TRUE(validate_transport_params(TransportParams{}, error)) << error;
  TransportParams p;
  p.tcp.mss = 0;
  EXPECT_FALSE(validate_transport_params(p, error));
  EXPECT_NE(error.find("tcp.mss"), std::string::npos) << error;
  p = TransportParams{};
  p.udp.payload_size = 70000;
  EXPECT_FALSE(validate_transport_params(p, error));
  EXPECT_NE(error.find("udp.payload_size"), std::string::npos) << error;
  p = TransportParams{};
  p.tcp.min_rto = sim::Seconds(10);
  p.tcp.max_rto = sim::Seconds(1);
  EXPECT_FALSE(validate_transport_params(p, error));
  EXPECT_NE(error.find("min_rto"), std::string::npos) << error;
}

TEST(TrafficTcp, OnePortRangeLimitsConcurrentFlowsToADestination) {
  TransportParams params = datacenter_params();
  params.first_ephemeral_port = 50000;
  params.last_ephemeral_port = 50001;
  TestWorld w(16, 2, kDelay, params);
  const FlowId a = w.stacks[0]->start_tcp_flow(1, 80, 1000);
  const FlowId b = w.stacks[0]->start_tcp_flow(1, 80, 1000);
  const FlowId c = w.stacks[0]->start_tcp_flow(1, 80, 1000);
  EXPECT_EQ(w.records.source_port[a], 50000);
  EXPECT_EQ(w.records.source_port[b], 50001);
  EXPECT_EQ(w.records.outcome[c], FlowOutcome::kFailedRejected);
  EXPECT_EQ(w.records.reason[c], FlowReason::kNoEphemeralPort);
  const FlowId other = w.stacks[0]->start_tcp_flow(1, 443, 1000);  // another remote port is fine
  EXPECT_EQ(w.records.outcome[other], FlowOutcome::kIncompleteAtEnd);
  w.kernel.run_until(sim::Seconds(1));
  EXPECT_EQ(w.records.outcome[a], FlowOutcome::kCompleted);
  EXPECT_EQ(w.records.outcome[other], FlowOutcome::kCompleted);
}

TEST(TrafficTcp, SegmentForNoConnectionIsAnsweredWithReset) {
  TestWorld w(11, 2, kDelay, datacenter_params());
  FiveTuple t;
  t.source = IpAddress::v4(w.vms[0].ipv4);
  t.destination = IpAddress::v4(w.vms[1].ipv4);
  t.source_port = 40000;
  t.destination_port = 80;
  t.protocol = kProtocolTcp;
  L2Addresses l2{w.vms[0].mac, w.vms[1].mac};
  TcpFields stray;
  stray.flags = tcp_flags::kAck;
  stray.seq = 100;
  stray.ack = 5555;
  Packet* p = w.pool.allocate();
  ASSERT_TRUE(build_tcp_frame(*p, l2, t, stray, 0, 0));
  p->source_vm = 0;
  p->destination_vm = 1;
  w.wire.inject(p, 1);
  w.kernel.run_until(sim::Millis(1));
  ASSERT_EQ(w.wire.log().size(), 1u);
  const WireEvent& rst = w.wire.log()[0];
  EXPECT_EQ(rst.from, 1u);
  EXPECT_EQ(rst.frame.tcp.flags, tcp_flags::kRst);
  EXPECT_EQ(rst.frame.tcp.seq, 5555u);  // RFC 793: the RST takes its sequence from the ACK
  EXPECT_EQ(w.stacks[1]->stats().resets_sent, 1u);
  EXPECT_EQ(w.stacks[0]->live_tcp_connection_count(), 0u);
}

}  // namespace
}  // namespace models::traffic
