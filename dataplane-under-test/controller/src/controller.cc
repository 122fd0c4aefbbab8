// The Controller's public operations: validation, then the state's full or incremental compute.

#include "controller/controller.h"

#include <algorithm>
#include <iterator>
#include <set>

#include "controller_state.h"

namespace controller {

Controller::Controller(std::unique_ptr<ControllerState> state) : state_(std::move(state)) {}
Controller::~Controller() = default;

namespace {

Status check_new_workloads(const Policy& policy, const std::vector<Workload>& workloads) {
  std::set<WorkloadId> ids;
  for (const Workload& w : workloads) {
    if (Status s = validate_workload(policy, w); !s) return s;
    if (!ids.insert(w.id).second) {
      return Status::error("workload " + std::to_string(w.id) + " \"" + w.name + "\": duplicate id");
    }
  }
  return Status::ok();
}

// Builds a fully computed state at `generation`.
std::unique_ptr<ControllerState> build_state(Policy policy, std::vector<Workload> workloads,
                                             uint64_t generation, Status& error) {
  auto state = std::make_unique<ControllerState>();
  state->policy = std::move(policy);
  if (error = state->compile_policy(); !error) return nullptr;
  if (error = check_new_workloads(state->policy, workloads); !error) return nullptr;
  // Slots in id order, so that iteration order (and thus everything derived) depends on ids only.
  std::sort(workloads.begin(), workloads.end(), [](const Workload& a, const Workload& b) { return a.id < b.id; });
  state->generation = generation;
  state->ip_sets.begin_change();
  for (Workload& w : workloads) state->place_workload(std::move(w));
  state->compute_all();
  std::vector<std::string> added, removed;
  state->ip_sets.end_change(added, removed);
  return state;
}

}  // namespace

std::unique_ptr<Controller> Controller::create(Policy policy, std::vector<Workload> workloads, Status& error) {
  auto state = build_state(std::move(policy), std::move(workloads), 1, error);
  if (!state) return nullptr;
  return std::unique_ptr<Controller>(new Controller(std::move(state)));
}

std::unique_ptr<Controller> Controller::resume(Policy policy, std::vector<Workload> workloads,
                                              const DurableVersions& previous, Status& error) {
  auto state = build_state(std::move(policy), std::move(workloads), previous.generation + 1, error);
  if (!state) return nullptr;
  for (const auto& [id, slot] : state->slot_by_id) {
    auto it = previous.ports.find(id);
    if (it != previous.ports.end() && it->second.fingerprint == state->port_fingerprint(slot))
      state->slots[slot].version = it->second.version;
  }
  return std::unique_ptr<Controller>(new Controller(std::move(state)));
}

DurableVersions Controller::durable_versions() const {
  DurableVersions out;
  out.generation = state_->generation;
  for (const auto& [id, slot] : state_->slot_by_id)
    out.ports[id] = {state_->slots[slot].version, state_->port_fingerprint(slot)};
  return out;
}

ChangeSet Controller::add_workload(Workload workload, Status& error) {
  ControllerState& st = *state_;
  if (error = validate_workload(st.policy, workload); !error) return {};
  if (st.slot_by_id.contains(workload.id)) {
    error = Status::error("workload " + std::to_string(workload.id) + ": duplicate id");
    return {};
  }
  ChangeSet changes;
  changes.generation = ++st.generation;
  st.ip_sets.begin_change();
  Slot slot = st.place_workload(std::move(workload));
  st.apply_workload_change(slot, nullptr, 0, changes);
  st.ip_sets.end_change(changes.added_ip_sets, changes.removed_ip_sets);
  return changes;
}

ChangeSet Controller::remove_workload(WorkloadId id, Status& error) {
  ControllerState& st = *state_;
  auto it = st.slot_by_id.find(id);
  if (it == st.slot_by_id.end()) {
    error = Status::error("workload " + std::to_string(id) + ": unknown");
    return {};
  }
  error = Status::ok();
  Slot slot = it->second;
  ChangeSet changes;
  changes.generation = ++st.generation;
  st.ip_sets.begin_change();
  WorkloadState before = st.slots[slot];
  st.slots[slot].live = false;
  st.apply_workload_change(slot, &before, 0, changes);
  st.ip_sets.end_change(changes.added_ip_sets, changes.removed_ip_sets);
  st.slots[slot] = WorkloadState{};
  st.free_slots.push_back(slot);
  st.slot_by_id.erase(it);
  changes.removed_ports.push_back(id);
  return changes;
}

ChangeSet Controller::update_workload(Workload workload, Status& error) {
  ControllerState& st = *state_;
  auto it = st.slot_by_id.find(workload.id);
  if (it == st.slot_by_id.end()) {
    error = Status::error("workload " + std::to_string(workload.id) + ": unknown");
    return {};
  }
  if (error = validate_workload(st.policy, workload); !error) return {};
  Slot slot = it->second;
  ChangeSet changes;
  changes.generation = ++st.generation;
  WorkloadState before = st.slots[slot];
  uint64_t fingerprint_before = st.port_fingerprint(slot);
  if (before.workload.host != workload.host) {
    changes.moved_ports.push_back({workload.id, before.workload.host, workload.host});
  }
  st.ip_sets.begin_change();
  // Re-place into the same slot: free it first so place_workload reuses it.
  st.free_slots.push_back(slot);
  Slot placed = st.place_workload(std::move(workload));
  (void)placed;  // == slot, the most recently freed
  st.slots[slot].entries = before.entries;
  st.slots[slot].version = before.version;
  st.apply_workload_change(slot, &before, fingerprint_before, changes);
  st.ip_sets.end_change(changes.added_ip_sets, changes.removed_ip_sets);
  return changes;
}

ChangeSet Controller::set_labels(WorkloadId id, Labels labels, Status& error) {
  const Workload* current = workload(id);
  if (current == nullptr) {
    error = Status::error("workload " + std::to_string(id) + ": unknown");
    return {};
  }
  Workload next = *current;
  next.labels = std::move(labels);
  return update_workload(std::move(next), error);
}

ChangeSet Controller::move_workload(WorkloadId id, std::string host, Status& error) {
  const Workload* current = workload(id);
  if (current == nullptr) {
    error = Status::error("workload " + std::to_string(id) + ": unknown");
    return {};
  }
  Workload next = *current;
  next.host = std::move(host);
  return update_workload(std::move(next), error);
}

ChangeSet Controller::set_policy(Policy policy, Status& error) {
  ControllerState& old_state = *state_;
  std::vector<Workload> workloads;
  for (const auto& [id, slot] : old_state.slot_by_id) workloads.push_back(old_state.slots[slot].workload);
  uint64_t generation = old_state.generation + 1;
  auto fresh = build_state(std::move(policy), std::move(workloads), generation, error);
  if (!fresh) return {};
  ChangeSet changes;
  changes.generation = generation;
  for (const auto& [id, slot] : fresh->slot_by_id) {
    Slot old_slot = old_state.slot_by_id.at(id);
    if (fresh->port_fingerprint(slot) == old_state.port_fingerprint(old_slot)) {
      fresh->slots[slot].version = old_state.slots[old_slot].version;
    } else {
      changes.changed_ports.push_back(id);
    }
  }
  std::vector<std::string> old_names = old_state.ip_sets.names();
  std::vector<std::string> new_names = fresh->ip_sets.names();
  std::set_difference(new_names.begin(), new_names.end(), old_names.begin(), old_names.end(),
                      std::back_inserter(changes.added_ip_sets));
  std::set_difference(old_names.begin(), old_names.end(), new_names.begin(), new_names.end(),
                      std::back_inserter(changes.removed_ip_sets));
  changes.scopes_changed = fresh->scopes.size();
  state_ = std::move(fresh);
  return changes;
}

uint64_t Controller::generation() const { return state_->generation; }
const Policy& Controller::policy() const { return state_->policy; }

std::vector<WorkloadId> Controller::port_ids() const {
  std::vector<WorkloadId> ids;
  ids.reserve(state_->slot_by_id.size());
  for (const auto& [id, slot] : state_->slot_by_id) ids.push_back(id);
  return ids;
}

bool Controller::has_port(WorkloadId id) const { return state_->slot_by_id.contains(id); }

const Workload* Controller::workload(WorkloadId id) const {
  auto it = state_->slot_by_id.find(id);
  return it == state_->slot_by_id.end() ? nullptr : &state_->slots[it->second].workload;
}

uint64_t Controller::port_version(WorkloadId id) const {
  auto it = state_->slot_by_id.find(id);
  return it == state_->slot_by_id.end() ? 0 : state_->slots[it->second].version;
}

dfw::RuleSetSpec Controller::port_spec(WorkloadId id) const {
  auto it = state_->slot_by_id.find(id);
  if (it == state_->slot_by_id.end()) {
    dfw::RuleSetSpec empty;
    empty.default_action = state_->policy.default_action;
    return empty;
  }
  return state_->materialize(it->second);
}

std::size_t Controller::port_rule_count(WorkloadId id) const {
  auto it = state_->slot_by_id.find(id);
  return it == state_->slot_by_id.end() ? 0 : state_->rule_count(it->second);
}

std::vector<std::string> Controller::ip_set_names() const { return state_->ip_sets.names(); }

const std::vector<dfw::IpPrefix>* Controller::ip_set(const std::string& name) const {
  const IpSet* set = state_->ip_sets.find(name);
  return set ? &set->prefixes : nullptr;
}

ControllerStats Controller::stats() const {
  ControllerStats s;
  s.ports = state_->slot_by_id.size();
  s.scopes = state_->scopes.size();
  s.ip_sets = state_->ip_sets.size();
  for (const auto& name : state_->ip_sets.names()) s.ip_set_prefixes += state_->ip_sets.find(name)->prefixes.size();
  for (const auto& [id, slot] : state_->slot_by_id) s.port_entries += state_->slots[slot].entries.size();
  return s;
}

}  // namespace controller
