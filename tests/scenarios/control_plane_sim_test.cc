// The modelled control plane of a run: the real controller service and agents over the simulated
// management network. Convergence times from the model, partitions, controller crash and
// recovery, agent restart, the invariants (and a deliberately broken host caught by them), and
// the refusal of control-plane actions without a `control_plane` section.

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "analysis/result_reader.h"
#include "control_plane_sim.h"
#include "models/mgmt_network.h"
#include "scenarios/simulation.h"
#include "test_support.h"
#include "world.h"

namespace scenarios {
namespace {

using ::testing::HasSubstr;

// web1 on a, app1 on b, db1 on c; web -> app on tcp/8080, app -> db on tcp/5432. No traffic
// unless a test adds it, so that times are the control plane's alone. CONTROL is replaced by the
// test's control_plane section.
constexpr const char* kScenario = R"(name: cp-test
duration: 5s
seed: 3
topology:
  fabric: {kind: star}
  hosts: [{name: a}, {name: b}, {name: c}]
  vms:
    - {name: web1, host: a, labels: {role: web}}
    - {name: app1, host: b, labels: {role: app}}
    - {name: db1, host: c, labels: {role: db}}
policy:
  default_action: drop
  rules:
    - {name: web-to-app, from: {role: web}, to: {role: app}, services: [tcp/8080], action: allow}
    - {name: app-to-db, from: {role: app}, to: {role: db}, services: [tcp/5432], action: allow}
CONTROL
)";

constexpr const char* kControl = R"(control_plane:
  latency: 1ms
  bandwidth: 1Gbps
  controller_latency: 0s
  controller_bandwidth: 10Gbps
  heartbeat_interval: 1s
  missed_heartbeats: 3
  reconnect_interval: 100ms
)";

Scenario load(const std::string& control = kControl, std::vector<std::string> overrides = {}) {
  std::string text = kScenario;
  text.replace(text.find("CONTROL"), 7, control);
  auto r = testing::load_text(text, overrides);
  EXPECT_TRUE(r.scenario) << r.text;
  return r.scenario.value_or(Scenario{});
}

// A world with the simulated control plane in place of the direct one, agents started.
struct CpRun {
  explicit CpRun(const Scenario& s) : scenario(s) {
    std::string error;
    int exit_code = 0;
    world = build_world(scenario, "", error, exit_code);
    EXPECT_TRUE(world) << error;
    auto created = SimulatedControlPlane::create(scenario, *world, annotations, error);
    EXPECT_TRUE(created) << error;
    cp = created.get();
    world->control_plane = std::move(created);
    cp->start();
  }
  void until(sim::Time t) { world->kernel.run_until(t); }
  models::VmIndex vm(const std::string& name) const {
    for (models::VmIndex v = 0; v < world->vms.size(); ++v)
      if (world->vms[v].name == name) return v;
    ADD_FAILURE() << name;
    return 0;
  }
  uint32_t host(const std::string& name) const {
    for (uint32_t h = 0; h < world->hosts.size(); ++h)
      if (world->hosts[h]->name() == name) return h;
    ADD_FAILURE() << name;
    return 0;
  }
  bool enforces_desired(const std::string& name) const {
    return cp->enforced_version(vm(name)) == cp->desired_version(vm(name));
  }

  Scenario scenario;
  Annotations annotations;
  std::unique_ptr<World> world;
  SimulatedControlPlane* cp = nullptr;
};

// Upper bound of the serialization a change's messages can add: every byte crosses one host link
// (8 ns per byte at 1 Gbps) and the controller's (0.8 ns per byte at 10 Gbps), plus rounding.
int64_t serialization_bound(uint64_t bytes, uint64_t messages) { return static_cast<int64_t>(bytes * 9 + messages * 2); }

