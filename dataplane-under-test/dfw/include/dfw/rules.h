#pragma once
// Rule sets: what a policy engine hands to a dfw port.
//
// A rule set is a list of sections in priority order, each a list of rules in priority order;
// the first matching rule decides (first-match). Sources and destinations are lists of CIDR
// prefixes and/or names of IP sets (IPv4 and IPv6 mixed); an empty list means "any".
//
// compile_rules() validates and builds the immutable lookup structure once ("build slowly,
// classify fast"); a port swaps a shared_ptr to it atomically, so a packet sees the old table or
// the new one, never a mix.

#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "dfw/types.h"

namespace dfw {

// An IPv4 or IPv6 prefix. IPv4 addresses are stored as IPv4-mapped IPv6 (::ffff:a.b.c.d/96+len)
// so that one 128-bit field covers both families.
struct IpPrefix {
  std::array<uint8_t, 16> address{};
  uint8_t length = 0;  // in bits, over the 128-bit form
  bool is_v4 = false;
  // Parses "10.0.0.0/8", "10.1.2.3", "2001:db8::/32", "::1". False on malformed text.
  static bool parse(const std::string& text, IpPrefix& out);
  std::string to_string() const;
};

struct PortRange {
  uint16_t first = 0;
  uint16_t last = 65535;
};

enum class RuleDirection : uint8_t { kIn = 1, kOut = 2, kBoth = 3 };

// L4 protocol numbers; 0 means any.
inline constexpr uint8_t kProtoAny = 0;
inline constexpr uint8_t kProtoIcmp = 1;
inline constexpr uint8_t kProtoTcp = 6;
inline constexpr uint8_t kProtoUdp = 17;
inline constexpr uint8_t kProtoIcmpv6 = 58;

struct RuleSpec {
  uint32_t id = 0;                    // caller's id, reported in Result::rule_id and counters
  std::vector<IpPrefix> sources;      // empty: any
  std::vector<std::string> source_sets;
  std::vector<IpPrefix> destinations;
  std::vector<std::string> destination_sets;
  uint8_t protocol = kProtoAny;
  PortRange source_ports;             // TCP/UDP only
  PortRange destination_ports;        // TCP/UDP only
  int16_t icmp_type = -1;             // ICMP/ICMPv6 only; -1: any
  int16_t icmp_code = -1;
  RuleDirection direction = RuleDirection::kBoth;
  Action action = Action::kAllow;
  bool log = false;
};

struct SectionSpec {
  std::string name;
  std::vector<RuleSpec> rules;
};

struct RuleSetSpec {
  uint64_t version = 0;  // policy version this table enforces (reported, exported)
  std::vector<SectionSpec> sections;
  std::map<std::string, std::vector<IpPrefix>> ip_sets;
  Action default_action = Action::kDrop;
  // When true, installing this table re-evaluates existing connections against it; otherwise
  // established connections survive the change.
  bool reevaluate_connections = false;
};

class RuleTable;  // compiled, immutable; defined in the implementation
using RuleTablePtr = std::shared_ptr<const RuleTable>;

// Validates and compiles. On error returns nullptr and sets `error` (e.g. an unknown IP set name,
// an inverted port range, ports on a protocol without ports).
RuleTablePtr compile_rules(const RuleSetSpec& spec, Status& error);

uint64_t rule_table_version(const RuleTable& table);
std::size_t rule_table_rule_count(const RuleTable& table);
std::size_t rule_table_memory_size(const RuleTable& table);  // bytes

}  // namespace dfw
