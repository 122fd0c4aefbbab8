// An interrupted run leaves no file: the signal handler installed with the first writer removes
// live temporary files before the process dies of the signal.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <csignal>
#include <fstream>

#include "analysis/result_writer.h"
#include "analysis/temp_file_registry.h"
#include "temp_dir.h"

namespace analysis {
namespace {

using testing::TempDir;

void write_then_die_of(const std::string& path, int signal_number) {
  std::string error;
  auto writer = ResultWriter::create(path, error);
  if (!writer) std::_Exit(3);
  writer->set_meta("seed", 1);
  std::raise(signal_number);
  std::_Exit(4);  // not reached: the signal kills the process
}

TEST(TempFileCleanupTest, SigtermRemovesTheTemporaryFile) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  TempDir dir;
  const std::string path = dir.file("run.h5");
  EXPECT_EXIT(write_then_die_of(path, SIGTERM), ::testing::KilledBySignal(SIGTERM), "");
  EXPECT_TRUE(dir.entries().empty());
}

TEST(TempFileCleanupTest, SigintRemovesTheTemporaryFile) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  TempDir dir;
  const std::string path = dir.file("run.h5");
  EXPECT_EXIT(write_then_die_of(path, SIGINT), ::testing::KilledBySignal(SIGINT), "");
  EXPECT_TRUE(dir.entries().empty());
}

TEST(TempFileCleanupTest, RegistryRemovesOnlyRegisteredFiles) {
  TempDir dir;
  const std::string registered = dir.file("a.tmp");
  const std::string other = dir.file("b.tmp");
  std::ofstream(registered) << "x";
  std::ofstream(other) << "x";
  ASSERT_TRUE(register_temp_file(registered));
  remove_registered_temp_files();
  unregister_temp_file(registered);
  EXPECT_THAT(dir.entries(), ::testing::ElementsAre("b.tmp"));
}

}  // namespace
}  // namespace analysis
