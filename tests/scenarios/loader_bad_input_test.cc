// The bad-input cases of issue 2: each gives a message naming file, line, column and field,
// and no Scenario.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "test_support.h"

namespace scenarios {
namespace {

using ::testing::HasSubstr;
using testing::data_path;
using testing::load_file;

// "<file>:<line>:<column>: error: <field>: "
std::string at(const std::string& fixture, int line, int column, const std::string& field) {
  return data_path(fixture) + ":" + std::to_string(line) + ":" + std::to_string(column) + ": error: " + field + ": ";
}

TEST(LoaderBadInput, SyntaxError) {
  const auto r = load_file(data_path("syntax_error.yaml"));
  EXPECT_FALSE(r.scenario);
  EXPECT_EQ(r.diagnostics.error_count(), 1U) << r.text;
  EXPECT_THAT(r.text, HasSubstr(at("syntax_error.yaml", 4, 3, "topology.vms") + "YAML syntax error: end of sequence flow not found"));
}

TEST(LoaderBadInput, WrongUnitAndMissingUnit) {
  const auto r = load_file(data_path("wrong_unit.yaml"));
  EXPECT_FALSE(r.scenario);
  EXPECT_EQ(r.diagnostics.error_count(), 2U) << r.text;
  EXPECT_THAT(r.text, HasSubstr(at("wrong_unit.yaml", 5, 23, "topology.fabric.host_link.rate") +
                                "unknown unit 'GB' in '10GB' (expected a data rate in one of bps, Kbps, Mbps, Gbps, Tbps; "
                                "'GB' is a unit of size)"));
  EXPECT_THAT(r.text, HasSubstr(at("wrong_unit.yaml", 5, 36, "topology.fabric.host_link.delay") +
                                "expected a duration with a unit, e.g. 5us"));
}

TEST(LoaderBadInput, NegativeBandwidth) {
  const auto r = load_file(data_path("negative_bandwidth.yaml"));
  EXPECT_FALSE(r.scenario);
  EXPECT_EQ(r.diagnostics.error_count(), 1U) << r.text;
  EXPECT_THAT(r.text, HasSubstr(at("negative_bandwidth.yaml", 9, 13, "topology.fabric.fabric_link.rate") +
                                "negative data rate '-40Gbps' (expected a value >= 0)"));
}

TEST(LoaderBadInput, UnknownHostInTimelineEvent) {
  const auto r = load_file(data_path("unknown_host_timeline.yaml"));
  EXPECT_FALSE(r.scenario);
  EXPECT_EQ(r.diagnostics.error_count(), 1U) << r.text;
  EXPECT_THAT(r.text, HasSubstr(at("unknown_host_timeline.yaml", 9, 42, "timeline.1.host") +
                                "unknown host 'host-c' (did you mean 'host-a'?)"));
}

TEST(LoaderBadInput, DuplicateVmName) {
  const auto r = load_file(data_path("duplicate_vm.yaml"));
  EXPECT_FALSE(r.scenario);
  EXPECT_EQ(r.diagnostics.error_count(), 1U) << r.text;
  EXPECT_THAT(r.text, HasSubstr(at("duplicate_vm.yaml", 8, 7, "topology.vms.1.name") +
                                "duplicate VM name 'web' (first defined at line 6)"));
}

TEST(LoaderBadInput, DuplicateIpAddress) {
  const auto r = load_file(data_path("duplicate_ip.yaml"));
  EXPECT_FALSE(r.scenario);
  EXPECT_EQ(r.diagnostics.error_count(), 1U) << r.text;
  EXPECT_THAT(r.text, HasSubstr(at("duplicate_ip.yaml", 7, 34, "topology.vms.1.ipv4") +
                                "duplicate IP address 10.0.0.7 (also used by VM 'vm1' at line 6)"));
}

TEST(LoaderBadInput, UnreadableReferencedFile) {
  const auto r = load_file(data_path("unreadable_file.yaml"));
  EXPECT_FALSE(r.scenario);
  EXPECT_EQ(r.diagnostics.error_count(), 1U) << r.text;
  EXPECT_THAT(r.text, HasSubstr(at("unreadable_file.yaml", 10, 20, "traffic.0.flow_size_cdf") + "cannot read '" +
                                data_path("does-not-exist.txt") + "': No such file or directory"));
}

TEST(LoaderBadInput, UnreadableScenarioFile) {
  const auto missing = load_file(data_path("no-such-scenario.yaml"));
  EXPECT_FALSE(missing.scenario);
  EXPECT_EQ(missing.text, data_path("no-such-scenario.yaml") + ": error: cannot read scenario: No such file or directory\n");
  const auto directory = load_file(data_path(""));
  EXPECT_FALSE(directory.scenario);
  EXPECT_THAT(directory.text, HasSubstr("cannot read scenario: it is a directory"));
}

TEST(LoaderBadInput, UnknownKeyWithSuggestion) {
  const auto r = load_file(data_path("unknown_key.yaml"));
  EXPECT_FALSE(r.scenario);
  EXPECT_EQ(r.diagnostics.error_count(), 1U) << r.text;
  EXPECT_THAT(r.text, HasSubstr(at("unknown_key.yaml", 5, 5, "topology.fabric.leafs") +
                                "unknown key 'leafs' for fabric kind 'leaf-spine' (did you mean 'leaves'?)"));
}

// Validation does not stop at the first problem: every one of the file's mistakes is reported,
// in file order, with problems inside a referenced file naming that file.
TEST(LoaderBadInput, ReportsEveryProblemInOnePass) {
  const auto r = load_file(data_path("many_errors.yaml"));
  EXPECT_FALSE(r.scenario);
  const std::vector<std::string> expected = {
      at("many_errors.yaml", 1, 11, "duration") + "expected a duration with a unit, e.g. 5us",
      at("many_errors.yaml", 2, 7, "seed") + "'-3' is out of range or not an integer",
      at("many_errors.yaml", 4, 14, "topology.vm_subnet") + "'10.0.0.1/16' has host bits set",
      at("many_errors.yaml", 5, 42, "topology.fabric.host_link.rate") + "unknown unit 'gbps'",
      at("many_errors.yaml", 6, 28, "topology.hosts.0.cores") + "'0' is out of range",
      at("many_errors.yaml", 8, 25, "topology.vms.0.host") + "unknown host 'c'",
      at("many_errors.yaml", 10, 33, "topology.vms.2.mac") + "'01:00:5e:00:00:01' is a multicast MAC address",
      at("many_errors.yaml", 13, 22, "policy.rules.0.from.rolee") + "no VM has the label key 'rolee' (did you mean 'role'?)",
      at("many_errors.yaml", 13, 48, "policy.rules.0.services.0") + "impossible port range in 'tcp/9000-8000'",
      at("many_errors.yaml", 14, 26, "policy.rules.1.from.ip_lists.0") + "unknown ip_list 'corp'",
      at("many_errors.yaml", 14, 62, "policy.rules.1.services.0") + "unknown service 'http'",
      at("many_errors.yaml", 14, 77, "policy.rules.1.action") + "invalid value 'permit'",
      at("many_errors.yaml", 16, 52, "traffic.0.tiers.1") + "tier: no VM has the label role: db",
      at("many_errors.yaml", 16, 91, "traffic.0.load") + "'1.5' is out of range (expected a number > 0 and <= 1)",
      at("many_errors.yaml", 17, 24, "traffic.1.file") + "cannot read",
      at("many_errors.yaml", 17, 45, "traffic.1.speed") + "'0' is out of range",
      at("many_errors.yaml", 19, 39, "timeline.0.link") + "unknown link 'a--switch1' (did you mean 'a--switch0'?)",
      at("many_errors.yaml", 20, 23, "timeline.1.action") + "unknown action 'migrat' (did you mean 'migrate'?)",
      at("many_errors.yaml", 22, 13, "outputs.interval") + "zero duration '0ms'",
      at("many_errors.yaml", 23, 17, "outputs.pcap.1") + "unknown VM or link 'web-9'",
      at("bad_cdf.txt", 3, 1, "traffic.0.flow_size_cdf") + "flow sizes must increase from line to line (500 follows 1000)",
  };
  EXPECT_EQ(r.diagnostics.error_count(), expected.size()) << r.text;
  size_t position = 0;
  for (const std::string& message : expected) {
    const size_t found = r.text.find(message, position);
    EXPECT_NE(found, std::string::npos) << "missing or out of order: " << message << "\n" << r.text;
    if (found != std::string::npos) position = found;
  }
}

}  // namespace
}  // namespace scenarios
