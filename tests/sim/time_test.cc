// Time and DataRate: arithmetic, construction, formatting, serialization-time rounding.

#include "sim/time.h"

#include <gtest/gtest.h>

#include "sim/units.h"

namespace sim {
namespace {

TEST(TimeTest, ConstructorsAndArithmetic) {
  EXPECT_EQ(Micros(3).ns(), 3'000);
  EXPECT_EQ(Millis(2).ns(), 2'000'000);
  EXPECT_EQ(Seconds(5).ns(), 5'000'000'000);
  EXPECT_EQ(Seconds(1) + Millis(1) - Micros(1), Nanos(1'000'999'000));
  EXPECT_EQ(Micros(3) * 4, Micros(12));
  EXPECT_EQ(Seconds(1) / Millis(3), 333);
  Time t = Micros(1);
  t += Nanos(5);
  t -= Nanos(2);
  EXPECT_EQ(t, Nanos(1'003));
  EXPECT_LT(Nanos(-1), Time::zero());
  EXPECT_GT(Time::max(), Seconds(1'000'000'000));
  EXPECT_DOUBLE_EQ(Millis(1500).seconds(), 1.5);
}

TEST(TimeTest, SecondsFRoundsToTheNearestNanosecond) {
  EXPECT_EQ(SecondsF(1.5e-9), Nanos(2));
  EXPECT_EQ(SecondsF(1.4e-9), Nanos(1));
  EXPECT_EQ(SecondsF(-1.5e-9), Nanos(-2));
  EXPECT_EQ(SecondsF(0.25), Millis(250));
  EXPECT_EQ(SecondsF(0), Time::zero());
}

TEST(TimeTest, ToStringIsExactInTheLargestFittingUnit) {
  EXPECT_EQ(to_string(Time::zero()), "0ns");
  EXPECT_EQ(to_string(Nanos(250)), "250ns");
  EXPECT_EQ(to_string(Micros(1)), "1us");
  EXPECT_EQ(to_string(Nanos(1'500)), "1.5us");
  EXPECT_EQ(to_string(Millis(1) + Micros(500)), "1.5ms");
  EXPECT_EQ(to_string(Nanos(1'500'001)), "1.500001ms");
  EXPECT_EQ(to_string(Seconds(12)), "12s");
  EXPECT_EQ(to_string(Seconds(2) + Nanos(1)), "2.000000001s");
  EXPECT_EQ(to_string(Seconds(3'600)), "3600s");
  EXPECT_EQ(to_string(Nanos(-1'500'000)), "-1.5ms");
  EXPECT_EQ(to_string(Nanos(-7)), "-7ns");
  EXPECT_EQ(to_string(Time::max()), "9223372036.854775807s");
  EXPECT_EQ(to_string(Time::from_ns(INT64_MIN)), "-9223372036.854775808s");
}

TEST(DataRateTest, TransmitTimeRoundsUpToWholeNanoseconds) {
  const DataRate ten_g = DataRate::gbps(10);
  EXPECT_EQ(ten_g.bits_per_second(), 10'000'000'000ULL);
  EXPECT_EQ(ten_g.transmit_time(Bytes(1'250)), Nanos(1'000));  // exact: 10,000 bits at 10 Gb/s
  EXPECT_EQ(ten_g.transmit_time(Bytes(1)), Nanos(1));          // 0.8 ns rounds up
  EXPECT_EQ(ten_g.transmit_time(Bytes(64)), Nanos(52));        // 51.2 ns rounds up
  EXPECT_EQ(ten_g.transmit_time(Bytes(0)), Time::zero());
  EXPECT_EQ(DataRate::bps(3).transmit_time(Bytes(1)), Nanos(2'666'666'667));  // 8/3 s, up
  EXPECT_EQ(DataRate::gbps(1).transmit_time(Bytes(1'500)), Micros(12));
  EXPECT_EQ(DataRate::gbps(400).transmit_time(Bytes(9'000)), Nanos(180));
  EXPECT_EQ(DataRate().transmit_time(Bytes(1)), Time::max()) << "a zero rate never finishes";
  // Large sizes do not overflow the intermediate product (bits * 1e9 > 2^64 here).
  EXPECT_EQ(DataRate::gbps(100).transmit_time(Bytes(uint64_t{1} << 40)), Nanos(87'960'930'223));
}

TEST(BytesTest, CountsAndBits) {
  EXPECT_EQ(Bytes(3).bits(), 24u);
  EXPECT_EQ((Bytes(3) + Bytes(4)).count(), 7u);
  Bytes b(1);
  b += Bytes(9);
  EXPECT_EQ(b, Bytes(10));
  EXPECT_LT(Bytes(1), Bytes(2));
}

}  // namespace
}  // namespace sim
