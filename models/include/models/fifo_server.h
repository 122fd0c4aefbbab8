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
// Sub-nanosecond service. The server keeps its committed busy time in picoseconds, so work whose
// service time is not a whole number of nanoseconds (1502 bytes at 40 Gb/s: 300.4 ns) is served
// back to back at the exact rate; only the finish time handed out is rounded up to the next
// nanosecond (the kernel's resolution). Rounding every service up instead would make a link
// slower than its rate by up to 1 ns per packet (0.2% at 40 Gb/s, 0.7% at 100 Gb/s with
// 1502-byte frames), visible as excess utilization and queueing.
//
// Memory: a ring that doubles when full and never shrinks; no allocation in steady state.

#include <cstdint>
#include <memory>

#include "sim/time.h"
#include "sim/units.h"

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
    return admit_ps(now, service.ns() * kPsPerNs, size);
  }
  // Admits `size` bytes serialized at `rate` (> 0), served at the exact rate (to the picosecond);
  // returns the finish rounded up to the nanosecond.
  sim::Time admit_bytes_at(sim::Time now, uint64_t size, sim::DataRate rate) {
    const uint64_t bps = rate.bits_per_second();
    // ceil(size * 8e12 / bps) ps. In 64 bits when the sum fits (packets up to 1 MiB at rates
    // up to 4.6 Eb/s): the same value without a 128-bit division call per packet and hop.
    if (size <= (uint64_t{1} << 20) && bps <= (uint64_t{1} << 62)) [[likely]]
      return admit_ps(now, static_cast<int64_t>((size * 8'000'000'000'000ULL + bps - 1) / bps), size);
    const unsigned __int128 bit_ps = static_cast<unsigned __int128>(size) * 8 * 1'000'000'000'000ULL;
    return admit_ps(now, static_cast<int64_t>((bit_ps + bps - 1) / bps), size);
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

  // Forgets every unit not finished by `now` (their service is cancelled: a link going down
  // loses what it had queued); busy time stops counting at `now`. Used on failures only.
  void abandon(sim::Time now) {
    const int64_t now_ps = now.ns() * kPsPerNs;
    if (busy_until_ps_ > now_ps) {
      busy_total_ps_ -= busy_until_ps_ - now_ps;
      busy_until_ps_ = now_ps;
    }
    head_ = 0;
    count_ = 0;
    occupancy_size_ = 0;
  }

  sim::Time busy_until() const { return sim::Nanos(ceil_ns(busy_until_ps_)); }
  // Total time the server has been (or is committed to be) busy up to `now`, to the nearest
  // nanosecond. Exact: admitted work is served back to back, so everything after `now` is one
  // busy stretch up to busy_until.
  sim::Time busy_time(sim::Time now) const {
    const int64_t now_ps = now.ns() * kPsPerNs;
    const int64_t busy_ps =
        busy_until_ps_ > now_ps ? busy_total_ps_ - (busy_until_ps_ - now_ps) : busy_total_ps_;
    return sim::Nanos((busy_ps + kPsPerNs / 2) / kPsPerNs);
  }

 private:
  static constexpr int64_t kPsPerNs = 1000;
  static int64_t ceil_ns(int64_t ps) { return (ps + kPsPerNs - 1) / kPsPerNs; }

  // Picoseconds of int64 cover 106 simulated days; services are nanoseconds to milliseconds.
  sim::Time admit_ps(sim::Time now, int64_t service_ps, uint64_t size) {
    const int64_t now_ps = now.ns() * kPsPerNs;
    const int64_t start_ps = busy_until_ps_ > now_ps ? busy_until_ps_ : now_ps;
    busy_until_ps_ = start_ps + service_ps;
    busy_total_ps_ += service_ps;
    const int64_t finish_ns = ceil_ns(busy_until_ps_);
    if (count_ == capacity()) grow();
    ring_[(head_ + count_) & mask_] = Entry{finish_ns, size};
    ++count_;
    occupancy_size_ += size;
    if (occupancy_size_ > peak_size_) peak_size_ = occupancy_size_;
    if (count_ > peak_count_) peak_count_ = count_;
    return sim::Nanos(finish_ns);
  }

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
  int64_t busy_until_ps_ = 0;  // ps; committed busy time, exact
  int64_t busy_total_ps_ = 0;  // ps; all service admitted
};

}  // namespace models