TEST(ControlPlaneSim, AgentsSyncAtStartAndAChangeConvergesAfterOneRoundTrip) {
  CpRun run(load());
  run.until(sim::Millis(100));
  for (uint32_t h = 0; h < 3; ++h) {
    EXPECT_TRUE(run.cp->agent(h).status().synced) << h;
    EXPECT_EQ(run.cp->agent(h).status().snapshots_applied, 1u);
  }
  const uint64_t before = run.cp->enforced_version(run.vm("web1"));
  std::string error;
  ASSERT_TRUE(run.cp->set_rule_action("web-to-app", dfw::Action::kDrop, error)) << error;
  EXPECT_FALSE(run.enforces_desired("web1"));  // nothing is instant
  run.until(sim::Millis(200));
  ASSERT_EQ(run.cp->convergence().size(), 1u);
  const ConvergenceRow& row = run.cp->convergence()[0];
  EXPECT_EQ(row.at_ns, 100'000'000);
  EXPECT_EQ(row.kind, "policy");
  EXPECT_EQ(row.ports_impacted, 2u);  // web1 egress and app1 ingress; db1 is untouched
  EXPECT_EQ(row.hosts_impacted, 2u);
  EXPECT_EQ(row.messages, 4u);  // a delta and an ack per impacted host
  // One round trip over a 1 ms host link (the controller's link has no latency), plus the
  // messages' serialization; the agent installed it half a round trip earlier.
  const int64_t convergence = row.converged_ns - row.at_ns;
  EXPECT_GE(convergence, 2'000'000);
  EXPECT_LE(convergence, 2'000'000 + serialization_bound(row.bytes, row.messages));
  EXPECT_GE(row.enforced_ns - row.at_ns, 1'000'000);
  EXPECT_LE(row.enforced_ns, row.converged_ns - 1'000'000);
  EXPECT_TRUE(run.enforces_desired("web1"));
  EXPECT_TRUE(run.enforces_desired("app1"));
  EXPECT_GT(run.cp->enforced_version(run.vm("web1")), before);
  const InvariantCount& c = run.world->invariants["converged_rules_match"];
  EXPECT_GE(c.checked, 3u);
  EXPECT_EQ(c.violations, 0u) << c.first_violation;
}

TEST(ControlPlaneSim, ConvergenceScalesWithTheManagementLatency) {
  CpRun run(load(std::string(kControl), {"control_plane.latency=5ms"}));
  run.until(sim::Millis(200));
  std::string error;
  ASSERT_TRUE(run.cp->relabel(run.vm("db1"), {{"role", "app"}}, error)) << error;
  run.until(sim::Millis(400));
  ASSERT_EQ(run.cp->convergence().size(), 1u);
  const ConvergenceRow& row = run.cp->convergence()[0];
  EXPECT_EQ(row.kind, "labels");
  const int64_t convergence = row.converged_ns - row.at_ns;
  EXPECT_GE(convergence, 10'000'000);
  EXPECT_LE(convergence, 10'000'000 + serialization_bound(row.bytes, row.messages));
  // db1 is an app now: web1 may reach it, so web1's and db1's rules changed.
  EXPECT_TRUE(run.enforces_desired("db1"));
  EXPECT_TRUE(run.enforces_desired("web1"));
}

TEST(ControlPlaneSim, PartitionedHostKeepsTheOldPolicyUntilTheHeal) {
  CpRun run(load());
  run.until(sim::Millis(100));
  run.cp->partition({run.host("b")});
  run.until(sim::Millis(200));
  std::string error;
  ASSERT_TRUE(run.cp->set_rule_action("web-to-app", dfw::Action::kDrop, error)) << error;
  run.until(sim::Millis(900));
  EXPECT_TRUE(run.enforces_desired("web1"));   // host a converged
  EXPECT_FALSE(run.enforces_desired("app1"));  // host b still enforces the last policy it got
  EXPECT_LT(run.cp->convergence()[0].converged_ns, 0);
  // Heartbeats 3 x 1 s: at 1 s the connection is still up; held messages flow after the heal.
  run.cp->heal_partition();
  run.until(sim::Seconds(2));
  const ConvergenceRow& row = run.cp->convergence()[0];
  EXPECT_GE(row.converged_ns, 902'000'000);  // heal + delta 1 ms + ack 1 ms
  EXPECT_LE(row.converged_ns, 902'000'000 + serialization_bound(row.bytes, row.messages));
  EXPECT_TRUE(run.enforces_desired("app1"));
  EXPECT_EQ(run.cp->agent(run.host("b")).status().connections, 1u);  // never reconnected
  EXPECT_GT(run.cp->network().stats(run.cp->host_node(run.host("b"))).messages_held, 0u);
}

