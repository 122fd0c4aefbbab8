// Live migration models: the pre-copy algorithm and the host-to-host migration streams over a
// real packet-level fabric.

#include <gtest/gtest.h>

#include <memory>
#include <vector>

#include "models/host.h"
#include "models/migration/migration_network.h"
#include "models/migration/precopy.h"
#include "models/switched_fabric.h"

namespace models::migration {
namespace {

constexpr uint64_t kGiB = 1024ULL * 1024 * 1024;
constexpr uint64_t kMiB = 1024ULL * 1024;

// Drives a model whose rounds run exactly at the stream's bandwidth (no competing traffic).
struct PrecopyRun {
  uint32_t rounds = 0;
  uint64_t precopy_bytes = 0;
  uint64_t stop_copy_bytes = 0;
};
PrecopyRun drive(const PrecopyParams& p) {
  PrecopyModel model(p);
  while (model.step() == PrecopyModel::Step::kCopyRound) model.round_done(p.bandwidth.transmit_time(sim::Bytes(model.bytes())));
  return {model.rounds(), model.precopy_bytes(), model.bytes()};
}

TEST(Precopy, ZeroDirtyRateCopiesMemoryOnceAndStopsWithNothingLeft) {
  PrecopyParams p;
  p.dirty_rate = sim::DataRate::bps(0);
  const PrecopyRun r = drive(p);
  EXPECT_EQ(r.rounds, 1u);
  EXPECT_EQ(r.precopy_bytes, 4 * kGiB);
  EXPECT_EQ(r.stop_copy_bytes, 0u);
}

TEST(Precopy, RoundsShrinkGeometricallyUntilTheRemainderFitsTheDowntimeLimit) {
  // 4 GiB at 10 Gb/s takes 3.436 s; at 100 MB/s the guest dirties 343.6 MB meanwhile; that
  // takes 274.9 ms at 10 Gb/s (more than 100 ms), during which 27.5 MB are dirtied: 22 ms of
  // copy, under the 100 ms limit, so the VM stops after two rounds with ~27.5 MB left.
  PrecopyParams p;  // defaults: 4 GiB, 800 Mb/s (100 MB/s), 10 Gb/s, 100 ms, 30 rounds
  const PrecopyRun r = drive(p);
  const double round1_s = 4.0 * kGiB * 8 / 10e9;
  const double dirty1 = round1_s * 100e6;
  const double dirty2 = dirty1 * 8 / 10e9 * 100e6;
  EXPECT_EQ(r.rounds, 2u);
  EXPECT_NEAR(static_cast<double>(r.precopy_bytes), 4.0 * kGiB + dirty1, 2.0);
  EXPECT_NEAR(static_cast<double>(r.stop_copy_bytes), dirty2, 2.0);
}

TEST(Precopy, HigherDirtyRateMeansMoreRoundsAndMoreBytes) {
  PrecopyParams slow, fast;
  slow.dirty_rate = sim::DataRate::bps(800'000'000);
  fast.dirty_rate = sim::DataRate::bps(4'000'000'000);
  const PrecopyRun a = drive(slow), b = drive(fast);
  EXPECT_GT(b.rounds, a.rounds);
  EXPECT_GT(b.precopy_bytes, a.precopy_bytes);
}

TEST(Precopy, DirtyingFasterThanTheStreamStopsAtMaxRoundsWithAllMemoryDirty) {
  PrecopyParams p;
  p.dirty_rate = sim::DataRate::gbps(20);  // twice the stream: never converges
  p.max_rounds = 5;
  const PrecopyRun r = drive(p);
  EXPECT_EQ(r.rounds, 5u);
  EXPECT_EQ(r.precopy_bytes, 5 * 4 * kGiB);
  EXPECT_EQ(r.stop_copy_bytes, 4 * kGiB);  // capped at the memory size
}

TEST(Precopy, DirtiedBytesIsRateTimesDuration) {
  EXPECT_EQ(dirtied_bytes(sim::DataRate::bps(800'000'000), sim::Seconds(1)), 100'000'000u);
  EXPECT_EQ(dirtied_bytes(sim::DataRate::gbps(8), sim::Millis(1)), 1'000'000u);
  EXPECT_EQ(dirtied_bytes(sim::DataRate::gbps(8), sim::Time::zero()), 0u);
}

// Two hosts on one switch (10 Gb/s links unless given), plus one VM on h0 that can send to a VM
// on h1 (to compete with the stream).
struct MigrationStream : ::testing::Test {
  sim::Kernel kernel{1};
  PacketPool pool;
  VmTable vms;
  std::unique_ptr<SwitchedFabric> fabric;
  CostModel cost;
  std::vector<std::unique_ptr<Host>> hosts;
  std::unique_ptr<MigrationNetwork> network;

  void build(sim::DataRate link_rate = sim::DataRate::gbps(10), sim::Bytes queue = sim::Bytes(512 * 1024)) {
    FabricGraph graph;
    std::string error;
    StarParams star;
    star.host_link.rate = link_rate;
    star.host_link.queue_size = queue;
    ASSERT_TRUE(star_graph(star, {"h0", "h1", "h2"}, graph, error)) << error;
    fabric = build_switched_fabric(graph, kernel, pool, error);
    ASSERT_NE(fabric, nullptr) << error;
    for (uint32_t h = 0; h < 3; ++h)
      hosts.push_back(std::make_unique<Host>("h" + std::to_string(h), h, HostParams{}, kernel, pool, vms, *fabric, cost));
    network = std::make_unique<MigrationNetwork>(kernel, pool, *fabric,
                                                 std::vector<Host*>{hosts[0].get(), hosts[1].get(), hosts[2].get()},
                                                 /*first_address=*/0);
  }
};

TEST_F(MigrationStream, TransferArrivesAtThePacedRateAndCountsWireBytes) {
  build(sim::DataRate::gbps(40));
  StreamParams params;
  params.rate = sim::DataRate::gbps(10);
  auto& stream = network->open(0, 1, params);
  int64_t done_at = -1;
  stream.transfer(64 * kMiB, [&] { done_at = kernel.now().ns(); });
  kernel.run_until(sim::Seconds(1));
  ASSERT_GT(done_at, 0);
  const StreamStats& s = stream.stats();
  EXPECT_EQ(s.payload_bytes, 64 * kMiB);
  EXPECT_EQ(s.retransmitted_bytes, 0u);
  EXPECT_GT(s.wire_bytes, 64 * kMiB);               // headers of every wire segment
  EXPECT_LT(s.wire_bytes, 64 * kMiB * 105 / 100);   // 1460-byte MSS: under 5% overhead
  // Paced at 10 Gb/s of wire bytes: the last super-packet leaves once all the others have had
  // their wire time, then crosses two 40 Gb/s links (13 us each at most) and two 1 us delays
  // (bounds taken with the mean packet size, so with a few us of slack).
  const double last_packet = static_cast<double>(s.wire_bytes) / static_cast<double>(s.packets);
  const double others_ns = (static_cast<double>(s.wire_bytes) - last_packet) * 8 / 10.0;
  EXPECT_GE(done_at, static_cast<int64_t>(others_ns));
  EXPECT_LT(done_at, static_cast<int64_t>(others_ns) + 50'000);
  // The bytes really crossed the fabric: h0's uplink carried them, nothing was delivered to a VM.
  EXPECT_GE(fabric->uplinks(0)[0]->sample(kernel.now()).bytes, s.wire_bytes);
  EXPECT_EQ(hosts[1]->sample(kernel.now()).packets_delivered, 0u);
}

TEST_F(MigrationStream, TwoStreamsIntoOneHostShareItsLinkAndLossIsRecovered) {
  // Both streams want 10 Gb/s into h2's 10 Gb/s link with a small queue: they must share it,
  // lose packets at the queue, time out and resend, and still deliver every byte.
  build(sim::DataRate::gbps(10), sim::Bytes(256 * 1024));
  StreamParams params;
  params.rate = sim::DataRate::gbps(10);
  auto& a = network->open(0, 2, params);
  auto& b = network->open(1, 2, params);
  int64_t a_done = -1, b_done = -1;
  a.transfer(32 * kMiB, [&] { a_done = kernel.now().ns(); });
  b.transfer(32 * kMiB, [&] { b_done = kernel.now().ns(); });
  kernel.run_until(sim::Seconds(2));
  ASSERT_GT(a_done, 0);
  ASSERT_GT(b_done, 0);
  EXPECT_EQ(a.stats().payload_bytes, 32 * kMiB);
  EXPECT_EQ(b.stats().payload_bytes, 32 * kMiB);
  // 64 MiB through one 10 Gb/s link takes at least 53.7 ms: neither could run at full rate.
  EXPECT_GT(std::max(a_done, b_done), 53'687'091);
  EXPECT_GT(a.stats().timeouts + b.stats().timeouts, 0u);
  EXPECT_GT(a.stats().retransmitted_bytes + b.stats().retransmitted_bytes, 0u);
}

TEST_F(MigrationStream, EmptyTransferCompletesAtOnceAsAnEvent) {
  build();
  auto& stream = network->open(0, 1, StreamParams{});
  bool done = false;
  stream.transfer(0, [&] { done = true; });
  EXPECT_FALSE(done);  // never from inside transfer()
  kernel.run_until(sim::Millis(1));
  EXPECT_TRUE(done);
}

}  // namespace
}  // namespace models::migration
