#pragma once
// Internal state of the controller (see controller.h for the model). Workloads live in dense
// slots; labels, scopes and IP sets are interned to small integers so that computing and
// diffing ports touches flat arrays only.

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "controller/controller.h"
#include "controller/policy.h"
#include "ip_set_pool.h"

namespace controller {

using Slot = uint32_t;
using LabelId = uint32_t;
using ScopeId = uint32_t;
inline constexpr uint8_t kWholeWorkload = 0xff;  // PortEntry::process: not a process entry

// A workload's membership in a scope: which of its addresses the scope covers (bit i: address i).
// All bits of the workload's addresses set means the whole workload.
struct ScopeMember {
  Slot slot = 0;
  uint8_t address_mask = 0;
  friend bool operator==(const ScopeMember&, const ScopeMember&) = default;
};
// A process that the scope selects although its workload is not selected.
struct ProcessTarget {
  Slot slot = 0;
  uint8_t process = 0;
  friend bool operator==(const ProcessTarget&, const ProcessTarget&) = default;
  friend auto operator<=>(const ProcessTarget&, const ProcessTarget&) = default;
};

struct ScopeState {
  std::vector<LabelId> labels;           // sorted; every one must match
  std::vector<dfw::IpPrefix> cidrs;      // of its IP lists, sorted, unique
  bool any = false;
  bool all_workloads = false;            // no labels, no IP lists, not any
  std::vector<ScopeMember> members;      // sorted by slot
  std::vector<ProcessTarget> processes;  // sorted
  IpSetId ip_set = kEmptySet;            // kAnyAddress when `any`
  std::vector<uint32_t> rules_as_from;   // priorities, ascending
  std::vector<uint32_t> rules_as_to;
};

// One policy rule at one port. Sorted by (priority, direction, process).
struct PortEntry {
  uint32_t priority = 0;
  ScopeId peer = 0;
  uint8_t self_mask = 0;  // own addresses the rule's own-side scope covers
  uint8_t process = kWholeWorkload;
  dfw::RuleDirection direction = dfw::RuleDirection::kOut;
  friend bool operator==(const PortEntry&, const PortEntry&) = default;
};

struct WorkloadState {
  Workload workload;
  bool live = false;
  std::vector<LabelId> labels;                        // sorted
  std::vector<std::vector<LabelId>> process_labels;   // effective (workload + process), sorted
  std::vector<PortEntry> entries;
  uint64_t version = 0;
};

struct CompiledRule {
  std::size_t rule_index = 0;  // into Policy::rules
  ScopeId from = 0;
  ScopeId to = 0;
};

class ControllerState {
 public:
  Policy policy;
  uint64_t generation = 0;
  std::vector<CompiledRule> rules_by_priority;
  std::vector<ScopeState> scopes;
  std::vector<ScopeId> unlabelled_scopes;                // any, all-workloads or IP-list scopes
  std::map<std::pair<std::string, std::string>, LabelId> label_ids;
  std::vector<std::vector<ScopeId>> scopes_by_label;     // LabelId -> scopes referencing it
  std::vector<WorkloadState> slots;
  std::vector<Slot> free_slots;
  std::map<WorkloadId, Slot> slot_by_id;
  IpSetPool ip_sets;

  // Builds rules, scopes and the label index from `policy` (already validated).
  Status compile_policy();
  // Adds a workload into a slot (interning its labels) without touching scopes or ports.
  Slot place_workload(Workload workload);
  // Full computation of memberships, IP sets and every port at the current generation.
  void compute_all();
  // Incremental: workload `slot` went from `before` (nullptr: absent) to its current state
  // (live == false: removed). Fills `changes` (ports, counts) except the IP set names.
  // `own_fingerprint_before` is port_fingerprint(slot) taken before the change (ignored when
  // `before` is nullptr), so that the own port is reported only when its spec really differs.
  void apply_workload_change(Slot slot, const WorkloadState* before, uint64_t own_fingerprint_before,
                             ChangeSet& changes);

  LabelId intern_label(const std::string& key, const std::string& value);
  ScopeMember membership(const ScopeState& scope, const WorkloadState& w) const;
  std::vector<ProcessTarget> process_targets(const ScopeState& scope, Slot slot,
                                             const WorkloadState& w) const;
  std::vector<dfw::IpPrefix> scope_addresses(const ScopeState& scope) const;
  // The entries of `slot` from current memberships; `candidates` must hold every scope that
  // may contain it (see apply_workload_change).
  std::vector<PortEntry> port_entries(Slot slot, const std::vector<ScopeId>& candidates) const;
  uint64_t port_fingerprint(Slot slot) const;            // content of its spec, version aside
  dfw::RuleSetSpec materialize(Slot slot) const;
  std::size_t rule_count(Slot slot) const;
};

uint8_t full_mask(const Workload& w);
void sort_port_entries(std::vector<PortEntry>& entries);
// True when some service of `rule` reaches one of the process's listening ports (otherwise the
// rule yields no dfw rule for that process, and the process gets no entry for it).
bool process_accepts(const Rule& rule, const Process& process);

}  // namespace controller
