// SPDX-License-Identifier: GPL-3.0-or-later
// What "clean" means for a processed contact, decided by content and written once, in the
// location table's and the policy's own terms: a hashed profile column is NULL or a 64-hex
// digest, a deleted one is NULL, a cleared related column is NULL (or '' where NULL is not
// allowed), an ip_id is unset (or the placeholder), a row of a delete location does not exist,
// and a serialized/JSON value is in scrubbed form. The sweep repairs exactly what these
// conditions select, and `verify` counts it; timestamps and watermarks decide nothing.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/result.h"
#include "db/connection.h"
#include "mautic/contact_policy.h"
#include "mautic/related_plan.h"
#include "mautic/schema.h"

namespace mgdpr::mautic {

// The rewritten form of one structured value (core/scrub.h), or why it cannot be rewritten: it
// does not parse, or is beyond a limit. The reason never quotes the value.
Result<std::string> rewrite_structured(ColumnScrub scrub, std::string_view value);

// What a structured column holds once cleared: NULL where allowed, else the empty value of its
// format that Mautic still reads (a:0:{} for PHP's Doctrine arrays, {} for JSON, '').
std::optional<std::string> cleared_structured(const ColumnRule& rule, const ColumnInfo& column);

// The scrubbed form of one structured value. A value that cannot be rewritten is cleared
// instead (cleared_structured), never kept; the scrubber names such rows (unhandled.h).
std::optional<std::string> scrubbed_value(const ColumnRule& rule, const ColumnInfo& column,
                                          const std::string& value);

// How one table of a location tells rows that still hold personal data from clean ones.
// Conditions are on the row `t` as rows_of() selects it.
struct CleanCheck {
  // One condition per plain personal column (or "TRUE" for a row that should not exist), by
  // column name, each true when the row still holds a value there.
  std::vector<std::pair<std::string, std::string>> plain;
  std::vector<db::Param> plain_params;  // bound in the order the conditions appear
  // Structured columns: a row is a candidate when a value is set that is not known to be in
  // scrubbed form (its SHA-256 is not in gdpr_clean_values); a candidate is dirty when
  // scrubbed_value() would change the value.
  std::vector<const ColumnRule*> structured;
  std::string candidate;  // "" when the table has no structured column

  bool empty() const { return plain.empty() && candidate.empty(); }
  // Plain conditions OR'ed, and OR the candidate condition: what repair and verify select.
  std::string any_sql() const;
};

// Kinds of structured values in gdpr_clean_values: a value clean as one kind (PHP serialize)
// says nothing about another (JSON).
int clean_value_kind(ColumnScrub scrub);

// REQUIRES: plan.action is scrub or delete. placeholder_ip is the anonymous address rows of
// NOT NULL ip_id columns point at (Mautic 4.4), once it exists.
CleanCheck clean_check(const LocationPlan& plan, const std::string& table, const Schema& schema,
                       std::optional<int64_t> placeholder_ip);

// The profile: one condition per column the policy changes, on the leads row `l`, each true
// when the column holds what the policy would change (a clear value where a digest belongs,
// anything where the policy deletes, a value not in its generalized form).
std::vector<std::pair<std::string, std::string>> profile_dirty(const ContactPolicy& policy);

// The do-not-contact row `d` of a processed contact still holds free text (bounce messages quote
// addresses); comments mautic-gdpr wrote itself name no one.
inline constexpr std::string_view kDncCommentDirty =
    "d.comments IS NOT NULL AND d.comments NOT LIKE 'mautic-gdpr:%'";

}  // namespace mgdpr::mautic
