#include "classifier_linear_reference.h"

namespace dfw::testing {

LinearReference::LinearReference(const RuleSetSpec& spec) {
  for (const SectionSpec& section : spec.sections) {
    for (const RuleSpec& r : section.rules) {
      Rule rule;
      rule.spec = &r;
      rule.any_source = r.sources.empty() && r.source_sets.empty();
      rule.sources = r.sources;
      for (const std::string& name : r.source_sets) {
        const auto& set = spec.ip_sets.at(name);
        rule.sources.insert(rule.sources.end(), set.begin(), set.end());
      }
      rule.any_destination = r.destinations.empty() && r.destination_sets.empty();
      rule.destinations = r.destinations;
      for (const std::string& name : r.destination_sets) {
        const auto& set = spec.ip_sets.at(name);
        rule.destinations.insert(rule.destinations.end(), set.begin(), set.end());
      }
      rules_.push_back(std::move(rule));
    }
  }
}

bool LinearReference::prefix_matches(const IpPrefix& prefix, const std::array<uint8_t, 16>& address) {
  for (int bit = 0; bit < prefix.length; ++bit) {
    const int byte = bit / 8, shift = 7 - bit % 8;
    if (((prefix.address[byte] >> shift) & 1) != ((address[byte] >> shift) & 1)) return false;
  }
  return true;
}

bool LinearReference::rule_matches(const Rule& rule, const FlowKey& key) {
  const RuleSpec& r = *rule.spec;
  if (r.direction == RuleDirection::kIn && key.direction != Direction::kIngress) return false;
  if (r.direction == RuleDirection::kOut && key.direction != Direction::kEgress) return false;
  if (r.protocol != kProtoAny && r.protocol != key.protocol) return false;
  if (r.protocol == kProtoTcp || r.protocol == kProtoUdp) {
    if (key.source_port < r.source_ports.first || key.source_port > r.source_ports.last) return false;
    if (key.destination_port < r.destination_ports.first || key.destination_port > r.destination_ports.last) {
      return false;
    }
  }
  if (r.protocol == kProtoIcmp || r.protocol == kProtoIcmpv6) {
    if (r.icmp_type >= 0 && key.icmp_type != r.icmp_type) return false;
    if (r.icmp_code >= 0 && key.icmp_code != r.icmp_code) return false;
  }
  bool source_ok = rule.any_source;
  for (const IpPrefix& p : rule.sources) source_ok = source_ok || prefix_matches(p, key.source);
  if (!source_ok) return false;
  bool destination_ok = rule.any_destination;
  for (const IpPrefix& p : rule.destinations) destination_ok = destination_ok || prefix_matches(p, key.destination);
  return destination_ok;
}

int32_t LinearReference::classify(const FlowKey& key) const {
  for (std::size_t i = 0; i < rules_.size(); ++i) {
    if (rule_matches(rules_[i], key)) return static_cast<int32_t>(i);
  }
  return -1;
}

}  // namespace dfw::testing
