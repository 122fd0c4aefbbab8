#pragma once
// The world of one run: every model built from a validated Scenario, owned in construction order
// so that destruction runs in reverse (traffic before hosts, hosts before the fabric, the kernel
// last, because timers and pending events refer to it).

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "control_plane_link.h"
#include "controller/controller.h"
#include "models/cost_model.h"
#include "models/host.h"
#include "models/packet.h"
#include "models/switched_fabric.h"
#include "models/traffic/flow_generator.h"
#include "models/traffic/flow_records.h"
#include "models/traffic/replay_flows.h"
#include "models/traffic/replay_source.h"
#include "models/traffic/transport_stack.h"
#include "models/vm.h"
#include "scenarios/scenario.h"
#include "sim/kernel.h"

namespace scenarios {

// One invariant checked during the run (docs/results.md, /invariants). Features count every
// check and every violation; the first violation is kept for the summary.
struct InvariantCount {
  uint64_t checked = 0;
  uint64_t violations = 0;
  bool counts_only = false;  // reported exposure (stale policy), not a correctness violation
  std::string first_violation;  // "at 12.5ms: vm web-1 ..." (empty if none)
  // Cases the invariant does not apply to, counted by reason ("fabric_loss"), never hidden.
  uint64_t not_checked = 0;
  std::map<std::string, uint64_t> not_checked_reasons;
  void violated(std::string what) {
    if (violations++ == 0) first_violation = std::move(what);
  }
  void skipped(const std::string& reason) {
    ++not_checked;
    ++not_checked_reasons[reason];
  }
};

struct World {
  explicit World(uint64_t seed) : kernel(seed) {}

  sim::Kernel kernel;
  models::PacketPool pool;
  models::VmTable vms;
  models::Calibration calibration;
  std::string calibration_path;
  models::CostModel cost;
  std::unique_ptr<models::SwitchedFabric> fabric;
  std::vector<std::string> link_names;  // by fabric link index
  std::vector<std::unique_ptr<models::Host>> hosts;
  std::unique_ptr<controller::Controller> controller;
  std::size_t distinct_rule_tables = 0;  // compiled tables shared across ports
  // The control plane features talk to (DirectControlPlane unless a modelled one replaces it).
  std::unique_ptr<ControlPlaneLink> control_plane;
  // Invariants by name, filled by the features that check them; written to /invariants.
  std::map<std::string, InvariantCount> invariants;
  // Called (in order, null entries skipped) right after a host crashed and its VMs died
  // (failures_hosts.cc), e.g. to abort the migrations it was part of.
  std::vector<std::function<void(uint32_t host)>> host_crash_listeners;
  models::traffic::FlowRecords flows;
  std::vector<std::unique_ptr<models::traffic::TransportStack>> stacks;  // by VmIndex
  // VM indices below this are VMs: the scenario's and room for VMs added during the run
  // (add_vm, scale.h). Fabric directory entries from here on are the hosts' vmkernel interfaces.
  models::VmIndex vm_capacity = 0;
  std::vector<std::unique_ptr<models::traffic::FlowGenerator>> generators;
  // Trace replays (pcap, flow log): the shared flow table with its receivers, then the sources.
  std::unique_ptr<models::traffic::ReplayFlows> replay_flows;
  std::vector<std::unique_ptr<models::traffic::ReplaySource>> replays;
  std::vector<std::size_t> replay_traffic_index;  // scenario traffic index of each replay
};

// The transport parameters of every VM's stack (scenario `transport` section).
models::traffic::TransportParams transport_params(const Scenario& scenario);

// Builds every model of `scenario`. On error returns nullptr, sets `error` and `exit_code`
// (2: the scenario asks for something this build cannot do or that fails a model's own checks;
// 1: a runtime failure such as an unreadable calibration file).
std::unique_ptr<World> build_world(const Scenario& scenario, const std::string& calibration_path,
                                   std::string& error, int& exit_code);

}  // namespace scenarios
