// IPv4: version, header length, options (walked and validated), total length, fragments.

#include "parse/parse_internal.h"
#include "util/bytes.h"

namespace dfw::parse {
namespace {

constexpr uint32_t kMinHeaderSize = 20;
constexpr uint8_t kOptionEnd = 0;
constexpr uint8_t kOptionNop = 1;

// Options are TLVs after the fixed header; EOL ends them, NOP is one byte, every other option
// carries a length >= 2 that must stay inside the header.
bool options_valid(const uint8_t* options, uint32_t size) {
  uint32_t i = 0;
  while (i < size) {
    const uint8_t kind = options[i];
    if (kind == kOptionEnd) return true;
    if (kind == kOptionNop) {
      ++i;
      continue;
    }
    if (i + 1 >= size) return false;
    const uint8_t length = options[i + 1];
    if (length < 2 || length > size - i) return false;
    i += length;
  }
  return true;
}

}  // namespace

DropReason parse_ipv4(const Cursor& c, uint32_t offset, ParsedPacket& out) {
  out.l3 = L3Kind::kIpv4;
  if (!c.has(offset, kMinHeaderSize)) return DropReason::kTruncated;
  const uint8_t* p = c.data + offset;
  if ((p[0] >> 4) != 4) return DropReason::kMalformedIpv4;
  const uint32_t header_size = (p[0] & 0x0Fu) * 4u;
  if (header_size < kMinHeaderSize) return DropReason::kMalformedIpv4;
  if (!c.has(offset, header_size)) return DropReason::kTruncated;
  const uint32_t total_size = load_be16(p + 2);
  uint32_t l3_end;
  if (c.super_packet) {
    l3_end = c.wire_size;
  } else {
    if (total_size < header_size) return DropReason::kMalformedIpv4;
    if (total_size > c.wire_size - offset) return DropReason::kTruncated;
    l3_end = offset + total_size;
  }
  if (!options_valid(p + kMinHeaderSize, header_size - kMinHeaderSize))
    return DropReason::kMalformedIpv4;

  const uint16_t flags_fragment = load_be16(p + 6);
  if (flags_fragment & 0x8000) return DropReason::kMalformedIpv4;  // reserved bit
  const bool more_fragments = flags_fragment & 0x2000;
  const uint32_t fragment_offset = (flags_fragment & 0x1FFFu) * 8u;
  out.fragment_id = load_be16(p + 4);
  if (fragment_offset > 0) {
    out.fragment = FragmentKind::kLater;
  } else if (more_fragments) {
    out.fragment = FragmentKind::kFirst;
  }
  out.key.protocol = p[9];
  out.key.is_v4 = true;
  map_v4(p + 12, out.key.source);
  map_v4(p + 16, out.key.destination);
  out.bytes_parsed = offset + header_size;
  if (out.fragment == FragmentKind::kLater) return DropReason::kNone;
  return parse_l4(c, offset + header_size, l3_end, out);
}

}  // namespace dfw::parse
