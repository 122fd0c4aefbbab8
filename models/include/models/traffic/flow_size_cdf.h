#pragma once
// A piecewise-linear flow-size distribution read from a CDF table.
//
// File format (the two formats of ../shared/data/flow-size-cdfs/SOURCE.md): one point per line,
// `<size_bytes> <cumulative>` separated by whitespace. `cumulative` is either a percentage
// (0..100, the HPCC files) or a probability (0..1, the TrafficGenerator files); the scale is taken
// from the last point, which must be exactly 100 or exactly 1. Both columns must increase strictly
// (the first point may be `0 0`); blank lines and lines starting with '#' are ignored. The CDF is
// P(size <= x) with linear interpolation between points, and P = first cumulative value below the
// first point's size is treated as a jump at that size (an atom), as HPCC's reader does.
//
// Sampling is by inverse transform: draw u uniform in [0, 1), find the segment whose cumulative
// range holds u and interpolate the size linearly. The mean is the exact mean of that
// piecewise-linear distribution: sum over segments of (p_i - p_{i-1}) * (x_{i-1} + x_i) / 2, plus
// the atom at the first point. It is what the load -> arrival-rate conversion uses.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "sim/rng.h"

namespace models::traffic {

class FlowSizeCdf {
 public:
  struct Point {
    double size;        // bytes
    double cumulative;  // probability, 0..1
  };

  // Reads `path`. On error returns false and sets `error` to "path:line: message".
  static bool load(const std::string& path, FlowSizeCdf& out, std::string& error);
  // Parses `text` as if read from a file named `name` (used for messages only).
  static bool parse(std::string_view text, std::string_view name, FlowSizeCdf& out,
                    std::string& error);
  // Builds from points already scaled to probabilities; same validation as parse().
  static bool from_points(std::vector<Point> points, FlowSizeCdf& out, std::string& error);

  // A flow size in bytes (at least 1: a flow carries at least one byte).
  uint64_t sample(sim::Rng& rng) const { return size_at(rng.uniform()); }
  // The inverse CDF at u in [0, 1], before rounding to whole bytes.
  double quantile(double u) const;
  // Rounded inverse CDF, at least 1.
  uint64_t size_at(double u) const;
  double mean() const { return mean_; }
  const std::vector<Point>& points() const { return points_; }

 private:
  std::vector<Point> points_;
  double mean_ = 0;
};

}  // namespace models::traffic
