#pragma once
// Unit-carrying value types: data rates and byte sizes. Parsing from text ("10Gbps", "64KiB")
// lives in scenarios/; these types only hold and convert values.

#include <compare>
#include <cstdint>

#include "sim/time.h"

namespace sim {

// A byte count. "size" in a name means bytes; "count" means a number of items.
class Bytes {
 public:
  constexpr Bytes() = default;
  constexpr explicit Bytes(uint64_t n) : n_(n) {}
  constexpr uint64_t count() const { return n_; }
  constexpr uint64_t bits() const { return n_ * 8; }
  constexpr auto operator<=>(const Bytes&) const = default;
  constexpr Bytes operator+(Bytes o) const { return Bytes(n_ + o.n_); }
  constexpr Bytes& operator+=(Bytes o) { n_ += o.n_; return *this; }

 private:
  uint64_t n_ = 0;
};

// Bits per second.
class DataRate {
 public:
  constexpr DataRate() = default;
  static constexpr DataRate bps(uint64_t v) { return DataRate(v); }
  static constexpr DataRate gbps(uint64_t v) { return DataRate(v * 1'000'000'000ULL); }
  constexpr uint64_t bits_per_second() const { return bps_; }
  constexpr auto operator<=>(const DataRate&) const = default;

  // Serialization time of `size` at this rate, rounded up to the next nanosecond so that
  // back-to-back transmissions never overlap.
  constexpr Time transmit_time(Bytes size) const {
    if (bps_ == 0) return Time::max();
    const unsigned __int128 num = static_cast<unsigned __int128>(size.bits()) * 1'000'000'000ULL;
    return Time::from_ns(static_cast<int64_t>((num + bps_ - 1) / bps_));
  }

 private:
  constexpr explicit DataRate(uint64_t v) : bps_(v) {}
  uint64_t bps_ = 0;
};

}  // namespace sim
