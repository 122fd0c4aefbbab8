#include "protocol/convert.h"

#include <algorithm>
#include <cstring>

namespace protocol {
namespace {

pb::Direction direction_to_proto(dfw::RuleDirection d) {
  switch (d) {
    case dfw::RuleDirection::kIn: return pb::DIRECTION_IN;
    case dfw::RuleDirection::kOut: return pb::DIRECTION_OUT;
    case dfw::RuleDirection::kBoth: return pb::DIRECTION_BOTH;
  }
  return pb::DIRECTION_UNSPECIFIED;
}

bool direction_from_proto(int d, dfw::RuleDirection& out) {
  switch (d) {
    case pb::DIRECTION_IN: out = dfw::RuleDirection::kIn; return true;
    case pb::DIRECTION_OUT: out = dfw::RuleDirection::kOut; return true;
    case pb::DIRECTION_BOTH: out = dfw::RuleDirection::kBoth; return true;
    default: return false;
  }
}

pb::Action action_to_proto(dfw::Action a) {
  switch (a) {
    case dfw::Action::kAllow: return pb::ACTION_ALLOW;
    case dfw::Action::kDrop: return pb::ACTION_DROP;
    case dfw::Action::kReject: return pb::ACTION_REJECT;
  }
  return pb::ACTION_UNSPECIFIED;
}

bool action_from_proto(int a, dfw::Action& out) {
  switch (a) {
    case pb::ACTION_ALLOW: out = dfw::Action::kAllow; return true;
    case pb::ACTION_DROP: out = dfw::Action::kDrop; return true;
    case pb::ACTION_REJECT: out = dfw::Action::kReject; return true;
    default: return false;
  }
}

bool fail(std::string& error, const std::string& field, const std::string& what) {
  error = field + ": " + what;
  return false;
}

void range_to_proto(const dfw::PortRange& range, pb::PortRange* out) {
  out->set_first(range.first);
  out->set_last(range.last);
}

// An absent range means any port, so "any" needs no bytes on the wire.
bool is_any_range(const dfw::PortRange& range) { return range.first == 0 && range.last == 65535; }

bool range_from_proto(const pb::PortRange& range, dfw::PortRange& out, std::string& error,
                      const std::string& field) {
  if (range.first() > 65535) {
    return fail(error, field + ".first", std::to_string(range.first()) + " is not a port");
  }
  if (range.last() > 65535) {
    return fail(error, field + ".last", std::to_string(range.last()) + " is not a port");
  }
  out.first = static_cast<uint16_t>(range.first());
  out.last = static_cast<uint16_t>(range.last());
  return true;
}

bool icmp_from_proto(int32_t value, int16_t& out, std::string& error, const std::string& field) {
  if (value < 0 || value > 255) {
    return fail(error, field, std::to_string(value) + " is outside 0..255");
  }
  out = static_cast<int16_t>(value);
  return true;
}

bool prefixes_from_proto(const google::protobuf::RepeatedPtrField<pb::Prefix>& in,
                         std::vector<dfw::IpPrefix>& out, std::string& error,
                         const std::string& field) {
  out.clear();
  out.reserve(in.size());
  for (int i = 0; i < in.size(); ++i) {
    dfw::IpPrefix prefix;
    if (!from_proto(in[i], prefix, error)) {
      error = field + "[" + std::to_string(i) + "]." + error;
      return false;
    }
    out.push_back(prefix);
  }
  return true;
}

void rule_to_proto(const dfw::RuleSpec& rule, pb::Rule* out) {
  out->set_id(rule.id);
  for (const dfw::IpPrefix& p : rule.sources) to_proto(p, out->add_sources());
  for (const std::string& s : rule.source_sets) out->add_source_sets(s);
  for (const dfw::IpPrefix& p : rule.destinations) to_proto(p, out->add_destinations());
  for (const std::string& s : rule.destination_sets) out->add_destination_sets(s);
  out->set_protocol(rule.protocol);
  if (!is_any_range(rule.source_ports)) range_to_proto(rule.source_ports, out->mutable_source_ports());
  if (!is_any_range(rule.destination_ports)) {
    range_to_proto(rule.destination_ports, out->mutable_destination_ports());
  }
  if (rule.icmp_type >= 0) out->set_icmp_type(rule.icmp_type);
  if (rule.icmp_code >= 0) out->set_icmp_code(rule.icmp_code);
  out->set_direction(direction_to_proto(rule.direction));
  out->set_action(action_to_proto(rule.action));
  out->set_log(rule.log);
}

bool rule_from_proto(const pb::Rule& rule, dfw::RuleSpec& out, std::string& error,
                     const std::string& field) {
  out = dfw::RuleSpec{};
  out.id = rule.id();
  if (!prefixes_from_proto(rule.sources(), out.sources, error, field + ".sources")) return false;
  out.source_sets.assign(rule.source_sets().begin(), rule.source_sets().end());
  if (!prefixes_from_proto(rule.destinations(), out.destinations, error, field + ".destinations")) {
    return false;
  }
  out.destination_sets.assign(rule.destination_sets().begin(), rule.destination_sets().end());
  if (rule.protocol() > 255) {
    return fail(error, field + ".protocol", std::to_string(rule.protocol()) + " is outside 0..255");
  }
  out.protocol = static_cast<uint8_t>(rule.protocol());
  if (rule.has_source_ports() &&
      !range_from_proto(rule.source_ports(), out.source_ports, error, field + ".source_ports")) {
    return false;
  }
  if (rule.has_destination_ports() &&
      !range_from_proto(rule.destination_ports(), out.destination_ports, error,
                        field + ".destination_ports")) {
    return false;
  }
  if (rule.has_icmp_type() &&
      !icmp_from_proto(rule.icmp_type(), out.icmp_type, error, field + ".icmp_type")) {
    return false;
  }
  if (rule.has_icmp_code() &&
      !icmp_from_proto(rule.icmp_code(), out.icmp_code, error, field + ".icmp_code")) {
    return false;
  }
  if (!direction_from_proto(rule.direction(), out.direction)) {
    return fail(error, field + ".direction", "missing or unknown value " +
                                                 std::to_string(rule.direction()));
  }
  if (!action_from_proto(rule.action(), out.action)) {
    return fail(error, field + ".action", "missing or unknown value " + std::to_string(rule.action()));
  }
  out.log = rule.log();
  return true;
}

void add_sorted_unique(std::vector<std::string>& names) {
  std::sort(names.begin(), names.end());
  names.erase(std::unique(names.begin(), names.end()), names.end());
}

}  // namespace

void to_proto(const dfw::IpPrefix& prefix, pb::Prefix* out) {
  out->set_address(prefix.address.data(), prefix.address.size());
  out->set_length(prefix.length);
  out->set_is_v4(prefix.is_v4);
}

bool from_proto(const pb::Prefix& prefix, dfw::IpPrefix& out, std::string& error) {
  if (prefix.address().size() != out.address.size()) {
    return fail(error, "address", std::to_string(prefix.address().size()) +
                                      " bytes; expected 16 (IPv4 as IPv4-mapped IPv6)");
  }
  if (prefix.length() > 128) {
    return fail(error, "length", std::to_string(prefix.length()) + " is beyond 128 bits");
  }
  if (prefix.is_v4() && prefix.length() < 96) {
    return fail(error, "length", std::to_string(prefix.length()) +
                                     " is shorter than the IPv4-mapped /96 of an IPv4 prefix");
  }
  std::memcpy(out.address.data(), prefix.address().data(), out.address.size());
  out.length = static_cast<uint8_t>(prefix.length());
  out.is_v4 = prefix.is_v4();
  return true;
}

void to_proto(const std::string& name, const std::vector<dfw::IpPrefix>& prefixes, pb::IpSet* out) {
  out->set_name(name);
  for (const dfw::IpPrefix& p : prefixes) to_proto(p, out->add_prefixes());
}

bool from_proto(const pb::IpSet& set, std::vector<dfw::IpPrefix>& out, std::string& error) {
  if (set.name().empty()) return fail(error, "ip_set.name", "empty");
  return prefixes_from_proto(set.prefixes(), out, error, "ip_set \"" + set.name() + "\".prefixes");
}

void to_proto(const dfw::RuleSetSpec& spec, pb::RuleSet* out) {
  out->set_version(spec.version);
  for (const dfw::SectionSpec& section : spec.sections) {
    pb::Section* s = out->add_sections();
    s->set_name(section.name);
    for (const dfw::RuleSpec& rule : section.rules) rule_to_proto(rule, s->add_rules());
  }
  out->set_default_action(action_to_proto(spec.default_action));
  out->set_reevaluate_connections(spec.reevaluate_connections);
}

bool from_proto(const pb::RuleSet& rules, dfw::RuleSetSpec& out, std::string& error) {
  out = dfw::RuleSetSpec{};
  out.version = rules.version();
  out.sections.resize(rules.sections_size());
  for (int i = 0; i < rules.sections_size(); ++i) {
    const pb::Section& section = rules.sections(i);
    dfw::SectionSpec& target = out.sections[i];
    target.name = section.name();
    target.rules.resize(section.rules_size());
    for (int j = 0; j < section.rules_size(); ++j) {
      std::string field = "sections[" + std::to_string(i) + "].rules[" + std::to_string(j) + "]";
      if (!rule_from_proto(section.rules(j), target.rules[j], error, field)) return false;
    }
  }
  if (!action_from_proto(rules.default_action(), out.default_action)) {
    return fail(error, "default_action",
                "missing or unknown value " + std::to_string(rules.default_action()));
  }
  out.reevaluate_connections = rules.reevaluate_connections();
  return true;
}

std::vector<std::string> referenced_ip_sets(const dfw::RuleSetSpec& spec) {
  std::vector<std::string> names;
  for (const dfw::SectionSpec& section : spec.sections) {
    for (const dfw::RuleSpec& rule : section.rules) {
      names.insert(names.end(), rule.source_sets.begin(), rule.source_sets.end());
      names.insert(names.end(), rule.destination_sets.begin(), rule.destination_sets.end());
    }
  }
  add_sorted_unique(names);
  return names;
}

std::vector<std::string> referenced_ip_sets(const pb::RuleSet& rules) {
  std::vector<std::string> names;
  for (const pb::Section& section : rules.sections()) {
    for (const pb::Rule& rule : section.rules()) {
      names.insert(names.end(), rule.source_sets().begin(), rule.source_sets().end());
      names.insert(names.end(), rule.destination_sets().begin(), rule.destination_sets().end());
    }
  }
  add_sorted_unique(names);
  return names;
}

}  // namespace protocol
