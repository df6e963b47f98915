// SPDX-License-Identifier: GPL-3.0-or-later
// Rows a contact leaves behind when Mautic deletes it (UI, API, campaign action,
// maintenance:cleanup). A delete is an erasure too, so by default ([orphans] action) those rows
// get their location's action, as a processed contact's would. How each location's orphans are
// found is Location::orphans:
//  - rows that keep the deleted contact's id (no foreign key): every sweep, for the contacts
//    Mautic's audit log says it deleted since the last sweep (its `object = 'lead'`,
//    `action = 'delete'` rows, read above a watermark), and in the hourly full pass, when
//    contacts went missing without such a row (raw SQL), through an index on the link;
//  - rows whose link Mautic set to NULL: in the hourly full pass, when contacts went missing
//    since the last one (a census of `leads`);
//  - children of parent rows that are gone (a note's audit trail): in every full pass.
#include <algorithm>
#include <cinttypes>
#include <cstdio>

#include "mautic/clean_state.h"
#include "mautic/content_match.h"
#include "mautic/location_walk.h"
#include "mautic/own_tables.h"
#include "mautic/related_scrubber.h"

namespace mgdpr::mautic {

using db::Param;
using db::quote_identifier;

namespace {

// Rows per transaction when NULL links are rescanned; deleted contacts per journal batch.
constexpr int64_t kOrphanWindow = 20000;
constexpr size_t kDeletedPerBatch = 500;
constexpr std::string_view kJournalRecord = "orphans:journal";
constexpr std::string_view kCensusMeta = "leads_census";

}  // namespace

// Per table: the orphans the pass can find, in their own transactions.
class RelatedScrubber::OrphanRows : public LocationVisitor {
 public:
  struct Scope {
    const ContactSet* deleted = nullptr;  // the contacts the journal names: rows keeping the id
    bool full_pass = false;               // rows whose parent row is gone
    bool contacts_missing = false;        // NULL links, and gone ids through an index
  };
  OrphanRows(RelatedScrubber& scrubber, TableCounts& changed, Scope scope,
             std::optional<int64_t> placeholder_ip)
      : scrubber_(scrubber), changed_(changed), scope_(scope), placeholder_ip_(placeholder_ip) {}

  Status linked(const LocationPlan& plan, const std::string& table) override {
    auto set = orphans_of(plan, table);
    if (!set) return {};
    // Only rows not clean yet (clean_state.h): a row scrubbed by an earlier pass is read, not
    // written again.
    const CleanCheck check = clean_check(plan, table, scrubber_.schema_, placeholder_ip_);
    if (check.empty()) return {};
    return in_windows(plan, table, [&](const KeyRange& range) -> Status {
      RowSelection rows = rows_of(*plan.location, table, scrubber_.schema_, *set, range);
      rows.where += " AND (" + check.any_sql() + ")";
      rows.params.insert(rows.params.end(), check.plain_params.begin(), check.plain_params.end());
      // Most windows hold no orphan to clean: one look that stops at the first, rather than
      // the reads and the UPDATE of apply() finding nothing.
      MGDPR_ASSIGN_OR_RETURN(auto any, scrubber_.connection_.query_value(
                                           fmt::format("SELECT EXISTS (SELECT 1 FROM {} WHERE {})",
                                                       rows.from, rows.where),
                                           rows.params));
      if (db::cell_to_int(any).value_or(0) == 0) return {};
      return scrubber_.apply(plan, table, rows, changed_);
    });
  }
  Status in_payload(const LocationPlan& plan, const std::string& table) override {
    auto set = orphans_of(plan, table);
    if (!set) return {};
    return in_windows(plan, table, [&](const KeyRange& range) -> Status {
      MGDPR_ASSIGN_OR_RETURN(
          auto found, rows_naming_contacts(scrubber_.connection_, scrubber_.schema_,
                                           *plan.location, table, *set, range));
      MGDPR_TRY(scrubber_.name_unhandled(std::move(found.unreadable)));
      return scrubber_.apply_to_keys(plan, table, found.keys, changed_);
    });
  }
  // Free text names no id: a deleted contact's address there cannot be found.
  Status in_text(const LocationPlan&, const std::string&) override { return {}; }

