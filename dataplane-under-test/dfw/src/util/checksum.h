#pragma once
// The Internet checksum (RFC 1071), used to fill in the headers of generated reject frames.

#include <cstddef>
#include <cstdint>

namespace dfw {

// One's-complement sum of 16-bit big-endian words, not yet folded.
inline uint32_t checksum_add(uint32_t sum, const uint8_t* data, std::size_t size) {
  for (std::size_t i = 0; i + 1 < size; i += 2)
    sum += (static_cast<uint32_t>(data[i]) << 8) | data[i + 1];
  if (size & 1) sum += static_cast<uint32_t>(data[size - 1]) << 8;
  return sum;
}
inline uint16_t checksum_fold(uint32_t sum) {
  while (sum >> 16) sum = (sum & 0xFFFF) + (sum >> 16);
  return static_cast<uint16_t>(~sum);
}

}  // namespace dfw
