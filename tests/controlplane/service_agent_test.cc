// The controller service and the agents together over the in-memory channel: snapshots on
// connect, deltas only to impacted hosts, acks and convergence, last-known policy while the
// controller is gone, resynchronization on reconnect. Verdicts come from the agents' real dfw
// datapaths.

#include "control_plane_fixture.h"

namespace controlplane_test {
namespace {

using controller::AgentState;
using dfw::Direction;
using dfw::Verdict;

TEST_F(ControlPlaneTest, SnapshotOnConnectProgramsEveryPort) {
  start_controller(policy(kPolicy), estate());
  add_host("h1");
  add_host("h2");
  add_host("h3");
  // Before any exchange the ports do not exist yet (the daemons' agents create them).
  EXPECT_FALSE(host("h1").datapath.has_port(1));

  loop_.run_for(10 * kMs);

  for (const char* name : {"h1", "h2", "h3"}) {
    SCOPED_TRACE(name);
    const agent::AgentStatus& status = host(name).agent->status();
    EXPECT_TRUE(status.connected);
    EXPECT_TRUE(status.synced);
    EXPECT_EQ(status.snapshots_applied, 1u);
    EXPECT_EQ(status.applied_generation, service().controller().generation());
    const controller::AgentInfo* info = service().agent(name);
    ASSERT_NE(info, nullptr);
    EXPECT_EQ(info->state, AgentState::kSynced);
    EXPECT_EQ(info->acked_generation, service().controller().generation());
  }
  EXPECT_EQ(host("h1").agent->status().port_versions, (std::map<dfw::PortId, uint64_t>{{1, 1}}));
  EXPECT_TRUE(host("h2").datapath.has_port(2));
  EXPECT_FALSE(host("h2").datapath.has_port(1));  // only the host's own ports

  EXPECT_TRUE(allowed_end_to_end("h1", 1, "h2", 2, "10.0.0.1", "10.0.0.2", 8080));
  EXPECT_TRUE(allowed_end_to_end("h2", 2, "h3", 3, "10.0.0.2", "10.0.0.3", 5432));
  EXPECT_EQ(syn("h1", 1, Direction::kEgress, "10.0.0.1", "10.0.0.2", 9090), Verdict::kDrop);
  EXPECT_EQ(syn("h1", 1, Direction::kEgress, "10.0.0.1", "10.0.0.3", 5432), Verdict::kDrop);
  EXPECT_EQ(syn("h3", 3, Direction::kIngress, "10.0.0.1", "10.0.0.3", 5432), Verdict::kDrop);
}

TEST_F(ControlPlaneTest, RelabelSendsDeltasOnlyToImpactedHostsAndConverges) {
  start_controller(policy(kPolicy), estate());
  add_host("h1");
  add_host("h2");
  add_host("h3");
  loop_.run_for(10 * kMs);
  const controller::MessageTotals before = service().totals();

  // db-1 stops being a db: api-1 loses its egress rule to the db set, db-1 its ingress rule.
  // web-1 on h1 is not concerned.
  dfw::Status error;
  const Nanos at = loop_.now();
  controller::ChangeId id = service().set_labels(3, {{"role", "cache"}}, error);
  ASSERT_NE(id, 0u) << error.message();
  const controller::ChangeRecord* record = service().change(id);
  EXPECT_EQ(record->kind, "labels");
  EXPECT_EQ(record->subject, "db-1");
  EXPECT_EQ(record->at_ns, at);
  EXPECT_EQ(record->ports_impacted, 2u);
  EXPECT_EQ(record->hosts_impacted, 2u);
  EXPECT_EQ(record->pending_hosts, (std::vector<std::string>{"h2", "h3"}));
  EXPECT_FALSE(record->converged());

  loop_.run_for(10 * kMs);

  record = service().change(id);
  ASSERT_TRUE(record->converged());
  // One delta out, one ack back: two one-way latencies.
  EXPECT_EQ(record->convergence_ns(), 2 * kLatency);
  EXPECT_EQ(record->messages, 4u);  // 2 deltas + 2 acks
  const controller::MessageTotals& after = service().totals();
  const uint64_t delta_bytes = after.bytes_sent.at("delta") - (before.bytes_sent.contains("delta") ? before.bytes_sent.at("delta") : 0);
  const uint64_t ack_bytes = after.bytes_received.at("ack") - before.bytes_received.at("ack");
  EXPECT_EQ(after.messages_sent.at("delta"), 2u);
  EXPECT_EQ(record->bytes, delta_bytes + ack_bytes);

  EXPECT_EQ(host("h1").agent->status().deltas_applied, 0u);
  EXPECT_EQ(host("h2").agent->status().deltas_applied, 1u);
  EXPECT_EQ(host("h3").agent->status().deltas_applied, 1u);
  EXPECT_EQ(host("h2").agent->status().port_versions.at(2), record->generation);
  // The hosts enforce it one latency after the change, the controller knows one latency later.
  EXPECT_EQ(host("h2").agent->status().applied_at, at + kLatency);
  EXPECT_EQ(host("h3").agent->status().applied_at, at + kLatency);
  EXPECT_EQ(host("h1").agent->status().port_versions.at(1), 1u);  // untouched

  // The change is enforced at both ends, and nothing else changed.
  EXPECT_EQ(syn("h2", 2, Direction::kEgress, "10.0.0.2", "10.0.0.3", 5432), Verdict::kDrop);
  EXPECT_EQ(syn("h3", 3, Direction::kIngress, "10.0.0.2", "10.0.0.3", 5432), Verdict::kDrop);
  EXPECT_TRUE(allowed_end_to_end("h1", 1, "h2", 2, "10.0.0.1", "10.0.0.2", 8080));
}

TEST_F(ControlPlaneTest, ScaleUpAddsThePortAndOpensItsPeers) {
  start_controller(policy(kPolicy), estate());
  add_host("h1");
  add_host("h2");
  add_host("h3");
  loop_.run_for(10 * kMs);
  EXPECT_EQ(syn("h2", 2, Direction::kIngress, "10.0.0.4", "10.0.0.2", 8080), Verdict::kDrop);

  std::vector<controller::ChangeRecord> converged;
  service().set_convergence_listener([&](const controller::ChangeRecord& r) { converged.push_back(r); });
  dfw::Status error;
  controller::ChangeId id = service().add_workload(workload(4, "web-2", "10.0.0.4", "web", "h1"), error);
  ASSERT_NE(id, 0u) << error.message();
  EXPECT_EQ(service().change(id)->pending_hosts, (std::vector<std::string>{"h1", "h2"}));
  loop_.run_for(10 * kMs);

  ASSERT_EQ(converged.size(), 1u);
  EXPECT_EQ(converged[0].id, id);
  EXPECT_EQ(converged[0].ports_impacted, 2u);  // web-2 itself and api-1 (new source address)
  EXPECT_TRUE(host("h1").datapath.has_port(4));
  EXPECT_TRUE(allowed_end_to_end("h1", 4, "h2", 2, "10.0.0.4", "10.0.0.2", 8080));
  EXPECT_EQ(host("h3").agent->status().deltas_applied, 0u);
}

TEST_F(ControlPlaneTest, MoveTakesThePortFromTheOldHostToTheNewOne) {
  start_controller(policy(kPolicy), estate());
  add_host("h1");
  add_host("h2");
  add_host("h3");
  loop_.run_for(10 * kMs);

  dfw::Status error;
  controller::ChangeId id = service().move_workload(2, "h3", error);
  ASSERT_NE(id, 0u) << error.message();
  loop_.run_for(10 * kMs);

  const controller::ChangeRecord* record = service().change(id);
  ASSERT_TRUE(record->converged());
  EXPECT_EQ(record->hosts_impacted, 2u);
  EXPECT_FALSE(host("h2").datapath.has_port(2));
  EXPECT_TRUE(host("h3").datapath.has_port(2));
  EXPECT_TRUE(host("h2").agent->status().port_versions.empty());
  EXPECT_TRUE(allowed_end_to_end("h1", 1, "h3", 2, "10.0.0.1", "10.0.0.2", 8080));
  EXPECT_TRUE(allowed_end_to_end("h3", 2, "h3", 3, "10.0.0.2", "10.0.0.3", 5432));
  EXPECT_EQ(host("h1").agent->status().deltas_applied, 0u);
}

TEST_F(ControlPlaneTest, AgentsKeepEnforcingWithoutTheControllerAndResyncOnReconnect) {
  start_controller(policy(kPolicy), estate());
  add_host("h1");
  add_host("h2");
  loop_.run_for(10 * kMs);
  ASSERT_TRUE(allowed_end_to_end("h1", 1, "h2", 2, "10.0.0.1", "10.0.0.2", 8080));

  kill_controller();
  loop_.run_for(30 * kSecond);  // many failed reconnects, with backoff
  for (const char* name : {"h1", "h2"}) {
    SCOPED_TRACE(name);
    const agent::AgentStatus& status = host(name).agent->status();
    EXPECT_FALSE(status.connected);
    EXPECT_EQ(status.disconnections, 1u);
    EXPECT_EQ(status.applied_generation, 1u);
  }
  // The last-known policy still decides.
  EXPECT_TRUE(allowed_end_to_end("h1", 1, "h2", 2, "10.0.0.1", "10.0.0.2", 8080));
  EXPECT_EQ(syn("h1", 1, Direction::kEgress, "10.0.0.1", "10.0.0.2", 9090), Verdict::kDrop);

  // A new controller with another policy: web -> api moves from 8080 to 9090.
  std::string moved = kPolicy;
  moved.replace(moved.find("tcp/8080"), 8, "tcp/9090");
  start_controller(policy(moved), estate());
  loop_.run_for(10 * kSecond);  // at most one backoff period (5 s) plus the exchange

  for (const char* name : {"h1", "h2"}) {
    SCOPED_TRACE(name);
    const agent::AgentStatus& status = host(name).agent->status();
    EXPECT_TRUE(status.synced);
    EXPECT_EQ(status.connections, 2u);
    EXPECT_EQ(status.snapshots_applied, 2u);
  }
  EXPECT_FALSE(allowed_end_to_end("h1", 1, "h2", 2, "10.0.0.1", "10.0.0.2", 8080));
  EXPECT_TRUE(allowed_end_to_end("h1", 1, "h2", 2, "10.0.0.1", "10.0.0.2", 9090));
}

TEST_F(ControlPlaneTest, PartitionedAgentIsDeclaredLostAndCatchesUpAfterHealing) {
  start_controller(policy(kPolicy), estate());
  add_host("h1");
  add_host("h2");
  add_host("h3");
  loop_.run_for(10 * kMs);

  network_.set_partitioned("h2", true);
  loop_.run_for(5 * kSecond);  // > 3 missed heartbeats of 1 s
  EXPECT_EQ(service().agent("h2")->state, AgentState::kLost);
  EXPECT_EQ(service().totals().agents_lost, 1u);
  EXPECT_FALSE(host("h2").agent->status().connected);

  // A change for h2 and h3 while h2 is cut off: h3 applies it, h2 cannot.
  dfw::Status error;
  controller::ChangeId id = service().set_labels(3, {{"role", "cache"}}, error);
  ASSERT_NE(id, 0u) << error.message();
  loop_.run_for(1 * kSecond);
  EXPECT_EQ(service().change(id)->pending_hosts, (std::vector<std::string>{"h2"}));
  EXPECT_FALSE(service().change(id)->converged());
  EXPECT_EQ(syn("h3", 3, Direction::kIngress, "10.0.0.2", "10.0.0.3", 5432), Verdict::kDrop);
  EXPECT_EQ(syn("h2", 2, Direction::kEgress, "10.0.0.2", "10.0.0.3", 5432), Verdict::kAllow);  // stale

  const Nanos healed_at = loop_.now();
  network_.set_partitioned("h2", false);
  loop_.run_for(10 * kSecond);
  const controller::ChangeRecord* record = service().change(id);
  ASSERT_TRUE(record->converged());
  EXPECT_GT(record->converged_ns, healed_at);
  EXPECT_EQ(service().agent("h2")->state, AgentState::kSynced);
  EXPECT_EQ(service().agent("h2")->sessions, 2u);
  EXPECT_EQ(syn("h2", 2, Direction::kEgress, "10.0.0.2", "10.0.0.3", 5432), Verdict::kDrop);
}

TEST_F(ControlPlaneTest, HostWithoutWorkloadsGetsAnEmptySnapshotAndLaterItsPort) {
  start_controller(policy(kPolicy), estate());
  add_host("h4");
  loop_.run_for(10 * kMs);
  EXPECT_TRUE(host("h4").agent->status().synced);
  EXPECT_TRUE(host("h4").agent->status().port_versions.empty());

  dfw::Status error;
  ASSERT_NE(service().add_workload(workload(5, "api-2", "10.0.0.5", "api", "h4"), error), 0u);
  loop_.run_for(10 * kMs);
  EXPECT_TRUE(host("h4").datapath.has_port(5));
  EXPECT_EQ(syn("h4", 5, Direction::kIngress, "10.0.0.1", "10.0.0.5", 8080), Verdict::kAllow);
}

TEST_F(ControlPlaneTest, ChangeForAHostWithoutAgentStaysOpen) {
  start_controller(policy(kPolicy), estate());
  add_host("h1");
  loop_.run_for(10 * kMs);
  dfw::Status error;
  controller::ChangeId id = service().set_labels(3, {{"role", "cache"}}, error);
  loop_.run_for(1 * kSecond);
  EXPECT_FALSE(service().change(id)->converged());
  EXPECT_EQ(service().change(id)->pending_hosts, (std::vector<std::string>{"h2", "h3"}));
  EXPECT_EQ(service().change(id)->messages, 0u);

  add_host("h2");
  add_host("h3");
  loop_.run_for(10 * kMs);
  const controller::ChangeRecord* record = service().change(id);
  ASSERT_TRUE(record->converged());
  EXPECT_EQ(record->messages, 4u);  // a snapshot and its ack per host
}

TEST_F(ControlPlaneTest, AgentsReportPortCountersPeriodically) {
  start_controller(policy(kPolicy), estate());
  add_host("h1");
  loop_.run_for(10 * kMs);
  for (int i = 0; i < 3; ++i) syn("h1", 1, Direction::kEgress, "10.0.0.1", "10.0.0.2", 8080);
  for (int i = 0; i < 2; ++i) syn("h1", 1, Direction::kEgress, "10.0.0.1", "10.0.0.2", 22);
  EXPECT_TRUE(service().agent("h1")->port_stats.empty());
  // Sent at the first heartbeat tick (every 1 s from the connection attempt) at least the
  // stats interval (10 s) after connecting: at 11 s.
  loop_.run_for(10 * kSecond);
  EXPECT_TRUE(service().agent("h1")->port_stats.empty());
  loop_.run_for(1 * kSecond);
  const auto& stats = service().agent("h1")->port_stats;
  ASSERT_EQ(stats.size(), 1u);
  const controller::PortCountersRecord& port = stats.at(1);
  EXPECT_EQ(port.version, 1u);
  EXPECT_EQ(port.packets_out, 5u);
  EXPECT_EQ(port.packets_in, 0u);
  EXPECT_EQ(port.allowed, 3u);
  EXPECT_EQ(port.dropped, 2u);
  EXPECT_EQ(service().totals().messages_received.at("port_stats"), 1u);
}

TEST_F(ControlPlaneTest, RefusedChangeChangesNothing) {
  start_controller(policy(kPolicy), estate());
  dfw::Status error;
  EXPECT_EQ(service().set_labels(99, {{"role", "web"}}, error), 0u);
  EXPECT_FALSE(error.is_ok());
  EXPECT_TRUE(service().changes().empty());
  EXPECT_EQ(service().set_labels(1, {{"tier", "web"}}, error), 0u);
  EXPECT_NE(error.message().find("tier"), std::string::npos) << error.message();
}

}  // namespace
}  // namespace controlplane_test
