// SPDX-License-Identifier: GPL-3.0-or-later
// Applies the location table (locations.h) to the live database: a processed contact's rows in
// every table outside the profile are scrubbed or deleted, its IP links go (and an IP nobody
// else uses), and whatever Mautic writes about a processed contact later (a late open updating
// an old row, a new page hit, a plugin's direct SQL) is found by content (clean_state.h) and
// repaired by the next sweep. Each public operation is a reader of the one walk
// (location_walk.h) and selects rows through the one builder (location_rows.h).
//
// The class is split by concern over several files: related_scrubber.cpp (scrubbing selected
// rows, one UPDATE per table), repair.cpp (the content check and repair of processed
// contacts' rows), ip_addresses.cpp (unlinking and dropping IPs), unlinked_locations.cpp (rows
// found by content: payloads, free text), orphans.cpp (rows of contacts Mautic deleted).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "core/result.h"
#include "db/connection.h"
#include "mautic/content_match.h"
#include "mautic/location_rows.h"
#include "mautic/related_plan.h"
#include "mautic/schema.h"
#include "mautic/unhandled.h"

namespace mgdpr::mautic {

using TableCounts = std::map<std::string, uint64_t>;

// What is known of a contact while it is processed (for locations with no contact column).
struct ContactIdentity {
  int64_t id = 0;
  std::optional<std::string> email;  // the clear address, before the profile is changed
};

// SQL condition on an ip_addresses row `i`: no row of any table references it.
std::string unreferenced_ip_sql(const Schema& schema);

// Which rows a content check looks at: by default every processed contact's rows in every
// table; the change queue narrows it to the queued contacts in the tables their writes went to,
// and the tables its triggers do not cover in full.
struct RepairScope {
  const std::set<std::string>* tables = nullptr;  // default: every table
  bool except_tables = false;                     // true: every table but `tables`
  // Only those processed before this time (the sweep's start); default: every one.
  std::optional<std::string> processed_before{};
  // The queue's narrowing: in each table these contacts only (known to be processed and still
  // on do-not-contact); a table not named is not checked.
  const std::map<std::string, std::vector<int64_t>>* contacts_by_table = nullptr;
};

// Structured values known to be in scrubbed form: (clean_value_kind, SHA-256 hex).
using CleanDigests = std::set<std::pair<int, std::string>>;

class RelatedScrubber {
 public:
  // The keyed digest of an email address as the profile's email column stores it; empty
  // when the policy does not hash email (then free text written later cannot be matched).
  using EmailDigest = mautic::EmailDigest;

  RelatedScrubber(db::Connection& connection, const Schema& schema, const RelatedPlan& plan,
                  EmailDigest email_digest = {});

  // How scrub_contacts' batch runs. kAlone (a webhook, a request): everything in the caller's
  // transaction. kSideBySide (the sweep's batches, [sweep] workers): what every batch writes
  // alike waits, or two batches would wait for each other's locks: the IPs the rows unlinked
  // are recorded in gdpr_ip_candidates for drop_ip_candidates (deleting one takes shared locks
  // on every table that references it), and the structured values known clean are kept for
  // take_clean_values (every batch records the same few scrubbed forms).
  enum class BatchMode { kAlone, kSideBySide };

  // Every location's rows of these contacts.
  // REQUIRES: a transaction is open on the connection (the caller's), so the contacts' related
  // rows change together with their profiles or not at all.
  Status scrub_contacts(std::span<const ContactIdentity> contacts, TableCounts& changed,
                        BatchMode mode = BatchMode::kAlone);
  // The digests of the structured values known clean that a kSideBySide scrub kept, for
  // record_clean_digests once its transaction committed.
  CleanDigests take_clean_values() { return std::exchange(kept_clean_, {}); }
  // Records digests of structured values known to be in scrubbed form (gdpr_clean_values), so
  // the content check does not read them again. Outside a transaction too: a scrubbed form is
  // clean whether or not the write that made it committed.
  Status record_clean_digests(const CleanDigests& digests);

  // The IP addresses recorded by scrub_contacts(..., BatchMode::kSideBySide), a sweep's earlier
  // one's too: those nobody references any more are deleted, and every one leaves the table. Each
  // range of ids in a transaction of its own.
  Status drop_ip_candidates(TableCounts& changed, int64_t& retries);