TEST(ControlPlaneSim, ALongPartitionBreaksTheSessionAndTheAgentResyncsAfterTheHeal) {
  CpRun run(load(std::string(kControl), {"control_plane.heartbeat_interval=100ms"}));
  run.until(sim::Millis(100));
  run.cp->partition({run.host("b")});
  run.until(sim::Millis(200));
  std::string error;
  ASSERT_TRUE(run.cp->set_rule_action("web-to-app", dfw::Action::kDrop, error)) << error;
  run.until(sim::Seconds(2));
  EXPECT_FALSE(run.enforces_desired("app1"));
  EXPECT_FALSE(run.cp->agent(run.host("b")).status().connected);
  EXPECT_GE(run.cp->agent(run.host("b")).status().disconnections, 1u);
  run.cp->heal_partition();
  run.until(sim::Seconds(4));
  EXPECT_TRUE(run.enforces_desired("app1"));
  EXPECT_GE(run.cp->agent(run.host("b")).status().connections, 2u);
  EXPECT_GE(run.cp->agent(run.host("b")).status().snapshots_applied, 2u);  // resynced in full
  const ConvergenceRow& row = run.cp->convergence()[0];
  EXPECT_GT(row.converged_ns, 2'000'000'000);
  const InvariantCount& c = run.world->invariants["converged_rules_match"];
  EXPECT_EQ(c.violations, 0u) << c.first_violation;
}

TEST(ControlPlaneSim, ChangesMadeWhileTheControllerIsDownApplyAfterItsRecovery) {
  CpRun run(load());
  run.until(sim::Millis(100));
  std::string error;
  ASSERT_TRUE(run.cp->fail_controller(error)) << error;
  EXPECT_FALSE(run.cp->fail_controller(error));
  run.until(sim::Millis(200));
  ASSERT_TRUE(run.cp->set_rule_action("web-to-app", dfw::Action::kDrop, error)) << error;
  run.until(sim::Millis(500));
  // Agents keep the last policy (web -> app still allowed) while nothing listens.
  EXPECT_EQ(run.cp->convergence()[0].converged_ns, -1);
  const uint64_t old_version = run.cp->enforced_version(run.vm("web1"));
  EXPECT_NE(old_version, 0u);
  ASSERT_TRUE(run.cp->recover_controller(error)) << error;
  run.until(sim::Seconds(3));
  const ConvergenceRow& row = run.cp->convergence()[0];
  EXPECT_GT(row.converged_ns, 500'000'000);
  EXPECT_TRUE(run.enforces_desired("web1"));
  EXPECT_TRUE(run.enforces_desired("app1"));
  for (uint32_t h = 0; h < 3; ++h) EXPECT_GE(run.cp->agent(h).status().snapshots_applied, 2u);
  // The recovered controller computed the drop: web1's table is not the one from before.
  const controller::ControllerService* s = run.cp->service();
  ASSERT_TRUE(s);
  EXPECT_EQ(s->controller().policy().rules[0].action, dfw::Action::kDrop);
}

TEST(ControlPlaneSim, AgentRestartKeepsOrFlushesTheDatapathConnections) {
  // TCP traffic web1 -> app1 so that the datapath holds connections.
  std::string text = kControl;
  text += R"(transport:
  tcp: {initial_rto: 10ms, min_rto: 5ms, syn_retries: 3}
traffic:
  - {kind: synthetic, pattern: tiers, tiers: [web, app], flow_size_cdf: DATA/websearch_cdf.txt, load: 0.05, protocol: tcp, destination_port: 8080}
)";
  text.replace(text.find("DATA"), 4, std::string(SEGSIM_SOURCE_DIR) + "/scenarios/data");
  CpRun run(load(text));
  for (auto& g : run.world->generators) g->start();
  run.until(sim::Millis(300));
  const uint32_t a = run.host("a");
  const models::VmIndex web1 = run.vm("web1");
  const std::size_t live = run.world->hosts[a]->datapath().connection_count(web1);
  ASSERT_GT(live, 0u);
  run.cp->restart_agent(a, false);
  EXPECT_EQ(run.world->hosts[a]->datapath().connection_count(web1), live);  // keep
  run.until(sim::Millis(400));
  EXPECT_TRUE(run.cp->agent(a).status().synced);  // the new agent resynced
  EXPECT_EQ(run.cp->agent_records()[a].restarts, 1u);
  ASSERT_GT(run.world->hosts[a]->datapath().connection_count(web1), 0u);
  run.cp->restart_agent(a, true);
  EXPECT_EQ(run.world->hosts[a]->datapath().connection_count(web1), 0u);  // flush
  EXPECT_EQ(run.cp->agent_records()[a].restarts, 2u);
}

