#pragma once
// Deterministic, splittable random numbers.
//
// Every entity draws from its own stream, derived from the scenario seed and a stable stream
// key (a hash of the entity's name), so that adding an entity, reordering construction or
// partitioning entities across MPI ranks never changes another entity's draws.
// The generator is xoshiro256** seeded through SplitMix64, as its authors recommend.

#include <cassert>
#include <cmath>
#include <cstdint>
#include <string_view>

namespace sim {

constexpr uint64_t splitmix64(uint64_t& state) {
  uint64_t z = (state += 0x9E3779B97F4A7C15ULL);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

// FNV-1a: a stable hash of a name, identical on every platform and run.
constexpr uint64_t stable_hash(std::string_view s) {
  uint64_t h = 0xCBF29CE484222325ULL;
  for (unsigned char c : s) {
    h ^= c;
    h *= 0x100000001B3ULL;
  }
  return h;
}

namespace detail {

// Tables of the ziggurat method (Marsaglia and Tsang, 2000) for the unit exponential density
// f(x) = exp(-x), cut into 256 layers of equal area. Layer i >= 1 is the box [0, x[i]] by
// [f(x[i]), f(x[i+1])]; layer 0 is the box [0, x[0]] by [0, f(r)] whose part beyond x[1] = r
// stands for the tail. A draw picks a layer and a point in it; it is accepted at once when the
// point lies left of the layer above (about 98.9% of draws), which costs one 64-bit random
// number, two table reads and a multiplication instead of a logarithm.
struct ExpZigguratTables {
  static constexpr double kR = 7.69711747013104972;      // x[1]: where the tail begins
  static constexpr double kArea = 3.949659822581572e-3;  // the area of each layer
  static constexpr double kTwo53 = 9007199254740992.0;

  uint64_t core_limit[256];  // 2^53 * x[i+1] / x[i]: 53-bit draws below this are accepted
  double scale[256];         // x[i] / 2^53
  double f[257];             // exp(-x[i]), with x[256] = 0

  ExpZigguratTables() {
    double x[257];
    x[0] = kArea / std::exp(-kR);
    x[1] = kR;
    for (int i = 1; i < 255; ++i) x[i + 1] = -std::log(std::exp(-x[i]) + kArea / x[i]);
    x[256] = 0;
    for (int i = 0; i <= 256; ++i) f[i] = std::exp(-x[i]);
    for (int i = 0; i < 256; ++i) {
      core_limit[i] = static_cast<uint64_t>(x[i + 1] / x[i] * kTwo53);
      scale[i] = x[i] / kTwo53;
    }
  }
};

inline const ExpZigguratTables& exp_ziggurat_tables() {
  static const ExpZigguratTables tables;
  return tables;
}

}  // namespace detail

class Rng {
 public:
  explicit Rng(uint64_t seed = 0) { reseed(seed); }

  // The stream for `key` under `root_seed`; different keys give independent streams.
  static Rng stream(uint64_t root_seed, uint64_t key) {
    uint64_t s = root_seed ^ (key * 0xD6E8FEB86659FD93ULL);
    return Rng(splitmix64(s));
  }
  static Rng stream(uint64_t root_seed, std::string_view name) {
    return stream(root_seed, stable_hash(name));
  }
  // A child stream: for an entity that needs several independent sequences.
  Rng split(uint64_t key) { return stream(next_u64(), key); }

  void reseed(uint64_t seed) {
    uint64_t sm = seed;
    for (auto& w : s_) w = splitmix64(sm);
  }

  uint64_t next_u64() {
    const uint64_t result = rotl(s_[1] * 5, 7) * 9;
    const uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = rotl(s_[3], 45);
    return result;
  }

  // Uniform in [0, 1) with 53 bits of precision.
  double uniform() { return static_cast<double>(next_u64() >> 11) * 0x1.0p-53; }
  // Uniform integer in [0, n) without modulo bias (Lemire's method). n must be positive.
  uint64_t below(uint64_t n) {
    assert(n > 0);
    unsigned __int128 m = static_cast<unsigned __int128>(next_u64()) * n;
    uint64_t low = static_cast<uint64_t>(m);
    if (low < n) {
      const uint64_t threshold = -n % n;
      while (low < threshold) {
        m = static_cast<unsigned __int128>(next_u64()) * n;
        low = static_cast<uint64_t>(m);
      }
    }
    return static_cast<uint64_t>(m >> 64);
  }
  // Exponentially distributed with the given mean (ziggurat method, see above).
  double exponential(double mean) { return mean * unit_exponential(); }

  double unit_exponential() {
    const detail::ExpZigguratTables& t = detail::exp_ziggurat_tables();
    for (;;) {
      // The low 8 bits choose the layer, the high 53 bits the point: disjoint bits, so the two
      // are independent.
      const uint64_t r = next_u64();
      const unsigned layer = static_cast<unsigned>(r & 0xFF);
      const uint64_t point = r >> 11;
      const double x = static_cast<double>(point) * t.scale[layer];
      if (point < t.core_limit[layer]) return x;
      if (layer == 0) return detail::ExpZigguratTables::kR - std::log1p(-uniform());  // tail
      // The wedge between the layer above and the curve: accept if under the curve.
      const double y = t.f[layer] + uniform() * (t.f[layer + 1] - t.f[layer]);
      if (y < std::exp(-x)) return x;
    }
  }

 private:
  static constexpr uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  uint64_t s_[4];
};

}  // namespace sim
