#pragma once
// The pre-copy live-migration algorithm (QEMU, vMotion), as a small state machine that the
// caller drives with the measured duration of each round's transfer over the fabric:
//
//   round 1 copies all of memory while the VM runs; the VM dirties memory at dirty_rate while a
//   round is under way, so round i+1 copies what round i left dirty (at most all of memory).
//   After each round, if the remaining dirty memory could be sent within max_downtime at the
//   stream's bandwidth (QEMU's downtime-limit test), or max_rounds rounds have run, the VM
//   stops and the remainder is copied with the VM stopped (stop-and-copy).
//
// Dirtying is modelled as a uniform rate over the whole memory (no working-set saturation other
// than the memory size itself): pages written twice within a round count once only through that
// cap. Bytes are whole pages' worth of bytes; no compression, no zero-page skipping.

#include <cstdint>

#include "sim/time.h"
#include "sim/units.h"

namespace models::migration {

struct PrecopyParams {
  sim::Bytes memory{4ULL * 1024 * 1024 * 1024};  // bytes; guest memory to copy
  sim::DataRate dirty_rate = sim::DataRate::bps(800'000'000);  // bits/s written by the guest (100 MB/s)
  sim::DataRate bandwidth = sim::DataRate::gbps(10);  // bits/s; the migration stream's rate limit
  sim::Time max_downtime = sim::Millis(100);     // ns; stop when remaining / bandwidth <= this
  uint32_t max_rounds = 30;                       // count; pre-copy rounds before forcing the stop
};

class PrecopyModel {
 public:
  explicit PrecopyModel(const PrecopyParams& params);

  // What the caller must transfer next. kCopyRound: `bytes` while the VM runs, then call
  // round_done() with how long it took. kStopAndCopy: stop the VM and transfer `bytes` (plus any
  // device and firewall state); the model is finished.
  enum class Step : uint8_t { kCopyRound, kStopAndCopy };
  Step step() const { return step_; }
  uint64_t bytes() const { return bytes_; }

  // The current round's transfer took `duration`: computes the next step.
  void round_done(sim::Time duration);

  uint32_t rounds() const { return rounds_; }                // pre-copy rounds completed
  uint64_t precopy_bytes() const { return precopy_bytes_; }  // memory bytes sent while running

 private:
  PrecopyParams params_;
  Step step_ = Step::kCopyRound;
  uint64_t bytes_ = 0;
  uint32_t rounds_ = 0;
  uint64_t precopy_bytes_ = 0;
};

// Bytes a guest dirtying at `rate` writes in `duration` (rounded down).
uint64_t dirtied_bytes(sim::DataRate rate, sim::Time duration);

}  // namespace models::migration
