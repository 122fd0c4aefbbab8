// The run extension of the modelled control plane: when the scenario has a `control_plane`
// section it replaces World::control_plane with a SimulatedControlPlane (the real controller
// service and agents over the simulated management network), implements the policy and
// control-plane timeline actions, and writes /convergence, /control, /control_messages,
// /control_ports and /control_ip_sets (docs/results.md).

#include "control_plane_sim_extension.h"

#include <algorithm>
#include <sstream>

#include "control_plane_sim.h"

namespace scenarios {
namespace {

using analysis::Column;

// The actions this extension implements (docs/scenario.md, timeline).
const std::vector<std::string>& action_names() {
  static const std::vector<std::string> kNames = {"set_rule_action", "set_default_action", "relabel",
                                                  "fail_controller", "recover_controller", "partition_hosts",
                                                  "heal_partition",  "restart_agent"};
  return kNames;
}

bool find_vm(const World& w, const std::string& name, models::VmIndex& out, std::string& error) {
  for (models::VmIndex v = 0; v < w.vms.size(); ++v) {
    if (w.vms[v].name == name) {
      out = v;
      return true;
    }
  }
  error = "unknown VM '" + name + "'";
  return false;
}

bool find_host(const World& w, const std::string& name, uint32_t& out, std::string& error) {
  for (uint32_t h = 0; h < w.hosts.size(); ++h) {
    if (w.hosts[h]->name() == name) {
      out = h;
      return true;
    }
  }
  error = "unknown host '" + name + "'";
  return false;
}

bool arg(const TimelineEvent& e, const std::string& key, std::string& out, std::string& error) {
  auto it = e.args.find(key);
  if (it == e.args.end() || it->second.empty()) {
    error = "missing argument '" + key + "'";
    return false;
  }
  out = it->second;
  return true;
}

bool verdict(const TimelineEvent& e, dfw::Action& out, std::string& error) {
  std::string text;
  if (!arg(e, "verdict", text, error)) return false;
  if (text != "allow" && text != "drop" && text != "reject") {
    error = "verdict: invalid value '" + text + "' (expected one of allow, drop, reject)";
    return false;
  }
  return controller::parse_action(text, out);
}

// "k=v,k=v" as the loader writes a label map.
bool labels(const TimelineEvent& e, controller::Labels& out, std::string& error) {
  std::string text;
  if (!arg(e, "labels", text, error)) return false;
  std::stringstream in(text);
  std::string item;
  while (std::getline(in, item, ',')) {
    const auto eq = item.find('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == item.size()) {
      error = "labels: expected key=value pairs separated by commas, got '" + text + "'";
      return false;
    }
    out[item.substr(0, eq)] = item.substr(eq + 1);
  }
  if (out.empty()) {
    error = "labels: no labels given";
    return false;
  }
  return true;
}

uint64_t percentile(std::vector<int64_t> values, double p) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  const std::size_t rank = static_cast<std::size_t>(p * static_cast<double>(values.size() - 1) + 0.5);
  return static_cast<uint64_t>(values[std::min(rank, values.size() - 1)]);
}

std::string millis(uint64_t ns) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3f ms", static_cast<double>(ns) / 1e6);
  return buf;
}

class ControlPlaneSimExtension final : public RunExtension {
 public:
  ControlPlaneSimExtension(RunContext& context, SimulatedControlPlane& cp) : context_(context), cp_(cp) {}

  void register_actions(ActionTable& actions) override {
    World& w = context_.world;
    actions.add("set_rule_action", [this](const TimelineEvent& e, std::string& error) {
      std::string rule;
      dfw::Action action;
      return arg(e, "rule", rule, error) && verdict(e, action, error) && cp_.set_rule_action(rule, action, error);
    });
    actions.add("set_default_action", [this](const TimelineEvent& e, std::string& error) {
      dfw::Action action;
      return verdict(e, action, error) && cp_.set_default_action(action, error);
    });
    actions.add("relabel", [this, &w](const TimelineEvent& e, std::string& error) {
      std::string name;
      models::VmIndex vm;
      controller::Labels l;
      return arg(e, "vm", name, error) && find_vm(w, name, vm, error) && labels(e, l, error) &&
             cp_.relabel(vm, std::move(l), error);
    });
    actions.add("fail_controller", [this](const TimelineEvent&, std::string& error) {
      return cp_.fail_controller(error);
    });
    actions.add("recover_controller", [this](const TimelineEvent&, std::string& error) {
      return cp_.recover_controller(error);
    });
    actions.add("partition_hosts", [this, &w](const TimelineEvent& e, std::string& error) {
      std::string list;
      if (!arg(e, "hosts", list, error)) return false;
      std::vector<uint32_t> hosts;
      std::stringstream in(list);
      std::string name;
      while (std::getline(in, name, ',')) {
        uint32_t h;
        if (!find_host(w, name, h, error)) return false;
        hosts.push_back(h);
      }
      cp_.partition(hosts);
      return true;
    });
    actions.add("heal_partition", [this](const TimelineEvent&, std::string&) {
      cp_.heal_partition();
      return true;
    });
    actions.add("restart_agent", [this, &w](const TimelineEvent& e, std::string& error) {
      std::string name;
      uint32_t h;
      if (!arg(e, "host", name, error) || !find_host(w, name, h, error)) return false;
      const auto it = e.args.find("connections");
      const std::string mode = it == e.args.end() ? "keep" : it->second;
      if (mode != "keep" && mode != "flush") {
        error = "connections: invalid value '" + mode + "' (expected one of keep, flush)";
        return false;
      }
      cp_.restart_agent(h, mode == "flush");
      return true;
    });
  }

