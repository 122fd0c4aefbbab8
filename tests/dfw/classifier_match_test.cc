// Matching semantics of compiled rule tables: prefix edges, port range edges, protocol any, ICMP
// type/code, direction, IPv6, IP sets, first match across sections, work counters.

#include <gtest/gtest.h>

#include "classifier_linear_reference.h"
#include "dfw/rules.h"
#include "rule_table.h"

namespace dfw {
namespace {

IpPrefix prefix(const std::string& text) {
  IpPrefix p;
  EXPECT_TRUE(IpPrefix::parse(text, p)) << text;
  return p;
}

FlowKey flow(const std::string& source, const std::string& destination, uint8_t protocol = kProtoTcp,
             uint16_t source_port = 1000, uint16_t destination_port = 80,
             Direction direction = Direction::kEgress) {
  FlowKey key;
  key.source = prefix(source).address;
  key.destination = prefix(destination).address;
  key.is_v4 = prefix(source).is_v4;
  key.protocol = protocol;
  if (protocol == kProtoTcp || protocol == kProtoUdp) {
    key.source_port = source_port;
    key.destination_port = destination_port;
  }
  key.direction = direction;
  return key;
}

FlowKey icmp(const std::string& source, const std::string& destination, uint8_t type, uint8_t code,
             uint8_t protocol = kProtoIcmp) {
  FlowKey key = flow(source, destination, protocol);
  key.icmp_type = type;
  key.icmp_code = code;
  return key;
}

// Compiles `spec` and checks every key against the linear reference too.
class Table {
 public:
  explicit Table(RuleSetSpec spec) : spec_(std::move(spec)), reference_(spec_) {
    Status error;
    table_ = compile_rules(spec_, error);
    EXPECT_NE(table_, nullptr) << error.message();
  }
  int32_t operator()(const FlowKey& key) const {
    uint32_t steps = 0;
    const int32_t got = table_->classify(key, steps);
    EXPECT_EQ(got, reference_.classify(key)) << "fast classifier disagrees with the linear reference";
    EXPECT_GT(steps, 0u);
    return got;
  }

