#pragma once
// The modelled control plane of a run (scenario section `control_plane`): the real policy
// controller service (controller/service.h) and one real host agent (agent/agent.h) per host,
// connected through the simulated management network (models/mgmt_network.h). Nothing of the
// controller's or the agents' logic is reimplemented here: this class builds them, feeds them the
// scenario's changes, and watches what they do for the results (/convergence, /control) and the
// invariants.
//
// It replaces World::control_plane, so migrations and failures get real message latency:
//  - prepare_port (policy: before) moves the workload at the controller ahead of the VM; the
//    destination's agent receives the rules and keeps them for the port to come;
//  - workload_moved tells the controller (unless prepare_port did) and has the agent install the
//    rules it holds on the new port; `done` runs when the controller has the change acknowledged;
//  - workload_lost removes the workload at the controller; a later workload_moved adds it back.
//
// The controller can fail (the service process dies: its connections close, agents keep their
// last-known policy and retry) and recover (a new service computes from the intent as it stands
// then, including changes requested while it was down); hosts can be cut off the management
// network; agents can restart, keeping or flushing the datapath's connections.

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "agent/agent.h"
#include "controller/service.h"
#include "control_plane_link.h"
#include "invariant_specs.h"
#include "dfw/driver.h"
#include "models/mgmt_network.h"
#include "models/sim_platform.h"
#include "scenarios/annotations.h"
#include "world.h"

namespace scenarios {

// One row of /convergence.
struct ConvergenceRow {
  std::string change;      // "relabel web-1", "set_rule_action web-to-db drop", ...
  std::string kind;        // the controller's kind: policy, labels, move_workload, ...
  int64_t at_ns = 0;       // when the change was requested
  int64_t applied_ns = -1;  // when the controller computed it (later than at_ns if it was down)
  int64_t enforced_ns = -1;   // when the last impacted host's agent had it installed
  int64_t converged_ns = -1;  // when the controller had the last impacted host's ack
  uint64_t ports_impacted = 0, hosts_impacted = 0, messages = 0, bytes = 0;
  int64_t compute_wall_ns = 0;  // the controller's measured CPU time (wall clock: /meta/wall only)
  // Tracking state.
  uint64_t epoch = 0;            // which controller incarnation applied it (0: not applied yet)
  controller::ChangeId id = 0;   // its id in that incarnation
  uint64_t generation = 0;
  std::set<std::string> not_enforced;  // impacted hosts whose agent has not installed it
};

// Per-agent counters for /control, accumulated across agent restarts.
struct AgentRecord {
  uint64_t restarts = 0;
  uint64_t connections = 0, disconnections = 0, snapshots = 0, deltas = 0, apply_errors = 0;
};

class SimulatedControlPlane final : public ControlPlaneLink {
 public:
  // Builds the network, the controller service and the agents (not started). nullptr with
  // `error` if the scenario's policy does not load into the controller.
  static std::unique_ptr<SimulatedControlPlane> create(const Scenario& scenario, World& world,
                                                       Annotations& annotations, std::string& error);
  ~SimulatedControlPlane() override;

  // Starts every agent (they connect and sync at once).
  void start();

  // --- ControlPlaneLink ---
  void prepare_port(models::VmIndex vm, uint32_t host, Done done) override;
  dfw::RuleTablePtr rules_on_host(models::VmIndex vm, uint32_t host) const override;
  void workload_moved(models::VmIndex vm, uint32_t host, Done done) override;
  void workload_lost(models::VmIndex vm) override;
  Impact workload_added(models::VmIndex vm, Done done) override;
  Impact workload_removed(models::VmIndex vm) override;
  uint64_t desired_version(models::VmIndex vm) const override;
  uint64_t enforced_version(models::VmIndex vm) const override;
  const dfw::RuleSetSpec* computed_spec(models::VmIndex vm, uint64_t version) const override;

  // --- changes and failures (timeline actions) ---
  bool set_rule_action(const std::string& rule, dfw::Action action, std::string& error);
  bool set_default_action(dfw::Action action, std::string& error);
  bool relabel(models::VmIndex vm, controller::Labels labels, std::string& error);
  bool fail_controller(std::string& error);
  bool recover_controller(std::string& error);
  void partition(const std::vector<uint32_t>& hosts);
  void heal_partition();
  void restart_agent(uint32_t host, bool flush_connections);