  void start() override { cp_.start(); }

  bool finish(analysis::ResultWriter& writer, RunSummary& summary, std::string& error) override {
    cp_.finish();
    return write_convergence(writer, summary, error) && write_control(writer, summary, error) &&
           write_ports(writer, error);
  }

 private:
  bool write_convergence(analysis::ResultWriter& writer, RunSummary& summary, std::string& error) {
    std::vector<std::string> change, kind;
    std::vector<int64_t> at, applied, enforced, converged, convergence, compute;
    std::vector<uint64_t> ports, hosts, messages, bytes;
    std::vector<int64_t> converged_times;
    int64_t compute_wall = 0;
    for (const ConvergenceRow& r : cp_.convergence()) {
      change.push_back(r.change);
      kind.push_back(r.kind);
      at.push_back(r.at_ns);
      applied.push_back(r.applied_ns);
      enforced.push_back(r.enforced_ns);
      converged.push_back(r.converged_ns);
      convergence.push_back(r.converged_ns >= 0 ? r.converged_ns - r.at_ns : -1);
      if (r.converged_ns >= 0) converged_times.push_back(r.converged_ns - r.at_ns);
      // The controller's computation takes no simulated time in this model (its measured CPU
      // time would make results differ between runs): 0 here, the wall-clock total in /meta/wall.
      compute.push_back(0);
      compute_wall += r.compute_wall_ns;
      ports.push_back(r.ports_impacted);
      hosts.push_back(r.hosts_impacted);
      messages.push_back(r.messages);
      bytes.push_back(r.bytes);
    }
    writer.set_wall("controller_compute_ns", compute_wall);
    const std::size_t n = change.size();
    const uint64_t p50 = percentile(converged_times, 0.5);
    const uint64_t max = converged_times.empty() ? 0 : percentile(converged_times, 1.0);
    summary.extra.push_back({"policy_changes", "changes", uint64_t(n)});
    summary.extra.push_back({"changes_not_converged", "changes", uint64_t(n - converged_times.size())});
    summary.extra.push_back({"convergence_p50_ns", "ns", p50});
    summary.extra.push_back({"convergence_max_ns", "ns", max});
    summary.extra.push_back({"stale_policy_packets", "packets", cp_.stale_packets()});
    std::string line = "policy        " + std::to_string(n) + " changes";
    if (!converged_times.empty()) line += ", converged p50 " + millis(p50) + " max " + millis(max);
    if (converged_times.size() < n) line += ", " + std::to_string(n - converged_times.size()) + " not converged";
    summary.report_lines.push_back(line);
    return writer.write_table("/convergence",
                              {{"change", "1", std::move(change)},
                               {"kind", "1", std::move(kind)},
                               {"at_ns", "ns", std::move(at)},
                               {"converged_ns", "ns", std::move(converged)},
                               {"convergence_ns", "ns", std::move(convergence)},
                               {"ports_impacted", "ports", std::move(ports)},
                               {"hosts_impacted", "hosts", std::move(hosts)},
                               {"messages", "messages", std::move(messages)},
                               {"bytes", "bytes", std::move(bytes)},
                               {"compute_ns", "ns", std::move(compute)},
                               {"applied_ns", "ns", std::move(applied)},
                               {"enforced_ns", "ns", std::move(enforced)}},
                              error);
  }

