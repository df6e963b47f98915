// SPDX-License-Identifier: GPL-3.0-or-later
#include "core/duration.h"

#include <gtest/gtest.h>

namespace mgdpr {
namespace {

using Unit = Duration::Unit;
using std::chrono::days;
using std::chrono::hours;
using std::chrono::seconds;

// A UTC moment from its calendar parts, for readable expectations.
UtcSeconds at(int y, unsigned m, unsigned d, int hh = 0, int mm = 0, int ss = 0) {
  return std::chrono::sys_days(std::chrono::year(y) / m / d) + hours(hh) +
         std::chrono::minutes(mm) + seconds(ss);
}

Duration duration_of(std::string_view text) {
  auto duration = parse_duration(text, "grace = \"7d\"");
  EXPECT_TRUE(duration.ok()) << text << ": " << (duration.ok() ? "" : duration.error().message);
  return duration.ok() ? *duration : Duration{};
}

TEST(DurationTest, ParsesEveryUnit) {
  EXPECT_EQ(duration_of("90s"), (Duration{90, Unit::kSeconds}));
  EXPECT_EQ(duration_of("30min"), (Duration{30, Unit::kMinutes}));
  EXPECT_EQ(duration_of("36h"), (Duration{36, Unit::kHours}));
  EXPECT_EQ(duration_of("7d"), (Duration{7, Unit::kDays}));
  EXPECT_EQ(duration_of("2w"), (Duration{2, Unit::kWeeks}));
  EXPECT_EQ(duration_of("18mo"), (Duration{18, Unit::kMonths}));
  EXPECT_EQ(duration_of(" 5y "), (Duration{5, Unit::kYears}));
  EXPECT_TRUE(duration_of("0").is_zero());
  EXPECT_TRUE(duration_of("0d").is_zero());
  EXPECT_EQ(duration_of("7d").text(), "7d");
  EXPECT_EQ(duration_of("18mo").text(), "18mo");
  EXPECT_EQ(duration_of("0").text(), "0");
}

TEST(DurationTest, RefusesWhatIsNoSpanAndSaysWhatToWrite) {
  for (std::string_view wrong : {"", "d", "7", "7 d", "7days", "-3d", "1.5d", "never", "7D"}) {
    auto duration = parse_duration(wrong, "grace = \"7d\"");
    ASSERT_FALSE(duration.ok()) << wrong;
    EXPECT_NE(duration.error().message.find("grace = \"7d\""), std::string::npos)
        << duration.error().message;
  }
  auto minutes_or_months = parse_duration("6m", "x");
  ASSERT_FALSE(minutes_or_months.ok());
  EXPECT_EQ(minutes_or_months.error().message,
            "\"6m\": m could mean minutes or months; write 6min for minutes or 6mo for months");
  EXPECT_FALSE(parse_duration("101y", "x").ok());
  EXPECT_TRUE(parse_duration("100y", "x").ok());
}

TEST(DurationTest, FixedUnitsCountSeconds) {
  const UtcSeconds now = at(2026, 11, 30, 12, 0, 0);
  EXPECT_EQ(duration_of("7d").before(now), at(2026, 11, 23, 12));
  EXPECT_EQ(duration_of("36h").after(now), at(2026, 12, 2, 0));
  EXPECT_EQ(duration_of("2w").before(now), now - days(14));
  EXPECT_EQ(duration_of("90s").after(now), now + seconds(90));
  EXPECT_EQ(duration_of("0").before(now), now);
}

TEST(DurationTest, MonthsAndYearsFollowTheCalendar) {
  EXPECT_EQ(duration_of("5y").before(at(2026, 11, 30, 8, 9, 10)), at(2021, 11, 30, 8, 9, 10));
  EXPECT_EQ(duration_of("1mo").before(at(2024, 3, 31)), at(2024, 2, 29));  // leap year
  EXPECT_EQ(duration_of("1mo").before(at(2023, 3, 31)), at(2023, 2, 28));
  EXPECT_EQ(duration_of("1y").before(at(2024, 2, 29)), at(2023, 2, 28));
  EXPECT_EQ(duration_of("1y").after(at(2024, 2, 29)), at(2025, 2, 28));
  EXPECT_EQ(duration_of("13mo").after(at(2025, 12, 15, 1)), at(2027, 1, 15, 1));
  EXPECT_EQ(duration_of("18mo").before(at(2026, 1, 31)), at(2024, 7, 31));
}

TEST(DurationTest, UtcTextIsWhatMariaDbCompares) {
  EXPECT_EQ(utc_text(at(2026, 1, 2, 3, 4, 5)), "2026-01-02 03:04:05");
  EXPECT_EQ(utc_text(UtcSeconds{}), "1970-01-01 00:00:00");
}

}  // namespace
}  // namespace mgdpr
