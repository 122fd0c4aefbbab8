#include "models/cost_model.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <string>

#include <unistd.h>

namespace models {
namespace {

std::string temp_path(const std::string& name) {
  return ::testing::TempDir() + "/" + name + "-" + std::to_string(::getpid()) + ".yaml";
}

void write_file(const std::string& path, const std::string& text) {
  std::ofstream(path) << text;
}

TEST(CostModel, ChargesBasePlusCoefficientsTimesCounters) {
  CostCoefficients c;
  c.base = 100;
  c.per_byte_parsed = 0.5;
  c.per_hash_probe = 10;
  c.per_classifier_step = 3;
  c.per_connection_created = 200;
  c.per_connection_destroyed = 50;
  c.per_frame_generated = 400;
  c.per_extra_segment = 20;
  c.per_wire_byte = 0.25;
  const CostModel model(c);
  dfw::WorkCounters w;
  w.bytes_parsed = 54;
  w.hash_probes = 2;
  w.classifier_steps = 7;
  w.conns_created = 1;
  Packet p;
  p.wire_size = 1000;
  p.segment_count = 3;
  EXPECT_EQ(model.cycles(w, p), 100u + 27 + 20 + 21 + 200 + 40 + 250);
  EXPECT_EQ(model.expiry_cycles(4), 200u);
  EXPECT_EQ(CostModel().cycles(w, p), 0u);  // switched off
}

TEST(CostModel, BundledDefaultCalibrationLoads) {
  Calibration calibration;
  std::string error;
  ASSERT_TRUE(load_calibration(default_calibration_path(), calibration, error)) << error;
  EXPECT_GT(calibration.coefficients.base, 0);
  EXPECT_GT(calibration.machine.clock_hz, 0u);
  EXPECT_FALSE(calibration.machine.method.empty());
}

TEST(CostModel, SaveThenLoadRoundTrips) {
  Calibration c;
  c.machine.cpu_model = "Test CPU: with colon";
  c.machine.clock_hz = 3'000'000'000;
  c.machine.measured_at = "2026-11-22";
  c.machine.method = "unit test";
  c.coefficients.base = 123.5;
  c.coefficients.per_classifier_step = 4.25;
  c.sample_count = 10;
  c.r_squared = 0.99;
  const std::string path = temp_path("calibration-roundtrip");
  std::string error;
  ASSERT_TRUE(save_calibration(path, c, error)) << error;
  Calibration back;
  ASSERT_TRUE(load_calibration(path, back, error)) << error;
  EXPECT_EQ(back.machine.cpu_model, c.machine.cpu_model);
  EXPECT_EQ(back.machine.clock_hz, c.machine.clock_hz);
  EXPECT_DOUBLE_EQ(back.coefficients.base, 123.5);
  EXPECT_DOUBLE_EQ(back.coefficients.per_classifier_step, 4.25);
  EXPECT_EQ(back.sample_count, 10u);
  std::remove(path.c_str());
}

TEST(CostModel, BadFilesNameFileLineAndField) {
  const std::string path = temp_path("calibration-bad");
  std::string error;
  Calibration c;
  write_file(path,
             "coefficients:\n  base: 10\n  per_byte_parsed: 1\n  per_hash_probe: lots\n");
  EXPECT_FALSE(load_calibration(path, c, error));
  EXPECT_NE(error.find(path + ":4:"), std::string::npos) << error;
  EXPECT_NE(error.find("coefficients.per_hash_probe"), std::string::npos) << error;

  write_file(path, "coefficients:\n  base: 10\n  per_hash_prob: 1\n");
  EXPECT_FALSE(load_calibration(path, c, error));
  EXPECT_NE(error.find("coefficients.per_hash_prob: unknown key"), std::string::npos) << error;

  write_file(path, "coefficients:\n  base: -1\n");
  EXPECT_FALSE(load_calibration(path, c, error));
  EXPECT_NE(error.find("coefficients.base: must be a finite number >= 0"), std::string::npos) << error;

  write_file(path, "coefficients: [1, 2\n");
  EXPECT_FALSE(load_calibration(path, c, error));
  EXPECT_NE(error.find(path + ":"), std::string::npos) << error;

  EXPECT_FALSE(load_calibration(path + ".missing", c, error));
  EXPECT_NE(error.find("cannot open"), std::string::npos) << error;
  std::remove(path.c_str());
}

}  // namespace
}  // namespace models
