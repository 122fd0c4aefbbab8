#include "analysis/inspect.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <hdf5.h>

#include <fstream>
#include <sstream>

#include "analysis/result_writer.h"
#include "temp_dir.h"

namespace analysis {
namespace {

using ::testing::HasSubstr;
using testing::TempDir;

struct Outcome {
  int status;
  std::string out;
  std::string err;
};

Outcome inspect(const std::string& path) {
  std::ostringstream out;
  std::ostringstream err;
  const int status = inspect_file(path, out, err);
  return {status, out.str(), err.str()};
}

// An HDF5 file made by another tool: a group and, optionally, a /meta group without `format`.
void write_foreign_hdf5(const std::string& path, bool with_meta) {
  const hid_t file = H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
  const hid_t group =
      H5Gcreate2(file, with_meta ? "/meta" : "/data", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  H5Gclose(group);
  H5Fclose(file);
}

TEST(InspectTest, MissingFileIsBadInput) {
  TempDir dir;
  const Outcome outcome = inspect(dir.file("absent.h5"));
  EXPECT_EQ(outcome.status, 2);
  EXPECT_EQ(outcome.err, "segsim inspect: " + dir.file("absent.h5") + ": no such file\n");
  EXPECT_TRUE(outcome.out.empty());
}

TEST(InspectTest, NonHdf5FileIsBadInput) {
  TempDir dir;
  const std::string path = dir.file("notes.h5");
  std::ofstream(path) << "this is a text file, not HDF5\n";
  const Outcome outcome = inspect(path);
  EXPECT_EQ(outcome.status, 2);
  EXPECT_EQ(outcome.err, "segsim inspect: " + path + ": not an HDF5 file\n");
  EXPECT_TRUE(outcome.out.empty());
}

TEST(InspectTest, Hdf5FileWithoutMetaIsBadInput) {
  TempDir dir;
  const std::string path = dir.file("foreign.h5");
  write_foreign_hdf5(path, /*with_meta=*/false);
  const Outcome outcome = inspect(path);
  EXPECT_EQ(outcome.status, 2);
  EXPECT_EQ(outcome.err,
            "segsim inspect: " + path + ": not a segsim result file (no /meta group)\n");
}

TEST(InspectTest, MetaWithoutFormatIsBadInput) {
  TempDir dir;
  const std::string path = dir.file("foreign.h5");
  write_foreign_hdf5(path, /*with_meta=*/true);
  const Outcome outcome = inspect(path);
  EXPECT_EQ(outcome.status, 2);
  EXPECT_EQ(outcome.err, "segsim inspect: " + path +
                             ": not a segsim result file (/meta has no 'format' attribute)\n");
}

TEST(InspectTest, PrintsRunTablesAndSummary) {
  TempDir dir;
  const std::string path = dir.file("run.h5");
  std::string error;
  auto writer = ResultWriter::create(path, error);
  ASSERT_NE(writer, nullptr) << error;
  writer->set_meta(format::kScenarioNameKey, "two-hosts");
  writer->set_meta(format::kScenarioPathKey, "scenarios/two-hosts.yaml");
  writer->set_meta(format::kSeedKey, uint64_t{42});
  writer->set_meta(format::kScenarioTextKey, std::string("name: two-hosts\nseed: 42\n"));
  writer->set_wall("events_per_second", 2.5e6);
  ASSERT_TRUE(writer->write_table(
      "/flows",
      {{"start_ns", "ns", std::vector<int64_t>{1, 2, 3}},
       {"verdict", "1", std::vector<std::string>{"allow", "drop", "allow"}}},
      error))
      << error;
  ASSERT_TRUE(writer->write_table("/summary",
                                  {{"packets", "packets", std::vector<uint64_t>{123456}},
                                   {"p99_latency_ns", "ns", std::vector<double>{1500.5}}},
                                  error))
      << error;
  ASSERT_TRUE(writer->commit(error)) << error;

  const Outcome outcome = inspect(path);
  EXPECT_EQ(outcome.status, 0) << outcome.err;
  EXPECT_TRUE(outcome.err.empty());
  EXPECT_THAT(outcome.out, HasSubstr(path + ": segsim-result version 1\n"));
  EXPECT_THAT(outcome.out, HasSubstr("  scenario                two-hosts  (scenarios/two-hosts.yaml)\n"));
  EXPECT_THAT(outcome.out, HasSubstr("  seed                    42\n"));
  EXPECT_THAT(outcome.out, HasSubstr("  scenario_text           (text, 2 lines, 25 bytes)\n"));
  EXPECT_THAT(outcome.out, HasSubstr("  wall/events_per_second  2500000\n"));
  EXPECT_THAT(outcome.out, HasSubstr(" s)\n"));  // wall seconds
  EXPECT_THAT(outcome.out, HasSubstr("tables (2)\n"));
  EXPECT_THAT(outcome.out, HasSubstr("  /flows  3 rows\n"));
  EXPECT_THAT(outcome.out, HasSubstr("    start_ns  int64    ns\n"));
  EXPECT_THAT(outcome.out, HasSubstr("    verdict   string   1\n"));
  EXPECT_THAT(outcome.out, HasSubstr("summary\n"));
  EXPECT_THAT(outcome.out, HasSubstr("  packets         123456 packets\n"));
  EXPECT_THAT(outcome.out, HasSubstr("  p99_latency_ns  1500.5 ns\n"));
}

}  // namespace
}  // namespace analysis
