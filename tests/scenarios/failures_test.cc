// Failures on a whole world, through the steerable Simulation: host crash with HA restart, the
// /failures table, clear errors for bad requests, the seeded random failure process and the
// loader's `failures` section.

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <map>
#include <set>

#include "analysis/result_reader.h"
#include "scenarios/simulation.h"
#include "test_support.h"

namespace scenarios {
namespace {

using ::testing::HasSubstr;

struct TempResult {
  std::filesystem::path path;
  explicit TempResult(const std::string& tag)
      : path(std::filesystem::temp_directory_path() /
             ("segsim-failures-test-" + tag + "-" + std::to_string(getpid()) + ".h5")) {}
  ~TempResult() { std::filesystem::remove(path); }
};

Scenario load(const std::string& file, const std::vector<std::string>& overrides) {
  auto r = testing::load_file(std::string(SEGSIM_SOURCE_DIR) + "/scenarios/examples/" + file, overrides);
  EXPECT_TRUE(r.scenario) << r.text;
  return r.scenario ? *r.scenario : Scenario{};
}

std::unique_ptr<Simulation> create(const Scenario& s, const TempResult& out) {
  RunOptions options;
  options.output_path = out.path;
  std::string error;
  int exit_code = -1;
  auto simulation = Simulation::create(s, options, error, exit_code);
  EXPECT_TRUE(simulation) << error;
  return simulation;
}

TimelineEvent event(sim::Time at, const std::string& action, std::map<std::string, std::string> args) {
  TimelineEvent e;
  e.at = at;
  e.action = action;
  e.args = std::move(args);
  return e;
}

template <class T>
std::vector<T> column(const analysis::ResultReader& r, const std::string& path) {
  std::vector<T> values;
  std::string error;
  bool ok = false;
  if constexpr (std::is_same_v<T, std::string>) ok = r.read_strings(path, values, error);
  else if constexpr (std::is_same_v<T, int64_t>) ok = r.read_int64(path, values, error);
  else ok = r.read_uint64(path, values, error);
  EXPECT_TRUE(ok) << path << ": " << error;
  return values;
}

// quickstart (4 hosts, 40 VMs, web->app->db traffic) with h1 crashing at 100 ms and HA
// restarting its VMs 50 ms later.
TEST(Failures, HostCrashIsRecordedAndHaRestartsItsVmsElsewhereWithFreshState) {
  const Scenario s = load("quickstart.yaml", {"duration=400ms"});
  TempResult out("crash");
  auto simulation = create(s, out);
  ASSERT_TRUE(simulation);
  std::vector<Annotation> failures, recoveries;
  simulation->annotations().subscribe(AnnotationKind::kFailure, [&](const Annotation& a) { failures.push_back(a); });
  simulation->annotations().subscribe(AnnotationKind::kRecovery, [&](const Annotation& a) { recoveries.push_back(a); });
  std::string error;
  ASSERT_TRUE(simulation->apply(event(sim::Millis(100), "fail_host", {{"host", "h1"}, {"restart_after", "50ms"}}), error))
      << error;
  ASSERT_EQ(simulation->run(error), 0) << error;
  RunSummary summary;
  ASSERT_EQ(simulation->finish(summary, error), 0) << error;

  ASSERT_EQ(failures.size(), 1u);
  EXPECT_EQ(failures[0].time_ns, sim::Millis(100).ns());
  ASSERT_EQ(recoveries.size(), 1u);  // the HA restart (h1 itself never comes back)
  EXPECT_EQ(recoveries[0].time_ns, sim::Millis(150).ns());
  auto field = [](const Annotation& a, const std::string& name) {
    for (const auto& [k, v] : a.fields)
      if (k == name) return v;
    ADD_FAILURE() << "no field " << name;
    return AnnotationValue{int64_t{-1}};
  };
  EXPECT_EQ(std::get<std::string>(field(recoveries[0], "kind")), "ha_restart");
  // The new ports start empty: nothing of the dead VMs' firewall state came along.
  EXPECT_EQ(std::get<int64_t>(field(recoveries[0], "connections_carried")), 0);

  std::string read_error;
  auto r = analysis::ResultReader::open(out.path.string(), read_error);
  ASSERT_TRUE(r) << read_error;
  EXPECT_EQ(column<std::string>(*r, "/failures/kind"), std::vector<std::string>{"host_crash"});
  EXPECT_EQ(column<std::string>(*r, "/failures/target"), std::vector<std::string>{"h1"});
  EXPECT_EQ(column<int64_t>(*r, "/failures/start_ns"), std::vector<int64_t>{sim::Millis(100).ns()});
  EXPECT_EQ(column<int64_t>(*r, "/failures/end_ns"), std::vector<int64_t>{-1});
  EXPECT_EQ(column<int64_t>(*r, "/failures/restart_ns"), std::vector<int64_t>{sim::Millis(150).ns()});
  // The VMs scenario placement put on h1 (from the scenario, not from the run) all died and all
  // came back.
  uint64_t on_h1 = 0;
  std::set<std::string> h1_vms;
  for (const VmSpec& vm : s.vms)
    if (vm.host == "h1") h1_vms.insert(vm.name), ++on_h1;
  ASSERT_GT(on_h1, 0u);
  EXPECT_EQ(column<uint64_t>(*r, "/failures/vms_affected"), std::vector<uint64_t>{on_h1});
  EXPECT_EQ(column<uint64_t>(*r, "/failures/restarted_vms"), std::vector<uint64_t>{on_h1});
  EXPECT_GT(column<uint64_t>(*r, "/failures/connections_lost").at(0), 0u);   // traffic was running
  EXPECT_GT(column<uint64_t>(*r, "/failures/packets_dropped").at(0), 0u);    // host_down drops

  // Where they run now: never on h1, and the least-loaded placement leaves the survivors within
  // one VM of each other.
  const auto names = column<std::string>(*r, "/vms/name");
  const auto hosts = column<std::string>(*r, "/vms/host_name");
  std::map<std::string, int> load;
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (h1_vms.count(names[i])) {
      EXPECT_NE(hosts[i], "h1") << names[i];
    }
    ++load[hosts[i]];
  }
  EXPECT_EQ(load.count("h1"), 0u);
  int lo = INT32_MAX, hi = 0;
  for (const auto& [h, n] : load) lo = std::min(lo, n), hi = std::max(hi, n);
  EXPECT_LE(hi - lo, 1);

