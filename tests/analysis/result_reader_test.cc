#include "analysis/result_reader.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <limits>

#include "analysis/result_writer.h"
#include "temp_dir.h"

namespace analysis {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using testing::TempDir;

class ResultReaderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string error;
    auto writer = ResultWriter::create(path_, error);
    ASSERT_NE(writer, nullptr) << error;
    ASSERT_TRUE(writer->write_table(
        "/links/l1",
        {{"time_ns", "ns", std::vector<int64_t>{-1, 2}},
         {"big", "bytes", std::vector<uint64_t>{1, std::numeric_limits<uint64_t>::max()}},
         {"name", "1", std::vector<std::string>{"a", "b"}}},
        error))
        << error;
    ASSERT_TRUE(writer->write_table("/flows", {{"id", "1", std::vector<int64_t>{7}}}, error))
        << error;
    ASSERT_TRUE(writer->commit(error)) << error;
    reader_ = ResultReader::open(path_, error);
    ASSERT_NE(reader_, nullptr) << error;
  }

  TempDir dir_;
  std::string path_ = dir_.file("run.h5");
  std::unique_ptr<ResultReader> reader_;
};

TEST_F(ResultReaderTest, ListsGroupsAndTablesSortedByPath) {
  EXPECT_THAT(reader_->groups(), ElementsAre("/flows", "/links", "/links/l1", "/meta",
                                             "/meta/wall"));
  const auto tables = reader_->tables();
  ASSERT_EQ(tables.size(), 2u);
  EXPECT_EQ(tables[0].path, "/flows");
  EXPECT_EQ(tables[1].path, "/links/l1");
  EXPECT_EQ(tables[1].row_count, 2u);
  EXPECT_TRUE(tables[1].equal_lengths);
  EXPECT_EQ(tables[1].columns[1].path, "/links/l1/big");
  EXPECT_FALSE(reader_->table("/links").has_value());  // holds a table, is none
  EXPECT_FALSE(reader_->table("/absent").has_value());
}

TEST_F(ResultReaderTest, ConvertsBetweenNumericTypesOnlyWhenExact) {
  std::string error;
  std::vector<double> doubles;
  ASSERT_TRUE(reader_->read_doubles("/links/l1/time_ns", doubles, error)) << error;
  EXPECT_THAT(doubles, ElementsAre(-1.0, 2.0));
  std::vector<int64_t> signed_values;
  EXPECT_FALSE(reader_->read_int64("/links/l1/big", signed_values, error));
  EXPECT_THAT(error, HasSubstr("row 1 does not fit in int64"));
  std::vector<uint64_t> unsigned_values;
  EXPECT_FALSE(reader_->read_uint64("/links/l1/time_ns", unsigned_values, error));
  EXPECT_THAT(error, HasSubstr("row 0 is negative"));
}

TEST_F(ResultReaderTest, ReportsMissingAndMistypedColumns) {
  std::string error;
  std::vector<double> doubles;
  EXPECT_FALSE(reader_->read_doubles("/links/l1/absent", doubles, error));
  EXPECT_EQ(error, path_ + ": no column '/links/l1/absent'");
  EXPECT_FALSE(reader_->read_doubles("/links/l1/name", doubles, error));
  EXPECT_THAT(error, HasSubstr("holds strings, not numbers"));
  std::vector<std::string> strings;
  EXPECT_FALSE(reader_->read_strings("/links/l1/big", strings, error));
  EXPECT_THAT(error, HasSubstr("holds numbers, not strings"));
  EXPECT_FALSE(reader_->read_strings("/links", strings, error));
  EXPECT_THAT(error, HasSubstr("no column '/links'"));
}

TEST(ResultReaderFormatTest, RefusesANewerFormatVersion) {
  TempDir dir;
  const std::string path = dir.file("future.h5");
  std::string error;
  auto writer = ResultWriter::create(path, error);
  ASSERT_NE(writer, nullptr) << error;
  writer->set_meta(format::kFormatVersionKey, format::kFormatVersion + 1);
  ASSERT_TRUE(writer->commit(error)) << error;
  EXPECT_EQ(ResultReader::open(path, error), nullptr);
  EXPECT_EQ(error, path + ": format_version 2 is not supported; this segsim reads versions 1 to 1");
}

TEST(ResultReaderFormatTest, DisplaysNumbersExactlyAndShortly) {
  EXPECT_EQ(to_display_string(AttributeValue(0.1)), "0.1");
  EXPECT_EQ(to_display_string(AttributeValue(1.0 / 3.0)), "0.3333333333333333");
  EXPECT_EQ(to_display_string(AttributeValue(2.5e6)), "2500000");
  EXPECT_EQ(to_display_string(AttributeValue(1e300)), "1e+300");
  EXPECT_EQ(to_display_string(AttributeValue(int64_t{-5})), "-5");
  EXPECT_EQ(to_display_string(AttributeValue(std::string("x"))), "x");
}

}  // namespace
}  // namespace analysis
