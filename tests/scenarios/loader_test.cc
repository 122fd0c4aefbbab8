// Loading valid scenarios: defaults, group expansion, generated addresses, resolved references.

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <fstream>
#include <sstream>

#include "scenarios/fabric_layout.h"
#include "test_support.h"

namespace scenarios {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using testing::data_path;
using testing::kMinimalScenario;
using testing::load_file;
using testing::load_text;

std::string quickstart_path() { return std::string(SEGSIM_SOURCE_DIR) + "/scenarios/examples/quickstart.yaml"; }

TEST(Loader, QuickstartExampleLoadsCleanly) {
  const auto r = load_file(quickstart_path());
  ASSERT_TRUE(r.scenario) << r.text;
  EXPECT_EQ(r.diagnostics.entries().size(), 0U) << r.text;
  const Scenario& s = *r.scenario;
  EXPECT_EQ(s.name, "quickstart");
  EXPECT_EQ(s.duration, sim::Seconds(1));
  EXPECT_EQ(s.outputs.interval, sim::Millis(10));
  EXPECT_EQ(s.fabric.kind, "leaf-spine");
  EXPECT_EQ(s.fabric.host_link.rate, sim::DataRate::gbps(10));
  EXPECT_EQ(s.fabric.host_link.queue_size, sim::Bytes(512 * 1024));
  EXPECT_EQ(s.fabric.host_link.ecn_threshold, sim::Bytes(96 * 1024));
  EXPECT_EQ(s.fabric.fabric_link.rate, sim::DataRate::gbps(40));
  ASSERT_EQ(s.hosts.size(), 4U);
  EXPECT_EQ(s.hosts[3].name, "h3");
  EXPECT_EQ(s.hosts[0].cores, 8U);
  EXPECT_EQ(s.hosts[0].clock_hz, 2'600'000'000ULL);

  ASSERT_EQ(s.vms.size(), 40U);
  size_t web = 0, app = 0, db = 0;
  for (const VmSpec& vm : s.vms) {
    const std::string& role = vm.labels.at("role");
    web += role == "web";
    app += role == "app";
    db += role == "db";
    EXPECT_EQ(vm.labels.at("app"), "shop");
    EXPECT_EQ(vm.labels.at("env"), "prod");
    EXPECT_EQ(vm.group, role);
  }
  EXPECT_EQ(web, 16U);
  EXPECT_EQ(app, 16U);
  EXPECT_EQ(db, 8U);
  // Round-robin placement over all hosts; db only on its listed hosts.
  EXPECT_EQ(s.vms[0].name, "web-0");
  EXPECT_EQ(s.vms[0].host, "h0");
  EXPECT_EQ(s.vms[5].host, "h1");
  EXPECT_EQ(s.vms[32].name, "db-0");
  EXPECT_EQ(s.vms[32].host, "h2");
  EXPECT_EQ(s.vms[33].host, "h3");
  EXPECT_EQ(s.vms[34].host, "h2");
  // Addresses from vm_subnet and deterministic MACs, in VM order.
  EXPECT_EQ(s.vms[0].ipv4, "10.0.0.1");
  EXPECT_EQ(s.vms[39].ipv4, "10.0.0.40");
  EXPECT_EQ(s.vms[0].mac, "02:00:00:00:00:01");
  EXPECT_EQ(s.vms[39].mac, "02:00:00:00:00:28");

  // The environment rule outranks the application rules.
  ASSERT_EQ(s.policy.rules.size(), 3U);
  EXPECT_EQ(s.policy.rules[0].name, "no-web-to-db");
  EXPECT_EQ(s.policy.rules[1].name, "web-to-app");
  EXPECT_EQ(s.policy.rules[1].from.labels.at("role"), "web");
  ASSERT_EQ(s.policy.rules[1].services.size(), 1U);
  EXPECT_EQ(s.policy.rules[1].services[0].protocol, 6);
  EXPECT_EQ(s.policy.rules[1].services[0].port_first, 8080);
  EXPECT_EQ(s.policy.rules[1].services[0].port_last, 8080);
  EXPECT_EQ(s.policy.default_action, "drop");

  ASSERT_EQ(s.traffic.size(), 3U);
  EXPECT_EQ(s.traffic[0].pattern, "tiers");
  EXPECT_THAT(s.traffic[0].tiers, ElementsAre("web", "app"));
  EXPECT_EQ(s.traffic[0].flow_size_cdf, std::string(SEGSIM_SOURCE_DIR) + "/scenarios/data/websearch_cdf.txt");
  ASSERT_EQ(s.traffic[0].flow_size_cdf_points.size(), 12U);
  EXPECT_EQ(s.traffic[0].flow_size_cdf_points[1].size_bytes, 10000U);
  EXPECT_DOUBLE_EQ(s.traffic[0].flow_size_cdf_points[1].cumulative, 0.15);
  EXPECT_DOUBLE_EQ(s.traffic[0].flow_size_cdf_points.back().cumulative, 1.0);
  EXPECT_EQ(s.traffic[2].pattern, "all-to-all");

  std::ifstream in(quickstart_path());
  std::stringstream text;
  text << in.rdbuf();
  EXPECT_EQ(s.source_text, text.str());
  EXPECT_EQ(YAML::Load(s.effective_yaml)["topology"]["fabric"]["leaves"].as<int>(), 2);
}

TEST(Loader, FabricLayoutNamesSwitchesAndLinks) {
  const auto r = load_file(quickstart_path());
  ASSERT_TRUE(r.scenario) << r.text;
  const FabricLayout layout = layout_fabric(r.scenario->fabric, r.scenario->hosts);
  EXPECT_THAT(layout.switches, ElementsAre("leaf0", "leaf1", "spine0", "spine1"));
  ASSERT_EQ(layout.links.size(), 8U);
  EXPECT_EQ(layout.links[0].name, "h0--leaf0");
  EXPECT_EQ(layout.links[2].name, "h2--leaf1");
  EXPECT_EQ(layout.links[7].name, "leaf1--spine1");
  EXPECT_EQ(layout.links[7].spec.rate, sim::DataRate::gbps(40));
  ASSERT_NE(layout.find_link("spine0--leaf1"), nullptr);
  EXPECT_EQ(layout.find_link("spine0--leaf1")->name, "leaf1--spine0");
  EXPECT_EQ(layout.find_link("h0--spine0"), nullptr);
}

TEST(Loader, DualHomedHostsUsePartnerLeaf) {
  const auto r = load_text(R"(duration: 1s
topology:
  fabric: {kind: leaf-spine, leaves: 2, spines: 1, hosts_per_leaf: 1, uplinks_per_host: 2}
  hosts: {count: 2}
  vms: [{name: v, host: h1}]
)");
  ASSERT_TRUE(r.scenario) << r.text;
  const FabricLayout layout = layout_fabric(r.scenario->fabric, r.scenario->hosts);
  std::vector<std::string> names;
  for (const FabricLink& l : layout.links) names.push_back(l.name);
  EXPECT_THAT(names, ElementsAre("h0--leaf0", "h0--leaf1", "h1--leaf1", "h1--leaf0", "leaf0--spine0", "leaf1--spine0"));

  const auto odd = load_text(R"(duration: 1s
topology:
  fabric: {kind: leaf-spine, leaves: 3, uplinks_per_host: 2}
  hosts: {count: 2}
  vms: [{name: v, host: h1}]
)");
  EXPECT_FALSE(odd.scenario);
  EXPECT_THAT(odd.text, HasSubstr("inline.yaml:3:38: error: topology.fabric.leaves: uplinks_per_host: 2 pairs leaves"));
}

TEST(Loader, RoutingReconvergenceDelayAndPcapSnapLength) {
  const auto defaults = load_text(R"(duration: 1s
topology:
  fabric: {kind: star}
  hosts: {count: 2}
  vms: [{name: v, host: h1}]
)");
  ASSERT_TRUE(defaults.scenario) << defaults.text;
  EXPECT_EQ(defaults.scenario->fabric.reconvergence_delay, sim::Time::zero());
  EXPECT_EQ(defaults.scenario->outputs.pcap_snap_length, 128u);

  const auto set = load_text(R"(duration: 1s
topology:
  fabric: {kind: leaf-spine, routing: {reconvergence_delay: 250ms}}
  hosts: {count: 2}
  vms: [{name: v, host: h1}]
outputs: {pcap: [v], pcap_snap_length: 1514}
)");
  ASSERT_TRUE(set.scenario) << set.text;
  EXPECT_EQ(set.scenario->fabric.reconvergence_delay, sim::Millis(250));
  EXPECT_EQ(set.scenario->outputs.pcap_snap_length, 1514u);

  const auto bad = load_text(R"(duration: 1s
topology:
  fabric: {kind: star, routing: {reconvergence_delay: -1ms, bfd: yes}}
  hosts: {count: 2}
  vms: [{name: v, host: h1}]
outputs: {pcap_snap_length: 13}
)");
  EXPECT_FALSE(bad.scenario);
  EXPECT_THAT(bad.text, HasSubstr("topology.fabric.routing.reconvergence_delay"));
  EXPECT_THAT(bad.text, HasSubstr("topology.fabric.routing.bfd"));
  EXPECT_THAT(bad.text, HasSubstr("inline.yaml:6:29: error: outputs.pcap_snap_length"));
}

TEST(Loader, HostGroupsAndListsMix) {
  const auto r = load_text(R"(duration: 1s
topology:
  fabric: {kind: star}
  hosts:
    - {count: 2, prefix: rack, cores: 16}
    - {name: special, clock: 3.1GHz}
    - {count: 1, prefix: rack}
  vms:
    - {group: web, count: 5, labels: {role: web}, placement: [rack1, special]}
)");
  ASSERT_TRUE(r.scenario) << r.text;
  const Scenario& s = *r.scenario;
  ASSERT_EQ(s.hosts.size(), 4U);
  EXPECT_EQ(s.hosts[0].name, "rack0");
  EXPECT_EQ(s.hosts[0].cores, 16U);
  EXPECT_EQ(s.hosts[2].name, "special");
  EXPECT_EQ(s.hosts[2].clock_hz, 3'100'000'000ULL);
  EXPECT_EQ(s.hosts[3].name, "rack2");
  EXPECT_EQ(s.hosts[3].cores, 4U);
  ASSERT_EQ(s.vms.size(), 5U);
  std::vector<std::string> placement;
  for (const VmSpec& vm : s.vms) placement.push_back(vm.name + "@" + vm.host);
  EXPECT_THAT(placement, ElementsAre("web-0@rack1", "web-1@special", "web-2@rack1", "web-3@special", "web-4@rack1"));
}

TEST(Loader, GeneratedAddressesSkipExplicitOnes) {
  const auto r = load_text(R"(duration: 1s
topology:
  vm_subnet: 192.168.4.0/24
  fabric: {kind: star}
  hosts: {count: 1}
  vms:
    - {name: first, host: h0}
    - {name: second, host: h0, ipv4: 192.168.4.1, mac: 02:00:00:00:00:01, ipv6: "fd00::2"}
    - {name: third, host: h0, mac: 02:AB:cd:00:00:09}
)");
  ASSERT_TRUE(r.scenario) << r.text;
  const auto& vms = r.scenario->vms;
  EXPECT_EQ(vms[0].ipv4, "192.168.4.2");
  EXPECT_EQ(vms[0].mac, "02:00:00:00:00:02");
  EXPECT_EQ(vms[1].ipv4, "192.168.4.1");
  EXPECT_EQ(vms[1].ipv6, "fd00::2");
  EXPECT_EQ(vms[2].ipv4, "192.168.4.3");
  EXPECT_EQ(vms[2].mac, "02:ab:cd:00:00:09");
}

TEST(Loader, SubnetTooSmallForAllVms) {
  const auto r = load_text(R"(duration: 1s
topology:
  vm_subnet: 10.1.0.0/30
  fabric: {kind: star}
  hosts: {count: 1}
  vms: [{group: web, count: 3, labels: {role: web}}]
)");
  EXPECT_FALSE(r.scenario);
  EXPECT_THAT(r.text, HasSubstr("inline.yaml:3:14: error: topology.vm_subnet: 10.1.0.0/30 has no free address left for VM 'web-2'"));
}

TEST(Loader, HostsMustFitTheLeaves) {
  const auto r = load_text(R"(duration: 1s
topology:
  fabric: {kind: leaf-spine, leaves: 2, hosts_per_leaf: 2}
  hosts: {count: 5}
  vms: [{name: v, host: h0}]
)");
  EXPECT_FALSE(r.scenario);
  EXPECT_THAT(r.text, HasSubstr("inline.yaml:4:10: error: topology.hosts: 5 hosts do not fit the fabric (expected at most "
                                "leaves x hosts_per_leaf = 4)"));
}

TEST(Loader, GraphFabricChecksEndpoints) {
  const auto r = load_text(R"(duration: 1s
topology:
  fabric:
    kind: graph
    switches: [s1, s2]
    links:
      - {a: h0, b: s1, rate: 25Gbps}
      - {a: s1, b: s3}
      - {a: s1, b: h0}
  hosts: {count: 2}
  vms: [{name: v, host: h0}]
)");
  EXPECT_FALSE(r.scenario);
  EXPECT_THAT(r.text, HasSubstr("inline.yaml:8:20: error: topology.fabric.links.1.b: unknown host or switch 's3' (did you mean 's1'?)"));
  EXPECT_THAT(r.text, HasSubstr("inline.yaml:9:9: error: topology.fabric.links.2: duplicate link s1--h0"));
  EXPECT_THAT(r.text, HasSubstr("topology.fabric.links: host 'h1' has no link"));
}

TEST(Loader, PolicyFromSeparateFile) {
  const auto r = load_file(data_path("valid_policy_file.yaml"));
  ASSERT_TRUE(r.scenario) << r.text;
  // A value no VM carries is suspicious but not wrong: a warning, naming the policy file.
  EXPECT_EQ(r.diagnostics.warning_count(), 1U);
  EXPECT_THAT(r.text, HasSubstr(data_path("policy.yaml") + ":7:62: warning: rules.2.to.role: no VM has role: dbb"));
  const PolicySpec& p = r.scenario->policy;
  EXPECT_EQ(p.default_action, "reject");
  EXPECT_THAT(p.ip_lists.at("corp"), ElementsAre("192.0.2.0/24", "2001:db8::/32"));
  ASSERT_EQ(p.rules.size(), 3U);
  EXPECT_EQ(p.rules[0].name, "block");  // emergency first
  EXPECT_TRUE(p.rules[0].from.any);
  EXPECT_THAT(p.rules[1].from.ip_lists, ElementsAre("corp"));
  ASSERT_EQ(p.rules[2].services.size(), 2U);
  EXPECT_EQ(p.rules[2].services[1].protocol, 1);
}

TEST(Loader, TimelineIsSortedAndResolved) {
  const auto r = load_text(std::string(R"(duration: 1s
topology:
  fabric: {kind: leaf-spine, leaves: 1, spines: 1, hosts_per_leaf: 2}
  hosts: {count: 2}
  vms: [{name: vm1, host: h0}]
timeline:
  - {at: 500ms, action: link_down, link: leaf0--h1}
  - {at: 100ms, action: migrate, vm: vm1, to: h1, state: drop}
  - {at: 700ms, action: fail_host, host: h0, restart_after: 50ms}
  - {at: 2s, action: link_up, link: h1--leaf0}
  - {at: 800ms, action: partition_hosts, hosts: [h0, h1]}
  - {at: 900ms, action: relabel, vm: vm1, labels: {role: db, env: prod}}
)"));
  ASSERT_TRUE(r.scenario) << r.text;
  EXPECT_EQ(r.diagnostics.warning_count(), 1U);
  EXPECT_THAT(r.text, HasSubstr("inline.yaml:10:10: warning: timeline.3.at: event at 2s is after the end of the run (duration 1s)"));
  const auto& t = r.scenario->timeline;
  ASSERT_EQ(t.size(), 6U);
  EXPECT_EQ(t[0].action, "migrate");
  EXPECT_EQ(t[0].at, sim::Millis(100));
  EXPECT_EQ(t[0].args.at("state"), "drop");
  EXPECT_EQ(t[1].action, "link_down");
  EXPECT_EQ(t[1].args.at("link"), "h1--leaf0");  // canonical order
  EXPECT_EQ(t[2].args.at("restart_after"), "50ms");
  EXPECT_EQ(t[3].args.at("hosts"), "h0,h1");
  EXPECT_EQ(t[4].args.at("labels"), "env=prod,role=db");
  EXPECT_EQ(t[5].at, sim::Seconds(2));
}

TEST(Loader, PolicyChangesInTheTimelineNameRules) {
  const auto r = load_text(std::string(kMinimalScenario) + R"(policy:
  rules: [{name: open, from: any, to: any, action: allow}]
timeline:
  - {at: 10ms, action: set_rule_action, rule: open, verdict: reject}
  - {at: 20ms, action: set_rule_action, rule: opn, verdict: drop}
  - {at: 30ms, action: set_default_action, verdict: allow}
)");
  EXPECT_FALSE(r.scenario);
  EXPECT_EQ(r.diagnostics.error_count(), 1U) << r.text;
  EXPECT_THAT(r.text, HasSubstr("inline.yaml:12:47: error: timeline.1.rule: unknown rule 'opn' (did you mean 'open'?)"));
}

TEST(Loader, TimelineArgumentsAndStateAreChecked) {
  const auto r = load_text(std::string(R"(duration: 1s
topology:
  fabric: {kind: star}
  hosts: {count: 2}
  vms: [{name: vm1, host: h0}]
timeline:
  - {at: 100ms, action: migrate, vm: vm1, to: h0}
  - {at: 200ms, action: fail_host}
  - {at: 300ms, action: fail_host, host: h1, restart_afer: 5s}
  - {at: 400ms, action: migrate, vm: vm1, to: h1, state: copy}
)"));
  EXPECT_FALSE(r.scenario);
  EXPECT_THAT(r.text, HasSubstr("inline.yaml:8:5: error: timeline.1.host: missing required key (expected an argument of fail_host)"));
  EXPECT_THAT(r.text, HasSubstr("inline.yaml:9:46: error: timeline.2.restart_afer: unknown key 'restart_afer' for action "
                                "'fail_host' (did you mean 'restart_after'?)"));
  EXPECT_THAT(r.text, HasSubstr("inline.yaml:10:58: error: timeline.3.state: invalid value 'copy' (expected one of move, drop)"));

  const auto sequence = load_text(std::string(R"(duration: 1s
topology:
  fabric: {kind: star}
  hosts: {count: 2}
  vms: [{name: vm1, host: h0}]
timeline:
  - {at: 300ms, action: fail_host, host: h1}
  - {at: 100ms, action: migrate, vm: vm1, to: h0}
  - {at: 400ms, action: fail_host, host: h1}
)"));
  EXPECT_FALSE(sequence.scenario);
  EXPECT_THAT(sequence.text, HasSubstr("inline.yaml:8:5: error: timeline.1: VM 'vm1' is already on host 'h0' at 100ms"));
  EXPECT_THAT(sequence.text, HasSubstr("inline.yaml:9:5: error: timeline.2: host 'h1' is already down at 400ms"));
}

TEST(Loader, TrafficKindsAndPatterns) {
  const auto r = load_text(std::string(kMinimalScenario) + R"(traffic:
  - {kind: synthetic, pattern: matrix, matrix: [[0, 1], [2, 0]], flow_size_cdf: bad_cdf.txt, protocol: udp}
  - {kind: flowlog, file: flows.csv, mapping: table, address_table: {192.0.2.1: vm1, 192.0.2.2: vm3}, loops: 2}
  - {kind: pcap, file: flows.csv, tiers: [a, b]}
)");
  EXPECT_FALSE(r.scenario);
  EXPECT_THAT(r.text, HasSubstr(data_path("bad_cdf.txt") + ":3:1: error: traffic.0.flow_size_cdf: flow sizes must increase"));
  EXPECT_THAT(r.text, HasSubstr("inline.yaml:10:97: error: traffic.1.address_table.192.0.2.2: unknown VM 'vm3' (did you mean 'vm1'?)"));
  EXPECT_THAT(r.text, HasSubstr("inline.yaml:11:35: error: traffic.2.tiers: unknown key 'tiers' for traffic kind 'pcap'"));
}

TEST(Loader, MatrixMustMatchTheVmCount) {
  const auto r = load_text(std::string(kMinimalScenario) + R"(traffic:
  - kind: synthetic
    pattern: matrix
    matrix: [[0, 1, 1], [1, 0, 1], [1, 1, 0]]
    flow_size_cdf: ../../../scenarios/data/dctcp_cdf.txt
)");
  EXPECT_FALSE(r.scenario);
  EXPECT_THAT(r.text, HasSubstr("inline.yaml:11:13: error: traffic.0.matrix: expected 2 rows (one per VM, in scenario order), got 3 rows"));
}

TEST(Loader, DuplicateKeysAndExtraDocumentsAreErrors) {
  const auto duplicate = load_text(std::string(kMinimalScenario) + "duration: 200ms\n");
  EXPECT_FALSE(duplicate.scenario);
  EXPECT_THAT(duplicate.text, HasSubstr("inline.yaml:8:1: error: duration: duplicate key 'duration' (first given at line 1)"));

  const auto documents = load_text(std::string(kMinimalScenario) + "---\nduration: 1s\n");
  EXPECT_FALSE(documents.scenario);
  EXPECT_THAT(documents.text, HasSubstr("inline.yaml: error: the file holds 2 YAML documents"));
}

// docs/scenario.md shows the quickstart example in full; keep the two identical.
TEST(Loader, SchemaDocumentShowsTheQuickstartExample) {
  std::ifstream doc_file(std::string(SEGSIM_SOURCE_DIR) + "/docs/scenario.md");
  std::ifstream example_file(quickstart_path());
  std::stringstream doc, example;
  doc << doc_file.rdbuf();
  example << example_file.rdbuf();
  const std::string body = example.str().substr(example.str().find("name: quickstart"));
  EXPECT_THAT(doc.str(), HasSubstr("```yaml\n" + body + "```"));
}

TEST(Loader, MinimalScenarioGetsDefaults) {
  const auto r = load_text(kMinimalScenario);
  ASSERT_TRUE(r.scenario) << r.text;
  EXPECT_EQ(r.scenario->name, "inline");
  EXPECT_EQ(r.scenario->seed, 1U);
  EXPECT_EQ(r.scenario->vm_subnet, "10.0.0.0/16");
  EXPECT_EQ(r.scenario->policy.default_action, "drop");
  EXPECT_TRUE(r.scenario->traffic.empty());
  EXPECT_EQ(r.scenario->hosts[0].connection_limit, 2'000'000U);
}

TEST(Loader, TransportTcpTimersAreReadWithUnits) {
  const auto r = load_text(std::string(kMinimalScenario) +
                           "transport:\n  tcp: {initial_rto: 10ms, min_rto: 5ms, syn_retries: 3, mss: 9000}\n");
  ASSERT_TRUE(r.scenario) << r.text;
  EXPECT_EQ(r.scenario->transport.initial_rto, sim::Millis(10));
  EXPECT_EQ(r.scenario->transport.min_rto, sim::Millis(5));
  EXPECT_EQ(r.scenario->transport.syn_retries, 3U);
  EXPECT_EQ(r.scenario->transport.mss, 9000U);
  EXPECT_EQ(r.scenario->transport.max_rto, sim::Seconds(120));  // default kept
}

TEST(Loader, TransportRejectsBadTimers) {
  const auto r = load_text(std::string(kMinimalScenario) +
                           "transport:\n  tcp: {initial_rto: 10, min_rto: 3s, max_rto: 1s, synretries: 2}\n");
  EXPECT_FALSE(r.scenario);
  EXPECT_NE(r.text.find("inline.yaml:9:"), std::string::npos) << r.text;
  EXPECT_NE(r.text.find("transport.tcp.initial_rto: expected a duration with a unit"), std::string::npos) << r.text;
  EXPECT_NE(r.text.find("(expected min_rto <= max_rto)"), std::string::npos) << r.text;
  EXPECT_NE(r.text.find("did you mean 'syn_retries'?"), std::string::npos) << r.text;
}

}  // namespace
}  // namespace scenarios
