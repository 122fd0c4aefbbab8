#pragma once
// ControllerService: the policy controller as a network service. It owns the Controller (the
// compute core, controller.h), accepts agent connections on a platform::ChannelListener, and
// keeps every host's agent in sync with the computed per-port rules (docs/control-plane.md):
//
//  - an agent says Hello (its host); the service answers with a full Snapshot of that host's
//    ports, rule sets and IP sets, then a Delta after every change that touches the host;
//  - the agent acks each Snapshot/Delta with the generation it applied; a failed apply (Ack with
//    an error) or a reconnect gets a fresh Snapshot;
//  - both sides send Heartbeats; an agent silent for `missed_heartbeats` intervals is declared
//    lost and its connection closed (it keeps enforcing; it will reconnect and resync).
//
// Changes go through the service (set_policy, set_labels, ...) so that it can send deltas and
// follow each change until every impacted host has acked it: ChangeRecord says when, with how
// many messages and bytes. That is what the simulator's /convergence table records.
//
// Uses only platform interfaces (Clock, TimerService, Log, MetricsSink, ChannelListener); all
// calls and callbacks on the driving thread.

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "controller/controller.h"
#include "platform/channel.h"
#include "platform/platform.h"

namespace controller {

struct ServiceEnv {
  platform::Clock& clock;
  platform::TimerService& timers;
  platform::Log& log;
  platform::MetricsSink& metrics;
};

struct ServiceConfig {
  // How often the agents send heartbeats (agent::AgentConfig::heartbeat_interval must match)
  // and how often the service checks for silent agents.
  platform::Nanos heartbeat_interval = 1'000'000'000;
  // An agent silent (no message at all) for this many intervals is declared lost.
  uint32_t missed_heartbeats = 3;
};

using ChangeId = uint64_t;  // 1, 2, ... in order of application; 0: none (the change failed)

// One change and its convergence. Times are platform-clock ns.
struct ChangeRecord {
  ChangeId id = 0;
  std::string kind;      // policy, labels, add_workload, remove_workload, update_workload, move_workload
  std::string subject;   // the workload's name, or the number of rules for a policy
  uint64_t generation = 0;  // the controller generation the change produced
  platform::Nanos at_ns = 0;             // when the service applied it
  platform::Nanos converged_ns = -1;     // when the last impacted host acked it; -1: not yet
  std::size_t ports_impacted = 0;        // ports whose rules changed, removed or moved
  std::size_t hosts_impacted = 0;        // hosts with at least one such port (old and new host)
  uint64_t messages = 0;  // Snapshots/Deltas that carried it to impacted hosts, and their Acks
  uint64_t bytes = 0;     // their encoded sizes (protobuf payload, without channel framing)
  // The compute core's time for the change, measured on the host CPU (std::chrono::steady_clock)
  // whatever the world's clock: it is a cost of the real code, not a simulated delay.
  int64_t compute_ns = 0;
  std::vector<std::string> pending_hosts;  // impacted hosts that have not acked yet, sorted
  bool converged() const { return converged_ns >= 0; }
  platform::Nanos convergence_ns() const { return converged() ? converged_ns - at_ns : -1; }
};

enum class AgentState : uint8_t {
  kSyncing,       // connected, snapshot sent, not acked yet (or a resync under way)
  kSynced,        // has acked the latest Snapshot/Delta sent to it
  kDisconnected,  // its connection closed or failed
  kLost,          // declared lost after missed heartbeats (connection closed by the service)
};
std::string_view agent_state_name(AgentState state);

struct PortCountersRecord {
  uint64_t version = 0;
  uint64_t packets_in = 0, packets_out = 0, bytes_in = 0, bytes_out = 0;
  uint64_t allowed = 0, dropped = 0;
};

// What the service knows about the agent of one host (the latest one, across reconnects).
struct AgentInfo {
  std::string host;
  std::string agent_id;
  std::string peer;
  AgentState state = AgentState::kDisconnected;
  uint64_t sent_generation = 0;   // of the latest Snapshot/Delta sent
  uint64_t acked_generation = 0;  // of the latest one acked without error
  std::map<WorkloadId, uint64_t> acked_port_versions;  // what the agent says it enforces
  std::map<WorkloadId, PortCountersRecord> port_stats;  // latest PortStats
  platform::Nanos connected_at = -1;
  platform::Nanos last_heard = -1;
  uint64_t sessions = 0;   // accepted Hellos
  uint64_t snapshots = 0;  // Snapshots sent (first sync and resyncs)
  uint64_t messages_sent = 0, bytes_sent = 0, messages_received = 0, bytes_received = 0;
};

// Service-wide counters by message type ("hello", "snapshot", "delta", "ack", "heartbeat",
// "port_stats", "error").
struct MessageTotals {
  std::map<std::string, uint64_t> messages_sent, bytes_sent, messages_received, bytes_received;
  uint64_t agents_lost = 0;
  uint64_t rejected_connections = 0;  // bad Hello, version mismatch, undecodable message
};

class ServiceState;

class ControllerService {
 public:
  // Starts accepting on `listener` at once. The listener and the env outlive the service.
  ControllerService(std::unique_ptr<Controller> controller, platform::ChannelListener& listener,
                    ServiceEnv env, ServiceConfig config = {});
  ~ControllerService();
  ControllerService(const ControllerService&) = delete;
  ControllerService& operator=(const ControllerService&) = delete;

  // Changes. Each one computes, sends deltas to the impacted hosts' agents, and returns the new
  // change's id; on error nothing changes, `error` says why and the id is 0.
  ChangeId set_policy(Policy policy, Status& error);
  ChangeId set_labels(WorkloadId id, Labels labels, Status& error);
  ChangeId add_workload(Workload workload, Status& error);
  ChangeId remove_workload(WorkloadId id, Status& error);
  ChangeId update_workload(Workload workload, Status& error);
  ChangeId move_workload(WorkloadId id, std::string host, Status& error);

  const std::vector<ChangeRecord>& changes() const;  // in id order
  const ChangeRecord* change(ChangeId id) const;     // nullptr if unknown
  // Called once per change, when it converges (for a change impacting nothing: at once).
  void set_convergence_listener(std::function<void(const ChangeRecord&)> listener);

  std::vector<AgentInfo> agents() const;  // sorted by host
  const AgentInfo* agent(const std::string& host) const;
  const MessageTotals& totals() const;
  const Controller& controller() const;

  // Publishes counters under "controller." to the MetricsSink.
  void publish_metrics();

 private:
  std::unique_ptr<ServiceState> state_;
};

}  // namespace controller
