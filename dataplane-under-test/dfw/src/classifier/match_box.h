#pragma once
// The geometric view of classification used by the rule compiler and the decision forest.
//
// A packet is a point in a 12-dimensional space of unsigned integers and a compiled rule is a
// union of axis-aligned boxes in that space (one box per source-prefix x destination-prefix pair).
// The 128-bit addresses are split into four 32-bit words each, so that every CIDR prefix, IPv4
// (as ::ffff:a.b.c.d) or IPv6, is exactly one box: the words before the prefix boundary are
// points, the word holding the boundary is an aligned range and later words are full.
//
// ICMP type and code share the two L4 port dimensions, as in Open vSwitch and nftables: the rule
// compiler only lets a rule constrain ports on TCP/UDP and type/code on ICMP/ICMPv6, and every
// rule that constrains either also pins the protocol, so the two uses never meet in one box.

#include <array>
#include <cstdint>

#include "rule_table.h"

namespace dfw::classifier {

enum Dim : uint8_t {
  kSource0 = 0,  // most significant word of the source address
  kSource1,
  kSource2,
  kSource3,
  kDestination0,
  kDestination1,
  kDestination2,
  kDestination3,
  kL4Source,       // TCP/UDP source port, or ICMP type
  kL4Destination,  // TCP/UDP destination port, or ICMP code
  kProtocol,
  kDirection,      // Direction::kIngress = 0, kEgress = 1
  kDimCount
};

inline constexpr std::array<uint32_t, kDimCount> kDimMax = {
    0xffffffffu, 0xffffffffu, 0xffffffffu, 0xffffffffu, 0xffffffffu, 0xffffffffu,
    0xffffffffu, 0xffffffffu, 0xffffu,     0xffffu,     0xffu,       1u};

// Bits of each dimension's domain [0, kDimMax]; every domain is a power of two wide.
inline constexpr std::array<uint8_t, kDimCount> kDimBits = {32, 32, 32, 32, 32, 32,
                                                             32, 32, 16, 16, 8,  1};

struct PointKey {
  std::array<uint32_t, kDimCount> value{};
};

// Inclusive bounds per dimension.
struct MatchBox {
  std::array<uint32_t, kDimCount> low{};
  std::array<uint32_t, kDimCount> high = kDimMax;

  bool contains(const PointKey& p) const {
    for (int d = 0; d < kDimCount; ++d) {
      if (p.value[d] < low[d] || p.value[d] > high[d]) return false;
    }
    return true;
  }
};

// Sets the four address dimensions starting at `first` to the box of a 128-bit prefix.
void set_prefix(MatchBox& box, Dim first, const std::array<uint8_t, 16>& address, uint32_t length);

// Sets the four address dimensions starting at `first` to a 128-bit address.
void set_address(PointKey& point, Dim first, const std::array<uint8_t, 16>& address);

// The point of a parsed packet (see the ICMP note above).
PointKey point_from_flow(const FlowKey& key);

}  // namespace dfw::classifier
