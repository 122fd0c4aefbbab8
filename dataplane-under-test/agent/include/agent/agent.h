#pragma once
// The host agent: keeps the local dfw datapath's ports enforcing what the policy controller
// computed for them (docs/control-plane.md).
//
// It connects to the controller through a platform::ChannelConnector, says Hello, applies the
// Snapshot it gets (replacing everything) and every Delta after it, and acks each one with the
// generation it now enforces. Applying is all-or-nothing per message: every port's rules are
// decoded and compiled first; only if all succeed are the tables swapped in (each port swaps
// atomically, dfw::Datapath::install_rules); otherwise nothing changes and the Ack carries the
// error, which makes the controller resend a Snapshot.
//
// When the controller goes away (connection closed, or silent for `missed_heartbeats` heartbeat
// intervals), the agent keeps every port enforcing its last rules, as NSX does, and reconnects
// with exponential backoff; the Snapshot on reconnect resynchronizes it fully.
//
// Depends only on the platform interface, dfw and the protocol library. All calls and callbacks
// on the driving thread.

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>

#include "dfw/driver.h"
#include "platform/channel.h"
#include "platform/platform.h"

namespace agent {

struct AgentEnv {
  platform::Clock& clock;
  platform::TimerService& timers;
  platform::Log& log;
  platform::MetricsSink& metrics;
};

struct AgentConfig {
  std::string host;                // whose ports this agent programs; required
  std::string agent_id;            // in Hello and logs; empty: the host name
  std::string controller_address;  // as the connector understands it ("127.0.0.1:6500", a node)
  platform::Nanos heartbeat_interval = 1'000'000'000;
  // The controller is considered lost after this many intervals without any message from it
  // (also the limit for a connection attempt to complete).
  uint32_t missed_heartbeats = 3;
  platform::Nanos stats_interval = 10'000'000'000;  // PortStats; 0: never
  // Reconnect delay: starts at `reconnect_initial`, doubles after every failed attempt, at most
  // `reconnect_max`; back to the start after a successful Hello/Snapshot exchange.
  platform::Nanos reconnect_initial = 100'000'000;
  platform::Nanos reconnect_max = 5'000'000'000;
  // True (the daemons): the agent creates the datapath ports the controller names and removes
  // those it no longer names. False (the simulator, where the host model attaches ports): the
  // agent programs existing ports only and keeps the others' tables until port_attached().
  bool manage_ports = true;
};

struct AgentStatus {
  bool connected = false;           // Hello sent on a live connection
  bool synced = false;              // a Snapshot was applied on this connection
  uint64_t applied_generation = 0;  // of the latest Snapshot/Delta applied (kept while disconnected)
  // When it was applied (platform clock), i.e. when the host started enforcing it; -1: never.
  // The controller learns it one trip later, from the Ack.
  platform::Nanos applied_at = -1;
  std::map<dfw::PortId, uint64_t> port_versions;  // rule-set version per port known from the controller
  uint64_t connections = 0;         // successful connects
  uint64_t disconnections = 0;      // connections lost or closed (controller loss included)
  uint64_t snapshots_applied = 0;
  uint64_t deltas_applied = 0;
  uint64_t apply_errors = 0;        // messages refused (decode, compile or sequence errors)
  std::string last_error;
};

class Agent {
 public:
  Agent(AgentConfig config, dfw::DatapathDriver& driver, platform::ChannelConnector& connector,
        AgentEnv env);
  ~Agent();
  Agent(const Agent&) = delete;
  Agent& operator=(const Agent&) = delete;

  // Starts connecting (at once) and keeps reconnecting until stop().
  void start();
  // Closes the connection and stops reconnecting; the ports keep their rules.
  void stop();

  const AgentStatus& status() const;
  // Called after every applied message, connect and disconnect (e.g. to write a status file).
  void set_status_listener(std::function<void(const AgentStatus&)> listener);

  // The latest compiled table the controller gave for `port` (nullptr if none): for a port the
  // host is about to attach or import (live migration).
  dfw::RuleTablePtr rules_for(dfw::PortId port) const;
  // The host attached `port` to the datapath: install the rules known for it, if any.
  void port_attached(dfw::PortId port);

  // Publishes counters under "agent." to the MetricsSink.
  void publish_metrics();

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace agent
