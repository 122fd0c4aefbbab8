// Layer 4: TCP (data offset, flags, SYN options), UDP, ICMP and ICMPv6 (echo ids, errors with
// the quoted flow), and the quoted headers inside ICMP errors.

#include <cstring>

#include "parse/parse_internal.h"
#include "util/bytes.h"

namespace dfw::parse {
namespace {

constexpr uint32_t kTcpMinHeaderSize = 20;
constexpr uint32_t kUdpHeaderSize = 8;
constexpr uint32_t kIcmpHeaderSize = 8;
constexpr uint8_t kTcpOptionEnd = 0;
constexpr uint8_t kTcpOptionNop = 1;
constexpr uint8_t kTcpOptionWindowScale = 3;
constexpr uint8_t kTcpOptionSackPermitted = 4;
constexpr uint8_t kMaxWindowScale = 14;  // RFC 7323

// Reads the options conntrack cares about. Malformed options end the walk without dropping the
// packet: the receiver ignores them too, so they cannot be used to desynchronize tracking.
void parse_tcp_options(const uint8_t* options, uint32_t size, TcpInfo& tcp) {
  uint32_t i = 0;
  while (i < size) {
    const uint8_t kind = options[i];
    if (kind == kTcpOptionEnd) return;
    if (kind == kTcpOptionNop) {
      ++i;
      continue;
    }
    if (i + 1 >= size) return;
    const uint8_t length = options[i + 1];
    if (length < 2 || length > size - i) return;
    if (kind == kTcpOptionWindowScale && length == 3) {
      const uint8_t scale = options[i + 2];
      tcp.window_scale = static_cast<int8_t>(scale > kMaxWindowScale ? kMaxWindowScale : scale);
    } else if (kind == kTcpOptionSackPermitted && length == 2) {
      tcp.sack_permitted = true;
    }
    i += length;
  }
}

DropReason parse_tcp(const Cursor& c, uint32_t offset, uint32_t l3_end, ParsedPacket& out) {
  // The IP packet too short for a TCP header is malformed; header bytes the hypervisor did not
  // hand us are truncated.
  if (offset + kTcpMinHeaderSize > l3_end) return DropReason::kMalformedL4;
  if (!c.has(offset, kTcpMinHeaderSize)) return DropReason::kTruncated;
  const uint8_t* p = c.data + offset;
  const uint32_t header_size = (p[12] >> 4) * 4u;
  if (header_size < kTcpMinHeaderSize) return DropReason::kMalformedL4;
  if (offset + header_size > l3_end) return DropReason::kMalformedL4;
  if (!c.has(offset, header_size)) return DropReason::kTruncated;
  out.key.source_port = load_be16(p);
  out.key.destination_port = load_be16(p + 2);
  out.tcp.seq = load_be32(p + 4);
  out.tcp.ack = load_be32(p + 8);
  out.tcp.flags = p[13] & 0x3F;  // ECE and CWR do not matter to tracking
  out.tcp.window = load_be16(p + 14);
  if (out.tcp.flags & 0x02)
    parse_tcp_options(p + kTcpMinHeaderSize, header_size - kTcpMinHeaderSize, out.tcp);
  out.l4_header_size = static_cast<uint16_t>(header_size);
  out.l4_payload_size = l3_end - offset - header_size;
  out.bytes_parsed = offset + header_size;
  return DropReason::kNone;
}

DropReason parse_udp(const Cursor& c, uint32_t offset, uint32_t l3_end, ParsedPacket& out) {
  if (offset + kUdpHeaderSize > l3_end) return DropReason::kMalformedL4;
  if (!c.has(offset, kUdpHeaderSize)) return DropReason::kTruncated;
  const uint8_t* p = c.data + offset;
  const uint32_t length = load_be16(p + 4);
  // A super-packet's (UDP GSO) and a first fragment's length field describe more than is here.
  if (!c.super_packet && out.fragment == FragmentKind::kNone &&
      (length < kUdpHeaderSize || length > l3_end - offset))
    return DropReason::kMalformedL4;
  out.key.source_port = load_be16(p);
  out.key.destination_port = load_be16(p + 2);
  out.l4_header_size = kUdpHeaderSize;
  out.l4_payload_size = l3_end - offset - kUdpHeaderSize;
  out.bytes_parsed = offset + kUdpHeaderSize;
  return DropReason::kNone;
}

IcmpClass classify_icmpv4(uint8_t type) {
  switch (type) {
    case 8: case 13: case 15: case 17:
      return IcmpClass::kRequest;
    case 0: case 14: case 16: case 18:
      return IcmpClass::kReply;
    case 3: case 4: case 5: case 11: case 12:
      return IcmpClass::kError;
    default:
      return IcmpClass::kOther;
  }
}

IcmpClass classify_icmpv6(uint8_t type) {
  switch (type) {
    case 128:
      return IcmpClass::kRequest;
    case 129:
      return IcmpClass::kReply;
    case 1: case 2: case 3: case 4:
      return IcmpClass::kError;
    case 130: case 131: case 132: case 133: case 134: case 135: case 136: case 137: case 143:
      return IcmpClass::kNeighbor;
    default:
      return IcmpClass::kOther;
  }
}

DropReason parse_icmp(const Cursor& c, uint32_t offset, uint32_t l3_end, bool v6,
                      ParsedPacket& out) {
  if (offset + kIcmpHeaderSize > l3_end) return DropReason::kMalformedL4;
  if (!c.has(offset, kIcmpHeaderSize)) return DropReason::kTruncated;
  const uint8_t* p = c.data + offset;
  out.key.icmp_type = p[0];
  out.key.icmp_code = p[1];
  out.icmp_class = v6 ? classify_icmpv6(p[0]) : classify_icmpv4(p[0]);
  if (out.icmp_class == IcmpClass::kRequest || out.icmp_class == IcmpClass::kReply)
    out.icmp_id = load_be16(p + 4);
  out.l4_header_size = kIcmpHeaderSize;
  out.l4_payload_size = l3_end - offset - kIcmpHeaderSize;
  out.bytes_parsed = offset + kIcmpHeaderSize;
  if (out.icmp_class == IcmpClass::kError) parse_quoted(c, offset + kIcmpHeaderSize, v6, out);
  return DropReason::kNone;
}

}  // namespace

DropReason parse_l4(const Cursor& c, uint32_t offset, uint32_t l3_end, ParsedPacket& out) {
  out.l4_offset = static_cast<uint16_t>(offset);
  DropReason reason = DropReason::kNone;
  switch (out.key.protocol) {
    case kProtoTcp:
      reason = parse_tcp(c, offset, l3_end, out);
      break;
    case kProtoUdp:
      reason = parse_udp(c, offset, l3_end, out);
      break;
    case kProtoIcmp:
      if (!out.key.is_v4) return DropReason::kMalformedL4;
      reason = parse_icmp(c, offset, l3_end, false, out);
      break;
    case kProtoIcmpv6:
      if (out.key.is_v4) return DropReason::kMalformedL4;
      reason = parse_icmp(c, offset, l3_end, true, out);
      break;
    default:
      // Other protocols (GRE, ESP, SCTP, ...) are tracked by addresses and protocol alone.
      out.l4_payload_size = l3_end > offset ? l3_end - offset : 0;
      return DropReason::kNone;
  }
  if (reason == DropReason::kNone) out.has_l4 = true;
  return reason;
}

void parse_quoted(const Cursor& c, uint32_t offset, bool v6, ParsedPacket& out) {
  QuotedFlow& q = out.quoted;
  uint32_t l4;
  if (!v6) {
    if (!c.has(offset, 20) || (c.data[offset] >> 4) != 4) return;
    const uint32_t header_size = (c.data[offset] & 0x0Fu) * 4u;
    if (header_size < 20 || !c.has(offset, header_size)) return;
    q.key.protocol = c.data[offset + 9];
    q.key.is_v4 = true;
    map_v4(c.data + offset + 12, q.key.source);
    map_v4(c.data + offset + 16, q.key.destination);
    l4 = offset + header_size;
  } else {
    if (!c.has(offset, 40) || (c.data[offset] >> 4) != 6) return;
    q.key.protocol = c.data[offset + 6];
    std::memcpy(q.key.source.data(), c.data + offset + 8, 16);
    std::memcpy(q.key.destination.data(), c.data + offset + 24, 16);
    l4 = offset + 40;
  }
  // RFC 792 quotes at least 8 bytes of the upper layer: ports, or ICMP type/code/id.
  if (!c.has(l4, 8)) return;
  const uint8_t* p = c.data + l4;
  if (q.key.protocol == kProtoTcp || q.key.protocol == kProtoUdp) {
    q.key.source_port = load_be16(p);
    q.key.destination_port = load_be16(p + 2);
  } else if (q.key.protocol == kProtoIcmp || q.key.protocol == kProtoIcmpv6) {
    q.key.icmp_type = p[0];
    q.key.icmp_code = p[1];
    const IcmpClass inner = v6 ? classify_icmpv6(p[0]) : classify_icmpv4(p[0]);
    if (inner != IcmpClass::kRequest) return;  // errors about errors relate to nothing
    q.icmp_id = load_be16(p + 4);
  }
  out.has_quoted = true;
  out.bytes_parsed = l4 + 8;
}

}  // namespace dfw::parse
