// Invariant 1 ("allowed_by_enforced_version") on whole worlds: every connection-creating packet
// of a run is checked against the rule set of the version its port enforces (direct and simulated
// control planes), deliberately wrong tables are caught with a useful message, and stale
// exposure during a partition is not a violation. Invariant 3 ("migration_keeps_connections")
// with fabric loss: a migration whose window saw loss is reported as not checked, one without is
// still judged.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "control_plane_sim.h"
#include "extension.h"
#include "invariant_allowed.h"
#include "invariant_rules.h"
#include "migration_engine.h"
#include "models/headers.h"
#include "test_support.h"
#include "world.h"

namespace scenarios {
namespace {

using ::testing::HasSubstr;

// web1 on a, app1 on b, db1 on c. The policy allows web -> app on tcp/8080 only. The traffic opens
// web -> app flows on 8080 (allowed) and on 9090 (denied at web1's egress) and app -> db flows on
// 5432 (denied at app1's egress).
constexpr const char* kScenario = R"(name: invariants-test
duration: 2s
seed: 5
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
transport:
  tcp: {initial_rto: 10ms, min_rto: 5ms, syn_retries: 3}
traffic:
  - {kind: synthetic, pattern: tiers, tiers: [web, app], flow_size_cdf: DATA/websearch_cdf.txt, load: 0.02, protocol: tcp, destination_port: 8080}
  - {kind: synthetic, pattern: tiers, tiers: [web, app], flow_size_cdf: DATA/websearch_cdf.txt, load: 0.01, protocol: tcp, destination_port: 9090}
  - {kind: synthetic, pattern: tiers, tiers: [app, db], flow_size_cdf: DATA/websearch_cdf.txt, load: 0.01, protocol: tcp, destination_port: 5432}
CONTROL
)";

constexpr const char* kControl = R"(control_plane:
  latency: 1ms
  bandwidth: 1Gbps
  controller_latency: 0s
  controller_bandwidth: 10Gbps
  heartbeat_interval: 10s
  missed_heartbeats: 3
  reconnect_interval: 100ms
)";

Scenario load(bool control_plane) {
  std::string text = kScenario;
  text.replace(text.find("DATA"), 4, std::string(SEGSIM_SOURCE_DIR) + "/scenarios/data");
  text.replace(text.find("DATA"), 4, std::string(SEGSIM_SOURCE_DIR) + "/scenarios/data");
  text.replace(text.find("DATA"), 4, std::string(SEGSIM_SOURCE_DIR) + "/scenarios/data");
  text.replace(text.find("CONTROL"), 7, control_plane ? kControl : "");
  auto r = testing::load_text(text);
  EXPECT_TRUE(r.scenario) << r.text;
  return r.scenario.value_or(Scenario{});
}

// A world with the invariant-1 extension started (and the simulated control plane if asked).
struct CheckedRun {
  explicit CheckedRun(bool control_plane) : scenario(load(control_plane)) {
    std::string error;
    int exit_code = 0;
    world = build_world(scenario, "", error, exit_code);
    EXPECT_TRUE(world) << error;
    if (control_plane) {
      auto created = SimulatedControlPlane::create(scenario, *world, annotations, error);
      EXPECT_TRUE(created) << error;
      cp = created.get();
      world->control_plane = std::move(created);
      cp->start();
    }
    context = std::make_unique<RunContext>(RunContext{scenario, *world, annotations, ""});
    invariant = create_allowed_invariant(*context);
    invariant->start();
    for (auto& g : world->generators) g->start();
  }
  void until(sim::Time t) { world->kernel.run_until(t); }
  models::VmIndex vm(const char* name) const { return world->vms.find(name); }
  uint32_t host_of(const char* name) const { return world->vms[vm(name)].host; }
  const InvariantCount& invariant1() { return world->invariants["allowed_by_enforced_version"]; }
  uint64_t connections_created() const {
    uint64_t n = 0;
    for (const auto& h : world->hosts) n += h->datapath().stats().connections_created;
    return n;
  }
  // Installs on `vm`'s port, behind its control plane's back, the controller's rules for it
  // changed by `edit`.
  template <class Edit>
  void tamper(const char* name, Edit edit) {
    dfw::RuleSetSpec spec = world->controller->port_spec(vm(name));
    edit(spec);
    dfw::Status status;
    dfw::RuleTablePtr table = dfw::compile_rules(spec, status);
    ASSERT_TRUE(table) << status.message();
    ASSERT_TRUE(world->hosts[host_of(name)]->install_rules(vm(name), table).is_ok());
  }