 private:
  // Which rows of the table are orphans this pass can find; nullopt when none.
  std::optional<ContactSet> orphans_of(const LocationPlan& plan, const std::string& table) const {
    const Location& location = *plan.location;
    switch (location.orphans) {
      case Orphans::kDeletedWithContact:
      case Orphans::kLeftForDelivery:
      case Orphans::kNotFindable:
        return std::nullopt;
      case Orphans::kLinkNulled:
        if (!scope_.contacts_missing) return std::nullopt;
        return ContactSet::unlinked();
      case Orphans::kParentGone:
        if (!scope_.full_pass) return std::nullopt;
        return ContactSet::gone();
      case Orphans::kIdKept:
        if (scope_.deleted != nullptr) return *scope_.deleted;
        // Without an index every such pass would read the whole table: those orphans are
        // found through the journal only (ARCHITECTURE.md says which). Below a parent row
        // (a declared table) gone() would mean the parent, not its contact.
        if (!scope_.contacts_missing || location.link == Link::kParentRow ||
            (location.link == Link::kColumn && !link_indexed(location, table))) {
          return std::nullopt;
        }
        return ContactSet::gone();
    }
    return std::nullopt;
  }

  bool link_indexed(const Location& location, const std::string& table) const {
    const Schema& schema = scrubber_.schema_;
    const std::string_view link[] = {location.link_column};
    const std::string_view kind_then_link[] = {location.kind_column, location.link_column};
    return schema.has_index_on(table, link) ||
           (!location.kind_column.empty() && schema.has_index_on(table, kind_then_link));
  }

  // The deep pass walks the table in windows of its integer key, one transaction each; the
  // journal's few contacts are one transaction.
  Status in_windows(const LocationPlan& plan, const std::string& table,
                    const std::function<Status(const KeyRange&)>& work) {
    db::Connection& connection = scrubber_.connection_;
    const Schema& schema = scrubber_.schema_;
    const std::string_view key_name = plan.location->key_column;
    const ColumnInfo* key = key_name.empty() ? nullptr : schema.column(table, key_name);
    const bool windowed = scope_.deleted == nullptr && key != nullptr && key->is_integer();
    KeyRange range;
    int64_t high = 0;
    if (windowed) {
      MGDPR_ASSIGN_OR_RETURN(auto top, connection.query_value(fmt::format(
                                           "SELECT COALESCE(MAX({}), 0) FROM {}",
                                           quote_identifier(key->name), schema.table(table))));
      high = db::cell_to_int(top).value_or(0);
      range = {.column = key->name, .above = 0};
    }
    do {
      if (windowed) range.up_to = std::min(*range.above + kOrphanWindow, high);
      MGDPR_ASSIGN_OR_RETURN(auto transaction, db::Transaction::begin(connection));
      MGDPR_TRY(work(range));
      MGDPR_TRY(scrubber_.drop_orphan_ips(changed_, /*unlink_processed=*/false));
      MGDPR_TRY(transaction.commit());
      range.above = range.up_to;
    } while (windowed && *range.above < high);
    return {};
  }

