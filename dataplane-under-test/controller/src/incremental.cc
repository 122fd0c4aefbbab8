// Incremental recomputation after one workload changed.
//
// Only scopes that can contain the workload before or after the change are examined: those
// referencing one of its labels (or its processes' labels) through the label index, and the few
// scopes that are not selected by labels (any, all workloads, IP lists). A scope whose IP set or
// process targets change makes every port using it as a peer change; the workload's own port
// changes when its entries or a peer of its entries change.

#include <algorithm>

#include "controller/address.h"
#include "controller_state.h"

namespace controller {
namespace {

uint8_t member_mask(const ScopeState& scope, Slot slot) {
  auto it = std::lower_bound(scope.members.begin(), scope.members.end(), slot,
                             [](const ScopeMember& m, Slot s) { return m.slot < s; });
  return it != scope.members.end() && it->slot == slot ? it->address_mask : 0;
}

void set_member_mask(ScopeState& scope, Slot slot, uint8_t mask) {
  auto it = std::lower_bound(scope.members.begin(), scope.members.end(), slot,
                             [](const ScopeMember& m, Slot s) { return m.slot < s; });
  bool present = it != scope.members.end() && it->slot == slot;
  if (mask == 0) {
    if (present) scope.members.erase(it);
  } else if (present) {
    it->address_mask = mask;
  } else {
    scope.members.insert(it, {slot, mask});
  }
}

// The range of `scope.processes` belonging to `slot`.
std::pair<std::size_t, std::size_t> process_range(const ScopeState& scope, Slot slot) {
  auto first = std::lower_bound(scope.processes.begin(), scope.processes.end(), ProcessTarget{slot, 0});
  auto last = first;
  while (last != scope.processes.end() && last->slot == slot) ++last;
  return {static_cast<std::size_t>(first - scope.processes.begin()),
          static_cast<std::size_t>(last - scope.processes.begin())};
}

bool same_addresses(const Workload& a, const Workload& b) {
  return std::equal(a.addresses.begin(), a.addresses.end(), b.addresses.begin(), b.addresses.end(),
                    prefix_equal);
}

bool same_listening(const Workload& a, const Workload& b) {
  if (a.processes.size() != b.processes.size()) return false;
  for (std::size_t i = 0; i < a.processes.size(); ++i) {
    const auto& x = a.processes[i].listening_ports;
    const auto& y = b.processes[i].listening_ports;
    if (!std::equal(x.begin(), x.end(), y.begin(), y.end(), [](const ListeningPort& p, const ListeningPort& q) {
          return p.protocol == q.protocol && p.port == q.port;
        })) {
      return false;
    }
  }
  return true;
}

}  // namespace

std::vector<PortEntry> ControllerState::port_entries(Slot slot, const std::vector<ScopeId>& candidates) const {
  std::vector<PortEntry> entries;
  const WorkloadState& w = slots[slot];
  if (!w.live) return entries;
  uint8_t full = full_mask(w.workload);
  for (ScopeId id : candidates) {
    const ScopeState& scope = scopes[id];
    if (uint8_t mask = member_mask(scope, slot)) {
      for (uint32_t p : scope.rules_as_from) {
        entries.push_back({p, rules_by_priority[p].to, mask, kWholeWorkload, dfw::RuleDirection::kOut});
      }
      for (uint32_t p : scope.rules_as_to) {
        entries.push_back({p, rules_by_priority[p].from, mask, kWholeWorkload, dfw::RuleDirection::kIn});
      }
    }
    auto [first, last] = process_range(scope, slot);
    for (std::size_t i = first; i < last; ++i) {
      const Process& process = w.workload.processes[scope.processes[i].process];
      for (uint32_t p : scope.rules_as_to) {
        if (!process_accepts(policy.rules[rules_by_priority[p].rule_index], process)) continue;
        entries.push_back({p, rules_by_priority[p].from, full, scope.processes[i].process, dfw::RuleDirection::kIn});
      }
    }
  }
  sort_port_entries(entries);
  return entries;
}

void ControllerState::apply_workload_change(Slot slot, const WorkloadState* before,
                                           uint64_t own_fingerprint_before, ChangeSet& changes) {
  WorkloadState& now = slots[slot];

  std::vector<ScopeId> candidates = unlabelled_scopes;
  auto add_label_scopes = [&](const std::vector<LabelId>& labels) {
    for (LabelId label : labels) {
      const auto& ids = scopes_by_label[label];
      candidates.insert(candidates.end(), ids.begin(), ids.end());
    }
  };
  for (const WorkloadState* w : {before, static_cast<const WorkloadState*>(&now)}) {
    if (w == nullptr || !w->live) continue;
    add_label_scopes(w->labels);
    for (const auto& labels : w->process_labels) add_label_scopes(labels);
  }
  std::sort(candidates.begin(), candidates.end());
  candidates.erase(std::unique(candidates.begin(), candidates.end()), candidates.end());

  bool addresses_changed = before != nullptr && now.live && !same_addresses(before->workload, now.workload);
  bool listening_changed = before != nullptr && now.live && !same_listening(before->workload, now.workload);

  // Scopes whose IP set changed (peers on both sides) or whose process targets changed (peers
  // that send to it) get a mark; the own port's entries are rebuilt below.
  std::vector<uint8_t> scope_mark(scopes.size(), 0);
  constexpr uint8_t kSetChanged = 1, kProcessesChanged = 2;
  // For scopes whose process targets changed: the processes concerned, before and after.
  std::vector<std::pair<ScopeId, const Process*>> changed_processes;
  auto note_processes = [&](ScopeId id, const std::vector<ProcessTarget>& old_targets,
                            const std::vector<ProcessTarget>& new_targets) {
    for (const ProcessTarget& t : old_targets) changed_processes.emplace_back(id, &before->workload.processes[t.process]);
    for (const ProcessTarget& t : new_targets) changed_processes.emplace_back(id, &now.workload.processes[t.process]);
  };
  for (ScopeId id : candidates) {
    ScopeState& scope = scopes[id];
    uint8_t old_mask = member_mask(scope, slot);
    uint8_t new_mask = membership(scope, now).address_mask;
    auto [first, last] = process_range(scope, slot);
    std::vector<ProcessTarget> old_targets(scope.processes.begin() + static_cast<std::ptrdiff_t>(first),
                                           scope.processes.begin() + static_cast<std::ptrdiff_t>(last));
    std::vector<ProcessTarget> new_targets = process_targets(scope, slot, now);

    if (old_mask != new_mask) set_member_mask(scope, slot, new_mask);
    if (old_targets != new_targets) {
      scope.processes.erase(scope.processes.begin() + static_cast<std::ptrdiff_t>(first),
                            scope.processes.begin() + static_cast<std::ptrdiff_t>(last));
      scope.processes.insert(scope.processes.begin() + static_cast<std::ptrdiff_t>(first),
                             new_targets.begin(), new_targets.end());
      scope_mark[id] |= kProcessesChanged;
      note_processes(id, old_targets, new_targets);
    } else if (!new_targets.empty() && (addresses_changed || listening_changed)) {
      scope_mark[id] |= kProcessesChanged;
      note_processes(id, old_targets, new_targets);
    }
    bool content_may_change = old_mask != new_mask || (addresses_changed && (old_mask | new_mask));
    if (content_may_change && !scope.any) {
      IpSetId fresh = ip_sets.acquire(scope_addresses(scope));
      if (fresh != scope.ip_set) {
        ip_sets.release(scope.ip_set);
        scope.ip_set = fresh;
        scope_mark[id] |= kSetChanged;
      } else {
        ip_sets.release(fresh);
      }
    }
  }

  // Ports using a changed scope as their peer.
  std::vector<uint8_t> port_mark(slots.size(), 0);
  std::vector<Slot> marked;
  auto mark = [&](Slot s) {
    if (!port_mark[s]) {
      port_mark[s] = 1;
      marked.push_back(s);
    }
  };
  for (ScopeId id : candidates) {
    if (!scope_mark[id]) continue;
    ++changes.scopes_changed;
    const ScopeState& scope = scopes[id];
    if (scope_mark[id] & kSetChanged) {
      for (uint32_t p : scope.rules_as_from) {  // ingress rules at the `to` side name this set
        const ScopeState& to = scopes[rules_by_priority[p].to];
        const Rule& rule = policy.rules[rules_by_priority[p].rule_index];
        for (const ScopeMember& m : to.members) mark(m.slot);
        for (const ProcessTarget& t : to.processes) {
          if (process_accepts(rule, slots[t.slot].workload.processes[t.process])) mark(t.slot);
        }
      }
    }
    for (uint32_t p : scope.rules_as_to) {  // egress rules at the `from` side send to this scope
      if (!(scope_mark[id] & kSetChanged)) {
        // Only the process targets changed: senders see it only if the rule reaches them.
        const Rule& rule = policy.rules[rules_by_priority[p].rule_index];
        bool reaches = false;
        for (const auto& [scope_id, process] : changed_processes) {
          if (scope_id == id && process_accepts(rule, *process)) {
            reaches = true;
            break;
          }
        }
        if (!reaches) continue;
      }
      for (const ScopeMember& m : scopes[rules_by_priority[p].from].members) mark(m.slot);
    }
  }

  // The workload's own port.
  if (now.live) {
    now.entries = port_entries(slot, candidates);
    // The own port is compared by content: its entries may change without changing its dfw rules
    // (e.g. joining a scope whose peer selects nobody yet).
    bool own_changed = before == nullptr || !before->live || port_fingerprint(slot) != own_fingerprint_before;
    if (own_changed) {
      mark(slot);
    } else if (port_mark[slot]) {
      // Marked as a peer, but its content is unchanged after all.
      port_mark[slot] = 0;
      marked.erase(std::find(marked.begin(), marked.end(), slot));
    }
  } else if (port_mark[slot]) {
    port_mark[slot] = 0;
    marked.erase(std::find(marked.begin(), marked.end(), slot));
  }

  for (Slot s : marked) {
    slots[s].version = generation;
    changes.changed_ports.push_back(slots[s].workload.id);
  }
  std::sort(changes.changed_ports.begin(), changes.changed_ports.end());
}

}  // namespace controller
