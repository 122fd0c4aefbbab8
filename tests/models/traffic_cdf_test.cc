// Flow-size CDF: both file formats, inverse-transform sampling, piecewise-linear mean, bad files.
#include <gtest/gtest.h>

#include <string>

#include "models/traffic/flow_size_cdf.h"

namespace models::traffic {
namespace {

const std::string kData = std::string(SEGSIM_SHARED_DATA_DIR) + "/flow-size-cdfs/";

TEST(TrafficCdf, PercentAndProbabilityFilesAgree) {
  // The same web-search distribution in both formats (SOURCE.md).
  FlowSizeCdf percent, probability;
  std::string error;
  ASSERT_TRUE(FlowSizeCdf::load(kData + "hpcc_WebSearch_distribution.txt", percent, error)) << error;
  ASSERT_TRUE(FlowSizeCdf::load(kData + "hkust-tg_DCTCP_CDF.txt", probability, error)) << error;
  ASSERT_EQ(percent.points().size(), 12u);
  ASSERT_EQ(probability.points().size(), 12u);
  for (std::size_t i = 0; i < 12; ++i) {
    EXPECT_EQ(percent.points()[i].size, probability.points()[i].size);
    EXPECT_NEAR(percent.points()[i].cumulative, probability.points()[i].cumulative, 1e-12);
  }
  // Mean by hand: sum of (p_i - p_{i-1}) * (x_{i-1} + x_i) / 2 over the twelve points.
  const double expected = 0.15 * 5000 + 0.05 * 15000 + 0.10 * 25000 + 0.10 * 40000 +
                          0.13 * 65000 + 0.07 * 140000 + 0.10 * 600000 + 0.10 * 1500000 +
                          0.10 * 3500000 + 0.07 * 7500000 + 0.03 * 20000000;
  EXPECT_NEAR(percent.mean(), expected, 1e-6 * expected);
  EXPECT_NEAR(probability.mean(), expected, 1e-6 * expected);
}

TEST(TrafficCdf, EveryBundledFileLoads) {
  for (const char* name : {"hpcc_WebSearch_distribution.txt", "hpcc_FbHdp_distribution.txt",
                           "hpcc_AliStorage2019.txt", "hpcc_GoogleRPC2008.txt",
                           "hkust-tg_VL2_CDF.txt", "hkust-tg_FB_CDF.txt",
                           "hkust-tg_DCTCP_CDF.txt"}) {
    FlowSizeCdf cdf;
    std::string error;
    EXPECT_TRUE(FlowSizeCdf::load(kData + name, cdf, error)) << name << ": " << error;
    EXPECT_GT(cdf.mean(), 0) << name;
    EXPECT_EQ(cdf.points().back().cumulative, 1.0) << name;
  }
}

TEST(TrafficCdf, QuantilesInterpolateLinearly) {
  FlowSizeCdf cdf;
  std::string error;
  ASSERT_TRUE(FlowSizeCdf::parse("0 0\n100 50\n300 100\n", "inline", cdf, error)) << error;
  EXPECT_DOUBLE_EQ(cdf.mean(), 0.5 * 50 + 0.5 * 200);
  EXPECT_DOUBLE_EQ(cdf.quantile(0.0), 0);
  EXPECT_DOUBLE_EQ(cdf.quantile(0.25), 50);
  EXPECT_DOUBLE_EQ(cdf.quantile(0.5), 100);
  EXPECT_DOUBLE_EQ(cdf.quantile(0.75), 200);
  EXPECT_DOUBLE_EQ(cdf.quantile(1.0), 300);
  EXPECT_EQ(cdf.size_at(0.0), 1u);  // a flow carries at least one byte
  EXPECT_EQ(cdf.size_at(0.126), 25u);
}

TEST(TrafficCdf, AtomAtTheFirstPoint) {
  // 40% of flows are exactly 1000 bytes, the rest uniform in (1000, 2000].
  FlowSizeCdf cdf;
  std::string error;
  ASSERT_TRUE(FlowSizeCdf::parse("1000 0.4\n2000 1\n", "atom", cdf, error)) << error;
  EXPECT_DOUBLE_EQ(cdf.quantile(0.2), 1000);
  EXPECT_DOUBLE_EQ(cdf.quantile(0.7), 1500);
  EXPECT_DOUBLE_EQ(cdf.mean(), 0.4 * 1000 + 0.6 * 1500);
}

TEST(TrafficCdf, SampleMeanMatchesPiecewiseLinearMean) {
  FlowSizeCdf cdf;
  std::string error;
  ASSERT_TRUE(FlowSizeCdf::load(kData + "hpcc_FbHdp_distribution.txt", cdf, error)) << error;
  sim::Rng rng(42);
  const int n = 400000;
  double sum = 0;
  for (int i = 0; i < n; ++i) sum += static_cast<double>(cdf.sample(rng));
  // The distribution is heavy-tailed (max 10 MB, mean ~ 250 KB): a 3% band is ~4 standard errors.
  EXPECT_NEAR(sum / n, cdf.mean(), 0.03 * cdf.mean());
}

struct BadCase {
  const char* text;
  const char* message;
};

TEST(TrafficCdf, BadFilesNameFileAndLine) {
  const BadCase cases[] = {
      {"0 0\n100 50\n90 100\n", "bad.txt:3: size_bytes must increase strictly"},
      {"0 0\n100 50\n200 50\n300 100\n", "bad.txt:3: cumulative must increase strictly"},
      {"0 0\n100 50\n200 99\n", "bad.txt:3: cumulative: the last point must be 100"},
      {"0 0\n100 0.5 7\n200 1\n", "bad.txt:2: expected two columns"},
      {"0 0\n\n# comment\nabc 0.5\n200 1\n", "bad.txt:4: size_bytes: not a non-negative number"},
      {"0 0\n100 x\n", "bad.txt:2: cumulative: not a non-negative number"},
      {"0 0\n-5 0.5\n", "bad.txt:2: size_bytes: not a non-negative number"},
      {"", "bad.txt: no CDF points"},
      {"0 1\n", "bad.txt:1: the distribution has no mass above 0 bytes"},
  };
  for (const BadCase& c : cases) {
    FlowSizeCdf cdf;
    std::string error;
    EXPECT_FALSE(FlowSizeCdf::parse(c.text, "bad.txt", cdf, error)) << c.text;
    EXPECT_NE(error.find(c.message), std::string::npos) << "got: " << error;
  }
  FlowSizeCdf cdf;
  std::string error;
  EXPECT_FALSE(FlowSizeCdf::load("/nonexistent/cdf.txt", cdf, error));
  EXPECT_NE(error.find("/nonexistent/cdf.txt: cannot open"), std::string::npos) << error;
}

}  // namespace
}  // namespace models::traffic