  RelatedScrubber& scrubber_;
  TableCounts& changed_;
  const Scope scope_;
  const std::optional<int64_t> placeholder_ip_;
};

Status RelatedScrubber::scrub_orphans(TableCounts& changed, bool full_pass) {
  // The census is taken before the journal is read: a contact deleted meanwhile is noticed by
  // the next pass, never skipped.
  std::optional<std::string> census;
  bool contacts_went_missing = false;
  if (full_pass) {
    MGDPR_ASSIGN_OR_RETURN(auto counted,
                           connection_.query(fmt::format("SELECT COALESCE(MAX(id), 0), COUNT(*) "
                                                         "FROM {}",
                                                         schema_.table("leads"))));
    const int64_t top = db::cell_to_int(counted.rows[0][0]).value_or(0);
    const int64_t count = db::cell_to_int(counted.rows[0][1]).value_or(0);
    census = fmt::format("{}:{}", top, count);
    MGDPR_ASSIGN_OR_RETURN(auto before, read_meta(connection_, schema_, kCensusMeta));
    contacts_went_missing = true;  // never counted (or not readable): look once
    int64_t top_before = 0;
    int64_t count_before = 0;
    if (before &&
        std::sscanf(before->c_str(), "%" SCNd64 ":%" SCNd64, &top_before, &count_before) == 2) {
      MGDPR_ASSIGN_OR_RETURN(
          auto added, connection_.query_value(fmt::format("SELECT COUNT(*) FROM {} WHERE id > ?",
                                                          schema_.table("leads")),
                                              {top_before}));
      contacts_went_missing = count < count_before + db::cell_to_int(added).value_or(0);
    }
  }

  MGDPR_TRY(scrub_journal_orphans(changed));

  if (full_pass) {
    MGDPR_ASSIGN_OR_RETURN(auto placeholder, read_meta(connection_, schema_, "placeholder_ip_id"));
    OrphanRows deep(*this, changed, {.full_pass = true, .contacts_missing = contacts_went_missing},
                    db::cell_to_int(placeholder));
    MGDPR_TRY(walk_locations(plan_, deep));
  }
  if (census) MGDPR_TRY(write_meta(connection_, schema_, kCensusMeta, *census));
  return {};
}

Status RelatedScrubber::scrub_journal_orphans(TableCounts& changed) {
  if (!schema_.has_table("audit_log")) return {};
  MGDPR_ASSIGN_OR_RETURN(
      auto mark, connection_.query_value(fmt::format("SELECT last_id FROM {} WHERE location = ?",
                                                     schema_.table("gdpr_watermarks")),
                                         {std::string(kJournalRecord)}));
  MGDPR_ASSIGN_OR_RETURN(auto top,
                         connection_.query_value(fmt::format("SELECT COALESCE(MAX(id), 0) FROM {}",
                                                             schema_.table("audit_log"))));
  const int64_t last = db::cell_to_int(mark).value_or(0);
  const int64_t high = db::cell_to_int(top).value_or(0);
  if (high <= last) return {};
  MGDPR_ASSIGN_OR_RETURN(auto placeholder, read_meta(connection_, schema_, "placeholder_ip_id"));
  MGDPR_ASSIGN_OR_RETURN(
      auto rows,
      connection_.query(fmt::format("SELECT DISTINCT object_id FROM {} WHERE id > ? AND id <= ? "
                                    "AND object = 'lead' AND action = 'delete'",
                                    schema_.table("audit_log")),
                        {last, high}));
  std::vector<int64_t> named;
  for (const auto& row : rows.rows) {
    if (auto id = db::cell_to_int(row[0])) named.push_back(*id);
  }
  // Still gone (not restored, not merged into another contact).
  MGDPR_ASSIGN_OR_RETURN(auto gone, members_of(connection_, schema_, named, ContactSet::gone()));
  const std::vector<int64_t> deleted(gone.begin(), gone.end());
  for (size_t first = 0; first < deleted.size(); first += kDeletedPerBatch) {
    const ContactSet set = ContactSet::of(std::span<const int64_t>(deleted).subspan(
        first, std::min(kDeletedPerBatch, deleted.size() - first)));
    OrphanRows orphans(*this, changed, {.deleted = &set}, db::cell_to_int(placeholder));
    MGDPR_TRY(walk_locations(plan_, orphans));
  }
  return move_watermark(std::string(kJournalRecord), high);
}

}  // namespace mgdpr::mautic
