// SPDX-License-Identifier: GPL-3.0-or-later
// Rows that no SQL can tie to a contact, found by what they carry: contact ids inside their
// content (webhook payloads, messenger envelopes, notification links: kPayload locations) and
// free text (the address, kText). The scrubber acts on the rows these return and `verify` counts
// them: one finder for both.
#pragma once

#include <cstdint>
#include <functional>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "db/connection.h"
#include "mautic/location_rows.h"
#include "mautic/schema.h"
#include "mautic/unhandled.h"

namespace mgdpr::mautic {

// The keyed digests of an address as the profile's email column stores it: one per key of the
// ring (the active key's first), so addresses processed before a key rotation are found too.
using EmailDigest = std::function<std::vector<std::string>(std::string_view)>;

struct PayloadRows {
  std::vector<std::string> keys;  // rows whose content names one of the contacts
  // Content that cannot be read (not parseable, nested or inflating beyond the limits): whose
  // it is cannot be told, so it is named (outcome "left"), never guessed.
  std::vector<UnhandledRow> unreadable;
};

// Which of these contact ids belong to the set (asked in chunks; the ids need not exist).
Result<std::set<int64_t>> members_of(db::Connection& connection, const Schema& schema,
                                     std::span<const int64_t> ids, const ContactSet& contacts);

// The rows of a payload table (Link::kPayload) within `range` whose content, read in the
// location's format (content_ids.h), names one of the contacts (keys), and those whose content
// cannot be read.
Result<PayloadRows> rows_naming_contacts(db::Connection& connection, const Schema& schema,
                                         const Location& location, const std::string& table,
                                         const ContactSet& contacts, const KeyRange& range = {});

// Keys of the rows of a free-text location within `range` whose text holds an email-shaped word
// that hashes to a processed contact's email digest (gdpr_hashes): the address is gone from
// the profile, its keyed hash is not. Finds nothing without a digest (the policy does not hash
// email).
Result<std::vector<std::string>> rows_naming_processed_addresses(
    db::Connection& connection, const Schema& schema, const Location& location,
    const std::string& table, const EmailDigest& digest, const KeyRange& range = {});

// Words of free text that look like an email address ([local]@[domain]); what surrounds them
// (quotes, brackets, punctuation) is cut off.
std::vector<std::string> email_shaped_words(std::string_view text);

}  // namespace mgdpr::mautic