  // Every processed contact's rows that are not clean (clean_state.h), whenever and however
  // they got so, found by content and repaired: each table in rounds of at most a few
  // thousand rows, one transaction each, retried after a deadlock or lock wait timeout with
  // Mautic's own transactions (counted in `retries`). Idempotent: a crash converges on the
  // next run. full_pass also looks at every IP address no row references any more (otherwise
  // only at the ones added since the previous sweep).
  Status repair(TableCounts& repaired, bool full_pass, int64_t& retries);
  // The two halves of repair(): the locations' rows within a scope (a table checked for every
  // processed contact is recorded as checked for `status`), then the unreferenced IPs, once
  // per sweep.
  Status repair_locations(TableCounts& repaired, int64_t& retries, const RepairScope& scope);
  Status finish_repair(TableCounts& repaired, bool full_pass, int64_t& retries);
  // Records when tables' rows were last checked clean (gdpr_watermarks, for `status`).
  Status mark_checked(const std::vector<std::string>& tables);

  // The rows this scrubber could not handle as the location table says, in the order met (each
  // also recorded in gdpr_unhandled, in the transaction it was met in).
  const std::vector<UnhandledRow>& unhandled() const { return unhandled_; }

  // Rows of contacts Mautic deleted ([orphans] action = "scrub"): those the journal of deletes
  // names, every time; with full_pass, when contacts went missing, NULL links, gone parents
  // and (through an index) gone ids too. Each location's rows in their own transactions.
  Status scrub_orphans(TableCounts& changed, bool full_pass);

  struct LocationStatus {
    std::string table;
    std::optional<std::string> cleaned_at;  // when its rows were last checked clean (UTC)
  };
  Result<std::vector<LocationStatus>> watermark_status();

 private:
  // The walk's readers (location_walk.h), one per operation.
  class ContactsScrub;
  class Repair;
  class IpUnlinker;
  class Watermarks;
  class OrphanRows;

  // The contacts Mautic's audit log says it deleted since the last call: their rows that keep
  // the id, then the journal's watermark moves.
  Status scrub_journal_orphans(TableCounts& changed);

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
  // Payload and free-text rows found by content (content_match.h), by key: deleted, or their
  // personal columns scrubbed.
  Status apply_to_keys(const LocationPlan& plan, const std::string& table,
                       const std::vector<std::string>& keys, TableCounts& changed);
  // webhook_logs at processing time: rows whose text holds one of the contacts' addresses.
  Status apply_email_match(const LocationPlan& plan, const std::string& table,
                           std::span<const ContactIdentity> contacts, TableCounts& changed);
  // Records rows that cannot be handled (gdpr_unhandled) and remembers them for unhandled().
  Status name_unhandled(std::vector<UnhandledRow> rows);
  // Records (or, in a kSideBySide scrub, keeps) structured values known to be in scrubbed
  // form.
  Status record_clean_values(const std::vector<std::pair<int, std::string>>& values);
  // Runs `work` in a transaction of its own; after a deadlock or lock wait timeout (the server
  // rolled it back) it runs again, a bounded number of times. Counts merge only on commit.
  Status in_own_transaction(const std::function<Status(TableCounts&)>& work, TableCounts& total,
                            int64_t& retries);
  Result<int64_t> placeholder_ip();
  // Moves a watermark of mautic-gdpr's own (the audit log's deletes, orphans.cpp); `record` is
  // the name it goes by there (record_name()).
  Status move_watermark(const std::string& record, int64_t last);
  // Deletes the IPs touched since the last call that nobody references any more; with
  // unlink_processed, first removes every processed contact's link to them.
  Status drop_orphan_ips(TableCounts& changed, bool unlink_processed);
  // IP addresses no row references any more (left by a link deleted meanwhile, or by Mautic's
  // own contact delete), at least one sweep old so a Mautic request in flight that is about to
  // link one is never broken: deleted.
  Status drop_unreferenced_ips(TableCounts& changed, bool full_pass);
  // Records the IPs touched since the last call in gdpr_ip_candidates, for drop_ip_candidates.
  Status defer_orphan_ips();

  db::Connection& connection_;
  const Schema& schema_;
  const RelatedPlan& plan_;
  EmailDigest email_digest_;
  std::set<int64_t> touched_ips_;
  bool keep_clean_ = false;  // in a kSideBySide scrub
  CleanDigests kept_clean_;
  std::optional<int64_t> placeholder_ip_;
  std::vector<UnhandledRow> unhandled_;
};

}  // namespace mgdpr::mautic
