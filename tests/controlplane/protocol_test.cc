// The control-plane protocol: dfw rule sets survive the trip through protobuf messages exactly,
// bad messages are refused with an error naming the field, and another protocol version is
// recognized as such.

#include <gtest/gtest.h>

#include "controller/address.h"
#include "controller/controller.h"
#include "controller/policy_loader.h"
#include "protocol/convert.h"
#include "protocol/messages.h"

namespace {

namespace pb = protocol::pb;

dfw::IpPrefix prefix(const char* text) {
  dfw::IpPrefix p;
  EXPECT_TRUE(controller::parse_prefix(text, p)) << text;
  return p;
}

bool same_prefix(const dfw::IpPrefix& a, const dfw::IpPrefix& b) {
  return a.address == b.address && a.length == b.length && a.is_v4 == b.is_v4;
}

bool same_prefixes(const std::vector<dfw::IpPrefix>& a, const std::vector<dfw::IpPrefix>& b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (!same_prefix(a[i], b[i])) return false;
  }
  return true;
}

void expect_same_rule(const dfw::RuleSpec& a, const dfw::RuleSpec& b) {
  EXPECT_EQ(a.id, b.id);
  EXPECT_TRUE(same_prefixes(a.sources, b.sources));
  EXPECT_EQ(a.source_sets, b.source_sets);
  EXPECT_TRUE(same_prefixes(a.destinations, b.destinations));
  EXPECT_EQ(a.destination_sets, b.destination_sets);
  EXPECT_EQ(a.protocol, b.protocol);
  EXPECT_EQ(a.source_ports.first, b.source_ports.first);
  EXPECT_EQ(a.source_ports.last, b.source_ports.last);
  EXPECT_EQ(a.destination_ports.first, b.destination_ports.first);
  EXPECT_EQ(a.destination_ports.last, b.destination_ports.last);
  EXPECT_EQ(a.icmp_type, b.icmp_type);
  EXPECT_EQ(a.icmp_code, b.icmp_code);
  EXPECT_EQ(a.direction, b.direction);
  EXPECT_EQ(a.action, b.action);
  EXPECT_EQ(a.log, b.log);
}

void expect_same_spec(const dfw::RuleSetSpec& a, const dfw::RuleSetSpec& b) {
  EXPECT_EQ(a.version, b.version);
  EXPECT_EQ(a.default_action, b.default_action);
  EXPECT_EQ(a.reevaluate_connections, b.reevaluate_connections);
  ASSERT_EQ(a.sections.size(), b.sections.size());
  for (std::size_t i = 0; i < a.sections.size(); ++i) {
    EXPECT_EQ(a.sections[i].name, b.sections[i].name);
    ASSERT_EQ(a.sections[i].rules.size(), b.sections[i].rules.size());
    for (std::size_t j = 0; j < a.sections[i].rules.size(); ++j) {
      SCOPED_TRACE("section " + std::to_string(i) + " rule " + std::to_string(j));
      expect_same_rule(a.sections[i].rules[j], b.sections[i].rules[j]);
    }
  }
}

// Every field of RuleSpec with a non-default value somewhere.
dfw::RuleSetSpec every_field_spec() {
  dfw::RuleSetSpec spec;
  spec.version = 0x1234567890ull;
  spec.default_action = dfw::Action::kReject;
  spec.reevaluate_connections = true;
  dfw::RuleSpec web;
  web.id = controller::dfw_rule_id(3, 1);
  web.sources = {prefix("10.1.0.0/16"), prefix("2001:db8::/32")};
  web.source_sets = {"ipset-a"};
  web.destinations = {prefix("192.0.2.7")};
  web.destination_sets = {"ipset-b", "ipset-c"};
  web.protocol = dfw::kProtoTcp;
  web.source_ports = {1024, 65535};
  web.destination_ports = {8080, 8089};
  web.direction = dfw::RuleDirection::kOut;
  web.action = dfw::Action::kAllow;
  web.log = true;
  dfw::RuleSpec ping;
  ping.id = 7;
  ping.protocol = dfw::kProtoIcmp;
  ping.icmp_type = 8;
  ping.icmp_code = 0;  // a real value, distinct from "any" (-1)
  ping.direction = dfw::RuleDirection::kIn;
  ping.action = dfw::Action::kDrop;
  dfw::RuleSpec any_both;  // everything default except direction both
  any_both.action = dfw::Action::kReject;
  spec.sections = {{"emergency", {ping}}, {"application", {web, any_both}}};
  return spec;
}

