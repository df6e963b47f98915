// SPDX-License-Identifier: GPL-3.0-or-later
// Applies the location table (locations.h) to the live database: a processed contact's rows in
// every table outside the profile are scrubbed or deleted, its IP links go (and an IP nobody
// else uses), and rows Mautic writes about a processed contact later are found by per-location
// watermarks and cleaned on the next sweep.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <vector>

#include "core/config.h"
#include "core/result.h"
#include "db/connection.h"
#include "mautic/locations.h"
#include "mautic/schema.h"

namespace mgdpr::mautic {

using TableCounts = std::map<std::string, uint64_t>;

// One location as it applies to this database.
struct LocationPlan {
  const Location* location = nullptr;
  RowAction action = RowAction::kScrub;
  std::string origin;               // "default" or the config line
  std::vector<std::string> tables;  // existing tables (unprefixed); several for form results
};

struct RelatedPlan {
  std::vector<LocationPlan> locations;  // the ones that exist here
  std::vector<std::string> missing;     // location names whose table this Mautic lacks
  std::vector<std::string> problems;    // `file:line: problem; fix`
};

// Resolves [related] overrides against the table and the live schema.
RelatedPlan build_related_plan(const Config& config, const Schema& schema);

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

  // Every location's rows of these contacts. Runs inside the caller's transaction, so the
  // contacts' related rows change together with their profiles or not at all.
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
  struct Filter;
  struct RowSelection;
  struct RowUpdate;
  RowSelection select_rows(const Location& location, const std::string& table,
                           const Filter& filter) const;
  Status apply(const LocationPlan& plan, const std::string& table, const Filter& filter,
               TableCounts& changed);
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
  Status apply_webhook_queue(const LocationPlan& plan, const std::string& table,
                             const Filter& filter, TableCounts& changed);
  Status apply_late_email_match(const LocationPlan& plan, const std::string& table,
                                const Filter& filter, TableCounts& changed);
  Status apply_email_match(const LocationPlan& plan, const std::string& table,
                           std::span<const ContactIdentity> contacts, TableCounts& changed);
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
