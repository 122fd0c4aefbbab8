#include "models/calibrate.h"

#include <gtest/gtest.h>

#include <cmath>

#include "sim/rng.h"

namespace models {
namespace {

TEST(Calibrate, FitRecoversKnownCoefficientsFromExactSamples) {
  sim::Rng rng(3);
  std::vector<CalibrationSample> samples;
  for (int i = 0; i < 40; ++i) {
    CalibrationSample s;
    s.bytes_parsed = 40 + static_cast<double>(rng.below(60));
    s.hash_probes = 1 + static_cast<double>(rng.below(5));
    s.classifier_steps = static_cast<double>(rng.below(30));
    s.conns_created = static_cast<double>(rng.below(2));
    s.frames_generated = static_cast<double>(rng.below(2));
    s.cycles = 150 + 0.5 * s.bytes_parsed + 40 * s.hash_probes + 3 * s.classifier_steps +
               120 * s.conns_created + 60 * s.frames_generated;
    samples.push_back(s);
  }
  CostCoefficients c;
  const double r2 = fit_coefficients(samples, c);
  EXPECT_NEAR(r2, 1.0, 1e-9);
  EXPECT_NEAR(c.base, 150, 1e-6);
  EXPECT_NEAR(c.per_byte_parsed, 0.5, 1e-6);
  EXPECT_NEAR(c.per_hash_probe, 40, 1e-6);
  EXPECT_NEAR(c.per_classifier_step, 3, 1e-6);
  EXPECT_NEAR(c.per_connection_created, 120, 1e-6);
  EXPECT_NEAR(c.per_frame_generated, 60, 1e-6);
}

TEST(Calibrate, FitNeverReturnsNegativeCoefficients) {
  std::vector<CalibrationSample> samples;
  for (int i = 0; i < 20; ++i) {
    CalibrationSample s;
    s.hash_probes = i % 5;
    s.classifier_steps = i;
    s.cycles = 500 - 10.0 * i + 30 * s.hash_probes;  // steps "save" cycles: not physical
    samples.push_back(s);
  }
  CostCoefficients c;
  fit_coefficients(samples, c);
  EXPECT_GE(c.base, 0);
  EXPECT_GE(c.per_hash_probe, 0);
  EXPECT_EQ(c.per_classifier_step, 0);
}

TEST(Calibrate, SmallSweepOverTheRealDatapathProducesAUsableCalibration) {
  CalibrationOptions options;
  options.rule_counts = {10, 200};
  options.flow_counts = {300};
  options.sweeps = 1;
  options.repetitions = 1;
  options.established_passes = 1;
  options.clock_hz = 2'000'000'000;
  Calibration calibration;
  std::string error;
  std::vector<CalibrationSample> samples;
  ASSERT_TRUE(calibrate(options, calibration, error, &samples)) << error;
  // 2 rule counts x 1 flow count x (udp4, udp6: new/established/reject; tcp4: new/reject).
  EXPECT_EQ(samples.size(), 16u);
  EXPECT_EQ(calibration.sample_count, 16u);
  EXPECT_EQ(calibration.machine.clock_hz, 2'000'000'000u);
  for (const CalibrationSample& s : samples) {
    EXPECT_GT(s.cycles, 0) << s.label;
    EXPECT_GT(s.bytes_parsed, 0) << s.label;
    if (s.label.rfind("new", 0) == 0) {
      EXPECT_DOUBLE_EQ(s.conns_created, 1.0) << s.label;
    } else if (s.label.rfind("reject", 0) == 0) {
      EXPECT_DOUBLE_EQ(s.frames_generated, 1.0) << s.label;
    } else {
      EXPECT_EQ(s.classifier_steps, 0) << s.label;  // established: no classification
    }
  }
  const CostCoefficients& c = calibration.coefficients;
  for (double v : {c.base, c.per_byte_parsed, c.per_hash_probe, c.per_classifier_step,
                   c.per_connection_created, c.per_connection_destroyed, c.per_frame_generated})
    EXPECT_TRUE(std::isfinite(v) && v >= 0);
  EXPECT_GT(c.per_connection_destroyed, 0);

  options.sweeps = 0;
  EXPECT_FALSE(calibrate(options, calibration, error));
  EXPECT_NE(error.find("sweeps"), std::string::npos);
}

}  // namespace
}  // namespace models
