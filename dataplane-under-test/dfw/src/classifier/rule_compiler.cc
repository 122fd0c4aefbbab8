// compile_rules(): validation of a RuleSetSpec, flattening of its sections, resolution of IP sets
// and expansion of each rule into boxes (see match_box.h), then the decision forest.

#include <algorithm>
#include <string>

#include "classifier/forest_rule_table.h"
#include "dfw/rules.h"

namespace dfw {

namespace classifier {

ForestRuleTable::ForestRuleTable(Contents contents, const ForestLimits& limits)
    : forest_(DecisionForest::build(contents.boxes, contents.rule_of_box, limits)),
      box_count_(contents.boxes.size()) {
  rules_ = std::move(contents.rules);
  default_action_ = contents.default_action;
  version_ = contents.version;
  reevaluate_connections_ = contents.reevaluate_connections;
}

std::size_t ForestRuleTable::memory_size() const {
  return sizeof(*this) + rules_.capacity() * sizeof(CompiledRule) + forest_->memory_size();
}

namespace {

bool is_port_protocol(uint8_t p) { return p == kProtoTcp || p == kProtoUdp; }
bool is_icmp_protocol(uint8_t p) { return p == kProtoIcmp || p == kProtoIcmpv6; }

bool prefix_is_well_formed(const IpPrefix& p) {
  if (p.length > 128) return false;
  if (!p.is_v4) return true;
  if (p.length < 96) return false;
  for (int i = 0; i < 10; ++i) {
    if (p.address[i] != 0) return false;
  }
  return p.address[10] == 0xff && p.address[11] == 0xff;
}

IpPrefix masked(IpPrefix p) {
  for (uint32_t byte = 0; byte < 16; ++byte) {
    const uint32_t bit = byte * 8;
    if (p.length >= bit + 8) continue;
    p.address[byte] = p.length <= bit ? 0 : static_cast<uint8_t>(p.address[byte] & (0xff00u >> (p.length - bit)));
  }
  return p;
}

bool prefix_contains(const IpPrefix& outer, const IpPrefix& inner) {
  if (outer.length > inner.length) return false;
  IpPrefix cut = inner;
  cut.length = outer.length;
  return masked(cut).address == outer.address;
}

// Sorts and drops prefixes contained in another of the list (they add no addresses).
void reduce(std::vector<IpPrefix>& prefixes) {
  std::sort(prefixes.begin(), prefixes.end(), [](const IpPrefix& a, const IpPrefix& b) {
    return a.address != b.address ? a.address < b.address : a.length < b.length;
  });
  std::vector<IpPrefix> kept;
  kept.reserve(prefixes.size());
  // The prefixes are laminar and sorted by start: a prefix inside any kept one is inside the last.
  for (const IpPrefix& p : prefixes) {
    if (kept.empty() || !prefix_contains(kept.back(), p)) kept.push_back(p);
  }
  prefixes.swap(kept);
}

struct AddressList {
  bool any = true;
  std::vector<IpPrefix> prefixes;  // when !any; may be empty (sets that are empty match nothing)
  bool has_v4() const { return any || std::any_of(prefixes.begin(), prefixes.end(), [](auto& p) { return p.is_v4; }); }
  bool has_v6() const { return any || std::any_of(prefixes.begin(), prefixes.end(), [](auto& p) { return !p.is_v4; }); }
};

class Compiler {
 public:
  explicit Compiler(const RuleSetSpec& spec) : spec_(spec) {}

  bool run(ForestRuleTable::Contents& out, Status& error) {
    for (const auto& [name, prefixes] : spec_.ip_sets) {
      for (const IpPrefix& p : prefixes) {
        if (!prefix_is_well_formed(p)) {
          error = Status::error("IP set '" + name + "': malformed prefix " + p.to_string());
          return false;
        }
      }
    }
    for (std::size_t s = 0; s < spec_.sections.size(); ++s) {
      const SectionSpec& section = spec_.sections[s];
      for (std::size_t r = 0; r < section.rules.size(); ++r) {
        where_ = "section '" + section.name + "' rule " + std::to_string(r) + " (id " +
                 std::to_string(section.rules[r].id) + ")";
        if (!add_rule(section.rules[r], out, error)) return false;
      }
    }
    out.default_action = spec_.default_action;
    out.version = spec_.version;
    out.reevaluate_connections = spec_.reevaluate_connections;
    return true;
  }

 private:
  bool fail(Status& error, const std::string& what) {
    error = Status::error(where_ + ": " + what);
    return false;
  }

  bool resolve(const std::vector<IpPrefix>& prefixes, const std::vector<std::string>& set_names,
               const char* field, AddressList& out, Status& error) {
    out.any = prefixes.empty() && set_names.empty();
    out.prefixes.clear();
    for (const IpPrefix& p : prefixes) {
      if (!prefix_is_well_formed(p)) return fail(error, std::string(field) + ": malformed prefix " + p.to_string());
      out.prefixes.push_back(masked(p));
    }
    for (const std::string& name : set_names) {
      auto it = spec_.ip_sets.find(name);
      if (it == spec_.ip_sets.end()) return fail(error, std::string(field) + "_sets: unknown IP set '" + name + "'");
      for (const IpPrefix& p : it->second) out.prefixes.push_back(masked(p));
    }
    reduce(out.prefixes);
    return true;
  }

