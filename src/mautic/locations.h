// SPDX-License-Identifier: GPL-3.0-or-later
// Where Mautic keeps a contact's personal data outside the profile: one table of data (one row
// per location). Everything else reads it the same way: location_rows.h builds "the rows of a
// location for these contacts" (and says which location a table is), location_walk.h walks the
// locations and calls a reader back per kind of link, and `mautic-gdpr locations --markdown`
// prints it into ARCHITECTURE.md. There is no SQL about these tables anywhere else.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>

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

// How a row is tied to a contact. Each kind is one callback of LocationVisitor
// (location_walk.h): a new kind does not compile until every reader says what it means.
enum class Link {
  kColumn,     // link_column holds the contact id
  kParentRow,  // link_column holds the key of a row of `parent`, whose contact column is the contact
  kPayload,    // contact ids inside the row's content (`payload` says how to read them); no SQL
               // can select these rows
  kText,       // no reference at all: the contact's exact email address inside free text
};

// How a kPayload location's content names contacts.
enum class Payload {
  kNone,
  kWebhookJson,        // a Mautic webhook payload (JSON, or zlib JSON in payload_compressed)
  kMessengerEnvelope,  // a Symfony messenger envelope (PHP serialize(), addslashes, maybe base64)
                       // whose messages carry `leadId`
  kContactLinks,       // HTML with links to contact pages, /s/contacts/view/<id>
};

// The row a kParentRow location hangs on (email_stats_devices.stat_id -> email_stats.id).
struct ParentRow {
  std::string_view table;                       // unprefixed
  std::string_view key = "id";                  // its column that link_column holds
  std::string_view contact_column = "lead_id";  // its column holding the contact id
  // Only parent rows where this column IS NULL (one-off emails: email_stats.email_id); empty
  // when none.
  std::string_view null_column = {};
};

// What is left of a location's rows after Mautic deletes a contact (UI, API, campaign action,
// maintenance:cleanup), and so how mautic-gdpr finds those orphans (orphans.cpp). A kParentRow
// location follows its parent's link.
enum class Orphans {
  kDeletedWithContact,  // a foreign key ON DELETE CASCADE: Mautic deletes the rows itself
  kLinkNulled,          // ON DELETE SET NULL: the rows stay with a NULL link, found by it
  kIdKept,              // no foreign key: the rows keep the deleted contact's id
  kParentGone,          // the parent row goes with the contact, so its children are found by
                        // their parent being gone
  kLeftForDelivery,     // found, and deliberately left: a queue Mautic empties itself, carrying
                        // the delete event to its receiver
  kNotFindable,         // nothing ties the rows to an id any more
};

// Which tables a location covers.
enum class Tables {
  kNamed,    // the one table named like the location
  kPerForm,  // Mautic's dynamic form results tables: form_results_<form id>_<alias>
};

struct ColumnRule {
  std::string_view column;
  ColumnScrub scrub = ColumnScrub::kClear;
};

struct Location {
  std::string_view name;  // the key under [related]
  std::string_view table = {};  // unprefixed; empty: the same as `name`
  Tables tables = Tables::kNamed;
  Link link = Link::kColumn;
  // kColumn: the contact id; kParentRow: the parent row's key; kPayload: the content column;
  // kText: the free-text column.
  std::string_view link_column = "lead_id";
  ParentRow parent = {};  // kParentRow only
  Payload payload = Payload::kNone;  // kPayload only
  // An extra condition `column IN (values)` that says a row is about a contact (audit_log's
  // object = 'lead'); empty when none. Values are bound, never spliced.
  std::string_view kind_column = {};
  std::span<const std::string_view> kind_values = {};
  std::string_view key_column = "id";  // row identity and watermark (if integer); "" for none
  RowAction default_action = RowAction::kScrub;
  std::span<const ColumnRule> columns = {};  // personal columns; an ip_id column is handled apart
  // Every column but these is personal and cleared (form answers: one column per form field).
  std::span<const std::string_view> every_column_but = {};
  Orphans orphans = Orphans::kDeletedWithContact;
  std::string_view why;
  // What grows with new rows when the key does not (a GUID key): a DATETIME column to keep
  // the watermark on. Empty: the key itself.
  std::string_view watermark_column = {};

  // The table a kNamed location covers.
  std::string_view named_table() const { return table.empty() ? name : table; }
};

// Every location, in the order they are processed (children before the rows they hang on).
std::span<const Location> pii_locations();
const Location* find_location(std::string_view name);

// What `orphans` means for a location, in words (the generated table's column).
std::string_view orphans_description(Orphans orphans);

// A table of Mautic's that is deliberately not a location, and why.
struct LeftAlone {
  std::string_view table;  // unprefixed
  std::string_view why;
};
std::span<const LeftAlone> left_alone_tables();
const LeftAlone* find_left_alone(std::string_view unprefixed);

// The table as Markdown, between the markers ARCHITECTURE.md carries; a test checks that the
// document holds exactly this text, so the documentation and the code are one source.
std::string locations_markdown();

}  // namespace mgdpr::mautic
