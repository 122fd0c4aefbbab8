// The controller's per-port specs through dfw itself: every spec compiles with
// dfw::compile_rules, and dfw's classifier decides random packets exactly as the linear
// evaluation of the spec (which brute_force_test.cc ties to the policy's intent).

#include <gtest/gtest.h>

#include "controller/controller.h"
#include "dfw/rules.h"
#include "policy_evaluator.h"
#include "random_estate.h"
#include "rule_table.h"  // dfw's internal classifier contract (FlowKey, RuleTable::classify)

namespace controller {
namespace {

dfw::FlowKey flow_key(const testing::Packet& p, dfw::Direction direction) {
  dfw::FlowKey key;
  key.source = p.source.address;
  key.destination = p.destination.address;
  key.protocol = p.protocol;
  key.is_v4 = p.source.is_v4;
  key.direction = direction;
  if (p.protocol == dfw::kProtoTcp || p.protocol == dfw::kProtoUdp) {
    key.source_port = 40000;
    key.destination_port = p.destination_port;
  } else {
    key.icmp_type = p.icmp_type;
  }
  return key;
}

TEST(DfwDifferential, SpecsCompileAndClassifyAsTheirLinearEvaluation) {
  for (uint32_t seed = 500; seed < 515; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    testing::Generator gen(seed, seed % 2 == 0);
    std::vector<Workload> workloads;
    for (WorkloadId id = 1; id <= 24; ++id) workloads.push_back(gen.workload(id));
    Status error;
    auto controller = Controller::create(gen.policy(6 + gen.pick(18)), workloads, error);
    ASSERT_TRUE(controller) << error.message();

    std::map<WorkloadId, std::pair<dfw::RuleSetSpec, dfw::RuleTablePtr>> ports;
    for (WorkloadId id : controller->port_ids()) {
      dfw::RuleSetSpec spec = controller->port_spec(id);
      dfw::Status status;
      dfw::RuleTablePtr table = dfw::compile_rules(spec, status);
      ASSERT_TRUE(table) << "port " << id << ": " << status.message() << "\n" << testing::describe(spec);
      EXPECT_EQ(dfw::rule_table_version(*table), spec.version);
      EXPECT_EQ(dfw::rule_table_rule_count(*table), controller->port_rule_count(id));
      ports.emplace(id, std::make_pair(std::move(spec), std::move(table)));
    }
    for (int i = 0; i < 400; ++i) {
      testing::Packet packet = gen.packet(workloads);
      for (const auto& [id, port] : ports) {
        if (gen.pick(6) != 0) continue;  // a sample of ports per packet keeps this fast
        for (auto [rule_direction, direction] : {std::pair{dfw::RuleDirection::kIn, dfw::Direction::kIngress},
                                                 std::pair{dfw::RuleDirection::kOut, dfw::Direction::kEgress}}) {
          int64_t expected_id = -1;
          dfw::Action expected = testing::evaluate_spec(port.first, rule_direction, packet, &expected_id);
          uint32_t steps = 0;
          int32_t index = port.second->classify(flow_key(packet, direction), steps);
          dfw::Action got = index < 0 ? port.second->default_action() : port.second->rules()[index].action;
          int64_t got_id = index < 0 ? int64_t{-1} : int64_t{port.second->rules()[index].id};
          ASSERT_EQ(got, expected) << "port " << id << "\n" << testing::describe(port.first);
          ASSERT_EQ(got_id, expected_id) << "port " << id << "\n" << testing::describe(port.first);
        }
      }
    }
  }
}

}  // namespace
}  // namespace controller