// A deliberately broken host: after convergence its datapath gets a table behind the agent's
// back (an agent bug that installs something other than what the controller computed). The
// next convergence check catches it.
TEST(ControlPlaneSim, ConvergedRulesInvariantCatchesATableTheControllerDidNotCompute) {
  CpRun run(load());
  run.until(sim::Millis(100));
  std::string error;
  ASSERT_TRUE(run.cp->set_rule_action("web-to-app", dfw::Action::kDrop, error)) << error;
  run.until(sim::Millis(200));
  EXPECT_EQ(run.world->invariants["converged_rules_match"].violations, 0u);
  // db1's port gets app1's table (another version, other rules).
  const uint32_t c = run.host("c");
  const dfw::RuleTablePtr wrong = run.cp->rules_on_host(run.vm("app1"), run.host("b"));
  ASSERT_TRUE(wrong);
  ASSERT_TRUE(run.world->hosts[c]->install_rules(run.vm("db1"), wrong));
  // A change elsewhere (web1 only) converges; the check looks at every port.
  ASSERT_TRUE(run.cp->relabel(run.vm("web1"), {{"env", "prod"}}, error)) << error;
  run.until(sim::Millis(300));
  const InvariantCount& inv = run.world->invariants["converged_rules_match"];
  EXPECT_GE(inv.violations, 1u);
  EXPECT_THAT(inv.first_violation, HasSubstr("vm db1 on c"));
}

TEST(ControlPlaneSim, ControlPlaneActionsWithoutTheSectionAreRefused) {
  std::string text = kScenario;
  text.replace(text.find("CONTROL"), 7, "timeline:\n  - {at: 10ms, action: set_rule_action, rule: web-to-app, verdict: drop}\n");
  auto r = testing::load_text(text);
  ASSERT_TRUE(r.scenario) << r.text;
  RunOptions options;
  options.output_path = (std::filesystem::temp_directory_path() / ("cp-refused-" + std::to_string(getpid()) + ".h5")).string();
  std::string error;
  int exit_code = 0;
  EXPECT_FALSE(Simulation::create(*r.scenario, options, error, exit_code));
  EXPECT_EQ(exit_code, 2);
  EXPECT_THAT(error, HasSubstr("control_plane"));
  EXPECT_FALSE(std::filesystem::exists(options.output_path));
}

TEST(ControlPlaneSim, BadControlPlaneSectionsAreRejectedWithTheField) {
  std::string text = kScenario;
  text.replace(text.find("CONTROL"), 7, "control_plane: {latency: 1ms, loss: 0.9, heartbeat: 1s}\n");
  auto r = testing::load_text(text);
  EXPECT_FALSE(r.scenario);
  EXPECT_THAT(r.text, HasSubstr("control_plane.loss"));
  EXPECT_THAT(r.text, HasSubstr("control_plane.heartbeat"));
}

