#pragma once
// A fast seeded hash for fixed-size table keys: a wyhash-style 64x64->128 multiply-mix.

#include <cstdint>

#include "util/bytes.h"

namespace dfw {

inline uint64_t hash_mix(uint64_t a, uint64_t b) {
  const __uint128_t product =
      static_cast<__uint128_t>(a ^ 0xA0761D6478BD642Full) * (b ^ 0xE7037ED1A0B428DBull);
  return static_cast<uint64_t>(product) ^ static_cast<uint64_t>(product >> 64);
}

// Hashes exactly 44 bytes (the connection and fragment key size).
inline uint64_t hash_bytes44(const uint8_t* p, uint64_t seed) {
  uint64_t h = seed;
  h = hash_mix(h ^ load_u64_native(p), load_u64_native(p + 8));
  h = hash_mix(h ^ load_u64_native(p + 16), load_u64_native(p + 24));
  h = hash_mix(h ^ load_u64_native(p + 32), load_u64_native(p + 36));
  return hash_mix(h, 0x8EBC6AF09C88C6E3ull);
}

}  // namespace dfw
