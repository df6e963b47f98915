// SPDX-License-Identifier: GPL-3.0-or-later
#include "core/address.h"

#include <gtest/gtest.h>

namespace mgdpr {
namespace {

TEST(Address, ParsesLiteralsOnly) {
  EXPECT_EQ(parse_ip_address("127.0.0.1")->to_string(), "127.0.0.1");
  EXPECT_EQ(parse_ip_address("::ffff:127.0.0.1"), parse_ip_address("127.0.0.1"));
  EXPECT_EQ(parse_ip_address("2001:DB8::1")->to_string(), "2001:db8::1");
  for (const char* no : {"", "localhost", "127.0.0.1:80", "[::1]", "1.2.3", "1.2.3.4 ", "300.1.1.1",
                         "::1%lo", "1.2.3.4/8"}) {
    EXPECT_FALSE(parse_ip_address(no)) << no;
  }
  EXPECT_FALSE(parse_ip_address(std::string(200, '1')));
}

TEST(Address, RangesContainTheirAddresses) {
  const auto loopback = parse_address_range("127.0.0.0/8");
  ASSERT_TRUE(loopback);
  EXPECT_TRUE(loopback->contains(*parse_ip_address("127.0.0.2")));
  EXPECT_TRUE(loopback->contains(*parse_ip_address("::ffff:127.9.9.9")));
  EXPECT_FALSE(loopback->contains(*parse_ip_address("128.0.0.1")));
  EXPECT_FALSE(loopback->contains(*parse_ip_address("::1")));
  const auto single = parse_address_range("10.1.2.3");
  EXPECT_TRUE(single->contains(*parse_ip_address("10.1.2.3")));
  EXPECT_FALSE(single->contains(*parse_ip_address("10.1.2.4")));
  const auto v6 = parse_address_range("fd00::/8");
  EXPECT_TRUE(v6->contains(*parse_ip_address("fdab::1")));
  EXPECT_FALSE(v6->contains(*parse_ip_address("fe80::1")));
  EXPECT_TRUE(parse_address_range("0.0.0.0/0")->contains(*parse_ip_address("8.8.8.8")));
  const auto odd = parse_address_range("192.168.1.0/23");
  EXPECT_TRUE(odd->contains(*parse_ip_address("192.168.0.255")));
  EXPECT_FALSE(odd->contains(*parse_ip_address("192.168.2.0")));
  for (const char* no : {"10.0.0.0/33", "10.0.0.0/", "10.0.0.0/-1", "::/129", "x/8", "/8",
                         "10.0.0.0/8/8", "10.0.0.0/ 8"}) {
    EXPECT_FALSE(parse_address_range(no)) << no;
  }
  EXPECT_TRUE(in_any_range(*parse_ip_address("::1"),
                           {*parse_address_range("10.0.0.0/8"), *parse_address_range("::1")}));
}

TEST(Address, ClientGroupsIpv6ByNetwork) {
  EXPECT_EQ(client_group(*parse_ip_address("192.0.2.7")), "192.0.2.7");
  EXPECT_EQ(client_group(*parse_ip_address("2001:db8:1:2:aaaa::1")),
            client_group(*parse_ip_address("2001:db8:1:2:bbbb::9")));
  EXPECT_NE(client_group(*parse_ip_address("2001:db8:1:2::1")),
            client_group(*parse_ip_address("2001:db8:1:3::1")));
}

}  // namespace
}  // namespace mgdpr
