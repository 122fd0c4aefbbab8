#pragma once
// Per-protocol parser entry points shared by the parser's translation units. Each one parses
// the header at `offset` of the cursor and continues to the next layer.

#include <cstdint>

#include "dfw/types.h"
#include "parse/parsed_packet.h"

namespace dfw::parse {

// The bytes a parser may read and the lengths that bound the packet.
struct Cursor {
  const uint8_t* data;
  uint32_t header_size;   // readable bytes
  uint32_t wire_size;     // bytes on the wire
  bool super_packet;      // segmentation offload: IP length fields are not authoritative
  bool has(uint32_t offset, uint32_t size) const {
    return offset <= header_size && size <= header_size - offset;
  }
};

DropReason parse_ipv4(const Cursor& c, uint32_t offset, ParsedPacket& out);
DropReason parse_ipv6(const Cursor& c, uint32_t offset, ParsedPacket& out);
// `l3_end` is where the IP packet ends per its length field (or the wire end for super-packets).
DropReason parse_l4(const Cursor& c, uint32_t offset, uint32_t l3_end, ParsedPacket& out);
// Parses the IP header + first 8 L4 bytes quoted inside an ICMP error. Best effort: a quote that
// is too short leaves has_quoted false (the error then relates to nothing and is invalid).
void parse_quoted(const Cursor& c, uint32_t offset, bool v6, ParsedPacket& out);

// Maps an IPv4 address (network order bytes) to the IPv4-mapped IPv6 form.
inline void map_v4(const uint8_t* v4, std::array<uint8_t, 16>& out) {
  out = {};
  out[10] = 0xFF;
  out[11] = 0xFF;
  out[12] = v4[0];
  out[13] = v4[1];
  out[14] = v4[2];
  out[15] = v4[3];
}

}  // namespace dfw::parse
