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

  // The dead VMs' own stacks were reset at the crash: every flow one of them was still sending
  // ended then as failed_aborted/vm_crashed (and only those); flows they were asked to start
  // while dead failed at once (source_vm_down); none of their pre-crash flows completed later.
  const auto end = column<int64_t>(*r, "/flows/end_ns");
  const auto source = column<uint64_t>(*r, "/flows/source_vm");
  const auto reason = column<std::string>(*r, "/flows/reason");
  uint64_t crashed = 0, while_down = 0;
  for (std::size_t f = 0; f < start.size(); ++f) {
    const bool from_dead = restarted_indices.count(source[f]) > 0;
    if (reason[f] == "vm_crashed") {
      ++crashed;
      EXPECT_TRUE(from_dead) << f;
      EXPECT_EQ(outcome[f], "failed_aborted") << f;
      EXPECT_EQ(end[f], sim::Millis(100).ns()) << f;
      EXPECT_LE(start[f], sim::Millis(100).ns()) << f;
    } else if (reason[f] == "source_vm_down") {
      ++while_down;
      EXPECT_TRUE(from_dead) << f;
      EXPECT_EQ(outcome[f], "failed_aborted") << f;
      EXPECT_GE(start[f], sim::Millis(100).ns()) << f;
      EXPECT_LT(start[f], sim::Millis(150).ns()) << f;
      EXPECT_EQ(end[f], start[f]) << f;
    } else if (from_dead) {
      // Not aborted: it had ended before the crash, or started after the restart.
      EXPECT_TRUE((end[f] >= 0 && end[f] <= sim::Millis(100).ns()) || start[f] >= sim::Millis(150).ns()) << f;
    }
    // A peer's connection to a dead VM never completes after the crash: the restarted guest has
    // a fresh stack (and a fresh firewall port), so it ends failed or stays incomplete.
    if (restarted_indices.count(destination[f]) && start[f] < sim::Millis(100).ns() && end[f] > sim::Millis(100).ns()) {
      EXPECT_NE(outcome[f], "completed") << f;
    }
  }
  EXPECT_GT(crashed, 0u);
  EXPECT_GT(while_down, 0u);
  // flows_aborted counts every socket the stacks held (server sides too): at least the above.
  EXPECT_GE(column<uint64_t>(*r, "/failures/flows_aborted").at(0), crashed);

  // Headline numbers and the report line.
  bool found = false;
  for (const auto& f : summary.extra) found = found || f.name == "failures";
  EXPECT_TRUE(found);
  // (Other features add their own lines after it: look for the failures line.)
  EXPECT_THAT(summary.report_lines, ::testing::Contains(HasSubstr("host_crash 1")));
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

