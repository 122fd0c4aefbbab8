#pragma once
// What the policy controller computed for each port, version by version, kept for invariant 1
// ("allowed_by_enforced_version", docs/failures.md "Invariants"): a port may enforce an older
// version than the controller's current one (a change still on its way, a partition), and the
// check needs the rule set of exactly the version the port enforces.
//
// Both control planes feed it: the direct one lazily (its ports always enforce the controller's
// current version), the simulated one after every change the controller accepted and at every
// (re)start of the controller, so that every version an agent can receive is on record before
// it can be installed. Identical rule sets (ports with the same labels, changed in the same
// generation) are stored once: a 10,000-port estate holds a handful of distinct sets per version.

#include <cstdint>
#include <map>
#include <memory>
#include <unordered_map>
#include <utility>
#include <vector>

#include "controller/controller.h"
#include "dfw/rules.h"
#include "models/vm.h"

namespace scenarios {

class ComputedSpecs {
 public:
  // Records the current version of every port of `controller` that is not on record yet.
  void record(const controller::Controller& controller);
  // Records the current version of one port, if the controller knows it.
  void record(const controller::Controller& controller, models::VmIndex vm);
  // The rule set the controller computed for `vm` at `version`; nullptr if it never did (as far
  // as the control plane recorded). The pointer stays valid for the life of this object.
  const dfw::RuleSetSpec* find(models::VmIndex vm, uint64_t version) const;
  std::size_t distinct_specs() const { return distinct_; }

 private:
  const dfw::RuleSetSpec* intern(dfw::RuleSetSpec spec);

  std::map<std::pair<models::VmIndex, uint64_t>, const dfw::RuleSetSpec*> by_port_version_;
  // Content fingerprint -> the distinct sets with it (compared in full on a hit).
  std::unordered_map<uint64_t, std::vector<std::unique_ptr<const dfw::RuleSetSpec>>> by_fingerprint_;
  std::size_t distinct_ = 0;
};

// A fingerprint of everything a rule set decides with (version included) and full equality.
uint64_t rule_set_fingerprint(const dfw::RuleSetSpec& spec);
bool same_rule_set(const dfw::RuleSetSpec& a, const dfw::RuleSetSpec& b);

}  // namespace scenarios
