#pragma once
// Calibration of the cost model against the real dfw library (what `segsim calibrate` runs).
//
// The sweep runs the real datapath natively, on this machine, over rule-set sizes, connection
// counts and packet mixes, and times batches of packets with the wall clock:
//  - new-connection path: first packets of distinct UDP/TCP flows (IPv4 and IPv6), classified
//    against rule sets of each size, each creating a connection;
//  - established path: later packets of the same flows (connection-table hits);
//  - reject path: flows a reject rule answers with an ICMP unreachable / TCP RST;
//  - expiry: expire() over tables of each size, for the per-connection teardown cost.
// Each batch gives one sample: the mean work counters per packet (as dfw reports them) and the
// mean cycles per packet (CPU ns x clock_hz). Tables are warmed before timing (steady state:
// their memory already allocated and touched), and the fastest of `repetitions` runs is kept, the
// usual way to suppress scheduler noise. Least squares over all samples, constrained to
// non-negative coefficients (a coefficient the fit drives negative is dropped and the rest refit),
// gives base, per_byte_parsed, per_hash_probe, per_classifier_step, per_connection_created and
// per_frame_generated; per_connection_destroyed comes from the expiry timings. dfw never touches
// payload bytes, so per_wire_byte and per_extra_segment stay 0 (docs/cost-model.md).
//
// This is the only place measured time meets the cost model; simulations use the resulting
// file and stay deterministic.

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "models/cost_model.h"

namespace models {

struct CalibrationOptions {
  std::vector<uint32_t> rule_counts{10, 100, 1000, 5000};  // rules per port, one sweep each
  std::vector<uint32_t> flow_counts{1000, 20000};          // distinct flows (live connections)
  uint32_t sweeps = 3;                 // whole sweeps (fresh rules and flows each), pooled
  uint32_t repetitions = 5;            // timed runs per sample; the fastest is kept
  uint32_t established_passes = 4;     // passes over the flows on the established path
  uint64_t clock_hz = 0;               // Hz; 0: the nominal clock from /proc/cpuinfo
  uint64_t seed = 1;                   // rule and address generation
  std::function<void(std::string_view)> progress;  // optional: one line per sample
};

// One timed batch: mean dfw work per packet and mean cycles per packet.
struct CalibrationSample {
  std::string label;                 // e.g. "new udp4 rules=100 flows=1000"
  double bytes_parsed = 0;
  double hash_probes = 0;
  double classifier_steps = 0;
  double conns_created = 0;
  double frames_generated = 0;
  double cycles = 0;
};

// Runs the sweep and fits. On bad options (an empty sweep, zero repetitions, an unknown clock)
// returns false with `error`. `samples`, if given, receives every sample.
bool calibrate(const CalibrationOptions& options, Calibration& out, std::string& error,
               std::vector<CalibrationSample>* samples = nullptr);

// The fit alone: non-negative least squares of cycles on the work counters (with an intercept,
// `base`). Fills base, per_byte_parsed, per_hash_probe, per_classifier_step,
// per_connection_created and per_frame_generated of `out`; returns the fit's R^2.
double fit_coefficients(const std::vector<CalibrationSample>& samples, CostCoefficients& out);

// The CPU's model name and nominal clock (Hz) from /proc/cpuinfo; clock 0 if unknown.
CalibrationMachine describe_this_machine();

}  // namespace models
