// Port state export/import: round trips, and every way a blob can be wrong.

#include <cstring>

#include "datapath_fixture.h"

namespace dfw::testing {
namespace {

constexpr uint32_t kHeaderSize = 20;

uint32_t crc32c(const uint8_t* p, std::size_t n) {  // independent bitwise CRC-32C
  uint32_t crc = ~0u;
  for (std::size_t i = 0; i < n; ++i) {
    crc ^= p[i];
    for (int k = 0; k < 8; ++k) crc = (crc & 1) ? (crc >> 1) ^ 0x82F63B78u : crc >> 1;
  }
  return ~crc;
}
void reseal(Bytes& blob) {  // recompute the checksum after a deliberate edit
  const uint32_t crc = crc32c(blob.data() + kHeaderSize, blob.size() - kHeaderSize);
  for (int i = 0; i < 4; ++i) blob[12 + i] = static_cast<uint8_t>(crc >> (8 * i));
}

class StateTest : public DatapathTest {
 protected:
  RuleTablePtr table = make_table({{.id = 1, .action = Action::kAllow, .protocol = 6},
                                   {.id = 2, .action = Action::kAllow, .protocol = 17},
                                   {.id = 3, .action = Action::kAllow, .protocol = 1}},
                                  Action::kDrop, 42);
  // Port 1 with an established TCP connection with data in flight, a replied UDP flow, an
  // ICMP echo and some drops.
  void populate() {
    start(table);
    egress(tcp4(kVm, kPeer, 1000, 80, SYN, 100, 0, 1000, tcp_wscale_option(5)));
    ingress(tcp4(kPeer, kVm, 80, 1000, SYN | ACK, 900, 101, 2000, tcp_wscale_option(6)));
    egress(tcp4(kVm, kPeer, 1000, 80, ACK, 101, 901, 1000));
    egress(tcp4(kVm, kPeer, 1000, 80, ACK | PSH, 101, 901, 1000, {}, 500));
    ingress(tcp4(kPeer, kVm, 80, 1000, ACK, 901, 601, 2000));
    egress(udp4(kVm, kPeer, 7, 53), kT0 + kSecond);
    ingress(udp4(kPeer, kVm, 53, 7), kT0 + kSecond);
    egress(eth(0x0800, ipv4(kVm, kPeer, 1, icmp(8, 0, 5, 1))));
    egress(udp4(kVm, kPeer, 7, 54));
    egress(Bytes(5, 0));
    ASSERT_EQ(dp->connection_count(1), 4u);
  }
  Bytes exported(int64_t now = kT0 + 2 * kSecond) {
    Bytes blob;
    EXPECT_TRUE(dp->export_port(1, now, blob));
    return blob;
  }
};

TEST_F(StateTest, RoundTripPreservesConnectionsWindowsTimersAndCounters) {
  populate();
  const int64_t t_export = kT0 + 2 * kSecond;
  const Bytes blob = exported(t_export);
  ConnectionInfo before;
  ASSERT_TRUE(dp->lookup_connection(1, Direction::kEgress, view(udp4(kVm, kPeer, 7, 53)),
                                    t_export, before));

  // Import on another datapath, 5 s later on its own clock.
  Datapath other(config);
  const int64_t t_import = 5000 * kSecond;
  Status s = other.import_port(7, blob, table, t_import);
  ASSERT_TRUE(s) << s.message();
  EXPECT_EQ(other.connection_count(7), 4u);
  ConnectionInfo after;
  ASSERT_TRUE(other.lookup_connection(7, Direction::kEgress, view(udp4(kVm, kPeer, 7, 53)),
                                      t_import, after));
  EXPECT_EQ(after.state, "replied");
  EXPECT_EQ(after.rule_id, 2);
  EXPECT_EQ(after.deadline - t_import, before.deadline - t_export);  // remaining time kept
  const int64_t udp_deadline = after.deadline;
  ASSERT_TRUE(other.lookup_connection(
      7, Direction::kEgress, view(tcp4(kVm, kPeer, 1000, 80, ACK)), t_import, after));
  EXPECT_EQ(after.state, "established");

  // The TCP windows came along: in-window data passes, out-of-window data does not, and the
  // scale factors still apply (peer window 2000 << 6 = 128000).
  EXPECT_EQ(other.process(7, Direction::kEgress,
                          view(tcp4(kVm, kPeer, 1000, 80, ACK, 601 + 100000, 901, 1000, {}, 10)),
                          t_import).verdict,
            Verdict::kAllow);
  EXPECT_EQ(other.process(7, Direction::kEgress,
                          view(tcp4(kVm, kPeer, 1000, 80, ACK, 601 + 300000, 901, 1000, {}, 10)),
                          t_import).reason,
            DropReason::kOutOfWindow);
  // The echo reply is still expected.
  EXPECT_EQ(other.process(7, Direction::kIngress, view(eth(0x0800, ipv4(kPeer, kVm, 1,
                                                                        icmp(0, 0, 5, 1)))),
                          t_import).verdict,
            Verdict::kAllow);

  // Counters and per-rule counters (same table version) came along.
  const PortCounters* a = dp->port_counters(1);
  const PortCounters* b = other.port_counters(7);
  EXPECT_EQ(a->packets[1] + 2, b->packets[1]);  // plus the two egress packets sent above
  EXPECT_EQ(a->drops_by_reason[static_cast<std::size_t>(DropReason::kTruncated)],
            b->drops_by_reason[static_cast<std::size_t>(DropReason::kTruncated)]);
  std::vector<uint32_t> ids;
  std::vector<uint64_t> hits_a, hits_b, bytes;
  dp->rule_hits(1, ids, hits_a, bytes);
  other.rule_hits(7, ids, hits_b, bytes);
  EXPECT_EQ(hits_a, hits_b);
  EXPECT_EQ(hits_a, (std::vector<uint64_t>{1, 2, 1}));

  // Expiry runs on the imported timers: TCP (refreshed above to 13 s) goes first, then the
  // unreplied UDP flow (19 s left), then the replied one (21 s); the refreshed echo (23 s) stays.
  EXPECT_EQ(udp_deadline, t_import + 21 * kSecond);
  other.expire(t_import + 13 * kSecond - 1);
  EXPECT_EQ(other.connection_count(7), 4u);
  other.expire(t_import + 13 * kSecond);
  EXPECT_EQ(other.connection_count(7), 3u);
  other.expire(t_import + 19 * kSecond);
  EXPECT_EQ(other.connection_count(7), 2u);
  other.expire(udp_deadline);
  EXPECT_EQ(other.connection_count(7), 1u);
}

TEST_F(StateTest, ExportSkipsExpiredConnectionsAndImportWithOtherRulesResetsRuleCounters) {
  config.timeouts.tcp_established = 1000 * kSecond;
  populate();
  const Bytes blob = exported(kT0 + 23 * kSecond);  // past the UDP and ICMP timeouts
  Datapath other(config);
  const RuleTablePtr newer = make_table({{.id = 9, .action = Action::kAllow}}, Action::kDrop, 43);
  ASSERT_TRUE(other.import_port(1, blob, newer, kT0));
  EXPECT_EQ(other.connection_count(1), 1u);  // only TCP is left
  std::vector<uint32_t> ids;
  std::vector<uint64_t> hits, bytes;
  other.rule_hits(1, ids, hits, bytes);
  EXPECT_EQ(hits, (std::vector<uint64_t>{0}));
}

TEST_F(StateTest, ImportIntoAnExistingPortIsRejected) {
  populate();
  const Bytes blob = exported();
  EXPECT_FALSE(dp->import_port(1, blob, table, kT0));
  Bytes unused;
  EXPECT_FALSE(dp->export_port(9, kT0, unused));
}

TEST_F(StateTest, EveryTruncationIsRejectedAndImportsNothing) {
  populate();
  const Bytes blob = exported();
  Datapath other(config);
  for (std::size_t n = 0; n < blob.size(); ++n) {
    const Bytes part(blob.begin(), blob.begin() + static_cast<std::ptrdiff_t>(n));
    ASSERT_FALSE(other.import_port(1, part, table, kT0)) << n;
    // Even with a valid checksum over the shortened payload.
    Bytes resealed = part;
    if (resealed.size() >= kHeaderSize) {
      const uint32_t size = static_cast<uint32_t>(resealed.size() - kHeaderSize);
      for (int i = 0; i < 4; ++i) resealed[8 + i] = static_cast<uint8_t>(size >> (8 * i));
      reseal(resealed);
      ASSERT_FALSE(other.import_port(1, resealed, table, kT0)) << "resealed " << n;
    }
    ASSERT_FALSE(other.has_port(1));
    ASSERT_EQ(other.stats().live_connections, 0u);
  }
  EXPECT_TRUE(other.import_port(1, blob, table, kT0));
}

TEST_F(StateTest, EverySingleBitFlipIsRejected) {
  populate();
  const Bytes blob = exported();
  Datapath other(config);
  for (std::size_t i = 0; i < blob.size(); ++i) {
    Bytes bad = blob;
    bad[i] ^= static_cast<uint8_t>(1u << (i % 8));
    ASSERT_FALSE(other.import_port(1, bad, table, kT0)) << "byte " << i;
  }
  EXPECT_EQ(other.stats().live_connections, 0u);
}

TEST_F(StateTest, WrongMagicAndVersionAreNamed) {
  populate();
  Bytes blob = exported();
  Datapath other(config);
  Bytes magic = blob;
  magic[0] = 'X';
  Status s = other.import_port(1, magic, table, kT0);
  EXPECT_NE(s.message().find("magic"), std::string::npos) << s.message();
  Bytes version = blob;
  version[4] = 2;
  s = other.import_port(1, version, table, kT0);
  EXPECT_NE(s.message().find("format version 2"), std::string::npos) << s.message();
  Bytes trailing = blob;
  trailing.push_back(0);
  s = other.import_port(1, trailing, table, kT0);
  EXPECT_NE(s.message().find("payload size"), std::string::npos) << s.message();
}

// Records start after the fixed part; the first record's state byte is at a known offset.
std::size_t first_record_offset(const Bytes& blob) {
  std::size_t at = kHeaderSize + 4 + 8 + 1 + 6 * 8;
  at += 4 + kDropReasonCount * 8;
  uint32_t rules = 0;
  std::memcpy(&rules, blob.data() + at, 4);
  at += 4 + rules * 20;
  return at + 4;
}

TEST_F(StateTest, SemanticallyInvalidRecordsAreRejectedEvenWithAValidChecksum) {
  populate();
  const Bytes blob = exported();
  const std::size_t rec = first_record_offset(blob);
  Datapath other(config);
  struct Edit {
    std::size_t offset;
    uint8_t value;
    const char* what;
  };
  const Edit edits[] = {
      {rec + 37, 99, "bad state"},          // state byte
      {rec + 37, 10, "impossible"},         // TCP connection in the UDP "unreplied" state
      {rec + 39, 5, "origin"},
      {rec + 38, 0x80, "flags"},
      {rec + 81, 15, "window scale"},
  };
  for (const Edit& e : edits) {
    Bytes bad = blob;
    bad[e.offset] = e.value;
    reseal(bad);
    const Status s = other.import_port(1, bad, table, kT0);
    ASSERT_FALSE(s) << e.what;
    EXPECT_NE(s.message().find(e.what), std::string::npos) << s.message();
  }
  // A duplicated record.
  Bytes dup = blob;
  const std::size_t record_size = 85;
  dup.insert(dup.end(), blob.begin() + static_cast<std::ptrdiff_t>(rec),
             blob.begin() + static_cast<std::ptrdiff_t>(rec + record_size));
  uint32_t count = 0;
  std::memcpy(&count, dup.data() + rec - 4, 4);
  ++count;
  std::memcpy(dup.data() + rec - 4, &count, 4);
  const uint32_t size = static_cast<uint32_t>(dup.size() - kHeaderSize);
  std::memcpy(dup.data() + 8, &size, 4);
  reseal(dup);
  const Status s = other.import_port(1, dup, table, kT0);
  EXPECT_NE(s.message().find("duplicate"), std::string::npos) << s.message();
  EXPECT_FALSE(other.has_port(1));
}

TEST_F(StateTest, ImportIntoAFullTableIsRejectedWhole) {
  populate();
  const Bytes blob = exported();
  DatapathConfig small = config;
  small.connection_limit = 5;
  Datapath other(small);
  ASSERT_TRUE(other.add_port(2, table));
  other.process(2, Direction::kEgress, view(udp4(kVm, kPeer, 1, 1)), kT0);
  other.process(2, Direction::kEgress, view(udp4(kVm, kPeer, 1, 2)), kT0);
  const Status s = other.import_port(1, blob, table, kT0);
  EXPECT_NE(s.message().find("table full"), std::string::npos) << s.message();
  EXPECT_FALSE(other.has_port(1));
  EXPECT_EQ(other.stats().live_connections, 2u);
}

}  // namespace
}  // namespace dfw::testing
