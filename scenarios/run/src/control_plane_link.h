#pragma once
// How the features of a run (migrations, failures, HA restarts) tell the control plane about the
// workload changes they cause, and ask it for a port's rules, without knowing how the control
// plane is modelled. Two implementations:
//  - DirectControlPlane (direct_control_plane.h): the controller's computation applied to the
//    hosts instantly, with no management network — the world without a modelled control plane;
//  - the simulated control plane (controller service + one agent per host over the simulated
//    management network), where every answer below takes the time the messages take.
// World::control_plane points at the one in use.
//
// Callbacks run later, as world events, never from inside the call that asked (even when the
// answer is immediate), so callers' state is consistent when they run.

#include <cstddef>
#include <cstdint>
#include <functional>

#include "dfw/rules.h"
#include "models/vm.h"

namespace scenarios {

class ControlPlaneLink {
 public:
  using Done = std::function<void()>;
  virtual ~ControlPlaneLink() = default;

  // policy: before — get `vm`'s rules onto `host` ahead of the VM's arrival. `done` runs once
  // that host's agent holds them (rules_on_host then returns them).
  virtual void prepare_port(models::VmIndex vm, uint32_t host, Done done) = 0;
  // The compiled rules that `host` holds for `vm` right now (prepared, or because the VM runs
  // there); nullptr if none: a port created with nullptr drops everything until rules arrive.
  virtual dfw::RuleTablePtr rules_on_host(models::VmIndex vm, uint32_t host) const = 0;
  // `vm` now runs on `host` (after a switchover or an HA restart; Vm::host is already set): the
  // controller learns the location and makes sure the port there enforces the VM's rules;
  // `done` runs when it does.
  virtual void workload_moved(models::VmIndex vm, uint32_t host, Done done) = 0;
  // `vm` is gone (died with its host and not restarted yet): its port no longer exists anywhere.
  virtual void workload_lost(models::VmIndex vm) = 0;

  // Scale out / in (scale.h). What a workload change impacted, as the controller computed it.
  struct Impact {
    std::size_t ports = 0;
    std::size_t hosts = 0;
  };
  // `vm` was created during the run: it is in the VmTable with Vm::host set, and its port exists
  // there (enforcing nothing until its rules arrive). The controller learns the workload, and
  // every impacted port (the new one, and the peers whose IP sets now hold its addresses) gets
  // new rules; `done` runs when all of them enforce them.
  virtual Impact workload_added(models::VmIndex vm, Done done) = 0;
  // `vm` is gone for good (its port already removed): the controller forgets it and the peers'
  // IP sets shrink.
  virtual Impact workload_removed(models::VmIndex vm) = 0;

  // For the invariants: the version of `vm`'s rules the controller wants now, and the version its
  // port enforces (0 when the VM has no port).
  virtual uint64_t desired_version(models::VmIndex vm) const = 0;
  virtual uint64_t enforced_version(models::VmIndex vm) const = 0;
  // For invariant 1: the rule set the controller computed for `vm` at `version` (every version
  // it ever gave the port, not only the current one: a port may still enforce an older one);
  // nullptr if it never computed that version for that port. Valid for the life of the link.
  virtual const dfw::RuleSetSpec* computed_spec(models::VmIndex vm, uint64_t version) const = 0;
};

}  // namespace scenarios
