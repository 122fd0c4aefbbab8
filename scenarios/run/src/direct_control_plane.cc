#include "direct_control_plane.h"

#include <cstdio>
#include <cstdlib>
#include <set>

#include "scale.h"

namespace scenarios {

DirectControlPlane::DirectControlPlane(World& world) : world_(world) {}

dfw::RuleTablePtr DirectControlPlane::compiled(models::VmIndex vm) const {
  std::string error;
  dfw::RuleTablePtr rules = tables_.compile(world_.controller->port_spec(vm), error);
  if (!rules) {
    // The same specs compiled when the world was built; failing now is a bug, not bad input.
    std::fprintf(stderr, "segsim: internal error: rules of vm %u no longer compile: %s\n", vm, error.c_str());
    std::abort();
  }
  return rules;
}

void DirectControlPlane::later(Done done) {
  if (!done) return;
  auto holder = std::make_shared<Done>(std::move(done));
  world_.kernel.schedule(sim::Time::zero(), sim::kWorld, [holder] { (*holder)(); });
}

void DirectControlPlane::prepare_port(models::VmIndex, uint32_t, Done done) { later(std::move(done)); }

dfw::RuleTablePtr DirectControlPlane::rules_on_host(models::VmIndex vm, uint32_t) const { return compiled(vm); }

void DirectControlPlane::workload_moved(models::VmIndex vm, uint32_t host, Done done) {
  controller::Status status;
  world_.controller->move_workload(vm, world_.hosts[host]->name(), status);
  models::Host& h = *world_.hosts[host];
  if (h.has_vm(vm)) {
    const dfw::RuleTable* current = h.datapath().rules(vm);
    if (!current || dfw::rule_table_version(*current) != desired_version(vm)) h.install_rules(vm, compiled(vm));
  }
  later(std::move(done));
}

void DirectControlPlane::workload_lost(models::VmIndex) {}

ControlPlaneLink::Impact DirectControlPlane::apply(const controller::ChangeSet& changes) {
  std::set<uint32_t> hosts;
  for (controller::WorkloadId port : changes.changed_ports) {
    const uint32_t h = world_.vms[port].host;
    if (h >= world_.hosts.size() || !world_.hosts[h]->has_vm(port)) continue;
    world_.hosts[h]->install_rules(port, compiled(port));
    hosts.insert(h);
  }
  return Impact{changes.changed_ports.size() + changes.removed_ports.size(), hosts.size()};
}

ControlPlaneLink::Impact DirectControlPlane::workload_added(models::VmIndex vm, Done done) {
  controller::Status status;
  const controller::ChangeSet changes = world_.controller->add_workload(workload_of(world_, vm), status);
  if (!status) {
    // The scale action validated the workload against the same policy: a bug, not bad input.
    std::fprintf(stderr, "segsim: internal error: add_workload %s: %s\n", world_.vms[vm].name.c_str(),
                 status.message().c_str());
    std::abort();
  }
  const Impact impact = apply(changes);  // the new port's host included: its port exists
  later(std::move(done));
  return impact;
}

ControlPlaneLink::Impact DirectControlPlane::workload_removed(models::VmIndex vm) {
  controller::Status status;
  const controller::ChangeSet changes = world_.controller->remove_workload(vm, status);
  Impact impact = apply(changes);
  // The removed port's own host counts as impacted (its port went away), as the service counts it.
  std::set<uint32_t> hosts;
  for (controller::WorkloadId port : changes.changed_ports) hosts.insert(world_.vms[port].host);
  hosts.insert(world_.vms[vm].host);
  impact.hosts = hosts.size();
  return impact;
}

uint64_t DirectControlPlane::desired_version(models::VmIndex vm) const { return world_.controller->port_version(vm); }

const dfw::RuleSetSpec* DirectControlPlane::computed_spec(models::VmIndex vm, uint64_t version) const {
  if (const dfw::RuleSetSpec* spec = specs_.find(vm, version)) return spec;
  specs_.record(*world_.controller, vm);
  return specs_.find(vm, version);
}

uint64_t DirectControlPlane::enforced_version(models::VmIndex vm) const {
  for (const auto& host : world_.hosts) {
    if (!host->has_vm(vm)) continue;
    const dfw::RuleTable* rules = host->datapath().rules(vm);
    return rules ? dfw::rule_table_version(*rules) : 0;
  }
  return 0;
}

}  // namespace scenarios
