// The policy YAML loader: the accepted forms and every kind of error, with file:line:column and
// the field path.

#include "controller/policy_loader.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>

#include "controller/address.h"

namespace controller {
namespace {

PolicyLoadResult load(const std::string& text) { return load_policy_text(text, "p.yaml"); }

// The single error of a load, as "line:column field: message" checks.
void expect_error(const std::string& text, int line, int column, const std::string& field, const std::string& part) {
  PolicyLoadResult r = load(text);
  ASSERT_EQ(r.errors.size(), 1u) << (r.errors.empty() ? "no error" : r.errors[0].to_string() + " and more");
  const LoadError& e = r.errors[0];
  EXPECT_EQ(e.file, "p.yaml");
  EXPECT_EQ(e.line, line) << e.to_string();
  EXPECT_EQ(e.column, column) << e.to_string();
  EXPECT_EQ(e.field, field) << e.to_string();
  EXPECT_NE(e.message.find(part), std::string::npos) << e.to_string();
}

TEST(PolicyLoader, LoadsEveryForm) {
  PolicyLoadResult r = load(R"(
default_action: reject
custom_labels: [tenant]
ip_lists:
  corp: [10.200.0.0/16, "2001:db8:1::/48"]
  dns: 192.0.2.53
services:
  web: tcp/8000-8099
  ssh: {protocol: tcp, port_first: 22}
  ping: icmp/8
rules:
  - name: corp-ssh
    category: infrastructure
    from: {ip_lists: [corp]}
    to: {labels: {tenant: a, role: bastion}}
    services: [ssh, ping]
    action: allow
    log: true
  - from: any
    to: any
    services: udp/53
    action: drop
  - name: dns
    category: default
    from: {app: shop}
    to: {labels: {app: shop}, ip_lists: [dns]}
    services: [{protocol: udp, port_first: 53, port_last: 54}, any, icmpv6]
    action: allow
)");
  ASSERT_TRUE(r.ok()) << r.errors[0].to_string();
  const Policy& p = r.policy;
  EXPECT_EQ(p.default_action, dfw::Action::kReject);
  EXPECT_EQ(p.custom_labels, std::vector<std::string>{"tenant"});
  ASSERT_EQ(p.ip_lists.at("corp").size(), 2u);
  EXPECT_EQ(format_prefix(p.ip_lists.at("corp")[1]), "2001:db8:1::/48");
  EXPECT_EQ(format_prefix(p.ip_lists.at("dns")[0]), "192.0.2.53/32");
  EXPECT_EQ(p.services.at("web"), (Service{dfw::kProtoTcp, 8000, 8099, -1}));
  EXPECT_EQ(p.services.at("ssh"), (Service{dfw::kProtoTcp, 22, 22, -1}));
  EXPECT_EQ(p.services.at("ping"), (Service{dfw::kProtoIcmp, 0, 65535, 8}));
  ASSERT_EQ(p.rules.size(), 3u);
  const Rule& ssh = p.rules[0];
  EXPECT_EQ(ssh.category, Category::kInfrastructure);
  EXPECT_EQ(ssh.from.ip_lists, std::vector<std::string>{"corp"});
  EXPECT_EQ(ssh.to.labels, (Labels{{"role", "bastion"}, {"tenant", "a"}}));
  EXPECT_EQ(ssh.services.size(), 2u);
  EXPECT_TRUE(ssh.log);
  EXPECT_EQ(p.rules[1].name, "rule-1");
  EXPECT_TRUE(p.rules[1].from.any);
  EXPECT_TRUE(p.rules[1].to.any);
  EXPECT_EQ(p.rules[1].action, dfw::Action::kDrop);
  EXPECT_EQ(p.rules[1].category, Category::kApplication);
  const Rule& all = p.rules[2];
  EXPECT_EQ(all.category, Category::kDefault);
  EXPECT_EQ(all.from.labels, (Labels{{"app", "shop"}}));
  EXPECT_EQ(all.to.labels, (Labels{{"app", "shop"}}));
  EXPECT_EQ(all.to.ip_lists, std::vector<std::string>{"dns"});
  ASSERT_EQ(all.services.size(), 3u);
  EXPECT_EQ(all.services[0], (Service{dfw::kProtoUdp, 53, 54, -1}));
  EXPECT_EQ(all.services[1], Service{});
  EXPECT_EQ(all.services[2], (Service{dfw::kProtoIcmpv6, 0, 65535, -1}));
}

TEST(PolicyLoader, AcceptsAScenarioStylePolicyWrapper) {
  PolicyLoadResult r = load("policy:\n  default_action: allow\n  rules: []\n");
  ASSERT_TRUE(r.ok()) << r.errors[0].to_string();
  EXPECT_EQ(r.policy.default_action, dfw::Action::kAllow);
}

TEST(PolicyLoader, UnknownLabelKeyNamesLineColumnAndField) {
  expect_error("rules:\n  - from: {tier: web}\n    to: any\n    action: allow\n", 2, 12, "rules[0].from.tier", "unknown label key \"tier\"");
}

TEST(PolicyLoader, CustomLabelsAreAllowedAndSuggested) {
  EXPECT_TRUE(load("custom_labels: [tenant]\nrules:\n  - {from: {tenant: a}, to: any, action: drop}\n").ok());
  PolicyLoadResult r = load("custom_labels: [tenant]\nrules:\n  - {from: {tenent: a}, to: any, action: drop}\n");
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_NE(r.errors[0].message.find("did you mean \"tenant\""), std::string::npos) << r.errors[0].to_string();
  expect_error("custom_labels: [role]\n", 1, 17, "custom_labels", "standard label key");
  expect_error("custom_labels: [any]\n", 1, 17, "custom_labels", "reserved");
}

TEST(PolicyLoader, UnknownServiceIsReportedWithSuggestion) {
  expect_error("services:\n  https: tcp/443\nrules:\n  - from: any\n    to: any\n    services: [http]\n    action: allow\n", 6, 16,
               "rules[0].services[0]", "unknown service \"http\" (did you mean \"https\"?)");
}

TEST(PolicyLoader, ImpossiblePortRanges) {
  expect_error("rules:\n  - {from: any, to: any, action: allow, services: [tcp/9000-8000]}\n", 2, 52, "rules[0].services[0]",
               "impossible port range");
  expect_error("rules:\n  - {from: any, to: any, action: allow, services: [tcp/70000]}\n", 2, 52, "rules[0].services[0]",
               "0..65535");
  expect_error("services:\n  s: {protocol: tcp, port_first: 90, port_last: 80}\n", 2, 6, "services.s",
               "impossible port range 90-80");
  expect_error("services:\n  s: {protocol: icmp, port_first: 80}\n", 2, 6, "services.s", "ports need protocol tcp or udp");
  expect_error("rules:\n  - {from: any, to: any, action: allow, services: [icmp/300]}\n", 2, 52, "rules[0].services[0]", "0..255");
}

TEST(PolicyLoader, UnknownIpList) {
  expect_error("ip_lists:\n  corp: [10.0.0.0/8]\nrules:\n  - from: {ip_lists: [crop]}\n    to: any\n    action: allow\n", 4, 23,
               "rules[0].from.ip_lists", "unknown ip_list \"crop\" (did you mean \"corp\"?)");
}

TEST(PolicyLoader, BadValues) {
  expect_error("ip_lists:\n  x: [10.0.0.1/8]\n", 2, 7, "ip_lists.x", "not a CIDR");
  expect_error("default_action: permit\n", 1, 17, "default_action", "unknown action");
  expect_error("rules:\n  - {from: any, to: any, action: allow, category: urgent}\n", 2, 51, "rules[0].category", "unknown category");
  expect_error("rules:\n  - {from: any, to: any, action: allow, log: maybe}\n", 2, 46, "rules[0].log", "true or false");
  expect_error("rules:\n  - {from: any, action: allow}\n", 2, 5, "rules[0].to", "missing");
  expect_error("rules:\n  - {from: any, to: any}\n", 2, 5, "rules[0].action", "missing");
  expect_error("rules:\n  - {from: {}, to: any, action: drop}\n", 2, 12, "rules[0].from", "empty scope");
  expect_error("rules:\n  - {from: {ip_lists: [], role: web}, to: any, action: drop}\n", 2, 27, "rules[0].from.role",
               "put labels under `labels`");
  expect_error("rules:\n  - {name: a, from: any, to: any, action: drop}\n  - {name: a, from: any, to: any, action: drop}\n", 3, 12,
               "rules[1].name", "duplicate rule name");
  expect_error("rules:\n  - {from: any, to: any, action: allow, acton: drop}\n", 2, 41, "rules[0].acton",
               "did you mean \"action\"");
  expect_error("rule:\n  - {from: any, to: any, action: drop}\n", 1, 1, "rule", "did you mean \"rules\"");
  expect_error("services:\n  tcp: tcp/1\n", 2, 8, "services.tcp", "protocol name");
}

TEST(PolicyLoader, ReportsEveryProblem) {
  PolicyLoadResult r = load("rules:\n  - {from: {tier: a}, to: {zone: b}, services: [nope], action: allow}\n");
  ASSERT_EQ(r.errors.size(), 3u);
  EXPECT_EQ(r.errors[0].field, "rules[0].from.tier");
  EXPECT_EQ(r.errors[1].field, "rules[0].to.zone");
  EXPECT_EQ(r.errors[2].field, "rules[0].services[0]");
}

TEST(PolicyLoader, SyntaxErrorsAndFiles) {
  PolicyLoadResult r = load("rules: [\n");
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_NE(r.errors[0].message.find("YAML syntax"), std::string::npos);
  EXPECT_GT(r.errors[0].line, 0);

  PolicyLoadResult missing = load_policy_file("/nonexistent/policy.yaml");
  ASSERT_EQ(missing.errors.size(), 1u);
  EXPECT_EQ(missing.errors[0].to_string(), "/nonexistent/policy.yaml: cannot open file");

  std::string path = ::testing::TempDir() + "controller_policy_test.yaml";
  {
    std::ofstream out(path);
    out << "rules:\n  - from: any\n    to: {role: web}\n    services: [tcp/99999]\n    action: allow\n";
  }
  PolicyLoadResult bad = load_policy_file(path);
  ASSERT_EQ(bad.errors.size(), 1u);
  EXPECT_EQ(bad.errors[0].to_string().rfind(path + ":4:16: rules[0].services[0]: ", 0), 0u) << bad.errors[0].to_string();
  std::remove(path.c_str());
}

TEST(ParseService, CompactForms) {
  Service s;
  std::string why;
  ASSERT_TRUE(parse_service("tcp/80", s, why));
  EXPECT_EQ(s, (Service{dfw::kProtoTcp, 80, 80, -1}));
  ASSERT_TRUE(parse_service("udp", s, why));
  EXPECT_EQ(s, (Service{dfw::kProtoUdp, 0, 65535, -1}));
  ASSERT_TRUE(parse_service("icmpv6/128", s, why));
  EXPECT_EQ(s, (Service{dfw::kProtoIcmpv6, 0, 65535, 128}));
  EXPECT_FALSE(parse_service("any/80", s, why));
  EXPECT_FALSE(parse_service("tcp/", s, why));
  EXPECT_FALSE(parse_service("sctp/80", s, why));
  EXPECT_FALSE(parse_service("tcp/80-", s, why));
}

}  // namespace
}  // namespace controller
