#pragma once
// A tiny linear RuleTable for the datapath tests, so they exercise parsing, conntrack, ports and
// state without depending on the rule compiler. Matches protocol, destination port range,
// direction and optional IPv4 source/destination prefixes; first match wins.

#include <arpa/inet.h>

#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "rule_table.h"

namespace dfw::testing {

struct TestRule {
  uint32_t id = 0;
  Action action = Action::kAllow;
  uint8_t protocol = 0;  // 0: any
  uint16_t dport_first = 0;
  uint16_t dport_last = 65535;
  std::optional<Direction> direction;
  std::string source_v4;       // "a.b.c.d/len", empty: any
  std::string destination_v4;
  bool log = false;
};

class TestRuleTable final : public RuleTable {
 public:
  TestRuleTable(std::vector<TestRule> rules, Action default_action, uint64_t version = 1,
                bool reevaluate = false)
      : spec_(std::move(rules)) {
    for (const TestRule& r : spec_) rules_.push_back(CompiledRule{r.id, r.action, r.log});
    default_action_ = default_action;
    version_ = version;
    reevaluate_connections_ = reevaluate;
  }

  int32_t classify(const FlowKey& key, uint32_t& steps) const override {
    for (std::size_t i = 0; i < spec_.size(); ++i) {
      ++steps;
      const TestRule& r = spec_[i];
      if (r.protocol != 0 && r.protocol != key.protocol) continue;
      if (key.destination_port < r.dport_first || key.destination_port > r.dport_last) continue;
      if (r.direction && *r.direction != key.direction) continue;
      if (!prefix_matches(r.source_v4, key.source)) continue;
      if (!prefix_matches(r.destination_v4, key.destination)) continue;
      return static_cast<int32_t>(i);
    }
    return -1;
  }
  std::size_t memory_size() const override { return spec_.size() * sizeof(TestRule); }

 private:
  static bool prefix_matches(const std::string& prefix, const std::array<uint8_t, 16>& a) {
    if (prefix.empty()) return true;
    const auto slash = prefix.find('/');
    uint8_t bytes[4];
    inet_pton(AF_INET, prefix.substr(0, slash).c_str(), bytes);
    const int len = slash == std::string::npos ? 32 : std::stoi(prefix.substr(slash + 1));
    uint32_t want, have;
    std::memcpy(&want, bytes, 4);
    std::memcpy(&have, a.data() + 12, 4);
    const uint32_t mask = len == 0 ? 0 : htonl(~0u << (32 - len));
    return a[10] == 0xFF && a[11] == 0xFF && (want & mask) == (have & mask);
  }
  std::vector<TestRule> spec_;
};

inline RuleTablePtr make_table(std::vector<TestRule> rules, Action default_action,
                               uint64_t version = 1, bool reevaluate = false) {
  return std::make_shared<TestRuleTable>(std::move(rules), default_action, version, reevaluate);
}

}  // namespace dfw::testing
