#include "policy_bridge.h"

#include <set>
#include <sstream>

#include "controller/policy.h"

namespace scenarios {
namespace {

bool parse_prefix(const std::string& text, dfw::IpPrefix& out, std::string& error,
                  const std::string& where) {
  if (dfw::IpPrefix::parse(text, out)) return true;
  error = where + ": '" + text + "' is not an IPv4 or IPv6 address or prefix";
  return false;
}

controller::Service to_service(const ServiceSpec& s) {
  controller::Service out;
  out.protocol = s.protocol;
  out.port_first = s.port_first;
  out.port_last = s.port_last;
  return out;
}

controller::Scope to_scope(const ScopeSpec& s) {
  controller::Scope out;
  out.labels = controller::Labels(s.labels.begin(), s.labels.end());
  out.ip_lists = s.ip_lists;
  out.any = s.any;
  return out;
}

bool is_standard_key(const std::string& key) {
  for (auto k : controller::kStandardLabelKeys)
    if (k == key) return true;
  return false;
}

}  // namespace

std::unique_ptr<controller::Controller> make_controller(const Scenario& scenario, std::string& error) {
  controller::Policy policy;
  // Label keys the VMs carry beyond the standard four are the estate's custom labels.
  std::set<std::string> custom;
  for (const VmSpec& vm : scenario.vms)
    for (const auto& [key, value] : vm.labels)
      if (!is_standard_key(key)) custom.insert(key);
  policy.custom_labels.assign(custom.begin(), custom.end());

  for (const auto& [name, cidrs] : scenario.policy.ip_lists) {
    auto& prefixes = policy.ip_lists[name];
    for (const std::string& cidr : cidrs) {
      dfw::IpPrefix p;
      if (!parse_prefix(cidr, p, error, "policy.ip_lists." + name)) return nullptr;
      prefixes.push_back(p);
    }
  }
  for (const auto& [name, service] : scenario.policy.services) policy.services[name] = to_service(service);
  for (const PolicyRuleSpec& r : scenario.policy.rules) {
    controller::Rule rule;
    rule.name = r.name;
    if (!controller::parse_category(r.category, rule.category)) {
      error = "policy rule '" + r.name + "': unknown category '" + r.category + "'";
      return nullptr;
    }
    rule.from = to_scope(r.from);
    rule.to = to_scope(r.to);
    for (const ServiceSpec& s : r.services) rule.services.push_back(to_service(s));
    if (!controller::parse_action(r.action, rule.action)) {
      error = "policy rule '" + r.name + "': unknown action '" + r.action + "'";
      return nullptr;
    }
    rule.log = r.log;
    policy.rules.push_back(std::move(rule));
  }
  if (!controller::parse_action(scenario.policy.default_action, policy.default_action)) {
    error = "policy.default_action: unknown action '" + scenario.policy.default_action + "'";
    return nullptr;
  }

  std::vector<controller::Workload> workloads;
  workloads.reserve(scenario.vms.size());
  for (std::size_t i = 0; i < scenario.vms.size(); ++i) {
    const VmSpec& vm = scenario.vms[i];
    controller::Workload w;
    w.id = static_cast<controller::WorkloadId>(i);
    w.name = vm.name;
    w.host = vm.host;
    w.labels = controller::Labels(vm.labels.begin(), vm.labels.end());
    for (const std::string* address : {&vm.ipv4, &vm.ipv6}) {
      if (address->empty()) continue;
      dfw::IpPrefix p;
      if (!parse_prefix(*address, p, error, "vm " + vm.name)) return nullptr;
      w.addresses.push_back(p);
    }
    workloads.push_back(std::move(w));
  }
  dfw::Status status;
  auto c = controller::Controller::create(std::move(policy), std::move(workloads), status);
  if (!c) error = "policy: " + status.message();
  return c;
}

dfw::RuleTablePtr RuleTableCache::compile(const dfw::RuleSetSpec& spec, std::string& error) {
  // A canonical rendering of everything compile_rules reads: equal text, equal table.
  std::ostringstream key;
  key << spec.version << '|' << static_cast<int>(spec.default_action) << '|'
      << spec.reevaluate_connections << '\n';
  for (const auto& [name, prefixes] : spec.ip_sets) {
    key << "set " << name << ':';
    for (const auto& p : prefixes) key << p.to_string() << ',';
    key << '\n';
  }
  for (const dfw::SectionSpec& section : spec.sections) {
    key << "section " << section.name << '\n';
    for (const dfw::RuleSpec& r : section.rules) {
      key << r.id << ' ' << int(r.protocol) << ' ' << r.source_ports.first << '-' << r.source_ports.last
          << ' ' << r.destination_ports.first << '-' << r.destination_ports.last << ' ' << r.icmp_type
          << '/' << r.icmp_code << ' ' << int(r.direction) << ' ' << int(r.action) << ' ' << r.log << " s:";
      for (const auto& p : r.sources) key << p.to_string() << ',';
      for (const auto& n : r.source_sets) key << '@' << n << ',';
      key << " d:";
      for (const auto& p : r.destinations) key << p.to_string() << ',';
      for (const auto& n : r.destination_sets) key << '@' << n << ',';
      key << '\n';
    }
  }
  const std::string k = key.str();
  if (auto it = tables_.find(k); it != tables_.end()) return it->second;
  dfw::Status status;
  dfw::RuleTablePtr table = dfw::compile_rules(spec, status);
  if (!table) {
    error = status.message();
    return nullptr;
  }
  tables_.emplace(k, table);
  return table;
}

}  // namespace scenarios
