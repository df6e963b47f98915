// SPDX-License-Identifier: GPL-3.0-or-later
#include "core/json.h"

#include <gtest/gtest.h>

namespace mgdpr {
namespace {

TEST(Json, NestingIsCountedWithoutParsing) {
  EXPECT_EQ(json_nesting_depth("1"), 0);
  EXPECT_EQ(json_nesting_depth(R"({"a":[1,{"b":[]}]})"), 4);
  EXPECT_EQ(json_nesting_depth(R"(["[[[[\"]]]]", "\\"])"), 1);       // brackets in strings
  EXPECT_EQ(json_nesting_depth(std::string(100'000, '['), 10), 11);  // stops early
  EXPECT_EQ(json_nesting_depth("]]]]"), 0);
}

TEST(Json, ParseRefusesDepthAndSizeBeforeParsing) {
  const std::string deepest = std::string(kMaxNesting, '[') + std::string(kMaxNesting, ']');
  EXPECT_TRUE(parse_json(deepest).ok());
  auto deep = parse_json("[" + deepest + "]");
  ASSERT_FALSE(deep.ok());
  EXPECT_EQ(deep.error().message, "the JSON value nests arrays and objects deeper than 512 levels");
  auto big = parse_json("[1,2,3]", {.max_bytes = 6});
  ASSERT_FALSE(big.ok());
  EXPECT_EQ(big.error().message, "the JSON value is larger than 6 bytes");
  auto broken = parse_json(R"({"email": "jane@example.org")");
  ASSERT_FALSE(broken.ok());
  EXPECT_EQ(broken.error().message, "the value is not valid JSON");
  EXPECT_FALSE(parse_json("\"\xff\"").ok());  // invalid UTF-8
}

TEST(Json, WholeNumbersAsMauticWritesIds) {
  auto number = [](const char* text) { return json_whole_number(nlohmann::json::parse(text)); };
  EXPECT_EQ(number("42"), 42);
  EXPECT_EQ(number("\"42\""), 42);
  EXPECT_EQ(number("1111.0"), 1111);
  EXPECT_EQ(number("-3"), -3);
  EXPECT_EQ(number("9223372036854775807"), INT64_MAX);
  EXPECT_EQ(number("\"9223372036854775807\""), INT64_MAX);
  for (const char* no : {"1.5", "\"\"", "\"12a\"", "\"-1\"", "\" 1\"", "null", "true", "[1]",
                         "9223372036854775808", "18446744073709551615", "\"9999999999999999999\"",
                         "\"99999999999999999999\"", "1e300", "9.3e18", "-9.3e18"}) {
    EXPECT_FALSE(number(no)) << no;
  }
}

TEST(Json, DecimalStrings) {
  EXPECT_EQ(decimal_int64("0042"), 42);
  EXPECT_FALSE(decimal_int64(""));
  EXPECT_FALSE(decimal_int64("+1"));
  EXPECT_FALSE(decimal_int64("9223372036854775808"));
}

}  // namespace
}  // namespace mgdpr
