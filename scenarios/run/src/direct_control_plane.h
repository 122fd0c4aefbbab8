#pragma once
// The control plane without a management network: every answer of ControlPlaneLink is the
// policy controller's own computation, applied to the hosts at once (callbacks still run as
// separate world events at the current time). Runs use it when the scenario models no control
// plane; it is also the reference the simulated control plane converges to.

#include <memory>

#include "control_plane_link.h"
#include "invariant_specs.h"
#include "policy_bridge.h"
#include "world.h"

namespace scenarios {

class DirectControlPlane final : public ControlPlaneLink {
 public:
  explicit DirectControlPlane(World& world);

  void prepare_port(models::VmIndex vm, uint32_t host, Done done) override;
  dfw::RuleTablePtr rules_on_host(models::VmIndex vm, uint32_t host) const override;
  void workload_moved(models::VmIndex vm, uint32_t host, Done done) override;
  void workload_lost(models::VmIndex vm) override;
  Impact workload_added(models::VmIndex vm, Done done) override;
  Impact workload_removed(models::VmIndex vm) override;
  uint64_t desired_version(models::VmIndex vm) const override;
  uint64_t enforced_version(models::VmIndex vm) const override;
  const dfw::RuleSetSpec* computed_spec(models::VmIndex vm, uint64_t version) const override;

 private:
  dfw::RuleTablePtr compiled(models::VmIndex vm) const;
  void later(Done done);
  // Installs the new rules of every port a change touched, wherever it runs now.
  Impact apply(const controller::ChangeSet& changes);

  World& world_;
  mutable RuleTableCache tables_;
  // Recorded on first use: every port enforces the controller's current version at once.
  mutable ComputedSpecs specs_;
};

}  // namespace scenarios
