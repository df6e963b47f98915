// SPDX-License-Identifier: GPL-3.0-or-later
// The one builder of "the rows of a location that belong to these contacts" (as SQL: FROM and
// WHERE with bound values), and its inverse, "which location is this table". Scrub, verify,
// export and orphan handling all select rows through rows_of(), so how a row is tied to a
// contact (directly, through a parent row, with a kind condition) is written once. Like
// leveldb's filename.h, the name is built in one function and parsed back in one.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "db/connection.h"
#include "mautic/locations.h"
#include "mautic/schema.h"

namespace mgdpr::mautic {

// Whose rows: a set of contacts, or the rows no contact owns any more.
struct ContactSet {
  enum class Kind {
    kListed,    // the contacts in `sql`
    kUnlinked,  // rows whose link is NULL: Mautic deleted their contact (ON DELETE SET NULL)
    kGone,      // rows whose link names a row that no longer exists: a contact (no foreign
                // key kept the id; not one merged into another, which lives on) or, for
                // kParentRow, the parent row
  };
  Kind kind = Kind::kListed;
  std::string sql;  // kListed: "(?, ?, ?)" with the ids bound, or a subquery
  std::vector<db::Param> params;

  static ContactSet of(std::span<const int64_t> ids);
  // Every contact mautic-gdpr has processed that is still on do-not-contact on the channel it
  // left: the contacts whose rows must stay clean. One whose entry Mautic removed came back by
  // choice (a preference center, a form, an admin), and new data about them is theirs to give.
  // With `before` (a DATETIME(6), UTC), only those processed before it: a sweep's checks leave
  // the contacts it processed itself to the next sweep.
  static ContactSet processed(const Schema& schema, const std::optional<std::string>& before = {});
  static ContactSet unlinked() { return {Kind::kUnlinked, {}, {}}; }
  static ContactSet gone() { return {Kind::kGone, {}, {}}; }
};

// SQL condition on a gdpr_contacts row `alias`: its contact has not come back by choice.
std::string not_returned_sql(const Schema& schema, std::string_view alias);

// The condition that the contact id in `expression` belongs to the set (appends its values to
// params): "x IN (...)", "x IS NULL", or "x names no contact". rows_of() uses it for a link
// column; readers that find contact ids in content use it over those ids.
std::string contact_condition(std::string_view expression, const ContactSet& contacts,
                              const Schema& schema, std::vector<db::Param>& params);

// Only rows whose key (or watermark column) is above `above` and at most `up_to`.
struct KeyRange {
  std::string column{};  // empty: every row
  std::optional<int64_t> above{};
  std::optional<int64_t> up_to{};
  bool unix_time = false;  // the bounds are Unix times of a DATETIME column
};

// " AND t.<column> > ? AND t.<column> <= ?" for the range's bounds ("" for none), values
// appended to params.
std::string range_condition(const KeyRange& range, std::vector<db::Param>& params);

// "FROM <table> t [JOIN <parent> parent ON ...] WHERE <rows of the contacts>", as two parts so
// SELECT, UPDATE and DELETE reuse them; the row's own table is always aliased `t`.
struct RowSelection {
  std::string from;   // without the FROM keyword
  std::string where;  // without the WHERE keyword
  std::vector<db::Param> params;
};

// The rows of `table` (one of the location's tables) tied to the contacts. For kPayload and
// kText locations no SQL can tie a row to a contact: the selection is empty (`where` is FALSE)
// and the reader handles them by content (location_walk.h has a callback for each).
RowSelection rows_of(const Location& location, std::string_view table, const Schema& schema,
                     const ContactSet& contacts, const KeyRange& range = {});

// The rows of a kText location (webhook_logs) whose text holds one of the exact addresses:
// matched by content, since no column ties them to a contact. `where` is FALSE for none.
RowSelection rows_naming(const Location& location, std::string_view table, const Schema& schema,
                         std::span<const std::string> addresses);

// The location a table (unprefixed) belongs to: form_results_3_contact -> form_results. A table
// several locations share (audit_log) gives the first.
const Location* location_of_table(std::string_view unprefixed);

// The name a location's table goes by in mautic-gdpr's own records (watermarks, status): the
// location's name, or the table itself for locations with a table per form.
std::string record_name(const Location& location, std::string_view table);

// The tables of a location that exist in this database (unprefixed), in name order.
std::vector<std::string> tables_of(const Location& location, const Schema& schema);

}  // namespace mgdpr::mautic
