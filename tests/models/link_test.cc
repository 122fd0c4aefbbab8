#include "models/link.h"

#include <gtest/gtest.h>

#include "net_test_util.h"

namespace models {
namespace {

using testing::make_packet;
using testing::RecordingReceiver;

struct LinkFixture : ::testing::Test {
  sim::Kernel kernel{1};
  PacketPool pool;
  RecordingReceiver receiver{kernel, pool};
  sim::EntityId far_end = kernel.add_entity("far-end");

  std::unique_ptr<Link> make_link(LinkParams params) {
    auto link = std::make_unique<Link>("a->b", params, kernel, pool);
    link->connect(receiver, far_end, 7);
    return link;
  }
  void send_at(Link& link, sim::Time at, uint32_t size) {
    kernel.schedule_at(at, sim::kWorld, [this, &link, size] { link.send(make_packet(pool, size)); });
  }
};

TEST_F(LinkFixture, SerializationAndPropagationAreExactInNanoseconds) {
  LinkParams params;
  params.rate = sim::DataRate::gbps(10);
  params.delay = sim::Micros(1);
  auto link = make_link(params);
  ASSERT_TRUE(link->send(make_packet(pool, 1500)));  // 1200 ns on the wire
  ASSERT_TRUE(link->send(make_packet(pool, 1500)));  // waits behind the first
  send_at(*link, sim::Nanos(10'000), 65536);         // super-packet: 52428.8 -> 52429 ns
  kernel.run_until(sim::Seconds(1));
  ASSERT_EQ(receiver.arrivals.size(), 3u);
  EXPECT_EQ(receiver.arrivals[0].time_ns, 1200 + 1000);
  EXPECT_EQ(receiver.arrivals[1].time_ns, 2400 + 1000);
  EXPECT_EQ(receiver.arrivals[2].time_ns, 10'000 + 52'429 + 1000);
  EXPECT_EQ(receiver.arrivals[0].port, 7u);
  EXPECT_EQ(pool.live_count(), 0u);
}

TEST_F(LinkFixture, BackToBackPacketsServeAtTheExactRateNotRoundedPerPacket) {
  // 1502 bytes at 40 Gb/s is 300.4 ns: ten back-to-back packets leave after 3004 ns, not after
  // ten rounded-up 301 ns (3010 ns), so the link runs at its rate (the ns-3 validation,
  // docs/performance.md "Fabric vs ns-3"). Each arrival is its exact finish rounded up.
  LinkParams params;
  params.rate = sim::DataRate::gbps(40);
  params.delay = sim::Micros(1);
  auto link = make_link(params);
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(link->send(make_packet(pool, 1502)));
  kernel.run_until(sim::Seconds(1));
  ASSERT_EQ(receiver.arrivals.size(), 10u);
  EXPECT_EQ(receiver.arrivals[0].time_ns, 301 + 1000);
  EXPECT_EQ(receiver.arrivals[1].time_ns, 601 + 1000);   // 600.8
  EXPECT_EQ(receiver.arrivals[4].time_ns, 1502 + 1000);  // 1502.0
  EXPECT_EQ(receiver.arrivals[9].time_ns, 3004 + 1000);
  EXPECT_EQ(link->sample(kernel.now()).busy_ns, 3004);
}

TEST_F(LinkFixture, SuperPacketSerializesAsItsWireSize) {
  LinkParams params;
  params.rate = sim::DataRate::gbps(1);
  params.delay = sim::Nanos(0);
  auto link = make_link(params);
  Packet* p = make_packet(pool, 44 * 1514);
  p->segment_count = 44;
  link->send(p);
  kernel.run_until(sim::Seconds(1));
  ASSERT_EQ(receiver.arrivals.size(), 1u);
  EXPECT_EQ(receiver.arrivals[0].time_ns, 44 * 1514 * 8);  // 1 ns per bit at 1 Gb/s
  EXPECT_EQ(link->sample(kernel.now()).segments, 44u);
}

TEST_F(LinkFixture, DropTailByBytesCountsTheDrops) {
  LinkParams params;
  params.rate = sim::DataRate::gbps(10);
  params.delay = sim::Micros(1);
  params.queue_size = sim::Bytes(3000);
  auto link = make_link(params);
  EXPECT_TRUE(link->send(make_packet(pool, 1500)));
  EXPECT_TRUE(link->send(make_packet(pool, 1500)));   // exactly at the limit
  EXPECT_FALSE(link->send(make_packet(pool, 1500)));  // over it
  EXPECT_FALSE(link->send(make_packet(pool, 100)));
  send_at(*link, sim::Nanos(1200), 1500);             // the first has left: room again
  send_at(*link, sim::Nanos(1200), 1500);             // but not for two
  kernel.run_until(sim::Seconds(1));
  EXPECT_EQ(receiver.arrivals.size(), 3u);
  const LinkSample s = link->sample(kernel.now());
  EXPECT_EQ(s.drops[static_cast<std::size_t>(LinkDropReason::kQueueFull)], 3u);
  EXPECT_EQ(s.packets, 3u);
  EXPECT_EQ(s.bytes, 4500u);
  EXPECT_EQ(s.queue_peak_size, 3000u);
  EXPECT_EQ(pool.live_count(), 0u);
}

TEST_F(LinkFixture, OversizedPacketPassesAnEmptyQueue) {
  LinkParams params;
  params.queue_size = sim::Bytes(1000);
  auto link = make_link(params);
  EXPECT_TRUE(link->send(make_packet(pool, 9000)));
  EXPECT_FALSE(link->send(make_packet(pool, 64)));
  kernel.run_until(sim::Seconds(1));
  EXPECT_EQ(receiver.arrivals.size(), 1u);
}

TEST_F(LinkFixture, EcnMarksPacketsThatFindTheThresholdExceeded) {
  LinkParams params;
  params.queue_size = sim::Bytes(100'000);
  params.ecn_threshold = sim::Bytes(3000);
  auto link = make_link(params);
  for (int i = 0; i < 4; ++i) link->send(make_packet(pool, 1500));  // queued: 0,1500,3000,4500
  kernel.run_until(sim::Seconds(1));
  ASSERT_EQ(receiver.arrivals.size(), 4u);
  EXPECT_FALSE(receiver.arrivals[0].ecn_marked);
  EXPECT_FALSE(receiver.arrivals[1].ecn_marked);
  EXPECT_TRUE(receiver.arrivals[2].ecn_marked);
  EXPECT_TRUE(receiver.arrivals[3].ecn_marked);
  EXPECT_EQ(link->sample(kernel.now()).ecn_marked, 2u);
}

TEST_F(LinkFixture, BusyTimeAndQueueOccupancyAreExactAtAnyInstant) {
  LinkParams params;
  params.rate = sim::DataRate::gbps(10);
  auto link = make_link(params);
  link->send(make_packet(pool, 1500));
  link->send(make_packet(pool, 1500));
  kernel.run_until(sim::Nanos(600));
  LinkSample s = link->sample(kernel.now());
  EXPECT_EQ(s.busy_ns, 600);
  EXPECT_EQ(s.queue_size, 3000u);
  kernel.run_until(sim::Nanos(1800));
  s = link->sample(kernel.now());
  EXPECT_EQ(s.busy_ns, 1800);
  EXPECT_EQ(s.queue_size, 1500u);
  EXPECT_EQ(s.queue_peak_size, 3000u);  // the peak of the previous window is carried over
  kernel.run_until(sim::Micros(100));
  s = link->sample(kernel.now());
  EXPECT_EQ(s.busy_ns, 2400);  // utilization over [0, 100us) = 2.4%
  EXPECT_EQ(s.queue_size, 0u);
  EXPECT_EQ(link->sample(kernel.now()).queue_peak_size, 0u);
}

TEST_F(LinkFixture, DownLinkDropsWithItsReason) {
  auto link = make_link(LinkParams{});
  link->set_up(false);
  EXPECT_FALSE(link->send(make_packet(pool, 100)));
  link->set_up(true);
  EXPECT_TRUE(link->send(make_packet(pool, 100)));
  kernel.run_until(sim::Seconds(1));
  EXPECT_EQ(receiver.arrivals.size(), 1u);
  EXPECT_EQ(link->sample(kernel.now()).drops[static_cast<std::size_t>(LinkDropReason::kLinkDown)], 1u);
  EXPECT_EQ(link_drop_reason_name(LinkDropReason::kLinkDown), "link_down");
}

}  // namespace
}  // namespace models
