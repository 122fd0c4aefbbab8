#include "sim/time.h"

#include <cstdio>

namespace sim {

std::string to_string(Time t) {
  const int64_t ns = t.ns();
  struct Unit {
    int64_t scale;
    const char* suffix;
  };
  static constexpr Unit kUnits[] = {{1'000'000'000, "s"}, {1'000'000, "ms"}, {1'000, "us"}};
  for (const Unit& u : kUnits) {
    if (ns != 0 && ns % u.scale == 0) return std::to_string(ns / u.scale) + u.suffix;
  }
  for (const Unit& u : kUnits) {
    if (ns >= u.scale || ns <= -u.scale) {
      char buf[64];
      std::snprintf(buf, sizeof buf, "%.6g%s", static_cast<double>(ns) / static_cast<double>(u.scale), u.suffix);
      return buf;
    }
  }
  return std::to_string(ns) + "ns";
}

}  // namespace sim
