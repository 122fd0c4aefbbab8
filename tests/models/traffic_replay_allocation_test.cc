// The replay hot path allocates nothing per packet: once a trace's flows exist, reading records,
// mapping, building, sending and consuming them touch no allocator.
#include <gtest/gtest.h>

#include "allocation_counter.h"
#include "traffic_replay_util.h"

namespace models::traffic {
namespace {

using testing::ReplayWorld;
using testing::TempFile;

ReplayParams params_for(const std::string& path, const char* a, const char* b) {
  ReplayParams p;
  p.file = path;
  p.mapping = ReplayMapping::kTable;
  p.address_table = {{a, "vm0"}, {b, "vm1"}};
  return p;
}

TEST(TrafficReplayAllocation, PcapReplayAllocatesNothingPerPacket) {
  TempFile file("alloc.pcap");
  testing::PcapWriter pcap;
  const IpAddress a = testing::ipv4(192, 0, 2, 1);
  const IpAddress b = testing::ipv4(192, 0, 2, 2);
  for (int i = 0; i < 2000; ++i) {
    pcap.add(i * 10, i % 2 ? testing::trace_udp(b, 53, a, 5000, 100) : testing::trace_udp(a, 5000, b, 53, 40));
  }
  pcap.save(file.path);
  ReplayWorld w(2);
  w.logging = false;
  w.attach();
  auto replay = w.pcap(params_for(file.path, "192.0.2.1", "192.0.2.2"));
  replay->start();
  w.kernel.run_until(sim::Millis(5));  // warm-up: flows, event queue, pool
  const uint64_t allocations_before = segsim::testing::allocation_count();  // until 15 ms, before the trace ends at 20 ms
  w.kernel.run_until(sim::Millis(15));
  const uint64_t allocations = segsim::testing::allocation_count() - allocations_before;
  EXPECT_EQ(replay->stats().packets_replayed, 1500u);
  EXPECT_EQ(allocations, 0u);
}

TEST(TrafficReplayAllocation, FlowLogReplayAllocatesNothingPerPacket) {
  TempFile file("alloc.log");
  // Two overlapping records, 5000 packets each over 4 s. (The run stays below 2^32 ns: the event
  // queue's first event past that grows one of the kernel's radix buckets, once per run.)
  file.write("2 1 eni-1 172.31.0.1 172.31.0.2 40000 5432 6 5000 600000 100 104 ACCEPT OK\n"
             "2 1 eni-1 172.31.0.2 172.31.0.1 5432 40000 6 5000 7000000 100 104 ACCEPT OK\n");
  ReplayWorld w(2);
  w.logging = false;
  w.attach();
  std::string error;
  auto replay = create_flow_log_replay(w.kernel, w.vms, w.pool, w.flows,
                                       params_for(file.path, "172.31.0.1", "172.31.0.2"), error);
  ASSERT_TRUE(replay) << error;
  replay->start();
  w.kernel.run_until(sim::Seconds(1));  // warm-up: flows, heap, event queue, pool
  const uint64_t allocations_before = segsim::testing::allocation_count();
  w.kernel.run_until(sim::Millis(3900));
  const uint64_t allocations = segsim::testing::allocation_count() - allocations_before;
  EXPECT_GT(replay->stats().packets_replayed, 9500u);
  EXPECT_EQ(allocations, 0u);
}

}  // namespace
}  // namespace models::traffic
