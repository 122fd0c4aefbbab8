#include "analysis/result_writer.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <filesystem>
#include <limits>
#include <string>
#include <vector>

#include "analysis/result_reader.h"
#include "raw_chunks.h"
#include "temp_dir.h"

namespace analysis {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using testing::TempDir;

std::unique_ptr<ResultWriter> create_or_fail(const std::string& path) {
  std::string error;
  auto writer = ResultWriter::create(path, error);
  EXPECT_NE(writer, nullptr) << error;
  return writer;
}

std::unique_ptr<ResultReader> open_or_fail(const std::string& path) {
  std::string error;
  auto reader = ResultReader::open(path, error);
  EXPECT_NE(reader, nullptr) << error;
  return reader;
}

std::vector<Column> every_type_columns() {
  return {
      {"flow_id", "1", std::vector<int64_t>{-3, 0, std::numeric_limits<int64_t>::max()}},
      {"bytes", "bytes", std::vector<uint64_t>{0, 1500, std::numeric_limits<uint64_t>::max()}},
      {"rtt_s", "s", std::vector<double>{-0.5, 1e-300, 1e300}},
      {"verdict", "1", std::vector<std::string>{"allow", "", "drop \xC3\xBC\xE2\x82\xAC"}},
  };
}

TEST(ResultWriterTest, RoundTripsEveryColumnTypeWithUnits) {
  TempDir dir;
  const std::string path = dir.file("run.h5");
  auto writer = create_or_fail(path);
  std::string error;
  ASSERT_TRUE(writer->write_table("/flows", every_type_columns(), error)) << error;
  ASSERT_TRUE(writer->commit(error)) << error;

  auto reader = open_or_fail(path);
  const auto table = reader->table("/flows");
  ASSERT_TRUE(table.has_value());
  EXPECT_EQ(table->row_count, 3u);
  ASSERT_EQ(table->columns.size(), 4u);
  // Columns keep the order they were written in, with their types and units.
  EXPECT_EQ(table->columns[0].name, "flow_id");
  EXPECT_EQ(table->columns[0].stored_type, "int64");
  EXPECT_EQ(table->columns[0].units, "1");
  EXPECT_EQ(table->columns[1].name, "bytes");
  EXPECT_EQ(table->columns[1].stored_type, "uint64");
  EXPECT_EQ(table->columns[1].units, "bytes");
  EXPECT_EQ(table->columns[2].name, "rtt_s");
  EXPECT_EQ(table->columns[2].stored_type, "float64");
  EXPECT_EQ(table->columns[2].units, "s");
  EXPECT_EQ(table->columns[3].name, "verdict");
  EXPECT_EQ(table->columns[3].type, ColumnType::kString);

  std::vector<int64_t> ids;
  ASSERT_TRUE(reader->read_int64("/flows/flow_id", ids, error)) << error;
  EXPECT_THAT(ids, ElementsAre(-3, 0, std::numeric_limits<int64_t>::max()));
  std::vector<uint64_t> bytes;
  ASSERT_TRUE(reader->read_uint64("/flows/bytes", bytes, error)) << error;
  EXPECT_THAT(bytes, ElementsAre(0u, 1500u, std::numeric_limits<uint64_t>::max()));
  std::vector<double> rtts;
  ASSERT_TRUE(reader->read_doubles("/flows/rtt_s", rtts, error)) << error;
  EXPECT_THAT(rtts, ElementsAre(-0.5, 1e-300, 1e300));
  std::vector<std::string> verdicts;
  ASSERT_TRUE(reader->read_strings("/flows/verdict", verdicts, error)) << error;
  EXPECT_THAT(verdicts, ElementsAre("allow", "", "drop \xC3\xBC\xE2\x82\xAC"));
}

TEST(ResultWriterTest, LargeColumnsAreChunkedAndRoundTrip) {
  TempDir dir;
  const std::string path = dir.file("run.h5");
  constexpr std::size_t kRows = 40000;  // more than two chunks
  std::vector<int64_t> times(kRows);
  std::vector<std::string> names(kRows);
  for (std::size_t i = 0; i < kRows; ++i) {
    times[i] = static_cast<int64_t>(i) * 1000;
    names[i] = "vm" + std::to_string(i % 97);
  }
  auto writer = create_or_fail(path);
  std::string error;
  ASSERT_TRUE(writer->write_table("/hosts/h1/series",
                                  {{"time_ns", "ns", times}, {"vm", "1", names}}, error))
      << error;
  ASSERT_TRUE(writer->commit(error)) << error;

  auto reader = open_or_fail(path);
  std::vector<int64_t> times_read;
  std::vector<std::string> names_read;
  ASSERT_TRUE(reader->read_int64("/hosts/h1/series/time_ns", times_read, error)) << error;
  ASSERT_TRUE(reader->read_strings("/hosts/h1/series/vm", names_read, error)) << error;
  EXPECT_EQ(times_read, times);
  EXPECT_EQ(names_read, names);
  bool ok = false;
  const auto chunks = testing::raw_chunks(path, "/hosts/h1/series/time_ns", ok);
  EXPECT_TRUE(ok);
  ASSERT_EQ(chunks.size(), 3u);
  // Shuffle + deflate work: 40000 regular int64 timestamps take far less than their 320 KB.
  std::size_t stored_size = 0;
  for (const auto& chunk : chunks) stored_size += chunk.size();
  EXPECT_LT(stored_size, 80'000u);
}

TEST(ResultWriterTest, MetaHoldsFormatVersionAndRunDescription) {
  TempDir dir;
  const std::string path = dir.file("run.h5");
  auto writer = create_or_fail(path);
  writer->set_meta(format::kScenarioNameKey, "example");
  writer->set_meta(format::kSeedKey, uint64_t{18446744073709551615u});
  writer->set_meta("duration_ns", 5);  // a plain int is stored as int64
  writer->set_meta("load", 0.75);
  writer->set_meta(format::kScenarioNameKey, std::string("renamed"));  // replaces
  writer->set_wall("events_per_second", 1.5e7);
  std::string error;
  ASSERT_TRUE(writer->commit(error)) << error;

  auto reader = open_or_fail(path);
  EXPECT_EQ(reader->format_version(), 1);
  EXPECT_EQ(reader->meta("format"), AttributeValue(std::string("segsim-result")));
  EXPECT_EQ(reader->meta("format_version"), AttributeValue(int64_t{1}));
  EXPECT_TRUE(reader->meta("segsim_version").has_value());
  EXPECT_TRUE(reader->meta("git_revision").has_value());
  EXPECT_EQ(reader->meta("scenario_name"), AttributeValue(std::string("renamed")));
  EXPECT_EQ(reader->meta("seed"), AttributeValue(uint64_t{18446744073709551615u}));
  EXPECT_EQ(reader->meta("duration_ns"), AttributeValue(int64_t{5}));
  EXPECT_EQ(reader->meta("load"), AttributeValue(0.75));
  EXPECT_EQ(reader->wall("events_per_second"), AttributeValue(1.5e7));
  ASSERT_TRUE(reader->wall("start_utc").has_value());
  EXPECT_EQ(std::get<std::string>(*reader->wall("start_utc")).size(),
            std::string("2026-01-01T00:00:00Z").size());
  EXPECT_TRUE(reader->wall("end_utc").has_value());
  ASSERT_TRUE(reader->wall("wall_seconds").has_value());
  EXPECT_GE(std::get<double>(*reader->wall("wall_seconds")), 0.0);
  // /meta and /meta/wall hold attributes only: they are not tables.
  EXPECT_TRUE(reader->tables().empty());
  EXPECT_THAT(reader->groups(), ElementsAre("/meta", "/meta/wall"));
}

TEST(ResultWriterTest, RejectsMismatchedColumnLengthsAndWritesNothing) {
  TempDir dir;
  const std::string path = dir.file("run.h5");
  auto writer = create_or_fail(path);
  std::string error;
  EXPECT_FALSE(writer->write_table(
      "/flows", {{"a", "1", std::vector<int64_t>{1, 2}}, {"b", "1", std::vector<double>{1.0}}},
      error));
  EXPECT_EQ(error, "/flows: column 'b' has 1 rows, column 'a' has 2");
  ASSERT_TRUE(writer->commit(error)) << error;
  auto reader = open_or_fail(path);
  EXPECT_FALSE(reader->table("/flows").has_value());
}

TEST(ResultWriterTest, RejectsBadColumnDeclarations) {
  TempDir dir;
  auto writer = create_or_fail(dir.file("run.h5"));
  std::string error;
  const auto one = std::vector<int64_t>{1};
  EXPECT_FALSE(writer->write_table("/t", {{"a", "", one}}, error));
  EXPECT_THAT(error, HasSubstr("column 'a' has no units"));
  EXPECT_FALSE(writer->write_table("/t", {{"a", "1", one}, {"a", "1", one}}, error));
  EXPECT_THAT(error, HasSubstr("column 'a' appears twice"));
  EXPECT_FALSE(writer->write_table("/t", {{"a/b", "1", one}}, error));
  EXPECT_THAT(error, HasSubstr("invalid column name 'a/b'"));
  EXPECT_FALSE(writer->write_table("/t", {}, error));
  EXPECT_THAT(error, HasSubstr("at least one column"));
  EXPECT_FALSE(
      writer->write_table("/t", {{"s", "1", std::vector<std::string>{"ok", "\xFF"}}}, error));
  EXPECT_THAT(error, HasSubstr("column 's' row 1: not valid UTF-8"));
  EXPECT_FALSE(writer->write_table("flows", {{"a", "1", one}}, error));
  EXPECT_THAT(error, HasSubstr("expected an absolute path"));
  EXPECT_FALSE(writer->write_table("/meta", {{"a", "1", one}}, error));
  EXPECT_THAT(error, HasSubstr("holds attributes only"));
  ASSERT_TRUE(writer->write_table("/t", {{"a", "1", one}}, error)) << error;
  EXPECT_FALSE(writer->write_table("/t", {{"a", "1", one}}, error));
  EXPECT_EQ(error, "/t: exists already");
  EXPECT_FALSE(writer->write_table("/t/a/x", {{"a", "1", one}}, error));
  EXPECT_THAT(error, HasSubstr("'/t/a' exists and is not a group"));
}

TEST(ResultWriterTest, UncommittedWriterLeavesNoFileAndNoTemporaryFile) {
  TempDir dir;
  const std::string path = dir.file("run.h5");
  {
    auto writer = create_or_fail(path);
    std::string error;
    ASSERT_TRUE(writer->write_table("/flows", every_type_columns(), error)) << error;
    EXPECT_THAT(dir.entries(), ElementsAre("run.h5.tmp-" + std::to_string(::getpid())));
  }
  EXPECT_TRUE(dir.entries().empty());
}

TEST(ResultWriterTest, CommitRenamesTheTemporaryFile) {
  TempDir dir;
  const std::string path = dir.file("run.h5");
  auto writer = create_or_fail(path);
  EXPECT_EQ(writer->path(), path);
  EXPECT_EQ(writer->temporary_path(), path + ".tmp-" + std::to_string(::getpid()));
  EXPECT_FALSE(std::filesystem::exists(path));
  EXPECT_TRUE(std::filesystem::exists(writer->temporary_path()));
  std::string error;
  ASSERT_TRUE(writer->commit(error)) << error;
  EXPECT_THAT(dir.entries(), ElementsAre("run.h5"));
  // A second commit, and anything after the first, fails without touching the file.
  EXPECT_FALSE(writer->commit(error));
  EXPECT_THAT(error, HasSubstr("committed or discarded already"));
  writer.reset();
  EXPECT_THAT(dir.entries(), ElementsAre("run.h5"));
}

TEST(ResultWriterTest, CommitReplacesAnExistingFile) {
  TempDir dir;
  const std::string path = dir.file("run.h5");
  std::string error;
  for (const int64_t seed : {1, 2}) {
    auto writer = create_or_fail(path);
    writer->set_meta("seed", seed);
    ASSERT_TRUE(writer->commit(error)) << error;
  }
  EXPECT_EQ(open_or_fail(path)->meta("seed"), AttributeValue(int64_t{2}));
}

TEST(ResultWriterTest, FailedSetterMakesCommitFailAndRemovesTheFile) {
  TempDir dir;
  const std::string path = dir.file("run.h5");
  auto writer = create_or_fail(path);
  writer->set_attribute("/nowhere", "key", "value");
  std::string error;
  EXPECT_FALSE(writer->commit(error));
  EXPECT_THAT(error, HasSubstr("no object '/nowhere'"));
  EXPECT_TRUE(dir.entries().empty());
}

TEST(ResultWriterTest, AttributesOnTablesAndColumns) {
  TempDir dir;
  const std::string path = dir.file("run.h5");
  auto writer = create_or_fail(path);
  std::string error;
  ASSERT_TRUE(writer->write_table("/flows", every_type_columns(), error)) << error;
  writer->set_attribute("/flows", "description", "one row per flow");
  writer->set_attribute("/flows/bytes", "description", "payload bytes");
  ASSERT_TRUE(writer->commit(error)) << error;
  auto reader = open_or_fail(path);
  EXPECT_EQ(reader->attribute("/flows", "description"),
            AttributeValue(std::string("one row per flow")));
  const auto attributes = reader->attributes("/flows/bytes");
  ASSERT_EQ(attributes.size(), 2u);
  EXPECT_EQ(attributes[0].first, "units");
  EXPECT_EQ(attributes[1].first, "description");
}

TEST(ResultWriterTest, CreateFailsClearlyForAMissingDirectory) {
  TempDir dir;
  std::string error;
  EXPECT_EQ(ResultWriter::create(dir.file("missing/run.h5"), error), nullptr);
  EXPECT_THAT(error, HasSubstr("does not exist"));
  EXPECT_EQ(ResultWriter::create("", error), nullptr);
  EXPECT_EQ(ResultWriter::create(dir.path().string(), error), nullptr);
  EXPECT_THAT(error, HasSubstr("it is a directory"));
}

TEST(ResultWriterTest, TwoWritersOfOnePathInOneProcessAreRefused) {
  TempDir dir;
  auto first = create_or_fail(dir.file("run.h5"));
  std::string error;
  EXPECT_EQ(ResultWriter::create(dir.file("run.h5"), error), nullptr);
  EXPECT_THAT(error, HasSubstr("temporary file"));
}

// Two runs with identical inputs: every dataset's values and stored (compressed) bytes match.
TEST(ResultWriterTest, IdenticalWritesGiveIdenticalDatasets) {
  TempDir dir;
  std::vector<int64_t> times(20000);
  std::vector<double> loads(20000);
  for (std::size_t i = 0; i < times.size(); ++i) {
    times[i] = static_cast<int64_t>(i * i);
    loads[i] = static_cast<double>(i % 1000) / 7.0;
  }
  const std::vector<Column> series = {{"time_ns", "ns", times}, {"load", "1", loads}};
  for (const char* name : {"a.h5", "b.h5"}) {
    auto writer = create_or_fail(dir.file(name));
    std::string error;
    writer->set_meta("seed", 7);
    ASSERT_TRUE(writer->write_table("/flows", every_type_columns(), error)) << error;
    ASSERT_TRUE(writer->write_table("/hosts/h1/series", series, error)) << error;
    ASSERT_TRUE(writer->commit(error)) << error;
  }
  auto a = open_or_fail(dir.file("a.h5"));
  auto b = open_or_fail(dir.file("b.h5"));
  const auto tables = a->tables();
  ASSERT_EQ(tables.size(), 2u);
  ASSERT_EQ(b->tables().size(), 2u);
  for (const TableInfo& table : tables) {
    for (const ColumnInfo& column : table.columns) {
      std::string error;
      if (column.type == ColumnType::kString) {
        std::vector<std::string> va, vb;
        ASSERT_TRUE(a->read_strings(column.path, va, error) && b->read_strings(column.path, vb, error));
        EXPECT_EQ(va, vb) << column.path;
      } else {
        std::vector<double> va, vb;
        ASSERT_TRUE(a->read_doubles(column.path, va, error) && b->read_doubles(column.path, vb, error));
        EXPECT_EQ(va, vb) << column.path;
      }
      bool ok_a = false, ok_b = false;
      EXPECT_EQ(testing::raw_chunks(dir.file("a.h5"), column.path, ok_a),
                testing::raw_chunks(dir.file("b.h5"), column.path, ok_b))
          << column.path;
      EXPECT_TRUE(ok_a && ok_b);
    }
  }
  EXPECT_EQ(a->attributes("/meta").size(), b->attributes("/meta").size());
}

}  // namespace
}  // namespace analysis
