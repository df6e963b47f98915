// SPDX-License-Identifier: GPL-3.0-or-later
// Applies the location table (locations.h) to the live database: a processed contact's rows in
// every table outside the profile are scrubbed or deleted, its IP links go (and an IP nobody
// else uses), and rows Mautic writes about a processed contact later are found by per-location
// watermarks and cleaned on the next sweep. Each public operation is a reader of the one walk
// (location_walk.h) and selects rows through the one builder (location_rows.h).
//
// The class is split by concern over several files: related_scrubber.cpp (scrubbing selected
// rows, one UPDATE per table), late_rows.cpp (watermarks), ip_addresses.cpp (unlinking and
// dropping IPs), unlinked_locations.cpp (rows found by content: payloads, free text).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <vector>

#include "core/result.h"
#include "db/connection.h"
#include "mautic/location_rows.h"
#include "mautic/related_plan.h"
#include "mautic/schema.h"

namespace mgdpr::mautic {

using TableCounts = std::map<std::string, uint64_t>;

// What is known of a contact while it is processed (for locations with no contact column).
struct ContactIdentity {
  int64_t id = 0;
  std::optional<std::string> email;  // the clear address, before the profile is changed
};

class RelatedScrubber {
 public:
  // The keyed digest of an email address as the profile's email column stores it; empty
  // when the policy does not hash email (then free text written later cannot be matched).
  using EmailDigest = std::function<std::string(std::string_view)>;

  RelatedScrubber(db::Connection& connection, const Schema& schema, const RelatedPlan& plan,
                  EmailDigest email_digest = {});

  // Every location's rows of these contacts.
  // REQUIRES: a transaction is open on the connection (the caller's), so the contacts' related
  // rows change together with their profiles or not at all.
  Status scrub_contacts(std::span<const ContactIdentity> contacts, TableCounts& changed);

  // Rows added since the last pass that belong to already processed contacts. Each location
  // is one transaction that also moves its watermark: idempotent, so a crash converges.
  // full_pass also covers tables without an integer key and rows below the watermarks.
  Status scrub_late_rows(TableCounts& changed, bool full_pass);

  struct LocationStatus {
    std::string table;
    std::optional<std::string> cleaned_at;
  };
  Result<std::vector<LocationStatus>> watermark_status();

 private:
  // The walk's readers (location_walk.h), one per operation.
  class ContactsScrub;
  class LateRows;
  class IpUnlinker;
  class Watermarks;

  // Deletes the selected rows, or scrubs them with one UPDATE (personal columns cleared,
  // structured values rewritten, ip_id unset).
  Status apply(const LocationPlan& plan, const std::string& table, const RowSelection& rows,
               TableCounts& changed);
  // Plain assignments of one UPDATE ("t.col = NULL"), with the values they bind, in order.
  struct RowUpdate {
    std::vector<std::string> sets;
    std::vector<db::Param> set_params;
  };
  // One UPDATE of the selected rows: `update`'s assignments plus, when `staged`, the scrubbed
  // values of the structured columns from the temporary table stage_structured filled.
  Status write_rows(const std::string& table, const std::string& key_column,
                    const std::vector<const ColumnRule*>& structured, bool staged,
                    const RowSelection& rows, RowUpdate update, TableCounts& changed);
  // Reads the rows' structured values and stages those that scrubbing changes; false when
  // none does (nothing staged). With links_ips, also remembers the IPs the rows link and says
  // whether there were any.
  Result<bool> stage_structured(const std::string& table, const std::string& key_column,
                                const std::vector<const ColumnRule*>& rules,
                                const RowSelection& rows, bool* links_ips);
  // webhook_queue: the rows whose payload names one of the contacts.
  Status apply_payloads(const LocationPlan& plan, const std::string& table,
                        const ContactSet& contacts, const KeyRange& range, TableCounts& changed);
  // webhook_logs at processing time: rows whose text holds one of the contacts' addresses.
  Status apply_email_match(const LocationPlan& plan, const std::string& table,
                           std::span<const ContactIdentity> contacts, TableCounts& changed);
  // webhook_logs later: rows whose email-shaped words hash to a processed contact's digest.
  Status apply_late_email_match(const LocationPlan& plan, const std::string& table,
                                const KeyRange& range, TableCounts& changed);
  Result<int64_t> placeholder_ip();
  Status move_watermark(const std::string& table, int64_t last);
  // Deletes the IPs touched since the last call that nobody references any more; with
  // unlink_processed, first removes every processed contact's link to them.
  Status drop_orphan_ips(TableCounts& changed, bool unlink_processed);

  db::Connection& connection_;
  const Schema& schema_;
  const RelatedPlan& plan_;
  EmailDigest email_digest_;
  std::set<int64_t> touched_ips_;
  std::optional<int64_t> placeholder_ip_;
};

}  // namespace mgdpr::mautic