  // Flows to the restarted VMs resume: some started after the restart and completed.
  const auto start = column<int64_t>(*r, "/flows/start_ns");
  const auto destination = column<uint64_t>(*r, "/flows/destination_vm");
  const auto outcome = column<std::string>(*r, "/flows/outcome");
  std::set<uint64_t> restarted_indices;
  for (std::size_t i = 0; i < names.size(); ++i)
    if (h1_vms.count(names[i])) restarted_indices.insert(i);
  int resumed = 0;
  for (std::size_t f = 0; f < start.size(); ++f)
    resumed += start[f] > sim::Millis(150).ns() && restarted_indices.count(destination[f]) && outcome[f] == "completed";
  EXPECT_GT(resumed, 0);

  // Headline numbers and the report line.
  bool found = false;
  for (const auto& f : summary.extra) found = found || f.name == "failures";
  EXPECT_TRUE(found);
  ASSERT_FALSE(summary.report_lines.empty());
  EXPECT_THAT(summary.report_lines.back(), HasSubstr("host_crash 1"));
}

TEST(Failures, BadRequestsFailTheRunWithAClearError) {
  const Scenario s = load("quickstart.yaml", {"duration=50ms"});
  struct Case {
    TimelineEvent e;
    std::string message;
  };
  const std::vector<Case> cases = {
      {event(sim::Millis(1), "fail_host", {{"host", "h9"}}), "unknown host 'h9' (hosts: h0, h1, h2, h3)"},
      {event(sim::Millis(1), "fail_host", {}), "missing argument 'host'"},
      {event(sim::Millis(1), "fail_host", {{"host", "h1"}, {"restart_after", "soon"}}), "restart_after:"},
      {event(sim::Millis(1), "link_down", {{"link", "h0--spine0"}}), "unknown link 'h0--spine0'"},
      {event(sim::Millis(1), "fail_switch", {{"switch", "core"}}), "unknown switch 'core' (switches: leaf0, leaf1, spine0, spine1)"},
      {event(sim::Millis(1), "set_link_loss", {{"link", "h0--leaf0"}, {"loss", "1.5"}}), "loss: expected a probability"},
      {event(sim::Millis(1), "recover_host", {{"host", "h0"}}), "host 'h0' has not crashed"},
      {event(sim::Millis(1), "link_up", {{"link", "leaf0--spine0"}}), "link 'leaf0--spine0' is not down"},
  };
  for (const Case& c : cases) {
    TempResult out("bad");
    auto simulation = create(s, out);
    ASSERT_TRUE(simulation);
    std::string error;
    ASSERT_TRUE(simulation->apply(c.e, error)) << error;
    EXPECT_EQ(simulation->run(error), 2) << c.e.action;
    EXPECT_THAT(error, HasSubstr(c.e.action));
    EXPECT_THAT(error, HasSubstr(c.message));
  }
}

TEST(Failures, LinkAndSwitchFailuresAreRecordedWithTheirRecovery) {
  const Scenario s = load("quickstart.yaml", {"duration=200ms"});
  TempResult out("net");
  auto simulation = create(s, out);
  ASSERT_TRUE(simulation);
  std::string error;
  // Either end first: the record uses the canonical name.
  ASSERT_TRUE(simulation->apply(event(sim::Millis(20), "link_down", {{"link", "spine0--leaf0"}}), error));
  ASSERT_TRUE(simulation->apply(event(sim::Millis(60), "link_up", {{"link", "leaf0--spine0"}}), error));
  ASSERT_TRUE(simulation->apply(event(sim::Millis(80), "fail_switch", {{"switch", "spine1"}}), error));
  ASSERT_TRUE(simulation->apply(event(sim::Millis(120), "recover_switch", {{"switch", "spine1"}}), error));
  ASSERT_TRUE(simulation->apply(event(sim::Millis(130), "link_down", {{"link", "h3--leaf1"}}), error));
  ASSERT_TRUE(simulation->apply(event(sim::Millis(140), "set_link_loss", {{"link", "h0--leaf0"}, {"loss", "0.2"}}), error));
  ASSERT_EQ(simulation->run(error), 0) << error;
  RunSummary summary;
  ASSERT_EQ(simulation->finish(summary, error), 0) << error;
  std::string read_error;
  auto r = analysis::ResultReader::open(out.path.string(), read_error);
  ASSERT_TRUE(r) << read_error;
  EXPECT_EQ(column<std::string>(*r, "/failures/kind"),
            (std::vector<std::string>{"link_down", "switch_down", "link_down", "link_loss"}));
  EXPECT_EQ(column<std::string>(*r, "/failures/target"),
            (std::vector<std::string>{"leaf0--spine0", "spine1", "h3--leaf1", "h0--leaf0"}));
  EXPECT_EQ(column<int64_t>(*r, "/failures/end_ns"),
            (std::vector<int64_t>{sim::Millis(60).ns(), sim::Millis(120).ns(), -1, -1}));
  // h3's only uplink is down: its VMs are cut off. quickstart puts 12 VMs on h3.
  uint64_t on_h3 = 0;
  for (const VmSpec& vm : s.vms) on_h3 += vm.host == "h3";
  EXPECT_EQ(column<uint64_t>(*r, "/failures/vms_affected"), (std::vector<uint64_t>{0, 0, on_h3, 0}));
  // 20% loss on a busy host link for 60 ms loses packets.
  EXPECT_GT(column<uint64_t>(*r, "/failures/packets_dropped").at(3), 0u);
}

TEST(Failures, RebootBringsTheHostBackWithItsVmsOnFreshPorts) {
  const Scenario s = load("quickstart.yaml", {"duration=200ms"});
  TempResult out("reboot");
  auto simulation = create(s, out);
  ASSERT_TRUE(simulation);
  std::vector<Annotation> recoveries;
  simulation->annotations().subscribe(AnnotationKind::kRecovery, [&](const Annotation& a) { recoveries.push_back(a); });
  std::string error;
  ASSERT_TRUE(simulation->apply(event(sim::Millis(50), "reboot_host", {{"host", "h2"}, {"downtime", "30ms"}}), error));
  ASSERT_EQ(simulation->run(error), 0) << error;
  RunSummary summary;
  ASSERT_EQ(simulation->finish(summary, error), 0) << error;
  auto r = analysis::ResultReader::open(out.path.string(), error);
  ASSERT_TRUE(r) << error;
  uint64_t on_h2 = 0;
  for (const VmSpec& vm : s.vms) on_h2 += vm.host == "h2";
  EXPECT_EQ(column<std::string>(*r, "/failures/kind"), std::vector<std::string>{"host_reboot"});
  EXPECT_EQ(column<int64_t>(*r, "/failures/end_ns"), std::vector<int64_t>{sim::Millis(80).ns()});
  EXPECT_EQ(column<int64_t>(*r, "/failures/restart_ns"), std::vector<int64_t>{sim::Millis(80).ns()});
  EXPECT_EQ(column<uint64_t>(*r, "/failures/vms_affected"), std::vector<uint64_t>{on_h2});
  EXPECT_EQ(column<uint64_t>(*r, "/failures/restarted_vms"), std::vector<uint64_t>{on_h2});
  // Back on h2, every one of them.
  const auto names = column<std::string>(*r, "/vms/name");
  const auto hosts = column<std::string>(*r, "/vms/host_name");
  std::map<std::string, std::string> placed;
  for (const VmSpec& vm : s.vms) placed[vm.name] = vm.host;
  for (std::size_t i = 0; i < names.size(); ++i) EXPECT_EQ(hosts[i], placed.at(names[i])) << names[i];
  ASSERT_EQ(recoveries.size(), 2u);  // the host is up, then its VMs started again
  std::map<std::string, AnnotationValue> fields(recoveries[1].fields.begin(), recoveries[1].fields.end());
  EXPECT_EQ(std::get<std::string>(fields.at("kind")), "reboot_restart");
  EXPECT_EQ(std::get<int64_t>(fields.at("connections_carried")), 0);
}

// A scenario with random link failures and no traffic (fast): the failure times.
std::vector<int64_t> random_failure_starts(uint64_t seed) {
  const std::string text = R"(duration: 20s
seed: )" + std::to_string(seed) + R"(
topology:
  fabric: {kind: leaf-spine, leaves: 2, spines: 2, hosts_per_leaf: 1}
  hosts: {count: 2, prefix: h}
  vms: [{name: vm1, host: h0}, {name: vm2, host: h1}]
failures:
  random:
    - {component: link, mtbf: 2s, mttr: 200ms, targets: [leaf0--spine0, spine1--leaf1]}
    - {component: host, mtbf: 5s, mttr: 1s, restart_after: 100ms}
)";
  auto loaded = testing::load_text(text);
  EXPECT_TRUE(loaded.scenario) << loaded.text;
  if (!loaded.scenario) return {};
  TempResult out("random-" + std::to_string(seed));
  auto simulation = create(*loaded.scenario, out);
  if (!simulation) return {};
  std::string error;
  EXPECT_EQ(simulation->run(error), 0) << error;
  RunSummary summary;
  EXPECT_EQ(simulation->finish(summary, error), 0) << error;
  auto r = analysis::ResultReader::open(out.path.string(), error);
  EXPECT_TRUE(r) << error;
  if (!r) return {};
  const auto kinds = column<std::string>(*r, "/failures/kind");
  const auto causes = column<std::string>(*r, "/failures/cause");
  const auto starts = column<int64_t>(*r, "/failures/start_ns");
  const auto ends = column<int64_t>(*r, "/failures/end_ns");
  for (std::size_t i = 0; i < kinds.size(); ++i) {
    EXPECT_EQ(causes[i], "random");
    if (ends[i] >= 0) {
      EXPECT_GT(ends[i], starts[i]);
    }
  }
  return starts;
}