// uplinks_per_host: 2 (docs/scenario.md): each host is dual-homed to its leaf and the partner
// leaf, active/active. Both uplinks can be named in link_down; with either one down the host
// stays reachable and all of its traffic moves to the other one, in both directions.
TEST(Failures, DualHomedHostsFailOverToEitherUplink) {
  for (const std::string dead : {"h0--leaf0", "h0--leaf1"}) {
    SCOPED_TRACE(dead);
    const std::string alive = dead == "h0--leaf0" ? "h0--leaf1" : "h0--leaf0";
    const Scenario s = load("quickstart.yaml", {"duration=150ms", "topology.fabric.uplinks_per_host=2"});
    TempResult out("dual-" + dead);
    auto simulation = create(s, out);
    ASSERT_TRUE(simulation);
    std::string error;
    ASSERT_TRUE(simulation->apply(event(sim::Millis(50), "link_down", {{"link", dead}}), error)) << error;
    ASSERT_EQ(simulation->run(error), 0) << error;
    RunSummary summary;
    ASSERT_EQ(simulation->finish(summary, error), 0) << error;
    auto r = analysis::ResultReader::open(out.path.string(), error);
    ASSERT_TRUE(r) << error;
    EXPECT_EQ(column<std::string>(*r, "/failures/target"), std::vector<std::string>{dead});
    EXPECT_EQ(column<uint64_t>(*r, "/failures/vms_affected"), std::vector<uint64_t>{0});  // not cut off

    // Bytes each direction of both cables carried before 50 ms and after 50 ms (+ what was in
    // flight: the first sample at or after 60 ms).
    const auto names = column<std::string>(*r, "/links/name");
    const auto link = column<uint64_t>(*r, "/series/links/link");
    const auto time = column<int64_t>(*r, "/series/links/time_ns");
    const auto bytes = column<uint64_t>(*r, "/series/links/bytes");
    auto model_names = [](const std::string& cable) {  // "h0--leaf1" -> h0->leaf-1, leaf-1->h0
      const std::string leaf = "leaf-" + cable.substr(cable.size() - 1);
      return std::vector<std::string>{"h0->" + leaf, leaf + "->h0"};
    };
    auto carried = [&](const std::string& name, int64_t from_ns, int64_t to_ns) {
      uint64_t at_from = 0, at_to = 0;
      bool found = false;
      for (std::size_t i = 0; i < link.size(); ++i) {
        if (names.at(link[i]) != name) continue;
        found = true;
        if (time[i] <= from_ns) at_from = bytes[i];
        if (time[i] <= to_ns) at_to = bytes[i];
      }
      EXPECT_TRUE(found) << name;
      return at_to - at_from;
    };
    for (const std::string& name : model_names(dead)) {
      EXPECT_GT(carried(name, 0, sim::Millis(50).ns()), 0u) << name;  // active/active before
      EXPECT_EQ(carried(name, sim::Millis(60).ns(), sim::Millis(150).ns()), 0u) << name;
    }
    for (const std::string& name : model_names(alive)) {
      EXPECT_GT(carried(name, 0, sim::Millis(50).ns()), 0u) << name;
      EXPECT_GT(carried(name, sim::Millis(60).ns(), sim::Millis(150).ns()), 0u) << name;
    }
    // h0's VMs keep completing flows after the failure (VM index = row of /vms).
    const auto vm_hosts = column<std::string>(*r, "/vms/host_name");
    const auto source = column<uint64_t>(*r, "/flows/source_vm");
    const auto start = column<int64_t>(*r, "/flows/start_ns");
    const auto outcome = column<std::string>(*r, "/flows/outcome");
    int completed = 0;
    for (std::size_t f = 0; f < source.size(); ++f)
      completed += vm_hosts.at(source[f]) == "h0" && start[f] > sim::Millis(60).ns() && outcome[f] == "completed";
    EXPECT_GT(completed, 0);
  }
}

// topology.fabric.routing.reconvergence_delay: while the switches still route onto a dead link,
// its packets are dropped as stale_route (in /drops and the summary); with the default (0)
// nothing is.
TEST(Failures, ReconvergenceDelayDropsPacketsOnTheDeadNextHopUntilRoutesFollow) {
  for (const std::string delay : {"0s", "20ms"}) {
    SCOPED_TRACE(delay);
    const Scenario s = load("quickstart.yaml", {"duration=120ms", "topology.fabric.routing.reconvergence_delay=" + delay});
    TempResult out("reconverge-" + delay);
    auto simulation = create(s, out);
    ASSERT_TRUE(simulation);
    std::string error;
    ASSERT_TRUE(simulation->apply(event(sim::Millis(50), "fail_switch", {{"switch", "spine0"}}), error)) << error;
    ASSERT_EQ(simulation->run(error), 0) << error;
    RunSummary summary;
    ASSERT_EQ(simulation->finish(summary, error), 0) << error;
    uint64_t stale = UINT64_MAX;
    for (const auto& f : summary.extra)
      if (f.name == "stale_route_drops") stale = std::get<uint64_t>(f.value);
    auto r = analysis::ResultReader::open(out.path.string(), error);
    ASSERT_TRUE(r) << error;
    const auto layer = column<std::string>(*r, "/drops/layer");
    const auto reason = column<std::string>(*r, "/drops/reason");
    const auto packets = column<uint64_t>(*r, "/drops/packets");
    uint64_t in_drops = UINT64_MAX;
    for (std::size_t i = 0; i < layer.size(); ++i)
      if (layer[i] == "fabric" && reason[i] == "stale_route") in_drops = packets[i];
    EXPECT_EQ(in_drops, stale);
    if (delay == "0s") {
      EXPECT_EQ(stale, 0u);
    } else {
      EXPECT_GT(stale, 0u);  // leaves kept hashing half the inter-leaf flows onto spine0 for 20 ms
    }
  }
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
