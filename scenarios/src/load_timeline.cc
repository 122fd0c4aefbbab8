// timeline: events at given simulated times (migrations, failures, policy changes). Each action
// has a fixed set of arguments, written inline next to `at` and `action`.

#include <algorithm>
#include <set>

#include "scenarios/units_parse.h"
#include "sections.h"
#include "suggest.h"

namespace scenarios::detail {
namespace {

enum class ArgKind { vm, host, host_list, link, switch_name, rule, duration, probability, choice, labels, size, rate, rate_or_zero };

struct ArgSpec {
  std::string name;
  ArgKind kind;
  bool required;
  std::vector<std::string> choices = {};  // ArgKind::choice
};

struct ActionSpec {
  std::string name;
  std::vector<ArgSpec> args;
};

const std::vector<ActionSpec>& actions() {
  static const std::vector<ActionSpec> kActions = {
      {"migrate",
       {{"vm", ArgKind::vm, true},
        {"to", ArgKind::host, true},
        {"state", ArgKind::choice, false, {"move", "drop"}},
        {"policy", ArgKind::choice, false, {"before", "after"}},
        {"memory", ArgKind::size, false},
        {"dirty_rate", ArgKind::rate_or_zero, false},
        {"bandwidth", ArgKind::rate, false}}},
      {"fail_host", {{"host", ArgKind::host, true}, {"restart_after", ArgKind::duration, false}}},
      {"recover_host", {{"host", ArgKind::host, true}}},
      {"reboot_host", {{"host", ArgKind::host, true}, {"downtime", ArgKind::duration, false}}},
      {"link_down", {{"link", ArgKind::link, true}}},
      {"link_up", {{"link", ArgKind::link, true}}},
      {"set_link_loss",
       {{"link", ArgKind::link, true}, {"loss", ArgKind::probability, true}, {"corruption", ArgKind::probability, false}}},
      {"fail_switch", {{"switch", ArgKind::switch_name, true}}},
      {"recover_switch", {{"switch", ArgKind::switch_name, true}}},
      {"fail_controller", {}},
      {"recover_controller", {}},
      {"partition_hosts", {{"hosts", ArgKind::host_list, true}}},
      {"heal_partition", {}},
      {"restart_agent", {{"host", ArgKind::host, true}, {"connections", ArgKind::choice, false, {"keep", "flush"}}}},
      {"set_rule_action",
       {{"rule", ArgKind::rule, true}, {"verdict", ArgKind::choice, true, {"allow", "drop", "reject"}}}},
      {"set_default_action", {{"verdict", ArgKind::choice, true, {"allow", "drop", "reject"}}}},
      {"relabel", {{"vm", ArgKind::vm, true}, {"labels", ArgKind::labels, true}}},
  };
  return kActions;
}

std::vector<std::string> action_names() {
  std::vector<std::string> names;
  for (const ActionSpec& a : actions()) names.push_back(a.name);
  return names;
}

// Reads one argument into its string form; false (with a diagnostic) when invalid.
bool read_arg(LoadContext& ctx, const YAML::Node& value, const std::string& path, const ArgSpec& spec,
              const NameIndex& index, std::string& out) {
  switch (spec.kind) {
    case ArgKind::host_list: {
      if (!value.IsSequence() || value.size() == 0) {
        ctx.error(value, path, "expected a non-empty list of host names, got " + describe_node(value));
        return false;
      }
      bool ok = true;
      for (size_t i = 0; i < value.size(); ++i) {
        const auto host = read_scalar(ctx, value[i], join_path(path, i), "a host name");
        ok = ok && host && check_reference(ctx, value[i], join_path(path, i), *host, index.host_names, "host");
        if (host) out += (i ? "," : "") + *host;
      }
      return ok;
    }
    case ArgKind::labels: {
      const size_t errors = ctx.diagnostics().error_count();
      const auto labels = read_labels(ctx, value, path);
      for (const auto& [k, v] : labels) out += (out.empty() ? "" : ",") + k + "=" + v;
      if (labels.empty() && ctx.diagnostics().error_count() == errors) ctx.error(value, path, "no labels given");
      return ctx.diagnostics().error_count() == errors && !labels.empty();
    }
    default: break;
  }
  const auto text = read_scalar(ctx, value, path, "a value");
  if (!text) return false;
  out = *text;
  switch (spec.kind) {
    case ArgKind::vm: return check_reference(ctx, value, path, out, index.vm_names, "VM");
    case ArgKind::host: return check_reference(ctx, value, path, out, index.host_names, "host");
    case ArgKind::switch_name: return check_reference(ctx, value, path, out, index.layout.switches, "switch");
    case ArgKind::rule: return check_reference(ctx, value, path, out, index.rule_names, "rule");
    case ArgKind::link: {
      if (const FabricLink* link = index.layout.find_link(out)) {
        out = link->name;
        return true;
      }
      return check_reference(ctx, value, path, out, index.link_names, "link");
    }
    case ArgKind::duration: return read_duration(ctx, value, path, ZeroIs::rejected).has_value();
    case ArgKind::probability: return read_number(ctx, value, path, 0, 1, false).has_value();
    case ArgKind::size: {
      const auto parsed = parse_size(out, ZeroIs::rejected);
      if (!parsed) ctx.error(value, path, parsed.error);
      return parsed.value.has_value();
    }
    case ArgKind::rate:
    case ArgKind::rate_or_zero: {
      const auto parsed = parse_data_rate(out, spec.kind == ArgKind::rate ? ZeroIs::rejected : ZeroIs::allowed);
      if (!parsed) ctx.error(value, path, parsed.error);
      return parsed.value.has_value();
    }
    case ArgKind::choice: {
      if (std::find(spec.choices.begin(), spec.choices.end(), out) != spec.choices.end()) return true;
      std::string expected;
      for (const std::string& c : spec.choices) expected += (expected.empty() ? "" : ", ") + c;
      ctx.error(value, path, "invalid value '" + out + "' (expected one of " + expected + ")");
      return false;
    }
    case ArgKind::host_list:
    case ArgKind::labels: break;
  }
  return false;
}

// An event with the index of its entry in the file. The YAML node itself is not stored here:
// sorting assigns elements, and assigning a YAML::Node rewrites the node it refers to.
struct PendingEvent {
  TimelineEvent event;
  size_t index;
};

// Follows the events in time order and reports actions that contradict the state they find:
// migrating a VM to the host it is on, failing a failed host, bringing up a link that is up.
void check_sequence(LoadContext& ctx, const YAML::Node& timeline, const std::vector<PendingEvent>& events,
                    const Scenario& s) {
  std::map<std::string, std::string> vm_host;
  for (const VmSpec& vm : s.vms) vm_host[vm.name] = vm.host;
  std::set<std::string> failed_hosts, down_links, failed_switches;
  auto report = [&](const PendingEvent& e, const std::string& message) {
    ctx.error(timeline[e.index], join_path("timeline", e.index), message);
  };
  auto toggle = [&](std::set<std::string>& down, const std::string& name, bool going_down, const PendingEvent& e,
                    const char* what) {
    if (going_down == static_cast<bool>(down.count(name))) {
      report(e, std::string(what) + " '" + name + "' is already " + (going_down ? "down" : "up") + " at " +
                                    sim::to_string(e.event.at));
    }
    if (going_down) down.insert(name);
    else down.erase(name);
  };
  for (const PendingEvent& e : events) {
    const auto& a = e.event.args;
    const std::string& action = e.event.action;
    if (action == "migrate" && a.count("vm") && a.count("to")) {
      if (vm_host[a.at("vm")] == a.at("to")) {
        report(e, "VM '" + a.at("vm") + "' is already on host '" + a.at("to") + "' at " + sim::to_string(e.event.at));
      }
      vm_host[a.at("vm")] = a.at("to");
    } else if ((action == "fail_host" || action == "recover_host") && a.count("host")) {
      toggle(failed_hosts, a.at("host"), action == "fail_host", e, "host");
    } else if ((action == "link_down" || action == "link_up") && a.count("link")) {
      toggle(down_links, a.at("link"), action == "link_down", e, "link");
    } else if ((action == "fail_switch" || action == "recover_switch") && a.count("switch")) {
      toggle(failed_switches, a.at("switch"), action == "fail_switch", e, "switch");
    }
  }
}

}  // namespace

void read_timeline(LoadContext& ctx, const YAML::Node& node, Scenario& s, const NameIndex& index) {
  if (!node.IsSequence()) {
    ctx.error(node, "timeline", "expected a list of events {at, action, ...}, got " + describe_node(node));
    return;
  }
  std::vector<PendingEvent> events;
  bool all_valid = true;
  for (size_t i = 0; i < node.size(); ++i) {
    const std::string path = join_path("timeline", i);
    MapReader r(ctx, node[i], path, "an event {at, action, ...}");
    if (!r.is_map()) continue;
    TimelineEvent event;
    event.line = LoadContext::line_of(node[i]);
    const bool timed = r.read_duration("at", event.at, Need::required, ZeroIs::allowed);
    std::string action;
    if (!r.read_string("action", action, Need::required)) {
      all_valid = false;
      continue;
    }
    const auto spec = std::find_if(actions().begin(), actions().end(), [&](const ActionSpec& a) { return a.name == action; });
    if (spec == actions().end()) {
      ctx.error(*r.find("action"), r.field("action"), "unknown action '" + action + "'" + suggestion_suffix(action, action_names()));
      all_valid = false;
      continue;
    }
    event.action = action;
    std::vector<std::string> allowed = {"at", "action"};
    for (const ArgSpec& arg : spec->args) allowed.push_back(arg.name);
    r.check_keys(allowed, " for action '" + action + "'");
    bool valid = timed;
    for (const ArgSpec& arg : spec->args) {
      const YAML::Node* value = arg.required ? r.require(arg.name, "an argument of " + action) : r.find(arg.name);
      if (value == nullptr) {
        valid = valid && !arg.required;
        continue;
      }
      std::string text;
      if (read_arg(ctx, *value, r.field(arg.name), arg, index, text)) event.args[arg.name] = text;
      else valid = false;
    }
    if (timed && index.duration_valid && event.at > s.duration) {
      ctx.warning(*r.find("at"), r.field("at"),
                  "event at " + sim::to_string(event.at) + " is after the end of the run (duration " + sim::to_string(s.duration) +
                      ") and will not happen");
    }
    all_valid = all_valid && valid;
    if (valid) events.push_back({std::move(event), i});
  }
  std::stable_sort(events.begin(), events.end(), [](const PendingEvent& a, const PendingEvent& b) { return a.event.at < b.event.at; });
  // State checks only make sense when every event could be read.
  if (all_valid) check_sequence(ctx, node, events, s);
  for (PendingEvent& e : events) s.timeline.push_back(std::move(e.event));
}

}  // namespace scenarios::detail
