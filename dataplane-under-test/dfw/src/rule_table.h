#pragma once
// Internal contract between the datapath (parser, conntrack, ports) and the rule compiler and
// classifier (src/classifier/). Not installed; code outside dfw uses rules.h only.

#include <array>
#include <cstdint>
#include <vector>

#include "dfw/rules.h"
#include "dfw/types.h"

namespace dfw {

// The fields a rule can match, extracted by the parser. Addresses are 16 bytes, IPv4 as
// IPv4-mapped IPv6 (::ffff:a.b.c.d), network byte order.
struct FlowKey {
  std::array<uint8_t, 16> source{};
  std::array<uint8_t, 16> destination{};
  uint16_t source_port = 0;       // TCP/UDP; 0 otherwise
  uint16_t destination_port = 0;  // TCP/UDP; 0 otherwise
  uint8_t protocol = 0;
  uint8_t icmp_type = 0;          // ICMP/ICMPv6; 0 otherwise
  uint8_t icmp_code = 0;
  bool is_v4 = false;
  Direction direction = Direction::kEgress;
};

struct CompiledRule {
  uint32_t id = 0;
  Action action = Action::kAllow;
  bool log = false;
};

// The compiled, immutable rule table of one port (shared by every port with the same spec).
class RuleTable {
 public:
  virtual ~RuleTable() = default;
  // Index (into rules()) of the first rule, in priority order, that matches `key`; -1 if none
  // (then default_action() applies). Adds the nodes visited and rules compared to `steps`.
  // Allocates nothing; safe to call concurrently.
  virtual int32_t classify(const FlowKey& key, uint32_t& steps) const = 0;

  const std::vector<CompiledRule>& rules() const { return rules_; }
  Action default_action() const { return default_action_; }
  uint64_t version() const { return version_; }
  bool reevaluate_connections() const { return reevaluate_connections_; }
  virtual std::size_t memory_size() const = 0;

 protected:
  std::vector<CompiledRule> rules_;
  Action default_action_ = Action::kDrop;
  uint64_t version_ = 0;
  bool reevaluate_connections_ = false;
};

}  // namespace dfw
