#include "migration_args.h"

#include "scenarios/units_parse.h"

namespace scenarios {
namespace {

const std::string* find_arg(const TimelineEvent& event, const char* name) {
  auto it = event.args.find(name);
  return it == event.args.end() ? nullptr : &it->second;
}

bool parse_choice(const TimelineEvent& event, const char* name, const char* yes, const char* no, bool& out,
                  std::string& error) {
  const std::string* value = find_arg(event, name);
  if (value == nullptr) return true;
  if (*value == yes || *value == no) {
    out = *value == yes;
    return true;
  }
  error = std::string(name) + ": expected " + yes + " or " + no + ", got '" + *value + "'";
  return false;
}

}  // namespace

bool parse_migrate_args(const TimelineEvent& event, const Scenario& scenario, const World& world, MigrationRequest& out,
                        std::string& error) {
  static const char* const kKnown[] = {"vm", "to", "state", "policy", "memory", "dirty_rate", "bandwidth"};
  for (const auto& [name, value] : event.args) {
    bool known = false;
    for (const char* k : kKnown) known = known || name == k;
    if (!known) {
      error = "unknown argument '" + name + "' (expected vm, to, state, policy, memory, dirty_rate, bandwidth)";
      return false;
    }
  }
  const std::string* vm = find_arg(event, "vm");
  const std::string* to = find_arg(event, "to");
  if (vm == nullptr || to == nullptr) {
    error = std::string("missing required argument '") + (vm == nullptr ? "vm" : "to") + "'";
    return false;
  }
  out.vm = world.vms.find(*vm);
  if (out.vm == models::kNoVm) {
    error = "vm: no VM named '" + *vm + "'";
    return false;
  }
  out.to = UINT32_MAX;
  for (uint32_t h = 0; h < world.hosts.size(); ++h)
    if (world.hosts[h]->name() == *to) out.to = h;
  if (out.to == UINT32_MAX) {
    error = "to: no host named '" + *to + "'";
    return false;
  }
  if (!parse_choice(event, "state", "move", "drop", out.move_state, error)) return false;
  if (!parse_choice(event, "policy", "before", "after", out.policy_before, error)) return false;
  // VmTable indices follow the scenario's VM order.
  if (out.vm < scenario.vms.size()) out.precopy.memory = scenario.vms[out.vm].memory_size;
  if (const std::string* v = find_arg(event, "memory")) {
    auto parsed = parse_size(*v, ZeroIs::allowed);
    if (!parsed) {
      error = "memory: " + parsed.error;
      return false;
    }
    out.precopy.memory = *parsed.value;
  }
  if (const std::string* v = find_arg(event, "dirty_rate")) {
    auto parsed = parse_data_rate(*v, ZeroIs::allowed);
    if (!parsed) {
      error = "dirty_rate: " + parsed.error;
      return false;
    }
    out.precopy.dirty_rate = *parsed.value;
  }
  if (const std::string* v = find_arg(event, "bandwidth")) {
    auto parsed = parse_data_rate(*v, ZeroIs::rejected);
    if (!parsed) {
      error = "bandwidth: " + parsed.error;
      return false;
    }
    out.precopy.bandwidth = *parsed.value;
  }
  return true;
}

}  // namespace scenarios
