#include "rule_store.h"

#include "protocol/convert.h"

namespace agent {

namespace pb = protocol::pb;

namespace {

bool decode_sets(const google::protobuf::RepeatedPtrField<pb::IpSet>& sets,
                 std::map<std::string, std::vector<dfw::IpPrefix>>& out, std::string& error) {
  for (const pb::IpSet& set : sets) {
    std::vector<dfw::IpPrefix> prefixes;
    if (!protocol::from_proto(set, prefixes, error)) return false;
    if (!out.emplace(set.name(), std::move(prefixes)).second) {
      error = "ip_set \"" + set.name() + "\" appears twice";
      return false;
    }
  }
  return true;
}

}  // namespace

bool RuleStore::prepare_port(const pb::PortRules& rules,
                             const std::map<std::string, std::vector<dfw::IpPrefix>>& added,
                             bool use_store_sets, PortTable& out, std::string& error) const {
  const std::string where = "port " + std::to_string(rules.port());
  dfw::RuleSetSpec spec;
  if (!protocol::from_proto(rules.rules(), spec, error)) {
    error = where + ": " + error;
    return false;
  }
  for (const std::string& name : protocol::referenced_ip_sets(rules.rules())) {
    const std::vector<dfw::IpPrefix>* prefixes = nullptr;
    if (auto a = added.find(name); a != added.end()) {
      prefixes = &a->second;
    } else if (auto s = ip_sets_.find(name); use_store_sets && s != ip_sets_.end()) {
      prefixes = &s->second;
    }
    if (!prefixes) {
      error = where + ": names ip_set \"" + name + "\", which the controller never sent";
      return false;
    }
    spec.ip_sets.emplace(name, *prefixes);
  }
  dfw::Status status;
  out.table = dfw::compile_rules(spec, status);
  if (!out.table) {
    error = where + ": " + status.message();
    return false;
  }
  out.version = spec.version;
  return true;
}

bool RuleStore::prepare_snapshot(const pb::Snapshot& snapshot, Update& update, std::string& error) const {
  update = Update{};
  update.replaces_all = true;
  update.generation = snapshot.generation();
  if (!decode_sets(snapshot.ip_sets(), update.added_sets, error)) return false;
  for (const pb::PortRules& rules : snapshot.ports()) {
    PortTable table;
    if (!prepare_port(rules, update.added_sets, false, table, error)) return false;
    if (!update.ports.emplace(rules.port(), std::move(table)).second) {
      error = "port " + std::to_string(rules.port()) + " appears twice in the snapshot";
      return false;
    }
  }
  for (const auto& [port, table] : ports_) {
    if (!update.ports.contains(port)) update.removed_ports.push_back(port);
  }
  return true;
}

bool RuleStore::prepare_delta(const pb::Delta& delta, Update& update, std::string& error) const {
  update = Update{};
  update.generation = delta.generation();
  if (!decode_sets(delta.added_ip_sets(), update.added_sets, error)) return false;
  for (const pb::PortRules& rules : delta.changed_ports()) {
    PortTable table;
    if (!prepare_port(rules, update.added_sets, true, table, error)) return false;
    update.ports[rules.port()] = std::move(table);
  }
  for (uint32_t port : delta.removed_ports()) {
    if (update.ports.contains(port)) {
      error = "port " + std::to_string(port) + " is both changed and removed";
      return false;
    }
    if (ports_.contains(port)) update.removed_ports.push_back(port);
  }
  update.removed_sets.assign(delta.removed_ip_sets().begin(), delta.removed_ip_sets().end());
  return true;
}

void RuleStore::commit(Update& update) {
  if (update.replaces_all) {
    ip_sets_.clear();
    ports_.clear();
  }
  for (auto& [name, prefixes] : update.added_sets) ip_sets_[name] = std::move(prefixes);
  for (const std::string& name : update.removed_sets) ip_sets_.erase(name);
  for (dfw::PortId port : update.removed_ports) ports_.erase(port);
  for (auto& [port, table] : update.ports) ports_[port] = table;
}

}  // namespace agent
