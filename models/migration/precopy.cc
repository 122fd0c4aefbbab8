#include "models/migration/precopy.h"

#include <algorithm>

namespace models::migration {

uint64_t dirtied_bytes(sim::DataRate rate, sim::Time duration) {
  const unsigned __int128 bits =
      static_cast<unsigned __int128>(rate.bits_per_second()) * static_cast<uint64_t>(std::max<int64_t>(duration.ns(), 0));
  return static_cast<uint64_t>(bits / 8 / 1'000'000'000ULL);
}

PrecopyModel::PrecopyModel(const PrecopyParams& params) : params_(params), bytes_(params.memory.count()) {
  // Empty memory has nothing to pre-copy: straight to the stop (device state only).
  if (bytes_ == 0) step_ = Step::kStopAndCopy;
}

void PrecopyModel::round_done(sim::Time duration) {
  if (step_ != Step::kCopyRound) return;
  ++rounds_;
  precopy_bytes_ += bytes_;
  const uint64_t dirty = std::min(dirtied_bytes(params_.dirty_rate, duration), params_.memory.count());
  // Expected downtime if we stopped now: what is dirty, at the stream's rate.
  const bool fits = params_.bandwidth.transmit_time(sim::Bytes(dirty)) <= params_.max_downtime;
  bytes_ = dirty;
  if (fits || dirty == 0 || rounds_ >= params_.max_rounds) step_ = Step::kStopAndCopy;
}

}  // namespace models::migration
