#pragma once
// Chunked storage for connections, addressed by 32-bit index. Chunks are allocated as the live
// count grows (growth steps, never per packet) and never move, so indices and references stay
// valid; freed slots go on a free list threaded through Conn::wheel_next.
//
// Chunk sizes: 16K, 16K, 32K, 64K connections, then 128K each (13.6 MB). Small tables stay small
// (one 1.7 MB chunk, as many simulated hosts each hold one); large ones get chunks big enough for
// huge pages (util/table_storage.h), which the established path needs at 1M connections. A
// growth step never zeroes more than one 128K chunk. The last chunk stops at the table limit.

#include <bit>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "conntrack/conn.h"
#include "util/table_storage.h"

namespace dfw {

class ConnPool {
 public:
  static constexpr uint32_t kFirstChunkShift = 14;  // chunks 0 and 1: 2^14 connections
  static constexpr uint32_t kLastChunkShift = 17;   // chunks from 4 on: 2^17 connections

  Conn& at(uint32_t index) { return chunks_[chunk_of(index)][offset_in_chunk(index)]; }
  const Conn& at(uint32_t index) const { return chunks_[chunk_of(index)][offset_in_chunk(index)]; }

  // A free slot (state kFree, contents unspecified), or kNilIndex if `limit` slots are in use.
  uint32_t allocate(uint32_t limit) {
    if (free_head_ == kNilIndex) {
      if (allocated_ >= limit || !grow(limit)) return kNilIndex;
    }
    const uint32_t index = free_head_;
    free_head_ = at(index).wheel_next;
    ++live_;
    return index;
  }
  void release(uint32_t index) {
    Conn& c = at(index);
    c.state = ConnState::kFree;
    c.wheel_next = free_head_;
    free_head_ = index;
    --live_;
  }

  uint32_t live() const { return live_; }
  uint32_t allocated() const { return allocated_; }  // slots in allocated chunks
  std::size_t memory_size() const { return std::size_t{allocated_} * sizeof(Conn); }

 private:
  // Chunk k < 4 holds [2^(13+k), 2^(14+k)) (chunk 0 from 0); chunk k >= 4 holds
  // [(k-3) * 2^17, (k-2) * 2^17).
  static uint32_t chunk_of(uint32_t index) {
    if (index >= (1u << kLastChunkShift)) return 3 + (index >> kLastChunkShift);
    const auto bits = static_cast<uint32_t>(std::bit_width(index));
    return bits <= kFirstChunkShift ? 0 : bits - kFirstChunkShift;
  }
  static uint32_t offset_in_chunk(uint32_t index) {
    if (index >= (1u << kLastChunkShift)) return index & ((1u << kLastChunkShift) - 1);
    const auto bits = static_cast<uint32_t>(std::bit_width(index));
    return bits <= kFirstChunkShift ? index : index ^ (1u << (bits - 1));  // minus the chunk's base
  }
  static uint32_t chunk_capacity(uint32_t chunk) {
    return chunk == 0 ? 1u << kFirstChunkShift
                      : 1u << (chunk < 4 ? kFirstChunkShift + chunk - 1 : kLastChunkShift);
  }

  // False when the last chunk was cut short by a limit (the pool is then full for good: the table
  // limit never changes, and indices past a short chunk would not map).
  bool grow(uint32_t limit) {
    const auto chunk = static_cast<uint32_t>(chunks_.size());
    const uint32_t base = allocated_;
    if (chunk > 0 && base != nominal_base(chunk)) return false;
    const uint32_t capacity = chunk_capacity(chunk);
    const uint32_t count = limit - base < capacity ? limit - base : capacity;
    chunks_.emplace_back(count);
    // Thread the new slots onto the free list in ascending order.
    for (uint32_t i = 0; i < count; ++i) {
      chunks_[chunk][i].state = ConnState::kFree;
      chunks_[chunk][i].wheel_next = i + 1 < count ? base + i + 1 : kNilIndex;
    }
    // A chunk cut short by the limit is the last one: `allocated_` is then the limit.
    allocated_ += count;
    free_head_ = base;
    return true;
  }
  static uint32_t nominal_base(uint32_t chunk) {
    if (chunk == 0) return 0;
    return chunk < 4 ? 1u << (kFirstChunkShift + chunk - 1) : (chunk - 3) << kLastChunkShift;
  }

  std::vector<TableStorage<Conn>> chunks_;
  uint32_t allocated_ = 0;
  uint32_t live_ = 0;
  uint32_t free_head_ = kNilIndex;
};

}  // namespace dfw
