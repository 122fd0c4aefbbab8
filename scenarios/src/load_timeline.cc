// timeline: events at given simulated times (migrations, failures, policy changes). Each action
// has a fixed set of arguments, written inline next to `at` and `action`.

#include <algorithm>
#include <cctype>
#include <set>
#include <sstream>

#include "addresses.h"

#include "scenarios/units_parse.h"
#include "sections.h"
#include "suggest.h"

namespace scenarios::detail {
namespace {

enum class ArgKind { vm, host, host_list, link, switch_name, rule, duration, probability, choice, labels, size, rate, rate_or_zero,
                     name, ipv4, ipv6, mac };

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
      // Scale out / in (docs/scenario.md). Names, groups and label keys are checked against the
      // VMs present at the event's time by check_sequence.
      {"add_vm",
       {{"name", ArgKind::name, false},
        {"group", ArgKind::name, false},
        {"host", ArgKind::host, true},
        {"labels", ArgKind::labels, false},
        {"ipv4", ArgKind::ipv4, false},
        {"ipv6", ArgKind::ipv6, false},
        {"mac", ArgKind::mac, false},
        {"vnic_rate", ArgKind::rate, false}}},
      {"remove_vm", {{"vm", ArgKind::name, true}}},
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
    case ArgKind::name: {
      const bool ok = !out.empty() && out.size() <= 63 && std::all_of(out.begin(), out.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.';
      });
      if (!ok) ctx.error(value, path, "invalid name '" + out + "' (expected letters, digits, '-', '_', '.', at most 63 characters)");
      return ok;
    }
    case ArgKind::ipv4:
      if (parse_ipv4(out)) return true;
      ctx.error(value, path, "invalid IPv4 address '" + out + "' (expected e.g. 10.0.0.5)");
      return false;
    case ArgKind::ipv6:
      if (is_valid_ipv6(out)) return true;
      ctx.error(value, path, "invalid IPv6 address '" + out + "' (expected e.g. fd00::5)");
      return false;
    case ArgKind::mac: {
      const auto mac = parse_mac(out);
      if (!mac) ctx.error(value, path, "invalid MAC address '" + out + "' (expected e.g. 02:00:00:00:00:01)");
      else if ((*mac >> 40) & 1) ctx.error(value, path, "'" + out + "' is a multicast MAC address (expected a unicast address)");
      return mac && !((*mac >> 40) & 1);
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

// The VMs present as the timeline goes (scale out / in): names never reused within a run,
// auto names group-N, label keys the policy knows, explicit addresses unique.
class ScaleState {
 public:
  explicit ScaleState(const Scenario& s) {
    for (const VmSpec& vm : s.vms) {
      ever_.insert(vm.name);
      present_.insert(vm.name);
      if (!vm.ipv4.empty()) ipv4_.insert(vm.ipv4);
      if (!vm.mac.empty()) mac_.insert(vm.mac);
      if (!vm.group.empty()) groups_.insert(vm.group);
      for (const auto& [key, value] : vm.labels) keys_.insert(key);
    }
    for (const char* key : {"role", "app", "env", "loc"}) keys_.insert(key);
  }

  // An empty string, or what is wrong with this add_vm.
  std::string add(const std::map<std::string, std::string>& a, const std::set<std::string>& failed_hosts) {
    const auto get = [&](const char* key) { return a.count(key) ? a.at(key) : std::string(); };
    std::string name = get("name");
    const std::string group = get("group");
    if (name.empty() && group.empty()) return "add_vm needs a `name` or a `group` (whose next free name group-N is used)";
    if (!group.empty() && !groups_.count(group)) {
      std::string known;
      for (const std::string& g : groups_) known += (known.empty() ? "" : ", ") + g;
      return "unknown group '" + group + "' (" + (known.empty() ? "the scenario has no VM groups" : "groups: " + known) + ")";
    }
    if (name.empty()) {
      for (uint64_t n = 0; name.empty(); ++n)
        if (!ever_.count(group + "-" + std::to_string(n))) name = group + "-" + std::to_string(n);
    }
    if (ever_.count(name)) return "duplicate VM name '" + name + "' (names are not reused within a run)";
    if (failed_hosts.count(get("host"))) return "host '" + get("host") + "' is down";
    if (a.count("labels")) {
      std::stringstream in(a.at("labels"));
      std::string item;
      while (std::getline(in, item, ',')) {
        const std::string key = item.substr(0, item.find('='));
        if (keys_.count(key)) continue;
        std::string known;
        for (const std::string& k : keys_) known += (known.empty() ? "" : ", ") + k;
        return "unknown label key '" + key + "' (the policy knows " + known + ")";
      }
    }
    if (a.count("ipv4") && !ipv4_.insert(a.at("ipv4")).second) return "duplicate IP address " + a.at("ipv4");
    if (a.count("mac") && !mac_.insert(a.at("mac")).second) return "duplicate MAC address " + a.at("mac");
    ever_.insert(name);
    present_.insert(name);
    return {};
  }

  std::string remove(const std::map<std::string, std::string>& a) {
    const std::string& name = a.at("vm");
    if (present_.erase(name)) return {};
    if (ever_.count(name)) return "VM '" + name + "' was removed before";
    return "unknown VM '" + name + "'" +
           suggestion_suffix(name, std::vector<std::string>(present_.begin(), present_.end()));
  }

 private:
  std::set<std::string> ever_, present_, ipv4_, mac_, groups_, keys_;
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
  ScaleState scale(s);
  for (const PendingEvent& e : events) {
    const auto& a = e.event.args;
    const std::string& action = e.event.action;
    if (action == "add_vm" || action == "remove_vm") {
      const std::string problem = action == "add_vm" ? scale.add(a, failed_hosts) : scale.remove(a);
      if (!problem.empty()) report(e, problem + " at " + sim::to_string(e.event.at));
    } else if (action == "migrate" && a.count("vm") && a.count("to")) {
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
