#include "models/latency_histogram.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "sim/rng.h"

namespace models {
namespace {

uint64_t exact_percentile(std::vector<uint64_t> values, double q) {
  std::sort(values.begin(), values.end());
  const auto rank = std::max<uint64_t>(1, static_cast<uint64_t>(std::ceil(q * values.size())));
  return values[rank - 1];
}

TEST(LatencyHistogram, BucketsTileTheValueRange) {
  for (std::size_t i = 1; i < LatencyHistogram::kBucketCount; ++i)
    ASSERT_EQ(LatencyHistogram::bucket_lower(i), LatencyHistogram::bucket_upper(i - 1) + 1) << i;
  for (uint64_t v : {0ull, 1ull, 255ull, 256ull, 257ull, 1000ull, 123456789ull, (1ull << 62) + 5})
    EXPECT_LE(LatencyHistogram::bucket_lower(LatencyHistogram::bucket_of(v)), v);
  EXPECT_EQ(LatencyHistogram::bucket_of(INT64_MAX), LatencyHistogram::kBucketCount - 1);
}

TEST(LatencyHistogram, SmallValuesAreExact) {
  LatencyHistogram h;
  for (int v = 1; v <= 100; ++v) h.record(v);
  EXPECT_EQ(h.percentile(0.5), 50u);
  EXPECT_EQ(h.percentile(0.99), 99u);
  EXPECT_EQ(h.percentile(1.0), 100u);
  EXPECT_EQ(h.min(), 1u);
  EXPECT_EQ(h.max(), 100u);
  EXPECT_DOUBLE_EQ(h.mean(), 50.5);
}

TEST(LatencyHistogram, PercentilesMatchSortedValuesWithinBucketResolution) {
  sim::Rng rng(7);
  std::vector<uint64_t> values;
  LatencyHistogram h;
  for (int i = 0; i < 200'000; ++i) {
    // Log-normal-ish latencies from 1 us to tens of ms.
    const auto v = static_cast<uint64_t>(1000.0 * std::exp(rng.uniform() * 10.0));
    values.push_back(v);
    h.record(static_cast<int64_t>(v));
  }
  for (double q : {0.5, 0.9, 0.99, 0.999, 0.9999}) {
    const double exact = static_cast<double>(exact_percentile(values, q));
    const double got = static_cast<double>(h.percentile(q));
    EXPECT_LE(std::abs(got - exact), exact / LatencyHistogram::kSubBuckets) << "q=" << q;
  }
  EXPECT_EQ(h.count(), values.size());
}

TEST(LatencyHistogram, MergeEqualsRecordingEverythingInOne) {
  LatencyHistogram a, b, all;
  for (int i = 0; i < 1000; ++i) {
    (i % 2 ? a : b).record(i * 37);
    all.record(i * 37);
  }
  a.merge(b);
  EXPECT_EQ(a.count(), all.count());
  for (double q : {0.1, 0.5, 0.99}) EXPECT_EQ(a.percentile(q), all.percentile(q));
  uint64_t total = 0;
  for (const auto& bucket : a.buckets()) total += bucket.count;
  EXPECT_EQ(total, 1000u);
}

TEST(LatencyHistogram, EmptyHistogramReportsZero) {
  LatencyHistogram h;
  EXPECT_EQ(h.percentile(0.99), 0u);
  EXPECT_EQ(h.count(), 0u);
  h.record(-5);  // clamped to 0
  EXPECT_EQ(h.max(), 0u);
}

}  // namespace
}  // namespace models
