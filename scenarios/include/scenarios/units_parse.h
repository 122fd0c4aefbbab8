#pragma once
// Strict parsing of quantities written with their unit in scenario files.
//
// A quantity is a non-negative decimal number immediately followed by a unit, with no space and
// no exponent: "5us", "1.5ms", "10Gbps", "64KiB", "2.6GHz". The value must come out as a whole
// number of the base unit (nanoseconds, bits per second, bytes, hertz); "0.5ns" is an error, not
// a rounding. Units are case-sensitive; a near miss ("gbps") is answered with a suggestion.
//
//   duration   ns us ms s min h                         base: nanoseconds
//   data rate  bps Kbps Mbps Gbps Tbps (bits, decimal)  base: bits per second
//   size       B KB MB GB TB (decimal), KiB MiB GiB TiB base: bytes
//   frequency  Hz kHz MHz GHz                           base: hertz
//
// On failure the result carries a message that says what was wrong and what was expected, ready
// to be put after a "file:line:column: field:" prefix.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "sim/time.h"
#include "sim/units.h"

namespace scenarios {

template <class T>
struct Parsed {
  std::optional<T> value;
  std::string error;  // empty when value is set
  explicit operator bool() const { return value.has_value(); }
};

// Whether zero is an acceptable value for the field being parsed. Negative values are never
// accepted by these parsers.
enum class ZeroIs { allowed, rejected };

Parsed<sim::Time> parse_duration(std::string_view text, ZeroIs zero = ZeroIs::rejected);
Parsed<sim::DataRate> parse_data_rate(std::string_view text, ZeroIs zero = ZeroIs::rejected);
Parsed<sim::Bytes> parse_size(std::string_view text, ZeroIs zero = ZeroIs::rejected);
// Hertz; zero is never a valid frequency.
Parsed<uint64_t> parse_frequency(std::string_view text);

}  // namespace scenarios