TEST(ProtocolConvert, RuleSetRoundTripKeepsEveryField) {
  const dfw::RuleSetSpec spec = every_field_spec();
  pb::RuleSet message;
  protocol::to_proto(spec, &message);
  // Through bytes, as on the wire.
  std::string bytes = message.SerializeAsString();
  pb::RuleSet parsed;
  ASSERT_TRUE(parsed.ParseFromString(bytes));
  dfw::RuleSetSpec back;
  std::string error;
  ASSERT_TRUE(protocol::from_proto(parsed, back, error)) << error;
  expect_same_spec(spec, back);
  EXPECT_EQ(protocol::referenced_ip_sets(parsed),
            (std::vector<std::string>{"ipset-a", "ipset-b", "ipset-c"}));
  EXPECT_EQ(protocol::referenced_ip_sets(spec), protocol::referenced_ip_sets(parsed));
}

TEST(ProtocolConvert, IpSetRoundTrip) {
  std::vector<dfw::IpPrefix> prefixes = {prefix("10.0.0.1"), prefix("10.2.0.0/15"), prefix("::1")};
  pb::IpSet set;
  protocol::to_proto("ipset-x", prefixes, &set);
  std::vector<dfw::IpPrefix> back;
  std::string error;
  ASSERT_TRUE(protocol::from_proto(set, back, error)) << error;
  EXPECT_TRUE(same_prefixes(prefixes, back));
  EXPECT_EQ(controller::format_prefix(back[1]), "10.2.0.0/15");
}

// The controller's real output for a small estate: each port's spec, through the protocol and
// back with its IP sets resolved, compiles and equals the original.
TEST(ProtocolConvert, ControllerPortSpecsRoundTrip) {
  auto loaded = controller::load_policy_text(R"(
ip_lists:
  corp: [10.200.0.0/16, "2001:db8:1::/48"]
rules:
  - name: corp-ssh
    category: infrastructure
    from: {ip_lists: [corp]}
    to: {role: web}
    services: [tcp/22]
    action: allow
  - name: web-to-api
    from: {role: web}
    to: {role: api}
    services: [tcp/8080, icmp/8]
    action: allow
    log: true
)", "inline.yaml");
  ASSERT_TRUE(loaded.ok());
  std::vector<controller::Workload> workloads;
  for (uint32_t i = 1; i <= 4; ++i) {
    controller::Workload w;
    w.id = i;
    w.name = "w" + std::to_string(i);
    w.addresses = {prefix(("10.0.0." + std::to_string(i)).c_str())};
    w.labels = {{"role", i <= 2 ? "web" : "api"}};
    w.host = "h";
    workloads.push_back(w);
  }
  dfw::Status status;
  auto ctl = controller::Controller::create(loaded.policy, workloads, status);
  ASSERT_TRUE(ctl) << status.message();
  for (controller::WorkloadId id : ctl->port_ids()) {
    SCOPED_TRACE("port " + std::to_string(id));
    const dfw::RuleSetSpec spec = ctl->port_spec(id);
    ASSERT_FALSE(spec.sections.empty());
    pb::RuleSet message;
    protocol::to_proto(spec, &message);
    dfw::RuleSetSpec back;
    std::string error;
    ASSERT_TRUE(protocol::from_proto(message, back, error)) << error;
    expect_same_spec(spec, back);
    for (const std::string& name : protocol::referenced_ip_sets(message)) {
      pb::IpSet set;
      protocol::to_proto(name, *ctl->ip_set(name), &set);
      ASSERT_TRUE(protocol::from_proto(set, back.ip_sets[name], error)) << error;
      EXPECT_TRUE(same_prefixes(spec.ip_sets.at(name), back.ip_sets[name]));
    }
    EXPECT_EQ(back.ip_sets.size(), spec.ip_sets.size());
    dfw::Status compile_status;
    EXPECT_NE(dfw::compile_rules(back, compile_status), nullptr) << compile_status.message();
  }
}

