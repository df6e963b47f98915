// SPDX-License-Identifier: GPL-3.0-or-later
// `mautic-gdpr verify`: proof, by content, that nothing personal is left of the processed
// contacts still on do-not-contact. Every location (a reader of the one walk) and the profile
// are checked with the same conditions the sweep repairs (clean_state.h); violations are counts
// per location and column, never a value. Read only, in one consistent snapshot.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "core/result.h"
#include "db/connection.h"
#include "mautic/contact_policy.h"
#include "mautic/content_match.h"
#include "mautic/related_plan.h"
#include "mautic/schema.h"

namespace mgdpr::mautic {

struct Violation {
  std::string location;  // "profile", "do-not-contact", a location name, "ip_addresses"
  std::string table;     // unprefixed
  int64_t rows = 0;      // rows that still hold personal data (or should not exist)
  std::vector<std::pair<std::string, int64_t>> columns;  // rows per column
};

struct VerifyReport {
  int64_t contacts_checked = 0;  // processed and still on do-not-contact
  int64_t returned = 0;          // processed, then came back by choice: theirs, not checked
  int64_t tables_checked = 0;
  std::vector<Violation> violations;
  // Queued payloads that cannot be read: whether they hold a processed contact's data cannot
  // be told, so nothing is proven clean while they are there.
  std::vector<UnhandledRow> unreadable;

  bool clean() const { return violations.empty() && unreadable.empty(); }
};

// REQUIRES: no transaction open on the connection (verify opens its own read-only snapshot).
Result<VerifyReport> verify_processed(db::Connection& connection, const Schema& schema,
                                      const ContactPolicy& policy, const RelatedPlan& plan,
                                      const EmailDigest& email_digest);

}  // namespace mgdpr::mautic
