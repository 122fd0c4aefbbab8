// Incremental minimality on small examples: the exact set of ports a change recomputes.

#include <gtest/gtest.h>

#include "controller/address.h"
#include "controller/controller.h"

namespace controller {
namespace {

Workload vm(WorkloadId id, Labels labels, const std::string& host = "h1") {
  Workload w;
  w.id = id;
  w.name = "vm-" + std::to_string(id);
  dfw::IpPrefix a;
  EXPECT_TRUE(parse_address("10.1.0." + std::to_string(id), a));
  w.addresses = {a};
  w.labels = std::move(labels);
  w.host = host;
  return w;
}

Rule rule(std::string name, Labels from, Labels to, uint16_t port) {
  Rule r;
  r.name = std::move(name);
  r.from.labels = std::move(from);
  r.to.labels = std::move(to);
  r.services = {{dfw::kProtoTcp, port, port, -1}};
  return r;
}

// Two applications, three tiers each, plus a loc-scoped backup rule that no relabel here touches.
class TwoApps : public ::testing::Test {
 protected:
  void SetUp() override {
    policy.rules = {
        rule("shop-web-api", {{"app", "shop"}, {"role", "web"}}, {{"app", "shop"}, {"role", "api"}}, 8080),
        rule("shop-api-db", {{"app", "shop"}, {"role", "api"}}, {{"app", "shop"}, {"role", "db"}}, 5432),
        rule("crm-web-api", {{"app", "crm"}, {"role", "web"}}, {{"app", "crm"}, {"role", "api"}}, 8080),
        rule("crm-api-db", {{"app", "crm"}, {"role", "api"}}, {{"app", "crm"}, {"role", "db"}}, 5432),
        rule("backup", {{"loc", "eu"}, {"role", "backup"}}, {{"loc", "eu"}, {"role", "db"}}, 873),
    };
    std::vector<Workload> workloads = {
        vm(1, {{"app", "shop"}, {"role", "web"}}),  vm(2, {{"app", "shop"}, {"role", "web"}}),
        vm(3, {{"app", "shop"}, {"role", "api"}}),  vm(4, {{"app", "shop"}, {"role", "db"}, {"loc", "us"}}),
        vm(11, {{"app", "crm"}, {"role", "web"}}),  vm(12, {{"app", "crm"}, {"role", "api"}}),
        vm(13, {{"app", "crm"}, {"role", "db"}}),   vm(20, {{"role", "backup"}, {"loc", "eu"}}),
    };
    Status error;
    controller = Controller::create(policy, workloads, error);
    ASSERT_TRUE(controller) << error.message();
  }
  Policy policy;
  std::unique_ptr<Controller> controller;
};

TEST_F(TwoApps, RelabellingAWebVmToAnotherAppTouchesOnlyBothApisAndItself) {
  Status error;
  ChangeSet changes = controller->set_labels(2, {{"app", "crm"}, {"role", "web"}}, error);
  ASSERT_TRUE(error) << error.message();
  // vm 2 itself (new egress target), shop-api 3 (web set shrank), crm-api 12 (web set grew).
  EXPECT_EQ(changes.changed_ports, (std::vector<WorkloadId>{2, 3, 12}));
  EXPECT_EQ(changes.scopes_changed, 2u);
  EXPECT_TRUE(changes.removed_ports.empty());
  EXPECT_TRUE(changes.moved_ports.empty());
  EXPECT_EQ(controller->port_version(3), 2u);
  EXPECT_EQ(controller->port_version(12), 2u);
  EXPECT_EQ(controller->port_version(1), 1u);
  EXPECT_EQ(controller->port_version(4), 1u);
}

TEST_F(TwoApps, RelabellingAnUnreferencedKeyTouchesNothing) {
  Status error;
  ChangeSet changes = controller->set_labels(4, {{"app", "shop"}, {"role", "db"}, {"loc", "ap"}}, error);
  ASSERT_TRUE(error);
  // loc=us and loc=ap select nothing the db could join (backup wants loc=eu).
  EXPECT_TRUE(changes.changed_ports.empty());
  EXPECT_EQ(controller->port_version(4), 1u);
}

TEST_F(TwoApps, MovingIntoABackupScopeTouchesTheDbAndTheBackupVm) {
  Status error;
  ChangeSet changes = controller->set_labels(4, {{"app", "shop"}, {"role", "db"}, {"loc", "eu"}}, error);
  ASSERT_TRUE(error);
  EXPECT_EQ(changes.changed_ports, (std::vector<WorkloadId>{4, 20}));
}

TEST_F(TwoApps, MovingHostsChangesNoRules) {
  Status error;
  ChangeSet changes = controller->move_workload(3, "h2", error);
  ASSERT_TRUE(error);
  EXPECT_TRUE(changes.changed_ports.empty());
  ASSERT_EQ(changes.moved_ports.size(), 1u);
  EXPECT_EQ(changes.moved_ports[0].port, 3u);
  EXPECT_EQ(changes.moved_ports[0].from_host, "h1");
  EXPECT_EQ(changes.moved_ports[0].to_host, "h2");
  EXPECT_EQ(controller->workload(3)->host, "h2");
}

TEST_F(TwoApps, RemovingTheOnlyDbDropsRulesTowardsIt) {
  Status error;
  ASSERT_EQ(controller->port_rule_count(3), 2u);
  ChangeSet changes = controller->remove_workload(4, error);
  ASSERT_TRUE(error);
  EXPECT_EQ(changes.removed_ports, std::vector<WorkloadId>{4});
  EXPECT_EQ(changes.changed_ports, std::vector<WorkloadId>{3});
  // The shop db set is empty: the api's egress rule can never match and is left out (an empty
  // destination list would mean "any" to dfw).
  EXPECT_EQ(controller->port_rule_count(3), 1u);
  EXPECT_FALSE(controller->has_port(4));
  EXPECT_EQ(changes.removed_ip_sets.size(), 1u);
}

TEST_F(TwoApps, ErrorsLeaveTheControllerUnchanged) {
  Status error;
  ChangeSet changes = controller->add_workload(vm(3, {{"app", "shop"}}), error);
  EXPECT_FALSE(error);
  EXPECT_NE(error.message().find("duplicate id"), std::string::npos);
  EXPECT_TRUE(changes.empty());
  controller->set_labels(99, {}, error);
  EXPECT_FALSE(error);
  controller->set_labels(3, {{"tier", "x"}}, error);
  EXPECT_FALSE(error);
  EXPECT_NE(error.message().find("unknown label key"), std::string::npos);
  EXPECT_EQ(controller->generation(), 1u);
}

TEST(ControllerCreate, RejectsInvalidInput) {
  Policy policy;
  Rule r;
  r.to.ip_lists = {"nowhere"};
  policy.rules = {r};
  Status error;
  EXPECT_EQ(Controller::create(policy, {}, error), nullptr);
  EXPECT_NE(error.message().find("unknown ip_list \"nowhere\""), std::string::npos) << error.message();

  Policy ok;
  Workload w = vm(1, {});
  w.addresses.clear();
  EXPECT_EQ(Controller::create(ok, {w}, error), nullptr);
  EXPECT_NE(error.message().find("addresses"), std::string::npos);
}

TEST(ControllerProcesses, ProcessScopeAdmitsOnlyItsListeningPorts) {
  Policy policy;
  policy.custom_labels = {"service"};
  Rule r;
  r.name = "app-to-postgres";
  r.from.labels = {{"role", "app"}};
  r.to.labels = {{"service", "postgres"}};
  policy.rules = {r};  // any service
  Workload app = vm(1, {{"role", "app"}});
  Workload host = vm(2, {{"role", "shared"}});
  host.processes = {{"postgres", {{"service", "postgres"}}, {{dfw::kProtoTcp, 5432}}},
                    {"redis", {{"service", "redis"}}, {{dfw::kProtoTcp, 6379}}}};
  Status error;
  auto controller = Controller::create(policy, {app, host}, error);
  ASSERT_TRUE(controller) << error.message();
  dfw::RuleSetSpec at_app = controller->port_spec(1);
  ASSERT_EQ(at_app.sections.size(), 1u);
  ASSERT_EQ(at_app.sections[0].rules.size(), 1u);
  const dfw::RuleSpec& out = at_app.sections[0].rules[0];
  EXPECT_EQ(out.direction, dfw::RuleDirection::kOut);
  EXPECT_EQ(out.protocol, dfw::kProtoTcp);
  EXPECT_EQ(out.destination_ports.first, 5432);
  EXPECT_EQ(out.destination_ports.last, 5432);
  ASSERT_EQ(out.destinations.size(), 1u);
  EXPECT_EQ(format_prefix(out.destinations[0]), "10.1.0.2/32");
  dfw::RuleSetSpec at_host = controller->port_spec(2);
  ASSERT_EQ(at_host.sections[0].rules.size(), 1u);
  EXPECT_EQ(at_host.sections[0].rules[0].direction, dfw::RuleDirection::kIn);
  EXPECT_EQ(at_host.sections[0].rules[0].destination_ports.first, 5432);
}

}  // namespace
}  // namespace controller