  Scenario scenario;
  Annotations annotations;
  std::unique_ptr<World> world;
  SimulatedControlPlane* cp = nullptr;
  std::unique_ptr<RunContext> context;
  std::unique_ptr<RunExtension> invariant;
};

TEST(AllowedByEnforcedVersion, EveryNewConnectionOfACleanRunIsCheckedWithoutViolation) {
  for (const bool control_plane : {false, true}) {
    SCOPED_TRACE(control_plane ? "simulated control plane" : "direct control plane");
    CheckedRun run(control_plane);
    run.until(sim::Millis(800));
    // Only TCP here: every packet dfw decides by the rules and allows creates a connection, and
    // every connection was created by such a packet.
    EXPECT_GT(run.invariant1().checked, 20u);
    EXPECT_EQ(run.invariant1().checked, run.connections_created());
    EXPECT_EQ(run.invariant1().violations, 0u) << run.invariant1().first_violation;
    EXPECT_EQ(run.invariant1().not_checked, 0u);
    // The denied flows were tried (and dropped by the rules at their source port).
    EXPECT_GT(run.world->hosts[run.host_of("web1")]->datapath().stats().drops_by_reason[static_cast<std::size_t>(
                  dfw::DropReason::kDefaultDrop)],
              0u);
  }
}

TEST(AllowedByEnforcedVersion, ATableInstalledBehindTheControlPlanesBackIsCaught) {
  CheckedRun run(/*control_plane=*/false);
  run.until(sim::Millis(300));
  ASSERT_EQ(run.invariant1().violations, 0u) << run.invariant1().first_violation;
  const uint64_t version = run.world->controller->port_version(run.vm("web1"));
  // Same version number, wrong content: web1's egress now allows everything.
  run.tamper("web1", [](dfw::RuleSetSpec& spec) { spec.default_action = dfw::Action::kAllow; });
  run.until(sim::Millis(800));
  const InvariantCount& c = run.invariant1();
  EXPECT_GT(c.violations, 0u);
  EXPECT_THAT(c.first_violation, HasSubstr("vm web1 on a: egress tcp 10."));
  EXPECT_THAT(c.first_violation, HasSubstr(":9090 allowed (new connection, dfw default action) but version " +
                                           std::to_string(version) + " says drop (its default action)"));
}

TEST(AllowedByEnforcedVersion, AVersionTheControllerNeverComputedIsCaught) {
  CheckedRun run(/*control_plane=*/false);
  run.until(sim::Millis(300));
  run.tamper("app1", [](dfw::RuleSetSpec& spec) { spec.version += 100; });
  run.until(sim::Millis(800));
  const InvariantCount& c = run.invariant1();
  EXPECT_GT(c.violations, 0u);
  EXPECT_THAT(c.first_violation, HasSubstr("vm app1 on b: ingress tcp "));
  EXPECT_THAT(c.first_violation, HasSubstr(":8080 allowed under version "));
  EXPECT_THAT(c.first_violation, HasSubstr("which the controller never computed for this port"));
}

TEST(AllowedByEnforcedVersion, StaleExposureDuringAPartitionIsNotAViolation) {
  CheckedRun run(/*control_plane=*/true);
  run.until(sim::Millis(200));
  // web1's host cannot hear the controller: web -> app is now denied at the controller, but
  // web1 keeps enforcing the version it has, and keeps opening connections under it.
  run.cp->partition({run.host_of("web1")});
  std::string error;
  ASSERT_TRUE(run.cp->set_rule_action("web-to-app", dfw::Action::kDrop, error)) << error;
  run.until(sim::Millis(300));
  const uint64_t checked_at_change = run.invariant1().checked;
  ASSERT_NE(run.cp->enforced_version(run.vm("web1")), run.cp->desired_version(run.vm("web1")));
  run.until(sim::Millis(900));
  run.cp->finish();  // closes the stale windows
  EXPECT_GT(run.invariant1().checked, checked_at_change);  // web1's egress still checked ...
  EXPECT_EQ(run.invariant1().violations, 0u) << run.invariant1().first_violation;  // ... and correct
  EXPECT_GT(run.world->invariants["stale_policy_exposure"].violations, 0u);  // but counted as exposure
}

