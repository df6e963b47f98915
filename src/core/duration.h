// SPDX-License-Identifier: GPL-3.0-or-later
// Spans of time as the config writes them ("7d", "36h", "6mo", "5y"), and the moments they
// lead to. Time is a parameter: nothing here reads the clock, callers pass "now".
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/result.h"

namespace mgdpr {

using UtcSeconds = std::chrono::sys_seconds;

struct Duration {
  enum class Unit { kSeconds, kMinutes, kHours, kDays, kWeeks, kMonths, kYears };
  int64_t count = 0;
  Unit unit = Unit::kDays;

  bool is_zero() const { return count == 0; }
  // As the config writes it: "7d", "6mo", "0".
  std::string text() const;
  // `when` minus / plus this span. Months and years follow the calendar; a day the target
  // month lacks becomes its last day (2024-03-31 minus 1mo is 2024-02-29).
  UtcSeconds before(UtcSeconds when) const;
  UtcSeconds after(UtcSeconds when) const;
  bool operator==(const Duration&) const = default;
};

// "7d" -> 7 days. Units: s, min, h, d, w, mo, y; "0" alone is no time at all. The error says
// what is wrong and shows `example` (a whole config line) as the fix.
Result<Duration> parse_duration(std::string_view text, std::string_view example);

// "YYYY-MM-DD HH:MM:SS", the form MariaDB compares DATETIME values with (UTC).
std::string utc_text(UtcSeconds when);

// Now, to the second: the default "now" of the callers that take one.
UtcSeconds utc_now();

}  // namespace mgdpr
