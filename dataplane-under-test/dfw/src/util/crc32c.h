#pragma once
// CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), table-driven, for state blobs. Not on
// the hot path.

#include <cstddef>
#include <cstdint>

namespace dfw {

// Continues a CRC: pass 0 for a fresh one.
uint32_t crc32c(uint32_t crc, const uint8_t* data, std::size_t size);

}  // namespace dfw
