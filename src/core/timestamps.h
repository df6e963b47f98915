// SPDX-License-Identifier: GPL-3.0-or-later
// Times as the database gives them (UTC "YYYY-MM-DD HH:MM:SS[.ffffff]"; the connection's time
// zone is UTC) and as every output shows them: ISO 8601 with a `Z`, e.g. 2025-03-04T05:06:07Z.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace mgdpr {

// "2025-03-04 05:06:07.123456" -> "2025-03-04T05:06:07Z"; a date alone stays a date; text that
// is neither is returned unchanged.
std::string iso8601_utc(std::string_view database_time);

// Seconds since the epoch of a UTC "YYYY-MM-DD HH:MM:SS[.ffffff]" (or its ISO 8601 form).
std::optional<int64_t> utc_epoch_seconds(std::string_view text);

// Now, UTC, as "YYYY-MM-DD HH:MM:SS" (the database's form).
std::string utc_now_text();

// "42 s", "3 min", "2 h 5 min", "3 days": a duration for people.
std::string duration_text(int64_t seconds);

}  // namespace mgdpr
