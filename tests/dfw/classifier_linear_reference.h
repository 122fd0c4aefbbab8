#pragma once
// The oracle for the classifier tests: first-match by plain linear search over the rule set as
// written (sections in order, rules in order), straight from the semantics in dfw/rules.h. It
// shares no code with src/classifier/ on purpose.

#include <cstdint>
#include <vector>

#include "dfw/rules.h"
#include "rule_table.h"

namespace dfw::testing {

class LinearReference {
 public:
  explicit LinearReference(const RuleSetSpec& spec);
  // Index of the first matching rule in flattened order, or -1.
  int32_t classify(const FlowKey& key) const;

 private:
  struct Rule {
    bool any_source = true;
    std::vector<IpPrefix> sources;
    bool any_destination = true;
    std::vector<IpPrefix> destinations;
    const RuleSpec* spec = nullptr;
  };
  static bool prefix_matches(const IpPrefix& prefix, const std::array<uint8_t, 16>& address);
  static bool rule_matches(const Rule& rule, const FlowKey& key);
  std::vector<Rule> rules_;
};

}  // namespace dfw::testing
