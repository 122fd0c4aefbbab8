#include "ip_set_refs.h"

namespace controller {

void IpSetRefs::clear() {
  port_sets_.clear();
  refs_.clear();
  count_before_.clear();
}

void IpSetRefs::begin() { count_before_.clear(); }

void IpSetRefs::adjust(const std::string& name, int delta) {
  auto it = refs_.find(name);
  uint32_t before = it == refs_.end() ? 0 : it->second;
  count_before_.try_emplace(name, before);
  uint32_t after = before + delta;
  if (after == 0) {
    if (it != refs_.end()) refs_.erase(it);
  } else {
    refs_[name] = after;
  }
}

void IpSetRefs::set_port(WorkloadId port, std::vector<std::string> names) {
  // Count the new names before releasing the old ones so that a shared set never touches zero.
  for (const std::string& name : names) adjust(name, +1);
  auto it = port_sets_.find(port);
  if (it != port_sets_.end()) {
    for (const std::string& name : it->second) adjust(name, -1);
  }
  if (names.empty()) {
    if (it != port_sets_.end()) port_sets_.erase(it);
  } else {
    port_sets_[port] = std::move(names);
  }
}

void IpSetRefs::remove_port(WorkloadId port) {
  auto it = port_sets_.find(port);
  if (it == port_sets_.end()) return;
  for (const std::string& name : it->second) adjust(name, -1);
  port_sets_.erase(it);
}

void IpSetRefs::end(std::vector<std::string>& added, std::vector<std::string>& removed) {
  added.clear();
  removed.clear();
  for (const auto& [name, before] : count_before_) {  // sorted by name
    bool held = refs_.contains(name);
    if (before == 0 && held) added.push_back(name);
    if (before > 0 && !held) removed.push_back(name);
  }
  count_before_.clear();
}

}  // namespace controller