  bool validate_l4(const RuleSpec& rule, Status& error) {
    const bool ports_constrained = rule.source_ports.first != 0 || rule.source_ports.last != 65535 ||
                                   rule.destination_ports.first != 0 || rule.destination_ports.last != 65535;
    if (rule.source_ports.first > rule.source_ports.last) return fail(error, "source_ports: inverted range");
    if (rule.destination_ports.first > rule.destination_ports.last) {
      return fail(error, "destination_ports: inverted range");
    }
    if (ports_constrained && !is_port_protocol(rule.protocol)) {
      return fail(error, "ports: only TCP (6) and UDP (17) have ports, protocol is " + std::to_string(rule.protocol));
    }
    if (rule.icmp_type < -1 || rule.icmp_type > 255) return fail(error, "icmp_type: out of range");
    if (rule.icmp_code < -1 || rule.icmp_code > 255) return fail(error, "icmp_code: out of range");
    if ((rule.icmp_type >= 0 || rule.icmp_code >= 0) && !is_icmp_protocol(rule.protocol)) {
      return fail(error, "icmp_type/icmp_code: only ICMP (1) and ICMPv6 (58) have them, protocol is " +
                             std::to_string(rule.protocol));
    }
    if (rule.icmp_code >= 0 && rule.icmp_type < 0) return fail(error, "icmp_code: given without icmp_type");
    if (rule.direction != RuleDirection::kIn && rule.direction != RuleDirection::kOut &&
        rule.direction != RuleDirection::kBoth) {
      return fail(error, "direction: invalid value");
    }
    if (rule.action != Action::kAllow && rule.action != Action::kDrop && rule.action != Action::kReject) {
      return fail(error, "action: invalid value");
    }
    return true;
  }

  bool validate_families(const RuleSpec& rule, Status& error) {
    const bool v4 = sources_.has_v4() && destinations_.has_v4();
    const bool v6 = sources_.has_v6() && destinations_.has_v6();
    const bool sources_empty = !sources_.any && sources_.prefixes.empty();
    const bool destinations_empty = !destinations_.any && destinations_.prefixes.empty();
    if (sources_empty || destinations_empty) return true;  // empty sets: the rule matches nothing
    if (!v4 && !v6) return fail(error, "sources and destinations are of different address families");
    if (rule.protocol == kProtoIcmp && !v4) return fail(error, "protocol ICMP (1) with IPv6-only addresses");
    if (rule.protocol == kProtoIcmpv6 && !v6) return fail(error, "protocol ICMPv6 (58) with IPv4-only addresses");
    return true;
  }

  bool add_rule(const RuleSpec& rule, ForestRuleTable::Contents& out, Status& error) {
    if (!validate_l4(rule, error)) return false;
    if (!resolve(rule.sources, rule.source_sets, "sources", sources_, error)) return false;
    if (!resolve(rule.destinations, rule.destination_sets, "destinations", destinations_, error)) return false;
    if (!validate_families(rule, error)) return false;

    MatchBox base;
    if (is_port_protocol(rule.protocol)) {
      base.low[classifier::kL4Source] = rule.source_ports.first;
      base.high[classifier::kL4Source] = rule.source_ports.last;
      base.low[classifier::kL4Destination] = rule.destination_ports.first;
      base.high[classifier::kL4Destination] = rule.destination_ports.last;
    } else if (is_icmp_protocol(rule.protocol)) {
      if (rule.icmp_type >= 0) {
        base.low[classifier::kL4Source] = base.high[classifier::kL4Source] = static_cast<uint32_t>(rule.icmp_type);
      }
      if (rule.icmp_code >= 0) {
        base.low[classifier::kL4Destination] = base.high[classifier::kL4Destination] =
            static_cast<uint32_t>(rule.icmp_code);
      }
    }
    if (rule.protocol != kProtoAny) base.low[classifier::kProtocol] = base.high[classifier::kProtocol] = rule.protocol;
    if (rule.direction == RuleDirection::kIn) {
      base.low[classifier::kDirection] = base.high[classifier::kDirection] = static_cast<uint32_t>(Direction::kIngress);
    } else if (rule.direction == RuleDirection::kOut) {
      base.low[classifier::kDirection] = base.high[classifier::kDirection] = static_cast<uint32_t>(Direction::kEgress);
    }

    const std::size_t source_count = sources_.any ? 1 : sources_.prefixes.size();
    const std::size_t destination_count = destinations_.any ? 1 : destinations_.prefixes.size();
    if (source_count * destination_count > kMaxBoxCount - out.boxes.size()) {
      return fail(error, "the rule set expands to more than " + std::to_string(kMaxBoxCount) +
                             " source x destination prefix pairs");
    }
    const int32_t rule_index = static_cast<int32_t>(out.rules.size());
    out.rules.push_back({rule.id, rule.action, rule.log});
    for (std::size_t s = 0; s < source_count; ++s) {
      MatchBox box = base;
      if (!sources_.any) {
        set_prefix(box, classifier::kSource0, sources_.prefixes[s].address, sources_.prefixes[s].length);
      }
      for (std::size_t d = 0; d < destination_count; ++d) {
        if (!destinations_.any) {
          set_prefix(box, classifier::kDestination0, destinations_.prefixes[d].address,
                     destinations_.prefixes[d].length);
        }
        out.boxes.push_back(box);
        out.rule_of_box.push_back(rule_index);
      }
    }
    return true;
  }

  const RuleSetSpec& spec_;
  std::string where_;
  AddressList sources_;
  AddressList destinations_;
};

}  // namespace

}  // namespace classifier

RuleTablePtr compile_rules(const RuleSetSpec& spec, Status& error) {
  classifier::ForestRuleTable::Contents contents;
  if (!classifier::Compiler(spec).run(contents, error)) return nullptr;
  error = Status::ok();
  return std::make_shared<const classifier::ForestRuleTable>(std::move(contents), classifier::ForestLimits{});
}

uint64_t rule_table_version(const RuleTable& table) { return table.version(); }
std::size_t rule_table_rule_count(const RuleTable& table) { return table.rules().size(); }
std::size_t rule_table_memory_size(const RuleTable& table) { return table.memory_size(); }

}  // namespace dfw
