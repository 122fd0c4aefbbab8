// Flow-log replay: packets spread over each record's interval, overlapping records, NODATA
// records, bad lines (file:line and field) and skip_bad_records.
#include <gtest/gtest.h>

#include "traffic_replay_util.h"

namespace models::traffic {
namespace {

using testing::ReplayWorld;
using testing::TempFile;

const char* kHeader = "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status\n";

ReplayParams params_for(const std::string& path) {
  ReplayParams p;
  p.file = path;
  p.mapping = ReplayMapping::kTable;
  p.address_table = {{"172.31.0.1", "vm0"}, {"172.31.0.2", "vm1"}};
  return p;
}

std::unique_ptr<ReplaySource> open(ReplayWorld& w, const ReplayParams& p, std::string& error) {
  return create_flow_log_replay(w.kernel, w.vms, w.pool, w.flows, p, error);
}

TEST(TrafficReplayFlowLog, RecordsAreSpreadEvenlyOverTheirIntervals) {
  TempFile file("spread.log");
  // Five packets of 1003 bytes over [100, 104] s, a UDP record of two packets over [101, 102] s
  // in the other direction that overlaps it, and a NODATA record.
  file.write(std::string(kHeader) +
             "2 1 eni-1 172.31.0.1 172.31.0.2 40000 5432 6 5 5015 100 104 ACCEPT OK\n"
             "\n"
             "2 1 eni-1 172.31.0.2 172.31.0.1 53 40001 17 2 201 101 102 ACCEPT OK\n"
             "2 1 eni-1 - - - - - - - 101 160 - NODATA\n");
  ReplayWorld w(2);
  w.attach();
  std::string error;
  auto replay = open(w, params_for(file.path), error);
  ASSERT_TRUE(replay) << error;
  replay->start();
  w.kernel.run_until(sim::Seconds(100));
  ASSERT_EQ(w.log.size(), 7u);
  const int64_t expected_s[] = {0, 1, 1, 2, 2, 3, 4};
  const uint8_t expected_protocol[] = {6, 6, 17, 6, 17, 6, 6};  // ties: file order
  for (std::size_t i = 0; i < 7; ++i) {
    EXPECT_EQ(w.log[i].at, sim::Seconds(expected_s[i])) << i;
    EXPECT_EQ(w.log[i].frame.tuple.protocol, expected_protocol[i]) << i;
  }
  // 5015 / 5 = 1003 bytes per IP packet: 963 payload bytes after 20 + 20 header bytes.
  EXPECT_EQ(w.log[0].frame.l4_payload_size, 963u);
  EXPECT_EQ(w.log[0].frame.tuple.source, IpAddress::v4(w.vms[0].ipv4));
  // 201 / 2: the first packet carries the odd byte (101 - 28 = 73 payload bytes).
  EXPECT_EQ(w.log[2].frame.l4_payload_size, 73u);
  EXPECT_EQ(w.log[4].frame.l4_payload_size, 72u);
  // TCP sequence numbers advance by the payload.
  EXPECT_EQ(w.log[1].frame.tcp.seq, w.log[0].frame.tcp.seq + 963);
  EXPECT_EQ(w.checksum_errors, 0u);
  const auto& s = replay->stats();
  EXPECT_EQ(s.records_read, 2u);
  EXPECT_EQ(s.packets_replayed, 7u);
  EXPECT_EQ(s.skipped[static_cast<int>(ReplaySkip::kNoData)], 1u);
  w.flows.finish();
  ASSERT_EQ(w.records.size(), 2u);
  EXPECT_EQ(w.records.bytes_sent[0], 5u * 963);
  EXPECT_EQ(w.records.packets_sent[0], 5u);
  EXPECT_EQ(w.records.outcome[0], FlowOutcome::kCompleted);
}

TEST(TrafficReplayFlowLog, SpeedScalesTheIntervals) {
  TempFile file("speed.log");
  file.write("2 1 eni-1 172.31.0.1 172.31.0.2 40000 5432 6 3 120 200 204 ACCEPT OK\n");
  ReplayWorld w(2);
  w.attach();
  ReplayParams p = params_for(file.path);
  p.speed = 4;
  std::string error;
  auto replay = open(w, p, error);
  ASSERT_TRUE(replay) << error;
  replay->start();
  w.kernel.run_until(sim::Seconds(10));
  ASSERT_EQ(w.log.size(), 3u);
  EXPECT_EQ(w.log[0].at, sim::Seconds(0));
  EXPECT_EQ(w.log[1].at, sim::Millis(500));
  EXPECT_EQ(w.log[2].at, sim::Seconds(1));
  EXPECT_EQ(w.log[0].frame.l4_payload_size, 0u);  // 40-byte packets: headers only
}

TEST(TrafficReplayFlowLog, BadLineNamesFileLineAndField) {
  TempFile file("bad.log");
  file.write(std::string(kHeader) +
             "2 1 eni-1 172.31.0.1 172.31.0.2 40000 5432 6 1 100 100 100 ACCEPT OK\n"
             "2 1 eni-1 172.31.0.1 172.31.0.2 40001 5432 6 1 100 101 101 ACCEPT OK\n"
             "2 1 eni-1 172.31.0.1 172.31.0.2 40000 http 6 1 100 101 101 ACCEPT OK\n");
  ReplayWorld w(2);
  w.attach();
  std::string error;
  auto replay = open(w, params_for(file.path), error);
  ASSERT_TRUE(replay) << error;
  replay->start();
  // Line 4 is read (and found bad) when line 3's record becomes due: the run stops there.
  EXPECT_EQ(w.kernel.run_until(sim::Seconds(10)), sim::RunStatus::kStopped);
  EXPECT_EQ(w.kernel.now(), sim::Time::zero());
  EXPECT_EQ(w.log.size(), 1u);
  ASSERT_TRUE(replay->failed());
  EXPECT_EQ(replay->error(), file.path + ":4: field 7 (dstport): 'http' is not a port 0..65535");
}

TEST(TrafficReplayFlowLog, BadFirstLineFailsAtCreation) {
  TempFile file("short.log");
  file.write("2 1 eni-1 172.31.0.1 172.31.0.2 40000 5432 6 1 100\n");
  ReplayWorld w(2);
  std::string error;
  EXPECT_FALSE(open(w, params_for(file.path), error));
  EXPECT_EQ(error, file.path + ":1: field 11 (start) is missing (expected 14 fields, got 10)");
}

TEST(TrafficReplayFlowLog, SkipBadRecordsCountsAndGoesOn) {
  TempFile file("skip.log");
  file.write("2 1 eni-1 172.31.0.1 172.31.0.2 40000 5432 6 1 100 100 100 ACCEPT OK\n"
             "2 1 eni-1 172.31.0.1 not-an-address 40000 5432 6 1 100 100 100 ACCEPT OK\n"
             "2 1 eni-1 172.31.0.1 172.31.0.2 40000 5432 6 1 100 105 101 ACCEPT OK\n"
             "3 1 eni-1 172.31.0.1 172.31.0.2 40000 5432 6 1 100 100 100 ACCEPT OK\n"
             "2 1 eni-1 172.31.0.2 172.31.0.1 5432 40000 6 1 100 102 102 ACCEPT OK\n");
  ReplayWorld w(2);
  w.attach();
  ReplayParams p = params_for(file.path);
  p.skip_bad_records = true;
  std::string error;
  auto replay = open(w, p, error);
  ASSERT_TRUE(replay) << error;
  replay->start();
  w.kernel.run_until(sim::Seconds(10));
  EXPECT_FALSE(replay->failed());
  EXPECT_EQ(replay->stats().skipped[static_cast<int>(ReplaySkip::kBadRecord)], 3u);
  ASSERT_EQ(w.log.size(), 2u);
  EXPECT_EQ(w.log[1].at, sim::Seconds(2));
}

TEST(TrafficReplayFlowLog, ManyOverlappingRecordsKeepTimeOrder) {
  TempFile file("overlap.log");
  std::string text;
  for (int i = 0; i < 50; ++i) {
    text += "2 1 eni-1 172.31.0.1 172.31.0.2 " + std::to_string(40000 + i) + " 80 6 10 4000 " +
            std::to_string(1000 + i / 5) + " " + std::to_string(1010 + i / 5) + " ACCEPT OK\n";
  }
  file.write(text);
  ReplayWorld w(2);
  w.attach();
  std::string error;
  auto replay = open(w, params_for(file.path), error);
  ASSERT_TRUE(replay) << error;
  replay->start();
  w.kernel.run_until(sim::Seconds(100));
  ASSERT_EQ(w.log.size(), 500u);
  for (std::size_t i = 1; i < w.log.size(); ++i) EXPECT_LE(w.log[i - 1].at, w.log[i].at) << i;
  EXPECT_EQ(w.log.back().at, sim::Seconds(19));
  EXPECT_EQ(w.records.size(), 50u);
}

}  // namespace
}  // namespace models::traffic