// A live migration with `policy: before` under the modelled control plane: the controller learns
// the move ahead of the switchover, the destination's agent holds the rules, the port enforces
// them from its first packet.
TEST(ControlPlaneSim, MigrationPreparesThePolicyThroughTheController) {
  std::string control = kControl;
  control += "timeline:\n  - {at: 100ms, action: migrate, vm: web1, to: c, memory: 64MiB, policy: before}\n";
  Scenario s = load(control, {"duration=1s"});
  RunOptions options;
  options.output_path = (std::filesystem::temp_directory_path() / ("cp-migrate-" + std::to_string(getpid()) + ".h5")).string();
  std::string error;
  int exit_code = 0;
  auto simulation = Simulation::create(s, options, error, exit_code);
  ASSERT_TRUE(simulation) << error;
  ASSERT_EQ(simulation->run(error), 0) << error;
  RunSummary summary;
  ASSERT_EQ(simulation->finish(summary, error), 0) << error;
  auto reader = analysis::ResultReader::open(options.output_path, error);
  ASSERT_TRUE(reader) << error;
  std::vector<std::string> change, host;
  std::vector<int64_t> at, converged;
  std::vector<uint64_t> version, desired;
  ASSERT_TRUE(reader->read_strings("/convergence/change", change, error)) << error;
  ASSERT_TRUE(reader->read_int64("/convergence/at_ns", at, error)) << error;
  ASSERT_TRUE(reader->read_int64("/convergence/converged_ns", converged, error)) << error;
  ASSERT_EQ(change.size(), 1u);
  EXPECT_EQ(change[0], "prepare web1 on c");
  EXPECT_EQ(at[0], 100'000'000);  // at the start of the pre-copy
  EXPECT_GE(converged[0] - at[0], 2'000'000);  // a round trip to c (and to a, which drops the port)
  std::vector<int64_t> gap;
  ASSERT_TRUE(reader->read_int64("/migrations/policy_gap_ns", gap, error)) << error;
  ASSERT_EQ(gap.size(), 1u);
  EXPECT_EQ(gap[0], 0);  // the rules were on c before the switchover
  ASSERT_TRUE(reader->read_strings("/control_ports/host", host, error)) << error;
  ASSERT_TRUE(reader->read_uint64("/control_ports/version", version, error)) << error;
  ASSERT_TRUE(reader->read_uint64("/control_ports/desired_version", desired, error)) << error;
  EXPECT_EQ(host[0], "c");  // web1 runs on c now
  EXPECT_EQ(version, desired);
  std::filesystem::remove(options.output_path);
}

