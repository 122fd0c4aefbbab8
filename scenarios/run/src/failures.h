#pragma once
// Data-plane failures of a run (docs/failures.md): host crash with optional HA restart, host
// recovery and reboot, link down/up, link loss and corruption, switch failure and recovery —
// from the timeline, from Python (Simulation::apply) or from the scenario's random failure
// process (failures.random). Control-plane failures (controller, partition, agent) are the
// simulated control plane's.
//
// Every failure becomes one row of /failures: opened when it starts, closed (end_ns) when the
// component comes back, with what it cost (VMs, connections, packets). The models do the
// dropping (models::Link, models::Host, models::SwitchedFabric); this file decides what fails
// when, what dies with it, where HA restarts VMs, and keeps the records.

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "extension.h"

namespace scenarios {

// One row of /failures.
struct FailureRecord {
  std::string kind;    // host_crash | host_reboot | link_down | link_loss | switch_down
  std::string target;  // host, link ("a--b") or switch name
  std::string cause;   // timeline (scenario timeline or Python) | random (failures.random)
  int64_t start_ns = 0;
  int64_t end_ns = -1;             // -1: not recovered by the end of the run
  uint64_t vms_affected = 0;       // VMs that died (host) or were cut off (link, switch)
  uint64_t connections_lost = 0;   // dfw connections in the dead VMs' ports
  uint64_t flows_aborted = 0;      // TCP connections + UDP flows the dead VMs' stacks held
  uint64_t packets_dropped = 0;    // drops the failure itself caused (see docs/failures.md)
  uint64_t restarted_vms = 0;      // VMs HA restarted (crash) or that came back (reboot)
  int64_t restart_ns = -1;         // when they did; -1: never
  double loss = 0;                 // link_loss only: probabilities set
  double corruption = 0;
  // Private bookkeeping.
  std::function<uint64_t()> drop_counter;  // cumulative drops attributed to this failure
  uint64_t drops_at_start = 0;
  std::vector<uint32_t> dead_vms;          // host failures: the VMs that died, in index order
  uint32_t host = 0;                       // host failures: the host
  uint64_t connections_carried = 0;        // connections in the restarted VMs' new ports (0: fresh)
};

class Failures final : public RunExtension {
 public:
  explicit Failures(RunContext& context);
  ~Failures() override;

  void register_actions(ActionTable& actions) override;
  void start() override;
  bool finish(analysis::ResultWriter& writer, RunSummary& summary, std::string& error) override;

  const std::vector<FailureRecord>& records() const { return records_; }

 private:
  class RandomProcess;

  // Hosts (failures_hosts.cc).
  bool fail_host(const TimelineEvent& event, std::string& error);
  bool recover_host(const TimelineEvent& event, std::string& error);
  bool reboot_host(const TimelineEvent& event, std::string& error);
  // The host crashes: its VMs die (ports removed, connections gone), it drops what reaches it.
  // Returns the record's index.
  std::size_t crash_host(uint32_t host, const std::string& kind, const std::string& cause);
  // HA: the crashed host's VMs start on the least-loaded hosts that are up (not `host`).
  void ha_restart(std::size_t record);
  // The host is up again (empty); closes its open failure.
  void bring_host_up(uint32_t host);
  // Starts `vm` on `host` with a fresh port (the control plane's rules, empty tables).
  bool start_vm(uint32_t vm, uint32_t host);
  uint32_t find_host(const std::string& name, std::string& error) const;
  // The event's `host` argument: its index (UINT32_MAX with `error` if missing or unknown) and name.
  uint32_t host_arg(const TimelineEvent& event, const std::string*& name, std::string& error) const;

  // Links and switches (failures_network.cc).
  bool link_down(const TimelineEvent& event, std::string& error);
  bool link_up(const TimelineEvent& event, std::string& error);
  bool set_link_loss(const TimelineEvent& event, std::string& error);
  bool fail_switch(const TimelineEvent& event, std::string& error);
  bool recover_switch(const TimelineEvent& event, std::string& error);
  void take_edge_down(std::size_t edge, const std::string& name, const std::string& cause);
  void take_switch_down(std::size_t index, const std::string& name, const std::string& cause);
  // The fabric edge of link `name` (either end first) and its canonical name, or SIZE_MAX.
  std::size_t find_edge(const std::string& name, std::string& canonical, std::string& error) const;
  std::size_t find_switch(const std::string& name, std::string& error) const;
  // VMs on hosts that have no live uplink (cut off from the fabric).
  uint64_t cut_off_vms() const;

  // Records (failures.cc).
  std::size_t open(FailureRecord record);
  // Closes the open record of (kind, target) at now; false if there is none.
  bool close(const std::string& kind, const std::string& target);
  FailureRecord* find_open(const std::string& kind, const std::string& target);
  void annotate_failure(const FailureRecord& record);
  void annotate_recovery(const FailureRecord& record, const std::string& what);
  int64_t now_ns() const;

  RunContext& context_;
  std::vector<FailureRecord> records_;
  std::vector<std::unique_ptr<RandomProcess>> random_;
};

std::unique_ptr<RunExtension> create_failures_extension(RunContext& context);

}  // namespace scenarios
