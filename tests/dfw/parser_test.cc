// Every branch of the frame parser, and truncation at every byte offset of sample frames.

#include <gtest/gtest.h>

#include "frame_builder.h"
#include "parse/parser.h"

namespace dfw::testing {
namespace {

DropReason parse(const Bytes& frame, ParsedPacket& out, Direction d = Direction::kEgress) {
  return parse_packet(view(frame), d, out);
}
DropReason parse(const Bytes& frame) {
  ParsedPacket p;
  return parse(frame, p);
}

TEST(Parser, Ipv4TcpFields) {
  ParsedPacket p;
  const Bytes f = tcp4("10.0.0.1", "10.0.0.2", 1234, 80, SYN, 1000, 0, 29200,
                       tcp_wscale_option(7) + Bytes{4, 2, 1, 1}, 10);
  ASSERT_EQ(parse(f, p), DropReason::kNone);
  EXPECT_EQ(p.l3, L3Kind::kIpv4);
  EXPECT_TRUE(p.key.is_v4);
  EXPECT_EQ(p.key.protocol, 6);
  EXPECT_EQ(p.key.source[10], 0xFF);
  EXPECT_EQ(p.key.source[15], 1);
  EXPECT_EQ(p.key.destination[15], 2);
  EXPECT_EQ(p.key.source_port, 1234);
  EXPECT_EQ(p.key.destination_port, 80);
  EXPECT_EQ(p.tcp.seq, 1000u);
  EXPECT_EQ(p.tcp.flags, SYN);
  EXPECT_EQ(p.tcp.window, 29200);
  EXPECT_EQ(p.tcp.window_scale, 7);
  EXPECT_TRUE(p.tcp.sack_permitted);
  EXPECT_EQ(p.l4_header_size, 28);
  EXPECT_EQ(p.l4_payload_size, 10u);
  EXPECT_EQ(p.bytes_parsed, 14u + 20 + 28);
  EXPECT_TRUE(p.has_l4);
}

TEST(Parser, WindowScaleClampedTo14AndMalformedOptionsIgnored) {
  ParsedPacket p;
  ASSERT_EQ(parse(tcp4("10.0.0.1", "10.0.0.2", 1, 2, SYN, 0, 0, 1, tcp_wscale_option(20)), p),
            DropReason::kNone);
  EXPECT_EQ(p.tcp.window_scale, 14);
  // An option whose length runs past the header: ignored, the packet still parses.
  ASSERT_EQ(parse(tcp4("10.0.0.1", "10.0.0.2", 1, 2, SYN, 0, 0, 1, Bytes{3, 9, 1, 0}), p),
            DropReason::kNone);
  EXPECT_EQ(p.tcp.window_scale, -1);
}

TEST(Parser, EthernetTooShortIsTruncated) {
  EXPECT_EQ(parse(Bytes(13, 0)), DropReason::kTruncated);
  EXPECT_EQ(parse(Bytes(1, 0)), DropReason::kTruncated);
}

TEST(Parser, NullDataOrWireSmallerThanHeaderIsMalformed) {
  ParsedPacket p;
  EXPECT_EQ(parse_packet(PacketView{nullptr, 0, 0, 1}, Direction::kEgress, p),
            DropReason::kMalformedL2);
  const Bytes f = udp4("10.0.0.1", "10.0.0.2", 1, 2);
  EXPECT_EQ(parse_packet(PacketView{f.data(), 42, 41, 1}, Direction::kEgress, p),
            DropReason::kMalformedL2);
}

TEST(Parser, VlanAndQinQ) {
  ParsedPacket p;
  const Bytes ip = ipv4("10.0.0.1", "10.0.0.2", 17, udp(1, 2));
  ASSERT_EQ(parse(eth(0x0800, ip, {0x8100}), p), DropReason::kNone);
  EXPECT_EQ(p.l2_size, 18);
  ASSERT_EQ(parse(eth(0x0800, ip, {0x88A8, 0x8100}), p), DropReason::kNone);
  EXPECT_EQ(p.l2_size, 22);
  EXPECT_EQ(p.key.destination_port, 2);
  EXPECT_EQ(parse(eth(0x0800, ip, {0x9100, 0x8100})), DropReason::kNone);
  EXPECT_EQ(parse(eth(0x0800, ip, {0x88A8, 0x8100, 0x8100})), DropReason::kMalformedL2);
  Bytes cut = eth(0x0800, ip, {0x8100});
  cut.resize(16);
  EXPECT_EQ(parse(cut), DropReason::kTruncated);
}

TEST(Parser, Arp) {
  ParsedPacket p;
  ASSERT_EQ(parse(arp_request(), p), DropReason::kNone);
  EXPECT_EQ(p.l3, L3Kind::kArp);
  Bytes bad = arp_request();
  bad[14 + 4] = 8;  // hardware address length
  EXPECT_EQ(parse(bad), DropReason::kMalformedL2);
  Bytes bad_op = arp_request();
  bad_op[14 + 7] = 9;
  EXPECT_EQ(parse(bad_op), DropReason::kMalformedL2);
  Bytes cut = arp_request();
  cut.resize(14 + 27);
  EXPECT_EQ(parse(cut), DropReason::kTruncated);
}

TEST(Parser, OtherEtherType) {
  ParsedPacket p;
  ASSERT_EQ(parse(eth(0x88CC, Bytes(30, 0)), p), DropReason::kNone);  // LLDP
  EXPECT_EQ(p.l3, L3Kind::kOtherEtherType);
}

TEST(Parser, Ipv4HeaderErrors) {
  Bytes f = udp4("10.0.0.1", "10.0.0.2", 1, 2);
  Bytes v = f;
  v[14] = 0x55;  // version 5
  EXPECT_EQ(parse(v), DropReason::kMalformedIpv4);
  Bytes ihl = f;
  ihl[14] = 0x44;  // IHL 4
  EXPECT_EQ(parse(ihl), DropReason::kMalformedIpv4);
  Bytes big = f;
  big[16] = 0x10;  // total length 4096 > wire
  EXPECT_EQ(parse(big), DropReason::kTruncated);
  Bytes small = f;
  small[16] = 0;
  small[17] = 10;  // total length < header
  EXPECT_EQ(parse(small), DropReason::kMalformedIpv4);
  const Bytes reserved =
      eth(0x0800, ipv4("10.0.0.1", "10.0.0.2", 17, udp(1, 2), {.reserved_bit = true}));
  EXPECT_EQ(parse(reserved), DropReason::kMalformedIpv4);
  Bytes ihl_past_end = f;
  ihl_past_end[14] = 0x4F;  // 60-byte header in a 42-byte frame
  ihl_past_end.resize(14 + 40);
  EXPECT_EQ(parse(ihl_past_end), DropReason::kTruncated);
}

TEST(Parser, Ipv4Options) {
  ParsedPacket p;
  // NOP, NOP, router alert (4 bytes), EOL padding.
  const Bytes good{1, 1, 148, 4, 0, 0, 0, 0};
  ASSERT_EQ(parse(eth(0x0800, ipv4("10.0.0.1", "10.0.0.2", 17, udp(1, 2), {.options = good})), p),
            DropReason::kNone);
  EXPECT_EQ(p.l4_offset, 14 + 28);
  EXPECT_EQ(p.key.destination_port, 2);
  const Bytes zero_length{148, 0, 0, 0};
  EXPECT_EQ(parse(eth(0x0800, ipv4("10.0.0.1", "10.0.0.2", 17, udp(1, 2), {.options = zero_length}))),
            DropReason::kMalformedIpv4);
  const Bytes overlong{1, 1, 7, 9};
  EXPECT_EQ(parse(eth(0x0800, ipv4("10.0.0.1", "10.0.0.2", 17, udp(1, 2), {.options = overlong}))),
            DropReason::kMalformedIpv4);
  const Bytes dangling{1, 1, 1, 7};  // a kind without its length byte
  EXPECT_EQ(parse(eth(0x0800, ipv4("10.0.0.1", "10.0.0.2", 17, udp(1, 2), {.options = dangling}))),
            DropReason::kMalformedIpv4);
}

TEST(Parser, Ipv4Fragments) {
  ParsedPacket p;
  const Bytes first = eth(0x0800, ipv4("10.0.0.1", "10.0.0.2", 17, udp(1, 2, 100),
                                       {.id = 77, .more_fragments = true}));
  ASSERT_EQ(parse(first, p), DropReason::kNone);
  EXPECT_EQ(p.fragment, FragmentKind::kFirst);
  EXPECT_EQ(p.fragment_id, 77u);
  EXPECT_TRUE(p.has_l4);
  const Bytes later = eth(0x0800, ipv4("10.0.0.1", "10.0.0.2", 17, Bytes(40, 0),
                                       {.id = 77, .fragment_offset = 112}));
  ASSERT_EQ(parse(later, p), DropReason::kNone);
  EXPECT_EQ(p.fragment, FragmentKind::kLater);
  EXPECT_FALSE(p.has_l4);
  EXPECT_EQ(p.key.protocol, 17);
  // A first fragment too short to hold the TCP header.
  const Bytes tiny = eth(0x0800, ipv4("10.0.0.1", "10.0.0.2", 6, Bytes(8, 0),
                                      {.id = 5, .more_fragments = true}));
  EXPECT_EQ(parse(tiny), DropReason::kMalformedL4);
}

TEST(Parser, Ipv6ExtensionHeaders) {
  ParsedPacket p;
  const Bytes chain = ipv6_ext(0, 43) + ipv6_ext(43, 60, 2) + ipv6_ext(60, 51) +
                      ipv6_ext(51, 17, 4) + udp(5, 53);
  ASSERT_EQ(parse(eth(0x86DD, ipv6("2001:db8::1", "2001:db8::2", 0, chain)), p),
            DropReason::kNone);
  EXPECT_EQ(p.l3, L3Kind::kIpv6);
  EXPECT_FALSE(p.key.is_v4);
  EXPECT_EQ(p.key.protocol, 17);
  EXPECT_EQ(p.key.destination_port, 53);
  EXPECT_EQ(p.l4_offset, 14 + 40 + 8 + 16 + 8 + 16);
  EXPECT_EQ(p.key.source[15], 1);
}

TEST(Parser, Ipv6ChainErrors) {
  // Hop-by-hop after another extension header.
  EXPECT_EQ(parse(eth(0x86DD, ipv6("::1", "::2", 60, ipv6_ext(60, 0) + ipv6_ext(0, 17) +
                                                         udp(1, 2)))),
            DropReason::kMalformedIpv6);
  // Nine destination-options headers.
  Bytes many;
  for (int i = 0; i < 9; ++i) many = many + ipv6_ext(60, 60);
  many = many + udp(1, 2);
  EXPECT_EQ(parse(eth(0x86DD, ipv6("::1", "::2", 60, many))), DropReason::kMalformedIpv6);
  // An extension header longer than the payload length says.
  Bytes f = eth(0x86DD, ipv6("::1", "::2", 60, ipv6_ext(60, 17, 4) + udp(1, 2)));
  f[14 + 4] = 0;
  f[14 + 5] = 16;
  EXPECT_EQ(parse(f), DropReason::kMalformedIpv6);
  // Bad version, jumbo (zero) payload length, payload longer than the wire.
  Bytes v = udp6("::1", "::2", 1, 2);
  v[14] = 0x40;
  EXPECT_EQ(parse(v), DropReason::kMalformedIpv6);
  Bytes jumbo = udp6("::1", "::2", 1, 2);
  jumbo[14 + 4] = jumbo[14 + 5] = 0;
  EXPECT_EQ(parse(jumbo), DropReason::kMalformedIpv6);
  Bytes longer = udp6("::1", "::2", 1, 2);
  longer[14 + 4] = 0x10;
  EXPECT_EQ(parse(longer), DropReason::kTruncated);
}

TEST(Parser, Ipv6Fragments) {
  ParsedPacket p;
  ASSERT_EQ(parse(eth(0x86DD, ipv6("::1", "::2", 44, ipv6_fragment(17, 0, true, 99) +
                                                         udp(1, 2, 64))),
                  p),
            DropReason::kNone);
  EXPECT_EQ(p.fragment, FragmentKind::kFirst);
  EXPECT_EQ(p.fragment_id, 99u);
  EXPECT_EQ(p.key.destination_port, 2);
  ASSERT_EQ(parse(eth(0x86DD, ipv6("::1", "::2", 44, ipv6_fragment(17, 72, false, 99) +
                                                         Bytes(16, 0))),
                  p),
            DropReason::kNone);
  EXPECT_EQ(p.fragment, FragmentKind::kLater);
  EXPECT_EQ(p.key.protocol, 17);
  // An atomic fragment (offset 0, no more fragments) is an ordinary packet.
  ASSERT_EQ(parse(eth(0x86DD, ipv6("::1", "::2", 44, ipv6_fragment(17, 0, false, 3) + udp(1, 2))),
                  p),
            DropReason::kNone);
  EXPECT_EQ(p.fragment, FragmentKind::kNone);
}

TEST(Parser, TcpErrors) {
  Bytes f = tcp4("10.0.0.1", "10.0.0.2", 1, 2, SYN);
  Bytes doff = f;
  doff[14 + 20 + 12] = 4 << 4;
  EXPECT_EQ(parse(doff), DropReason::kMalformedL4);
  Bytes past = f;
  past[14 + 20 + 12] = 15 << 4;  // 60-byte header beyond the IP packet
  EXPECT_EQ(parse(past), DropReason::kMalformedL4);
  Bytes cut = f;
  cut.resize(14 + 20 + 19);
  cut[14 + 3] = static_cast<uint8_t>(39);  // IP total length matches the cut
  EXPECT_EQ(parse(cut), DropReason::kMalformedL4);
}

TEST(Parser, UdpLengthChecked) {
  Bytes f = udp4("10.0.0.1", "10.0.0.2", 1, 2, 10);
  Bytes small = f;
  small[14 + 20 + 5] = 4;
  EXPECT_EQ(parse(small), DropReason::kMalformedL4);
  Bytes large = f;
  large[14 + 20 + 5] = 200;
  EXPECT_EQ(parse(large), DropReason::kMalformedL4);
}

TEST(Parser, IcmpEchoAndError) {
  ParsedPacket p;
  ASSERT_EQ(parse(eth(0x0800, ipv4("10.0.0.1", "10.0.0.2", 1, icmp(8, 0, 0x1234, 1))), p),
            DropReason::kNone);
  EXPECT_EQ(p.icmp_class, IcmpClass::kRequest);
  EXPECT_EQ(p.icmp_id, 0x1234);
  EXPECT_EQ(p.key.icmp_type, 8);
  EXPECT_EQ(p.key.source_port, 0);
  ASSERT_EQ(parse(eth(0x0800, ipv4("10.0.0.2", "10.0.0.1", 1, icmp(0, 0, 0x1234, 1))), p),
            DropReason::kNone);
  EXPECT_EQ(p.icmp_class, IcmpClass::kReply);
  // Port unreachable quoting a UDP datagram 10.0.0.1:5000 -> 10.0.0.2:53.
  const Bytes quoted = ipv4("10.0.0.1", "10.0.0.2", 17, udp(5000, 53));
  ASSERT_EQ(parse(eth(0x0800, ipv4("10.0.0.2", "10.0.0.1", 1, icmp(3, 3, 0, 0, quoted))), p),
            DropReason::kNone);
  EXPECT_EQ(p.icmp_class, IcmpClass::kError);
  ASSERT_TRUE(p.has_quoted);
  EXPECT_EQ(p.quoted.key.protocol, 17);
  EXPECT_EQ(p.quoted.key.source_port, 5000);
  EXPECT_EQ(p.quoted.key.destination_port, 53);
  EXPECT_EQ(p.quoted.key.source[15], 1);
  // A quote too short to hold the ports: parsed, but relates to nothing.
  Bytes short_quote = quoted;
  short_quote.resize(24);
  ASSERT_EQ(parse(eth(0x0800, ipv4("10.0.0.2", "10.0.0.1", 1, icmp(3, 3, 0, 0, short_quote))), p),
            DropReason::kNone);
  EXPECT_FALSE(p.has_quoted);
  ASSERT_EQ(parse(eth(0x0800, ipv4("10.0.0.2", "10.0.0.1", 1, icmp(9, 0))), p),
            DropReason::kNone);
  EXPECT_EQ(p.icmp_class, IcmpClass::kOther);
  EXPECT_EQ(parse(eth(0x0800, ipv4("10.0.0.2", "10.0.0.1", 1, Bytes{8, 0, 0}))),
            DropReason::kMalformedL4);
  // ICMPv6 inside IPv4 is nonsense.
  EXPECT_EQ(parse(eth(0x0800, ipv4("10.0.0.2", "10.0.0.1", 58, icmp(128, 0)))),
            DropReason::kMalformedL4);
}

TEST(Parser, Icmpv6Classes) {
  ParsedPacket p;
  ASSERT_EQ(parse(eth(0x86DD, ipv6("::1", "::2", 58, icmp(128, 0, 7))), p), DropReason::kNone);
  EXPECT_EQ(p.icmp_class, IcmpClass::kRequest);
  EXPECT_EQ(p.icmp_id, 7);
  ASSERT_EQ(parse(eth(0x86DD, ipv6("::1", "::2", 58, icmp(129, 0, 7))), p), DropReason::kNone);
  EXPECT_EQ(p.icmp_class, IcmpClass::kReply);
  ASSERT_EQ(parse(eth(0x86DD, ipv6("::1", "::2", 58, icmp(135, 0))), p), DropReason::kNone);
  EXPECT_EQ(p.icmp_class, IcmpClass::kNeighbor);
  const Bytes quoted = ipv6("::2", "::1", 6, tcp(80, 4000, SYN));
  ASSERT_EQ(parse(eth(0x86DD, ipv6("::1", "::2", 58, icmp(1, 4, 0, 0, quoted))), p),
            DropReason::kNone);
  EXPECT_EQ(p.icmp_class, IcmpClass::kError);
  ASSERT_TRUE(p.has_quoted);
  EXPECT_EQ(p.quoted.key.destination_port, 4000);
  EXPECT_EQ(parse(eth(0x86DD, ipv6("::1", "::2", 1, icmp(8, 0)))), DropReason::kMalformedL4);
}

TEST(Parser, OtherProtocolHasNoPorts) {
  ParsedPacket p;
  ASSERT_EQ(parse(eth(0x0800, ipv4("10.0.0.1", "10.0.0.2", 47, Bytes(12, 0))), p),
            DropReason::kNone);
  EXPECT_EQ(p.key.protocol, 47);
  EXPECT_FALSE(p.has_l4);
  EXPECT_EQ(p.l4_payload_size, 12u);
}

TEST(Parser, PayloadAbsentButAccountedByLengthFields) {
  // The simulator passes headers only: wire_size carries the payload the bytes do not.
  const Bytes f = tcp4("10.0.0.1", "10.0.0.2", 1, 2, ACK, 0, 0, 100, {}, 1000);
  ParsedPacket p;
  ASSERT_EQ(parse_packet(PacketView{f.data(), 54, static_cast<uint32_t>(f.size()), 1},
                         Direction::kEgress, p),
            DropReason::kNone);
  EXPECT_EQ(p.l4_payload_size, 1000u);
}

TEST(Parser, SegmentationOffloadSuperPacket) {
  // One 54-byte header standing for 45 segments: the IP length field describes one segment (or
  // nothing); the payload is the wire size minus the headers.
  const Bytes f = tcp4("10.0.0.1", "10.0.0.2", 1, 2, ACK, 0, 0, 100, {}, 0);
  ParsedPacket p;
  ASSERT_EQ(parse_packet(PacketView{f.data(), 54, 64000, 45}, Direction::kEgress, p),
            DropReason::kNone);
  EXPECT_EQ(p.l4_payload_size, 64000u - 54);
  const Bytes u = udp6("::1", "::2", 1, 2);
  ASSERT_EQ(parse_packet(PacketView{u.data(), static_cast<uint32_t>(u.size()), 30000, 20},
                         Direction::kEgress, p),
            DropReason::kNone);
  EXPECT_EQ(p.l4_payload_size, 30000u - 62);
  // Without the segment count, the same frame's IP length must fit the wire.
  ASSERT_EQ(parse_packet(PacketView{f.data(), 54, 64000, 1}, Direction::kEgress, p),
            DropReason::kNone);
  EXPECT_EQ(p.l4_payload_size, 0u);
}

// Cutting a valid frame anywhere must give kTruncated (or, where the cut still leaves a whole
// header, success) and never read past the cut; ASan checks the reads because each cut is a
// fresh heap buffer of exactly that size.
void expect_truncation_safe(const Bytes& frame) {
  for (std::size_t cut = 0; cut < frame.size(); ++cut) {
    Bytes part(frame.begin(), frame.begin() + static_cast<std::ptrdiff_t>(cut));
    ParsedPacket p;
    const DropReason r = parse_packet(
        PacketView{part.empty() ? nullptr : part.data(), static_cast<uint32_t>(cut),
                   static_cast<uint32_t>(frame.size()), 1},
        Direction::kEgress, p);
    if (part.empty()) {
      EXPECT_EQ(r, DropReason::kMalformedL2);
      continue;
    }
    EXPECT_TRUE(r == DropReason::kTruncated || r == DropReason::kNone)
        << "cut at " << cut << ": " << drop_reason_name(r);
    EXPECT_LE(p.bytes_parsed, cut);
  }
}

TEST(Parser, TruncationAtEveryOffset) {
  const Bytes quoted = ipv4("10.0.0.1", "10.0.0.2", 6, tcp(5000, 80, SYN));
  const std::vector<Bytes> samples = {
      tcp4("10.0.0.1", "10.0.0.2", 1, 2, SYN, 1, 0, 100, tcp_wscale_option(7) + Bytes{4, 2, 1, 1}),
      eth(0x0800, ipv4("10.0.0.1", "10.0.0.2", 17, udp(1, 2, 4), {.options = {1, 1, 1, 0}}),
          {0x88A8, 0x8100}),
      eth(0x0800, ipv4("10.0.0.2", "10.0.0.1", 1, icmp(3, 3, 0, 0, quoted))),
      eth(0x86DD, ipv6("::1", "::2", 0, ipv6_ext(0, 44) + ipv6_fragment(51, 0, true, 1) +
                                            ipv6_ext(51, 6, 4) + tcp(1, 2, ACK))),
      eth(0x86DD, ipv6("::1", "::2", 58, icmp(1, 4, 0, 0, ipv6("::2", "::1", 17, udp(1, 2))))),
      arp_request(),
  };
  for (const Bytes& frame : samples) {
    ParsedPacket whole;
    ASSERT_EQ(parse(frame, whole), DropReason::kNone);
    expect_truncation_safe(frame);
  }
}

}  // namespace
}  // namespace dfw::testing
