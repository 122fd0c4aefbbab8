#pragma once
// The one-line progress display of `segsim run` on a terminal: simulated time, wall time,
// events per second and an estimate of the time left. Redrawn in place with '\r'.

#include <cstdio>
#include <string>

#include "sim/kernel.h"

namespace segsim::cli {

inline void draw_progress(std::FILE* out, const sim::Progress& p) {
  const double done = p.end.ns() > 0 ? static_cast<double>(p.now.ns()) / static_cast<double>(p.end.ns()) : 1.0;
  const double eta = done > 0 ? p.wall_seconds * (1.0 - done) / done : 0;
  std::fprintf(out, "\r  sim %s / %s (%3.0f%%)  wall %.1fs  %.2f M events/s  ETA %.0fs   ",
               sim::to_string(p.now).c_str(), sim::to_string(p.end).c_str(), 100.0 * done, p.wall_seconds,
               p.events_per_second / 1e6, eta);
  std::fflush(out);
}

inline void clear_progress(std::FILE* out) {
  std::fprintf(out, "\r%90s\r", "");
  std::fflush(out);
}

}  // namespace segsim::cli
