#include "scenarios/units_parse.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace scenarios {
namespace {

using ::testing::HasSubstr;

int64_t ns(std::string_view text, ZeroIs zero = ZeroIs::rejected) {
  const auto parsed = parse_duration(text, zero);
  EXPECT_TRUE(parsed) << text << ": " << parsed.error;
  return parsed ? parsed.value->ns() : -1;
}

std::string duration_error(std::string_view text, ZeroIs zero = ZeroIs::rejected) {
  const auto parsed = parse_duration(text, zero);
  EXPECT_FALSE(parsed) << text << " parsed as " << (parsed ? parsed.value->ns() : 0) << "ns";
  return parsed.error;
}

TEST(ParseDuration, AcceptsEveryUnitExactly) {
  EXPECT_EQ(ns("250ns"), 250);
  EXPECT_EQ(ns("5us"), 5'000);
  EXPECT_EQ(ns("1.5ms"), 1'500'000);
  EXPECT_EQ(ns("10s"), 10'000'000'000);
  EXPECT_EQ(ns("2min"), 120'000'000'000);
  EXPECT_EQ(ns("1h"), 3'600'000'000'000);
  EXPECT_EQ(ns("0.25us"), 250);
  EXPECT_EQ(ns("0.000001ms"), 1);
}

TEST(ParseDuration, ZeroOnlyWhereAllowed) {
  EXPECT_EQ(ns("0s", ZeroIs::allowed), 0);
  EXPECT_THAT(duration_error("0s"), HasSubstr("expected a value > 0"));
}

TEST(ParseDuration, RejectsBareNumbersWithTheExpectedForm) {
  EXPECT_THAT(duration_error("5"), HasSubstr("expected a duration with a unit, e.g. 5us"));
  EXPECT_THAT(duration_error("0.5"), HasSubstr("expected a duration with a unit, e.g. 5us"));
}

TEST(ParseDuration, RejectsMalformedValues) {
  EXPECT_THAT(duration_error("-5us"), HasSubstr("negative duration"));
  EXPECT_THAT(duration_error("+5us"), HasSubstr("unexpected sign"));
  EXPECT_THAT(duration_error("5 us"), HasSubstr("no space"));
  EXPECT_THAT(duration_error("0.5ns"), HasSubstr("not a whole number of nanoseconds"));
  EXPECT_THAT(duration_error("1e3us"), HasSubstr("unknown unit 'e3us'"));
  EXPECT_THAT(duration_error(".5s"), HasSubstr("not a number with a unit"));
  EXPECT_THAT(duration_error("5.s"), HasSubstr("not a number with a unit"));
  EXPECT_THAT(duration_error("fast"), HasSubstr("not a number with a unit"));
  EXPECT_THAT(duration_error(""), HasSubstr("empty value"));
  EXPECT_THAT(duration_error("5sec"), HasSubstr("expected a duration in one of ns, us, ms, s, min, h"));
  EXPECT_THAT(duration_error("3000000h"), HasSubstr("too large"));
  EXPECT_THAT(duration_error("12345678901234567890s"), HasSubstr("too many digits"));
}

TEST(ParseDuration, SuggestsTheRightCaseAndNamesOtherQuantities) {
  EXPECT_THAT(duration_error("5US"), HasSubstr("did you mean 'us'?"));
  EXPECT_THAT(duration_error("5KiB"), HasSubstr("'KiB' is a unit of size"));
}

TEST(ParseDataRate, UnitsAreDecimalBitsPerSecond) {
  auto bps = [](std::string_view text) {
    const auto parsed = parse_data_rate(text);
    EXPECT_TRUE(parsed) << text << ": " << parsed.error;
    return parsed ? parsed.value->bits_per_second() : 0;
  };
  EXPECT_EQ(bps("10Gbps"), 10'000'000'000ULL);
  EXPECT_EQ(bps("100Mbps"), 100'000'000ULL);
  EXPECT_EQ(bps("1.5Gbps"), 1'500'000'000ULL);
  EXPECT_EQ(bps("64Kbps"), 64'000ULL);
  EXPECT_EQ(bps("1Tbps"), 1'000'000'000'000ULL);
  EXPECT_EQ(bps("9600bps"), 9'600ULL);
}

TEST(ParseDataRate, RejectsBytesNegativeZeroAndBareNumbers) {
  EXPECT_THAT(parse_data_rate("10GB").error, HasSubstr("'GB' is a unit of size"));
  EXPECT_THAT(parse_data_rate("10GBps").error, HasSubstr("did you mean 'Gbps'?"));
  EXPECT_THAT(parse_data_rate("10gbps").error, HasSubstr("did you mean 'Gbps'?"));
  EXPECT_THAT(parse_data_rate("-10Gbps").error, HasSubstr("negative data rate"));
  EXPECT_THAT(parse_data_rate("0Gbps").error, HasSubstr("expected a value > 0"));
  EXPECT_THAT(parse_data_rate("10").error, HasSubstr("expected a data rate with a unit, e.g. 10Gbps"));
  EXPECT_THAT(parse_data_rate("0.5bps").error, HasSubstr("not a whole number of bits per second"));
}

TEST(ParseSize, DecimalAndBinaryPrefixes) {
  auto bytes = [](std::string_view text) {
    const auto parsed = parse_size(text);
    EXPECT_TRUE(parsed) << text << ": " << parsed.error;
    return parsed ? parsed.value->count() : 0;
  };
  EXPECT_EQ(bytes("1500B"), 1500U);
  EXPECT_EQ(bytes("1KB"), 1000U);
  EXPECT_EQ(bytes("64KiB"), 65536U);
  EXPECT_EQ(bytes("1.5KiB"), 1536U);
  EXPECT_EQ(bytes("1MiB"), 1048576U);
  EXPECT_EQ(bytes("4GiB"), 4ULL << 30);
  EXPECT_EQ(bytes("2TB"), 2'000'000'000'000ULL);
}

TEST(ParseSize, RejectsFractionsOfBytesAndOtherUnits) {
  EXPECT_THAT(parse_size("0.3B").error, HasSubstr("not a whole number of bytes"));
  EXPECT_THAT(parse_size("10Gbps").error, HasSubstr("'Gbps' is a unit of data rate"));
  EXPECT_THAT(parse_size("64kib").error, HasSubstr("did you mean 'KiB'?"));
  EXPECT_THAT(parse_size("64").error, HasSubstr("expected a size with a unit, e.g. 64KiB"));
  EXPECT_THAT(parse_size("0B").error, HasSubstr("expected a value > 0"));
  EXPECT_EQ(parse_size("0B", ZeroIs::allowed).value->count(), 0U);
  EXPECT_THAT(parse_size("20000000TiB").error, HasSubstr("too large"));
}

TEST(ParseFrequency, HertzWithDecimalPrefixes) {
  EXPECT_EQ(*parse_frequency("2.6GHz").value, 2'600'000'000ULL);
  EXPECT_EQ(*parse_frequency("800MHz").value, 800'000'000ULL);
  EXPECT_EQ(*parse_frequency("32kHz").value, 32'000ULL);
  EXPECT_THAT(parse_frequency("2.6ghz").error, HasSubstr("did you mean 'GHz'?"));
  EXPECT_THAT(parse_frequency("0GHz").error, HasSubstr("expected a value > 0"));
  EXPECT_THAT(parse_frequency("2600000000").error, HasSubstr("expected a frequency with a unit, e.g. 2.6GHz"));
}

}  // namespace
}  // namespace scenarios
