#include "analysis/table_appender.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "analysis/result_reader.h"
#include "analysis/result_writer.h"
#include "raw_chunks.h"
#include "temp_dir.h"

namespace analysis {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using testing::TempDir;

const std::vector<ColumnSpec> kFlowColumns = {
    {"start_ns", "ns", ColumnType::kInt64},
    {"bytes", "bytes", ColumnType::kUInt64},
    {"rate", "bit/s", ColumnType::kFloat64},
    {"verdict", "1", ColumnType::kString},
};

// Row i of the test table.
int64_t start_of(std::size_t i) { return static_cast<int64_t>(i) * 1000 - 5; }
uint64_t bytes_of(std::size_t i) { return (i * 2654435761u) % 100000; }
double rate_of(std::size_t i) { return static_cast<double>(i) / 3.0; }
std::string verdict_of(std::size_t i) { return i % 3 == 0 ? "drop" : "allow"; }

// Appends rows [0, total) in batches whose sizes cycle through `batch_sizes`.
void append_rows(TableAppender& appender, std::size_t total,
                 const std::vector<std::size_t>& batch_sizes) {
  std::vector<int64_t> starts;
  std::vector<uint64_t> bytes;
  std::vector<double> rates;
  std::vector<std::string> verdicts;
  std::size_t next = 0;
  for (std::size_t batch = 0; next < total; ++batch) {
    const std::size_t count = std::min(batch_sizes[batch % batch_sizes.size()], total - next);
    starts.clear();
    bytes.clear();
    rates.clear();
    verdicts.clear();
    for (std::size_t i = next; i < next + count; ++i) {
      starts.push_back(start_of(i));
      bytes.push_back(bytes_of(i));
      rates.push_back(rate_of(i));
      verdicts.push_back(verdict_of(i));
    }
    std::string error;
    ASSERT_TRUE(appender.append({starts, bytes, rates, verdicts}, error)) << error;
    next += count;
  }
}

void expect_rows(const ResultReader& reader, const std::string& group, std::size_t total) {
  std::string error;
  std::vector<int64_t> starts;
  std::vector<uint64_t> bytes;
  std::vector<double> rates;
  std::vector<std::string> verdicts;
  ASSERT_TRUE(reader.read_int64(group + "/start_ns", starts, error)) << error;
  ASSERT_TRUE(reader.read_uint64(group + "/bytes", bytes, error)) << error;
  ASSERT_TRUE(reader.read_doubles(group + "/rate", rates, error)) << error;
  ASSERT_TRUE(reader.read_strings(group + "/verdict", verdicts, error)) << error;
  ASSERT_EQ(starts.size(), total);
  ASSERT_EQ(bytes.size(), total);
  ASSERT_EQ(rates.size(), total);
  ASSERT_EQ(verdicts.size(), total);
  for (std::size_t i = 0; i < total; ++i) {
    ASSERT_EQ(starts[i], start_of(i)) << i;
    ASSERT_EQ(bytes[i], bytes_of(i)) << i;
    ASSERT_EQ(rates[i], rate_of(i)) << i;
    ASSERT_EQ(verdicts[i], verdict_of(i)) << i;
  }
}

TEST(TableAppenderTest, ManyBatchesRoundTrip) {
  TempDir dir;
  const std::string path = dir.file("run.h5");
  std::string error;
  auto writer = ResultWriter::create(path, error);
  ASSERT_NE(writer, nullptr) << error;
  auto appender = writer->append_table("/flows", kFlowColumns, error);
  ASSERT_NE(appender, nullptr) << error;
  constexpr std::size_t kRows = 50'000;  // three full chunks and a partial one
  append_rows(*appender, kRows, {1, 0, 977, 3, 16384, 2500});
  EXPECT_EQ(appender->row_count(), kRows);
  EXPECT_EQ(appender->group(), "/flows");
  ASSERT_TRUE(appender->finish(error)) << error;
  ASSERT_TRUE(writer->commit(error)) << error;

  auto reader = ResultReader::open(path, error);
  ASSERT_NE(reader, nullptr) << error;
  const auto table = reader->table("/flows");
  ASSERT_TRUE(table.has_value());
  EXPECT_EQ(table->row_count, kRows);
  ASSERT_EQ(table->columns.size(), 4u);
  EXPECT_EQ(table->columns[2].units, "bit/s");
  expect_rows(*reader, "/flows", kRows);
}

TEST(TableAppenderTest, BatchingDoesNotChangeTheStoredBytes) {
  TempDir dir;
  for (const auto& [name, batches] :
       {std::pair{"small.h5", std::vector<std::size_t>{7}},
        std::pair{"large.h5", std::vector<std::size_t>{20000}}}) {
    std::string error;
    auto writer = ResultWriter::create(dir.file(name), error);
    ASSERT_NE(writer, nullptr) << error;
    auto appender = writer->append_table("/flows", kFlowColumns, error);
    ASSERT_NE(appender, nullptr) << error;
    append_rows(*appender, 40'000, batches);
    ASSERT_TRUE(writer->commit(error)) << error;  // finishes the appender
  }
  for (const ColumnSpec& column : kFlowColumns) {
    bool ok_small = false, ok_large = false;
    const auto small = testing::raw_chunks(dir.file("small.h5"), "/flows/" + column.name, ok_small);
    const auto large = testing::raw_chunks(dir.file("large.h5"), "/flows/" + column.name, ok_large);
    EXPECT_TRUE(ok_small && ok_large);
    EXPECT_EQ(small.size(), 3u) << column.name;
    // String chunks hold global-heap references whose addresses depend on the heap's
    // allocation history, which the batch size does not change either.
    EXPECT_EQ(small, large) << column.name;
  }
}

TEST(TableAppenderTest, RejectsMismatchedBatchesAndAppendsNothing) {
  TempDir dir;
  const std::string path = dir.file("run.h5");
  std::string error;
  auto writer = ResultWriter::create(path, error);
  ASSERT_NE(writer, nullptr) << error;
  auto appender = writer->append_table("/flows", kFlowColumns, error);
  ASSERT_NE(appender, nullptr) << error;
  const std::vector<int64_t> starts = {1, 2};
  const std::vector<uint64_t> bytes = {10, 20};
  const std::vector<uint64_t> one_byte = {10};
  const std::vector<double> rates = {0.5, 1.5};
  const std::vector<std::string> verdicts = {"allow", "drop"};

  EXPECT_FALSE(appender->append({starts, bytes, rates}, error));
  EXPECT_EQ(error, "/flows: append got 3 columns, the table has 4");
  EXPECT_FALSE(appender->append({starts, one_byte, rates, verdicts}, error));
  EXPECT_EQ(error, "/flows: column 'bytes' has 1 values, column 'start_ns' has 2");
  EXPECT_FALSE(appender->append({starts, starts, rates, verdicts}, error));
  EXPECT_EQ(error, "/flows: column 'bytes' is declared uint64 but got int64 values");
  EXPECT_EQ(appender->row_count(), 0u);
  ASSERT_TRUE(appender->append({starts, bytes, rates, verdicts}, error)) << error;
  ASSERT_TRUE(writer->commit(error)) << error;

  auto reader = ResultReader::open(path, error);
  ASSERT_NE(reader, nullptr) << error;
  std::vector<int64_t> read;
  ASSERT_TRUE(reader->read_int64("/flows/start_ns", read, error)) << error;
  EXPECT_THAT(read, ElementsAre(1, 2));
}

TEST(TableAppenderTest, RejectsBadDeclarationsAndExistingGroups) {
  TempDir dir;
  std::string error;
  auto writer = ResultWriter::create(dir.file("run.h5"), error);
  ASSERT_NE(writer, nullptr) << error;
  EXPECT_EQ(writer->append_table("/flows", {{"a", "", ColumnType::kInt64}}, error), nullptr);
  EXPECT_THAT(error, HasSubstr("column 'a' has no units"));
  auto first = writer->append_table("/flows", kFlowColumns, error);
  ASSERT_NE(first, nullptr) << error;
  EXPECT_EQ(writer->append_table("/flows", kFlowColumns, error), nullptr);
  EXPECT_EQ(error, "/flows: exists already");
}

TEST(TableAppenderTest, CommitFinishesOpenAppendersAndLaterAppendsFail) {
  TempDir dir;
  const std::string path = dir.file("run.h5");
  std::string error;
  auto writer = ResultWriter::create(path, error);
  ASSERT_NE(writer, nullptr) << error;
  auto appender = writer->append_table("/drops", {{"time_ns", "ns", ColumnType::kInt64}}, error);
  ASSERT_NE(appender, nullptr) << error;
  const std::array<int64_t, 3> times = {5, 6, 7};
  ASSERT_TRUE(appender->append({std::span<const int64_t>(times)}, error)) << error;
  ASSERT_TRUE(writer->commit(error)) << error;
  EXPECT_FALSE(appender->append({std::span<const int64_t>(times)}, error));
  EXPECT_THAT(error, HasSubstr("after the table was finished"));

  auto reader = ResultReader::open(path, error);
  ASSERT_NE(reader, nullptr) << error;
  std::vector<int64_t> read;
  ASSERT_TRUE(reader->read_int64("/drops/time_ns", read, error)) << error;
  EXPECT_THAT(read, ElementsAre(5, 6, 7));
}

TEST(TableAppenderTest, AppenderOutlivingAnUncommittedWriterIsHarmless) {
  TempDir dir;
  std::string error;
  auto writer = ResultWriter::create(dir.file("run.h5"), error);
  ASSERT_NE(writer, nullptr) << error;
  auto appender = writer->append_table("/drops", {{"time_ns", "ns", ColumnType::kInt64}}, error);
  ASSERT_NE(appender, nullptr) << error;
  writer.reset();
  EXPECT_TRUE(dir.entries().empty());
  const std::vector<int64_t> times = {1};
  EXPECT_FALSE(appender->append({times}, error));
  EXPECT_FALSE(appender->finish(error));
}

TEST(TableAppenderTest, EmptyTableIsValid) {
  TempDir dir;
  const std::string path = dir.file("run.h5");
  std::string error;
  auto writer = ResultWriter::create(path, error);
  ASSERT_NE(writer, nullptr) << error;
  auto appender = writer->append_table("/drops", {{"reason", "1", ColumnType::kString}}, error);
  ASSERT_NE(appender, nullptr) << error;
  ASSERT_TRUE(appender->finish(error)) << error;
  ASSERT_TRUE(writer->commit(error)) << error;
  auto reader = ResultReader::open(path, error);
  ASSERT_NE(reader, nullptr) << error;
  const auto table = reader->table("/drops");
  ASSERT_TRUE(table.has_value());
  EXPECT_EQ(table->row_count, 0u);
  EXPECT_EQ(table->columns[0].units, "1");
}

}  // namespace
}  // namespace analysis
