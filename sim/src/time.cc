#include "sim/time.h"

#include <cstdint>

namespace sim {

// Picks the largest unit not larger than |t| and prints the value in it exactly: the integer part,
// then the fraction with trailing zeros dropped ("1.5ms", "1.000001ms", "12s", "250ns").
std::string to_string(Time t) {
  const int64_t ns = t.ns();
  if (ns == 0) return "0ns";
  // The magnitude as unsigned, so that INT64_MIN has one too.
  const uint64_t magnitude = ns < 0 ? 0 - static_cast<uint64_t>(ns) : static_cast<uint64_t>(ns);
  struct Unit {
    uint64_t scale;
    int digits;  // decimal digits of the fraction at this unit
    const char* suffix;
  };
  static constexpr Unit kUnits[] = {
      {1'000'000'000, 9, "s"}, {1'000'000, 6, "ms"}, {1'000, 3, "us"}, {1, 0, "ns"}};
  for (const Unit& u : kUnits) {
    if (magnitude < u.scale) continue;
    std::string out = ns < 0 ? "-" : "";
    out += std::to_string(magnitude / u.scale);
    uint64_t fraction = magnitude % u.scale;
    if (fraction != 0) {
      int digits = u.digits;
      while (fraction % 10 == 0) {
        fraction /= 10;
        --digits;
      }
      const std::string text = std::to_string(fraction);
      out += '.';
      out.append(static_cast<std::size_t>(digits) - text.size(), '0');
      out += text;
    }
    return out + u.suffix;
  }
  return "0ns";  // not reached: magnitude >= 1
}

}  // namespace sim
