// SPDX-License-Identifier: GPL-3.0-or-later
// Where Mautic keeps a contact's personal data outside the profile: one table of data (one row
// per location), read by the scrubber, by `check`/`plan`, and printed into ARCHITECTURE.md by
// `mautic-gdpr locations --markdown`. There is no SQL about these tables anywhere else.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace mgdpr::mautic {

// What happens to a location's rows that belong to a processed contact.
enum class RowAction {
  kScrub,   // clear the personal columns, keep the row (it is a statistic)
  kDelete,  // delete the row (nothing statistical would be left)
  kKeep,    // leave it (only by explicit configuration)
};

std::string_view row_action_name(RowAction action);
std::optional<RowAction> parse_row_action(std::string_view name);

// How one column is cleared when its row is scrubbed.
enum class ColumnScrub {
  kClear,           // NULL, or '' where the column is NOT NULL
  kPhpSerialized,   // parse, blank every string value, write back valid serialize() output
  kJson,            // parse, blank every string value, write back JSON
  kCompressedJson,  // zlib-compressed JSON, likewise, compressed again
};

// How a row is tied to a contact.
enum class Link {
  kContactColumn,    // link_column holds the contact id
  kEmailStat,        // link_column = email_stats.id, whose lead_id is the contact
  kCampaignLog,      // link_column = campaign_lead_event_log.id, whose lead_id is the contact
  kFormSubmission,   // link_column = form_submissions.id (the dynamic form_results_* tables)
  kWebhookPayload,   // the contact id inside the queued JSON payload
  kNoLink,           // no contact reference at all: matched by the contact's exact email
};

struct ColumnRule {
  std::string_view column;
  ColumnScrub scrub;
};

struct Location {
  std::string_view name;     // the key under [related]; also the table (unprefixed)
  Link link;
  std::string_view link_column;
  // An extra condition `column IN (values)` that says a row is about a contact (audit_log's
  // object = 'lead'); empty when none. Values are bound, never spliced.
  std::string_view kind_column;
  std::span<const std::string_view> kind_values;
  std::string_view key_column;  // primary key: row identity and watermark (if integer)
  RowAction default_action;
  std::span<const ColumnRule> columns;  // personal columns; an ip_id column is handled apart
  std::string_view why;
  // What grows with new rows when the key does not (a GUID key): a DATETIME column to keep
  // the watermark on. Empty: the key itself.
  std::string_view watermark_column = {};
};

// Every location, in the order they are processed (children before the rows they hang on).
std::span<const Location> pii_locations();
const Location* find_location(std::string_view name);

// The table as Markdown, between the markers ARCHITECTURE.md carries; a test checks that the
// document holds exactly this text, so the documentation and the code are one source.
std::string locations_markdown();

// The name of the dynamic form results tables' location.
inline constexpr std::string_view kFormResultsLocation = "form_results";

}  // namespace mgdpr::mautic
