// SPDX-License-Identifier: GPL-3.0-or-later
#include "core/duration.h"

#include <fmt/chrono.h>

#include <charconv>

#include "core/normalize.h"

namespace mgdpr {
namespace {

using Unit = Duration::Unit;

struct UnitSpec {
  Unit unit;
  std::string_view suffix;
  int64_t seconds;  // 0 for calendar units
  int64_t most;     // the largest count accepted: a century
};

constexpr UnitSpec kUnits[] = {
    {Unit::kSeconds, "s", 1, 100LL * 366 * 86400},
    {Unit::kMinutes, "min", 60, 100LL * 366 * 1440},
    {Unit::kHours, "h", 3600, 100LL * 366 * 24},
    {Unit::kDays, "d", 86400, 100LL * 366},
    {Unit::kWeeks, "w", 7 * 86400, 100LL * 53},
    {Unit::kMonths, "mo", 0, 100LL * 12},
    {Unit::kYears, "y", 0, 100},
};

const UnitSpec& spec_of(Unit unit) {
  for (const UnitSpec& spec : kUnits) {
    if (spec.unit == unit) return spec;
  }
  return kUnits[0];
}

UtcSeconds add_months(UtcSeconds when, int64_t months) {
  using namespace std::chrono;
  const sys_days day = floor<days>(when);
  const year_month_day date(day);
  year_month shifted = year_month(date.year(), date.month()) + std::chrono::months(months);
  const auto last = year_month_day_last(shifted.year(), month_day_last(shifted.month())).day();
  const year_month_day target(shifted.year(), shifted.month(), std::min(date.day(), last));
  return sys_days(target) + (when - day);
}

}  // namespace

std::string Duration::text() const {
  if (count == 0) return "0";
  return fmt::format("{}{}", count, spec_of(unit).suffix);
}

UtcSeconds Duration::before(UtcSeconds when) const {
  const UnitSpec& spec = spec_of(unit);
  if (spec.seconds > 0) return when - std::chrono::seconds(count * spec.seconds);
  return add_months(when, -(unit == Unit::kYears ? count * 12 : count));
}

UtcSeconds Duration::after(UtcSeconds when) const {
  const UnitSpec& spec = spec_of(unit);
  if (spec.seconds > 0) return when + std::chrono::seconds(count * spec.seconds);
  return add_months(when, unit == Unit::kYears ? count * 12 : count);
}

Result<Duration> parse_duration(std::string_view text, std::string_view example) {
  const std::string_view trimmed = trim(text);
  if (trimmed == "0") return Duration{};
  int64_t count = 0;
  const auto [end, error] = std::from_chars(trimmed.data(), trimmed.data() + trimmed.size(), count);
  const std::string_view suffix(end, size_t(trimmed.data() + trimmed.size() - end));
  if (error != std::errc() || count < 0) {
    return make_error("{:?} is not a span of time; write a whole number and a unit (s, min, h, d, "
                      "w, mo, y), e.g. {}",
                      text, example);
  }
  if (suffix == "m") {
    return make_error("{:?}: m could mean minutes or months; write {}min for minutes or {}mo for "
                      "months",
                      text, count, count);
  }
  for (const UnitSpec& spec : kUnits) {
    if (spec.suffix != suffix) continue;
    if (count > spec.most) {
      return make_error("{:?} is longer than a century; write at most {}{}, e.g. {}", text,
                        spec.most, spec.suffix, example);
    }
    return Duration{count, spec.unit};
  }
  return make_error("{:?} has no unit mautic-gdpr knows; the units are s, min, h, d, w, mo, y, "
                    "e.g. {}",
                    text, example);
}

std::string utc_text(UtcSeconds when) { return fmt::format("{:%Y-%m-%d %H:%M:%S}", when); }

UtcSeconds utc_now() {
  return std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now());
}

}  // namespace mgdpr
