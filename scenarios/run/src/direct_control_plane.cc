#include "direct_control_plane.h"

#include <cstdio>
#include <cstdlib>

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

uint64_t DirectControlPlane::desired_version(models::VmIndex vm) const { return world_.controller->port_version(vm); }

uint64_t DirectControlPlane::enforced_version(models::VmIndex vm) const {
  for (const auto& host : world_.hosts) {
    if (!host->has_vm(vm)) continue;
    const dfw::RuleTable* rules = host->datapath().rules(vm);
    return rules ? dfw::rule_table_version(*rules) : 0;
  }
  return 0;
}

}  // namespace scenarios