TEST(InvariantRules, ReadsFramesAndWalksRulesFirstMatch) {
  // A TCP SYN 10.0.0.1:40000 -> 10.0.0.2:8080 as the simulator builds it.
  models::Packet p;
  models::FiveTuple t{models::IpAddress::v4(0x0a000001), models::IpAddress::v4(0x0a000002), 40000, 8080,
                      models::kProtocolTcp};
  models::TcpFields tcp;
  tcp.flags = models::tcp_flags::kSyn;
  ASSERT_TRUE(models::build_tcp_frame(p, {{1, 2, 3, 4, 5, 6}, {6, 5, 4, 3, 2, 1}}, t, tcp, 0, 1460));
  const PacketFacts f = read_packet(p.header.data(), p.header_size, dfw::Direction::kEgress);
  ASSERT_EQ(f.kind, PacketFacts::Kind::kClassified);
  EXPECT_EQ(describe(f), "egress tcp 10.0.0.1:40000 -> 10.0.0.2:8080");

  dfw::RuleSetSpec spec;
  spec.version = 7;
  spec.default_action = dfw::Action::kAllow;
  dfw::IpPrefix net, host;
  ASSERT_TRUE(dfw::IpPrefix::parse("10.0.0.0/24", net));
  ASSERT_TRUE(dfw::IpPrefix::parse("10.0.0.2", host));
  spec.ip_sets["servers"] = {host};
  spec.ip_sets["nobody"] = {};
  dfw::RuleSpec r1;  // ingress only: not for an egress packet
  r1.id = 1;
  r1.direction = dfw::RuleDirection::kIn;
  r1.action = dfw::Action::kDrop;
  dfw::RuleSpec r2;  // an empty set matches nothing
  r2.id = 2;
  r2.destination_sets = {"nobody"};
  r2.action = dfw::Action::kDrop;
  dfw::RuleSpec r3;  // wrong port range
  r3.id = 3;
  r3.protocol = dfw::kProtoTcp;
  r3.destination_ports = {1, 8079};
  r3.action = dfw::Action::kDrop;
  dfw::RuleSpec r4;  // matches: source in 10.0.0.0/24, destination in the set, port in range
  r4.id = 4;
  r4.sources = {net};
  r4.destination_sets = {"servers"};
  r4.protocol = dfw::kProtoTcp;
  r4.destination_ports = {8080, 8080};
  r4.action = dfw::Action::kReject;
  dfw::RuleSpec r5 = r4;  // would match too, but comes later
  r5.id = 5;
  r5.action = dfw::Action::kAllow;
  spec.sections.push_back({"s1", {r1, r2}});
  spec.sections.push_back({"s2", {r3, r4, r5}});
  const LinearRuleSet rules(spec);
  EXPECT_EQ(rules.rule_count(), 5u);
  LinearRuleSet::Decision d = rules.evaluate(f);
  EXPECT_EQ(d.rule_id, 4);
  EXPECT_EQ(d.action, dfw::Action::kReject);
  PacketFacts other = f;
  other.destination_port = 8081;  // r4 and r5 no longer match: the default action
  d = rules.evaluate(other);
  EXPECT_EQ(d.rule_id, -1);
  EXPECT_EQ(d.action, dfw::Action::kAllow);
  other = f;
  other.direction = dfw::Direction::kIngress;  // r1 matches first
  EXPECT_EQ(rules.evaluate(other).rule_id, 1);
}

// --- invariant 3 with fabric loss ---

constexpr uint64_t kMiB = 1024ULL * 1024;

// srv on a; clients on b and c open TCP flows to it (the policy allows clients -> servers on
// tcp/80).
constexpr const char* kMigrationScenario = R"(name: invariant3-loss
duration: 1200ms
seed: 4
topology:
  fabric: {kind: star, host_link: {rate: 25Gbps, delay: 2us, queue_size: 1MiB}}
  hosts: [{name: a}, {name: b}, {name: c}]
  vms:
    - {name: srv, host: a, labels: {role: server}}
    - {name: cl1, host: b, labels: {role: client}, vnic_rate: 1Gbps}
    - {name: cl2, host: b, labels: {role: client}, vnic_rate: 1Gbps}
    - {name: cl3, host: c, labels: {role: client}, vnic_rate: 1Gbps}
policy:
  default_action: drop
  rules:
    - {name: clients-to-servers, from: {role: client}, to: {role: server}, services: [tcp/80], action: allow}
transport:
  tcp: {initial_rto: 10ms, min_rto: 5ms, syn_retries: 3}
