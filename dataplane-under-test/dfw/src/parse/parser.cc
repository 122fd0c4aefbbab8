// Layer 2: Ethernet II, up to two VLAN tags (802.1Q, 802.1ad QinQ), ARP; dispatch to IP.

#include "parse/parser.h"

#include "parse/parse_internal.h"
#include "util/bytes.h"

namespace dfw {
namespace {

constexpr uint16_t kEtherTypeIpv4 = 0x0800;
constexpr uint16_t kEtherTypeArp = 0x0806;
constexpr uint16_t kEtherTypeVlan = 0x8100;
constexpr uint16_t kEtherTypeQinQ = 0x88A8;
constexpr uint16_t kEtherTypeQinQLegacy = 0x9100;
constexpr uint16_t kEtherTypeIpv6 = 0x86DD;
constexpr uint32_t kEthernetHeaderSize = 14;
constexpr uint32_t kVlanTagSize = 4;
constexpr int kMaxVlanTags = 2;
constexpr uint32_t kArpIpv4Size = 28;

bool is_vlan(uint16_t ether_type) {
  return ether_type == kEtherTypeVlan || ether_type == kEtherTypeQinQ ||
         ether_type == kEtherTypeQinQLegacy;
}

DropReason parse_arp(const parse::Cursor& c, uint32_t offset, ParsedPacket& out) {
  out.l3 = L3Kind::kArp;
  if (!c.has(offset, kArpIpv4Size)) return DropReason::kTruncated;
  const uint8_t* p = c.data + offset;
  // Ethernet hardware (1), IPv4 protocol, 6-byte MACs, 4-byte addresses: the only ARP a VM on
  // an Ethernet vNIC legitimately sends.
  if (load_be16(p) != 1 || load_be16(p + 2) != kEtherTypeIpv4 || p[4] != 6 || p[5] != 4)
    return DropReason::kMalformedL2;
  const uint16_t op = load_be16(p + 6);
  if (op != 1 && op != 2) return DropReason::kMalformedL2;
  out.bytes_parsed = offset + kArpIpv4Size;
  return DropReason::kNone;
}

}  // namespace

DropReason parse_packet(const PacketView& packet, Direction direction, ParsedPacket& out) {
  out = ParsedPacket{};
  out.key.direction = direction;
  if (packet.data == nullptr || packet.wire_size < packet.header_size)
    return DropReason::kMalformedL2;
  const parse::Cursor c{packet.data, packet.header_size, packet.wire_size,
                        packet.segment_count > 1};
  if (!c.has(0, kEthernetHeaderSize)) return DropReason::kTruncated;
  uint32_t offset = 12;
  uint16_t ether_type = load_be16(c.data + offset);
  offset += 2;
  for (int tags = 0; is_vlan(ether_type); ++tags) {
    if (tags == kMaxVlanTags) return DropReason::kMalformedL2;
    if (!c.has(offset, kVlanTagSize)) return DropReason::kTruncated;
    ether_type = load_be16(c.data + offset + 2);
    offset += kVlanTagSize;
  }
  out.l2_size = static_cast<uint16_t>(offset);
  out.l3_offset = static_cast<uint16_t>(offset);
  out.bytes_parsed = offset;
  switch (ether_type) {
    case kEtherTypeIpv4:
      return parse::parse_ipv4(c, offset, out);
    case kEtherTypeIpv6:
      return parse::parse_ipv6(c, offset, out);
    case kEtherTypeArp:
      return parse_arp(c, offset, out);
    default:
      // LLDP, other EtherTypes and 802.3 length fields (< 0x0600): policy decides.
      out.l3 = L3Kind::kOtherEtherType;
      return DropReason::kNone;
  }
}

}  // namespace dfw
