#include "conntrack/timer_wheel.h"

#include <algorithm>

namespace dfw {

TimerWheel::TimerWheel(ConnPool& pool) : pool_(pool) {
  std::fill(std::begin(heads_), std::end(heads_), kNilIndex);
}

void TimerWheel::link(uint32_t index, uint32_t slot) {
  Conn& c = pool_.at(index);
  c.wheel_slot = static_cast<uint16_t>(slot);
  c.wheel_prev = kNilIndex;
  c.wheel_next = heads_[slot];
  if (heads_[slot] != kNilIndex) pool_.at(heads_[slot]).wheel_prev = index;
  heads_[slot] = index;
  occupied_[slot / 64] |= uint64_t{1} << (slot % 64);
}

void TimerWheel::insert(uint32_t index) {
  uint64_t tick = tick_of(pool_.at(index).deadline);
  if (tick < cursor_tick_) tick = cursor_tick_;  // overdue: handled on the next advance
  link(index, static_cast<uint32_t>(tick % kSlotCount));
}

void TimerWheel::remove(uint32_t index) {
  Conn& c = pool_.at(index);
  if (c.wheel_slot >= kSlotCount) return;  // detached
  if (c.wheel_prev != kNilIndex) {
    pool_.at(c.wheel_prev).wheel_next = c.wheel_next;
  } else {
    heads_[c.wheel_slot] = c.wheel_next;
    if (c.wheel_next == kNilIndex)
      occupied_[c.wheel_slot / 64] &= ~(uint64_t{1} << (c.wheel_slot % 64));
  }
  if (c.wheel_next != kNilIndex) pool_.at(c.wheel_next).wheel_prev = c.wheel_prev;
  c.wheel_next = kNilIndex;
  c.wheel_prev = kNilIndex;
  c.wheel_slot = static_cast<uint16_t>(kSlotCount);
}

void TimerWheel::update(uint32_t index, int64_t deadline) {
  Conn& c = pool_.at(index);
  const int64_t old = c.deadline;
  c.deadline = deadline;
  if (deadline < old) {
    remove(index);
    insert(index);
  }
}

int64_t TimerWheel::next_deadline() const {
  // The current tick's slot may hold connections due within it: report their exact minimum.
  int64_t best = INT64_MAX;
  const uint32_t current = static_cast<uint32_t>(cursor_tick_ % kSlotCount);
  for (uint32_t i = heads_[current]; i != kNilIndex; i = pool_.at(i).wheel_next)
    best = std::min(best, pool_.at(i).deadline);
  // Otherwise the start of the next occupied slot (its connections may belong to a later turn;
  // the wake-up then only re-files them).
  for (uint32_t step = 1; step < kSlotCount; ++step) {
    const uint32_t slot = static_cast<uint32_t>((cursor_tick_ + step) % kSlotCount);
    if (occupied_[slot / 64] == 0) {
      step += 63 - slot % 64;  // skip the rest of an empty word
      continue;
    }
    if (occupied_[slot / 64] & (uint64_t{1} << (slot % 64))) {
      const int64_t start = static_cast<int64_t>((cursor_tick_ + step) << kTickShift);
      return std::min(best, start);
    }
  }
  return best;
}

}  // namespace dfw
