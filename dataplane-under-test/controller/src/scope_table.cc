// Compiling the policy into interned scopes and computing every scope and port from scratch.

#include <algorithm>
#include <map>
#include <tuple>

#include "controller/address.h"
#include "controller_state.h"

namespace controller {

uint8_t full_mask(const Workload& w) {
  return static_cast<uint8_t>((1u << w.addresses.size()) - 1u);
}

LabelId ControllerState::intern_label(const std::string& key, const std::string& value) {
  auto [it, inserted] = label_ids.try_emplace({key, value}, static_cast<LabelId>(label_ids.size()));
  if (inserted) scopes_by_label.emplace_back();
  return it->second;
}

Status ControllerState::compile_policy() {
  if (Status s = validate_policy(policy); !s) return s;
  std::vector<std::size_t> order(policy.rules.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    return policy.rules[a].category < policy.rules[b].category;
  });

  using ScopeKey = std::tuple<bool, std::vector<LabelId>, std::vector<std::string>>;
  std::map<ScopeKey, ScopeId> scope_ids;
  auto intern_scope = [&](const Scope& scope) -> ScopeId {
    ScopeKey key;
    if (scope.any) {
      std::get<0>(key) = true;  // `any` covers everything: labels and lists add nothing
    } else {
      for (const auto& [k, v] : scope.labels) std::get<1>(key).push_back(intern_label(k, v));
      std::sort(std::get<1>(key).begin(), std::get<1>(key).end());
      std::get<2>(key) = scope.ip_lists;
      std::sort(std::get<2>(key).begin(), std::get<2>(key).end());
      std::get<2>(key).erase(std::unique(std::get<2>(key).begin(), std::get<2>(key).end()),
                             std::get<2>(key).end());
    }
    auto [it, inserted] = scope_ids.try_emplace(key, static_cast<ScopeId>(scopes.size()));
    if (!inserted) return it->second;
    ScopeState state;
    state.any = std::get<0>(key);
    state.labels = std::get<1>(key);
    for (const auto& name : std::get<2>(key)) {
      const auto& prefixes = policy.ip_lists.at(name);
      state.cidrs.insert(state.cidrs.end(), prefixes.begin(), prefixes.end());
    }
    std::sort(state.cidrs.begin(), state.cidrs.end(), prefix_less);
    state.cidrs.erase(std::unique(state.cidrs.begin(), state.cidrs.end(), prefix_equal),
                      state.cidrs.end());
    state.all_workloads = !state.any && state.labels.empty() && state.cidrs.empty();
    for (LabelId label : state.labels) scopes_by_label[label].push_back(it->second);
    if (state.labels.empty() || !state.cidrs.empty()) unlabelled_scopes.push_back(it->second);
    scopes.push_back(std::move(state));
    return it->second;
  };

  rules_by_priority.reserve(order.size());
  for (std::size_t priority = 0; priority < order.size(); ++priority) {
    const Rule& rule = policy.rules[order[priority]];
    CompiledRule compiled;
    compiled.rule_index = order[priority];
    compiled.from = intern_scope(rule.from);
    compiled.to = intern_scope(rule.to);
    scopes[compiled.from].rules_as_from.push_back(static_cast<uint32_t>(priority));
    scopes[compiled.to].rules_as_to.push_back(static_cast<uint32_t>(priority));
    rules_by_priority.push_back(compiled);
  }
  return Status::ok();
}

Slot ControllerState::place_workload(Workload workload) {
  Slot slot;
  if (!free_slots.empty()) {
    slot = free_slots.back();
    free_slots.pop_back();
  } else {
    slot = static_cast<Slot>(slots.size());
    slots.emplace_back();
  }
  WorkloadState& w = slots[slot];
  w = WorkloadState{};
  w.live = true;
  for (const auto& [k, v] : workload.labels) w.labels.push_back(intern_label(k, v));
  std::sort(w.labels.begin(), w.labels.end());
  for (const Process& p : workload.processes) {
    std::vector<LabelId> effective = w.labels;
    for (const auto& [k, v] : p.labels) effective.push_back(intern_label(k, v));
    std::sort(effective.begin(), effective.end());
    w.process_labels.push_back(std::move(effective));
  }
  slot_by_id[workload.id] = slot;
  w.workload = std::move(workload);
  return slot;
}

ScopeMember ControllerState::membership(const ScopeState& scope, const WorkloadState& w) const {
  ScopeMember m;
  if (!w.live) return m;
  uint8_t full = full_mask(w.workload);
  if (scope.any || scope.all_workloads ||
      (!scope.labels.empty() &&
       std::includes(w.labels.begin(), w.labels.end(), scope.labels.begin(), scope.labels.end()))) {
    m.address_mask = full;
    return m;
  }
  const auto& addresses = w.workload.addresses;
  for (std::size_t i = 0; i < addresses.size(); ++i) {
    for (const auto& cidr : scope.cidrs) {
      if (prefix_contains(cidr, addresses[i])) {
        m.address_mask |= static_cast<uint8_t>(1u << i);
        break;
      }
    }
  }
  return m;
}