// The bundled partition scenario end to end, through the result file.
TEST(ControlPlaneSim, PartitionScenarioConvergesAfterTheHealWithNoViolations) {
  auto r = testing::load_file(std::string(SEGSIM_SOURCE_DIR) + "/scenarios/examples/partition.yaml");
  ASSERT_TRUE(r.scenario) << r.text;
  RunOptions options;
  options.output_path = (std::filesystem::temp_directory_path() / ("cp-partition-" + std::to_string(getpid()) + ".h5")).string();
  std::string error;
  int exit_code = 0;
  auto simulation = Simulation::create(*r.scenario, options, error, exit_code);
  ASSERT_TRUE(simulation) << error;
  ASSERT_EQ(simulation->run(error), 0) << error;
  RunSummary summary;
  ASSERT_EQ(simulation->finish(summary, error), 0) << error;
  auto reader = analysis::ResultReader::open(options.output_path, error);
  ASSERT_TRUE(reader) << error;
  std::vector<int64_t> at, converged;
  std::vector<uint64_t> hosts;
  ASSERT_TRUE(reader->read_int64("/convergence/at_ns", at, error)) << error;
  ASSERT_TRUE(reader->read_int64("/convergence/converged_ns", converged, error)) << error;
  ASSERT_TRUE(reader->read_uint64("/convergence/hosts_impacted", hosts, error)) << error;
  ASSERT_EQ(at.size(), 1u);
  EXPECT_EQ(at[0], 600'000'000);
  EXPECT_EQ(hosts[0], 4u);  // web and app VMs on every host
  EXPECT_GT(converged[0], 1'600'000'000);  // only after the heal at 1.6 s
  EXPECT_LT(converged[0], 2'500'000'000);
  std::vector<std::string> names;
  std::vector<uint64_t> violations, counts_only;
  ASSERT_TRUE(reader->read_strings("/invariants/name", names, error)) << error;
  ASSERT_TRUE(reader->read_uint64("/invariants/violations", violations, error)) << error;
  ASSERT_TRUE(reader->read_uint64("/invariants/counts_only", counts_only, error)) << error;
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (counts_only[i] == 0) {
      EXPECT_EQ(violations[i], 0u) << names[i];
    }
  }
  std::filesystem::remove(options.output_path);
}

// A restarted controller resumes its version sequence (docs/control-plane.md, "Controller
// restart"). Host a is cut off before the crash and still enforces the version of the first
// incarnation when the recovered controller changes web1's rules: a controller that restarted
// its versions from 1 would give the new rules the number a's old table carries (generation 2
// here), hide the difference from the stale-exposure counter and from invariant 2, and never
// resend. With the durable record the new version is above every earlier one.
TEST(ControlPlaneSim, RecoveredControllerNeverReusesAPortVersion) {
  std::string text = kControl;
  text += R"(transport:
  tcp: {initial_rto: 10ms, min_rto: 5ms, syn_retries: 50}
traffic:
  - {kind: synthetic, pattern: tiers, tiers: [web, app], flow_size_cdf: DATA/websearch_cdf.txt, load: 0.05, protocol: tcp, destination_port: 8080}
)";
  text.replace(text.find("DATA"), 4, std::string(SEGSIM_SOURCE_DIR) + "/scenarios/data");
  CpRun run(load(text));
  for (auto& g : run.world->generators) g->start();
  const models::VmIndex web1 = run.vm("web1");
  const uint32_t a = run.host("a");
  run.until(sim::Millis(100));
  const uint64_t initial = run.cp->desired_version(web1);
  std::string error;
  ASSERT_TRUE(run.cp->set_default_action(dfw::Action::kAllow, error)) << error;
  run.until(sim::Millis(150));
  const uint64_t before_crash = run.cp->enforced_version(web1);
  EXPECT_GT(before_crash, initial);
  EXPECT_EQ(before_crash, run.cp->desired_version(web1));
  const uint64_t generation_before = run.cp->service()->controller().generation();
  run.cp->partition({a});
  run.until(sim::Millis(200));
  ASSERT_TRUE(run.cp->fail_controller(error)) << error;
  run.until(sim::Millis(250));
  ASSERT_TRUE(run.cp->recover_controller(error)) << error;
  // Same content as before the crash: same version (a's agent enforces it already).
  EXPECT_GT(run.cp->service()->controller().generation(), generation_before);
  EXPECT_EQ(run.cp->desired_version(web1), before_crash);
  run.until(sim::Millis(300));
  ASSERT_TRUE(run.cp->set_rule_action("web-to-app", dfw::Action::kDrop, error)) << error;
  const uint64_t after = run.cp->desired_version(web1);
  EXPECT_GT(after, before_crash);
  EXPECT_GT(after, generation_before);  // above every version the first incarnation gave
  const dfw::PortCounters* counters = run.world->hosts[a]->datapath().port_counters(web1);
  ASSERT_TRUE(counters);
  const uint64_t allowed_at_change = counters->allowed;
  run.until(sim::Millis(800));
  // a still enforces the old table, and the version says so.
  EXPECT_EQ(run.cp->enforced_version(web1), before_crash);
  const uint64_t allowed_stale = counters->allowed - allowed_at_change;
  EXPECT_GT(allowed_stale, 0u);  // web1 kept opening connections under the replaced version
  run.cp->heal_partition();
  run.until(sim::Seconds(5));
  EXPECT_TRUE(run.enforces_desired("web1"));
  EXPECT_EQ(run.cp->enforced_version(web1), after);
  run.cp->finish();
  // Every packet web1's port allowed between the change and a's resync is exposure.
  EXPECT_GE(run.cp->stale_packets(), allowed_stale);
  const InvariantCount& c = run.world->invariants["converged_rules_match"];
  EXPECT_GT(c.checked, 0u);
  EXPECT_EQ(c.violations, 0u) << c.first_violation;
}

}  // namespace
}  // namespace scenarios
