// Recording into a capture tap allocates nothing per packet (the stream's buffer is allocated
// when the tap is created), in both the VM-port and the wire-segment views.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <string>

#include "allocation_counter.h"
#include "models/capture_tap.h"
#include "models/headers.h"

namespace models {
namespace {

TEST(CaptureAllocation, RecordingAllocatesNothingPerPacket) {
  const std::string path = ::testing::TempDir() + "segsim-capture-alloc-" + std::to_string(::getpid()) + ".pcap";
  std::string error;
  auto tap = CaptureTap::create({"l", path, 2, kPcapDefaultSnapLength, 1460}, error);
  ASSERT_TRUE(tap) << error;
  Packet p;
  FiveTuple t{IpAddress::v4(0x0a000001), IpAddress::v4(0x0a000002), 40000, 80, kProtocolTcp};
  TcpFields f;
  f.flags = tcp_flags::kAck;
  ASSERT_TRUE(build_tcp_frame(p, L2Addresses{}, t, f, 44 * 1460, 1460));
  tap->stream(0).record_wire_segments(p, sim::Micros(1), sim::DataRate::gbps(10));  // warm-up
  const uint64_t before = segsim::testing::allocation_count();
  for (int i = 0; i < 2000; ++i) {  // ~90k records: the 256 KiB stream buffer is flushed many times
    tap->stream(0).record_wire_segments(p, sim::Micros(100 + 60 * i), sim::DataRate::gbps(10));
    tap->stream(1).record_packet(p, sim::Micros(100 + 60 * i));
  }
  EXPECT_EQ(segsim::testing::allocation_count() - before, 0u);
  ASSERT_TRUE(tap->commit(error)) << error;
  EXPECT_EQ(tap->records(), 45u * 2000 + 44);
  std::remove(path.c_str());
}

}  // namespace
}  // namespace models
