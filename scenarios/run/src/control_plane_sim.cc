#include "control_plane_sim.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>

#include "policy_bridge.h"
#include "scale.h"

namespace scenarios {
namespace {

// The controller's address on the management network (its node's name).
constexpr const char* kControllerNode = "controller";

models::MgmtLinkParams host_link(const ControlPlaneSpec& c) {
  models::MgmtLinkParams p;
  p.latency = c.latency;
  p.bandwidth = c.bandwidth;
  p.loss = c.loss;
  p.rto = c.rto;
  return p;
}

models::MgmtLinkParams controller_link(const ControlPlaneSpec& c) {
  models::MgmtLinkParams p;
  p.latency = c.controller_latency;
  p.bandwidth = c.controller_bandwidth;
  p.loss = 0;  // the controller's own link is a datacenter-internal, redundant path
  p.rto = c.rto;
  return p;
}

}  // namespace

SimulatedControlPlane::SimulatedControlPlane(const Scenario& scenario, World& world, Annotations& annotations)
    : scenario_(scenario),
      world_(world),
      annotations_(annotations),
      controller_entity_(world.kernel.add_entity("controller")),
      clock_(world.kernel),
      timers_(world.kernel, controller_entity_),
      log_(world.kernel) {}

SimulatedControlPlane::~SimulatedControlPlane() {
  // Agents and the service close their connections; the network goes last.
  agents_.clear();
  service_.reset();
  listener_.reset();
  connectors_.clear();
  drivers_.clear();
}

std::unique_ptr<SimulatedControlPlane> SimulatedControlPlane::create(const Scenario& scenario, World& world,
                                                                     Annotations& annotations, std::string& error) {
  std::unique_ptr<SimulatedControlPlane> cp(new SimulatedControlPlane(scenario, world, annotations));
  const ControlPlaneSpec& c = scenario.control_plane;
  models::MgmtTransportParams transport;
  transport.connect_timeout = c.connect_timeout;
  transport.user_timeout = c.transport_timeout;
  cp->network_ = std::make_unique<models::MgmtNetwork>(world.kernel, transport);
  cp->controller_node_ = cp->network_->add_node(kControllerNode, controller_link(c));
  // A recovered controller's acks arrive as messages: that is when its full sync completes.
  SimulatedControlPlane* self = cp.get();
  cp->network_->set_delivery_observer([self](models::MgmtNetwork::NodeId to, models::MgmtNetwork::NodeId) {
    if (to == self->controller_node_ && !self->resync_rows_.empty()) self->check_resync_rows();
  });
  for (const auto& host : world.hosts) cp->host_nodes_.push_back(cp->network_->add_node(host->name(), host_link(c)));

  // The intent starts as the world's controller has it (the scenario's policy and VMs).
  cp->policy_ = world.controller->policy();
  for (models::VmIndex v = 0; v < world.vms.size(); ++v) {
    const controller::Workload* w = world.controller->workload(v);
    if (!w) {
      error = "control_plane: vm " + world.vms[v].name + " is unknown to the controller";
      return nullptr;
    }
    cp->workloads_.push_back(*w);
  }
  cp->workload_present_.assign(world.vms.size(), true);
  cp->prepared_host_.assign(world.vms.size(), -1);
  cp->prepared_change_.assign(world.vms.size(), {0, 0});
  if (!cp->start_service(error)) return nullptr;

  for (std::size_t h = 0; h < world.hosts.size(); ++h) {
    models::Host& host = *world.hosts[h];
    cp->connectors_.push_back(cp->network_->connector(cp->host_nodes_[h]));
    cp->drivers_.push_back(std::make_unique<dfw::DatapathDriver>(host.datapath(), host.env()));
    cp->agents_.push_back(nullptr);
  }
  cp->records_.resize(world.hosts.size());
  for (uint32_t h = 0; h < world.hosts.size(); ++h) cp->agents_[h] = cp->make_agent(h);
  return cp;
}

bool SimulatedControlPlane::start_service(std::string& error) {
  controller::Status status;
  // A recovered controller resumes from its durable version record (docs/control-plane.md,
  // "Controller restart"): versions never go back, so stale windows stay visible across restarts.
  std::unique_ptr<controller::Controller> computed =
      durable_ ? controller::Controller::resume(policy_, workloads(), *durable_, status)
               : controller::Controller::create(policy_, workloads(), status);
  if (!computed) {
    error = "control_plane: the controller refused the policy: " + status.message();
    return false;
  }
  listener_ = network_->listen(controller_node_);
  controller::ServiceConfig config;
  config.heartbeat_interval = scenario_.control_plane.heartbeat_interval.ns();
  config.missed_heartbeats = scenario_.control_plane.missed_heartbeats;
  service_ = std::make_unique<controller::ControllerService>(
      std::move(computed), *listener_, controller::ServiceEnv{clock_, timers_, log_, metrics_}, config);
  ++epoch_;
  service_->set_convergence_listener([this](const controller::ChangeRecord& r) { on_converged(r); });
  specs_.record(service_->controller());
  return true;
}

std::vector<controller::Workload> SimulatedControlPlane::workloads() const {
  std::vector<controller::Workload> out;
  for (std::size_t v = 0; v < workloads_.size(); ++v)
    if (workload_present_[v]) out.push_back(workloads_[v]);
  return out;
}

std::unique_ptr<agent::Agent> SimulatedControlPlane::make_agent(uint32_t h) {
  const ControlPlaneSpec& c = scenario_.control_plane;
  models::Host& host = *world_.hosts[h];
  agent::AgentConfig config;
  config.host = host.name();
  config.controller_address = kControllerNode;
  config.heartbeat_interval = c.heartbeat_interval.ns();
  config.missed_heartbeats = c.missed_heartbeats;
  config.stats_interval = 0;  // port statistics are read from the datapath directly
  config.reconnect_initial = c.reconnect_interval.ns();
  config.reconnect_max = std::max<int64_t>(c.reconnect_interval.ns(), 5'000'000'000);
  config.manage_ports = false;  // the host model attaches and removes ports
  platform::Env& env = host.env();
  auto a = std::make_unique<agent::Agent>(std::move(config), *drivers_[h], *connectors_[h],
                                          agent::AgentEnv{env.clock, env.timers, env.log, env.metrics});
  a->set_status_listener([this, h](const agent::AgentStatus& s) { on_agent_status(h, s); });
  return a;
}

void SimulatedControlPlane::start() {
  for (auto& a : agents_) a->start();
}

void SimulatedControlPlane::later(Done done) {
  if (!done) return;
  auto holder = std::make_shared<Done>(std::move(done));
  world_.kernel.schedule(sim::Time::zero(), sim::kWorld, [holder] { (*holder)(); });
}

void SimulatedControlPlane::annotate(AnnotationKind kind, std::vector<std::pair<std::string, AnnotationValue>> fields) {
  if (annotations_.wants(kind)) annotations_.emit({world_.kernel.now().ns(), kind, std::move(fields)});
}

// --- changes ---

bool SimulatedControlPlane::change(
    std::string label, std::string kind,
    const std::function<controller::ChangeId(controller::ControllerService&, controller::Status&)>& apply,
    std::string& error, std::vector<Done> done) {
  ConvergenceRow row;
  row.change = std::move(label);
  row.kind = std::move(kind);
  row.at_ns = world_.kernel.now().ns();
  if (!service_) {
    // The controller is down: the intent already holds the change; the recovered controller's
    // full sync carries it (check_resync_rows).
    rows_.push_back(std::move(row));
    resync_rows_.push_back(rows_.size() - 1);
    for (Done& d : done) later(std::move(d));  // nothing to wait for that can be waited on
    annotate(AnnotationKind::kPolicyChange, {{"change", rows_.back().change}, {"controller", std::string("down")}});
    return true;
  }
  controller::Status status;
  const controller::ChangeId id = apply(*service_, status);
  if (id == 0) {
    error = "the controller refused the change: " + status.message();
    return false;
  }
  rows_.push_back(std::move(row));
  const std::size_t index = rows_.size() - 1;
  row_by_change_[{epoch_, id}] = index;
  track(rows_[index], id);
  specs_.record(service_->controller());
  annotate(AnnotationKind::kPolicyChange, {{"change", rows_[index].change},
                                           {"kind", rows_[index].kind},
                                           {"ports_impacted", int64_t(rows_[index].ports_impacted)}});
  open_stale_windows();
  const controller::ChangeRecord* r = service_->change(id);
  if (r && r->converged()) {
    on_converged(*r);  // impacted nothing (or converged at once): the listener ran before we knew the id
    for (Done& d : done) later(std::move(d));
  } else {
    for (Done& d : done)
      if (d) done_by_change_[{epoch_, id}].push_back(std::move(d));
  }
  return true;
}

void SimulatedControlPlane::track(ConvergenceRow& row, controller::ChangeId id) {
  const controller::ChangeRecord* r = service_->change(id);
  if (!r) return;
  row.epoch = epoch_;
  row.id = id;
  row.kind = r->kind;
  row.applied_ns = r->at_ns;
  row.generation = r->generation;
  row.ports_impacted = r->ports_impacted;
  row.hosts_impacted = r->hosts_impacted;
  row.compute_wall_ns = r->compute_ns;
  row.not_enforced.insert(r->pending_hosts.begin(), r->pending_hosts.end());
  if (row.not_enforced.empty()) row.enforced_ns = r->at_ns;
}

void SimulatedControlPlane::on_converged(const controller::ChangeRecord& record) {
  auto it = row_by_change_.find({epoch_, record.id});
  if (it != row_by_change_.end()) {
    ConvergenceRow& row = rows_[it->second];
    if (row.converged_ns < 0) {
      row.converged_ns = record.converged_ns;
      row.messages = record.messages;
      row.bytes = record.bytes;
      if (row.enforced_ns < 0) row.enforced_ns = record.converged_ns;  // acks follow installs
      annotate(AnnotationKind::kConverged, {{"change", row.change},
                                            {"convergence_ns", int64_t(row.converged_ns - row.at_ns)},
                                            {"messages", int64_t(row.messages)},
                                            {"bytes", int64_t(row.bytes)}});
    }
  }
  auto d = done_by_change_.find({epoch_, record.id});
  if (d != done_by_change_.end()) {
    std::vector<Done> done = std::move(d->second);
    done_by_change_.erase(d);
    for (Done& fn : done) later(std::move(fn));
  }
  check_converged_rules();
}

void SimulatedControlPlane::on_agent_status(uint32_t host, const agent::AgentStatus& status) {
  const std::string& name = world_.hosts[host]->name();
  const int64_t now = world_.kernel.now().ns();
  for (ConvergenceRow& row : rows_) {
    if (row.epoch != epoch_ || row.enforced_ns >= 0 || !row.not_enforced.count(name)) continue;
    if (status.applied_generation >= row.generation) {
      row.not_enforced.erase(name);
      if (row.not_enforced.empty()) row.enforced_ns = now;
    }
  }
  close_stale_windows(host);
  check_resync_rows();
}

// Changes made while the controller was down (or still open when it died) converge when the
// recovered controller has every host's agent synced to its first generation.
void SimulatedControlPlane::check_resync_rows() {
  if (resync_rows_.empty() || !service_) return;
  const uint64_t generation = service_->controller().generation();
  for (const auto& host : world_.hosts) {
    const controller::AgentInfo* info = service_->agent(host->name());
    if (!info || info->acked_generation < generation) return;
  }
  const int64_t now = world_.kernel.now().ns();
  for (std::size_t index : resync_rows_) {
    ConvergenceRow& row = rows_[index];
    row.converged_ns = now;
    if (row.enforced_ns < 0) row.enforced_ns = now;
    annotate(AnnotationKind::kConverged, {{"change", row.change}, {"convergence_ns", int64_t(now - row.at_ns)}});
  }
  resync_rows_.clear();
  check_converged_rules();
}

bool SimulatedControlPlane::set_rule_action(const std::string& rule, dfw::Action action, std::string& error) {
  auto it = std::find_if(policy_.rules.begin(), policy_.rules.end(),
                         [&](const controller::Rule& r) { return r.name == rule; });
  if (it == policy_.rules.end()) {
    error = "unknown rule '" + rule + "'";
    return false;
  }
  it->action = action;
  const std::string label = "set_rule_action " + rule + " " + std::string(controller::action_name(action));
  return change(label, "policy", [&](controller::ControllerService& s, controller::Status& st) {
    return s.set_policy(policy_, st);
  }, error);
}

bool SimulatedControlPlane::set_default_action(dfw::Action action, std::string& error) {
  policy_.default_action = action;
  const std::string label = "set_default_action " + std::string(controller::action_name(action));
  return change(label, "policy", [&](controller::ControllerService& s, controller::Status& st) {
    return s.set_policy(policy_, st);
  }, error);
}

bool SimulatedControlPlane::relabel(models::VmIndex vm, controller::Labels labels, std::string& error) {
  if (vm >= workloads_.size()) {
    error = "unknown vm index " + std::to_string(vm);
    return false;
  }
  controller::Labels merged = workloads_[vm].labels;
  for (auto& [k, v] : labels) merged[k] = v;
  controller::Workload candidate = workloads_[vm];
  candidate.labels = merged;
  if (dfw::Status st = controller::validate_workload(policy_, candidate); !st) {
    error = "relabel " + world_.vms[vm].name + ": " + st.message();
    return false;
  }
  workloads_[vm].labels = merged;
  world_.vms[vm].labels = std::map<std::string, std::string>(merged.begin(), merged.end());
  if (!workload_present_[vm]) return true;  // takes effect when the VM comes back
  std::string text;
  for (const auto& [k, v] : labels) text += (text.empty() ? "" : ",") + k + "=" + v;
  return change("relabel " + world_.vms[vm].name + " " + text, "labels",
                [&](controller::ControllerService& s, controller::Status& st) { return s.set_labels(vm, merged, st); },
                error);
}

// --- ControlPlaneLink ---

void SimulatedControlPlane::prepare_port(models::VmIndex vm, uint32_t host, Done done) {
  workloads_[vm].host = world_.hosts[host]->name();
  prepared_host_[vm] = static_cast<int>(host);
  std::string error;
  const std::string label = "prepare " + world_.vms[vm].name + " on " + world_.hosts[host]->name();
  std::vector<Done> dones;
  dones.push_back(std::move(done));
  const std::size_t rows_before = rows_.size();
  change(label, "move_workload", [&](controller::ControllerService& s, controller::Status& st) {
    return s.move_workload(vm, workloads_[vm].host, st);
  }, error, std::move(dones));
  if (rows_.size() > rows_before) prepared_change_[vm] = {rows_.back().epoch, rows_.back().id};
}

dfw::RuleTablePtr SimulatedControlPlane::rules_on_host(models::VmIndex vm, uint32_t host) const {
  return agents_[host]->rules_for(vm);
}

void SimulatedControlPlane::workload_moved(models::VmIndex vm, uint32_t host, Done done) {
  const std::string& name = world_.hosts[host]->name();
  std::vector<Done> dones;
  dones.push_back(std::move(done));
  std::string error;
  if (!workload_present_[vm]) {
    // Back after a loss (HA restart): the controller learns it anew.
    workload_present_[vm] = true;
    workloads_[vm].host = name;
    controller::Workload w = workloads_[vm];
    change("restart " + world_.vms[vm].name + " on " + name, "add_workload",
           [&](controller::ControllerService& s, controller::Status& st) { return s.add_workload(w, st); }, error,
           std::move(dones));
  } else if (prepared_host_[vm] == static_cast<int>(host) && workloads_[vm].host == name) {
    agents_[host]->port_attached(vm);  // the agent holds the prepared rules, if they arrived
    const auto key = prepared_change_[vm];
    const controller::ChangeRecord* r = service_ && key.first == epoch_ ? service_->change(key.second) : nullptr;
    if (r && !r->converged()) {
      // Not there yet: the agent installs them on the new port when they arrive.
      for (Done& d : dones)
        if (d) done_by_change_[key].push_back(std::move(d));
    } else {
      for (Done& d : dones) later(std::move(d));
    }
  } else {
    workloads_[vm].host = name;
    change("move " + world_.vms[vm].name + " to " + name, "move_workload",
           [&](controller::ControllerService& s, controller::Status& st) { return s.move_workload(vm, name, st); },
           error, std::move(dones));
    agents_[host]->port_attached(vm);  // in case it already had them
  }
  prepared_host_[vm] = -1;
}

void SimulatedControlPlane::workload_lost(models::VmIndex vm) {
  if (!workload_present_[vm]) return;
  workload_present_[vm] = false;
  std::string error;
  change("lost " + world_.vms[vm].name, "remove_workload",
         [&](controller::ControllerService& s, controller::Status& st) { return s.remove_workload(vm, st); }, error);
}

ControlPlaneLink::Impact SimulatedControlPlane::workload_added(models::VmIndex vm, Done done) {
  if (vm >= workloads_.size()) {
    const std::size_t n = static_cast<std::size_t>(vm) + 1;
    workloads_.resize(n);
    workload_present_.resize(n, false);
    prepared_host_.resize(n, -1);
    prepared_change_.resize(n, {0, 0});
  }
  workloads_[vm] = workload_of(world_, vm);
  workload_present_[vm] = true;
  const uint32_t host = world_.vms[vm].host;
  std::vector<Done> dones;
  dones.push_back(std::move(done));
  std::string error;
  const std::size_t rows_before = rows_.size();
  const controller::Workload w = workloads_[vm];
  change("add_vm " + world_.vms[vm].name + " on " + world_.hosts[host]->name(), "add_workload",
         [&](controller::ControllerService& s, controller::Status& st) { return s.add_workload(w, st); }, error,
         std::move(dones));
  agents_[host]->port_attached(vm);  // the port exists: rules go on it as soon as they arrive
  if (rows_.size() == rows_before) return {};
  return Impact{rows_.back().ports_impacted, rows_.back().hosts_impacted};
}

ControlPlaneLink::Impact SimulatedControlPlane::workload_removed(models::VmIndex vm) {
  if (vm >= workload_present_.size() || !workload_present_[vm]) return {};
  workload_present_[vm] = false;
  std::string error;
  const std::size_t rows_before = rows_.size();
  change("remove_vm " + world_.vms[vm].name, "remove_workload",
         [&](controller::ControllerService& s, controller::Status& st) { return s.remove_workload(vm, st); }, error);
  close_stale_windows(world_.vms[vm].host);  // its own window (if any) ends with its port
  if (rows_.size() == rows_before) return {};
  return Impact{rows_.back().ports_impacted, rows_.back().hosts_impacted};
}

uint64_t SimulatedControlPlane::desired_version(models::VmIndex vm) const {
  if (service_) return service_->controller().port_version(vm);
  return 0;
}

const dfw::RuleSetSpec* SimulatedControlPlane::computed_spec(models::VmIndex vm, uint64_t version) const {
  if (const dfw::RuleSetSpec* spec = specs_.find(vm, version)) return spec;
  if (service_) specs_.record(service_->controller(), vm);
  return specs_.find(vm, version);
}

uint64_t SimulatedControlPlane::enforced_version(models::VmIndex vm) const {
  for (const auto& host : world_.hosts) {
    if (!host->has_vm(vm)) continue;
    const dfw::RuleTable* rules = host->datapath().rules(vm);
    return rules ? dfw::rule_table_version(*rules) : 0;
  }
  return 0;
}

// --- failures ---

void SimulatedControlPlane::accumulate_totals() {
  if (!service_) return;
  const controller::MessageTotals& t = service_->totals();
  auto add = [](std::map<std::string, uint64_t>& to, const std::map<std::string, uint64_t>& from) {
    for (const auto& [k, v] : from) to[k] += v;
  };
  add(totals_.messages_sent, t.messages_sent);
  add(totals_.bytes_sent, t.bytes_sent);
  add(totals_.messages_received, t.messages_received);
  add(totals_.bytes_received, t.bytes_received);
  totals_.agents_lost += t.agents_lost;
  totals_.rejected_connections += t.rejected_connections;
}

bool SimulatedControlPlane::fail_controller(std::string& error) {
  if (!service_) {
    error = "the controller is already down";
    return false;
  }
  // Changes still open die with this incarnation: the next one's full sync carries them.
  for (auto& [key, index] : row_by_change_) {
    if (key.first == epoch_ && rows_[index].converged_ns < 0) resync_rows_.push_back(index);
  }
  for (auto& [key, done] : done_by_change_)
    for (Done& d : done) later(std::move(d));
  done_by_change_.clear();
  accumulate_totals();
  // The durable record as the controller last wrote it: it writes it with every change before
  // sending the change's deltas, so reading it at the crash is the same as reading the store.
  durable_ = service_->controller().durable_versions();
  service_.reset();   // the process dies: its connections close (agents see the peer close)
  listener_.reset();  // and nothing listens: reconnects are refused until the recovery
  annotate(AnnotationKind::kFailure, {{"component", std::string("controller")}});
  return true;
}

bool SimulatedControlPlane::recover_controller(std::string& error) {
  if (service_) {
    error = "the controller is not down";
    return false;
  }
  if (!start_service(error)) return false;
  annotate(AnnotationKind::kRecovery, {{"component", std::string("controller")}});
  return true;
}

void SimulatedControlPlane::partition(const std::vector<uint32_t>& hosts) {
  for (uint32_t h : hosts) {
    network_->set_partitioned(host_nodes_[h], true);
    annotate(AnnotationKind::kFailure, {{"component", std::string("partition")}, {"host", world_.hosts[h]->name()}});
  }
}

void SimulatedControlPlane::heal_partition() {
  for (uint32_t h = 0; h < host_nodes_.size(); ++h) {
    if (!network_->partitioned(host_nodes_[h])) continue;
    network_->set_partitioned(host_nodes_[h], false);
    annotate(AnnotationKind::kRecovery, {{"component", std::string("partition")}, {"host", world_.hosts[h]->name()}});
  }
}

void SimulatedControlPlane::restart_agent(uint32_t host, bool flush_connections) {
  AgentRecord& rec = records_[host];
  const agent::AgentStatus& s = agents_[host]->status();
  rec.connections += s.connections;
  rec.disconnections += s.disconnections;
  rec.snapshots += s.snapshots_applied;
  rec.deltas += s.deltas_applied;
  rec.apply_errors += s.apply_errors;
  ++rec.restarts;
  agents_[host].reset();  // the process exits; the datapath keeps its tables (kernel module state)
  if (flush_connections) world_.hosts[host]->datapath().flush_all_connections();
  agents_[host] = make_agent(host);
  agents_[host]->start();
  annotate(AnnotationKind::kRecovery, {{"component", std::string("agent")},
                                       {"host", world_.hosts[host]->name()},
                                       {"connections", std::string(flush_connections ? "flush" : "keep")}});
}

// --- invariants ---

// Invariant 2 ("converged_rules_match"): when no change is open, every port enforces exactly
// what the controller computed for it: the same version, the same number of rules, and the very
// table its agent compiled from the controller's message.
void SimulatedControlPlane::check_converged_rules() {
  if (!service_ || !done_by_change_.empty() || !resync_rows_.empty()) return;
  for (const ConvergenceRow& row : rows_)
    if (row.epoch == epoch_ && row.converged_ns < 0) return;
  InvariantCount& c = world_.invariants["converged_rules_match"];
  const controller::Controller& computed = service_->controller();
  for (models::VmIndex v = 0; v < world_.vms.size(); ++v) {
    if (v >= workload_present_.size() || !workload_present_[v]) continue;
    const uint32_t h = world_.vms[v].host;
    if (h >= world_.hosts.size() || !world_.hosts[h]->has_vm(v)) continue;
    ++c.checked;
    const dfw::RuleTable* installed = world_.hosts[h]->datapath().rules(v);
    const dfw::RuleTablePtr held = agents_[h]->rules_for(v);
    std::string problem;
    if (!installed) {
      problem = "no rules installed";
    } else if (dfw::rule_table_version(*installed) != computed.port_version(v)) {
      problem = "enforces version " + std::to_string(dfw::rule_table_version(*installed)) + ", controller has " +
                std::to_string(computed.port_version(v));
    } else if (dfw::rule_table_rule_count(*installed) != computed.port_rule_count(v)) {
      problem = "enforces " + std::to_string(dfw::rule_table_rule_count(*installed)) + " rules, controller computed " +
                std::to_string(computed.port_rule_count(v));
    } else if (held.get() != installed) {
      problem = "enforces a table its agent did not install";
    }
    if (!problem.empty()) {
      c.violated("at " + sim::to_string(world_.kernel.now()) + ": vm " + world_.vms[v].name + " on " +
                 world_.hosts[h]->name() + ": " + problem);
      annotate(AnnotationKind::kInvariantViolation,
               {{"invariant", std::string("converged_rules_match")}, {"vm", world_.vms[v].name}, {"detail", problem}});
    }
  }
}

// Invariant 4 ("stale_policy_exposure", counts only): a port whose desired version moved past the
// one it enforces opens a window; packets its datapath allows until it catches up are counted.
void SimulatedControlPlane::open_stale_windows() {
  for (models::VmIndex v = 0; v < world_.vms.size(); ++v) {
    if (stale_.count(v) || v >= workload_present_.size() || !workload_present_[v]) continue;
    const uint32_t h = world_.vms[v].host;
    if (h >= world_.hosts.size() || !world_.hosts[h]->has_vm(v)) continue;
    if (enforced_version(v) == desired_version(v)) continue;
    const dfw::PortCounters* counters = world_.hosts[h]->datapath().port_counters(v);
    stale_[v] = StaleWindow{counters ? counters->allowed : 0, h};
    ++world_.invariants["stale_policy_exposure"].checked;
  }
  world_.invariants["stale_policy_exposure"].counts_only = true;
}

void SimulatedControlPlane::close_stale_windows(uint32_t host, bool all) {
  for (auto it = stale_.begin(); it != stale_.end();) {
    const models::VmIndex v = it->first;
    const StaleWindow w = it->second;
    const bool gone = !world_.hosts[w.host]->has_vm(v);
    if (!all && w.host != host && !gone) {
      ++it;
      continue;
    }
    if (!all && !gone && enforced_version(v) != desired_version(v)) {
      ++it;
      continue;
    }
    const dfw::PortCounters* counters = gone ? nullptr : world_.hosts[w.host]->datapath().port_counters(v);
    const uint64_t allowed =
        counters && counters->allowed >= w.allowed_at_open ? counters->allowed - w.allowed_at_open : 0;
    if (allowed > 0) {
      stale_packets_ += allowed;
      InvariantCount& c = world_.invariants["stale_policy_exposure"];
      c.violated("at " + sim::to_string(world_.kernel.now()) + ": vm " + world_.vms[v].name + " allowed " +
                 std::to_string(allowed) + " packets under a replaced policy version");
      c.violations += allowed - 1;  // one per packet
    }
    it = stale_.erase(it);
  }
}

uint64_t SimulatedControlPlane::stale_packets() const { return stale_packets_; }

void SimulatedControlPlane::finish() {
  close_stale_windows(0, true);
  accumulate_totals();
}

}  // namespace scenarios
