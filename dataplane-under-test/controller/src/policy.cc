#include "controller/policy.h"

#include <algorithm>
#include <set>

#include "controller/address.h"

namespace controller {
namespace {

constexpr std::array<std::string_view, kCategoryCount> kCategoryNames = {
    "emergency", "infrastructure", "environment", "application", "default"};

std::string rule_field(std::size_t index, const Rule& rule, std::string_view field) {
  std::string s = "rules[" + std::to_string(index) + "]";
  if (!rule.name.empty()) s += " \"" + rule.name + "\"";
  s += ".";
  s += field;
  return s;
}

Status check_scope(const Policy& policy, const Scope& scope, const std::string& where) {
  for (const auto& [key, value] : scope.labels) {
    if (!is_known_label_key(policy, key)) {
      return Status::error(where + "." + key + ": unknown label key");
    }
    if (value.empty()) return Status::error(where + "." + key + ": empty label value");
  }
  for (const auto& name : scope.ip_lists) {
    if (!policy.ip_lists.contains(name)) {
      return Status::error(where + ".ip_lists: unknown ip_list \"" + name + "\"");
    }
  }
  return Status::ok();
}

bool has_ports(uint8_t protocol) {
  return protocol == dfw::kProtoTcp || protocol == dfw::kProtoUdp;
}
bool is_icmp(uint8_t protocol) {
  return protocol == dfw::kProtoIcmp || protocol == dfw::kProtoIcmpv6;
}

}  // namespace

std::string_view category_name(Category c) { return kCategoryNames[static_cast<std::size_t>(c)]; }

bool parse_category(std::string_view text, Category& out) {
  for (std::size_t i = 0; i < kCategoryCount; ++i) {
    if (kCategoryNames[i] == text) {
      out = static_cast<Category>(i);
      return true;
    }
  }
  return false;
}

std::string_view action_name(dfw::Action a) {
  switch (a) {
    case dfw::Action::kAllow: return "allow";
    case dfw::Action::kDrop: return "drop";
    case dfw::Action::kReject: return "reject";
  }
  return "drop";
}

bool parse_action(std::string_view text, dfw::Action& out) {
  if (text == "allow") out = dfw::Action::kAllow;
  else if (text == "drop") out = dfw::Action::kDrop;
  else if (text == "reject") out = dfw::Action::kReject;
  else return false;
  return true;
}

bool is_known_label_key(const Policy& policy, std::string_view key) {
  if (std::find(kStandardLabelKeys.begin(), kStandardLabelKeys.end(), key) != kStandardLabelKeys.end()) {
    return true;
  }
  return std::find(policy.custom_labels.begin(), policy.custom_labels.end(), key) !=
         policy.custom_labels.end();
}

Status check_service(const Service& s, const std::string& where) {
  if (s.port_first > s.port_last) {
    return Status::error(where + ": impossible port range " + std::to_string(s.port_first) + "-" +
                         std::to_string(s.port_last));
  }
  bool all_ports = s.port_first == 0 && s.port_last == 65535;
  if (!all_ports && !has_ports(s.protocol)) {
    return Status::error(where + ": ports need protocol tcp or udp");
  }
  if (s.icmp_type >= 0 && !is_icmp(s.protocol)) {
    return Status::error(where + ": icmp_type needs protocol icmp or icmpv6");
  }
  if (s.icmp_type > 255 || s.icmp_type < -1) return Status::error(where + ": icmp_type out of 0..255");
  return Status::ok();
}

Status validate_policy(const Policy& policy) {
  for (const auto& key : policy.custom_labels) {
    if (key.empty()) return Status::error("custom_labels: empty label key");
    for (auto reserved : kReservedScopeKeys) {
      if (key == reserved) return Status::error("custom_labels: \"" + key + "\" is reserved");
    }
  }
  for (const auto& [name, prefixes] : policy.ip_lists) {
    if (prefixes.empty()) return Status::error("ip_lists." + name + ": empty list");
  }
  for (const auto& [name, service] : policy.services) {
    if (Status s = check_service(service, "services." + name); !s) return s;
  }
  std::set<std::string> names;
  for (std::size_t i = 0; i < policy.rules.size(); ++i) {
    const Rule& rule = policy.rules[i];
    if (!rule.name.empty() && !names.insert(rule.name).second) {
      return Status::error(rule_field(i, rule, "name") + ": duplicate rule name");
    }
    if (Status s = check_scope(policy, rule.from, rule_field(i, rule, "from")); !s) return s;
    if (Status s = check_scope(policy, rule.to, rule_field(i, rule, "to")); !s) return s;
    if (rule.services.size() > kMaxServicesPerRule) {
      return Status::error(rule_field(i, rule, "services") + ": more than 256 services");
    }
    for (std::size_t j = 0; j < rule.services.size(); ++j) {
      std::string where = rule_field(i, rule, "services[" + std::to_string(j) + "]");
      if (Status s = check_service(rule.services[j], where); !s) return s;
    }
  }
  return Status::ok();
}

Status validate_workload(const Policy& policy, const Workload& w) {
  std::string where = "workload " + std::to_string(w.id) + (w.name.empty() ? "" : " \"" + w.name + "\"");
  if (w.addresses.empty() || w.addresses.size() > kMaxAddresses) {
    return Status::error(where + ": needs 1 to 8 addresses");
  }
  for (const auto& a : w.addresses) {
    if (!is_host_prefix(a)) return Status::error(where + ": address " + format_prefix(a) + " is not a host address");
  }
  for (const auto& [key, value] : w.labels) {
    if (!is_known_label_key(policy, key)) return Status::error(where + ".labels." + key + ": unknown label key");
    if (value.empty()) return Status::error(where + ".labels." + key + ": empty label value");
  }
  for (const Process& p : w.processes) {
    std::string pwhere = where + ".processes." + p.name;
    for (const auto& [key, value] : p.labels) {
      if (!is_known_label_key(policy, key)) return Status::error(pwhere + ".labels." + key + ": unknown label key");
      if (w.labels.contains(key)) {
        return Status::error(pwhere + ".labels." + key + ": a process may only add label keys its workload lacks");
      }
    }
    for (const ListeningPort& lp : p.listening_ports) {
      if (!has_ports(lp.protocol)) return Status::error(pwhere + ".listening_ports: protocol must be tcp or udp");
    }
  }
  return Status::ok();
}

}  // namespace controller
