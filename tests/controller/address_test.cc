#include "controller/address.h"

#include <gtest/gtest.h>

namespace controller {
namespace {

TEST(Address, ParsesV4AsMappedV6) {
  dfw::IpPrefix p;
  ASSERT_TRUE(parse_prefix("10.1.0.0/16", p));
  EXPECT_TRUE(p.is_v4);
  EXPECT_EQ(p.length, 96 + 16);
  EXPECT_EQ(p.address[10], 0xff);
  EXPECT_EQ(p.address[11], 0xff);
  EXPECT_EQ(p.address[12], 10);
  EXPECT_EQ(p.address[13], 1);
  EXPECT_EQ(format_prefix(p), "10.1.0.0/16");
  ASSERT_TRUE(parse_prefix("10.1.2.3", p));
  EXPECT_TRUE(is_host_prefix(p));
}

TEST(Address, ParsesV6) {
  dfw::IpPrefix p;
  ASSERT_TRUE(parse_prefix("2001:db8::/32", p));
  EXPECT_FALSE(p.is_v4);
  EXPECT_EQ(p.length, 32);
  EXPECT_EQ(format_prefix(p), "2001:db8::/32");
}

TEST(Address, RejectsMalformed) {
  dfw::IpPrefix p;
  EXPECT_FALSE(parse_prefix("10.0.0.0/33", p));
  EXPECT_FALSE(parse_prefix("10.0.0.1/8", p));  // host bits set
  EXPECT_FALSE(parse_prefix("10.0.0/8", p));
  EXPECT_FALSE(parse_prefix("2001:db8::/129", p));
  EXPECT_FALSE(parse_prefix("", p));
  EXPECT_FALSE(parse_prefix("10.0.0.0/", p));
  EXPECT_FALSE(parse_address("10.0.0.0/8", p));
}

TEST(Address, Containment) {
  dfw::IpPrefix net, inside, outside, v6;
  ASSERT_TRUE(parse_prefix("10.1.0.0/17", net));
  ASSERT_TRUE(parse_address("10.1.127.255", inside));
  ASSERT_TRUE(parse_address("10.1.128.0", outside));
  ASSERT_TRUE(parse_address("::ffff:10.1.0.1", v6));  // same bytes, but a v6 address
  EXPECT_TRUE(prefix_contains(net, inside));
  EXPECT_FALSE(prefix_contains(net, outside));
  EXPECT_FALSE(prefix_contains(net, v6));
}

}  // namespace
}  // namespace controller
