// SPDX-License-Identifier: GPL-3.0-or-later
// Rows that no SQL can tie to a contact, found by what they carry: queued webhook payloads (the
// contact id inside the JSON, kPayload locations) and free text (the address, kText). The
// scrubber acts on the rows these return and `verify` counts them: one finder for both.
#pragma once

#include <functional>
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
  std::vector<std::string> keys;  // rows whose payload names one of the contacts
  // Payloads that cannot be read (not JSON, nested or inflating beyond the limits): whose they
  // are cannot be told, so they are named (outcome "left"), never guessed.
  std::vector<UnhandledRow> unreadable;
};

// The rows of a payload table within `range` whose payload names one of the contacts (keys:
// their id), and those whose payload cannot be read.
Result<PayloadRows> rows_naming_contacts(db::Connection& connection, const Schema& schema,
                                         const std::string& table, const ContactSet& contacts,
                                         const KeyRange& range = {});

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
