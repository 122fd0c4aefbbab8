#pragma once
// Frame builders and a parser for the header bytes that packets carry.
//
// Builders write a real frame header into Packet::header: Ethernet II, then IPv4 (20 bytes, no
// options) or IPv6 (40 bytes, no extension headers), then TCP (with options on SYN segments),
// UDP or ICMP/ICMPv6. Lengths and checksums are those of the real frame:
//   - IPv4 total length / IPv6 payload length count the whole L4 segment, payload included. For a
//     segmentation-offload super-packet they count the aggregate payload, as a Linux GSO skb does,
//     so a conntrack computing `seq + payload length` sees the full super-packet.
//   - The IPv4 header checksum is exact.
//   - The TCP/UDP/ICMPv6 checksums include the pseudo-header with the full L4 length; payloads are
//     never materialized, and the checksum is that of a payload of zero bytes (which contribute
//     nothing to the one's-complement sum). A checker that treats missing payload as zeros
//     therefore verifies it exactly.
//
// Wire size. Packet::wire_size counts every Ethernet frame the (super-)packet stands for, from the
// destination MAC through the last payload byte, padded to the Ethernet minimum of 60 bytes; FCS,
// preamble and inter-frame gap are left to the link model. A super-packet of P payload bytes
// with segment payload size M is ceil(P / M) frames, each carrying its own headers.
//
// Flow hash. Packet::flow_hash = flow_hash(tuple): a 64-bit mix (SplitMix64 finalizer chained over
// the 16-byte source address, 16-byte destination address, ports and protocol; IPv4 addresses are
// taken as IPv4-mapped IPv6). It is stable across platforms and runs, and direction-sensitive
// (A->B and B->A hash differently), like a Toeplitz RSS hash with a random key.

#include <array>
#include <cstddef>
#include <cstdint>

#include "models/packet.h"

namespace models {

using MacAddress = std::array<uint8_t, 6>;

// An IPv4 or IPv6 address. Bytes are in network order; IPv4 uses the first four bytes.
struct IpAddress {
  std::array<uint8_t, 16> bytes{};
  bool is_v6 = false;

  static IpAddress v4(uint32_t host_order);
  static IpAddress v6(const std::array<uint8_t, 16>& network_order);
  uint32_t v4_host_order() const;
  bool operator==(const IpAddress&) const = default;
};

inline constexpr uint8_t kProtocolIcmp = 1;
inline constexpr uint8_t kProtocolTcp = 6;
inline constexpr uint8_t kProtocolUdp = 17;
inline constexpr uint8_t kProtocolIcmpv6 = 58;

struct FiveTuple {
  IpAddress source;
  IpAddress destination;  // same family as source
  uint16_t source_port = 0;       // ICMP: 0
  uint16_t destination_port = 0;  // ICMP: 0
  uint8_t protocol = 0;
  bool operator==(const FiveTuple&) const = default;
};

uint64_t flow_hash(const FiveTuple& tuple);

struct L2Addresses {
  MacAddress source{};
  MacAddress destination{};
};

namespace tcp_flags {
inline constexpr uint8_t kFin = 0x01;
inline constexpr uint8_t kSyn = 0x02;
inline constexpr uint8_t kRst = 0x04;
inline constexpr uint8_t kPsh = 0x08;
inline constexpr uint8_t kAck = 0x10;
inline constexpr uint8_t kEce = 0x40;
inline constexpr uint8_t kCwr = 0x80;
}  // namespace tcp_flags

// The TCP header fields a stack chooses. Options are emitted in Linux's SYN order: MSS, then
// NOP + window scale (the header stays a multiple of 4 bytes).
struct TcpFields {
  uint32_t seq = 0;
  uint32_t ack = 0;
  uint8_t flags = 0;
  uint16_t window = 0;        // the raw 16-bit field (already scaled down by the sender)
  uint16_t mss_option = 0;    // 0: no MSS option
  int8_t window_scale_option = -1;  // -1: no window-scale option; else the shift, 0..14
};

struct IcmpFields {
  uint8_t type = 8;  // echo request (ICMPv6: 128)
  uint8_t code = 0;
  uint16_t identifier = 0;
  uint16_t sequence = 0;
};

inline constexpr uint32_t kEthernetHeaderSize = 14;
inline constexpr uint32_t kIpv4HeaderSize = 20;
inline constexpr uint32_t kIpv6HeaderSize = 40;
inline constexpr uint32_t kTcpHeaderSize = 20;  // without options
inline constexpr uint32_t kUdpHeaderSize = 8;
inline constexpr uint32_t kIcmpHeaderSize = 8;
inline constexpr uint32_t kEthernetMinimumFrameSize = 60;  // without FCS
// The largest L4 segment (header + payload) an IPv4 total length or IPv6 payload length can name.
inline constexpr uint32_t kMaxIpv4TotalLength = 65535;
inline constexpr uint32_t kMaxIpv6PayloadLength = 65535;

// The largest L4 payload one (super-)packet may carry for the given L4 header size and family.
uint32_t max_super_packet_payload(bool ipv6, uint32_t l4_header_size);

// Each builder fills packet.header, header_size, payload_size, segment_count, wire_size and
// flow_hash (other fields are the caller's). `segment_payload_size` is the payload per wire
// segment (the MSS for TCP); 0 means the packet is a single frame. Returns false, leaving the
// packet unspecified, if the payload exceeds max_super_packet_payload() or the address families
// differ.
bool build_tcp_frame(Packet& packet, const L2Addresses& l2, const FiveTuple& tuple,
                     const TcpFields& tcp, uint32_t payload_size, uint32_t segment_payload_size);
bool build_udp_frame(Packet& packet, const L2Addresses& l2, const FiveTuple& tuple,
                     uint32_t payload_size);
// ICMP echo (ICMPv6 for IPv6 tuples); the tuple's ports are ignored.
bool build_icmp_frame(Packet& packet, const L2Addresses& l2, const FiveTuple& tuple,
                      const IcmpFields& icmp, uint32_t payload_size);

// What parse_frame() found. Fields of layers the frame does not have are left at their defaults.
struct ParsedFrame {
  FiveTuple tuple;              // ports are 0 for ICMP
  uint32_t l3_offset = 0;
  uint32_t l4_offset = 0;
  uint32_t l4_header_size = 0;
  uint32_t l4_payload_size = 0;  // from the IP length fields: the whole (super-)packet's payload
  uint8_t ttl = 0;               // IPv4 TTL or IPv6 hop limit
  TcpFields tcp;                 // when tuple.protocol == TCP
  IcmpFields icmp;               // when ICMP/ICMPv6
  bool has_inner = false;        // ICMP error carrying the start of the offending packet
  FiveTuple inner;               // that packet's 5-tuple (as the offending packet saw it)
};

enum class ParseStatus { kOk, kTruncated, kNotIp, kMalformed };

// Parses Ethernet (one optional 802.1Q tag), IPv4/IPv6 (IPv6 extension headers are not walked),
// and TCP/UDP/ICMP/ICMPv6. Checksums are not verified (see the checksum helpers below).
ParseStatus parse_frame(const uint8_t* data, std::size_t size, ParsedFrame& out);

// RFC 1071 one's-complement sum helpers, exposed for tests and tools.
uint32_t checksum_add(uint32_t sum, const uint8_t* data, std::size_t size);
uint16_t checksum_fold(uint32_t sum);

}  // namespace models
