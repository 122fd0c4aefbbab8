// ControllerService: applying changes, sending Snapshots and Deltas, following convergence.
// The connection side (Hello, Ack, Heartbeat, loss) is in sessions.cc.

#include <algorithm>
#include <chrono>

#include "protocol/convert.h"
#include "service_state.h"

namespace controller {

namespace pb = protocol::pb;

ServiceState::ServiceState(std::unique_ptr<Controller> controller_in,
                           platform::ChannelListener& listener, ServiceEnv env, ServiceConfig config)
    : controller(std::move(controller_in)), listener_(listener), env_(env), config_(config) {
  for (WorkloadId port : controller->port_ids()) move_in_index(port, &controller->workload(port)->host);
  check_timer_ = env_.timers.create_timer([this] { check_heartbeats(); });
  listener_.set_accept_handler([this](platform::ConnectionPtr c) { accept(std::move(c)); });
}

void ServiceState::move_in_index(WorkloadId port, const std::string* new_host) {
  auto it = port_host_.find(port);
  if (it != port_host_.end()) {
    auto host_it = host_ports_.find(it->second);
    host_it->second.erase(port);
    if (host_it->second.empty()) host_ports_.erase(host_it);
    port_host_.erase(it);
  }
  if (new_host) {
    port_host_[port] = *new_host;
    host_ports_[*new_host].insert(port);
  }
}

namespace {

// Adds one port's rules to a message and returns the IP set names they use.
std::vector<std::string> add_port_rules(const Controller& controller, WorkloadId port,
                                        pb::PortRules* out) {
  dfw::RuleSetSpec spec = controller.port_spec(port);
  out->set_port(port);
  protocol::to_proto(spec, out->mutable_rules());
  return protocol::referenced_ip_sets(spec);
}

void add_ip_sets(const Controller& controller, const std::vector<std::string>& names,
                 google::protobuf::RepeatedPtrField<pb::IpSet>* out) {
  for (const std::string& name : names) {
    const std::vector<dfw::IpPrefix>* prefixes = controller.ip_set(name);
    // A name the rules use always resolves: the controller keeps a set while any rule names it.
    protocol::to_proto(name, prefixes ? *prefixes : std::vector<dfw::IpPrefix>{}, out->Add());
  }
}

}  // namespace

bool ServiceState::send_snapshot(Session& session, uint64_t* sent_size) {
  pb::ControlMessage message;
  pb::Snapshot* snapshot = message.mutable_snapshot();
  const uint64_t generation = controller->generation();
  snapshot->set_generation(generation);
  session.ip_sets.clear();
  session.ip_sets.begin();
  if (auto it = host_ports_.find(session.host); it != host_ports_.end()) {
    for (WorkloadId port : it->second) {
      session.ip_sets.set_port(port, add_port_rules(*controller, port, snapshot->add_ports()));
    }
  }
  std::vector<std::string> added, removed;
  session.ip_sets.end(added, removed);
  add_ip_sets(*controller, added, snapshot->mutable_ip_sets());

  uint64_t size = 0;
  if (!send(session, message, &size)) return false;
  if (sent_size) *sent_size = size;
  session.sent_generation = generation;
  session.snapshot_generation = generation;
  session.resync_pending = false;
  AgentInfo& agent = agents[session.host];
  agent.state = AgentState::kSyncing;
  agent.sent_generation = generation;
  ++agent.snapshots;
  // The snapshot carries every change still open for this host.
  for (ChangeId id : open_changes_) {
    ChangeRecord& record = changes[id - 1];
    if (std::binary_search(record.pending_hosts.begin(), record.pending_hosts.end(), session.host)) {
      ++record.messages;
      record.bytes += size;
    }
  }
  return true;
}

void ServiceState::send_deltas(const ChangeSet& change_set, ChangeRecord& record) {
  std::set<WorkloadId> touched(change_set.changed_ports.begin(), change_set.changed_ports.end());
  touched.insert(change_set.removed_ports.begin(), change_set.removed_ports.end());
  for (const ChangeSet::Move& move : change_set.moved_ports) touched.insert(move.port);
  const std::set<WorkloadId> changed(change_set.changed_ports.begin(), change_set.changed_ports.end());

  // Per host: the ports to (re)send and the ports to remove. A moved port leaves its old host
  // and arrives complete at its new one, whether or not its rules changed.
  struct HostDelta {
    std::vector<WorkloadId> removed;
    std::vector<WorkloadId> changed;
  };
  std::map<std::string, HostDelta> deltas;
  for (WorkloadId port : touched) {
    auto old_it = port_host_.find(port);
    const std::string* old_host = old_it == port_host_.end() ? nullptr : &old_it->second;
    const Workload* workload = controller->workload(port);
    const std::string* new_host = workload ? &workload->host : nullptr;
    const bool host_changed = (old_host == nullptr) != (new_host == nullptr) ||
                              (old_host && new_host && *old_host != *new_host);
    if (old_host && host_changed) deltas[*old_host].removed.push_back(port);
    if (new_host && (host_changed || changed.contains(port))) deltas[*new_host].changed.push_back(port);
    if (host_changed) move_in_index(port, new_host);
  }

  record.ports_impacted = touched.size();
  record.hosts_impacted = deltas.size();
  for (const auto& [host, delta] : deltas) record.pending_hosts.push_back(host);  // sorted

  std::vector<uint64_t> oversized;
  for (const auto& [host, host_delta] : deltas) {
    Session* session = session_for_host(host);
    if (!session) continue;  // it gets a snapshot when its agent (re)connects
    if (session->resync_pending) {
      // The agent waits for a Snapshot and would ignore a Delta: send the new state whole.
      uint64_t size = 0;
      if (send_snapshot(*session, &size)) {
        ++record.messages;
        record.bytes += size;
      } else if (session->connection->connected()) {
        oversized.push_back(session->id);
      }
      continue;
    }
    pb::ControlMessage message;
    pb::Delta* delta = message.mutable_delta();
    delta->set_base_generation(session->sent_generation);
    delta->set_generation(record.generation);
    session->ip_sets.begin();
    for (WorkloadId port : host_delta.removed) {
      session->ip_sets.remove_port(port);
      delta->add_removed_ports(port);
    }
    for (WorkloadId port : host_delta.changed) {
      session->ip_sets.set_port(port, add_port_rules(*controller, port, delta->add_changed_ports()));
    }
    std::vector<std::string> added, removed;
    session->ip_sets.end(added, removed);
    add_ip_sets(*controller, added, delta->mutable_added_ip_sets());
    for (const std::string& name : removed) delta->add_removed_ip_sets(name);

    uint64_t size = 0;
    if (!send(*session, message, &size)) {
      if (session->connection->connected()) oversized.push_back(session->id);
      continue;
    }
    session->sent_generation = record.generation;
    AgentInfo& agent = agents[host];
    agent.state = AgentState::kSyncing;
    agent.sent_generation = record.generation;
    ++record.messages;
    record.bytes += size;
  }
  for (uint64_t id : oversized) reject(id, "delta exceeds the channel's message size limit");
}

void ServiceState::note_ack(const std::string& host, uint64_t generation, uint64_t ack_size,
                            std::vector<ChangeId>& converged) {
  const platform::Nanos now = env_.clock.now();
  std::erase_if(open_changes_, [&](ChangeId id) {
    ChangeRecord& record = changes[id - 1];
    if (record.generation > generation) return false;
    auto it = std::lower_bound(record.pending_hosts.begin(), record.pending_hosts.end(), host);
    if (it == record.pending_hosts.end() || *it != host) return false;
    record.pending_hosts.erase(it);
    ++record.messages;
    record.bytes += ack_size;
    if (!record.pending_hosts.empty()) return false;
    record.converged_ns = now;
    converged.push_back(id);
    return true;
  });
}

void ServiceState::notify_converged(const std::vector<ChangeId>& ids) {
  for (ChangeId id : ids) {
    const ChangeRecord& record = changes[id - 1];
    log(platform::LogLevel::kInfo,
        "change " + std::to_string(id) + " (" + record.kind + " " + record.subject +
            ", generation " + std::to_string(record.generation) + ") converged in " +
            std::to_string(record.convergence_ns()) + " ns: " + std::to_string(record.ports_impacted) +
            " ports on " + std::to_string(record.hosts_impacted) + " hosts, " +
            std::to_string(record.messages) + " messages, " + std::to_string(record.bytes) + " bytes");
    // The listener may apply another change (which appends to `changes`): copy first.
    if (convergence_listener_) {
      ChangeRecord copy = record;
      convergence_listener_(copy);
    }
  }
}

template <typename Apply>
ChangeId ServiceState::run_change(std::string kind, std::string subject, Status& error, Apply&& apply) {
  error = Status::ok();
  const auto started = std::chrono::steady_clock::now();
  ChangeSet change_set = apply(*controller, error);
  const auto computed = std::chrono::steady_clock::now();
  if (!error) {
    log(platform::LogLevel::kWarning, kind + " " + subject + " refused: " + error.message());
    return 0;
  }
  ChangeRecord& record = changes.emplace_back();
  record.id = changes.size();
  record.kind = std::move(kind);
  record.subject = std::move(subject);
  record.generation = controller->generation();
  record.at_ns = env_.clock.now();
  record.compute_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(computed - started).count();
  send_deltas(change_set, record);
  const ChangeId id = record.id;
  if (record.pending_hosts.empty()) {
    record.converged_ns = record.at_ns;
    notify_converged({id});
  } else {
    open_changes_.push_back(id);
  }
  return id;
}

void ServiceState::log(platform::LogLevel level, const std::string& message) {
  env_.log.write(level, "controller", message);
}

// --- the public front ---

ControllerService::ControllerService(std::unique_ptr<Controller> controller,
                                     platform::ChannelListener& listener, ServiceEnv env,
                                     ServiceConfig config)
    : state_(std::make_unique<ServiceState>(std::move(controller), listener, env, config)) {}

ControllerService::~ControllerService() = default;

ChangeId ControllerService::set_policy(Policy policy, Status& error) {
  std::string subject = std::to_string(policy.rules.size()) + " rules";
  return state_->run_change("policy", std::move(subject), error, [&](Controller& c, Status& e) {
    return c.set_policy(std::move(policy), e);
  });
}

namespace {
std::string workload_name(const Controller& c, WorkloadId id) {
  const Workload* w = c.workload(id);
  return w ? w->name : "#" + std::to_string(id);
}
}  // namespace

ChangeId ControllerService::set_labels(WorkloadId id, Labels labels, Status& error) {
  return state_->run_change("labels", workload_name(*state_->controller, id), error,
                            [&](Controller& c, Status& e) { return c.set_labels(id, std::move(labels), e); });
}

ChangeId ControllerService::add_workload(Workload workload, Status& error) {
  std::string subject = workload.name;
  return state_->run_change("add_workload", std::move(subject), error, [&](Controller& c, Status& e) {
    return c.add_workload(std::move(workload), e);
  });
}

ChangeId ControllerService::remove_workload(WorkloadId id, Status& error) {
  return state_->run_change("remove_workload", workload_name(*state_->controller, id), error,
                            [&](Controller& c, Status& e) { return c.remove_workload(id, e); });
}

ChangeId ControllerService::update_workload(Workload workload, Status& error) {
  std::string subject = workload.name;
  return state_->run_change("update_workload", std::move(subject), error, [&](Controller& c, Status& e) {
    return c.update_workload(std::move(workload), e);
  });
}

ChangeId ControllerService::move_workload(WorkloadId id, std::string host, Status& error) {
  return state_->run_change("move_workload", workload_name(*state_->controller, id), error,
                            [&](Controller& c, Status& e) { return c.move_workload(id, std::move(host), e); });
}

const std::vector<ChangeRecord>& ControllerService::changes() const { return state_->changes; }

const ChangeRecord* ControllerService::change(ChangeId id) const {
  if (id == 0 || id > state_->changes.size()) return nullptr;
  return &state_->changes[id - 1];
}

void ControllerService::set_convergence_listener(std::function<void(const ChangeRecord&)> listener) {
  state_->set_convergence_listener(std::move(listener));
}

std::vector<AgentInfo> ControllerService::agents() const {
  std::vector<AgentInfo> out;
  for (const auto& [host, info] : state_->agents) out.push_back(info);
  return out;
}

const AgentInfo* ControllerService::agent(const std::string& host) const {
  auto it = state_->agents.find(host);
  return it == state_->agents.end() ? nullptr : &it->second;
}

const MessageTotals& ControllerService::totals() const { return state_->totals; }
const Controller& ControllerService::controller() const { return *state_->controller; }
void ControllerService::publish_metrics() { state_->publish_metrics(); }

std::string_view agent_state_name(AgentState state) {
  switch (state) {
    case AgentState::kSyncing: return "syncing";
    case AgentState::kSynced: return "synced";
    case AgentState::kDisconnected: return "disconnected";
    case AgentState::kLost: return "lost";
  }
  return "unknown";
}

}  // namespace controller