TEST(Failures, RandomFailuresAreReproduciblePerSeed) {
  const auto a = random_failure_starts(1);
  const auto b = random_failure_starts(1);
  const auto c = random_failure_starts(2);
  // 2 links x 20 s / 2.2 s + 2 hosts x 20 s / 6 s: about 25 failures expected.
  EXPECT_GT(a.size(), 8u);
  EXPECT_LT(a.size(), 60u);
  EXPECT_EQ(a, b);
  EXPECT_NE(a, c);
}

TEST(FailuresSection, BadEntriesAreReportedWithTheirPlace) {
  const std::string base = std::string(testing::kMinimalScenario) + "failures:\n  random:\n";
  auto r = testing::load_text(base + "    - {component: router, mtbf: 1s, mttr: 1s}\n");
  EXPECT_FALSE(r.scenario);
  EXPECT_THAT(r.text, HasSubstr("inline.yaml:10:"));
  EXPECT_THAT(r.text, HasSubstr("failures.random.0.component"));
  r = testing::load_text(base + "    - {component: host, mtbf: 1s}\n");
  EXPECT_THAT(r.text, HasSubstr("failures.random.0.mttr: missing required key"));
  r = testing::load_text(base + "    - {component: host, mtbf: 1s, mttr: 1s, targets: [a, zz]}\n");
  EXPECT_THAT(r.text, HasSubstr("failures.random.0.targets.1: unknown host 'zz'"));
  r = testing::load_text(base + "    - {component: link, mtbf: 1s, mttr: 1s, restart_after: 1s}\n");
  EXPECT_THAT(r.text, HasSubstr("restart_after applies to component: host only"));
  r = testing::load_text(base + "    - {component: switch, mtbf: 0s, mttr: 1s}\n");
  EXPECT_THAT(r.text, HasSubstr("failures.random.0.mtbf"));
  r = testing::load_text(base + "    - {component: link, mtbf: 1s, mttr: 2s, targets: [b--switch0]}\n");
  ASSERT_TRUE(r.scenario) << r.text;
  ASSERT_EQ(r.scenario->failures.random.size(), 1u);
  EXPECT_EQ(r.scenario->failures.random[0].targets, std::vector<std::string>{"b--switch0"});
  EXPECT_EQ(r.scenario->failures.random[0].mttr, sim::Seconds(2));
}

}  // namespace
}  // namespace scenarios
