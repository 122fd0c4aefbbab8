#pragma once
// A first-come-first-served single server whose future is known at admission.
//
// Links, vNICs and host cores all serve work in arrival order at a rate that does not depend on
// what arrives later. So the moment a unit of work is admitted, its finish time is fixed:
// finish = max(now, busy_until) + service. FifoServer computes it and remembers (finish, size) of
// every admitted unit until its finish has passed, which is all that is needed to know the
// occupancy (bytes and items not yet finished) at any later time. The owner schedules one event
// at the finish time (or at finish + propagation delay) instead of one event per queue transition:
// half the events of an explicit queue for the same timing, to the nanosecond.
//
// Occupancy counts the unit in service too ("in the system"), as a drop-tail limit on an output
// port or a core's backlog does.
//
// Memory: a ring that doubles when full and never shrinks; no allocation in steady state.

#include <cstdint>
#include <memory>

#include "sim/time.h"

namespace models {

class FifoServer {
 public:
  FifoServer() = default;
  FifoServer(const FifoServer&) = delete;
  FifoServer& operator=(const FifoServer&) = delete;
  FifoServer(FifoServer&&) = default;
  FifoServer& operator=(FifoServer&&) = default;

  // Forgets every unit that has finished by `now`. Call before reading occupancy at `now`.
  void drain(sim::Time now) {
    const int64_t t = now.ns();
    while (count_ > 0 && ring_[head_].finish_ns <= t) {
      occupancy_size_ -= ring_[head_].size;
      head_ = (head_ + 1) & mask_;
      --count_;
    }
  }

  // Admits a unit of `size` bytes needing `service` time, arriving at `now`; returns its finish.
  sim::Time admit(sim::Time now, sim::Time service, uint64_t size) {
    const sim::Time start = busy_until_ > now ? busy_until_ : now;
    busy_until_ = start + service;
    busy_total_ += service;
    if (count_ == capacity()) grow();
    ring_[(head_ + count_) & mask_] = Entry{busy_until_.ns(), size};
    ++count_;
    occupancy_size_ += size;
    if (occupancy_size_ > peak_size_) peak_size_ = occupancy_size_;
    if (count_ > peak_count_) peak_count_ = count_;
    return busy_until_;
  }

  // Bytes and units admitted but not yet finished (valid after drain(now)).
  uint64_t occupancy_size() const { return occupancy_size_; }
  uint64_t occupancy_count() const { return count_; }
  // The largest occupancy since the last reset_peaks().
  uint64_t peak_size() const { return peak_size_; }
  uint64_t peak_count() const { return peak_count_; }
  void reset_peaks() {
    peak_size_ = occupancy_size_;
    peak_count_ = count_;
  }

  sim::Time busy_until() const { return busy_until_; }
  // Total time the server has been (or is committed to be) busy up to `now`. Exact: admitted
  // work is served back to back, so everything after `now` is one busy stretch up to busy_until.
  sim::Time busy_time(sim::Time now) const {
    return busy_until_ > now ? busy_total_ - (busy_until_ - now) : busy_total_;
  }

 private:
  struct Entry {
    int64_t finish_ns;
    uint64_t size;
  };
  uint64_t capacity() const { return ring_ ? mask_ + 1 : 0; }
  void grow() {
    const uint64_t old_capacity = capacity();
    const uint64_t new_capacity = old_capacity ? old_capacity * 2 : 8;
    auto bigger = std::make_unique<Entry[]>(new_capacity);
    for (uint64_t i = 0; i < count_; ++i) bigger[i] = ring_[(head_ + i) & mask_];
    ring_ = std::move(bigger);
    mask_ = new_capacity - 1;
    head_ = 0;
  }

  std::unique_ptr<Entry[]> ring_;
  uint64_t mask_ = 0;
  uint64_t head_ = 0;
  uint64_t count_ = 0;
  uint64_t occupancy_size_ = 0;
  uint64_t peak_size_ = 0;
  uint64_t peak_count_ = 0;
  sim::Time busy_until_ = sim::Time::zero();
  sim::Time busy_total_ = sim::Time::zero();
};

}  // namespace models
