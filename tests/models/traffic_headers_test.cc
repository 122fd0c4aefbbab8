// Frame builders: byte-exact frames (cross-checked against scapy), every field, both checksums.
#include <gtest/gtest.h>

#include <cstring>
#include <vector>

#include "models/headers.h"

namespace models {
namespace {

// An independent RFC 1071 checksum over `bytes` followed by `zero_payload` zero bytes (which add
// nothing), with an optional pseudo-header prefix.
uint16_t reference_checksum(const std::vector<uint8_t>& bytes) {
  uint64_t sum = 0;
  for (std::size_t i = 0; i < bytes.size(); i += 2) {
    const uint16_t word = static_cast<uint16_t>(bytes[i] << 8 | (i + 1 < bytes.size() ? bytes[i + 1] : 0));
    sum += word;
  }
  while (sum >> 16) sum = (sum & 0xFFFF) + (sum >> 16);
  return static_cast<uint16_t>(~sum & 0xFFFF);
}

uint16_t be16(const uint8_t* p) { return static_cast<uint16_t>(p[0] << 8 | p[1]); }
uint32_t be32(const uint8_t* p) {
  return uint32_t{p[0]} << 24 | uint32_t{p[1]} << 16 | uint32_t{p[2]} << 8 | p[3];
}

L2Addresses macs() {
  L2Addresses l2;
  l2.source = {0x02, 0, 0, 0, 0, 0x01};
  l2.destination = {0x02, 0, 0, 0, 0, 0x02};
  return l2;
}

FiveTuple v4_tuple(uint8_t protocol, uint16_t sport, uint16_t dport) {
  FiveTuple t;
  t.source = IpAddress::v4(0x0A000001);
  t.destination = IpAddress::v4(0x0A000002);
  t.source_port = sport;
  t.destination_port = dport;
  t.protocol = protocol;
  return t;
}

FiveTuple v6_tuple(uint8_t protocol, uint16_t sport, uint16_t dport) {
  std::array<uint8_t, 16> a{};
  a[0] = 0xfd;
  a[15] = 1;
  std::array<uint8_t, 16> b = a;
  b[15] = 2;
  FiveTuple t;
  t.source = IpAddress::v6(a);
  t.destination = IpAddress::v6(b);
  t.source_port = sport;
  t.destination_port = dport;
  t.protocol = protocol;
  return t;
}

// Recomputes the L4 checksum of a built frame through a pseudo-header built here.
uint16_t recompute_l4_checksum(const Packet& p, bool v6, uint32_t l4_offset, uint32_t l4_length,
                               std::size_t checksum_at) {
  std::vector<uint8_t> bytes;
  const uint8_t* h = p.header.data();
  if (v6) {
    bytes.insert(bytes.end(), h + 14 + 8, h + 14 + 40);  // source + destination
    bytes.push_back(static_cast<uint8_t>(l4_length >> 24));
    bytes.push_back(static_cast<uint8_t>(l4_length >> 16));
    bytes.push_back(static_cast<uint8_t>(l4_length >> 8));
    bytes.push_back(static_cast<uint8_t>(l4_length));
    bytes.insert(bytes.end(), {0, 0, 0, h[14 + 6]});
  } else {
    bytes.insert(bytes.end(), h + 14 + 12, h + 14 + 20);
    bytes.insert(bytes.end(), {0, h[14 + 9], static_cast<uint8_t>(l4_length >> 8),
                               static_cast<uint8_t>(l4_length)});
  }
  std::vector<uint8_t> l4(h + l4_offset, h + p.header_size);
  l4[checksum_at] = 0;
  l4[checksum_at + 1] = 0;
  bytes.insert(bytes.end(), l4.begin(), l4.end());
  return reference_checksum(bytes);
}

TEST(TrafficHeaders, TcpSynMatchesHandWrittenFrame) {
  // Expected bytes produced independently with scapy:
  // Ether/IP(id=0, flags=DF, ttl=64)/TCP(flags=S, options=[MSS 1460, NOP, WScale 7]).
  const std::vector<uint8_t> expected = {
      0x02, 0x00, 0x00, 0x00, 0x00, 0x02, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0x08, 0x00, 0x45,
      0x00, 0x00, 0x30, 0x00, 0x00, 0x40, 0x00, 0x40, 0x06, 0x26, 0xc6, 0x0a, 0x00, 0x00, 0x01,
      0x0a, 0x00, 0x00, 0x02, 0xc0, 0x00, 0x1f, 0x90, 0x01, 0x02, 0x03, 0x04, 0x00, 0x00, 0x00,
      0x00, 0x70, 0x02, 0xff, 0xff, 0x8c, 0x7f, 0x00, 0x00, 0x02, 0x04, 0x05, 0xb4, 0x01, 0x03,
      0x03, 0x07};
  TcpFields tcp;
  tcp.seq = 0x01020304;
  tcp.flags = tcp_flags::kSyn;
  tcp.window = 65535;
  tcp.mss_option = 1460;
  tcp.window_scale_option = 7;
  Packet p;
  ASSERT_TRUE(build_tcp_frame(p, macs(), v4_tuple(kProtocolTcp, 49152, 8080), tcp, 0, 1460));
  ASSERT_EQ(p.header_size, expected.size());
  EXPECT_EQ(std::vector<uint8_t>(p.header.begin(), p.header.begin() + p.header_size), expected);
  EXPECT_EQ(p.segment_count, 1);
  EXPECT_EQ(p.wire_size, 62u);
  EXPECT_EQ(p.payload_size, 0u);
}

TEST(TrafficHeaders, TcpDataSegmentChecksumCoversZeroPayload) {
  // scapy: TCP(seq=0xfffffff0, ack=0x11223344, flags=PA, window=512)/Raw(b"\0" * 1000).
  const std::vector<uint8_t> expected = {
      0x02, 0x00, 0x00, 0x00, 0x00, 0x02, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0x08, 0x00,
      0x45, 0x00, 0x04, 0x10, 0x00, 0x00, 0x40, 0x00, 0x40, 0x06, 0x22, 0xe6, 0x0a, 0x00,
      0x00, 0x01, 0x0a, 0x00, 0x00, 0x02, 0xc0, 0x00, 0x1f, 0x90, 0xff, 0xff, 0xff, 0xf0,
      0x11, 0x22, 0x33, 0x44, 0x50, 0x18, 0x02, 0x00, 0x71, 0xfa, 0x00, 0x00};
  TcpFields tcp;
  tcp.seq = 0xfffffff0;
  tcp.ack = 0x11223344;
  tcp.flags = tcp_flags::kPsh | tcp_flags::kAck;
  tcp.window = 512;
  Packet p;
  ASSERT_TRUE(build_tcp_frame(p, macs(), v4_tuple(kProtocolTcp, 49152, 8080), tcp, 1000, 1460));
  EXPECT_EQ(std::vector<uint8_t>(p.header.begin(), p.header.begin() + p.header_size), expected);
  EXPECT_EQ(p.wire_size, 1054u);
  EXPECT_EQ(p.payload_size, 1000u);
}

TEST(TrafficHeaders, TcpSuperPacketFieldsAndChecksums) {
  TcpFields tcp;
  tcp.seq = 1000;
  tcp.ack = 2000;
  tcp.flags = tcp_flags::kAck;
  tcp.window = 0x1234;
  const uint32_t payload = 44 * 1460;  // 64240 bytes: a full TSO burst
  Packet p;
  const FiveTuple t = v4_tuple(kProtocolTcp, 50000, 443);
  ASSERT_TRUE(build_tcp_frame(p, macs(), t, tcp, payload, 1460));
  const uint8_t* h = p.header.data();
  EXPECT_EQ(be16(h + 12), 0x0800);
  EXPECT_EQ(h[14], 0x45);
  EXPECT_EQ(be16(h + 16), 20 + 20 + payload);  // aggregate IPv4 total length
  EXPECT_EQ(be16(h + 20), 0x4000);             // DF
  EXPECT_EQ(h[22], 64);
  EXPECT_EQ(h[23], kProtocolTcp);
  EXPECT_EQ(be32(h + 26), 0x0A000001u);
  EXPECT_EQ(be32(h + 30), 0x0A000002u);
  // IPv4 header checksum: the header with its checksum field sums to 0xFFFF.
  EXPECT_EQ(reference_checksum(std::vector<uint8_t>(h + 14, h + 34)), 0);
  EXPECT_EQ(be16(h + 34), 50000);
  EXPECT_EQ(be16(h + 36), 443);
  EXPECT_EQ(be32(h + 38), 1000u);
  EXPECT_EQ(be32(h + 42), 2000u);
  EXPECT_EQ(h[46] >> 4, 5);  // data offset: 20 bytes
  EXPECT_EQ(h[47], tcp_flags::kAck);
  EXPECT_EQ(be16(h + 48), 0x1234);
  EXPECT_EQ(be16(h + 50), recompute_l4_checksum(p, false, 34, 20 + payload, 16));
  EXPECT_EQ(p.segment_count, 44);
  EXPECT_EQ(p.wire_size, 44u * (54 + 1460));
  EXPECT_EQ(p.flow_hash, flow_hash(t));

  // One byte more than the IP length field can name is refused.
  EXPECT_FALSE(build_tcp_frame(p, macs(), t, tcp, 65535 - 40 + 1, 1460));
  EXPECT_TRUE(build_tcp_frame(p, macs(), t, tcp, 65535 - 40, 1460));
  EXPECT_EQ(p.segment_count, (65495 + 1459) / 1460);
  EXPECT_EQ(p.wire_size, 44u * (54 + 1460) + (54 + 65495 - 44 * 1460));
}

TEST(TrafficHeaders, ShortFramesArePaddedToEthernetMinimum) {
  TcpFields ack;
  ack.flags = tcp_flags::kAck;
  Packet p;
  ASSERT_TRUE(build_tcp_frame(p, macs(), v4_tuple(kProtocolTcp, 1, 2), ack, 0, 1460));
  EXPECT_EQ(p.header_size, 54);
  EXPECT_EQ(p.wire_size, 60u);
}

TEST(TrafficHeaders, Ipv6UdpMatchesHandWrittenFrame) {
  // scapy: Ether/IPv6(src=fd00::1, dst=fd00::2, hlim=64)/UDP(5000 -> 53)/Raw(b"\0" * 100).
  const std::vector<uint8_t> expected = {
      0x02, 0x00, 0x00, 0x00, 0x00, 0x02, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0x86, 0xdd, 0x60,
      0x00, 0x00, 0x00, 0x00, 0x6c, 0x11, 0x40, 0xfd, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
      0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0xfd, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
      0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x13, 0x88, 0x00, 0x35, 0x00, 0x6c,
      0xf1, 0x54};
  Packet p;
  ASSERT_TRUE(build_udp_frame(p, macs(), v6_tuple(kProtocolUdp, 5000, 53), 100));
  EXPECT_EQ(std::vector<uint8_t>(p.header.begin(), p.header.begin() + p.header_size), expected);
  EXPECT_EQ(p.wire_size, 162u);
  EXPECT_EQ(be16(p.header.data() + 60), recompute_l4_checksum(p, true, 54, 108, 6));
}

TEST(TrafficHeaders, Ipv4UdpAndIcmpChecksums) {
  Packet p;
  ASSERT_TRUE(build_udp_frame(p, macs(), v4_tuple(kProtocolUdp, 1234, 4321), 1472));
  const uint8_t* h = p.header.data();
  EXPECT_EQ(be16(h + 16), 1500);
  EXPECT_EQ(be16(h + 38), 1480);  // UDP length
  EXPECT_EQ(reference_checksum(std::vector<uint8_t>(h + 14, h + 34)), 0);
  EXPECT_EQ(be16(h + 40), recompute_l4_checksum(p, false, 34, 1480, 6));
  EXPECT_EQ(p.wire_size, 1514u);

  IcmpFields echo;
  echo.identifier = 7;
  echo.sequence = 9;
  ASSERT_TRUE(build_icmp_frame(p, macs(), v4_tuple(0, 0, 0), echo, 56));
  EXPECT_EQ(h[23], kProtocolIcmp);
  EXPECT_EQ(be16(h + 16), 20 + 8 + 56);
  // ICMPv4 has no pseudo-header: the message alone sums to 0xFFFF.
  EXPECT_EQ(reference_checksum(std::vector<uint8_t>(h + 34, h + 42)), 0);

  echo.type = 128;
  ASSERT_TRUE(build_icmp_frame(p, macs(), v6_tuple(0, 0, 0), echo, 56));
  EXPECT_EQ(h[20], kProtocolIcmpv6);
  EXPECT_EQ(be16(h + 56), recompute_l4_checksum(p, true, 54, 64, 2));
}

TEST(TrafficHeaders, ParserReadsBackEveryField) {
  TcpFields tcp;
  tcp.seq = 0xdeadbeef;
  tcp.ack = 0x01020304;
  tcp.flags = tcp_flags::kSyn | tcp_flags::kAck;
  tcp.window = 29200;
  tcp.mss_option = 1440;
  tcp.window_scale_option = 9;
  for (bool v6 : {false, true}) {
    const FiveTuple t = v6 ? v6_tuple(kProtocolTcp, 8080, 49153) : v4_tuple(kProtocolTcp, 8080, 49153);
    Packet p;
    ASSERT_TRUE(build_tcp_frame(p, macs(), t, tcp, 3000, 1440));
    ParsedFrame f;
    ASSERT_EQ(parse_frame(p.header.data(), p.header_size, f), ParseStatus::kOk);
    EXPECT_EQ(f.tuple, t);
    EXPECT_EQ(f.tcp.seq, tcp.seq);
    EXPECT_EQ(f.tcp.ack, tcp.ack);
    EXPECT_EQ(f.tcp.flags, tcp.flags);
    EXPECT_EQ(f.tcp.window, tcp.window);
    EXPECT_EQ(f.tcp.mss_option, 1440);
    EXPECT_EQ(f.tcp.window_scale_option, 9);
    EXPECT_EQ(f.l4_header_size, 28u);
    EXPECT_EQ(f.l4_payload_size, 3000u);
    EXPECT_EQ(f.ttl, 64);
    EXPECT_EQ(p.segment_count, 3);
  }
}

TEST(TrafficHeaders, ParserFindsTheQuotedPacketOfAnIcmpError) {
  // A port-unreachable quoting a UDP datagram 10.0.0.1:1234 -> 10.0.0.2:53, hand-assembled.
  Packet quoted;
  ASSERT_TRUE(build_udp_frame(quoted, macs(), v4_tuple(kProtocolUdp, 1234, 53), 10));
  Packet error;
  IcmpFields unreachable;
  unreachable.type = 3;
  unreachable.code = 3;
  FiveTuple back = v4_tuple(0, 0, 0);
  std::swap(back.source, back.destination);
  ASSERT_TRUE(build_icmp_frame(error, macs(), back, unreachable, 28));
  std::memcpy(error.header.data() + error.header_size, quoted.header.data() + 14, 28);
  ParsedFrame f;
  ASSERT_EQ(parse_frame(error.header.data(), error.header_size + 28u, f), ParseStatus::kOk);
  EXPECT_EQ(f.icmp.type, 3);
  ASSERT_TRUE(f.has_inner);
  EXPECT_EQ(f.inner, v4_tuple(kProtocolUdp, 1234, 53));
}

TEST(TrafficHeaders, ParserRejectsTruncatedAndMalformedFrames) {
  Packet p;
  TcpFields tcp;
  ASSERT_TRUE(build_tcp_frame(p, macs(), v4_tuple(kProtocolTcp, 1, 2), tcp, 0, 0));
  ParsedFrame f;
  EXPECT_EQ(parse_frame(p.header.data(), 10, f), ParseStatus::kTruncated);
  EXPECT_EQ(parse_frame(p.header.data(), 40, f), ParseStatus::kTruncated);
  p.header[46] = 0x30;  // TCP data offset 12 bytes: below the minimum
  EXPECT_EQ(parse_frame(p.header.data(), p.header_size, f), ParseStatus::kMalformed);
  p.header[12] = 0x08;
  p.header[13] = 0x06;  // ARP
  EXPECT_EQ(parse_frame(p.header.data(), p.header_size, f), ParseStatus::kNotIp);
}

TEST(TrafficHeaders, FlowHashIsStableAndDirectional) {
  const FiveTuple a = v4_tuple(kProtocolTcp, 49152, 8080);
  FiveTuple b = a;
  std::swap(b.source, b.destination);
  std::swap(b.source_port, b.destination_port);
  EXPECT_EQ(flow_hash(a), flow_hash(a));
  EXPECT_NE(flow_hash(a), flow_hash(b));
  FiveTuple c = a;
  c.source_port = 49153;
  EXPECT_NE(flow_hash(a), flow_hash(c));
  // Pinned value: the hash decides RSS cores and ECMP paths, so results depend on it; a change
  // here changes every scenario's output and must be deliberate.
  EXPECT_EQ(flow_hash(a), 0xcbf4e62be2b64085ULL);
  // IPv4 hashes as IPv4-mapped IPv6.
  FiveTuple mapped = a;
  std::array<uint8_t, 16> s{}, d{};
  s[10] = s[11] = d[10] = d[11] = 0xFF;
  s[12] = 10; s[15] = 1;
  d[12] = 10; d[15] = 2;
  mapped.source = IpAddress::v6(s);
  mapped.destination = IpAddress::v6(d);
  EXPECT_EQ(flow_hash(mapped), flow_hash(a));
}

}  // namespace
}  // namespace models
