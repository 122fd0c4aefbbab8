// --set overrides: applied to the YAML tree before validation; problems name the override.

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include "test_support.h"

namespace scenarios {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;
using testing::kMinimalScenario;
using testing::load_file;
using testing::load_text;

std::string quickstart_path() { return std::string(SEGSIM_SOURCE_DIR) + "/scenarios/examples/quickstart.yaml"; }

TEST(Overrides, ReplaceValuesAndShowInEffectiveYaml) {
  const auto r = load_file(quickstart_path(), {"seed=42", "traffic.0.load=0.5", "topology.fabric.host_link.rate=25Gbps"});
  ASSERT_TRUE(r.scenario) << r.text;
  EXPECT_EQ(r.scenario->seed, 42U);
  EXPECT_DOUBLE_EQ(r.scenario->traffic[0].load, 0.5);
  EXPECT_EQ(r.scenario->fabric.host_link.rate, sim::DataRate::gbps(25));
  // The other fields of the flow map keep their file values.
  EXPECT_EQ(r.scenario->fabric.host_link.ecn_threshold, sim::Bytes(96 * 1024));
  const YAML::Node effective = YAML::Load(r.scenario->effective_yaml);
  EXPECT_EQ(effective["seed"].as<std::string>(), "42");
  EXPECT_EQ(effective["traffic"][0]["load"].as<std::string>(), "0.5");
  EXPECT_THAT(r.scenario->source_text, HasSubstr("seed: 1\n"));
  EXPECT_THAT(r.scenario->source_text, Not(HasSubstr("42")));
}

TEST(Overrides, CreateMissingKeysAndTakeYamlValues) {
  const auto r = load_text(kMinimalScenario, {"seed=7", "outputs.interval=5ms", "outputs.pcap=[vm1, switch0--a]"});
  ASSERT_TRUE(r.scenario) << r.text;
  EXPECT_EQ(r.scenario->seed, 7U);
  EXPECT_EQ(r.scenario->outputs.interval, sim::Millis(5));
  EXPECT_THAT(r.scenario->outputs.pcap_ports, ElementsAre("vm1", "a--switch0"));

  const auto fabric = load_text(kMinimalScenario, {"topology.fabric={kind: leaf-spine, leaves: 1, spines: 1}"});
  ASSERT_TRUE(fabric.scenario) << fabric.text;
  EXPECT_EQ(fabric.scenario->fabric.kind, "leaf-spine");
  EXPECT_EQ(fabric.scenario->fabric.spines, 1U);
  EXPECT_EQ(fabric.scenario->fabric.hosts_per_leaf, 2U);

  // The star's switch is gone with the star, and the override that names it is blamed.
  const auto stale = load_text(kMinimalScenario, {"topology.fabric.kind=leaf-spine", "outputs.pcap=[a--switch0]"});
  EXPECT_FALSE(stale.scenario);
  EXPECT_THAT(stale.text, HasSubstr("--set outputs.pcap=[a--switch0]: error: outputs.pcap.0: unknown VM or link 'a--switch0'"));
}

TEST(Overrides, LaterOverridesWin) {
  const auto r = load_text(kMinimalScenario, {"seed=7", "seed=8"});
  ASSERT_TRUE(r.scenario) << r.text;
  EXPECT_EQ(r.scenario->seed, 8U);
}

TEST(Overrides, ListIndicesAddressEntries) {
  const auto r = load_text(kMinimalScenario, {"topology.vms.1.host=a", "topology.hosts.0.cores=32"});
  ASSERT_TRUE(r.scenario) << r.text;
  EXPECT_EQ(r.scenario->vms[1].host, "a");
  EXPECT_EQ(r.scenario->hosts[0].cores, 32U);
}

TEST(Overrides, ProblemsNameTheOverride) {
  const auto r = load_file(quickstart_path(), {"traffic.9.load=0.5", "topology.fabric.leafs=3", "duration=fast",
                                               "seed", "topology.hosts.count.x=1", "traffic.load=1", "outputs..path=x"});
  EXPECT_FALSE(r.scenario);
  EXPECT_EQ(r.diagnostics.error_count(), 7U) << r.text;
  EXPECT_THAT(r.text, HasSubstr("--set traffic.9.load=0.5: error: traffic.9: index 9 is out of range (traffic has 3 entries)"));
  EXPECT_THAT(r.text, HasSubstr("--set topology.fabric.leafs=3: error: topology.fabric.leafs: unknown key 'leafs' for fabric "
                                "kind 'leaf-spine' (did you mean 'leaves'?)"));
  EXPECT_THAT(r.text, HasSubstr("--set duration=fast: error: duration: 'fast' is not a number with a unit (expected a "
                                "duration with a unit, e.g. 5us)"));
  EXPECT_THAT(r.text, HasSubstr("--set seed: error: expected path.to.key=value"));
  EXPECT_THAT(r.text, HasSubstr("--set topology.hosts.count.x=1: error: topology.hosts.count.x: cannot set 'x' inside "
                                "topology.hosts.count, which is '4', not a map or list"));
  EXPECT_THAT(r.text, HasSubstr("--set traffic.load=1: error: traffic.load: 'load' is not a list index"));
  EXPECT_THAT(r.text, HasSubstr("--set outputs..path=x: error: outputs..path: empty path segment"));
}

TEST(Overrides, UnknownTopLevelPathIsReportedOnce) {
  const auto r = load_text(kMinimalScenario, {"nonsense.deep.key=1"});
  EXPECT_FALSE(r.scenario);
  EXPECT_EQ(r.diagnostics.error_count(), 1U) << r.text;
  EXPECT_THAT(r.text, HasSubstr("--set nonsense.deep.key=1: error: nonsense: unknown key 'nonsense'"));
}

TEST(Overrides, InvalidYamlValue) {
  const auto r = load_text(kMinimalScenario, {"outputs.pcap=[vm1"});
  EXPECT_FALSE(r.scenario);
  EXPECT_THAT(r.text, HasSubstr("--set outputs.pcap=[vm1: error: outputs.pcap: the value is not valid YAML"));
}

}  // namespace
}  // namespace scenarios
