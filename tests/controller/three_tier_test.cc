// Per-port rules for the three-tier example of docs/policy.md, checked rule by rule.

#include <gtest/gtest.h>

#include "controller/address.h"
#include "controller/controller.h"
#include "controller/policy_loader.h"

namespace controller {
namespace {

constexpr const char* kThreeTier = R"(
policy:
  default_action: drop
  ip_lists:
    blocked: [198.51.100.0/24]
  services:
    https: tcp/443
    node-exporter: {protocol: tcp, port_first: 9100}
  rules:
    - name: block-bad-actors
      category: emergency
      from: {ip_lists: [blocked]}
      to: any
      action: drop
    - name: monitoring
      category: infrastructure
      from: {role: monitor}
      to: {app: shop}
      services: [node-exporter]
      action: allow
    - name: internet-to-web
      from: any
      to: {role: web, app: shop, env: prod}
      services: [https]
      action: allow
    - name: web-to-api
      from: {role: web, app: shop, env: prod}
      to: {role: api, app: shop, env: prod}
      services: [tcp/8080]
      action: allow
      log: true
    - name: api-to-db
      from: {role: api, app: shop, env: prod}
      to: {role: db, app: shop, env: prod}
      services: [tcp/5432]
      action: allow
)";

Workload vm(WorkloadId id, const std::string& role, const std::string& ip) {
  Workload w;
  w.id = id;
  w.name = role + "-" + std::to_string(id);
  dfw::IpPrefix a;
  EXPECT_TRUE(parse_address(ip, a));
  w.addresses = {a};
  w.labels = {{"role", role}, {"app", "shop"}, {"env", "prod"}};
  w.host = "host-" + std::to_string(id % 2);
  return w;
}

std::vector<std::string> formatted(const std::vector<dfw::IpPrefix>& prefixes) {
  std::vector<std::string> out;
  for (const auto& p : prefixes) out.push_back(format_prefix(p));
  return out;
}

class ThreeTier : public ::testing::Test {
 protected:
  void SetUp() override {
    PolicyLoadResult loaded = load_policy_text(kThreeTier, "three-tier.yaml");
    ASSERT_TRUE(loaded.ok()) << loaded.errors[0].to_string();
    std::vector<Workload> workloads = {vm(1, "web", "10.0.0.1"), vm(2, "web", "10.0.0.2"), vm(3, "api", "10.0.0.3"),
                                       vm(4, "db", "10.0.0.4")};
    Workload monitor = vm(5, "monitor", "10.0.9.5");
    monitor.labels = {{"role", "monitor"}, {"env", "prod"}};
    workloads.push_back(monitor);
    Status error;
    controller = Controller::create(loaded.policy, workloads, error);
    ASSERT_TRUE(controller) << error.message();
  }
  std::unique_ptr<Controller> controller;
};

TEST_F(ThreeTier, WebPortRules) {
  dfw::RuleSetSpec spec = controller->port_spec(1);
  EXPECT_EQ(spec.version, 1u);
  EXPECT_EQ(spec.default_action, dfw::Action::kDrop);
  ASSERT_EQ(spec.sections.size(), 3u);

  // The web VM is in `any` (the rule's destination) but not in the blocked list: ingress only.
  ASSERT_EQ(spec.sections[0].name, "emergency");
  ASSERT_EQ(spec.sections[0].rules.size(), 1u);
  const dfw::RuleSpec& block = spec.sections[0].rules[0];
  EXPECT_EQ(block.direction, dfw::RuleDirection::kIn);
  EXPECT_EQ(block.action, dfw::Action::kDrop);
  EXPECT_EQ(block.protocol, dfw::kProtoAny);
  ASSERT_EQ(block.source_sets.size(), 1u);
  EXPECT_EQ(formatted(spec.ip_sets.at(block.source_sets[0])), std::vector<std::string>{"198.51.100.0/24"});
  EXPECT_EQ(policy_rule_index(block.id), 0u);

  ASSERT_EQ(spec.sections[1].name, "infrastructure");
  ASSERT_EQ(spec.sections[1].rules.size(), 1u);
  const dfw::RuleSpec& monitoring = spec.sections[1].rules[0];
  EXPECT_EQ(monitoring.direction, dfw::RuleDirection::kIn);
  EXPECT_EQ(monitoring.protocol, dfw::kProtoTcp);
  EXPECT_EQ(monitoring.destination_ports.first, 9100);
  EXPECT_EQ(monitoring.destination_ports.last, 9100);
  EXPECT_EQ(formatted(spec.ip_sets.at(monitoring.source_sets.at(0))), std::vector<std::string>{"10.0.9.5/32"});

  // internet-to-web twice (the web VM is both in `any` and in the web scope), then web-to-api.
  ASSERT_EQ(spec.sections[2].name, "application");
  ASSERT_EQ(spec.sections[2].rules.size(), 3u);
  const dfw::RuleSpec& https_in = spec.sections[2].rules[0];
  EXPECT_EQ(https_in.direction, dfw::RuleDirection::kIn);
  EXPECT_TRUE(https_in.source_sets.empty());  // from any
  EXPECT_TRUE(https_in.sources.empty());
  EXPECT_EQ(https_in.destination_ports.first, 443);
  const dfw::RuleSpec& https_out = spec.sections[2].rules[1];
  EXPECT_EQ(https_out.direction, dfw::RuleDirection::kOut);
  EXPECT_EQ(formatted(spec.ip_sets.at(https_out.destination_sets.at(0))),
            (std::vector<std::string>{"10.0.0.1/32", "10.0.0.2/32"}));
  const dfw::RuleSpec& to_api = spec.sections[2].rules[2];
  EXPECT_EQ(to_api.direction, dfw::RuleDirection::kOut);
  EXPECT_TRUE(to_api.log);
  EXPECT_EQ(to_api.destination_ports.first, 8080);
  EXPECT_EQ(formatted(spec.ip_sets.at(to_api.destination_sets.at(0))), std::vector<std::string>{"10.0.0.3/32"});
  EXPECT_EQ(policy_rule_index(to_api.id), 3u);
  EXPECT_EQ(spec.ip_sets.size(), 4u);  // blocked, monitor, web, api
  EXPECT_EQ(controller->port_rule_count(1), 5u);
}

TEST_F(ThreeTier, ApiAndDbPortRules) {
  dfw::RuleSetSpec api = controller->port_spec(3);
  ASSERT_EQ(api.sections.back().name, "application");
  const auto& app = api.sections.back().rules;
  ASSERT_EQ(app.size(), 3u);
  EXPECT_EQ(app[0].direction, dfw::RuleDirection::kOut);  // any -> web, the api being in `any`
  EXPECT_EQ(app[0].destination_ports.first, 443);
  EXPECT_EQ(app[1].direction, dfw::RuleDirection::kIn);  // web -> api
  EXPECT_EQ(formatted(api.ip_sets.at(app[1].source_sets.at(0))),
            (std::vector<std::string>{"10.0.0.1/32", "10.0.0.2/32"}));
  EXPECT_EQ(app[2].direction, dfw::RuleDirection::kOut);  // api -> db
  EXPECT_EQ(formatted(api.ip_sets.at(app[2].destination_sets.at(0))), std::vector<std::string>{"10.0.0.4/32"});

  dfw::RuleSetSpec db = controller->port_spec(4);
  const auto& db_app = db.sections.back().rules;
  ASSERT_EQ(db_app.size(), 2u);
  EXPECT_EQ(db_app[1].direction, dfw::RuleDirection::kIn);
  EXPECT_EQ(db_app[1].destination_ports.first, 5432);
  EXPECT_EQ(formatted(db.ip_sets.at(db_app[1].source_sets.at(0))), std::vector<std::string>{"10.0.0.3/32"});
}

TEST_F(ThreeTier, MonitorReachesEveryShopVm) {
  dfw::RuleSetSpec spec = controller->port_spec(5);
  ASSERT_EQ(spec.sections.size(), 3u);
  ASSERT_EQ(spec.sections[1].rules.size(), 1u);
  const dfw::RuleSpec& r = spec.sections[1].rules[0];
  EXPECT_EQ(r.direction, dfw::RuleDirection::kOut);
  EXPECT_EQ(formatted(spec.ip_sets.at(r.destination_sets.at(0))),
            (std::vector<std::string>{"10.0.0.1/32", "10.0.0.2/32", "10.0.0.3/32", "10.0.0.4/32"}));
}

TEST_F(ThreeTier, IdenticalSetsAreSharedByName) {
  // The web set has one name wherever it appears: as a destination at the db port and as a
  // source at the api port.
  std::string at_api = controller->port_spec(3).sections.back().rules[1].source_sets.at(0);
  std::string at_db = controller->port_spec(4).sections.back().rules[0].destination_sets.at(0);
  EXPECT_EQ(at_api, at_db);
  ASSERT_NE(controller->ip_set(at_api), nullptr);
  EXPECT_EQ(controller->ip_set(at_api)->size(), 2u);
  // blocked, monitor, web, api, db, all shop VMs: six distinct sets.
  EXPECT_EQ(controller->ip_set_names().size(), 6u);
  EXPECT_EQ(controller->stats().ip_set_prefixes, 1u + 1u + 2u + 1u + 1u + 4u);
}

TEST_F(ThreeTier, ScalingWebUpChangesEveryPortThatSeesTheWebOrShopSet) {
  Workload web3 = vm(6, "web", "10.0.0.6");
  Status error;
  ChangeSet changes = controller->add_workload(web3, error);
  ASSERT_TRUE(error) << error.message();
  // internet-to-web comes from `any`, so every port has an egress rule towards the web set; the
  // api port also sees it as the source of web-to-api, the monitor sees the grown shop set.
  EXPECT_EQ(changes.changed_ports, (std::vector<WorkloadId>{1, 2, 3, 4, 5, 6}));
  EXPECT_EQ(changes.generation, 2u);
  EXPECT_EQ(controller->port_version(3), 2u);
  EXPECT_EQ(changes.added_ip_sets.size(), 2u);    // web x3, shop x5
  EXPECT_EQ(changes.removed_ip_sets.size(), 2u);  // web x2, shop x4
}

TEST_F(ThreeTier, PolicyChangeReportsOnlyAffectedPorts) {
  PolicyLoadResult loaded = load_policy_text(kThreeTier, "three-tier.yaml");
  ASSERT_TRUE(loaded.ok());
  Policy next = loaded.policy;
  next.rules.back().services.push_back({dfw::kProtoTcp, 5433, 5433, -1});  // api-to-db gains a port
  Status error;
  ChangeSet changes = controller->set_policy(next, error);
  ASSERT_TRUE(error) << error.message();
  EXPECT_EQ(changes.changed_ports, (std::vector<WorkloadId>{3, 4}));
  EXPECT_EQ(controller->port_version(4), changes.generation);
  EXPECT_EQ(controller->port_version(1), 1u);
  EXPECT_EQ(controller->port_rule_count(4), 5u);  // 2 emergency, monitoring, 2 database ports
}

}  // namespace
}  // namespace controller
