#pragma once
// A log-bucketed histogram of non-negative integer values (one-way latencies in ns), in the
// style of HdrHistogram: each power of two is split into kSubBuckets linear sub-buckets, so a
// value v is kept within a bucket of width at most v / kSubBuckets (relative resolution 2^-7,
// under 0.8%), and values below 2 * kSubBuckets are kept exactly.
//
// Percentiles use the nearest-rank definition (the smallest recorded value with at least
// q * count values at or below it); the answer is the midpoint of the bucket holding that value,
// clamped to the recorded min and max, so it is within the bucket's resolution of the exact
// value. record() is a few integer operations on a fixed array: it never allocates.

#include <array>
#include <cstdint>
#include <vector>

namespace models {

class LatencyHistogram {
 public:
  static constexpr int kSubBucketBits = 7;
  static constexpr uint64_t kSubBuckets = uint64_t{1} << kSubBucketBits;  // 128
  // Values up to 2^63 - 1: shifts 0..(62 - kSubBucketBits), kSubBuckets buckets each, plus the
  // exact range [0, 2 * kSubBuckets).
  static constexpr std::size_t kBucketCount = (64 - kSubBucketBits) * kSubBuckets;

  void record(int64_t value) {
    const uint64_t v = value < 0 ? 0 : static_cast<uint64_t>(value);
    ++counts_[bucket_of(v)];
    ++count_;
    sum_ += v;
    if (v < min_) min_ = v;
    if (v > max_) max_ = v;
  }
  void merge(const LatencyHistogram& other);
  void reset();

  uint64_t count() const { return count_; }
  uint64_t min() const { return count_ ? min_ : 0; }
  uint64_t max() const { return max_; }
  double mean() const { return count_ ? static_cast<double>(sum_) / static_cast<double>(count_) : 0; }
  // q in [0, 1]; 0 if nothing was recorded.
  uint64_t percentile(double q) const;

  // The non-empty buckets, for the result file: [lower, upper] inclusive value bounds and count.
  struct Bucket {
    uint64_t lower;
    uint64_t upper;
    uint64_t count;
  };
  std::vector<Bucket> buckets() const;

  static std::size_t bucket_of(uint64_t v) {
    if (v < 2 * kSubBuckets) return static_cast<std::size_t>(v);
    const int top = 63 - __builtin_clzll(v);  // >= kSubBucketBits + 1
    const int shift = top - kSubBucketBits;
    return static_cast<std::size_t>((static_cast<uint64_t>(shift) + 1) * kSubBuckets +
                                    (v >> shift) - kSubBuckets);
  }
  static uint64_t bucket_lower(std::size_t index);
  static uint64_t bucket_upper(std::size_t index);

 private:
  std::array<uint64_t, kBucketCount> counts_{};
  uint64_t count_ = 0;
  uint64_t sum_ = 0;
  uint64_t min_ = UINT64_MAX;
  uint64_t max_ = 0;
};

}  // namespace models
