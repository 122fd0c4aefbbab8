// The datapath beyond TCP: UDP and ICMP pseudo-states, ICMP errors, neighbour discovery, ARP and
// other EtherTypes, fragments, the table limit, expiry, reject frames, ports and rule tables,
// counters, batches.

#include <arpa/inet.h>

#include "datapath_fixture.h"

namespace dfw::testing {
namespace {

Bytes ping4(const std::string& src, const std::string& dst, uint8_t type, uint16_t id) {
  return eth(0x0800, ipv4(src, dst, 1, icmp(type, 0, id, 1)));
}

TEST_F(DatapathTest, UdpUnrepliedThenReplied) {
  start();
  const Bytes request = udp4(kVm, kPeer, 5000, 53, 20);
  const Bytes response = udp4(kPeer, kVm, 53, 5000, 80);
  ASSERT_TRUE(egress(request).connection_created);
  EXPECT_EQ(state_of(request), "unreplied");
  EXPECT_EQ(deadline_of(request), kT0 + 21 * kSecond);
  const Result r = ingress(response, kT0 + kSecond);
  EXPECT_EQ(r.verdict, Verdict::kAllow);
  EXPECT_TRUE(r.connection_hit);
  EXPECT_EQ(state_of(request), "replied");
  EXPECT_EQ(deadline_of(request), kT0 + kSecond + 22 * kSecond);
}

TEST_F(DatapathTest, RepliesPassWithoutClassification) {
  // Egress to port 53 allowed; all ingress denied: the reply still passes.
  start(make_table({{.id = 1, .action = Action::kAllow, .protocol = 17, .dport_first = 53,
                     .dport_last = 53, .direction = Direction::kEgress}},
                   Action::kDrop));
  ASSERT_EQ(egress(udp4(kVm, kPeer, 5000, 53)).rule_id, 1);
  const Result reply = ingress(udp4(kPeer, kVm, 53, 5000));
  EXPECT_EQ(reply.verdict, Verdict::kAllow);
  EXPECT_EQ(reply.work.classifier_steps, 0u);
  EXPECT_EQ(reply.rule_id, 1);
  // A fresh ingress flow is classified and denied.
  EXPECT_EQ(ingress(udp4(kPeer, kVm, 53, 5001)).reason, DropReason::kDefaultDrop);
  // A spoofed "reply" on the wrong side of the port is a different flow.
  EXPECT_EQ(egress(udp4(kPeer, kVm, 53, 5000)).reason, DropReason::kDefaultDrop);
}

TEST_F(DatapathTest, UdpExpiresAndExpireReportsNextDeadline) {
  start();
  ASSERT_TRUE(egress(udp4(kVm, kPeer, 1, 2)).connection_created);
  const int64_t next = dp->expire(kT0);
  EXPECT_GT(next, kT0);
  EXPECT_LE(next, kT0 + 21 * kSecond);
  // Calling at the reported times eventually lands exactly on the deadline.
  int64_t t = next;
  for (int i = 0; i < 100 && dp->connection_count(1) == 1; ++i) t = dp->expire(t);
  EXPECT_EQ(dp->connection_count(1), 0u);
  EXPECT_EQ(t, INT64_MAX);
  EXPECT_EQ(dp->stats().connections_expired, 1u);
}

TEST_F(DatapathTest, ExpiryIsExactAcrossWheelTurns) {
  // Deadlines far beyond one wheel turn (~18 minutes) still expire exactly.
  config.timeouts.udp_unreplied = 3600 * kSecond + 12345;
  start();
  ASSERT_TRUE(egress(udp4(kVm, kPeer, 1, 2)).connection_created);
  ASSERT_TRUE(egress(udp4(kVm, kPeer, 1, 3), kT0 + 7).connection_created);
  int64_t t = kT0;
  while (t < kT0 + 3600 * kSecond + 12345) {
    EXPECT_EQ(dp->connection_count(1), 2u);
    t = dp->expire(t);
  }
  EXPECT_EQ(t, kT0 + 3600 * kSecond + 12345);
  dp->expire(t);
  EXPECT_EQ(dp->connection_count(1), 1u);
  EXPECT_EQ(dp->expire(t), kT0 + 3600 * kSecond + 12345 + 7);
}

TEST_F(DatapathTest, IcmpEchoById) {
  start();
  ASSERT_TRUE(egress(ping4(kVm, kPeer, 8, 42)).connection_created);
  EXPECT_EQ(state_of(ping4(kVm, kPeer, 8, 42)), "unreplied");
  EXPECT_EQ(ingress(ping4(kPeer, kVm, 0, 42)).verdict, Verdict::kAllow);
  EXPECT_EQ(state_of(ping4(kVm, kPeer, 8, 42)), "replied");
  EXPECT_EQ(deadline_of(ping4(kVm, kPeer, 8, 42)), kT0 + 23 * kSecond);
  // A reply with another id, or one nobody asked for, is invalid.
  EXPECT_EQ(ingress(ping4(kPeer, kVm, 0, 43)).reason, DropReason::kInvalidState);
  // A request travelling the reply way on the same id is invalid too.
  EXPECT_EQ(ingress(ping4(kPeer, kVm, 8, 42)).reason, DropReason::kInvalidState);
  // ICMPv6 echo.
  const Bytes req6 = eth(0x86DD, ipv6("2001:db8::1", "2001:db8::2", 58, icmp(128, 0, 9)));
  const Bytes rep6 = eth(0x86DD, ipv6("2001:db8::2", "2001:db8::1", 58, icmp(129, 0, 9)));
  ASSERT_TRUE(egress(req6).connection_created);
  EXPECT_EQ(ingress(rep6).verdict, Verdict::kAllow);
}

TEST_F(DatapathTest, IcmpErrorsRelatedToATrackedFlowPass) {
  start(make_table({{.id = 1, .action = Action::kAllow, .direction = Direction::kEgress}},
                   Action::kDrop));
  ASSERT_TRUE(egress(udp4(kVm, kPeer, 5000, 53)).connection_created);
  const Bytes quoted = ipv4(kVm, kPeer, 17, udp(5000, 53));
  const Bytes related = eth(0x0800, ipv4("192.0.2.1", kVm, 1, icmp(3, 3, 0, 0, quoted)));
  const Result r = ingress(related);
  EXPECT_EQ(r.verdict, Verdict::kAllow);
  EXPECT_TRUE(r.connection_hit);
  const Bytes other = ipv4(kVm, kPeer, 17, udp(5001, 53));
  EXPECT_EQ(ingress(eth(0x0800, ipv4("192.0.2.1", kVm, 1, icmp(11, 0, 0, 0, other)))).reason,
            DropReason::kInvalidState);
  // An error about an echo request we sent.
  ASSERT_TRUE(egress(ping4(kVm, kPeer, 8, 77)).connection_created);
  const Bytes echo = ipv4(kVm, kPeer, 1, icmp(8, 0, 77, 1));
  EXPECT_EQ(ingress(eth(0x0800, ipv4("192.0.2.1", kVm, 1, icmp(3, 1, 0, 0, echo)))).verdict,
            Verdict::kAllow);
  // ICMPv6 packet too big about a TCP flow.
  ASSERT_TRUE(egress(tcp6("2001:db8::1", "2001:db8::2", 1, 2, SYN)).connection_created);
  const Bytes q6 = ipv6("2001:db8::1", "2001:db8::2", 6, tcp(1, 2, SYN));
  EXPECT_EQ(ingress(eth(0x86DD, ipv6("2001:db8::9", "2001:db8::1", 58, icmp(2, 0, 0, 0, q6))))
                .verdict,
            Verdict::kAllow);
}

TEST_F(DatapathTest, OtherIcmpIsClassifiedWithoutState) {
  start(make_table({{.id = 4, .action = Action::kAllow, .protocol = 1}}, Action::kDrop));
  const Result r = ingress(ping4(kPeer, kVm, 9, 0));  // router advertisement
  EXPECT_EQ(r.verdict, Verdict::kAllow);
  EXPECT_EQ(r.rule_id, 4);
  EXPECT_FALSE(r.connection_created);
  EXPECT_EQ(dp->connection_count(1), 0u);
}

TEST_F(DatapathTest, NeighbourDiscoveryAndArpFollowTheArpPolicy) {
  const Bytes ns = eth(0x86DD, ipv6("fe80::1", "ff02::1:ff00:2", 58, icmp(135, 0)));
  start(make_table({}, Action::kDrop));
  EXPECT_EQ(egress(arp_request()).verdict, Verdict::kAllow);
  EXPECT_EQ(egress(ns).verdict, Verdict::kAllow);
  config.allow_arp = false;
  start();
  EXPECT_EQ(egress(arp_request()).reason, DropReason::kArpDenied);
  EXPECT_EQ(ingress(ns).reason, DropReason::kArpDenied);
}

TEST_F(DatapathTest, NonIpFollowsItsPolicy) {
  const Bytes lldp = eth(0x88CC, Bytes(46, 0));
  start();
  EXPECT_EQ(egress(lldp).reason, DropReason::kNonIpDenied);
  config.allow_non_ip = true;
  start();
  EXPECT_EQ(egress(lldp).verdict, Verdict::kAllow);
}

TEST_F(DatapathTest, MalformedPacketsAreCountedByReason) {
  start();
  Bytes bad = udp4(kVm, kPeer, 1, 2);
  bad[14] = 0x46;  // IHL 6 without options room... and a bad length
  bad[16] = 0;
  bad[17] = 10;
  EXPECT_EQ(egress(bad).reason, DropReason::kMalformedIpv4);
  EXPECT_EQ(egress(Bytes(10, 0)).reason, DropReason::kTruncated);
  EXPECT_EQ(drops(DropReason::kMalformedIpv4), 1u);
  EXPECT_EQ(drops(DropReason::kTruncated), 1u);
  EXPECT_EQ(dp->port_counters(1)->dropped, 2u);
  EXPECT_EQ(dp->stats().drops_by_reason[static_cast<std::size_t>(DropReason::kTruncated)], 1u);
}

TEST_F(DatapathTest, UnknownPort) {
  start();
  const Bytes f = udp4(kVm, kPeer, 1, 2);
  EXPECT_EQ(dp->process(9, Direction::kEgress, view(f), kT0).reason, DropReason::kUnknownPort);
  EXPECT_EQ(dp->stats().drops_by_reason[static_cast<std::size_t>(DropReason::kUnknownPort)], 1u);
}

TEST_F(DatapathTest, ConnectionTableFull) {
  config.connection_limit = 2;
  start();
  ASSERT_TRUE(egress(udp4(kVm, kPeer, 1, 2)).connection_created);
  ASSERT_TRUE(egress(udp4(kVm, kPeer, 1, 3), kT0 + kSecond).connection_created);
  EXPECT_EQ(egress(udp4(kVm, kPeer, 1, 4)).reason, DropReason::kConnTableFull);
  EXPECT_EQ(drops(DropReason::kConnTableFull), 1u);
  // Existing connections keep working.
  EXPECT_EQ(ingress(udp4(kPeer, kVm, 3, 1), kT0 + kSecond).verdict, Verdict::kAllow);
  // Once the first expires there is room again.
  dp->expire(kT0 + 21 * kSecond);
  EXPECT_TRUE(egress(udp4(kVm, kPeer, 1, 4), kT0 + 21 * kSecond).connection_created);
}

Bytes fragment4(uint16_t id, uint16_t offset, bool more, const Bytes& payload,
                const std::string& src = kVm, const std::string& dst = kPeer) {
  return eth(0x0800, ipv4(src, dst, 17, payload,
                          {.id = id, .fragment_offset = offset, .more_fragments = more}));
}

TEST_F(DatapathTest, LaterFragmentsFollowTheFirst) {
  start(make_table({{.id = 3, .action = Action::kAllow, .protocol = 17, .dport_first = 53,
                     .dport_last = 53}},
                   Action::kDrop));
  const Result first = egress(fragment4(10, 0, true, udp(1, 53, 1400)));
  EXPECT_EQ(first.verdict, Verdict::kAllow);
  EXPECT_EQ(dp->stats().live_fragments, 1u);
  const Result later = egress(fragment4(10, 1408, false, Bytes(100, 0)));
  EXPECT_EQ(later.verdict, Verdict::kAllow);
  EXPECT_EQ(later.rule_id, 3);
  // The first fragment of a denied datagram takes its later fragments with it.
  EXPECT_EQ(egress(fragment4(11, 0, true, udp(1, 54, 1400))).reason, DropReason::kDefaultDrop);
  EXPECT_EQ(egress(fragment4(11, 1408, false, Bytes(100, 0))).reason, DropReason::kDefaultDrop);
  // A later fragment whose first was never seen.
  EXPECT_EQ(egress(fragment4(12, 1408, false, Bytes(100, 0))).reason,
            DropReason::kFragmentNoFirst);
  // Same id from another source is another datagram.
  EXPECT_EQ(egress(fragment4(10, 1408, false, Bytes(100, 0), "10.0.0.9")).reason,
            DropReason::kFragmentNoFirst);
  // The entry expires with the fragment timeout.
  dp->expire(kT0 + 24 * kSecond);
  EXPECT_EQ(dp->stats().live_fragments, 0u);
  EXPECT_EQ(egress(fragment4(10, 1408, false, Bytes(100, 0)), kT0 + 24 * kSecond).reason,
            DropReason::kFragmentNoFirst);
}

TEST_F(DatapathTest, Ipv6FragmentsFollowTheFirst) {
  start();
  const std::string a = "2001:db8::1", b = "2001:db8::2";
  EXPECT_EQ(egress(eth(0x86DD, ipv6(a, b, 44, ipv6_fragment(17, 0, true, 5) + udp(1, 2, 64))))
                .verdict,
            Verdict::kAllow);
  EXPECT_EQ(egress(eth(0x86DD, ipv6(a, b, 44, ipv6_fragment(17, 72, false, 5) + Bytes(8, 0))))
                .verdict,
            Verdict::kAllow);
  EXPECT_EQ(egress(eth(0x86DD, ipv6(a, b, 44, ipv6_fragment(17, 72, false, 6) + Bytes(8, 0))))
                .reason,
            DropReason::kFragmentNoFirst);
}

TEST_F(DatapathTest, FragmentTableFull) {
  config.fragment_limit = 1;
  start();
  EXPECT_EQ(egress(fragment4(1, 0, true, udp(1, 2, 100))).verdict, Verdict::kAllow);
  EXPECT_EQ(egress(fragment4(2, 0, true, udp(1, 3, 100))).reason,
            DropReason::kFragmentTableFull);
  // A retransmitted first fragment refreshes its entry rather than needing a new one.
  EXPECT_EQ(egress(fragment4(1, 0, true, udp(1, 2, 100))).verdict, Verdict::kAllow);
  dp->expire(kT0 + 24 * kSecond);
  EXPECT_EQ(egress(fragment4(2, 0, true, udp(1, 4, 100)), kT0 + 24 * kSecond).verdict,
            Verdict::kAllow);
}

// Internet checksum over bytes; 0 when a header's checksum is right.
uint16_t fold(uint32_t sum) {
  while (sum >> 16) sum = (sum & 0xFFFF) + (sum >> 16);
  return static_cast<uint16_t>(~sum);
}
uint32_t add(uint32_t sum, const uint8_t* p, std::size_t n) {
  for (std::size_t i = 0; i + 1 < n; i += 2) sum += (p[i] << 8) | p[i + 1];
  if (n & 1) sum += p[n - 1] << 8;
  return sum;
}

TEST_F(DatapathTest, RejectTcpSendsAResetBackToTheSender) {
  start(make_table({{.id = 9, .action = Action::kReject, .protocol = 6}}, Action::kAllow));
  const Bytes syn = tcp4(kVm, kPeer, 40000, 22, SYN, 1000);
  const Result r = egress(syn);
  EXPECT_EQ(r.reason, DropReason::kRuleReject);
  EXPECT_EQ(r.rule_id, 9);
  EXPECT_EQ(r.work.frames_generated, 1);
  ASSERT_EQ(frames.frames.size(), 1u);
  const CapturedFrame& f = frames.frames[0];
  EXPECT_EQ(f.port, 1u);
  EXPECT_TRUE(f.toward_vm);
  const Bytes& b = f.bytes;
  ASSERT_EQ(b.size(), 54u);
  EXPECT_TRUE(std::equal(b.begin(), b.begin() + 6, syn.begin() + 6));  // to the sender's MAC
  EXPECT_EQ(b[12], 0x08);
  EXPECT_EQ(b[14 + 9], 6);
  EXPECT_TRUE(std::equal(b.begin() + 26, b.begin() + 30, syn.begin() + 30));  // src = old dst
  EXPECT_TRUE(std::equal(b.begin() + 30, b.begin() + 34, syn.begin() + 26));
  EXPECT_EQ(fold(add(0, b.data() + 14, 20)), 0);  // IP header checksum
  const uint8_t* t = b.data() + 34;
  EXPECT_EQ((t[0] << 8) | t[1], 22);
  EXPECT_EQ((t[2] << 8) | t[3], 40000);
  EXPECT_EQ(t[13], RST | ACK);
  const uint32_t ack = (uint32_t(t[8]) << 24) | (t[9] << 16) | (t[10] << 8) | t[11];
  EXPECT_EQ(ack, 1001u);
  uint32_t pseudo = add(0, b.data() + 26, 8) + 6 + 20;
  EXPECT_EQ(fold(add(pseudo, t, 20)), 0);  // TCP checksum
  // A reset is never answered with a reset.
  EXPECT_EQ(egress(tcp4(kVm, kPeer, 40000, 22, RST, 5)).reason, DropReason::kInvalidState);
  EXPECT_EQ(frames.frames.size(), 1u);
}

TEST_F(DatapathTest, RejectAckTakesItsSequenceFromTheAck) {
  config.tcp_loose = true;
  start(make_table({{.id = 9, .action = Action::kReject, .protocol = 6}}, Action::kAllow));
  ingress(tcp4(kPeer, kVm, 22, 40000, ACK, 5, 777));
  ASSERT_EQ(frames.frames.size(), 1u);
  EXPECT_FALSE(frames.frames[0].toward_vm);  // back to the network
  const uint8_t* t = frames.frames[0].bytes.data() + 34;
  EXPECT_EQ(t[13], RST);
  EXPECT_EQ((uint32_t(t[4]) << 24) | (t[5] << 16) | (t[6] << 8) | t[7], 777u);
}

TEST_F(DatapathTest, RejectUdpSendsIcmpUnreachable) {
  start(make_table({{.id = 2, .action = Action::kReject, .protocol = 17}}, Action::kAllow));
  const Bytes dgram = udp4(kVm, kPeer, 5000, 53, 100);
  EXPECT_EQ(egress(dgram).reason, DropReason::kRuleReject);
  ASSERT_EQ(frames.frames.size(), 1u);
  const Bytes& b = frames.frames[0].bytes;
  ASSERT_EQ(b.size(), 14u + 20 + 8 + 28);  // quotes the IP header + 8 bytes
  EXPECT_EQ(b[14 + 9], 1);
  EXPECT_EQ(b[34], 3);
  EXPECT_EQ(b[35], 13);
  EXPECT_EQ(fold(add(0, b.data() + 34, 8 + 28)), 0);
  EXPECT_TRUE(std::equal(b.begin() + 42, b.end(), dgram.begin() + 14));
}

TEST_F(DatapathTest, RejectIpv6SendsIcmpv6AdministrativelyProhibited) {
  start(make_table({{.id = 2, .action = Action::kReject, .protocol = 17}}, Action::kAllow));
  const Bytes dgram = udp6("2001:db8::1", "2001:db8::2", 5000, 53, 10);
  egress(dgram);
  ASSERT_EQ(frames.frames.size(), 1u);
  const Bytes& b = frames.frames[0].bytes;
  ASSERT_EQ(b.size(), 14u + 40 + 8 + (dgram.size() - 14));
  EXPECT_EQ(b[14 + 6], 58);
  EXPECT_EQ(b[54], 1);
  EXPECT_EQ(b[55], 1);
  const uint32_t l4 = static_cast<uint32_t>(b.size() - 54);
  uint32_t pseudo = add(0, b.data() + 22, 32) + 58 + l4;
  EXPECT_EQ(fold(add(pseudo, b.data() + 54, l4)), 0);
}

TEST_F(DatapathTest, VlanTagsAreKeptInRejectFrames) {
  start(make_table({{.id = 2, .action = Action::kReject, .protocol = 17}}, Action::kAllow));
  egress(eth(0x0800, ipv4(kVm, kPeer, 17, udp(1, 2)), {0x8100}));
  ASSERT_EQ(frames.frames.size(), 1u);
  EXPECT_EQ(frames.frames[0].bytes[12], 0x81);
  EXPECT_EQ(frames.frames[0].bytes[16], 0x08);
}

TEST_F(DatapathTest, RuleDropAndDefaultDrop) {
  start(make_table({{.id = 5, .action = Action::kDrop, .protocol = 17}}, Action::kDrop));
  EXPECT_EQ(egress(udp4(kVm, kPeer, 1, 2)).reason, DropReason::kRuleDrop);
  EXPECT_EQ(egress(tcp4(kVm, kPeer, 1, 2, SYN)).reason, DropReason::kDefaultDrop);
  EXPECT_TRUE(frames.frames.empty());
}

TEST_F(DatapathTest, PortWithoutRulesDropsByDefault) {
  start(nullptr);
  EXPECT_EQ(egress(udp4(kVm, kPeer, 1, 2)).reason, DropReason::kDefaultDrop);
}

TEST_F(DatapathTest, PortsAreAddedAndRemoved) {
  start();
  EXPECT_FALSE(dp->add_port(1, nullptr));
  EXPECT_TRUE(dp->add_port(2, make_table({}, Action::kAllow)));
  ASSERT_TRUE(egress(udp4(kVm, kPeer, 1, 2)).connection_created);
  ASSERT_TRUE(dp->process(2, Direction::kEgress, view(udp4(kVm, kPeer, 1, 2)), kT0)
                  .connection_created);  // the same flow at another port is another connection
  EXPECT_EQ(dp->stats().live_connections, 2u);
  EXPECT_TRUE(dp->remove_port(1));
  EXPECT_FALSE(dp->has_port(1));
  EXPECT_FALSE(dp->remove_port(1));
  EXPECT_EQ(dp->stats().live_connections, 1u);
  EXPECT_EQ(dp->connection_count(2), 1u);
  dp->flush_all_connections();
  EXPECT_EQ(dp->stats().live_connections, 0u);
  EXPECT_EQ(dp->connection_count(2), 0u);
}

TEST_F(DatapathTest, RuleChangeKeepsEstablishedConnectionsUnlessReevaluated) {
  start(make_table({{.id = 1, .action = Action::kAllow, .protocol = 17}}, Action::kDrop));
  ASSERT_TRUE(egress(udp4(kVm, kPeer, 1, 53)).connection_created);
  ASSERT_TRUE(egress(udp4(kVm, kPeer, 1, 54)).connection_created);
  // The new table denies UDP/53 and does not re-evaluate: both flows keep passing.
  ASSERT_TRUE(dp->install_rules(
      1, make_table({{.id = 2, .action = Action::kDrop, .protocol = 17, .dport_first = 53,
                      .dport_last = 53},
                     {.id = 3, .action = Action::kAllow}},
                    Action::kDrop, 2),
      kT0));
  EXPECT_EQ(dp->rules(1)->version(), 2u);
  EXPECT_EQ(egress(udp4(kVm, kPeer, 1, 53)).verdict, Verdict::kAllow);
  EXPECT_EQ(egress(udp4(kVm, kPeer, 2, 53)).reason, DropReason::kRuleDrop);  // new flows see it
  // The same table with re-evaluation drops the UDP/53 connection only.
  ASSERT_TRUE(dp->install_rules(
      1, make_table({{.id = 2, .action = Action::kDrop, .protocol = 17, .dport_first = 53,
                      .dport_last = 53},
                     {.id = 3, .action = Action::kAllow}},
                    Action::kDrop, 3, /*reevaluate=*/true),
      kT0));
  EXPECT_EQ(dp->connection_count(1), 1u);
  const Result gone = egress(udp4(kVm, kPeer, 1, 53));
  EXPECT_EQ(gone.reason, DropReason::kRuleDrop);
  EXPECT_FALSE(gone.connection_hit);
  const Result kept = ingress(udp4(kPeer, kVm, 54, 1));
  EXPECT_EQ(kept.verdict, Verdict::kAllow);
  EXPECT_TRUE(kept.connection_hit);
  EXPECT_EQ(kept.rule_id, 3);  // re-attributed to the rule that now allows it
  EXPECT_FALSE(dp->install_rules(7, nullptr, kT0));
}

TEST_F(DatapathTest, CountersPerPortAndPerRule) {
  start(make_table({{.id = 10, .action = Action::kAllow, .protocol = 17},
                    {.id = 11, .action = Action::kDrop, .protocol = 6}},
                   Action::kDrop));
  const Bytes u = udp4(kVm, kPeer, 1, 2, 58);  // 100 bytes
  const Bytes back = udp4(kPeer, kVm, 2, 1, 58);
  egress(u);
  egress(u);
  ingress(back);
  egress(tcp4(kVm, kPeer, 1, 2, SYN));
  const PortCounters* c = dp->port_counters(1);
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->packets[static_cast<int>(Direction::kEgress)], 3u);
  EXPECT_EQ(c->packets[static_cast<int>(Direction::kIngress)], 1u);
  EXPECT_EQ(c->bytes[static_cast<int>(Direction::kIngress)], 100u);
  EXPECT_EQ(c->allowed, 3u);
  EXPECT_EQ(c->dropped, 1u);
  EXPECT_EQ(c->drops_by_reason[static_cast<std::size_t>(DropReason::kRuleDrop)], 1u);
  std::vector<uint32_t> ids;
  std::vector<uint64_t> hits, bytes;
  dp->rule_hits(1, ids, hits, bytes);
  EXPECT_EQ(ids, (std::vector<uint32_t>{10, 11}));
  EXPECT_EQ(hits, (std::vector<uint64_t>{1, 1}));       // classifications
  EXPECT_EQ(bytes[0], 300u);                            // every packet of its connection
  EXPECT_EQ(bytes[1], 54u);
}

TEST_F(DatapathTest, BatchMatchesSequentialProcessing) {
  start(make_table({{.id = 1, .action = Action::kAllow, .protocol = 17}}, Action::kDrop));
  std::vector<Bytes> frames_in;
  for (int i = 0; i < 40; ++i) {
    frames_in.push_back(udp4(kVm, kPeer, static_cast<uint16_t>(100 + i % 7), 53));
    if (i % 5 == 0) frames_in.push_back(tcp4(kVm, kPeer, 1, 2, ACK));
    if (i % 9 == 0) frames_in.push_back(Bytes(20, 0));
  }
  std::vector<PacketView> views;
  for (const Bytes& f : frames_in) views.push_back(view(f));
  std::vector<Result> batch(views.size());
  dp->process_batch(1, Direction::kEgress, views, kT0, batch);
  DatapathConfig same = config;
  Datapath reference(same);
  ASSERT_TRUE(reference.add_port(
      1, make_table({{.id = 1, .action = Action::kAllow, .protocol = 17}}, Action::kDrop)));
  for (std::size_t i = 0; i < views.size(); ++i) {
    const Result r = reference.process(1, Direction::kEgress, views[i], kT0);
    EXPECT_EQ(batch[i].verdict, r.verdict) << i;
    EXPECT_EQ(batch[i].reason, r.reason) << i;
    EXPECT_EQ(batch[i].connection_created, r.connection_created) << i;
    EXPECT_EQ(batch[i].connection_hit, r.connection_hit) << i;
  }
  EXPECT_EQ(dp->connection_count(1), 7u);
}

TEST_F(DatapathTest, WorkCountersReportWhatWasDone) {
  start(make_table({{.id = 1, .action = Action::kDrop, .protocol = 6},
                    {.id = 2, .action = Action::kAllow}},
                   Action::kDrop));
  const Result created = egress(udp4(kVm, kPeer, 1, 2));
  EXPECT_EQ(created.work.bytes_parsed, 14u + 20 + 8);
  EXPECT_EQ(created.work.classifier_steps, 2u);
  EXPECT_GE(created.work.hash_probes, 2u);
  EXPECT_EQ(created.work.conns_created, 1);
  const Result hit = egress(udp4(kVm, kPeer, 1, 2));
  EXPECT_EQ(hit.work.classifier_steps, 0u);
  EXPECT_GE(hit.work.hash_probes, 1u);
  EXPECT_LE(hit.work.hash_probes, 2u);
}

TEST_F(DatapathTest, SuperPacketsAreAccountedAtWireSize) {
  start();
  const Bytes f = tcp4(kVm, kPeer, 1, 2, SYN, 1);
  ASSERT_TRUE(egress(f).connection_created);
  ingress(tcp4(kPeer, kVm, 2, 1, SYN | ACK, 100, 2));
  egress(tcp4(kVm, kPeer, 1, 2, ACK, 2, 101));
  const Bytes data = tcp4(kVm, kPeer, 1, 2, ACK | PSH, 2, 101);
  const Result r = dp->process(1, Direction::kEgress, PacketView{data.data(), 54, 30000, 21}, kT0);
  EXPECT_EQ(r.verdict, Verdict::kAllow);
  EXPECT_EQ(dp->port_counters(1)->bytes[static_cast<int>(Direction::kEgress)],
            54u + 54 + 30000);
  // The peer acknowledges the whole super-packet's payload: in window.
  EXPECT_EQ(ingress(tcp4(kPeer, kVm, 2, 1, ACK, 101, 2 + 30000 - 54)).verdict, Verdict::kAllow);
}

}  // namespace
}  // namespace dfw::testing
