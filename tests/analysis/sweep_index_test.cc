// The sweep index (analysis/sweep_index.h): one row per point with its parameters, status and
// the numbers of its result's /summary (NaN for a point without one), paths relative to the
// index, and nothing left behind when it cannot be written.

#include "analysis/sweep_index.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>

#include "analysis/result_reader.h"
#include "analysis/result_writer.h"
#include "temp_dir.h"

namespace analysis {
namespace {

using testing::TempDir;

void write_point_result(const std::string& path, uint64_t flows, double cycles) {
  std::string error;
  auto writer = ResultWriter::create(path, error);
  ASSERT_TRUE(writer) << error;
  ASSERT_TRUE(writer->write_table("/summary",
                                  {{"flows_started", "flows", std::vector<uint64_t>{flows}},
                                   {"firewall_cycles_per_packet", "cycles", std::vector<double>{cycles}},
                                   {"seed", "1", std::vector<uint64_t>{99}}},
                                  error))
      << error;
  ASSERT_TRUE(writer->commit(error)) << error;
}

TEST(SweepIndexTest, ListsEveryPointWithItsParametersStatusAndSummary) {
  TempDir dir;
  write_point_result(dir.file("point-000.h5"), 10, 200.5);
  write_point_result(dir.file("point-002.h5"), 30, 250);
  SweepIndex index;
  index.scenario_path = "quickstart.yaml";
  index.parameters = {"traffic.0.load", "seed"};
  index.parameter_values = {"0.1,0.2,0.4", "1"};
  index.common_overrides = {"duration=50ms"};
  index.points = {
      {{"0.1", "1"}, dir.file("point-000.h5"), 0, "ok", ""},
      {{"0.2", "1"}, dir.file("point-001.h5"), 2, "failed", "segsim run: bad"},
      {{"0.4", "1"}, dir.file("point-002.h5"), 0, "ok", ""},
  };
  std::string error;
  ASSERT_TRUE(write_sweep_index(index, dir.file("index.h5"), error)) << error;

  const auto reader = ResultReader::open(dir.file("index.h5"), error);
  ASSERT_TRUE(reader) << error;
  EXPECT_EQ(to_display_string(*reader->meta("kind")), "sweep-index");
  EXPECT_EQ(to_display_string(*reader->meta("overrides")), "duration=50ms\n");
  const auto points = reader->table("/points");
  ASSERT_TRUE(points);
  std::vector<std::string> names;
  for (const ColumnInfo& c : points->columns) names.push_back(c.name);
  // The summary's `seed` is left out: the parameter of that name comes first.
  EXPECT_THAT(names, ::testing::ElementsAre("point", "traffic.0.load", "seed", "result_path", "exit_code", "status",
                                            "error", "flows_started", "firewall_cycles_per_packet"));
  std::vector<std::string> strings;
  ASSERT_TRUE(reader->read_strings("/points/traffic.0.load", strings, error));
  EXPECT_EQ(strings, (std::vector<std::string>{"0.1", "0.2", "0.4"}));
  ASSERT_TRUE(reader->read_strings("/points/result_path", strings, error));
  EXPECT_EQ(strings, (std::vector<std::string>{"point-000.h5", "point-001.h5", "point-002.h5"}));
  ASSERT_TRUE(reader->read_strings("/points/status", strings, error));
  EXPECT_EQ(strings, (std::vector<std::string>{"ok", "failed", "ok"}));
  ASSERT_TRUE(reader->read_strings("/points/error", strings, error));
  EXPECT_EQ(strings[1], "segsim run: bad");
  std::vector<int64_t> exit_codes;
  ASSERT_TRUE(reader->read_int64("/points/exit_code", exit_codes, error));
  EXPECT_EQ(exit_codes, (std::vector<int64_t>{0, 2, 0}));
  std::vector<double> flows, cycles;
  ASSERT_TRUE(reader->read_doubles("/points/flows_started", flows, error));
  ASSERT_TRUE(reader->read_doubles("/points/firewall_cycles_per_packet", cycles, error));
  EXPECT_EQ(flows[0], 10);
  EXPECT_TRUE(std::isnan(flows[1]));
  EXPECT_EQ(flows[2], 30);
  EXPECT_EQ(cycles[0], 200.5);
  for (const ColumnInfo& c : points->columns) {
    if (c.name == "firewall_cycles_per_packet") {
      EXPECT_EQ(c.units, "cycles");
    }
  }
  ASSERT_TRUE(reader->read_strings("/parameters/values", strings, error));
  EXPECT_EQ(strings, (std::vector<std::string>{"0.1,0.2,0.4", "1"}));
}

TEST(SweepIndexTest, AnUnwritableIndexLeavesNoFile) {
  TempDir dir;
  SweepIndex index;
  index.parameters = {"seed"};
  index.parameter_values = {"1"};
  index.points = {{{"1"}, dir.file("point-000.h5"), 1, "failed", "x"}};
  std::string error;
  EXPECT_FALSE(write_sweep_index(index, dir.file("missing/index.h5"), error));
  EXPECT_FALSE(error.empty());
  EXPECT_TRUE(dir.entries().empty());
}

}  // namespace
}  // namespace analysis
