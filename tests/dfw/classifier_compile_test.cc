// The rule compiler: IpPrefix text forms, validation errors, table metadata.

#include <gtest/gtest.h>

#include "dfw/rules.h"
#include "rule_table.h"

namespace dfw {
namespace {

IpPrefix prefix(const std::string& text) {
  IpPrefix p;
  EXPECT_TRUE(IpPrefix::parse(text, p)) << text;
  return p;
}

TEST(IpPrefixTest, ParsesIpv4AsMappedIpv6) {
  const IpPrefix p = prefix("10.1.2.0/24");
  EXPECT_TRUE(p.is_v4);
  EXPECT_EQ(p.length, 96 + 24);
  const std::array<uint8_t, 16> expected = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 10, 1, 2, 0};
  EXPECT_EQ(p.address, expected);
  EXPECT_EQ(p.to_string(), "10.1.2.0/24");
}

TEST(IpPrefixTest, HostAddressesAndCanonicalForm) {
  EXPECT_EQ(prefix("192.168.1.7").to_string(), "192.168.1.7/32");
  EXPECT_EQ(prefix("192.168.1.7").length, 128);
  EXPECT_EQ(prefix("10.1.2.3/8").to_string(), "10.0.0.0/8");  // host bits cleared
  EXPECT_EQ(prefix("0.0.0.0/0").length, 96);
  EXPECT_EQ(prefix("::1").to_string(), "::1/128");
  EXPECT_EQ(prefix("2001:db8::/32").to_string(), "2001:db8::/32");
  EXPECT_EQ(prefix("2001:db8:ffff::1/33").to_string(), "2001:db8:8000::/33");
  EXPECT_FALSE(prefix("::/0").is_v4);
  EXPECT_EQ(prefix("::/0").length, 0);
}

TEST(IpPrefixTest, RejectsMalformedText) {
  IpPrefix p;
  for (const char* bad : {"", "10.0.0.0/33", "10.0.0/8", "10.0.0.256", "10.0.0.0/", "10.0.0.0/-1",
                          "10.0.0.0/8x", "2001:db8::/129", "2001:::1", "/8", "hello", "10.0.0.0/0008",
                          " 10.0.0.0/8"}) {
    EXPECT_FALSE(IpPrefix::parse(bad, p)) << "'" << bad << "'";
  }
}

RuleSetSpec one_rule(const RuleSpec& rule) {
  RuleSetSpec spec;
  spec.sections.push_back({"main", {rule}});
  return spec;
}

std::string compile_error(const RuleSetSpec& spec) {
  Status error;
  RuleTablePtr table = compile_rules(spec, error);
  EXPECT_EQ(table, nullptr);
  EXPECT_FALSE(error.is_ok());
  return error.message();
}

TEST(CompileRulesTest, UnknownIpSetIsNamed) {
  RuleSpec r;
  r.id = 42;
  r.source_sets = {"web-servers"};
  const std::string message = compile_error(one_rule(r));
  EXPECT_NE(message.find("unknown IP set 'web-servers'"), std::string::npos) << message;
  EXPECT_NE(message.find("section 'main' rule 0 (id 42)"), std::string::npos) << message;
}

TEST(CompileRulesTest, InvertedPortRanges) {
  RuleSpec r;
  r.protocol = kProtoTcp;
  r.destination_ports = {100, 99};
  EXPECT_NE(compile_error(one_rule(r)).find("destination_ports: inverted range"), std::string::npos);
  r.destination_ports = {};
  r.source_ports = {2, 1};
  EXPECT_NE(compile_error(one_rule(r)).find("source_ports: inverted range"), std::string::npos);
}

TEST(CompileRulesTest, PortsOnlyOnTcpAndUdp) {
  RuleSpec r;
  r.destination_ports = {80, 80};
  for (uint8_t proto : {kProtoAny, kProtoIcmp, uint8_t{47}}) {
    r.protocol = proto;
    EXPECT_NE(compile_error(one_rule(r)).find("only TCP (6) and UDP (17) have ports"), std::string::npos);
  }
}

TEST(CompileRulesTest, IcmpFieldsOnlyOnIcmp) {
  RuleSpec r;
  r.protocol = kProtoTcp;
  r.icmp_type = 8;
  EXPECT_NE(compile_error(one_rule(r)).find("only ICMP (1) and ICMPv6 (58)"), std::string::npos);
  r.protocol = kProtoIcmp;
  r.icmp_type = -1;
  r.icmp_code = 0;
  EXPECT_NE(compile_error(one_rule(r)).find("icmp_code: given without icmp_type"), std::string::npos);
  r.icmp_type = 256;
  EXPECT_NE(compile_error(one_rule(r)).find("icmp_type: out of range"), std::string::npos);
}

TEST(CompileRulesTest, MeaninglessAddressFamilies) {
  RuleSpec r;
  r.sources = {prefix("10.0.0.0/8")};
  r.destinations = {prefix("2001:db8::/32")};
  EXPECT_NE(compile_error(one_rule(r)).find("different address families"), std::string::npos);
  RuleSpec icmp;
  icmp.protocol = kProtoIcmp;
  icmp.destinations = {prefix("2001:db8::/32")};
  EXPECT_NE(compile_error(one_rule(icmp)).find("ICMP (1) with IPv6-only"), std::string::npos);
  icmp.protocol = kProtoIcmpv6;
  icmp.destinations = {prefix("10.0.0.0/8")};
  EXPECT_NE(compile_error(one_rule(icmp)).find("ICMPv6 (58) with IPv4-only"), std::string::npos);
  // Mixed lists are fine: each family has a meaningful pair.
  RuleSpec mixed;
  mixed.sources = {prefix("10.0.0.0/8"), prefix("2001:db8::/32")};
  mixed.destinations = {prefix("2001:db8::/32")};
  Status error;
  EXPECT_NE(compile_rules(one_rule(mixed), error), nullptr) << error.message();
}

TEST(CompileRulesTest, MalformedPrefixInSpecOrSet) {
  RuleSpec r;
  IpPrefix bad = prefix("10.0.0.0/8");
  bad.length = 90;  // an IPv4 prefix shorter than the mapped /96
  r.sources = {bad};
  EXPECT_NE(compile_error(one_rule(r)).find("malformed prefix"), std::string::npos);
  RuleSetSpec spec;
  spec.ip_sets["broken"] = {bad};
  EXPECT_NE(compile_error(spec).find("IP set 'broken'"), std::string::npos);
}

TEST(CompileRulesTest, MetadataAndFlattening) {
  RuleSetSpec spec;
  spec.version = 77;
  spec.default_action = Action::kAllow;
  spec.reevaluate_connections = true;
  RuleSpec a;
  a.id = 10;
  a.action = Action::kDrop;
  a.log = true;
  RuleSpec b;
  b.id = 20;
  b.action = Action::kReject;
  spec.sections.push_back({"first", {a}});
  spec.sections.push_back({"empty", {}});
  spec.sections.push_back({"second", {b, a}});
  Status error;
  RuleTablePtr table = compile_rules(spec, error);
  ASSERT_NE(table, nullptr) << error.message();
  EXPECT_TRUE(error.is_ok());
  EXPECT_EQ(rule_table_version(*table), 77u);
  EXPECT_EQ(rule_table_rule_count(*table), 3u);
  EXPECT_GT(rule_table_memory_size(*table), 0u);
  EXPECT_EQ(table->default_action(), Action::kAllow);
  EXPECT_TRUE(table->reevaluate_connections());
  ASSERT_EQ(table->rules().size(), 3u);
  EXPECT_EQ(table->rules()[0].id, 10u);
  EXPECT_EQ(table->rules()[0].action, Action::kDrop);
  EXPECT_TRUE(table->rules()[0].log);
  EXPECT_EQ(table->rules()[1].id, 20u);
  EXPECT_EQ(table->rules()[1].action, Action::kReject);
  EXPECT_FALSE(table->rules()[1].log);
}

TEST(CompileRulesTest, EmptyRuleSetMatchesNothing) {
  Status error;
  RuleTablePtr table = compile_rules(RuleSetSpec{}, error);
  ASSERT_NE(table, nullptr);
  FlowKey key;
  uint32_t steps = 0;
  EXPECT_EQ(table->classify(key, steps), -1);
  EXPECT_EQ(rule_table_rule_count(*table), 0u);
}

TEST(CompileRulesTest, LargeIpSetsStayWithinMemoryBound) {
  // 4,000 /32 sources in a set, against 1,000 rules: memory grows linearly, not as a product.
  RuleSetSpec spec;
  auto& set = spec.ip_sets["many"];
  for (uint32_t i = 0; i < 4000; ++i) {
    set.push_back(prefix("10." + std::to_string(i >> 8 & 255) + "." + std::to_string(i & 255) + ".1"));
  }
  SectionSpec section{"s", {}};
  for (uint32_t i = 0; i < 1000; ++i) {
    RuleSpec r;
    r.id = i;
    r.protocol = kProtoTcp;
    r.destination_ports = {static_cast<uint16_t>(i), static_cast<uint16_t>(i)};
    if (i % 100 == 0) r.source_sets = {"many"};
    section.rules.push_back(r);
  }
  spec.sections.push_back(section);
  Status error;
  RuleTablePtr table = compile_rules(spec, error);
  ASSERT_NE(table, nullptr) << error.message();
  // 10 rules x 4,000 prefixes + 990 rules = 40,990 boxes; the bound is 256 KiB + 512 B per box.
  EXPECT_LT(rule_table_memory_size(*table), 256u * 1024 + 600u * 40990);
  FlowKey key;
  key.protocol = kProtoTcp;
  key.destination_port = 200;
  key.source = prefix("10.3.4.1").address;
  uint32_t steps = 0;
  EXPECT_EQ(table->classify(key, steps), 200);
  key.source = prefix("10.15.159.1").address;  // set member 3999, the last one
  EXPECT_EQ(table->classify(key, steps), 200);
  key.source = prefix("10.15.160.1").address;  // 4000: just outside the set
  EXPECT_EQ(table->classify(key, steps), -1);
  key.destination_port = 301;  // a rule without the set
  EXPECT_EQ(table->classify(key, steps), 301);
  EXPECT_GT(steps, 0u);
}

}  // namespace
}  // namespace dfw