  bool write_control(analysis::ResultWriter& writer, RunSummary& summary, std::string& error) {
    World& w = context_.world;
    const models::MgmtNetwork& net = cp_.network();
    std::vector<std::string> host;
    std::vector<uint64_t> sent, sent_bytes, received, received_bytes, retransmitted, held, connections,
        disconnections, snapshots, deltas, errors, restarts, generation;
    for (uint32_t h = 0; h < w.hosts.size(); ++h) {
      const models::MgmtNodeStats& s = net.stats(cp_.host_node(h));
      const agent::AgentStatus& a = cp_.agent(h).status();
      const AgentRecord& r = cp_.agent_records()[h];
      host.push_back(w.hosts[h]->name());
      sent.push_back(s.messages_sent);
      sent_bytes.push_back(s.bytes_sent);
      received.push_back(s.messages_received);
      received_bytes.push_back(s.bytes_received);
      retransmitted.push_back(s.segments_retransmitted);
      held.push_back(s.messages_held);
      connections.push_back(r.connections + a.connections);
      disconnections.push_back(r.disconnections + a.disconnections);
      snapshots.push_back(r.snapshots + a.snapshots_applied);
      deltas.push_back(r.deltas + a.deltas_applied);
      errors.push_back(r.apply_errors + a.apply_errors);
      restarts.push_back(r.restarts);
      generation.push_back(a.applied_generation);
    }
    if (!writer.write_table("/control",
                            {{"host", "1", std::move(host)},
                             {"messages_sent", "messages", std::move(sent)},
                             {"bytes_sent", "bytes", std::move(sent_bytes)},
                             {"messages_received", "messages", std::move(received)},
                             {"bytes_received", "bytes", std::move(received_bytes)},
                             {"segments_retransmitted", "segments", std::move(retransmitted)},
                             {"messages_held", "messages", std::move(held)},
                             {"connections", "connections", std::move(connections)},
                             {"disconnections", "connections", std::move(disconnections)},
                             {"snapshots_applied", "messages", std::move(snapshots)},
                             {"deltas_applied", "messages", std::move(deltas)},
                             {"apply_errors", "messages", std::move(errors)},
                             {"restarts", "restarts", std::move(restarts)},
                             {"applied_generation", "1", std::move(generation)}},
                            error)) {
      return false;
    }
    // By message type, as the controller counted them (all incarnations).
    const controller::MessageTotals& t = cp_.totals();
    std::vector<std::string> direction, type;
    std::vector<uint64_t> messages, bytes;
    uint64_t total_messages = 0, total_bytes = 0;
    using Counts = std::map<std::string, uint64_t>;
    auto add = [&](const char* dir, const Counts& m, const Counts& b) {
      for (const auto& [name, count] : m) {
        direction.push_back(dir);
        type.push_back(name);
        messages.push_back(count);
        const auto it = b.find(name);
        bytes.push_back(it == b.end() ? 0 : it->second);
        total_messages += count;
        total_bytes += bytes.back();
      }
    };
    add("to_agents", t.messages_sent, t.bytes_sent);
    add("from_agents", t.messages_received, t.bytes_received);
    summary.extra.push_back({"control_messages", "messages", total_messages});
    summary.extra.push_back({"control_bytes", "bytes", total_bytes});
    return writer.write_table("/control_messages",
                              {{"direction", "1", std::move(direction)},
                               {"type", "1", std::move(type)},
                               {"messages", "messages", std::move(messages)},
                               {"bytes", "bytes", std::move(bytes)}},
                              error);
  }

  // Rules per port (and so per host) as enforced at the end, and the controller's IP sets.
  bool write_ports(analysis::ResultWriter& writer, std::string& error) {
    World& w = context_.world;
    std::vector<std::string> vm, host;
    std::vector<uint64_t> version, rules, desired;
    for (models::VmIndex v = 0; v < w.vms.size(); ++v) {
      const uint32_t h = w.vms[v].host;
      if (h >= w.hosts.size() || !w.hosts[h]->has_vm(v)) continue;
      const dfw::RuleTable* t = w.hosts[h]->datapath().rules(v);
      vm.push_back(w.vms[v].name);
      host.push_back(w.hosts[h]->name());
      version.push_back(t ? dfw::rule_table_version(*t) : 0);
      rules.push_back(t ? dfw::rule_table_rule_count(*t) : 0);
      desired.push_back(cp_.desired_version(v));
    }
    if (!writer.write_table("/control_ports",
                            {{"vm", "1", std::move(vm)},
                             {"host", "1", std::move(host)},
                             {"version", "1", std::move(version)},
                             {"desired_version", "1", std::move(desired)},
                             {"rules", "rules", std::move(rules)}},
                            error)) {
      return false;
    }
    std::vector<std::string> names;
    std::vector<uint64_t> prefixes;
    if (const controller::ControllerService* s = cp_.service()) {
      for (const std::string& name : s->controller().ip_set_names()) {
        names.push_back(name);
        const auto* set = s->controller().ip_set(name);
        prefixes.push_back(set ? set->size() : 0);
      }
    }
    return writer.write_table("/control_ip_sets",
                              {{"name", "1", std::move(names)}, {"prefixes", "prefixes", std::move(prefixes)}}, error);
  }

  RunContext& context_;
  SimulatedControlPlane& cp_;
};

}  // namespace

bool add_control_plane_sim(RunContext& context, std::vector<std::unique_ptr<RunExtension>>& out, std::string& error,
                           int& exit_code) {
  const Scenario& s = context.scenario;
  if (!s.control_plane.enabled) {
    for (const TimelineEvent& e : s.timeline) {
      if (std::find(action_names().begin(), action_names().end(), e.action) == action_names().end()) continue;
      error = "timeline" + (e.line > 0 ? " (line " + std::to_string(e.line) + ")" : std::string()) + ": " + e.action +
              " needs a modelled control plane: add a `control_plane:` section (docs/scenario.md)";
      exit_code = 2;
      return false;
    }
    return true;
  }
  auto cp = SimulatedControlPlane::create(s, context.world, context.annotations, error);
  if (!cp) {
    exit_code = 2;
    return false;
  }
  SimulatedControlPlane& ref = *cp;
  context.world.control_plane = std::move(cp);
  out.push_back(std::make_unique<ControlPlaneSimExtension>(context, ref));
  return true;
}

}  // namespace scenarios
