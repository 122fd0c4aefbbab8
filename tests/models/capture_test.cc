// pcap writer and capture taps: the bytes on disk (header, record lengths, nanosecond
// timestamps), the VM-port view of a super-packet, its wire segments on a link, merging of a
// cable's directions, and temporaries.
#include "models/capture_tap.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <vector>

#include "models/headers.h"
#include "models/pcap_writer.h"

namespace models {
namespace {

uint32_t le32(const std::vector<uint8_t>& b, std::size_t at) {
  return uint32_t{b[at]} | uint32_t{b[at + 1]} << 8 | uint32_t{b[at + 2]} << 16 | uint32_t{b[at + 3]} << 24;
}
uint16_t le16(const std::vector<uint8_t>& b, std::size_t at) { return static_cast<uint16_t>(b[at] | b[at + 1] << 8); }
uint16_t be16(const uint8_t* p) { return static_cast<uint16_t>(p[0] << 8 | p[1]); }
uint32_t be32(const uint8_t* p) { return uint32_t{p[0]} << 24 | uint32_t{p[1]} << 16 | uint32_t{p[2]} << 8 | p[3]; }

std::vector<uint8_t> read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::vector<uint8_t>(std::istreambuf_iterator<char>(in), {});
}

struct Record {
  uint64_t time_ns;
  uint32_t captured;
  uint32_t original;
  std::vector<uint8_t> data;
};

// Parses a whole little-endian nanosecond pcap file written by PcapWriter.
std::vector<Record> records_of(const std::vector<uint8_t>& file) {
  std::vector<Record> out;
  for (std::size_t at = kPcapFileHeaderSize; at + kPcapRecordHeaderSize <= file.size();) {
    Record r;
    r.time_ns = uint64_t{le32(file, at)} * 1'000'000'000 + le32(file, at + 4);
    r.captured = le32(file, at + 8);
    r.original = le32(file, at + 12);
    at += kPcapRecordHeaderSize;
    r.data.assign(file.begin() + static_cast<std::ptrdiff_t>(at), file.begin() + static_cast<std::ptrdiff_t>(at + r.captured));
    at += r.captured;
    out.push_back(std::move(r));
  }
  return out;
}

class CaptureTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("segsim-capture-test-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string path(const std::string& name) const { return (dir_ / name).string(); }
  std::vector<std::string> files() const {
    std::vector<std::string> names;
    for (const auto& e : std::filesystem::directory_iterator(dir_)) names.push_back(e.path().filename().string());
    return names;
  }

  // A TCP super-packet of `payload` bytes in 1460-byte segments, 10.0.0.1:40000 -> 10.0.0.2:80.
  static Packet super_packet(uint32_t payload, uint8_t flags) {
    Packet p;
    L2Addresses l2{{2, 0, 0, 0, 0, 1}, {2, 0, 0, 0, 0, 2}};
    FiveTuple t{IpAddress::v4(0x0a000001), IpAddress::v4(0x0a000002), 40000, 80, kProtocolTcp};
    TcpFields f;
    f.seq = 0xfffff000;  // wraps inside the super-packet
    f.ack = 77;
    f.flags = flags;
    f.window = 512;
    EXPECT_TRUE(build_tcp_frame(p, l2, t, f, payload, 1460));
    return p;
  }

  std::filesystem::path dir_;
};

TEST_F(CaptureTest, WriterWritesNanosecondHeaderAndRecordsWithZeroFilledPayload) {
  std::string error;
  auto w = PcapWriter::open(path("a.pcap"), 100, error);
  ASSERT_TRUE(w) << error;
  const uint8_t frame[3] = {0xaa, 0xbb, 0xcc};
  w->write(sim::Nanos(1'500'000'007), frame, 3, 1514);  // captured: 100 of 1514
  w->write(sim::Nanos(2'000'000'000), frame, 3, 60);    // captured: all 60
  EXPECT_EQ(w->records(), 2u);
  EXPECT_EQ(w->frame_bytes(), 1574u);
  ASSERT_TRUE(w->close(error)) << error;

  const std::vector<uint8_t> b = read_file(path("a.pcap"));
  ASSERT_EQ(b.size(), 24u + 16 + 100 + 16 + 60);
  EXPECT_EQ(b[0], 0x4d);  // 0xa1b23c4d little-endian: nanosecond timestamps
  EXPECT_EQ(b[1], 0x3c);
  EXPECT_EQ(b[2], 0xb2);
  EXPECT_EQ(b[3], 0xa1);
  EXPECT_EQ(le16(b, 4), 2);
  EXPECT_EQ(le16(b, 6), 4);
  EXPECT_EQ(le32(b, 16), 100u);  // snaplen
  EXPECT_EQ(le32(b, 20), 1u);    // Ethernet
  const std::vector<Record> r = records_of(b);
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(le32(b, 24), 1u);            // ts_sec
  EXPECT_EQ(le32(b, 28), 7u + 500'000'000);  // ts_nsec
  EXPECT_EQ(r[0].captured, 100u);
  EXPECT_EQ(r[0].original, 1514u);
  EXPECT_EQ(r[0].data[0], 0xaa);
  EXPECT_EQ(r[0].data[2], 0xcc);
  for (std::size_t i = 3; i < r[0].data.size(); ++i) ASSERT_EQ(r[0].data[i], 0) << i;
  EXPECT_EQ(r[1].time_ns, 2'000'000'000u);
  EXPECT_EQ(r[1].captured, 60u);
  EXPECT_EQ(r[1].original, 60u);
}

TEST_F(CaptureTest, WriterReportsAnUncreatableFile) {
  std::string error;
  EXPECT_FALSE(PcapWriter::open(path("missing/dir/a.pcap"), 128, error));
  EXPECT_NE(error.find("missing/dir/a.pcap"), std::string::npos) << error;
}

TEST_F(CaptureTest, VmPortShowsASuperPacketAsOneFrameOfItsIpLength) {
  std::string error;
  auto tap = CaptureTap::create({"vm-a", path("vm-a.pcap"), 1, 128, 1460}, error);
  ASSERT_TRUE(tap) << error;
  const Packet p = super_packet(44 * 1460, tcp_flags::kAck | tcp_flags::kPsh);
  ASSERT_EQ(p.segment_count, 44);
  tap->stream(0).record_packet(p, sim::Micros(3));
  ASSERT_TRUE(tap->commit(error)) << error;
  const std::vector<Record> r = records_of(read_file(path("vm-a.pcap")));
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].time_ns, 3000u);
  EXPECT_EQ(r[0].original, 14u + 20 + 20 + 44 * 1460);
  EXPECT_EQ(r[0].original, 14u + be16(r[0].data.data() + 16));  // = Ethernet + IP total length
  EXPECT_EQ(r[0].captured, 128u);
  EXPECT_EQ(std::vector<std::string>{"vm-a.pcap"}, files());
}

TEST_F(CaptureTest, LinkSplitsASuperPacketIntoConsistentWireSegments) {
  std::string error;
  auto tap = CaptureTap::create({"h0--leaf0", path("l.pcap"), 1, 128, 1460}, error);
  ASSERT_TRUE(tap) << error;
  const uint32_t payload = 3 * 1460 + 100;  // three full segments and a 100-byte tail
  const Packet p = super_packet(payload, tcp_flags::kAck | tcp_flags::kPsh | tcp_flags::kCwr);
  ASSERT_EQ(p.segment_count, 4);
  const sim::Time finish = sim::Micros(10);
  tap->stream(0).record_wire_segments(p, finish, sim::DataRate::gbps(10));
  ASSERT_TRUE(tap->commit(error)) << error;
  const std::vector<Record> r = records_of(read_file(path("l.pcap")));
  ASSERT_EQ(r.size(), 4u);
  uint64_t total = 0;
  for (uint32_t i = 0; i < 4; ++i) {
    const uint8_t* ip = r[i].data.data() + 14;
    const uint8_t* tcp = ip + 20;
    const uint32_t seg = i < 3 ? 1460 : 100;
    EXPECT_EQ(r[i].original, 54 + seg) << i;
    EXPECT_EQ(be16(ip + 2), 40 + seg) << i;                       // IP total length
    EXPECT_EQ(checksum_fold(checksum_add(0, ip, 20)), 0) << i;    // IPv4 header checksum
    EXPECT_EQ(be32(tcp + 4), 0xfffff000u + i * 1460) << i;        // seq, wrapping
    EXPECT_EQ(be32(tcp + 8), 77u) << i;
    const uint8_t flags = tcp[13];
    EXPECT_EQ((flags & tcp_flags::kPsh) != 0, i == 3) << i;
    EXPECT_EQ((flags & tcp_flags::kCwr) != 0, i == 0) << i;
    // TCP checksum over pseudo-header + header + an all-zero payload verifies.
    uint32_t sum = checksum_add(0, ip + 12, 8);
    sum += kProtocolTcp + 20 + seg;
    EXPECT_EQ(checksum_fold(checksum_add(sum, tcp, 20)), 0) << i;
    total += r[i].original;
  }
  EXPECT_EQ(total, p.wire_size);
  // Each segment is stamped when its last bit leaves: 10 Gb/s, 1514-byte frames.
  EXPECT_EQ(r[3].time_ns, 10'000u);
  EXPECT_EQ(r[2].time_ns, 10'000u - 124);   // the 154-byte tail after it: ceil(123.2 ns)
  EXPECT_EQ(r[1].time_ns, 10'000u - 1335);  // 1514 + 154 bytes after it: ceil(1334.4 ns)
  EXPECT_EQ(r[0].time_ns, 10'000u - 2546);  // 3182 bytes: ceil(2545.6 ns)
}

TEST_F(CaptureTest, APacketStandingForSeveralAcksShowsThatManyFrames) {
  std::string error;
  auto tap = CaptureTap::create({"l", path("l.pcap"), 1, 128, 1460}, error);
  ASSERT_TRUE(tap) << error;
  Packet p = super_packet(0, tcp_flags::kAck);
  p.segment_count = 3;  // as TcpEngine::emit marks three duplicate ACKs
  p.wire_size *= 3;
  tap->stream(0).record_wire_segments(p, sim::Micros(1), sim::DataRate::gbps(10));
  ASSERT_TRUE(tap->commit(error)) << error;
  const std::vector<Record> r = records_of(read_file(path("l.pcap")));
  ASSERT_EQ(r.size(), 3u);
  for (const Record& x : r) EXPECT_EQ(x.original, 60u);
  EXPECT_EQ(r[0].time_ns, 1000u - 96);  // 120 bytes after it at 10 Gb/s
  EXPECT_EQ(r[2].time_ns, 1000u);
}

TEST_F(CaptureTest, DirectionsOfACableAreMergedInTimeOrder) {
  std::string error;
  auto tap = CaptureTap::create({"h0--leaf0", path("cable.pcap"), 2, 128, 1460}, error);
  ASSERT_TRUE(tap) << error;
  const Packet p = super_packet(10, tcp_flags::kAck);
  tap->stream(0).record_packet(p, sim::Nanos(3));
  tap->stream(1).record_packet(p, sim::Nanos(5));
  tap->stream(0).record_packet(p, sim::Nanos(7));
  tap->stream(1).record_packet(p, sim::Nanos(7));
  EXPECT_EQ(files().size(), 2u);  // one temporary per stream while running
  ASSERT_TRUE(tap->commit(error)) << error;
  EXPECT_EQ(tap->records(), 4u);
  EXPECT_EQ(tap->frame_bytes(), 4u * 64);
  const std::vector<Record> r = records_of(read_file(path("cable.pcap")));
  ASSERT_EQ(r.size(), 4u);
  EXPECT_EQ(r[0].time_ns, 3u);
  EXPECT_EQ(r[1].time_ns, 5u);
  EXPECT_EQ(r[2].time_ns, 7u);
  EXPECT_EQ(r[3].time_ns, 7u);
  EXPECT_EQ(std::vector<std::string>{"cable.pcap"}, files());  // temporaries gone
}

TEST_F(CaptureTest, ATapNeverCommittedLeavesNoFile) {
  std::string error;
  {
    auto tap = CaptureTap::create({"x", path("x.pcap"), 2, 128, 1460}, error);
    ASSERT_TRUE(tap) << error;
    tap->stream(0).record_packet(super_packet(10, tcp_flags::kAck), sim::Nanos(1));
  }
  EXPECT_TRUE(files().empty());
}

}  // namespace
}  // namespace models
