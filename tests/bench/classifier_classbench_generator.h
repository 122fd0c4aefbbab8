#pragma once
// A small ClassBench-like generator for benchmark rule sets and header traces, seeded and
// deterministic (its own splitmix64, no library distributions). The shapes follow the acl/fw seeds
// of ClassBench loosely: addresses drawn from a pool of /16 networks so prefixes nest and overlap,
// source prefixes mostly long, some wildcards on either side, destination ports mostly exact
// well-known ports with some ranges, protocols mostly TCP/UDP, and a share of rules with a wildcard
// protocol. Trace headers are random points inside random rules, plus some random headers.

#include <array>
#include <cstdint>
#include <vector>

#include "classifier/classbench.h"

namespace dfw::bench {

class SplitMix64 {
 public:
  explicit SplitMix64(uint64_t seed) : state_(seed) {}
  uint64_t next() {
    uint64_t z = (state_ += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }
  uint32_t below(uint32_t n) { return static_cast<uint32_t>(next() % n); }  // n > 0
  uint32_t between(uint32_t lo, uint32_t hi) { return lo + below(hi - lo + 1); }
  bool chance(uint32_t percent) { return below(100) < percent; }

 private:
  uint64_t state_;
};

namespace generator_detail {

inline uint32_t mask_of(uint32_t length) { return length == 0 ? 0 : ~uint32_t{0} << (32 - length); }

inline uint8_t pick_length(SplitMix64& rng, const std::array<uint8_t, 6>& lengths,
                           const std::array<uint32_t, 6>& weights) {
  uint32_t total = 0;
  for (uint32_t w : weights) total += w;
  uint32_t x = rng.below(total);
  for (std::size_t i = 0; i < lengths.size(); ++i) {
    if (x < weights[i]) return static_cast<uint8_t>(i == 3 ? rng.between(25, 31) : lengths[i]);
    x -= weights[i];
  }
  return 32;
}

}  // namespace generator_detail

inline std::vector<classifier::classbench::Rule> generate_rules(std::size_t count, uint64_t seed) {
  using namespace generator_detail;
  SplitMix64 rng(seed);
  std::vector<uint32_t> networks(std::max<std::size_t>(8, count / 16));
  for (uint32_t& n : networks) n = static_cast<uint32_t>(rng.next()) & 0xffff0000u;
  static constexpr std::array<uint16_t, 12> kPorts = {80, 443, 22, 53, 25, 110, 123, 389, 1521, 3306, 8080, 5432};
  std::vector<classifier::classbench::Rule> rules;
  rules.reserve(count);
  for (std::size_t i = 0; i < count; ++i) {
    classifier::classbench::Rule r;
    // lengths: 0, 8, 16, 25..31, 24, 32
    r.source_length = pick_length(rng, {0, 8, 16, 0, 24, 32}, {12, 3, 10, 10, 20, 45});
    r.destination_length = pick_length(rng, {0, 8, 16, 0, 24, 32}, {8, 2, 10, 10, 25, 45});
    r.source = (networks[rng.below(static_cast<uint32_t>(networks.size()))] | (static_cast<uint32_t>(rng.next()) & 0xffffu)) &
               mask_of(r.source_length);
    r.destination = (networks[rng.below(static_cast<uint32_t>(networks.size()))] | (static_cast<uint32_t>(rng.next()) & 0xffffu)) &
                    mask_of(r.destination_length);
    const uint32_t p = rng.below(100);
    r.protocol_any = p < 12;
    r.protocol = r.protocol_any ? 0 : (p < 80 ? 6 : (p < 97 ? 17 : 1));
    if (!r.protocol_any && r.protocol != 1) {
      const uint32_t s = rng.below(100);
      if (s < 6) {
        r.source_port_first = 1024;
      } else if (s < 10) {
        r.source_port_first = r.source_port_last = static_cast<uint16_t>(rng.between(1, 65535));
      }
      const uint32_t d = rng.below(100);
      if (d < 50) {
        r.destination_port_first = r.destination_port_last = kPorts[rng.below(kPorts.size())];
      } else if (d < 65) {
        r.destination_port_first = r.destination_port_last = static_cast<uint16_t>(rng.between(1, 65535));
      } else if (d < 80) {
        const uint16_t lo = static_cast<uint16_t>(rng.between(0, 60000));
        r.destination_port_first = lo;
        r.destination_port_last = static_cast<uint16_t>(lo + rng.between(1, 5000));
      } else if (d < 85) {
        r.destination_port_first = 1024;
      }
    }
    rules.push_back(r);
  }
  return rules;
}

inline std::vector<classifier::classbench::Header> generate_trace(
    const std::vector<classifier::classbench::Rule>& rules, std::size_t count, uint64_t seed) {
  using namespace generator_detail;
  SplitMix64 rng(seed ^ 0x5eedf00dull);
  std::vector<classifier::classbench::Header> headers;
  headers.reserve(count);
  for (std::size_t i = 0; i < count; ++i) {
    classifier::classbench::Header h;
    if (rules.empty() || rng.chance(5)) {
      h.source = static_cast<uint32_t>(rng.next());
      h.destination = static_cast<uint32_t>(rng.next());
      h.source_port = static_cast<uint16_t>(rng.next());
      h.destination_port = static_cast<uint16_t>(rng.next());
      h.protocol = rng.chance(50) ? 6 : 17;
    } else {
      const auto& r = rules[rng.below(static_cast<uint32_t>(rules.size()))];
      h.source = r.source | (static_cast<uint32_t>(rng.next()) & ~mask_of(r.source_length));
      h.destination = r.destination | (static_cast<uint32_t>(rng.next()) & ~mask_of(r.destination_length));
      h.source_port = static_cast<uint16_t>(rng.between(r.source_port_first, r.source_port_last));
      h.destination_port = static_cast<uint16_t>(rng.between(r.destination_port_first, r.destination_port_last));
      h.protocol = r.protocol_any ? (rng.chance(50) ? 6 : 17) : r.protocol;
    }
    headers.push_back(h);
  }
  return headers;
}

}  // namespace dfw::bench
