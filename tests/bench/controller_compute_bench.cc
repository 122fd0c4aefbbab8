// Policy controller benchmark (Google Benchmark): full computation of every port for a label
// estate (default 10,000 workloads, 1,000 rules over 4 label dimensions), one workload
// relabelled incrementally, and materializing the dfw::RuleSetSpec of every port.
// Figures and the reproducing command: docs/performance.md, "Policy controller".

#include <benchmark/benchmark.h>

#include <memory>

#include "controller/controller.h"
#include "controller_policy_generator.h"

namespace controller::bench {
namespace {

const EstateShape kShape;

std::unique_ptr<Controller> build(const std::vector<Workload>& workloads, const Policy& policy) {
  Status error;
  auto c = Controller::create(policy, workloads, error);
  if (!c) {
    fprintf(stderr, "controller: %s\n", error.message().c_str());
    std::abort();
  }
  return c;
}

void report_shape(benchmark::State& state, const Controller& c) {
  ControllerStats s = c.stats();
  state.counters["ports"] = static_cast<double>(s.ports);
  state.counters["scopes"] = static_cast<double>(s.scopes);
  state.counters["ip_sets"] = static_cast<double>(s.ip_sets);
  state.counters["ip_set_prefixes"] = static_cast<double>(s.ip_set_prefixes);
  state.counters["entries_per_port"] = static_cast<double>(s.port_entries) / static_cast<double>(s.ports);
}

void BM_FullCompute(benchmark::State& state) {
  const std::vector<Workload> workloads = make_workloads(kShape);
  const Policy policy = make_policy(kShape);
  std::unique_ptr<Controller> c;
  for (auto _ : state) {
    c = build(workloads, policy);
    benchmark::DoNotOptimize(c.get());
    state.PauseTiming();
    c.reset();  // destruction is not part of the computation
    state.ResumeTiming();
  }
  c = build(workloads, policy);
  report_shape(state, *c);
}
BENCHMARK(BM_FullCompute)->Unit(benchmark::kMillisecond)->MinTime(3.0);

// Relabels one workload per iteration (its role flips to another value and back on the next
// visit), cycling over workloads so that each change is a real membership change.
void BM_RelabelOneWorkload(benchmark::State& state) {
  const std::vector<Workload> workloads = make_workloads(kShape);
  std::unique_ptr<Controller> c = build(workloads, make_policy(kShape));
  std::size_t next = 0;
  double changed = 0, scopes = 0;
  int64_t changes = 0;
  for (auto _ : state) {
    const Workload& w = *c->workload(workloads[next].id);
    Labels labels = w.labels;
    std::string& role = labels["role"];
    role = role == "role0" ? "role1" : "role0";
    Status error;
    ChangeSet cs = c->set_labels(w.id, std::move(labels), error);
    benchmark::DoNotOptimize(cs);
    changed += static_cast<double>(cs.changed_ports.size());
    scopes += static_cast<double>(cs.scopes_changed);
    ++changes;
    next = (next + 7919) % workloads.size();
  }
  state.counters["changed_ports_per_change"] = changed / static_cast<double>(changes);
  state.counters["scopes_changed_per_change"] = scopes / static_cast<double>(changes);
}
BENCHMARK(BM_RelabelOneWorkload)->Unit(benchmark::kMicrosecond);

// Building the dfw::RuleSetSpec of every port (what a full snapshot to all agents costs).
void BM_MaterializeAllPorts(benchmark::State& state) {
  std::unique_ptr<Controller> c = build(make_workloads(kShape), make_policy(kShape));
  std::vector<WorkloadId> ids = c->port_ids();
  double rules = 0;
  for (auto _ : state) {
    rules = 0;
    for (WorkloadId id : ids) {
      dfw::RuleSetSpec spec = c->port_spec(id);
      for (const auto& section : spec.sections) rules += static_cast<double>(section.rules.size());
      benchmark::DoNotOptimize(spec);
    }
  }
  state.counters["dfw_rules_per_port"] = rules / static_cast<double>(ids.size());
}
BENCHMARK(BM_MaterializeAllPorts)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace controller::bench

BENCHMARK_MAIN();
