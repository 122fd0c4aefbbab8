// Scaling out and in during a run (timeline actions add_vm / remove_vm, scenarios/run/src/scale.h):
// the new VM's port, stack and traffic; the controller adapting the peers' IP sets over the
// simulated management network (convergence times from the model), with and without a modelled
// control plane; real TCP handshakes allowed or dropped by dfw; errors for bad arguments from the
// loader (file:line) and from apply().

#include <arpa/inet.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "analysis/result_reader.h"
#include "control_plane_sim.h"
#include "extension.h"
#include "scale.h"
#include "scenarios/simulation.h"
#include "test_support.h"
#include "world.h"

namespace scenarios {
namespace {

using ::testing::HasSubstr;
using models::traffic::FlowOutcome;
using models::traffic::FlowReason;

// web-0 on a, web-1 on b (group web), app1 on b, db1 on c. web -> app tcp/8080, app -> db
// tcp/5432, app -> web tcp/9000; everything else dropped. No traffic unless a test adds it.
constexpr const char* kScenario = R"(name: scale-test
duration: 5s
seed: 3
topology:
  fabric: {kind: star}
  hosts: [{name: a}, {name: b}, {name: c}]
  vms:
    - {group: web, count: 2, placement: [a, b], labels: {role: web}}
    - {name: app1, host: b, labels: {role: app}}
    - {name: db1, host: c, labels: {role: db}}
transport:
  tcp: {initial_rto: 10ms, min_rto: 5ms, syn_retries: 3}
policy:
  default_action: drop
  rules:
    - {name: web-to-app, from: {role: web}, to: {role: app}, services: [tcp/8080], action: allow}
    - {name: app-to-db, from: {role: app}, to: {role: db}, services: [tcp/5432], action: allow}
    - {name: app-to-web, from: {role: app}, to: {role: web}, services: [tcp/9000], action: allow}
EXTRA
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

std::string scenario_text(const std::string& extra) {
  std::string text = kScenario;
  text.replace(text.find("EXTRA"), 5, extra);
  const auto data = text.find("DATA");
  if (data != std::string::npos) text.replace(data, 4, std::string(SEGSIM_SOURCE_DIR) + "/scenarios/data");
  return text;
}

Scenario load(const std::string& extra) {
  auto r = testing::load_text(scenario_text(extra));
  EXPECT_TRUE(r.scenario) << r.text;
  return r.scenario.value_or(Scenario{});
}

// A world with (optionally) the simulated control plane, and the scale actions.
struct ScaleRun {
  ScaleRun(const Scenario& s, bool modelled) : scenario(s) {
    std::string error;
    int exit_code = 0;
    world = build_world(scenario, "", error, exit_code);
    EXPECT_TRUE(world) << error;
    if (modelled) {
      auto created = SimulatedControlPlane::create(scenario, *world, annotations, error);
      EXPECT_TRUE(created) << error;
      cp = created.get();
      world->control_plane = std::move(created);
      cp->start();
    }
    context = std::make_unique<RunContext>(RunContext{scenario, *world, annotations, ""});
    scale = create_scale_extension(*context);
    scale->register_actions(actions);
  }
  bool apply(const std::string& action, std::map<std::string, std::string> args, std::string& error) {
    TimelineEvent e;
    e.at = world->kernel.now();
    e.action = action;
    e.args = std::move(args);
    return (*actions.find(action))(e, error);
  }
  void until(sim::Time t) { world->kernel.run_until(t); }
  models::VmIndex vm(const std::string& name) const { return world->vms.find(name); }
  uint32_t host(const std::string& name) const {
    for (uint32_t h = 0; h < world->hosts.size(); ++h)
      if (world->hosts[h]->name() == name) return h;
    ADD_FAILURE() << name;
    return 0;
  }
  models::Host& host_of(const std::string& vm_name) { return *world->hosts[world->vms[vm(vm_name)].host]; }
  // Opens a TCP flow now; the caller runs the kernel and reads the outcome.
  models::traffic::FlowId tcp(const std::string& from, const std::string& to, uint16_t port) {
    return world->stacks[vm(from)]->start_tcp_flow(vm(to), port, 20'000);
  }
  FlowOutcome outcome(models::traffic::FlowId id) const { return world->flows.outcome[id]; }
  uint64_t dropped(const std::string& vm_name) {
    const dfw::PortCounters* c = host_of(vm_name).datapath().port_counters(vm(vm_name));
    return c ? c->dropped : 0;
  }
  // Whether the controller's rules for `port` name `address` in one of their IP sets.
  bool ip_sets_hold(const controller::Controller& c, const std::string& port, const std::string& address) const {
    const dfw::RuleSetSpec spec = c.port_spec(vm(port));
    for (const auto& [name, prefixes] : spec.ip_sets)
      for (const dfw::IpPrefix& p : prefixes)
        if (p.to_string() == address + "/32") return true;
    return false;
  }

  Scenario scenario;
  Annotations annotations;
  std::unique_ptr<World> world;
  SimulatedControlPlane* cp = nullptr;
  std::unique_ptr<RunContext> context;
  std::unique_ptr<RunExtension> scale;
  ActionTable actions;
};

std::string ipv4_of(const World& w, models::VmIndex v) {
  char buf[INET_ADDRSTRLEN];
  const in_addr a{htonl(w.vms[v].ipv4)};
  return inet_ntop(AF_INET, &a, buf, sizeof buf);
}

// Upper bound of the serialization a change's messages add (as in control_plane_sim_test.cc):
// every byte crosses one 1 Gbps host link (8 ns/byte) and the 10 Gbps controller link.
int64_t serialization_bound(uint64_t bytes, uint64_t messages) { return static_cast<int64_t>(bytes * 9 + messages * 2); }

TEST(Scale, AddVmConvergesOverTheManagementNetworkAndItsTrafficIsEnforced) {
  ScaleRun run(load(kControl), true);
  run.until(sim::Millis(100));
  std::string error;
  ASSERT_TRUE(run.apply("add_vm", {{"group", "web"}, {"host", "c"}}, error)) << error;
  const models::VmIndex web2 = run.vm("web-2");
  ASSERT_NE(web2, models::kNoVm);  // the group's next free name
  // The first free address of the default vm_subnet 10.0.0.0/16 after the four scenario VMs
  // (10.0.0.1-4), and the group's labels.
  EXPECT_EQ(ipv4_of(*run.world, web2), "10.0.0.5");
  EXPECT_EQ(run.world->vms[web2].labels.at("role"), "web");
  EXPECT_TRUE(run.world->hosts[run.host("c")]->has_vm(web2));
  EXPECT_EQ(run.cp->enforced_version(web2), 0u);  // nothing is instant: no rules yet
  run.until(sim::Millis(200));

  const ConvergenceRow& row = run.cp->convergence().back();
  EXPECT_EQ(row.change, "add_vm web-2 on c");
  EXPECT_EQ(row.kind, "add_workload");
  EXPECT_EQ(row.at_ns, 100'000'000);
  // The new port, and app1 whose ingress set of web addresses grew (web -> app). web-0/web-1
  // name no web set; db1 none either.
  EXPECT_EQ(row.ports_impacted, 2u);
  EXPECT_EQ(row.hosts_impacted, 2u);  // c (web-2) and b (app1)
  EXPECT_EQ(row.messages, 4u);        // a delta and an ack per impacted host
  // One round trip over a 1 ms host link (the controller's link has no latency) plus serialization.
  const int64_t convergence = row.converged_ns - row.at_ns;
  EXPECT_GE(convergence, 2'000'000);
  EXPECT_LE(convergence, 2'000'000 + serialization_bound(row.bytes, row.messages));

  const controller::Controller& computed = run.cp->service()->controller();
  EXPECT_TRUE(run.ip_sets_hold(computed, "app1", "10.0.0.5"));
  EXPECT_EQ(run.cp->enforced_version(web2), run.cp->desired_version(web2));
  EXPECT_EQ(run.cp->enforced_version(run.vm("app1")), run.cp->desired_version(run.vm("app1")));

  // Real handshakes from the new VM: to app1:8080 allowed end to end; to db1:5432 dropped by
  // web-2's own port (default drop): the SYN and its 3 retries.
  const uint64_t dropped_before = run.dropped("web-2");
  const auto to_app = run.tcp("web-2", "app1", 8080);
  const auto to_db = run.tcp("web-2", "db1", 5432);
  run.until(sim::Seconds(1));
  EXPECT_EQ(run.outcome(to_app), FlowOutcome::kCompleted);
  EXPECT_EQ(run.outcome(to_db), FlowOutcome::kFailedTimeout);
  EXPECT_EQ(run.world->flows.reason[to_db], FlowReason::kSynRetriesExhausted);
  EXPECT_EQ(run.dropped("web-2") - dropped_before, 4u);
  const InvariantCount& c = run.world->invariants["converged_rules_match"];
  EXPECT_GT(c.checked, 0u);
  EXPECT_EQ(c.violations, 0u) << c.first_violation;
}

TEST(Scale, RemoveVmShrinksThePeersSetsAndTrafficToItIsDropped) {
  ScaleRun run(load(kControl), true);
  run.until(sim::Millis(100));
  std::string error;
  ASSERT_TRUE(run.apply("add_vm", {{"name", "web-extra"}, {"host", "c"}, {"labels", "role=web"}, {"ipv4", "10.0.9.9"}},
                        error))
      << error;
  run.until(sim::Millis(200));
  const models::VmIndex extra = run.vm("web-extra");
  EXPECT_TRUE(run.ip_sets_hold(run.cp->service()->controller(), "app1", "10.0.9.9"));
  const auto before = run.tcp("app1", "web-extra", 9000);  // app -> web tcp/9000 is allowed
  run.until(sim::Millis(400));
  EXPECT_EQ(run.outcome(before), FlowOutcome::kCompleted);

  ASSERT_TRUE(run.apply("remove_vm", {{"vm", "web-extra"}}, error)) << error;
  EXPECT_FALSE(run.world->hosts[run.host("c")]->has_vm(extra));
  EXPECT_EQ(run.world->hosts[run.host("c")]->datapath().port_counters(extra), nullptr);  // the port is gone
  EXPECT_EQ(run.world->vms[extra].transmitter, nullptr);                                  // and the vNIC
  run.until(sim::Millis(500));
  const ConvergenceRow& row = run.cp->convergence().back();
  EXPECT_EQ(row.change, "remove_vm web-extra");
  EXPECT_EQ(row.kind, "remove_workload");
  EXPECT_EQ(row.ports_impacted, 2u);  // web-extra's port removed, app1's egress set shrank
  EXPECT_EQ(row.hosts_impacted, 2u);
  const int64_t convergence = row.converged_ns - row.at_ns;
  EXPECT_GE(convergence, 2'000'000);
  EXPECT_LE(convergence, 2'000'000 + serialization_bound(row.bytes, row.messages));
  EXPECT_FALSE(run.ip_sets_hold(run.cp->service()->controller(), "app1", "10.0.9.9"));
  EXPECT_EQ(run.cp->desired_version(extra), 0u);

  // The model: app1's egress set no longer holds the address, so app1's own port drops the SYN
  // and its 3 retries; nothing reaches host c.
  const uint64_t dropped_before = run.dropped("app1");
  const uint64_t c_unknown_before = run.world->hosts[run.host("c")]->drops(models::HostDropReason::kUnknownDestination);
  const auto after = run.tcp("app1", "web-extra", 9000);
  run.until(sim::Seconds(1));
  EXPECT_EQ(run.outcome(after), FlowOutcome::kFailedTimeout);
  EXPECT_EQ(run.dropped("app1") - dropped_before, 4u);
  EXPECT_EQ(run.world->hosts[run.host("c")]->drops(models::HostDropReason::kUnknownDestination), c_unknown_before);
  EXPECT_EQ(run.world->invariants["converged_rules_match"].violations, 0u);
}

TEST(Scale, WithoutAControlPlaneTheRulesApplyAtOnce) {
  ScaleRun run(load(""), false);
  run.until(sim::Millis(100));
  std::string error;
  ASSERT_TRUE(run.apply("add_vm", {{"group", "web"}, {"host", "c"}}, error)) << error;
  const models::VmIndex web2 = run.vm("web-2");
  EXPECT_EQ(run.world->control_plane->enforced_version(web2), run.world->control_plane->desired_version(web2));
  EXPECT_NE(run.world->control_plane->desired_version(web2), 0u);
  EXPECT_TRUE(run.ip_sets_hold(*run.world->controller, "app1", ipv4_of(*run.world, web2)));
  const auto to_app = run.tcp("web-2", "app1", 8080);
  run.until(sim::Millis(500));
  EXPECT_EQ(run.outcome(to_app), FlowOutcome::kCompleted);
  ASSERT_TRUE(run.apply("remove_vm", {{"vm", "web-2"}}, error)) << error;
  EXPECT_FALSE(run.ip_sets_hold(*run.world->controller, "app1", ipv4_of(*run.world, web2)));
}

// New VMs join the tiers pattern (web -> app): web-2 starts flows once its rules are in place;
// once removed it starts none and is picked by nobody.
TEST(Scale, NewVmsJoinTheTiersTrafficAndRemovedOnesLeaveIt) {
  ScaleRun run(load(std::string(kControl) + R"(traffic:
  - {kind: synthetic, pattern: tiers, tiers: [web, app], flow_size_cdf: DATA/websearch_cdf.txt, load: 0.05, protocol: tcp, destination_port: 8080}
)"),
               true);
  for (auto& g : run.world->generators) g->start();
  const std::size_t sources = run.world->generators[0]->source_count();
  run.until(sim::Millis(100));
  std::string error;
  ASSERT_TRUE(run.apply("add_vm", {{"group", "web"}, {"host", "c"}}, error)) << error;
  const models::VmIndex web2 = run.vm("web-2");
  run.until(sim::Millis(600));
  EXPECT_EQ(run.world->generators[0]->source_count(), sources + 1);
  std::size_t from_web2 = 0, completed = 0;
  int64_t first_start = -1;
  for (std::size_t f = 0; f < run.world->flows.size(); ++f) {
    if (run.world->flows.source_vm[f] != web2) continue;
    ++from_web2;
    if (first_start < 0) first_start = run.world->flows.start_ns[f];
    completed += run.world->flows.outcome[f] == FlowOutcome::kCompleted;
  }
  EXPECT_GT(from_web2, 0u);
  EXPECT_GE(first_start, run.cp->convergence().back().converged_ns);  // joined once converged
  EXPECT_GT(completed, 0u);
  EXPECT_EQ(run.dropped("web-2"), 0u);  // it never sent before its rules arrived
  ASSERT_TRUE(run.apply("remove_vm", {{"vm", "web-2"}}, error)) << error;
  const std::size_t flows_at_removal = run.world->flows.size();
  run.until(sim::Millis(900));
  for (std::size_t f = flows_at_removal; f < run.world->flows.size(); ++f) EXPECT_NE(run.world->flows.source_vm[f], web2);
  EXPECT_EQ(run.world->invariants["converged_rules_match"].violations, 0u);
}

TEST(Scale, BadArgumentsFromApplyAreRefusedWithTheField) {
  ScaleRun run(load(kControl), true);
  std::string error;
  EXPECT_FALSE(run.apply("add_vm", {{"name", "x1"}, {"host", "nowhere"}}, error));
  EXPECT_THAT(error, HasSubstr("host: unknown host 'nowhere'"));
  EXPECT_FALSE(run.apply("add_vm", {{"name", "app1"}, {"host", "a"}}, error));
  EXPECT_THAT(error, HasSubstr("name: duplicate VM name 'app1'"));
  EXPECT_FALSE(run.apply("add_vm", {{"name", "x1"}, {"host", "a"}, {"labels", "tier=web"}}, error));
  EXPECT_THAT(error, HasSubstr("labels: unknown label key 'tier'"));
  EXPECT_FALSE(run.apply("add_vm", {{"host", "a"}}, error));
  EXPECT_THAT(error, HasSubstr("needs a `name` or a `group`"));
  EXPECT_FALSE(run.apply("add_vm", {{"group", "cache"}, {"host", "a"}}, error));
  EXPECT_THAT(error, HasSubstr("group: unknown group 'cache' (groups: web)"));
  EXPECT_FALSE(run.apply("add_vm", {{"name", "x1"}, {"host", "a"}, {"ipv4", "10.0.0.3"}}, error));
  EXPECT_THAT(error, HasSubstr("ipv4: duplicate IP address 10.0.0.3 (VM 'app1' has it)"));
  EXPECT_FALSE(run.apply("remove_vm", {{"vm", "ghost"}}, error));
  EXPECT_THAT(error, HasSubstr("vm: unknown VM 'ghost'"));
  const std::size_t vms = run.world->vms.size();
  EXPECT_EQ(run.world->vms.size(), vms);  // nothing was created by the refused calls
  ASSERT_TRUE(run.apply("remove_vm", {{"vm", "db1"}}, error)) << error;
  EXPECT_FALSE(run.apply("remove_vm", {{"vm", "db1"}}, error));
  EXPECT_THAT(error, HasSubstr("runs nowhere"));
}

TEST(Scale, BadTimelineEventsAreRejectedWithFileAndLine) {
  const std::string text = scenario_text(R"(timeline:
  - {at: 10ms, action: add_vm, group: web, host: nowhere}
  - {at: 20ms, action: add_vm, name: app1, host: a}
  - {at: 30ms, action: add_vm, name: x1, host: a, labels: {tier: web}}
  - {at: 40ms, action: remove_vm, vm: ghost}
)");
  auto r = testing::load_text(text);
  EXPECT_FALSE(r.scenario);
  EXPECT_THAT(r.text, HasSubstr("unknown host 'nowhere'"));
  // The state checks run once every event reads: a second file without the unknown host.
  auto r2 = testing::load_text(scenario_text(R"(timeline:
  - {at: 20ms, action: add_vm, name: app1, host: a}
  - {at: 30ms, action: add_vm, name: x1, host: a, labels: {tier: web}}
  - {at: 40ms, action: remove_vm, vm: ghost}
  - {at: 50ms, action: add_vm, group: web, host: c}
  - {at: 60ms, action: remove_vm, vm: web-2}
  - {at: 70ms, action: remove_vm, vm: web-2}
)"));
  EXPECT_FALSE(r2.scenario);
  // Each message at its event's line (the scenario's timeline starts at line 19).
  EXPECT_THAT(r2.text, HasSubstr("inline.yaml:20"));
  EXPECT_THAT(r2.text, HasSubstr("duplicate VM name 'app1'"));
  EXPECT_THAT(r2.text, HasSubstr("inline.yaml:21"));
  EXPECT_THAT(r2.text, HasSubstr("unknown label key 'tier'"));
  EXPECT_THAT(r2.text, HasSubstr("inline.yaml:22"));
  EXPECT_THAT(r2.text, HasSubstr("unknown VM 'ghost'"));
  EXPECT_THAT(r2.text, HasSubstr("inline.yaml:25"));
  EXPECT_THAT(r2.text, HasSubstr("VM 'web-2' was removed before"));
  EXPECT_THAT(r2.text, ::testing::Not(HasSubstr("inline.yaml:23")));  // web-2 is the group's next name
  EXPECT_THAT(r2.text, ::testing::Not(HasSubstr("inline.yaml:24")));
}

// The whole path through Simulation (what the CLI and Python's apply() use), without a modelled
// control plane: /convergence gets one row per change, converged at once.
TEST(Scale, SimulationWritesConvergenceRowsWithoutAControlPlane) {
  Scenario s = load(R"(timeline:
  - {at: 100ms, action: add_vm, group: web, host: c}
  - {at: 200ms, action: remove_vm, vm: web-2}
)");
  s.duration = sim::Millis(300);
  RunOptions options;
  options.output_path = (std::filesystem::temp_directory_path() / ("scale-" + std::to_string(getpid()) + ".h5")).string();
  std::string error;
  int exit_code = 0;
  auto simulation = Simulation::create(s, options, error, exit_code);
  ASSERT_TRUE(simulation) << error;
  ASSERT_EQ(simulation->run(error), 0) << error;
  RunSummary summary;
  ASSERT_EQ(simulation->finish(summary, error), 0) << error;
  auto reader = analysis::ResultReader::open(options.output_path, error);
  ASSERT_TRUE(reader) << error;
  std::vector<std::string> change, vms;
  std::vector<int64_t> at, convergence;
  std::vector<uint64_t> ports;
  ASSERT_TRUE(reader->read_strings("/convergence/change", change, error)) << error;
  ASSERT_TRUE(reader->read_int64("/convergence/at_ns", at, error)) << error;
  ASSERT_TRUE(reader->read_int64("/convergence/convergence_ns", convergence, error)) << error;
  ASSERT_TRUE(reader->read_uint64("/convergence/ports_impacted", ports, error)) << error;
  ASSERT_EQ(change.size(), 2u);
  EXPECT_EQ(change[0], "add_vm web-2 on c");
  EXPECT_EQ(change[1], "remove_vm web-2");
  EXPECT_EQ(at[0], 100'000'000);
  EXPECT_EQ(at[1], 200'000'000);
  EXPECT_EQ(convergence[0], 0);
  EXPECT_EQ(ports[0], 2u);
  EXPECT_EQ(ports[1], 2u);
  ASSERT_TRUE(reader->read_strings("/vms/name", vms, error)) << error;
  EXPECT_EQ(vms.size(), 5u);  // the added VM is listed (where it was last)
  std::filesystem::remove(options.output_path);
}

}  // namespace
}  // namespace scenarios