 private:
  RuleSetSpec spec_;
  testing::LinearReference reference_;
  RuleTablePtr table_;
};

RuleSetSpec rules(std::vector<RuleSpec> list) {
  RuleSetSpec spec;
  spec.sections.push_back({"s", std::move(list)});
  return spec;
}

TEST(ClassifierMatchTest, PrefixEdges) {
  RuleSpec r;
  r.sources = {prefix("10.1.2.0/23")};  // 10.1.2.0 - 10.1.3.255
  const Table t(rules({r}));
  EXPECT_EQ(t(flow("10.1.1.255", "1.1.1.1")), -1);
  EXPECT_EQ(t(flow("10.1.2.0", "1.1.1.1")), 0);
  EXPECT_EQ(t(flow("10.1.3.255", "1.1.1.1")), 0);
  EXPECT_EQ(t(flow("10.1.4.0", "1.1.1.1")), -1);
}

TEST(ClassifierMatchTest, HostAndWildcardPrefixes) {
  RuleSpec host;
  host.destinations = {prefix("192.168.0.1/32")};
  RuleSpec all_v4;
  all_v4.sources = {prefix("0.0.0.0/0")};
  const Table t(rules({host, all_v4}));
  EXPECT_EQ(t(flow("1.2.3.4", "192.168.0.1")), 0);
  EXPECT_EQ(t(flow("1.2.3.4", "192.168.0.2")), 1);
  EXPECT_EQ(t(flow("2001:db8::1", "2001:db8::2")), -1);  // 0.0.0.0/0 is IPv4 only
}

TEST(ClassifierMatchTest, PortRangeEdges) {
  RuleSpec r;
  r.protocol = kProtoTcp;
  r.source_ports = {1024, 65535};
  r.destination_ports = {8000, 8080};
  const Table t(rules({r}));
  EXPECT_EQ(t(flow("1.1.1.1", "2.2.2.2", kProtoTcp, 1024, 8000)), 0);
  EXPECT_EQ(t(flow("1.1.1.1", "2.2.2.2", kProtoTcp, 65535, 8080)), 0);
  EXPECT_EQ(t(flow("1.1.1.1", "2.2.2.2", kProtoTcp, 1023, 8000)), -1);
  EXPECT_EQ(t(flow("1.1.1.1", "2.2.2.2", kProtoTcp, 1024, 7999)), -1);
  EXPECT_EQ(t(flow("1.1.1.1", "2.2.2.2", kProtoTcp, 1024, 8081)), -1);
  EXPECT_EQ(t(flow("1.1.1.1", "2.2.2.2", kProtoUdp, 1024, 8000)), -1);  // protocol pinned
}

TEST(ClassifierMatchTest, ProtocolAny) {
  RuleSpec tcp;
  tcp.protocol = kProtoTcp;
  tcp.destination_ports = {22, 22};
  RuleSpec any;
  const Table t(rules({tcp, any}));
  EXPECT_EQ(t(flow("1.1.1.1", "2.2.2.2", kProtoTcp, 5, 22)), 0);
  EXPECT_EQ(t(flow("1.1.1.1", "2.2.2.2", kProtoUdp, 5, 22)), 1);
  EXPECT_EQ(t(flow("1.1.1.1", "2.2.2.2", uint8_t{47})), 1);  // GRE
  EXPECT_EQ(t(icmp("1.1.1.1", "2.2.2.2", 8, 0)), 1);
}

TEST(ClassifierMatchTest, IcmpTypeAndCode) {
  RuleSpec echo;
  echo.protocol = kProtoIcmp;
  echo.icmp_type = 8;
  RuleSpec unreachable_port;
  unreachable_port.protocol = kProtoIcmp;
  unreachable_port.icmp_type = 3;
  unreachable_port.icmp_code = 3;
  RuleSpec v6_echo;
  v6_echo.protocol = kProtoIcmpv6;
  v6_echo.icmp_type = 128;
  const Table t(rules({echo, unreachable_port, v6_echo}));
  EXPECT_EQ(t(icmp("1.1.1.1", "2.2.2.2", 8, 0)), 0);
  EXPECT_EQ(t(icmp("1.1.1.1", "2.2.2.2", 8, 5)), 0);
  EXPECT_EQ(t(icmp("1.1.1.1", "2.2.2.2", 0, 0)), -1);
  EXPECT_EQ(t(icmp("1.1.1.1", "2.2.2.2", 3, 3)), 1);
  EXPECT_EQ(t(icmp("1.1.1.1", "2.2.2.2", 3, 1)), -1);
  EXPECT_EQ(t(icmp("2001:db8::1", "2001:db8::2", 128, 0, kProtoIcmpv6)), 2);
  EXPECT_EQ(t(icmp("2001:db8::1", "2001:db8::2", 8, 0, kProtoIcmpv6)), -1);
  // A TCP packet whose ports equal an ICMP type/code never hits an ICMP rule.
  EXPECT_EQ(t(flow("1.1.1.1", "2.2.2.2", kProtoTcp, 8, 0)), -1);
}

TEST(ClassifierMatchTest, Direction) {
  RuleSpec in;
  in.direction = RuleDirection::kIn;
  in.destination_ports = {80, 80};
  in.protocol = kProtoTcp;
  RuleSpec out;
  out.direction = RuleDirection::kOut;
  out.protocol = kProtoTcp;
  const Table t(rules({in, out}));
  EXPECT_EQ(t(flow("1.1.1.1", "2.2.2.2", kProtoTcp, 1, 80, Direction::kIngress)), 0);
  EXPECT_EQ(t(flow("1.1.1.1", "2.2.2.2", kProtoTcp, 1, 80, Direction::kEgress)), 1);
  EXPECT_EQ(t(flow("1.1.1.1", "2.2.2.2", kProtoTcp, 1, 81, Direction::kIngress)), -1);
}

TEST(ClassifierMatchTest, Ipv6Prefixes) {
  RuleSpec narrow;
  narrow.sources = {prefix("2001:db8:0:1::/64")};
  narrow.destinations = {prefix("fd00::/8")};
  RuleSpec odd_length;
  odd_length.destinations = {prefix("2001:db8:8000::/33")};
  const Table t(rules({narrow, odd_length}));
  EXPECT_EQ(t(flow("2001:db8:0:1:ffff:ffff:ffff:ffff", "fdff::1")), 0);
  EXPECT_EQ(t(flow("2001:db8:0:2::", "fd00::1")), -1);
  EXPECT_EQ(t(flow("2001:db8:0:1::5", "fe00::1")), -1);
  EXPECT_EQ(t(flow("::1", "2001:db8:8000::")), 1);
  EXPECT_EQ(t(flow("::1", "2001:db8:7fff:ffff::")), -1);
  EXPECT_EQ(t(flow("10.0.0.1", "10.0.0.2")), -1);
}

TEST(ClassifierMatchTest, IpSetsAndLists) {
  RuleSetSpec spec;
  spec.ip_sets["web"] = {prefix("10.0.1.0/24"), prefix("10.0.2.5"), prefix("2001:db8:1::/48")};
  spec.ip_sets["empty"] = {};
  RuleSpec to_web;
  to_web.destination_sets = {"web"};
  to_web.destinations = {prefix("172.16.0.0/12")};
  RuleSpec from_empty;  // an empty set matches nothing (it does not mean "any")
  from_empty.source_sets = {"empty"};
  RuleSpec any;
  spec.sections.push_back({"s", {from_empty, to_web, any}});
  const Table t(spec);
  EXPECT_EQ(t(flow("1.1.1.1", "10.0.1.77")), 1);
  EXPECT_EQ(t(flow("1.1.1.1", "10.0.2.5")), 1);
  EXPECT_EQ(t(flow("1.1.1.1", "10.0.2.6")), 2);
  EXPECT_EQ(t(flow("1.1.1.1", "172.31.255.255")), 1);
  EXPECT_EQ(t(flow("2001:db8::1", "2001:db8:1:ffff::1")), 1);
  EXPECT_EQ(t(flow("2001:db8::1", "2001:db8:2::1")), 2);
}

TEST(ClassifierMatchTest, FirstMatchAcrossSectionsAndShadowing) {
  RuleSetSpec spec;
  RuleSpec narrow;
  narrow.id = 1;
  narrow.sources = {prefix("10.0.0.0/24")};
  RuleSpec wide;
  wide.id = 2;
  wide.sources = {prefix("10.0.0.0/8")};
  spec.sections.push_back({"emergency", {wide}});
  spec.sections.push_back({"application", {narrow, wide}});
  const Table t(spec);
  EXPECT_EQ(t(flow("10.0.0.1", "1.1.1.1")), 0);  // the wide rule of the first section shadows
  EXPECT_EQ(t(flow("11.0.0.1", "1.1.1.1")), -1);
}

}  // namespace
}  // namespace dfw
