// IPv6: the fixed header and a bounded walk over extension headers (hop-by-hop, routing,
// fragment, destination options, AH). ESP and "no next header" end the chain like an upper layer.

#include <cstring>

#include "parse/parse_internal.h"
#include "util/bytes.h"

namespace dfw::parse {
namespace {

constexpr uint32_t kFixedHeaderSize = 40;
constexpr uint8_t kHopByHop = 0;
constexpr uint8_t kRouting = 43;
constexpr uint8_t kFragment = 44;
constexpr uint8_t kAuthentication = 51;
constexpr uint8_t kDestinationOptions = 60;
constexpr uint32_t kFragmentHeaderSize = 8;
// More extension headers than this is an attack on parsers, not a real packet (RFC 8200 allows
// each header at most once, destination options twice).
constexpr int kMaxExtensionHeaders = 8;

}  // namespace

DropReason parse_ipv6(const Cursor& c, uint32_t offset, ParsedPacket& out) {
  out.l3 = L3Kind::kIpv6;
  if (!c.has(offset, kFixedHeaderSize)) return DropReason::kTruncated;
  const uint8_t* p = c.data + offset;
  if ((p[0] >> 4) != 6) return DropReason::kMalformedIpv6;
  const uint32_t payload_size = load_be16(p + 4);
  uint32_t l3_end;
  if (c.super_packet) {
    l3_end = c.wire_size;
  } else {
    // A zero payload length announces a jumbogram, which no vNIC carries: malformed.
    if (payload_size == 0 && p[6] != 59) return DropReason::kMalformedIpv6;
    if (payload_size > c.wire_size - offset - kFixedHeaderSize) return DropReason::kTruncated;
    l3_end = offset + kFixedHeaderSize + payload_size;
  }
  std::memcpy(out.key.source.data(), p + 8, 16);
  std::memcpy(out.key.destination.data(), p + 24, 16);
  out.key.is_v4 = false;

  uint8_t next = p[6];
  uint32_t at = offset + kFixedHeaderSize;
  for (int count = 0;; ++count) {
    out.bytes_parsed = at;
    const bool extension = next == kHopByHop || next == kRouting || next == kFragment ||
                           next == kAuthentication || next == kDestinationOptions;
    if (!extension) break;
    if (count == kMaxExtensionHeaders) return DropReason::kMalformedIpv6;
    if (next == kHopByHop && count != 0) return DropReason::kMalformedIpv6;
    if (!c.has(at, 8)) return DropReason::kTruncated;
    const uint8_t* h = c.data + at;
    uint32_t size;
    if (next == kFragment) {
      size = kFragmentHeaderSize;
      const uint32_t fragment_offset = load_be16(h + 2) & 0xFFF8u;
      const bool more = h[3] & 1;
      out.fragment_id = load_be32(h + 4);
      if (fragment_offset > 0) {
        out.fragment = FragmentKind::kLater;
      } else if (more) {
        out.fragment = FragmentKind::kFirst;
      }
      // An atomic fragment (offset 0, no more) is an ordinary packet (RFC 6946).
    } else if (next == kAuthentication) {
      size = (static_cast<uint32_t>(h[1]) + 2) * 4;
    } else {
      size = (static_cast<uint32_t>(h[1]) + 1) * 8;
    }
    if (at + size > l3_end) return DropReason::kMalformedIpv6;
    if (!c.has(at, size)) return DropReason::kTruncated;
    next = h[0];
    at += size;
    if (out.fragment == FragmentKind::kLater) {
      out.key.protocol = next;
      out.bytes_parsed = at;
      return DropReason::kNone;
    }
  }
  out.key.protocol = next;
  return parse_l4(c, at, l3_end, out);
}

}  // namespace dfw::parse
