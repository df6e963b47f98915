// SPDX-License-Identifier: GPL-3.0-or-later
// Requests that name a person: access (GDPR Art. 15, `export`) and erasure (Art. 17, `erase`).
// The engine finds the contacts and reads or processes them; what an export holds goes to a
// sink, section by section, so nothing in src/mautic owns a file or renders a page (the CLI
// and the pages do, through app/export_document.h).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "db/connection.h"

namespace mgdpr::mautic {

// Receives one section of one contact's export: its name and its rows (never empty). The
// sections, in this order, each only when it has rows:
//   "contact"         the record: id, dates, stage, and the columns that are no field
//   "profile"         field, label, value: every profile field with a value (of a processed
//                     contact: what the policy kept, and anything Mautic wrote since)
//   "processing"      processed contacts: when, why (reason, channel, do-not-contact date), how
//   "do_not_contact"  date, reason, channel, comment of every do-not-contact entry
//   "segments", "campaigns", "tags", "companies", "categories": memberships, by name
//   <table>           every location's table (src/mautic/locations.cpp, unprefixed name, each
//                     form's results table apart): every column of the contact's rows
//   "ip_addresses"    the IP addresses those rows link, with their geo details
using ExportSink =
    std::function<Status(int64_t contact_id, const std::string& section, const db::Rows& rows)>;

struct ExportedContact {
  int64_t contact_id = 0;
  bool processed = false;
  int64_t rows = 0;  // rows handed to the sink, every section together
};

struct ExportSummary {
  std::vector<ExportedContact> contacts;
};

// One thing an erasure changes (or, in a dry run, would change).
struct ErasureItem {
  std::string place;   // "profile", "do_not_contact", a membership or a location's table
  std::string field;   // profile: the field's alias; otherwise empty
  std::string label;   // profile: Mautic's label of the field
  std::string action;  // profile: hash, delete, keep; tables: scrub, delete, keep; "add"
  int64_t count = 0;   // values or rows
};

struct ErasureReport {
  int64_t contact_id = 0;
  bool dry_run = false;
  // Set when the contact was processed before (UTC): nothing was done.
  std::optional<std::string> processed_before;
  std::string comment;                           // of the do-not-contact entries added
  std::vector<std::string> channels_added;       // put on do-not-contact for the request
  std::vector<ErasureItem> items;                // what was there and what happens to it
  std::map<std::string, uint64_t> rows_changed;  // not a dry run: per table, as processing did
  // False when the policy does not hash email: no lookup will find the record and the
  // re-import guard cannot recognise the address.
  bool email_hashed = false;

  // The profile items whose action is `action` (hash, delete, keep).
  std::vector<const ErasureItem*> profile_with(std::string_view action) const;
};

// What an action does to a table's rows, in words for the CLI and the pages.
std::string_view describe_row_action(std::string_view action);

}  // namespace mgdpr::mautic
