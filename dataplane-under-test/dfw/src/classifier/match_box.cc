#include "classifier/match_box.h"

namespace dfw::classifier {

namespace {

uint32_t word_at(const std::array<uint8_t, 16>& address, int word) {
  const uint8_t* b = address.data() + 4 * word;
  return (uint32_t{b[0]} << 24) | (uint32_t{b[1]} << 16) | (uint32_t{b[2]} << 8) | uint32_t{b[3]};
}

}  // namespace

void set_prefix(MatchBox& box, Dim first, const std::array<uint8_t, 16>& address, uint32_t length) {
  for (int word = 0; word < 4; ++word) {
    const int d = first + word;
    const uint32_t word_start = 32u * static_cast<uint32_t>(word);
    const uint32_t value = word_at(address, word);
    if (length >= word_start + 32) {
      box.low[d] = box.high[d] = value;
    } else if (length <= word_start) {
      box.low[d] = 0;
      box.high[d] = 0xffffffffu;
    } else {
      const uint32_t host_bits = word_start + 32 - length;  // 1..31
      const uint32_t host_mask = (1u << host_bits) - 1;
      box.low[d] = value & ~host_mask;
      box.high[d] = value | host_mask;
    }
  }
}

void set_address(PointKey& point, Dim first, const std::array<uint8_t, 16>& address) {
  for (int word = 0; word < 4; ++word) point.value[first + word] = word_at(address, word);
}

PointKey point_from_flow(const FlowKey& key) {
  PointKey p;
  set_address(p, kSource0, key.source);
  set_address(p, kDestination0, key.destination);
  const bool icmp = key.protocol == kProtoIcmp || key.protocol == kProtoIcmpv6;
  p.value[kL4Source] = icmp ? key.icmp_type : key.source_port;
  p.value[kL4Destination] = icmp ? key.icmp_code : key.destination_port;
  p.value[kProtocol] = key.protocol;
  p.value[kDirection] = static_cast<uint32_t>(key.direction);
  return p;
}

}  // namespace dfw::classifier
