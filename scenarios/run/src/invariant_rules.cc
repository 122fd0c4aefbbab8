#include "invariant_rules.h"

#include <algorithm>
#include <cstdio>

namespace scenarios {
namespace {

using Address = std::array<uint8_t, 16>;

uint16_t be16(const uint8_t* p) { return static_cast<uint16_t>(p[0] << 8 | p[1]); }

// Zeroes the bits past `length` (over the 128-bit form).
Address masked(const Address& a, uint8_t length) {
  Address out{};
  for (int i = 0; i < 16; ++i) {
    const int bits = std::clamp(static_cast<int>(length) - 8 * i, 0, 8);
    out[i] = static_cast<uint8_t>(a[i] & static_cast<uint8_t>(0xff00 >> bits));
  }
  return out;
}

bool icmp_error(uint8_t protocol, uint8_t type) {
  if (protocol == dfw::kProtoIcmp) return type == 3 || type == 4 || type == 5 || type == 11 || type == 12;
  return type >= 1 && type <= 4;  // ICMPv6: unreachable, too big, time exceeded, parameter problem
}

void read_l4(const uint8_t* l4, uint32_t available, PacketFacts& f) {
  const uint8_t p = f.protocol;
  if (p == dfw::kProtoTcp || p == dfw::kProtoUdp) {
    if (available < 4) {
      f.kind = PacketFacts::Kind::kUnreadable;
      return;
    }
    f.source_port = be16(l4);
    f.destination_port = be16(l4 + 2);
  } else if (p == dfw::kProtoIcmp || p == dfw::kProtoIcmpv6) {
    if (available < 2) {
      f.kind = PacketFacts::Kind::kUnreadable;
      return;
    }
    f.icmp_type = l4[0];
    f.icmp_code = l4[1];
    if (icmp_error(p, f.icmp_type)) {
      f.kind = PacketFacts::Kind::kIcmpError;
      return;
    }
    if (p == dfw::kProtoIcmpv6 && f.icmp_type >= 133 && f.icmp_type <= 137) {
      f.kind = PacketFacts::Kind::kNeighbor;
      return;
    }
  }
  f.kind = PacketFacts::Kind::kClassified;
}

std::string address_text(const Address& a, bool v4) {
  char buffer[48];
  if (v4) {
    std::snprintf(buffer, sizeof buffer, "%u.%u.%u.%u", a[12], a[13], a[14], a[15]);
  } else {
    std::snprintf(buffer, sizeof buffer, "%x:%x:%x:%x:%x:%x:%x:%x", be16(&a[0]), be16(&a[2]), be16(&a[4]),
                  be16(&a[6]), be16(&a[8]), be16(&a[10]), be16(&a[12]), be16(&a[14]));
  }
  return buffer;
}

}  // namespace

PacketFacts read_packet(const uint8_t* data, uint32_t size, dfw::Direction direction) {
  PacketFacts f;
  f.direction = direction;
  if (size < 14) return f;
  uint32_t offset = 12;
  uint16_t ether_type = be16(data + offset);
  for (int tags = 0; ether_type == 0x8100 || ether_type == 0x88A8 || ether_type == 0x9100; ++tags) {
    if (tags == 2 || size < offset + 6) return f;
    offset += 4;
    ether_type = be16(data + offset);
  }
  offset += 2;
  if (ether_type == 0x0800) {
    if (size < offset + 20) return f;
    const uint8_t* ip = data + offset;
    const uint32_t header = (ip[0] & 0x0f) * 4u;
    if ((ip[0] >> 4) != 4 || header < 20 || size < offset + header) return f;
    f.is_v4 = true;
    f.protocol = ip[9];
    f.source[10] = f.source[11] = f.destination[10] = f.destination[11] = 0xff;
    std::copy(ip + 12, ip + 16, f.source.begin() + 12);
    std::copy(ip + 16, ip + 20, f.destination.begin() + 12);
    if ((be16(ip + 6) & 0x1fff) != 0) {
      f.kind = PacketFacts::Kind::kLaterFragment;
      return f;
    }
    offset += header;
  } else if (ether_type == 0x86DD) {
    if (size < offset + 40) return f;
    const uint8_t* ip = data + offset;
    std::copy(ip + 8, ip + 24, f.source.begin());
    std::copy(ip + 24, ip + 40, f.destination.begin());
    uint8_t next = ip[6];
    offset += 40;
    // Extension headers: hop-by-hop, routing, destination options, fragment, AH.
    for (int count = 0; next == 0 || next == 43 || next == 60 || next == 44 || next == 51; ++count) {
      if (count == 8 || size < offset + 8) return f;
      const uint8_t* ext = data + offset;
      if (next == 44 && (be16(ext + 2) >> 3) != 0) {
        f.protocol = ext[0];
        f.kind = PacketFacts::Kind::kLaterFragment;
        return f;
      }
      const uint32_t length = next == 44 ? 8u : next == 51 ? (ext[1] + 2u) * 4u : (ext[1] + 1u) * 8u;
      next = ext[0];
      offset += length;
    }
    f.protocol = next;
  } else {
    f.kind = PacketFacts::Kind::kNotIp;
    return f;
  }
  read_l4(data + std::min(offset, size), offset < size ? size - offset : 0, f);
  return f;
}

std::string describe(const PacketFacts& p) {
  std::string out = p.direction == dfw::Direction::kEgress ? "egress " : "ingress ";
  const bool ports = p.protocol == dfw::kProtoTcp || p.protocol == dfw::kProtoUdp;
  const bool icmp = p.protocol == dfw::kProtoIcmp || p.protocol == dfw::kProtoIcmpv6;
  out += p.protocol == dfw::kProtoTcp ? "tcp" : p.protocol == dfw::kProtoUdp ? "udp"
       : p.protocol == dfw::kProtoIcmp ? "icmp" : p.protocol == dfw::kProtoIcmpv6 ? "icmpv6"
       : "proto " + std::to_string(p.protocol);
  out += " " + address_text(p.source, p.is_v4);
  if (ports) out += ":" + std::to_string(p.source_port);
  out += " -> " + address_text(p.destination, p.is_v4);
  if (ports) out += ":" + std::to_string(p.destination_port);
  if (icmp) out += " type " + std::to_string(p.icmp_type) + "/" + std::to_string(p.icmp_code);
  return out;
}

bool LinearRuleSet::AddressList::contains(const Address& address) const {
  if (any) return true;
  for (const auto& [length, sorted] : by_length)
    if (std::binary_search(sorted.begin(), sorted.end(), masked(address, length))) return true;
  return false;
}

LinearRuleSet::AddressList LinearRuleSet::resolve(const dfw::RuleSetSpec& spec,
                                                  const std::vector<dfw::IpPrefix>& prefixes,
                                                  const std::vector<std::string>& set_names) {
  AddressList out;
  out.any = prefixes.empty() && set_names.empty();
  std::vector<dfw::IpPrefix> all = prefixes;
  for (const std::string& name : set_names) {
    // A name the spec does not define would not have compiled; as an empty set it matches nothing.
    const auto it = spec.ip_sets.find(name);
    if (it != spec.ip_sets.end()) all.insert(all.end(), it->second.begin(), it->second.end());
  }
  for (const dfw::IpPrefix& p : all) {
    auto group = std::find_if(out.by_length.begin(), out.by_length.end(),
                              [&](const auto& g) { return g.first == p.length; });
    if (group == out.by_length.end()) group = out.by_length.insert(out.by_length.end(), {p.length, {}});
    group->second.push_back(masked(p.address, p.length));
  }
  for (auto& [length, addresses] : out.by_length) std::sort(addresses.begin(), addresses.end());
  return out;
}

LinearRuleSet::LinearRuleSet(const dfw::RuleSetSpec& spec)
    : default_action_(spec.default_action), version_(spec.version) {
  for (const dfw::SectionSpec& section : spec.sections) {
    for (const dfw::RuleSpec& r : section.rules) {
      Rule rule;
      rule.id = r.id;
      rule.sources = resolve(spec, r.sources, r.source_sets);
      rule.destinations = resolve(spec, r.destinations, r.destination_sets);
      rule.protocol = r.protocol;
      rule.source_ports = r.source_ports;
      rule.destination_ports = r.destination_ports;
      rule.icmp_type = r.icmp_type;
      rule.icmp_code = r.icmp_code;
      rule.direction = r.direction;
      rule.action = r.action;
      rules_.push_back(std::move(rule));
    }
  }
}

bool LinearRuleSet::matches(const Rule& rule, const PacketFacts& p) {
  if (rule.direction == dfw::RuleDirection::kIn && p.direction != dfw::Direction::kIngress) return false;
  if (rule.direction == dfw::RuleDirection::kOut && p.direction != dfw::Direction::kEgress) return false;
  if (rule.protocol != dfw::kProtoAny && rule.protocol != p.protocol) return false;
  if (rule.protocol == dfw::kProtoTcp || rule.protocol == dfw::kProtoUdp) {
    if (p.source_port < rule.source_ports.first || p.source_port > rule.source_ports.last) return false;
    if (p.destination_port < rule.destination_ports.first || p.destination_port > rule.destination_ports.last)
      return false;
  }
  if (rule.protocol == dfw::kProtoIcmp || rule.protocol == dfw::kProtoIcmpv6) {
    if (rule.icmp_type >= 0 && rule.icmp_type != p.icmp_type) return false;
    if (rule.icmp_code >= 0 && rule.icmp_code != p.icmp_code) return false;
  }
  return rule.sources.contains(p.source) && rule.destinations.contains(p.destination);
}

LinearRuleSet::Decision LinearRuleSet::evaluate(const PacketFacts& packet) const {
  for (const Rule& rule : rules_)
    if (matches(rule, packet)) return {rule.action, rule.id};
  return {default_action_, -1};
}

}  // namespace scenarios
