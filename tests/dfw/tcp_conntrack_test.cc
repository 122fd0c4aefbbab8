// TCP connection tracking through the datapath: every state transition, flag validation,
// sequence-window checks, window scaling, loose pickup, reopening.

#include "datapath_fixture.h"

namespace dfw::testing {
namespace {

constexpr uint16_t kSport = 40000;
constexpr uint16_t kDport = 80;
constexpr uint32_t kIsnVm = 1000;
constexpr uint32_t kIsnPeer = 5000;

class TcpTest : public DatapathTest {
 protected:
  // VM -> peer packet / peer -> VM packet of the test connection.
  Bytes out(uint8_t flags, uint32_t seq, uint32_t ack, uint32_t payload = 0,
            uint16_t window = 65535, const Bytes& options = {}) {
    return tcp4(kVm, kPeer, kSport, kDport, flags, seq, ack, window, options, payload);
  }
  Bytes in(uint8_t flags, uint32_t seq, uint32_t ack, uint32_t payload = 0,
           uint16_t window = 65535, const Bytes& options = {}) {
    return tcp4(kPeer, kVm, kDport, kSport, flags, seq, ack, window, options, payload);
  }
  void handshake() {
    Result r = egress(out(SYN, kIsnVm, 0));
    ASSERT_EQ(r.verdict, Verdict::kAllow);
    ASSERT_TRUE(r.connection_created);
    ASSERT_EQ(state_of(out(ACK, 0, 0)), "syn_sent");
    r = ingress(in(SYN | ACK, kIsnPeer, kIsnVm + 1));
    ASSERT_EQ(r.verdict, Verdict::kAllow) << drop_reason_name(r.reason);
    ASSERT_TRUE(r.connection_hit);
    ASSERT_EQ(state_of(out(ACK, 0, 0)), "syn_recv");
    r = egress(out(ACK, kIsnVm + 1, kIsnPeer + 1));
    ASSERT_EQ(r.verdict, Verdict::kAllow) << drop_reason_name(r.reason);
    ASSERT_EQ(state_of(out(ACK, 0, 0)), "established");
  }
  std::string state() { return state_of(out(ACK, 0, 0)); }
};

TEST_F(TcpTest, HandshakeReachesEstablishedWithStateTimeouts) {
  start();
  ASSERT_TRUE(egress(out(SYN, kIsnVm, 0)).connection_created);
  EXPECT_EQ(deadline_of(out(ACK, 0, 0)), kT0 + 11 * kSecond);
  ASSERT_EQ(ingress(in(SYN | ACK, kIsnPeer, kIsnVm + 1), kT0 + 1).verdict, Verdict::kAllow);
  EXPECT_EQ(deadline_of(out(ACK, 0, 0)), kT0 + 1 + 12 * kSecond);
  ASSERT_EQ(egress(out(ACK, kIsnVm + 1, kIsnPeer + 1), kT0 + 2).verdict, Verdict::kAllow);
  EXPECT_EQ(state(), "established");
  EXPECT_EQ(deadline_of(out(ACK, 0, 0)), kT0 + 2 + 13 * kSecond);
  EXPECT_EQ(dp->connection_count(1), 1u);
}

TEST_F(TcpTest, DataBothWaysThenActiveCloseThroughTimeWait) {
  start();
  handshake();
  EXPECT_EQ(egress(out(ACK | PSH, kIsnVm + 1, kIsnPeer + 1, 100)).verdict, Verdict::kAllow);
  EXPECT_EQ(ingress(in(ACK | PSH, kIsnPeer + 1, kIsnVm + 101, 200)).verdict, Verdict::kAllow);
  EXPECT_EQ(egress(out(FIN | ACK, kIsnVm + 101, kIsnPeer + 201)).verdict, Verdict::kAllow);
  EXPECT_EQ(state(), "fin_wait");
  EXPECT_EQ(ingress(in(ACK, kIsnPeer + 201, kIsnVm + 102)).verdict, Verdict::kAllow);
  EXPECT_EQ(state(), "close_wait");
  EXPECT_EQ(ingress(in(FIN | ACK, kIsnPeer + 201, kIsnVm + 102)).verdict, Verdict::kAllow);
  EXPECT_EQ(state(), "last_ack");
  EXPECT_EQ(egress(out(ACK, kIsnVm + 102, kIsnPeer + 202)).verdict, Verdict::kAllow);
  EXPECT_EQ(state(), "time_wait");
  EXPECT_EQ(deadline_of(out(ACK, 0, 0)), kT0 + 17 * kSecond);
}

TEST_F(TcpTest, PassiveCloseFromPeer) {
  start();
  handshake();
  EXPECT_EQ(ingress(in(FIN | ACK, kIsnPeer + 1, kIsnVm + 1)).verdict, Verdict::kAllow);
  EXPECT_EQ(state(), "fin_wait");
  EXPECT_EQ(egress(out(FIN | ACK, kIsnVm + 1, kIsnPeer + 2)).verdict, Verdict::kAllow);
  EXPECT_EQ(state(), "last_ack");
  EXPECT_EQ(ingress(in(ACK, kIsnPeer + 2, kIsnVm + 2)).verdict, Verdict::kAllow);
  EXPECT_EQ(state(), "time_wait");
}

TEST_F(TcpTest, ResetClosesAndShortensTheDeadline) {
  start();
  handshake();
  EXPECT_EQ(ingress(in(RST, kIsnPeer + 1, 0), kT0 + kSecond).verdict, Verdict::kAllow);
  EXPECT_EQ(state(), "close");
  EXPECT_EQ(deadline_of(out(ACK, 0, 0)), kT0 + kSecond + 18 * kSecond);
  // The wheel re-filed it earlier: expiry removes it at exactly that deadline.
  dp->expire(kT0 + 19 * kSecond - 1);
  EXPECT_EQ(dp->connection_count(1), 1u);
  dp->expire(kT0 + 19 * kSecond);
  EXPECT_EQ(dp->connection_count(1), 0u);
  EXPECT_EQ(dp->stats().connections_expired, 1u);
}

TEST_F(TcpTest, ResetOutsideTheWindowIsDropped) {
  start();
  handshake();
  const Result r = ingress(in(RST, kIsnPeer + 10'000'000, 0));
  EXPECT_EQ(r.reason, DropReason::kOutOfWindow);
  EXPECT_EQ(state(), "established");
}

TEST_F(TcpTest, ResetOfSynSentNeedsTheRightAck) {
  start();
  ASSERT_TRUE(egress(out(SYN, kIsnVm, 0)).connection_created);
  EXPECT_EQ(ingress(in(RST | ACK, 0, kIsnVm + 5000)).reason, DropReason::kOutOfWindow);
  EXPECT_EQ(ingress(in(RST | ACK, 0, kIsnVm + 1)).verdict, Verdict::kAllow);
  EXPECT_EQ(state(), "close");
}

TEST_F(TcpTest, NewSynReopensTimeWaitAndIsClassifiedAgain) {
  start(make_table({{.id = 7, .action = Action::kAllow, .protocol = 6}}, Action::kDrop));
  handshake();
  egress(out(FIN | ACK, kIsnVm + 1, kIsnPeer + 1));
  ingress(in(FIN | ACK, kIsnPeer + 1, kIsnVm + 2));
  egress(out(ACK, kIsnVm + 2, kIsnPeer + 2));
  ASSERT_EQ(state(), "time_wait");
  const Result r = egress(out(SYN, 90000, 0));
  EXPECT_EQ(r.verdict, Verdict::kAllow);
  EXPECT_TRUE(r.connection_created);
  EXPECT_EQ(r.work.conns_destroyed, 1);
  EXPECT_EQ(r.rule_id, 7);
  EXPECT_EQ(state(), "syn_sent");
  EXPECT_EQ(dp->connection_count(1), 1u);
}

TEST_F(TcpTest, SimultaneousOpen) {
  start();
  ASSERT_TRUE(egress(out(SYN, kIsnVm, 0)).connection_created);
  EXPECT_EQ(ingress(in(SYN, kIsnPeer, 0)).verdict, Verdict::kAllow);
  EXPECT_EQ(state(), "syn_sent2");
  EXPECT_EQ(ingress(in(SYN | ACK, kIsnPeer, kIsnVm + 1)).verdict, Verdict::kAllow);
  EXPECT_EQ(state(), "syn_recv");
}

TEST_F(TcpTest, InvalidFlagCombinationsAreDropped) {
  start();
  for (uint8_t flags : {uint8_t(SYN | FIN), uint8_t(0), uint8_t(FIN | PSH | URG), uint8_t(FIN),
                        uint8_t(SYN | RST), uint8_t(RST | URG)}) {
    const Result r = egress(out(flags, 1, 0));
    EXPECT_EQ(r.reason, DropReason::kInvalidState) << int(flags);
    EXPECT_FALSE(r.connection_created);
  }
  handshake();
  EXPECT_EQ(egress(out(SYN | FIN, kIsnVm + 1, 0)).reason, DropReason::kInvalidState);
  EXPECT_EQ(drops(DropReason::kInvalidState), 7u);
}

TEST_F(TcpTest, OnlyASynCreatesAConnection) {
  start();
  EXPECT_EQ(egress(out(ACK, 1, 1)).reason, DropReason::kInvalidState);
  EXPECT_EQ(egress(out(RST, 1, 0)).reason, DropReason::kInvalidState);
  EXPECT_EQ(egress(out(SYN | ACK, 1, 1)).reason, DropReason::kInvalidState);
  EXPECT_EQ(egress(out(FIN | ACK, 1, 1)).reason, DropReason::kInvalidState);
  EXPECT_EQ(dp->connection_count(1), 0u);
}

TEST_F(TcpTest, LoosePickupOfMidStreamConnections) {
  config.tcp_loose = true;
  start();
  const Result r = ingress(in(ACK, 777, 888, 100));
  EXPECT_EQ(r.verdict, Verdict::kAllow);
  EXPECT_TRUE(r.connection_created);
  EXPECT_EQ(state_of(out(ACK, 0, 0)), "established");
  EXPECT_EQ(egress(out(ACK, 888, 877)).verdict, Verdict::kAllow);
  EXPECT_EQ(egress(out(RST, 5, 0), kT0).verdict, Verdict::kAllow);  // liberal windows
  // RSTs never create, even loosely; nor does FIN|ACK (invalid in Linux's NONE state too; found
  // by the nftables differential test).
  EXPECT_EQ(ingress(tcp4(kPeer, kVm, 1, 2, RST, 1, 0)).reason, DropReason::kInvalidState);
  EXPECT_EQ(ingress(tcp4(kPeer, kVm, 3, 4, FIN | ACK, 1, 1)).reason, DropReason::kInvalidState);
}

TEST_F(TcpTest, SequenceBeyondTheReceiversWindowIsOutOfWindow) {
  start();
  handshake();  // both windows 65535, no scaling
  const Result r = egress(out(ACK | PSH, kIsnVm + 1 + 70000, kIsnPeer + 1, 10));
  EXPECT_EQ(r.reason, DropReason::kOutOfWindow);
  EXPECT_EQ(drops(DropReason::kOutOfWindow), 1u);
  // Within the window it passes.
  EXPECT_EQ(egress(out(ACK | PSH, kIsnVm + 1 + 60000, kIsnPeer + 1, 10)).verdict,
            Verdict::kAllow);
}

TEST_F(TcpTest, AckOfDataNeverSentIsOutOfWindow) {
  start();
  handshake();
  EXPECT_EQ(egress(out(ACK, kIsnVm + 1, kIsnPeer + 1 + 100)).reason, DropReason::kOutOfWindow);
  EXPECT_EQ(ingress(in(ACK, kIsnPeer + 1, kIsnVm + 1 + 100)).reason, DropReason::kOutOfWindow);
  // Acknowledging what was sent is fine.
  ASSERT_EQ(ingress(in(ACK | PSH, kIsnPeer + 1, kIsnVm + 1, 100)).verdict, Verdict::kAllow);
  EXPECT_EQ(egress(out(ACK, kIsnVm + 1, kIsnPeer + 101)).verdict, Verdict::kAllow);
}

TEST_F(TcpTest, VeryOldSegmentIsOutOfWindow) {
  start();
  handshake();
  EXPECT_EQ(egress(out(ACK, kIsnVm - 200000, kIsnPeer + 1)).reason, DropReason::kOutOfWindow);
}

TEST_F(TcpTest, WindowScalingFromSynOptionsWidensTheWindow) {
  start();
  // Both sides announce scale 7: a window field of 1000 means 128000 bytes.
  ASSERT_TRUE(egress(out(SYN, kIsnVm, 0, 0, 1000, tcp_wscale_option(7))).connection_created);
  ASSERT_EQ(ingress(in(SYN | ACK, kIsnPeer, kIsnVm + 1, 0, 1000, tcp_wscale_option(7))).verdict,
            Verdict::kAllow);
  ASSERT_EQ(egress(out(ACK, kIsnVm + 1, kIsnPeer + 1, 0, 1000)).verdict, Verdict::kAllow);
  ASSERT_EQ(ingress(in(ACK, kIsnPeer + 1, kIsnVm + 1, 0, 1000)).verdict, Verdict::kAllow);
  EXPECT_EQ(egress(out(ACK | PSH, kIsnVm + 1 + 100000, kIsnPeer + 1, 10, 1000)).verdict,
            Verdict::kAllow);
}

TEST_F(TcpTest, WindowScalingNeedsBothSides) {
  start();
  // Only the VM offers scaling: it is off, so 1000 means 1000 bytes.
  ASSERT_TRUE(egress(out(SYN, kIsnVm, 0, 0, 1000, tcp_wscale_option(7))).connection_created);
  ASSERT_EQ(ingress(in(SYN | ACK, kIsnPeer, kIsnVm + 1, 0, 1000)).verdict, Verdict::kAllow);
  ASSERT_EQ(egress(out(ACK, kIsnVm + 1, kIsnPeer + 1, 0, 1000)).verdict, Verdict::kAllow);
  ASSERT_EQ(ingress(in(ACK, kIsnPeer + 1, kIsnVm + 1, 0, 1000)).verdict, Verdict::kAllow);
  EXPECT_EQ(egress(out(ACK | PSH, kIsnVm + 1 + 100000, kIsnPeer + 1, 10, 1000)).reason,
            DropReason::kOutOfWindow);
}

TEST_F(TcpTest, RetransmittedSynAndSynAckAreIgnoredInEstablished) {
  start();
  handshake();
  EXPECT_EQ(egress(out(SYN, kIsnVm, 0)).verdict, Verdict::kAllow);
  EXPECT_EQ(ingress(in(SYN | ACK, kIsnPeer, kIsnVm + 1)).verdict, Verdict::kAllow);
  EXPECT_EQ(state(), "established");
}

TEST_F(TcpTest, SynAckFromTheOriginatorIsInvalid) {
  start();
  ASSERT_TRUE(egress(out(SYN, kIsnVm, 0)).connection_created);
  EXPECT_EQ(egress(out(SYN | ACK, kIsnVm, 1)).reason, DropReason::kInvalidState);
  EXPECT_EQ(ingress(in(FIN | ACK, kIsnPeer, kIsnVm + 1)).reason, DropReason::kInvalidState);
}

TEST_F(TcpTest, ConnectionStartedByThePeerOnIngress) {
  start();
  ASSERT_TRUE(ingress(in(SYN, kIsnPeer, 0)).connection_created);
  ConnectionInfo info;
  ASSERT_TRUE(dp->lookup_connection(1, Direction::kEgress, view(out(ACK, 0, 0)), kT0, info));
  EXPECT_EQ(info.origin, Direction::kIngress);
  EXPECT_TRUE(info.reply);
  EXPECT_EQ(egress(out(SYN | ACK, kIsnVm, kIsnPeer + 1)).verdict, Verdict::kAllow);
  EXPECT_EQ(ingress(in(ACK, kIsnPeer + 1, kIsnVm + 1)).verdict, Verdict::kAllow);
  EXPECT_EQ(state(), "established");
}

TEST_F(TcpTest, ExpiredConnectionIsGoneEvenBeforeExpireRuns) {
  start();
  handshake();
  const int64_t later = kT0 + 13 * kSecond;  // the established deadline
  EXPECT_EQ(state_of(out(ACK, 0, 0), Direction::kEgress, later), "none");
  const Result r = egress(out(ACK, kIsnVm + 1, kIsnPeer + 1), later);
  EXPECT_EQ(r.reason, DropReason::kInvalidState);
  EXPECT_EQ(r.work.conns_destroyed, 1);
  EXPECT_EQ(dp->connection_count(1), 0u);
}

TEST_F(TcpTest, TrafficRefreshesTheDeadline) {
  start();
  handshake();
  EXPECT_EQ(egress(out(ACK, kIsnVm + 1, kIsnPeer + 1), kT0 + 10 * kSecond).verdict,
            Verdict::kAllow);
  dp->expire(kT0 + 20 * kSecond);
  EXPECT_EQ(dp->connection_count(1), 1u);
  dp->expire(kT0 + 23 * kSecond);
  EXPECT_EQ(dp->connection_count(1), 0u);
}

TEST_F(TcpTest, Ipv6Handshake) {
  start();
  const std::string vm = "2001:db8::1", peer = "2001:db8::2";
  ASSERT_TRUE(egress(tcp6(vm, peer, 1, 443, SYN, 10)).connection_created);
  EXPECT_EQ(ingress(tcp6(peer, vm, 443, 1, SYN | ACK, 20, 11)).verdict, Verdict::kAllow);
  EXPECT_EQ(egress(tcp6(vm, peer, 1, 443, ACK, 11, 21)).verdict, Verdict::kAllow);
  EXPECT_EQ(state_of(tcp6(vm, peer, 1, 443, ACK)), "established");
}

}  // namespace
}  // namespace dfw::testing
