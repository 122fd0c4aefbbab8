#include "policy_evaluator.h"

#include <algorithm>

#include "controller/address.h"

namespace controller::testing {
namespace {

bool labels_include(const Labels& have, const Labels& want) {
  for (const auto& [k, v] : want) {
    auto it = have.find(k);
    if (it == have.end() || it->second != v) return false;
  }
  return true;
}

bool in_ip_lists(const Policy& policy, const Scope& scope, const dfw::IpPrefix& address) {
  for (const auto& name : scope.ip_lists) {
    for (const auto& cidr : policy.ip_lists.at(name)) {
      if (prefix_contains(cidr, address)) return true;
    }
  }
  return false;
}

bool selects_workload_labels(const Scope& scope, const Labels& labels) {
  if (scope.any) return true;
  if (scope.labels.empty()) return scope.ip_lists.empty();  // the "every workload" scope
  return labels_include(labels, scope.labels);
}

bool source_in(const Policy& policy, const Scope& scope, const Workload* w, const dfw::IpPrefix& address) {
  if (scope.any || in_ip_lists(policy, scope, address)) return true;
  return w != nullptr && selects_workload_labels(scope, w->labels);
}

bool destination_in(const Policy& policy, const Scope& scope, const Workload* w, const Packet& packet) {
  if (source_in(policy, scope, w, packet.destination)) return true;
  if (w == nullptr || scope.labels.empty()) return false;
  // A process of the workload, addressed through one of its listening ports.
  for (const Process& p : w->processes) {
    Labels effective = w->labels;
    effective.insert(p.labels.begin(), p.labels.end());
    if (!labels_include(effective, scope.labels)) continue;
    for (const ListeningPort& lp : p.listening_ports) {
      if (lp.protocol == packet.protocol && lp.port == packet.destination_port) return true;
    }
  }
  return false;
}

bool service_matches(const Service& s, const Packet& packet) {
  if (s.protocol != dfw::kProtoAny && s.protocol != packet.protocol) return false;
  if (packet.protocol == dfw::kProtoTcp || packet.protocol == dfw::kProtoUdp) {
    if (packet.destination_port < s.port_first || packet.destination_port > s.port_last) return false;
  }
  if (packet.protocol == dfw::kProtoIcmp || packet.protocol == dfw::kProtoIcmpv6) {
    if (s.icmp_type >= 0 && s.icmp_type != packet.icmp_type) return false;
  }
  return true;
}

bool address_matches(const std::vector<dfw::IpPrefix>& prefixes, const std::vector<std::string>& sets,
                     const std::map<std::string, std::vector<dfw::IpPrefix>>& ip_sets, const dfw::IpPrefix& a) {
  if (prefixes.empty() && sets.empty()) return true;
  for (const auto& p : prefixes) {
    if (prefix_contains(p, a)) return true;
  }
  for (const auto& name : sets) {
    for (const auto& p : ip_sets.at(name)) {
      if (prefix_contains(p, a)) return true;
    }
  }
  return false;
}

bool same_prefixes(const std::vector<dfw::IpPrefix>& a, const std::vector<dfw::IpPrefix>& b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end(), prefix_equal);
}

}  // namespace

const Workload* owner(const std::vector<Workload>& workloads, const dfw::IpPrefix& address) {
  for (const Workload& w : workloads) {
    for (const auto& a : w.addresses) {
      if (prefix_equal(a, address)) return &w;
    }
  }
  return nullptr;
}

dfw::Action intended_action(const Policy& policy, const std::vector<Workload>& workloads, const Packet& packet,
                            int* rule_index) {
  const Workload* from = owner(workloads, packet.source);
  const Workload* to = owner(workloads, packet.destination);
  for (int category = 0; category < static_cast<int>(kCategoryCount); ++category) {
    for (std::size_t i = 0; i < policy.rules.size(); ++i) {
      const Rule& rule = policy.rules[i];
      if (static_cast<int>(rule.category) != category) continue;
      if (!source_in(policy, rule.from, from, packet.source)) continue;
      if (!destination_in(policy, rule.to, to, packet)) continue;
      bool service = rule.services.empty() ||
                     std::any_of(rule.services.begin(), rule.services.end(),
                                 [&](const Service& s) { return service_matches(s, packet); });
      if (!service) continue;
      if (rule_index) *rule_index = static_cast<int>(i);
      return rule.action;
    }
  }
  if (rule_index) *rule_index = -1;
  return policy.default_action;
}

