#pragma once
// Expiry of connections: a single-level timer wheel over the connection pool's intrusive links.
//
// 1024 slots of 2^30 ns (~1.07 s) cover ~18 minutes; a connection further out sits in the slot
// of its deadline's tick modulo 1024 and is re-filed when that slot comes round. The hot path
// only stores a later deadline in the connection (lazy re-filing, as most packets push the
// deadline out); a shorter deadline (a state change to TIME_WAIT or CLOSE) re-files at once.
// The deadline stored in the connection is authoritative: lookups treat a connection past its
// deadline as gone even before the wheel reaches it, so expiry is exact to the nanosecond.

#include <cstdint>

#include "conntrack/conn_pool.h"

namespace dfw {

class TimerWheel {
 public:
  static constexpr uint32_t kSlotCount = 1024;
  static constexpr int kTickShift = 30;

  explicit TimerWheel(ConnPool& pool);

  void insert(uint32_t index);  // files by pool.at(index).deadline
  void remove(uint32_t index);
  // Sets a new deadline, re-filing only when it moves earlier.
  void update(uint32_t index, int64_t deadline);

  // Visits connections whose slots are due at `now`; calls on_expired(index) for each whose
  // deadline is <= now (the callee removes it: it must call remove() then release it), re-files
  // the others. Returns the next time worth calling again (INT64_MAX if the wheel is empty).
  template <typename OnExpired>
  int64_t advance(int64_t now, OnExpired&& on_expired);

 private:
  uint64_t tick_of(int64_t t) const { return static_cast<uint64_t>(t < 0 ? 0 : t) >> kTickShift; }
  void link(uint32_t index, uint32_t slot);
  int64_t next_deadline() const;

  ConnPool& pool_;
  uint32_t heads_[kSlotCount];
  uint64_t occupied_[kSlotCount / 64] = {};
  uint64_t cursor_tick_ = 0;
};

template <typename OnExpired>
int64_t TimerWheel::advance(int64_t now, OnExpired&& on_expired) {
  const uint64_t target = tick_of(now);
  // One full turn visits every slot, so a long gap between calls never costs more than that.
  uint64_t first = cursor_tick_;
  if (target >= first + kSlotCount) first = target - kSlotCount + 1;
  for (uint64_t tick = first; tick <= target; ++tick) {
    const uint32_t slot = static_cast<uint32_t>(tick % kSlotCount);
    uint32_t index = heads_[slot];
    heads_[slot] = kNilIndex;
    occupied_[slot / 64] &= ~(uint64_t{1} << (slot % 64));
    cursor_tick_ = tick;
    while (index != kNilIndex) {
      Conn& c = pool_.at(index);
      const uint32_t next = c.wheel_next;
      c.wheel_prev = kNilIndex;
      c.wheel_next = kNilIndex;
      c.wheel_slot = static_cast<uint16_t>(kSlotCount);  // detached
      if (c.deadline <= now) {
        on_expired(index);
      } else {
        insert(index);
      }
      index = next;
    }
  }
  cursor_tick_ = target > cursor_tick_ ? target : cursor_tick_;
  return next_deadline();
}

}  // namespace dfw
