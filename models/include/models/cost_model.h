#pragma once
// The cost model: how many CPU cycles a host core spends on one packet.
//
//   cycles = base + per_byte_parsed x bytes_parsed + per_hash_probe x hash_probes
//          + per_classifier_step x classifier_steps + per_connection_created x conns_created
//          + per_connection_destroyed x conns_destroyed + per_frame_generated x frames_generated
//          + per_extra_segment x (segment_count - 1) + per_wire_byte x wire_size
//
// The work counters come from the real dfw datapath for that very packet (dfw::Result::work);
// the coefficients come from a calibration file measured on a real machine (`segsim calibrate`,
// see calibrate.h and docs/cost-model.md). A host core at clock_hz needs cycles / clock_hz
// seconds, i.e. cycles are taken to be independent of the clock rate (a first-order model).
// The simulation only ever multiplies counters by coefficients: results never depend on the
// wall clock of the machine running the simulation.

#include <cmath>
#include <cstdint>
#include <string>

#include "dfw/types.h"
#include "models/packet.h"

namespace models {

struct CostCoefficients {  // all in cycles (of the calibration machine)
  double base = 0;                      // cycles per packet (vSwitch + dfw fixed path)
  double per_byte_parsed = 0;           // cycles per header byte the parser read
  double per_hash_probe = 0;            // cycles per connection/fragment table bucket visited
  double per_classifier_step = 0;       // cycles per classifier node visited or rule compared
  double per_connection_created = 0;    // cycles per connection inserted
  double per_connection_destroyed = 0;  // cycles per connection removed
  double per_frame_generated = 0;       // cycles per RST / ICMP unreachable built
  double per_extra_segment = 0;         // cycles per offload segment beyond the first
  double per_wire_byte = 0;             // cycles per byte on the wire (copies, checksums)
};

// Where a calibration was measured; written into the file and into every result file.
struct CalibrationMachine {
  std::string cpu_model;         // e.g. /proc/cpuinfo "model name"
  uint64_t clock_hz = 0;         // Hz; nominal clock used to convert ns to cycles
  std::string measured_at;       // ISO 8601 date (UTC)
  std::string method;            // how the numbers were obtained
};

struct Calibration {
  CalibrationMachine machine;
  CostCoefficients coefficients;
  uint64_t sample_count = 0;  // measurements behind the fit (0: not a fit)
  double r_squared = 0;       // goodness of the least-squares fit, 1 = perfect
};

// Reads a calibration file (YAML: `machine:` and `coefficients:` maps, see
// models/host/calibration/default.yaml). On error returns false and sets `error` to
// "<path>:<line>:<column>: <field>: <problem>".
bool load_calibration(const std::string& path, Calibration& out, std::string& error);
// Writes a calibration file; false with `error` if the file cannot be written.
bool save_calibration(const std::string& path, const Calibration& calibration, std::string& error);
// The bundled default calibration's path (models/host/calibration/default.yaml in the source tree).
std::string default_calibration_path();

class CostModel {
 public:
  // A model that charges nothing: for runs with the cost model switched off.
  CostModel() = default;
  explicit CostModel(const CostCoefficients& coefficients) : c_(coefficients), enabled_(true) {}

  bool enabled() const { return enabled_; }
  const CostCoefficients& coefficients() const { return c_; }

  // Cycles for one packet given the dfw work it caused (zero work: a packet the vSwitch handled
  // without dfw, e.g. a frame dfw generated).
  uint64_t cycles(const dfw::WorkCounters& w, const Packet& packet) const {
    if (!enabled_) return 0;
    const double extra_segments = packet.segment_count > 1 ? packet.segment_count - 1 : 0;
    const double total = c_.base + c_.per_byte_parsed * w.bytes_parsed +
                         c_.per_hash_probe * w.hash_probes +
                         c_.per_classifier_step * w.classifier_steps +
                         c_.per_connection_created * w.conns_created +
                         c_.per_connection_destroyed * w.conns_destroyed +
                         c_.per_frame_generated * w.frames_generated +
                         c_.per_extra_segment * extra_segments +
                         c_.per_wire_byte * packet.wire_size;
    return round_cycles(total);
  }
  // Cycles of an expiry sweep that removed `connections` connections (not tied to a packet).
  uint64_t expiry_cycles(uint64_t connections) const {
    if (!enabled_) return 0;
    const double total = c_.per_connection_destroyed * static_cast<double>(connections);
    return round_cycles(total);
  }

 private:
  // std::llround for the non-negative case (halves away from zero), without the libm call on
  // every packet: x - trunc(x) is exact for any double, so the comparison with 0.5 is too.
  static uint64_t round_cycles(double total) {
    if (!(total > 0)) return 0;
    if (total >= 9.0e18) return static_cast<uint64_t>(std::llround(total));
    auto whole = static_cast<uint64_t>(total);
    if (total - static_cast<double>(whole) >= 0.5) ++whole;
    return whole;
  }

  CostCoefficients c_;
  bool enabled_ = false;
};

}  // namespace models
