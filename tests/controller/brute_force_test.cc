// Property test: for random workloads, label policies and packets, the per-port rule sets the
// controller computes decide every packet as the policy intends, at the source port's egress
// and at the destination port's ingress. And after random incremental changes, the controller
// reports exactly the ports whose rule sets changed, and every port equals a fresh computation.

#include <gtest/gtest.h>

#include <random>
#include <set>

#include "controller/address.h"
#include "controller/controller.h"
#include "policy_evaluator.h"
#include "random_estate.h"

namespace controller {
namespace {

using testing::address;
using testing::Generator;
using testing::Packet;

// Checks every packet at both ends against the policy's intent.
void check_packets(const Controller& controller, const std::vector<Workload>& workloads, Generator& gen,
                   int packet_count) {
  const Policy& policy = controller.policy();
  std::map<WorkloadId, dfw::RuleSetSpec> specs;
  for (WorkloadId id : controller.port_ids()) specs[id] = controller.port_spec(id);
  for (int i = 0; i < packet_count; ++i) {
    Packet packet = gen.packet(workloads);
    if (testing::owner(workloads, packet.source) == nullptr && testing::owner(workloads, packet.destination) == nullptr) {
      continue;  // crosses no port
    }
    int intended_rule = -1;
    dfw::Action intended = intended_action(policy, workloads, packet, &intended_rule);
    const Workload* from = testing::owner(workloads, packet.source);
    const Workload* to = testing::owner(workloads, packet.destination);
    std::string what = format_prefix(packet.source) + " -> " + format_prefix(packet.destination) + " proto " +
                       std::to_string(packet.protocol) + " port " + std::to_string(packet.destination_port) +
                       " type " + std::to_string(packet.icmp_type) + ", intended rule " + std::to_string(intended_rule);
    bool delivered = true;
    if (from != nullptr) {
      int64_t id = -1;
      dfw::Action egress = testing::evaluate_spec(specs.at(from->id), dfw::RuleDirection::kOut, packet, &id);
      ASSERT_EQ(egress, intended) << "egress at " << from->name << ": " << what;
      ASSERT_EQ(id < 0 ? -1 : static_cast<int>(policy_rule_index(static_cast<uint32_t>(id))), intended_rule)
          << "egress at " << from->name << ": " << what;
      delivered = delivered && egress == dfw::Action::kAllow;
    }
    if (to != nullptr) {
      int64_t id = -1;
      dfw::Action ingress = testing::evaluate_spec(specs.at(to->id), dfw::RuleDirection::kIn, packet, &id);
      ASSERT_EQ(ingress, intended) << "ingress at " << to->name << ": " << what;
      ASSERT_EQ(id < 0 ? -1 : static_cast<int>(policy_rule_index(static_cast<uint32_t>(id))), intended_rule)
          << "ingress at " << to->name << ": " << what;
      delivered = delivered && ingress == dfw::Action::kAllow;
    }
    ASSERT_EQ(delivered, intended == dfw::Action::kAllow) << what;
  }
}

class BruteForce : public ::testing::TestWithParam<bool> {};

TEST_P(BruteForce, PerPortRulesDecideAsThePolicyIntends) {
  for (uint32_t seed = 1; seed <= 25; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    Generator gen(seed, GetParam());
    std::vector<Workload> workloads;
    for (WorkloadId id = 1; id <= 24; ++id) workloads.push_back(gen.workload(id));
    Policy policy = gen.policy(4 + gen.pick(20));
    Status error;
    auto controller = Controller::create(policy, workloads, error);
    ASSERT_TRUE(controller) << error.message();
    check_packets(*controller, workloads, gen, 600);
  }
}

// After each random change, the reported ports are exactly those whose rule set differs, and
// every port equals what a fresh controller computes from the same inputs.
TEST_P(BruteForce, IncrementalChangesReportExactlyTheChangedPorts) {
  for (uint32_t seed = 100; seed < 114; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    Generator gen(seed, GetParam());
    std::map<WorkloadId, Workload> workloads;
    for (WorkloadId id = 1; id <= 20; ++id) workloads[id] = gen.workload(id);
    Policy policy = gen.policy(6 + gen.pick(14));
    Status error;
    std::vector<Workload> initial;
    for (const auto& [id, w] : workloads) initial.push_back(w);
    auto controller = Controller::create(policy, initial, error);
    ASSERT_TRUE(controller) << error.message();
    WorkloadId next_id = 21;

    for (int step = 0; step < 30; ++step) {
      SCOPED_TRACE("step " + std::to_string(step));
      std::map<WorkloadId, dfw::RuleSetSpec> before;
      for (WorkloadId id : controller->port_ids()) before[id] = controller->port_spec(id);
      std::vector<std::string> sets_before = controller->ip_set_names();

      ChangeSet changes;
      std::size_t op = gen.pick(5);
      auto it = std::next(workloads.begin(), static_cast<std::ptrdiff_t>(gen.pick(workloads.size())));
      Workload target = it->second;
      if (op == 0 || workloads.size() < 5) {
        Workload w = gen.workload(next_id);
        w.addresses[0] = address("10.0." + std::to_string(gen.pick(3)) + "." + std::to_string(100 + next_id));
        ++next_id;
        changes = controller->add_workload(w, error);
        workloads[w.id] = w;
      } else if (op == 1) {
        changes = controller->remove_workload(target.id, error);
        workloads.erase(it);
      } else if (op == 2) {
        target.labels = gen.labels(0.8);
        // Processes may only add keys: drop the ones the workload now has itself.
        for (Process& p : target.processes) {
          for (const auto& [key, value] : target.labels) p.labels.erase(key);
        }
        changes = controller->update_workload(target, error);
        it->second = target;
      } else if (op == 3) {
        target.host = "moved-" + std::to_string(step);
        changes = controller->move_workload(target.id, target.host, error);
        it->second = target;
        EXPECT_EQ(changes.moved_ports.size(), 1u);
      } else {
        Workload fresh = gen.workload(target.id);  // new labels, addresses, processes
        fresh.addresses[0] = address("10.0." + std::to_string(gen.pick(3)) + "." + std::to_string(200 + step));
        changes = controller->update_workload(fresh, error);
        it->second = fresh;
      }
      ASSERT_TRUE(error) << error.message();

      std::set<WorkloadId> expected_changed;
      for (WorkloadId id : controller->port_ids()) {
        auto old = before.find(id);
        dfw::RuleSetSpec now = controller->port_spec(id);
        if (old == before.end() || !testing::same_rules(old->second, now)) {
          expected_changed.insert(id);
          EXPECT_EQ(now.version, changes.generation) << "port " << id;
        } else {
          EXPECT_EQ(now.version, old->second.version) << "port " << id;
        }
      }
      EXPECT_EQ(std::set<WorkloadId>(changes.changed_ports.begin(), changes.changed_ports.end()), expected_changed);

      std::vector<std::string> sets_after = controller->ip_set_names();
      std::vector<std::string> added, removed;
      std::set_difference(sets_after.begin(), sets_after.end(), sets_before.begin(), sets_before.end(),
                          std::back_inserter(added));
      std::set_difference(sets_before.begin(), sets_before.end(), sets_after.begin(), sets_after.end(),
                          std::back_inserter(removed));
      EXPECT_EQ(changes.added_ip_sets, added);
      EXPECT_EQ(changes.removed_ip_sets, removed);

      std::vector<Workload> current;
      for (const auto& [id, w] : workloads) current.push_back(w);
      auto fresh = Controller::create(policy, current, error);
      ASSERT_TRUE(fresh) << error.message();
      ASSERT_EQ(fresh->port_ids(), controller->port_ids());
      for (WorkloadId id : controller->port_ids()) {
        ASSERT_TRUE(testing::same_rules(fresh->port_spec(id), controller->port_spec(id)))
            << "port " << id << "\nfresh:\n" << testing::describe(fresh->port_spec(id)) << "incremental:\n"
            << testing::describe(controller->port_spec(id));
      }
    }
    std::vector<Workload> current;
    for (const auto& [id, w] : workloads) current.push_back(w);
    check_packets(*controller, current, gen, 300);
  }
}

INSTANTIATE_TEST_SUITE_P(Processes, BruteForce, ::testing::Values(false, true),
                         [](const ::testing::TestParamInfo<bool>& param_info) {
                           return param_info.param ? std::string("WithProcesses") : std::string("WorkloadsOnly");
                         });

}  // namespace
}  // namespace controller