dfw::Action evaluate_spec(const dfw::RuleSetSpec& spec, dfw::RuleDirection direction, const Packet& packet,
                          int64_t* rule_id) {
  for (const auto& section : spec.sections) {
    for (const auto& r : section.rules) {
      if ((static_cast<uint8_t>(r.direction) & static_cast<uint8_t>(direction)) == 0) continue;
      if (r.protocol != dfw::kProtoAny && r.protocol != packet.protocol) continue;
      if (r.protocol == dfw::kProtoTcp || r.protocol == dfw::kProtoUdp) {
        if (packet.destination_port < r.destination_ports.first || packet.destination_port > r.destination_ports.last) {
          continue;
        }
      }
      if ((r.protocol == dfw::kProtoIcmp || r.protocol == dfw::kProtoIcmpv6) && r.icmp_type >= 0 &&
          r.icmp_type != packet.icmp_type) {
        continue;
      }
      if (!address_matches(r.sources, r.source_sets, spec.ip_sets, packet.source)) continue;
      if (!address_matches(r.destinations, r.destination_sets, spec.ip_sets, packet.destination)) continue;
      if (rule_id) *rule_id = r.id;
      return r.action;
    }
  }
  if (rule_id) *rule_id = -1;
  return spec.default_action;
}

std::string describe(const dfw::RuleSetSpec& spec) {
  std::string out = "version " + std::to_string(spec.version) + "\n";
  auto list = [](const std::vector<dfw::IpPrefix>& prefixes, const std::vector<std::string>& sets) {
    std::string s = "[";
    for (const auto& p : prefixes) s += format_prefix(p) + " ";
    for (const auto& n : sets) s += n + " ";
    return s + "]";
  };
  for (const auto& section : spec.sections) {
    out += section.name + ":\n";
    for (const auto& r : section.rules) {
      out += "  id " + std::to_string(r.id) + (r.direction == dfw::RuleDirection::kIn ? " in" : " out") +
             " proto " + std::to_string(r.protocol) + " ports " + std::to_string(r.destination_ports.first) + "-" +
             std::to_string(r.destination_ports.last) + " icmp " + std::to_string(r.icmp_type) + " src " +
             list(r.sources, r.source_sets) + " dst " + list(r.destinations, r.destination_sets) + " action " +
             std::to_string(static_cast<int>(r.action)) + "\n";
    }
  }
  for (const auto& [name, prefixes] : spec.ip_sets) out += name + " = " + list(prefixes, {}) + "\n";
  return out;
}

bool same_rules(const dfw::RuleSetSpec& a, const dfw::RuleSetSpec& b) {
  if (a.default_action != b.default_action || a.sections.size() != b.sections.size()) return false;
  if (a.ip_sets.size() != b.ip_sets.size()) return false;
  for (auto x = a.ip_sets.begin(), y = b.ip_sets.begin(); x != a.ip_sets.end(); ++x, ++y) {
    if (x->first != y->first || !same_prefixes(x->second, y->second)) return false;
  }
  for (std::size_t s = 0; s < a.sections.size(); ++s) {
    const auto& ra = a.sections[s].rules;
    const auto& rb = b.sections[s].rules;
    if (a.sections[s].name != b.sections[s].name || ra.size() != rb.size()) return false;
    for (std::size_t i = 0; i < ra.size(); ++i) {
      const auto& x = ra[i];
      const auto& y = rb[i];
      if (x.id != y.id || x.protocol != y.protocol || x.direction != y.direction || x.action != y.action ||
          x.log != y.log || x.icmp_type != y.icmp_type || x.icmp_code != y.icmp_code ||
          x.destination_ports.first != y.destination_ports.first ||
          x.destination_ports.last != y.destination_ports.last || x.source_ports.first != y.source_ports.first ||
          x.source_ports.last != y.source_ports.last || x.source_sets != y.source_sets ||
          x.destination_sets != y.destination_sets || !same_prefixes(x.sources, y.sources) ||
          !same_prefixes(x.destinations, y.destinations)) {
        return false;
      }
    }
  }
  return true;
}

}  // namespace controller::testing
