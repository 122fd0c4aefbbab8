#include "scenarios/units_parse.h"

#include <array>
#include <cctype>
#include <cstdint>
#include <limits>
#include <span>

namespace scenarios {
namespace {

using u128 = unsigned __int128;

struct Unit {
  std::string_view suffix;
  uint64_t scale;  // base units per one of this unit
};

struct QuantityKind {
  std::string_view name;     // "duration"
  std::string_view example;  // "5us"
  std::string_view base;     // "nanoseconds", for the "not a whole number" message
  std::span<const Unit> units;
};

constexpr Unit kDurationUnits[] = {{"ns", 1},
                                   {"us", 1'000},
                                   {"ms", 1'000'000},
                                   {"s", 1'000'000'000},
                                   {"min", 60'000'000'000},
                                   {"h", 3'600'000'000'000}};
constexpr Unit kRateUnits[] = {{"bps", 1},
                               {"Kbps", 1'000},
                               {"Mbps", 1'000'000},
                               {"Gbps", 1'000'000'000},
                               {"Tbps", 1'000'000'000'000}};
constexpr Unit kSizeUnits[] = {{"B", 1},
                               {"KB", 1'000},
                               {"MB", 1'000'000},
                               {"GB", 1'000'000'000},
                               {"TB", 1'000'000'000'000},
                               {"KiB", 1ULL << 10},
                               {"MiB", 1ULL << 20},
                               {"GiB", 1ULL << 30},
                               {"TiB", 1ULL << 40}};
constexpr Unit kFrequencyUnits[] = {
    {"Hz", 1}, {"kHz", 1'000}, {"MHz", 1'000'000}, {"GHz", 1'000'000'000}};

constexpr QuantityKind kDuration{"duration", "5us", "nanoseconds", kDurationUnits};
constexpr QuantityKind kRate{"data rate", "10Gbps", "bits per second", kRateUnits};
constexpr QuantityKind kSize{"size", "64KiB", "bytes", kSizeUnits};
constexpr QuantityKind kFrequency{"frequency", "2.6GHz", "hertz", kFrequencyUnits};
constexpr std::array<const QuantityKind*, 4> kAllKinds{&kDuration, &kRate, &kSize, &kFrequency};

// At most this many digits in the number, so that digits * scale never overflows 128 bits.
constexpr size_t kMaxDigits = 19;

bool equal_ignoring_case(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

std::string unit_list(const QuantityKind& kind) {
  std::string out;
  for (const Unit& u : kind.units) {
    if (!out.empty()) out += ", ";
    out += u.suffix;
  }
  return out;
}

std::string quoted(std::string_view s) { return "'" + std::string(s) + "'"; }

std::string unknown_unit_message(const QuantityKind& kind, std::string_view text, std::string_view unit) {
  std::string msg = "unknown unit " + quoted(unit) + " in " + quoted(text) + " (expected a " +
                    std::string(kind.name) + " in one of " + unit_list(kind);
  for (const Unit& u : kind.units) {
    if (equal_ignoring_case(u.suffix, unit)) return msg + "; did you mean " + quoted(u.suffix) + "?)";
  }
  for (const QuantityKind* other : kAllKinds) {
    if (other == &kind) continue;
    for (const Unit& u : other->units) {
      if (u.suffix == unit) return msg + "; " + quoted(unit) + " is a unit of " + std::string(other->name) + ")";
    }
  }
  return msg + ")";
}

// Parses "<digits>[.<digits>]<unit>" into a whole count of base units.
Parsed<uint64_t> parse_quantity(std::string_view text, const QuantityKind& kind, ZeroIs zero, uint64_t max) {
  const std::string expected = "expected a " + std::string(kind.name) + " with a unit, e.g. " + std::string(kind.example);
  auto fail = [](std::string message) { return Parsed<uint64_t>{std::nullopt, std::move(message)}; };
  if (text.empty()) return fail("empty value (" + expected + ")");

  size_t i = 0;
  if (text[0] == '-') {
    return fail("negative " + std::string(kind.name) + " " + quoted(text) + " (expected a value >= 0)");
  }
  if (text[0] == '+') return fail("unexpected sign in " + quoted(text) + " (" + expected + ")");

  u128 digits = 0;
  size_t digit_count = 0;
  size_t fraction_digits = 0;
  bool seen_point = false;
  for (; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '.' && !seen_point) {
      seen_point = true;
      continue;
    }
    if (c < '0' || c > '9') break;
    if (++digit_count > kMaxDigits) return fail("too many digits in " + quoted(text));
    digits = digits * 10 + static_cast<unsigned>(c - '0');
    if (seen_point) ++fraction_digits;
  }
  const bool point_without_digits = seen_point && (fraction_digits == 0 || digit_count == fraction_digits);
  if (digit_count == 0 || point_without_digits) {
    return fail(quoted(text) + " is not a number with a unit (" + expected + ")");
  }

  const std::string_view unit = text.substr(i);
  if (unit.empty()) return fail(expected + ", got the bare number " + quoted(text));
  if (std::isspace(static_cast<unsigned char>(unit[0]))) {
    return fail("space between number and unit in " + quoted(text) + " (" + expected + ", no space)");
  }
  const Unit* found = nullptr;
  for (const Unit& u : kind.units) {
    if (u.suffix == unit) found = &u;
  }
  if (found == nullptr) return fail(unknown_unit_message(kind, text, unit));

  u128 divisor = 1;
  for (size_t k = 0; k < fraction_digits; ++k) divisor *= 10;
  const u128 scaled = digits * found->scale;
  if (scaled % divisor != 0) {
    return fail(quoted(text) + " is not a whole number of " + std::string(kind.base));
  }
  const u128 value = scaled / divisor;
  if (value > max) return fail(quoted(text) + " is too large");
  if (value == 0 && zero == ZeroIs::rejected) {
    return fail("zero " + std::string(kind.name) + " " + quoted(text) + " (expected a value > 0)");
  }
  return {static_cast<uint64_t>(value), {}};
}

template <class T, class Make>
Parsed<T> convert(Parsed<uint64_t> raw, Make make) {
  if (!raw) return {std::nullopt, std::move(raw.error)};
  return {make(*raw.value), {}};
}

}  // namespace

Parsed<sim::Time> parse_duration(std::string_view text, ZeroIs zero) {
  constexpr uint64_t kMax = static_cast<uint64_t>(std::numeric_limits<int64_t>::max());
  return convert<sim::Time>(parse_quantity(text, kDuration, zero, kMax),
                            [](uint64_t ns) { return sim::Nanos(static_cast<int64_t>(ns)); });
}

Parsed<sim::DataRate> parse_data_rate(std::string_view text, ZeroIs zero) {
  return convert<sim::DataRate>(parse_quantity(text, kRate, zero, std::numeric_limits<uint64_t>::max()),
                                [](uint64_t bps) { return sim::DataRate::bps(bps); });
}

Parsed<sim::Bytes> parse_size(std::string_view text, ZeroIs zero) {
  return convert<sim::Bytes>(parse_quantity(text, kSize, zero, std::numeric_limits<uint64_t>::max()),
                             [](uint64_t n) { return sim::Bytes(n); });
}

Parsed<uint64_t> parse_frequency(std::string_view text) {
  return parse_quantity(text, kFrequency, ZeroIs::rejected, std::numeric_limits<uint64_t>::max());
}

}  // namespace scenarios
