#pragma once
// The reference evaluation behind invariant 1 (docs/failures.md "Invariants"): an independent,
// deliberately plain reading of a packet's header bytes and a first-match walk over a port's
// RuleSetSpec, rule by rule in section order — not dfw's parser and not its classifier, so that
// a fault in either (or a table installed behind the agent's back) shows as a disagreement.
//
// Semantics follow docs/dfw.md and dfw/rules.h: an empty source (destination) list with no set
// names means any; a rule naming only empty IP sets matches nothing; ports constrain TCP/UDP,
// type/code ICMP/ICMPv6; direction `in` is the VM's ingress, `out` its egress; IPv4 addresses
// compare in their IPv4-mapped IPv6 form; no rule matching means the default action.

#include <array>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "dfw/rules.h"
#include "dfw/types.h"

namespace scenarios {

// What the reference parser read from a frame.
struct PacketFacts {
  enum class Kind : uint8_t {
    kClassified,     // an IP packet dfw decides by the rules (or by a connection)
    kNotIp,          // ARP or another EtherType: dfw's ARP/non-IP switches, not the rules
    kNeighbor,       // ICMPv6 neighbour discovery: follows the ARP switch
    kIcmpError,      // allowed only as related to a tracked connection
    kLaterFragment,  // follows its first fragment's verdict
    kUnreadable,     // the header bytes end before a field the rules need
  };
  Kind kind = Kind::kUnreadable;
  bool is_v4 = false;
  std::array<uint8_t, 16> source{};       // IPv4 as ::ffff:a.b.c.d
  std::array<uint8_t, 16> destination{};
  uint8_t protocol = 0;
  uint16_t source_port = 0, destination_port = 0;  // TCP/UDP
  uint8_t icmp_type = 0, icmp_code = 0;            // ICMP/ICMPv6
  dfw::Direction direction = dfw::Direction::kEgress;
};

PacketFacts read_packet(const uint8_t* data, uint32_t size, dfw::Direction direction);
// "egress tcp 10.0.0.1:40000 -> 10.0.0.2:80", "ingress icmp 10.0.0.2 -> 10.0.0.1 type 8/0".
std::string describe(const PacketFacts& packet);

// A RuleSetSpec prepared for the walk: IP set names resolved, each address list grouped by
// prefix length with the masked addresses sorted (membership is a binary search per length; the
// rule order and first-match are untouched).
class LinearRuleSet {
 public:
  explicit LinearRuleSet(const dfw::RuleSetSpec& spec);

  struct Decision {
    dfw::Action action = dfw::Action::kDrop;
    int64_t rule_id = -1;  // -1: no rule matched, the default action decided
  };
  Decision evaluate(const PacketFacts& packet) const;
  uint64_t version() const { return version_; }
  std::size_t rule_count() const { return rules_.size(); }

 private:
  struct AddressList {
    bool any = true;
    std::vector<std::pair<uint8_t, std::vector<std::array<uint8_t, 16>>>> by_length;
    bool contains(const std::array<uint8_t, 16>& address) const;
  };
  struct Rule {
    uint32_t id = 0;
    AddressList sources, destinations;
    uint8_t protocol = 0;
    dfw::PortRange source_ports, destination_ports;
    int16_t icmp_type = -1, icmp_code = -1;
    dfw::RuleDirection direction = dfw::RuleDirection::kBoth;
    dfw::Action action = dfw::Action::kAllow;
  };
  static AddressList resolve(const dfw::RuleSetSpec& spec, const std::vector<dfw::IpPrefix>& prefixes,
                             const std::vector<std::string>& set_names);
  static bool matches(const Rule& rule, const PacketFacts& packet);

  std::vector<Rule> rules_;
  dfw::Action default_action_ = dfw::Action::kDrop;
  uint64_t version_ = 0;
};

}  // namespace scenarios
