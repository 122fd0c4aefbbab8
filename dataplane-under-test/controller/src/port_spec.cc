// Turning one port's compact entries into the dfw::RuleSetSpec the datapath compiles, and a
// fingerprint of that content for diffing whole recomputations.

#include <algorithm>
#include <string>

#include "controller_state.h"

namespace controller {
namespace {

const std::vector<Service> kAnyService = {Service{}};

const std::vector<Service>& services_of(const Rule& rule) {
  return rule.services.empty() ? kAnyService : rule.services;
}

void apply_service(const Service& s, dfw::RuleSpec& r) {
  r.protocol = s.protocol;
  if (s.protocol == dfw::kProtoTcp || s.protocol == dfw::kProtoUdp) {
    r.destination_ports = {s.port_first, s.port_last};
  }
  r.icmp_type = s.icmp_type;
}

// The part of `service` that a process listening on `lp` accepts, if any.
bool intersect(const Service& s, const ListeningPort& lp, Service& out) {
  if (s.protocol != dfw::kProtoAny && s.protocol != lp.protocol) return false;
  if (s.protocol != dfw::kProtoAny && (lp.port < s.port_first || lp.port > s.port_last)) return false;
  out = Service{lp.protocol, lp.port, lp.port, -1};
  return true;
}

// Emits the dfw rules of one port in order. `Emit` receives (category, rule) and the IP set ids
// referenced; counting and materializing share this walk so they cannot disagree.
template <class Emit, class UseSet>
void walk_port(const ControllerState& st, Slot slot, Emit&& emit, UseSet&& use_set) {
  const WorkloadState& w = st.slots[slot];
  uint8_t full = full_mask(w.workload);
  for (const PortEntry& e : w.entries) {
    const CompiledRule& compiled = st.rules_by_priority[e.priority];
    const Rule& rule = st.policy.rules[compiled.rule_index];
    const ScopeState& peer = st.scopes[e.peer];
    bool egress = e.direction == dfw::RuleDirection::kOut;
    std::size_t piece = 0;

    dfw::RuleSpec base;
    base.direction = e.direction;
    base.action = rule.action;
    base.log = rule.log;
    uint8_t own_families = kFamilyBoth;
    if (e.self_mask != full) {
      // Only some of the port's addresses are in the rule's own-side scope (through an IP list).
      auto& own = egress ? base.sources : base.destinations;
      own_families = 0;
      for (std::size_t i = 0; i < w.workload.addresses.size(); ++i) {
        if (!(e.self_mask & (1u << i))) continue;
        own.push_back(w.workload.addresses[i]);
        own_families |= family_of(w.workload.addresses[i]);
      }
    }
    // A piece whose two sides share no address family, or whose ICMP version has no address on
    // both sides, can match no packet; it is left out (dfw rejects such rules as malformed).
    auto emit_piece = [&](const Service& service, uint8_t peer_families, auto&& fill_peer) {
      uint8_t families = own_families & peer_families;
      if (families == 0) return;
      if (service.protocol == dfw::kProtoIcmp && !(families & kFamilyV4)) return;
      if (service.protocol == dfw::kProtoIcmpv6 && !(families & kFamilyV6)) return;
      dfw::RuleSpec r = base;
      r.id = dfw_rule_id(compiled.rule_index, piece++);
      apply_service(service, r);
      fill_peer(r);
      emit(rule.category, std::move(r));
    };
    auto fill_set = [&](dfw::RuleSpec& r) {
      if (peer.ip_set == kAnyAddress) return;
      (egress ? r.destination_sets : r.source_sets).push_back(st.ip_sets.get(peer.ip_set).name);
    };

    if (peer.ip_set != kEmptySet) {
      uint8_t peer_families = peer.ip_set == kAnyAddress ? kFamilyBoth : st.ip_sets.get(peer.ip_set).families;
      std::size_t pieces_before = piece;
      if (e.process == kWholeWorkload) {
        for (const Service& s : services_of(rule)) emit_piece(s, peer_families, fill_set);
      } else {
        for (const Service& s : services_of(rule)) {
          for (const ListeningPort& lp : w.workload.processes[e.process].listening_ports) {
            Service narrowed;
            if (intersect(s, lp, narrowed)) emit_piece(narrowed, peer_families, fill_set);
          }
        }
      }
      if (piece != pieces_before && peer.ip_set != kAnyAddress) use_set(peer.ip_set);
    }
    if (egress) {
      // Processes the destination scope selects inside workloads it does not select, in
      // workload id order (slots are reused, so slot order depends on history).
      std::vector<ProcessTarget> targets = peer.processes;
      std::sort(targets.begin(), targets.end(), [&](const ProcessTarget& a, const ProcessTarget& b) {
        WorkloadId x = st.slots[a.slot].workload.id, y = st.slots[b.slot].workload.id;
        return x != y ? x < y : a.process < b.process;
      });
      for (const ProcessTarget& t : targets) {
        const Workload& target = st.slots[t.slot].workload;
        uint8_t target_families = 0;
        for (const auto& a : target.addresses) target_families |= family_of(a);
        for (const Service& s : services_of(rule)) {
          for (const ListeningPort& lp : target.processes[t.process].listening_ports) {
            Service narrowed;
            if (!intersect(s, lp, narrowed)) continue;
            emit_piece(narrowed, target_families, [&](dfw::RuleSpec& r) {
              r.destinations.insert(r.destinations.end(), target.addresses.begin(), target.addresses.end());
            });
          }
        }
      }
    }
  }
}

}  // namespace

bool process_accepts(const Rule& rule, const Process& process) {
  for (const Service& s : services_of(rule)) {
    for (const ListeningPort& lp : process.listening_ports) {
      Service narrowed;
      if (intersect(s, lp, narrowed)) return true;
    }
  }
  return false;
}

dfw::RuleSetSpec ControllerState::materialize(Slot slot) const {
  dfw::RuleSetSpec spec;
  spec.version = slots[slot].version;
  spec.default_action = policy.default_action;
  int current = -1;
  walk_port(
      *this, slot,
      [&](Category category, dfw::RuleSpec&& r) {
        if (static_cast<int>(category) != current) {
          current = static_cast<int>(category);
          spec.sections.push_back({std::string(category_name(category)), {}});
        }
        spec.sections.back().rules.push_back(std::move(r));
      },
      [&](IpSetId id) {
        const IpSet& set = ip_sets.get(id);
        spec.ip_sets.try_emplace(set.name, set.prefixes);
      });
  return spec;
}

std::size_t ControllerState::rule_count(Slot slot) const {
  std::size_t count = 0;
  walk_port(*this, slot, [&](Category, dfw::RuleSpec&&) { ++count; }, [](IpSetId) {});
  return count;
}

uint64_t ControllerState::port_fingerprint(Slot slot) const {
  uint64_t h = hash_mix(0x5eedf00dULL, static_cast<uint64_t>(policy.default_action));
  walk_port(
      *this, slot,
      [&](Category category, dfw::RuleSpec&& r) {
        h = hash_mix(h, static_cast<uint64_t>(category));
        h = hash_mix(h, r.id);
        h = hash_mix(h, (uint64_t{r.protocol} << 48) | (uint64_t{r.destination_ports.first} << 32) |
                            (uint64_t{r.destination_ports.last} << 16) | static_cast<uint16_t>(r.icmp_type));
        h = hash_mix(h, (static_cast<uint64_t>(r.direction) << 16) | (static_cast<uint64_t>(r.action) << 8) |
                            (r.log ? 1 : 0));
        h = hash_mix(h, hash_prefixes(r.sources));
        h = hash_mix(h, hash_prefixes(r.destinations));
        for (const auto& name : r.source_sets) h = hash_mix(h, ip_sets.find(name)->hash);
        h = hash_mix(h, 0x51);
        for (const auto& name : r.destination_sets) h = hash_mix(h, ip_sets.find(name)->hash);
      },
      [](IpSetId) {});
  return h;
}

}  // namespace controller