traffic:
  - {kind: synthetic, pattern: tiers, tiers: [client, server], flow_size_cdf: DATA/websearch_cdf.txt, load: 0.06, protocol: tcp, destination_port: 80}
)";

struct LossyMigration : ::testing::Test {
  void SetUp() override {
    std::string text = kMigrationScenario;
    text.replace(text.find("DATA"), 4, std::string(SEGSIM_SOURCE_DIR) + "/scenarios/data");
    auto r = testing::load_text(text);
    ASSERT_TRUE(r.scenario) << r.text;
    scenario = *r.scenario;
    std::string error;
    int code = -1;
    world = build_world(scenario, "", error, code);
    ASSERT_TRUE(world) << error;
    engine = std::make_unique<MigrationEngine>(*world, annotations);
    for (auto& g : world->generators) g->start();
  }
  // Both links of host c's cable (c's clients talk to srv over it).
  std::pair<models::Link*, models::Link*> c_cable() {
    const std::size_t edge = world->fabric->find_edge("c", "switch");
    EXPECT_NE(edge, SIZE_MAX);
    return {&world->fabric->edge_link(edge, 0), &world->fabric->edge_link(edge, 1)};
  }
  uint64_t loss_drops() {
    auto [x, y] = c_cable();
    return x->drops(models::LinkDropReason::kLoss) + y->drops(models::LinkDropReason::kLoss);
  }
  void set_loss(double loss) {
    auto [x, y] = c_cable();
    x->set_impairment(loss, 0);
    y->set_impairment(loss, 0);
  }
  void migrate_srv_to_b() {
    MigrationRequest req;
    req.vm = world->vms.find("srv");
    req.to = 1;  // b
    req.precopy.memory = sim::Bytes(64 * kMiB);
    req.precopy.dirty_rate = sim::DataRate::bps(0);
    std::string error;
    ASSERT_TRUE(engine->start(req, error)) << error;
  }
  const InvariantCount& invariant3() { return world->invariants["migration_keeps_connections"]; }

  Scenario scenario;
  std::unique_ptr<World> world;
  Annotations annotations;
  std::unique_ptr<MigrationEngine> engine;
};

TEST_F(LossyMigration, LossDuringTheWindowExcludesTheMigrationInsteadOfBlamingIt) {
  world->kernel.run_until(sim::Millis(300));
  // Deliberately broken import too: without the exclusion this migration would be a violation.
  engine->fault_flush_after_import = true;
  migrate_srv_to_b();
  world->kernel.run_until(sim::Millis(320));
  set_loss(0.02);
  world->kernel.run_until(scenario.duration);
  engine->finish();
  ASSERT_EQ(engine->records().size(), 1u);
  const MigrationRecord& r = engine->records()[0];
  ASSERT_EQ(r.phase, MigrationRecord::Phase::kDone);
  EXPECT_GT(r.connections_broken + r.connections_lost_at_import, 0u);
  // Every fault drop of the run was on c's cable, after the migration started.
  EXPECT_GT(loss_drops(), 0u);
  EXPECT_EQ(r.fabric_loss_packets, loss_drops());
  EXPECT_EQ(invariant3().checked, 0u);
  EXPECT_EQ(invariant3().violations, 0u);
  EXPECT_EQ(invariant3().not_checked, 1u);
  EXPECT_EQ(invariant3().not_checked_reasons.at("fabric_loss"), 1u);
}

TEST_F(LossyMigration, LossEndedBeforeTheMigrationLeavesItCheckedAndABrokenImportIsCaught) {
  world->kernel.run_until(sim::Millis(100));
  set_loss(0.02);
  world->kernel.run_until(sim::Millis(200));
  set_loss(0);
  const uint64_t earlier = loss_drops();
  ASSERT_GT(earlier, 0u);
  world->kernel.run_until(sim::Millis(300));
  engine->fault_flush_after_import = true;
  migrate_srv_to_b();
  world->kernel.run_until(scenario.duration);
  engine->finish();
  const MigrationRecord& r = engine->records()[0];
  EXPECT_EQ(r.fabric_loss_packets, 0u);
  EXPECT_EQ(loss_drops(), earlier);
  EXPECT_EQ(invariant3().checked, 1u);
  EXPECT_EQ(invariant3().not_checked, 0u);
  EXPECT_EQ(invariant3().violations, 1u);
  EXPECT_THAT(invariant3().first_violation, HasSubstr("vm srv"));
}

}  // namespace
}  // namespace scenarios