std::vector<ProcessTarget> ControllerState::process_targets(const ScopeState& scope, Slot slot,
                                                            const WorkloadState& w) const {
  std::vector<ProcessTarget> out;
  if (!w.live || scope.labels.empty() || w.process_labels.empty()) return out;
  if (membership(scope, w).address_mask == full_mask(w.workload)) return out;
  for (std::size_t p = 0; p < w.process_labels.size(); ++p) {
    const auto& labels = w.process_labels[p];
    if (std::includes(labels.begin(), labels.end(), scope.labels.begin(), scope.labels.end())) {
      out.push_back({slot, static_cast<uint8_t>(p)});
    }
  }
  return out;
}

std::vector<dfw::IpPrefix> ControllerState::scope_addresses(const ScopeState& scope) const {
  std::vector<dfw::IpPrefix> out = scope.cidrs;
  for (const ScopeMember& m : scope.members) {
    const auto& addresses = slots[m.slot].workload.addresses;
    for (std::size_t i = 0; i < addresses.size(); ++i) {
      if (!(m.address_mask & (1u << i))) continue;
      // Addresses inside the scope's own IP lists are covered already.
      bool covered = std::any_of(scope.cidrs.begin(), scope.cidrs.end(),
                                 [&](const dfw::IpPrefix& c) { return prefix_contains(c, addresses[i]); });
      if (!covered) out.push_back(addresses[i]);
    }
  }
  std::sort(out.begin(), out.end(), prefix_less);
  out.erase(std::unique(out.begin(), out.end(), prefix_equal), out.end());
  return out;
}

namespace {

bool entry_less(const PortEntry& a, const PortEntry& b) {
  if (a.priority != b.priority) return a.priority < b.priority;
  if (a.direction != b.direction) return a.direction < b.direction;
  return a.process < b.process;
}

std::vector<Slot> intersect(const std::vector<Slot>& a, const std::vector<Slot>& b) {
  std::vector<Slot> out;
  std::set_intersection(a.begin(), a.end(), b.begin(), b.end(), std::back_inserter(out));
  return out;
}

}  // namespace

void sort_port_entries(std::vector<PortEntry>& entries) {
  std::sort(entries.begin(), entries.end(), entry_less);
}

void ControllerState::compute_all() {
  // Posting lists: label -> live slots carrying it, ascending.
  std::vector<std::vector<Slot>> slots_by_label(label_ids.size());
  std::vector<Slot> live_slots;
  std::vector<Slot> slots_with_processes;
  for (Slot s = 0; s < slots.size(); ++s) {
    if (!slots[s].live) continue;
    live_slots.push_back(s);
    for (LabelId label : slots[s].labels) slots_by_label[label].push_back(s);
    if (!slots[s].process_labels.empty()) slots_with_processes.push_back(s);
  }

  for (ScopeState& scope : scopes) {
    scope.members.clear();
    scope.processes.clear();
    if (scope.any || scope.all_workloads) {
      for (Slot s : live_slots) scope.members.push_back({s, full_mask(slots[s].workload)});
    } else {
      std::vector<Slot> labelled;
      if (!scope.labels.empty()) {
        // Intersect starting from the shortest posting list.
        std::vector<LabelId> by_size = scope.labels;
        std::sort(by_size.begin(), by_size.end(), [&](LabelId a, LabelId b) {
          return slots_by_label[a].size() < slots_by_label[b].size();
        });
        labelled = slots_by_label[by_size[0]];
        for (std::size_t i = 1; i < by_size.size() && !labelled.empty(); ++i) {
          labelled = intersect(labelled, slots_by_label[by_size[i]]);
        }
      }
      if (scope.cidrs.empty()) {
        for (Slot s : labelled) scope.members.push_back({s, full_mask(slots[s].workload)});
      } else {
        for (Slot s : live_slots) {
          ScopeMember m = membership(scope, slots[s]);
          if (m.address_mask) scope.members.push_back({s, m.address_mask});
        }
      }
      for (Slot s : slots_with_processes) {
        auto targets = process_targets(scope, s, slots[s]);
        scope.processes.insert(scope.processes.end(), targets.begin(), targets.end());
      }
    }
    IpSetId previous = scope.ip_set;
    scope.ip_set = scope.any ? kAnyAddress : ip_sets.acquire(scope_addresses(scope));
    ip_sets.release(previous);
  }

  for (Slot s : live_slots) slots[s].entries.clear();
  for (uint32_t priority = 0; priority < rules_by_priority.size(); ++priority) {
    const CompiledRule& rule = rules_by_priority[priority];
    for (const ScopeMember& m : scopes[rule.from].members) {
      slots[m.slot].entries.push_back({priority, rule.to, m.address_mask, kWholeWorkload, dfw::RuleDirection::kOut});
    }
    for (const ScopeMember& m : scopes[rule.to].members) {
      slots[m.slot].entries.push_back({priority, rule.from, m.address_mask, kWholeWorkload, dfw::RuleDirection::kIn});
    }
    const Rule& policy_rule = policy.rules[rule.rule_index];
    for (const ProcessTarget& t : scopes[rule.to].processes) {
      if (!process_accepts(policy_rule, slots[t.slot].workload.processes[t.process])) continue;
      slots[t.slot].entries.push_back({priority, rule.from, full_mask(slots[t.slot].workload), t.process,
                                       dfw::RuleDirection::kIn});
    }
  }
  for (Slot s : live_slots) {
    sort_port_entries(slots[s].entries);
    slots[s].version = generation;
  }
}

}  // namespace controller
