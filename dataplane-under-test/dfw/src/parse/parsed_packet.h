#pragma once
// What the parser extracts from one frame: the classification key plus everything conntrack,
// the fragment table and the reject-frame builder need. Filled by parse_packet() (parser.h).

#include <cstdint>

#include "rule_table.h"

namespace dfw {

enum class L3Kind : uint8_t { kNone = 0, kArp, kOtherEtherType, kIpv4, kIpv6 };

// Where a packet stands in IP fragmentation.
enum class FragmentKind : uint8_t {
  kNone = 0,   // not fragmented
  kFirst,      // offset 0, more fragments follow: carries the L4 header, is classified
  kLater,      // offset > 0: no L4 header, follows the first fragment's verdict
};

// TCP flag bits as on the wire (byte 13 of the TCP header).
inline constexpr uint8_t kTcpFin = 0x01;
inline constexpr uint8_t kTcpSyn = 0x02;
inline constexpr uint8_t kTcpRst = 0x04;
inline constexpr uint8_t kTcpPsh = 0x08;
inline constexpr uint8_t kTcpAck = 0x10;
inline constexpr uint8_t kTcpUrg = 0x20;

// How an ICMP/ICMPv6 message relates to connection tracking.
enum class IcmpClass : uint8_t {
  kOther = 0,     // classified on its own, never creates a connection
  kRequest,       // echo/timestamp/info request: creates a connection keyed by the id
  kReply,         // the matching reply: valid only on an existing connection
  kError,         // destination unreachable, time exceeded, ...: related to the quoted flow
  kNeighbor,      // ICMPv6 neighbour discovery / MLD: follows the ARP policy
};

struct TcpInfo {
  uint32_t seq = 0;
  uint32_t ack = 0;
  uint16_t window = 0;       // unscaled, as on the wire
  uint8_t flags = 0;
  int8_t window_scale = -1;  // from a SYN's option; -1 when absent
  bool sack_permitted = false;
};

// The flow quoted inside an ICMP error (the packet that provoked it), as it was sent.
struct QuotedFlow {
  FlowKey key;           // direction unused
  uint16_t icmp_id = 0;  // when the quoted packet is an ICMP request
};

struct ParsedPacket {
  L3Kind l3 = L3Kind::kNone;
  FlowKey key;                    // addresses, ports, protocol, ICMP type/code, direction
  FragmentKind fragment = FragmentKind::kNone;
  uint32_t fragment_id = 0;       // IPv4 identification or IPv6 fragment header id
  uint16_t l2_size = 0;           // bytes of Ethernet + VLAN headers
  uint16_t l3_offset = 0;
  uint16_t l4_offset = 0;         // valid when the L4 header was parsed
  uint16_t l4_header_size = 0;
  uint32_t l4_payload_size = 0;   // bytes after the L4 header (whole super-packet payload)
  uint16_t icmp_id = 0;
  IcmpClass icmp_class = IcmpClass::kOther;
  bool has_l4 = false;            // false for later fragments and protocols without ports
  TcpInfo tcp;
  QuotedFlow quoted;              // valid when icmp_class == kError and has_quoted
  bool has_quoted = false;
  uint32_t bytes_parsed = 0;
};

}  // namespace dfw
