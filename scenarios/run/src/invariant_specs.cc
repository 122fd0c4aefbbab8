#include "invariant_specs.h"

#include <cstring>

namespace scenarios {
namespace {

// A multiply-mix over the fields, in a fixed order, eight bytes at a time (IP sets of thousands of
// prefixes are hashed once per port and version).
struct Hasher {
  uint64_t h = 1469598103934665603ull;
  void mix(uint64_t word) {
    h = (h ^ word) * 0x9E3779B97F4A7C15ull;
    h ^= h >> 29;
  }
  void bytes(const void* data, std::size_t size) {
    const auto* p = static_cast<const uint8_t*>(data);
    for (; size >= 8; p += 8, size -= 8) {
      uint64_t word;
      std::memcpy(&word, p, 8);
      mix(word);
    }
    uint64_t tail = size;
    for (std::size_t i = 0; i < size; ++i) tail = tail << 8 | p[i];
    mix(tail);
  }
  template <class T>
  void value(T v) { bytes(&v, sizeof v); }
  void text(const std::string& s) {
    value(s.size());
    bytes(s.data(), s.size());
  }
  void prefixes(const std::vector<dfw::IpPrefix>& list) {
    value(list.size());
    for (const dfw::IpPrefix& p : list) {
      bytes(p.address.data(), p.address.size());
      value(p.length);
      value(p.is_v4);
    }
  }
  void names(const std::vector<std::string>& list) {
    value(list.size());
    for (const std::string& n : list) text(n);
  }
};

bool same_prefixes(const std::vector<dfw::IpPrefix>& a, const std::vector<dfw::IpPrefix>& b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (a[i].address != b[i].address || a[i].length != b[i].length || a[i].is_v4 != b[i].is_v4) return false;
  return true;
}

bool same_rule(const dfw::RuleSpec& a, const dfw::RuleSpec& b) {
  return a.id == b.id && same_prefixes(a.sources, b.sources) && a.source_sets == b.source_sets &&
         same_prefixes(a.destinations, b.destinations) && a.destination_sets == b.destination_sets &&
         a.protocol == b.protocol && a.source_ports.first == b.source_ports.first &&
         a.source_ports.last == b.source_ports.last && a.destination_ports.first == b.destination_ports.first &&
         a.destination_ports.last == b.destination_ports.last && a.icmp_type == b.icmp_type &&
         a.icmp_code == b.icmp_code && a.direction == b.direction && a.action == b.action && a.log == b.log;
}

}  // namespace

uint64_t rule_set_fingerprint(const dfw::RuleSetSpec& spec) {
  Hasher h;
  h.value(spec.version);
  h.value(spec.default_action);
  h.value(spec.reevaluate_connections);
  h.value(spec.ip_sets.size());
  for (const auto& [name, prefixes] : spec.ip_sets) {
    h.text(name);
    h.prefixes(prefixes);
  }
  h.value(spec.sections.size());
  for (const dfw::SectionSpec& section : spec.sections) {
    h.text(section.name);
    h.value(section.rules.size());
    for (const dfw::RuleSpec& r : section.rules) {
      h.value(r.id);
      h.prefixes(r.sources);
      h.names(r.source_sets);
      h.prefixes(r.destinations);
      h.names(r.destination_sets);
      h.value(r.protocol);
      h.value(r.source_ports.first);
      h.value(r.source_ports.last);
      h.value(r.destination_ports.first);
      h.value(r.destination_ports.last);
      h.value(r.icmp_type);
      h.value(r.icmp_code);
      h.value(r.direction);
      h.value(r.action);
      h.value(r.log);
    }
  }
  return h.h;
}

bool same_rule_set(const dfw::RuleSetSpec& a, const dfw::RuleSetSpec& b) {
  if (a.version != b.version || a.default_action != b.default_action ||
      a.reevaluate_connections != b.reevaluate_connections || a.sections.size() != b.sections.size() ||
      a.ip_sets.size() != b.ip_sets.size())
    return false;
  for (auto ia = a.ip_sets.begin(), ib = b.ip_sets.begin(); ia != a.ip_sets.end(); ++ia, ++ib)
    if (ia->first != ib->first || !same_prefixes(ia->second, ib->second)) return false;
  for (std::size_t s = 0; s < a.sections.size(); ++s) {
    const dfw::SectionSpec& x = a.sections[s];
    const dfw::SectionSpec& y = b.sections[s];
    if (x.name != y.name || x.rules.size() != y.rules.size()) return false;
    for (std::size_t r = 0; r < x.rules.size(); ++r)
      if (!same_rule(x.rules[r], y.rules[r])) return false;
  }
  return true;
}

const dfw::RuleSetSpec* ComputedSpecs::intern(dfw::RuleSetSpec spec) {
  auto& bucket = by_fingerprint_[rule_set_fingerprint(spec)];
  for (const auto& stored : bucket)
    if (same_rule_set(*stored, spec)) return stored.get();
  bucket.push_back(std::make_unique<const dfw::RuleSetSpec>(std::move(spec)));
  ++distinct_;
  return bucket.back().get();
}

void ComputedSpecs::record(const controller::Controller& controller, models::VmIndex vm) {
  const uint64_t version = controller.port_version(vm);
  if (version == 0) return;  // unknown to the controller
  auto [it, inserted] = by_port_version_.try_emplace({vm, version}, nullptr);
  if (!inserted) return;
  it->second = intern(controller.port_spec(vm));
}

void ComputedSpecs::record(const controller::Controller& controller) {
  for (controller::WorkloadId id : controller.port_ids()) record(controller, static_cast<models::VmIndex>(id));
}

const dfw::RuleSetSpec* ComputedSpecs::find(models::VmIndex vm, uint64_t version) const {
  const auto it = by_port_version_.find({vm, version});
  return it == by_port_version_.end() ? nullptr : it->second;
}

}  // namespace scenarios
