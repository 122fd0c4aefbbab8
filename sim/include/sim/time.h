#pragma once
// Virtual time: a signed 64-bit count of nanoseconds (about 292 years of range).
// Time is a distinct type so that a count of bytes or packets can never be mistaken for it.

#include <compare>
#include <cstdint>
#include <limits>
#include <string>

namespace sim {

class Time {
 public:
  constexpr Time() = default;
  static constexpr Time from_ns(int64_t ns) { return Time(ns); }
  static constexpr Time max() { return Time(std::numeric_limits<int64_t>::max()); }
  static constexpr Time zero() { return Time(0); }

  constexpr int64_t ns() const { return ns_; }
  constexpr double seconds() const { return static_cast<double>(ns_) * 1e-9; }

  constexpr auto operator<=>(const Time&) const = default;
  constexpr Time operator+(Time o) const { return Time(ns_ + o.ns_); }
  constexpr Time operator-(Time o) const { return Time(ns_ - o.ns_); }
  constexpr Time& operator+=(Time o) { ns_ += o.ns_; return *this; }
  constexpr Time& operator-=(Time o) { ns_ -= o.ns_; return *this; }
  constexpr Time operator*(int64_t k) const { return Time(ns_ * k); }
  constexpr int64_t operator/(Time o) const { return ns_ / o.ns_; }

 private:
  constexpr explicit Time(int64_t ns) : ns_(ns) {}
  int64_t ns_ = 0;
};

constexpr Time Nanos(int64_t n) { return Time::from_ns(n); }
constexpr Time Micros(int64_t n) { return Time::from_ns(n * 1'000); }
constexpr Time Millis(int64_t n) { return Time::from_ns(n * 1'000'000); }
constexpr Time Seconds(int64_t n) { return Time::from_ns(n * 1'000'000'000); }
// Rounds to the nearest nanosecond.
constexpr Time SecondsF(double s) {
  return Time::from_ns(static_cast<int64_t>(s * 1e9 + (s >= 0 ? 0.5 : -0.5)));
}

// "1.5ms", "12s", "250ns", "-2.000001s": exact, in the largest unit not above the magnitude,
// for messages and summaries.
std::string to_string(Time t);

}  // namespace sim
