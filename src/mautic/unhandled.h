// SPDX-License-Identifier: GPL-3.0-or-later
// Rows the sweep could not handle the way the location table says, named so that an admin can
// look at them, never by value:
// - a structured value that does not parse, or is beyond a limit (core/limits.h): it is
//   cleared instead of rewritten (outcome "cleared");
// - a queued webhook payload that cannot be read: no one can tell whose it is, so it stays
//   (outcome "left");
// - a contact whose processing fails on its own, when the rest of its batch does not: it stays
//   pending and is tried again by the next sweep (outcome "left").
// They are kept in {prefix}gdpr_unhandled (one row per table and key, with when it was first
// and last met); the sweep prints the ones it met, `status` and /metrics show them all. A row
// left in place that is gone from Mautic's table is forgotten by the next sweep.
#pragma once

#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "core/result.h"
#include "db/connection.h"
#include "mautic/schema.h"

namespace mgdpr::mautic {

inline constexpr std::string_view kUnhandledCleared = "cleared";
inline constexpr std::string_view kUnhandledLeft = "left";

struct UnhandledRow {
  std::string table;    // unprefixed, e.g. "webhook_queue" or "form_results_3_contact"
  std::string key;      // the row's key (its id), as text
  std::string problem;  // "payload: the value is not valid JSON"; never a value
  std::string outcome;  // kUnhandledCleared or kUnhandledLeft

  friend auto operator<=>(const UnhandledRow&, const UnhandledRow&) = default;
};

// Adds the rows to gdpr_unhandled, or updates their problem and when they were last met.
// Runs in the caller's transaction, if any: a batch that rolls back records nothing.
Status record_unhandled(db::Connection& connection, const Schema& schema,
                        std::span<const UnhandledRow> rows);

struct UnhandledEntry {
  UnhandledRow row;
  std::string first_seen;  // UTC
  std::string last_seen;   // UTC
};

struct UnhandledSummary {
  int64_t rows = 0;
  std::map<std::pair<std::string, std::string>, int64_t> by_table_and_outcome;
  std::vector<UnhandledEntry> recent;  // last met first
};

// What gdpr_unhandled holds: counts, and the `recent` last met. Empty before the first sweep.
Result<UnhandledSummary> read_unhandled(db::Connection& connection, const Schema& schema,
                                        size_t recent);

// Forgets rows left in place that their table no longer holds (an admin deleted them).
Status forget_gone_unhandled(db::Connection& connection, const Schema& schema);

}  // namespace mgdpr::mautic
