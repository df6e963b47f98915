// SPDX-License-Identifier: GPL-3.0-or-later
#include "core/timestamps.h"

#include <fmt/chrono.h>
#include <fmt/format.h>

#include <chrono>
#include <cstdio>
#include <ctime>

namespace mgdpr {

namespace {

bool digits_at(std::string_view text, size_t at, size_t count) {
  if (text.size() < at + count) return false;
  for (size_t i = at; i < at + count; ++i) {
    if (text[i] < '0' || text[i] > '9') return false;
  }
  return true;
}

bool is_date(std::string_view text) {
  return digits_at(text, 0, 4) && text[4] == '-' && digits_at(text, 5, 2) && text[7] == '-' &&
         digits_at(text, 8, 2);
}

}  // namespace

std::string iso8601_utc(std::string_view database_time) {
  if (database_time.size() == 10 && is_date(database_time)) return std::string(database_time);
  if (database_time.size() < 19 || !is_date(database_time) ||
      (database_time[10] != ' ' && database_time[10] != 'T') || !digits_at(database_time, 11, 2) ||
      !digits_at(database_time, 14, 2) || !digits_at(database_time, 17, 2)) {
    return std::string(database_time);
  }
  std::string iso(database_time.substr(0, 19));
  iso[10] = 'T';
  return iso + "Z";
}

std::optional<int64_t> utc_epoch_seconds(std::string_view text) {
  std::tm tm{};
  std::string terminated(text.substr(0, 19));
  if (terminated.size() == 19 && terminated[10] == 'T') terminated[10] = ' ';
  if (std::sscanf(terminated.c_str(), "%d-%d-%d %d:%d:%d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
                  &tm.tm_hour, &tm.tm_min, &tm.tm_sec) != 6) {
    return std::nullopt;
  }
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  return int64_t(timegm(&tm));
}

std::string utc_now_text() {
  return fmt::format("{:%Y-%m-%d %H:%M:%S}",
                     std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now()));
}

std::string duration_text(int64_t seconds) {
  if (seconds < 0) seconds = 0;
  if (seconds < 60) return fmt::format("{} s", seconds);
  if (seconds < 3600) return fmt::format("{} min", seconds / 60);
  if (seconds < 48 * 3600) {
    const int64_t minutes = (seconds % 3600) / 60;
    return minutes == 0 ? fmt::format("{} h", seconds / 3600)
                        : fmt::format("{} h {} min", seconds / 3600, minutes);
  }
  return fmt::format("{} days", seconds / 86400);
}

}  // namespace mgdpr
