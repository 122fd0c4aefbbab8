#pragma once
// Chunked storage for connections, addressed by 32-bit index. Chunks are allocated as the live
// count grows (growth steps, never per packet) and never move, so indices and references stay
// valid; freed slots go on a free list threaded through Conn::wheel_next.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "conntrack/conn.h"

namespace dfw {

class ConnPool {
 public:
  static constexpr uint32_t kChunkShift = 14;
  static constexpr uint32_t kChunkCount = 1u << kChunkShift;  // connections per chunk

  Conn& at(uint32_t index) { return chunks_[index >> kChunkShift][index & (kChunkCount - 1)]; }
  const Conn& at(uint32_t index) const {
    return chunks_[index >> kChunkShift][index & (kChunkCount - 1)];
  }

  // A free slot (state kFree, contents unspecified), or kNilIndex if `limit` slots are in use.
  uint32_t allocate(uint32_t limit) {
    if (free_head_ == kNilIndex) {
      if (allocated_ >= limit) return kNilIndex;
      grow();
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
  void grow() {
    auto chunk = std::make_unique<Conn[]>(kChunkCount);
    const uint32_t base = allocated_;
    // Thread the new slots onto the free list in ascending order.
    for (uint32_t i = 0; i < kChunkCount; ++i) {
      chunk[i].state = ConnState::kFree;
      chunk[i].wheel_next = i + 1 < kChunkCount ? base + i + 1 : kNilIndex;
    }
    chunks_.push_back(std::move(chunk));
    allocated_ += kChunkCount;
    free_head_ = base;
  }

  std::vector<std::unique_ptr<Conn[]>> chunks_;
  uint32_t allocated_ = 0;
  uint32_t live_ = 0;
  uint32_t free_head_ = kNilIndex;
};

}  // namespace dfw
