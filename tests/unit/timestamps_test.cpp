// SPDX-License-Identifier: GPL-3.0-or-later
#include "core/timestamps.h"

#include <gtest/gtest.h>

namespace mgdpr {
namespace {

TEST(Timestamps, Iso8601WithZ) {
  EXPECT_EQ(iso8601_utc("2025-03-04 05:06:07"), "2025-03-04T05:06:07Z");
  EXPECT_EQ(iso8601_utc("2025-03-04 05:06:07.123456"), "2025-03-04T05:06:07Z");
  EXPECT_EQ(iso8601_utc("2025-03-04"), "2025-03-04");
  EXPECT_EQ(iso8601_utc("never"), "never");
}

TEST(Timestamps, EpochSecondsOfBothForms) {
  EXPECT_EQ(utc_epoch_seconds("1970-01-02 00:00:00"), 86400);
  EXPECT_EQ(utc_epoch_seconds("1970-01-02T00:00:01Z"), 86401);
  EXPECT_FALSE(utc_epoch_seconds("yesterday").has_value());
}

TEST(Timestamps, DurationsForPeople) {
  EXPECT_EQ(duration_text(42), "42 s");
  EXPECT_EQ(duration_text(125), "2 min");
  EXPECT_EQ(duration_text(3600), "1 h");
  EXPECT_EQ(duration_text(7500), "2 h 5 min");
  EXPECT_EQ(duration_text(3 * 86400), "3 days");
}

}  // namespace
}  // namespace mgdpr