  // --- results ---
  const std::vector<ConvergenceRow>& convergence() const { return rows_; }
  const std::vector<AgentRecord>& agent_records() const { return records_; }
  const models::MgmtNetwork& network() const { return *network_; }
  models::MgmtNetwork::NodeId host_node(uint32_t host) const { return host_nodes_[host]; }
  const agent::Agent& agent(uint32_t host) const { return *agents_[host]; }
  const controller::ControllerService* service() const { return service_.get(); }
  // The controller's totals across incarnations (messages and bytes by type).
  const controller::MessageTotals& totals() const { return totals_; }
  // The current intent (what a recovering controller computes from).
  const controller::Policy& policy() const { return policy_; }
  uint64_t stale_packets() const;
  // End of run: closes open stale windows and adds the live controller's totals to totals().
  void finish();

 private:
  SimulatedControlPlane(const Scenario& scenario, World& world, Annotations& annotations);
  bool start_service(std::string& error);
  std::unique_ptr<agent::Agent> make_agent(uint32_t host);
  // Runs one change at the controller (or records it for the recovery if the controller is down).
  bool change(std::string label, std::string kind, const std::function<controller::ChangeId(
                                                       controller::ControllerService&, controller::Status&)>& apply,
              std::string& error, std::vector<Done> done = {});
  void track(ConvergenceRow& row, controller::ChangeId id);
  void on_converged(const controller::ChangeRecord& record);
  void on_agent_status(uint32_t host, const agent::AgentStatus& status);
  void check_resync_rows();
  void later(Done done);
  void accumulate_totals();
  // Invariants (docs/control-plane.md, "In the simulator").
  void check_converged_rules();
  void open_stale_windows();
  // Closes the windows of `host` whose port caught up (all of them with `all`: end of run).
  void close_stale_windows(uint32_t host, bool all = false);
  void annotate(AnnotationKind kind, std::vector<std::pair<std::string, AnnotationValue>> fields);
  std::vector<controller::Workload> workloads() const;

  const Scenario& scenario_;
  World& world_;
  Annotations& annotations_;

  // The controller's world: its node's clock, timers, log and metrics.
  sim::EntityId controller_entity_;
  models::SimClock clock_;
  models::SimTimerService timers_;
  models::SimLog log_;
  models::SimMetrics metrics_;

  std::unique_ptr<models::MgmtNetwork> network_;
  models::MgmtNetwork::NodeId controller_node_ = 0;
  std::vector<models::MgmtNetwork::NodeId> host_nodes_;
  std::unique_ptr<platform::ChannelListener> listener_;
  std::unique_ptr<controller::ControllerService> service_;
  uint64_t epoch_ = 0;  // controller incarnation (1, 2, ...)
  // The controller's durable version record (set at its first crash; see start_service).
  std::optional<controller::DurableVersions> durable_;
  controller::MessageTotals totals_;  // of finished incarnations, plus the live one at the end

  std::vector<std::unique_ptr<platform::ChannelConnector>> connectors_;
  std::vector<std::unique_ptr<dfw::DatapathDriver>> drivers_;
  std::vector<std::unique_ptr<agent::Agent>> agents_;
  std::vector<AgentRecord> records_;

  // The intent: what the operator asked for (policy, workload labels and hosts).
  controller::Policy policy_;
  std::vector<controller::Workload> workloads_;  // by VmIndex
  std::vector<bool> workload_present_;           // false after workload_lost

  std::vector<ConvergenceRow> rows_;
  std::map<std::pair<uint64_t, controller::ChangeId>, std::size_t> row_by_change_;
  std::map<std::pair<uint64_t, controller::ChangeId>, std::vector<Done>> done_by_change_;
  std::vector<std::size_t> resync_rows_;  // rows waiting for a recovered controller's full sync
  std::vector<int> prepared_host_;        // by VmIndex: host prepared ahead of a move, or -1
  std::vector<std::pair<uint64_t, controller::ChangeId>> prepared_change_;  // by VmIndex: its change

  // Stale windows (invariant 4): a port whose desired version moved past its enforced one.
  struct StaleWindow {
    uint64_t allowed_at_open = 0;
    uint32_t host = 0;
  };
  std::map<models::VmIndex, StaleWindow> stale_;
  uint64_t stale_packets_ = 0;
  // Every version the controller computed, per port (invariant 1): recorded when the controller
  // starts and after every change it accepts, before any agent can have received it.
  mutable ComputedSpecs specs_;
};

}  // namespace scenarios
