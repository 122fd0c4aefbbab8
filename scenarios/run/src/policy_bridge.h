#pragma once
// From the scenario's label-based policy and VMs to the policy controller's model, and from the
// controller's per-port rule sets to compiled dfw tables. Compiled tables are shared between
// ports whose rule sets are identical (ports with the same labels), as a host would share them.

#include <map>
#include <memory>
#include <string>

#include "controller/controller.h"
#include "dfw/rules.h"
#include "scenarios/scenario.h"

namespace scenarios {

// Returns nullptr with `error` (naming the rule or VM) if the controller rejects the policy.
std::unique_ptr<controller::Controller> make_controller(const Scenario& scenario, std::string& error);

// Compiles port rule sets, reusing the table of an identical earlier set.
class RuleTableCache {
 public:
  dfw::RuleTablePtr compile(const dfw::RuleSetSpec& spec, std::string& error);
  std::size_t size() const { return tables_.size(); }

 private:
  std::map<std::string, dfw::RuleTablePtr> tables_;  // keyed by a canonical rendering of the spec
};

}  // namespace scenarios
