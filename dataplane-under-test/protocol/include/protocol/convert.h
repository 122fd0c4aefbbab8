#pragma once
// Conversions between dfw's rule-set types and the protocol messages. Encoding never fails;
// decoding validates everything a peer could get wrong (enum values, 16-byte addresses, prefix
// lengths, port ranges within 0..65535, ICMP type/code within 0..255) and names the field in the
// error ("sections[0].rules[3].destination_ports.last: 70000 is not a port"). What dfw itself
// validates (unknown set names, inverted ranges, ports on ICMP) is left to dfw::compile_rules.

#include <string>
#include <vector>

#include "dfw/rules.h"
#include "protocol/messages.h"

namespace protocol {

void to_proto(const dfw::IpPrefix& prefix, pb::Prefix* out);
bool from_proto(const pb::Prefix& prefix, dfw::IpPrefix& out, std::string& error);

void to_proto(const std::string& name, const std::vector<dfw::IpPrefix>& prefixes, pb::IpSet* out);
bool from_proto(const pb::IpSet& set, std::vector<dfw::IpPrefix>& out, std::string& error);

// The rule set without its ip_sets map (the protocol carries set contents once per host).
void to_proto(const dfw::RuleSetSpec& spec, pb::RuleSet* out);
// Fills everything but `ip_sets`, which the caller resolves from its set table.
bool from_proto(const pb::RuleSet& rules, dfw::RuleSetSpec& out, std::string& error);

// The IP set names a rule set refers to, sorted and unique.
std::vector<std::string> referenced_ip_sets(const dfw::RuleSetSpec& spec);
std::vector<std::string> referenced_ip_sets(const pb::RuleSet& rules);

}  // namespace protocol
