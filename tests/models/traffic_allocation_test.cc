// The transport hot path allocates nothing per packet: once a flow is running, sending,
// receiving, acknowledging and timer handling touch no allocator.
#include <gtest/gtest.h>

#include "allocation_counter.h"
#include "traffic_test_wire.h"

namespace models::traffic {
namespace {

TEST(TrafficAllocation, SteadyStateTransferAllocatesNothing) {
  TransportParams params;
  params.tcp.min_rto = sim::Millis(1);
  params.tcp.segment_size = sim::Bytes(1460);  // one packet per segment: the most packets
  // The wire has no bandwidth limit: a 64 KiB window paces the flow at 64 KiB per 20 us RTT.
  params.tcp.receive_buffer = sim::Bytes(64 * 1024);
  testing::TestWorld w(1, 2, sim::Micros(10), params);
  w.wire.set_checking(false);
  const FlowId id = w.stacks[0]->start_tcp_flow(1, 80, 1'000'000'000);
  w.kernel.run_until(sim::Millis(20));  // warm-up: pools, slabs and queues reach working size
  const uint64_t packets_before = w.stacks[0]->stats().packets_sent;
  const uint64_t allocations_before = segsim::testing::allocation_count();
  w.kernel.run_until(sim::Millis(30));
  const uint64_t allocations = segsim::testing::allocation_count() - allocations_before;
  const uint64_t packets = w.stacks[0]->stats().packets_sent - packets_before;
  EXPECT_GT(packets, 10'000u);
  EXPECT_EQ(allocations, 0u) << "over " << packets << " packets";
  EXPECT_EQ(w.records.outcome[id], FlowOutcome::kIncompleteAtEnd);
}

}  // namespace
}  // namespace models::traffic
