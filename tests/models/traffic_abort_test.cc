// A VM dies (TransportStack::abort_all) and boots again (restart): its own flows end as
// failed_aborted/vm_crashed at the crash, nothing of the old stack sends or fires afterwards,
// flows asked for while it is dead fail at once, and a peer's connection to it fails the way
// real TCP does against a rebooted guest (the fresh stack answers the peer's retransmission
// with a RST).
#include <gtest/gtest.h>

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

TEST(TrafficAbort, CrashEndsOwnFlowsAtOnceAndLeavesNothingRunning) {
  TestWorld w(7, 3, kDelay, datacenter_params());
  TransportStack& dying = *w.stacks[0];
  // vm0 is the client of a TCP flow (to vm1) and of a UDP flow (to vm2), both far from done at
  // the crash; vm2 is the client of a TCP flow to vm0 (vm0 serves it).
  const FlowId tcp_out = dying.start_tcp_flow(1, 8080, 1'000'000'000);
  const FlowId udp_out = dying.start_udp_flow(2, 9000, 1'000'000'000);  // 1 Gb/s: seconds
  const FlowId tcp_in = w.stacks[2]->start_tcp_flow(0, 8080, 1'000'000'000);
  const sim::Time crash = sim::Micros(55);  // after both handshakes (20 us)
  std::size_t freed = 0;
  w.kernel.schedule_at(crash, dying.entity(), [&] { freed = dying.abort_all(FlowReason::kVmCrashed); });
  w.kernel.run_until(sim::Micros(60));
  // vm0 held: its TCP client connection, its UDP flow, the server side of vm2's connection.
  EXPECT_EQ(freed, 3u);
  EXPECT_EQ(dying.stats().flows_aborted, 3u);
  EXPECT_EQ(dying.live_tcp_connection_count(), 0u);
  EXPECT_EQ(dying.live_udp_flow_count(), 0u);
  EXPECT_TRUE(dying.down());
  for (FlowId id : {tcp_out, udp_out}) {
    EXPECT_EQ(w.records.outcome[id], FlowOutcome::kFailedAborted) << id;
    EXPECT_EQ(w.records.reason[id], FlowReason::kVmCrashed) << id;
    EXPECT_EQ(w.records.end_ns[id], crash.ns()) << id;
  }
  // The peer's flow is the peer's: not finished by the crash.
  EXPECT_FALSE(w.records.finished(tcp_in));

  // A flow asked for while the VM is dead fails at once and sends nothing.
  const FlowId while_down = dying.start_tcp_flow(1, 8080, 1000);
  EXPECT_EQ(w.records.outcome[while_down], FlowOutcome::kFailedAborted);
  EXPECT_EQ(w.records.reason[while_down], FlowReason::kSourceVmDown);
  EXPECT_EQ(w.records.end_ns[while_down], w.kernel.now().ns());

  const uint64_t timeouts_at_crash = dying.stats().timeouts;
  const uint64_t sent_at_crash = dying.stats().packets_sent;
  w.kernel.run_until(sim::Seconds(2));
  // Nothing of the old stack ran after the crash: no packet from vm0 (no retransmission, no
  // UDP datagram, no RST for the peer's segments), no timer.
  for (const WireEvent& e : w.wire.log()) {
    if (e.from == 0) {
      EXPECT_LE(e.at, crash) << "vm0 sent at " << e.at.ns();
    }
  }
  EXPECT_EQ(dying.stats().timeouts, timeouts_at_crash);
  EXPECT_EQ(dying.stats().packets_sent, sent_at_crash);
  // vm2's segments to the dead VM were discarded there (no answer at all).
  EXPECT_GT(dying.stats().packets_while_down, 0u);
  EXPECT_FALSE(w.records.finished(tcp_in));  // still retrying towards a silent peer
  EXPECT_GT(w.records.retransmissions[tcp_in], 0u);
}

TEST(TrafficAbort, RebootedPeerAnswersTheOldConnectionWithAResetAndNewFlowsWork) {
  TestWorld w(11, 2, kDelay, datacenter_params());
  TransportStack& server = *w.stacks[1];
  const FlowId flow = w.stacks[0]->start_tcp_flow(1, 8080, 1'000'000'000);
  const sim::Time crash = sim::Micros(55);
  const sim::Time boot = sim::Micros(500);  // before vm0's first RTO (min_rto 1 ms)
  w.kernel.schedule_at(crash, server.entity(), [&] { server.abort_all(FlowReason::kVmCrashed); });
  w.kernel.schedule_at(boot, server.entity(), [&] { server.restart(); });
  w.kernel.run_until(sim::Seconds(1));

  EXPECT_FALSE(server.down());
  // The first segment vm0 sent after the reboot reaches the fresh stack, which has no such
  // connection: RFC 793 answers it with a RST (seq = its ACK), and vm0's flow fails at once.
  const auto& log = w.wire.log();
  const WireEvent* first_after = nullptr;
  const WireEvent* reset = nullptr;
  for (const WireEvent& e : log) {
    if (first_after == nullptr && e.from == 0 && e.at + kDelay >= boot) first_after = &e;
    if (reset == nullptr && e.from == 1 && (e.frame.tcp.flags & tcp_flags::kRst)) reset = &e;
  }
  ASSERT_NE(first_after, nullptr);
  ASSERT_NE(reset, nullptr);
  EXPECT_EQ(reset->at, first_after->at + kDelay);
  EXPECT_EQ(reset->frame.tcp.flags, tcp_flags::kRst);
  EXPECT_EQ(reset->frame.tcp.seq, first_after->frame.tcp.ack);
  EXPECT_EQ(w.records.outcome[flow], FlowOutcome::kFailedRejected);
  EXPECT_EQ(w.records.reason[flow], FlowReason::kResetEstablished);
  EXPECT_EQ(w.records.end_ns[flow], (reset->at + kDelay).ns());
  EXPECT_EQ(server.stats().resets_sent, 1u);

  // The rebooted VM's stack works: a new flow from it completes.
  const FlowId fresh = server.start_tcp_flow(0, 8080, 10 * kMss);
  w.kernel.run_until(sim::Seconds(2));
  EXPECT_EQ(w.records.outcome[fresh], FlowOutcome::kCompleted);
  EXPECT_EQ(w.records.bytes_received[fresh], 10 * kMss);
}

}  // namespace
}  // namespace models::traffic