TEST(ProtocolConvert, RefusesBadFieldsNamingThem) {
  pb::RuleSet message;
  protocol::to_proto(every_field_spec(), &message);
  dfw::RuleSetSpec out;
  std::string error;

  pb::RuleSet bad_port = message;
  bad_port.mutable_sections(1)->mutable_rules(0)->mutable_destination_ports()->set_last(70000);
  EXPECT_FALSE(protocol::from_proto(bad_port, out, error));
  EXPECT_EQ(error, "sections[1].rules[0].destination_ports.last: 70000 is not a port");

  pb::RuleSet bad_action = message;
  bad_action.mutable_sections(0)->mutable_rules(0)->set_action(pb::ACTION_UNSPECIFIED);
  EXPECT_FALSE(protocol::from_proto(bad_action, out, error));
  EXPECT_EQ(error, "sections[0].rules[0].action: missing or unknown value 0");

  pb::RuleSet bad_address = message;
  bad_address.mutable_sections(1)->mutable_rules(0)->mutable_sources(1)->set_address("1234");
  EXPECT_FALSE(protocol::from_proto(bad_address, out, error));
  EXPECT_EQ(error, "sections[1].rules[0].sources[1].address: 4 bytes; expected 16 (IPv4 as IPv4-mapped IPv6)");

  pb::RuleSet bad_icmp = message;
  bad_icmp.mutable_sections(0)->mutable_rules(0)->set_icmp_type(300);
  EXPECT_FALSE(protocol::from_proto(bad_icmp, out, error));
  EXPECT_EQ(error, "sections[0].rules[0].icmp_type: 300 is outside 0..255");

  pb::RuleSet no_default = message;
  no_default.clear_default_action();
  EXPECT_FALSE(protocol::from_proto(no_default, out, error));
  EXPECT_EQ(error, "default_action: missing or unknown value 0");
}

TEST(ProtocolMessages, EncodeStampsVersionAndDecodes) {
  pb::ControlMessage message;
  message.mutable_hello()->set_host("h1");
  std::vector<uint8_t> bytes = protocol::encode(message);
  pb::ControlMessage back;
  std::string error;
  ASSERT_EQ(protocol::decode(bytes, back, error), protocol::DecodeStatus::kOk) << error;
  EXPECT_EQ(back.protocol_version(), protocol::kProtocolVersion);
  EXPECT_EQ(back.hello().host(), "h1");
  EXPECT_EQ(protocol::body_name(back), "hello");
}

TEST(ProtocolMessages, OtherVersionIsRecognizedWithAClearError) {
  pb::ControlMessage message;
  message.set_protocol_version(2);
  message.mutable_heartbeat()->set_sequence(1);
  std::string bytes = message.SerializeAsString();
  pb::ControlMessage back;
  std::string error;
  EXPECT_EQ(protocol::decode({reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()}, back, error),
            protocol::DecodeStatus::kVersionMismatch);
  EXPECT_EQ(error, "protocol version 2 is not supported; this side speaks version 1");
}

TEST(ProtocolMessages, GarbageAndEmptyBodiesAreMalformed) {
  const std::vector<uint8_t> garbage = {0xff, 0xff, 0xff, 0xff, 0x0f};
  pb::ControlMessage back;
  std::string error;
  EXPECT_EQ(protocol::decode(garbage, back, error), protocol::DecodeStatus::kMalformed);
  EXPECT_EQ(error, "undecodable control message (5 bytes)");

  pb::ControlMessage empty;
  std::vector<uint8_t> bytes = protocol::encode(empty);
  EXPECT_EQ(protocol::decode(bytes, back, error), protocol::DecodeStatus::kMalformed);
  EXPECT_EQ(error, "control message without a body");
}

}  // namespace
