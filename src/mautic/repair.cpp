// SPDX-License-Identifier: GPL-3.0-or-later
// The content check and repair of processed contacts' rows: whatever Mautic wrote about them
// after they were processed, and however (a late open updating an old row, a new page hit, a
// plugin's direct SQL), a row that is not clean (clean_state.h) is found and repaired.
#include <algorithm>

#include "mautic/clean_state.h"
#include "mautic/location_walk.h"
#include "mautic/own_tables.h"
#include "mautic/related_scrubber.h"

namespace mgdpr::mautic {

using db::Param;
using db::quote_identifier;

namespace {

// Rows per repair transaction: bounds the locks held against Mautic and the memory used when
// many rows need repair (a location switched from keep to scrub, say).
constexpr int64_t kRepairBatch = 2000;

}  // namespace

class RelatedScrubber::Repair : public LocationVisitor {
 public:
  Repair(RelatedScrubber& scrubber, TableCounts& repaired, int64_t& retries,
         std::optional<int64_t> placeholder_ip, const RepairScope& scope)
      : scrubber_(scrubber),
        repaired_(repaired),
        retries_(retries),
        placeholder_ip_(placeholder_ip),
        scope_(scope),
        processed_(ContactSet::processed(scrubber.schema_, scope.processed_before)) {}

  // The tables this pass checked, for gdpr_watermarks.
  const std::vector<std::string>& checked() const { return checked_; }

  Status linked(const LocationPlan& plan, const std::string& table) override {
    const auto contacts = contacts_in(table);
    if (!contacts) return {};
    const Schema& schema = scrubber_.schema_;
    const CleanCheck check = clean_check(plan, table, schema, placeholder_ip_);
    if (!check.empty()) {
      RowSelection dirty = rows_of(*plan.location, table, schema, *contacts);
      dirty.where += " AND (" + check.any_sql() + ")";
      dirty.params.insert(dirty.params.end(), check.plain_params.begin(), check.plain_params.end());
      const std::string_view key = plan.location->key_column;
      if (key.empty() || schema.column(table, key) == nullptr) {
        MGDPR_TRY(repair_rows(plan, table, dirty));
      } else {
        MGDPR_TRY(repair_by_key(plan, table, dirty, std::string(key)));
      }
    }
    checked_.push_back(record_name(*plan.location, table));
    return {};
  }

  Status in_payload(const LocationPlan& plan, const std::string& table) override {
    const auto contacts = contacts_in(table);
    if (!contacts) return {};
    MGDPR_ASSIGN_OR_RETURN(auto found, rows_naming_contacts(scrubber_.connection_,
                                                            scrubber_.schema_, *plan.location,
                                                            table, *contacts));
    MGDPR_TRY(scrubber_.name_unhandled(std::move(found.unreadable)));
    MGDPR_TRY(repair_keys(plan, table, found.keys));
    checked_.push_back(record_name(*plan.location, table));
    return {};
  }

  Status in_text(const LocationPlan& plan, const std::string& table) override {
    if (!contacts_in(table)) return {};
    MGDPR_ASSIGN_OR_RETURN(
        auto keys, rows_naming_processed_addresses(scrubber_.connection_, scrubber_.schema_,
                                                   *plan.location, table, scrubber_.email_digest_));
    MGDPR_TRY(repair_keys(plan, table, keys));
    checked_.push_back(record_name(*plan.location, table));
    return {};
  }

 private:
  bool in_scope(const std::string& table) const {
    return !scope_.tables || scope_.tables->contains(table) != scope_.except_tables;
  }

  // The contacts whose rows in `table` are checked; none when the table is out of scope.
  std::optional<ContactSet> contacts_in(const std::string& table) const {
    if (!in_scope(table)) return std::nullopt;
    if (!scope_.contacts_by_table) return processed_;
    auto it = scope_.contacts_by_table->find(table);
    if (it == scope_.contacts_by_table->end() || it->second.empty()) return std::nullopt;
    return ContactSet::of(it->second);
  }

  // The selected rows in one transaction (tables without a key: only delete locations).
  Status repair_rows(const LocationPlan& plan, const std::string& table, const RowSelection& rows) {
    return scrubber_.in_own_transaction(
        [&](TableCounts& counts) -> Status {
          MGDPR_TRY(scrubber_.apply(plan, table, rows, counts));
          return scrubber_.drop_orphan_ips(counts, /*unlink_processed=*/true);
        },
        repaired_, retries_);
  }

  // The dirty rows' keys are read without locks, in key order, a batch at a time; each batch is
  // repaired in its own transaction, where the UPDATE re-checks the condition under the rows'
  // locks. Each key is visited once per pass, so the pass ends even when a value cannot be
  // recorded as clean.
  Status repair_by_key(const LocationPlan& plan, const std::string& table,
                       const RowSelection& dirty, const std::string& key) {
    db::Connection& connection = scrubber_.connection_;
    const std::string key_sql = "t." + quote_identifier(key);
    std::optional<std::string> cursor;
    while (true) {
      std::vector<Param> params = dirty.params;
      std::string where = dirty.where;
      if (cursor) {
        where += fmt::format(" AND {} > ?", key_sql);
        params.push_back(db::key_param(*cursor));
      }
      params.emplace_back(kRepairBatch);
      MGDPR_ASSIGN_OR_RETURN(
          auto found, connection.query(
                          fmt::format("SELECT DISTINCT {0} FROM {1} WHERE {2} ORDER BY {0} LIMIT ?",
                                      key_sql, dirty.from, where),
                          params));
      if (found.empty()) return {};
      std::vector<Param> keys;
      for (const auto& row : found.rows) {
        if (row[0]) keys.push_back(db::key_param(*row[0]));
      }
      cursor = found.rows.back()[0];
      RowSelection batch = dirty;
      batch.where += fmt::format(" AND {} IN ({})", key_sql, db::placeholders(keys.size()));
      batch.params.insert(batch.params.end(), keys.begin(), keys.end());
      MGDPR_TRY(repair_rows(plan, table, batch));
      if (int64_t(found.size()) < kRepairBatch || !cursor) return {};
    }
  }

  Status repair_keys(const LocationPlan& plan, const std::string& table,
                     const std::vector<std::string>& keys) {
    if (keys.empty()) return {};
    return scrubber_.in_own_transaction(
        [&](TableCounts& counts) { return scrubber_.apply_to_keys(plan, table, keys, counts); },
        repaired_, retries_);
  }

  RelatedScrubber& scrubber_;
  TableCounts& repaired_;
  int64_t& retries_;
  const std::optional<int64_t> placeholder_ip_;
  const RepairScope& scope_;
  const ContactSet processed_;
  std::vector<std::string> checked_;
};

Status RelatedScrubber::repair(TableCounts& repaired, bool full_pass, int64_t& retries) {
  MGDPR_TRY(repair_locations(repaired, retries, {}));
  return finish_repair(repaired, full_pass, retries);
}

Status RelatedScrubber::repair_locations(TableCounts& repaired, int64_t& retries,
                                         const RepairScope& scope) {
  MGDPR_ASSIGN_OR_RETURN(auto placeholder, read_meta(connection_, schema_, "placeholder_ip_id"));
  Repair repair(*this, repaired, retries, db::cell_to_int(placeholder), scope);
  MGDPR_TRY(walk_locations(plan_, repair));
  return scope.contacts_by_table ? Status{} : mark_checked(repair.checked());
}

Status RelatedScrubber::finish_repair(TableCounts& repaired, bool full_pass, int64_t& retries) {
  return in_own_transaction(
      [&](TableCounts& counts) { return drop_unreferenced_ips(counts, full_pass); }, repaired,
      retries);
}

Status RelatedScrubber::mark_checked(const std::vector<std::string>& tables) {
  // One statement for every table a pass checked, not one autocommit per table.
  if (tables.empty()) return {};
  std::vector<db::Param> params(tables.begin(), tables.end());
  std::vector<std::string> tuples(tables.size(), "(?, 0, UTC_TIMESTAMP(6))");
  MGDPR_TRY(connection_.execute(
      fmt::format("INSERT INTO {} (location, last_id, cleaned_at) VALUES {} ON DUPLICATE KEY "
                  "UPDATE cleaned_at = VALUES(cleaned_at)",
                  schema_.table("gdpr_watermarks"), db::join(tuples, ", ")),
      params));
  return {};
}

Status RelatedScrubber::move_watermark(const std::string& record, int64_t last) {
  MGDPR_TRY(connection_.execute(
      fmt::format("INSERT INTO {} (location, last_id, cleaned_at) VALUES (?, ?, "
                  "UTC_TIMESTAMP(6)) ON DUPLICATE KEY UPDATE last_id = VALUES(last_id), "
                  "cleaned_at = VALUES(cleaned_at)",
                  schema_.table("gdpr_watermarks")),
      {record, last}));
  return {};
}

// Every table of every location, kept ones too, with when its rows were last checked clean.
class RelatedScrubber::Watermarks : public EveryTableVisitor {
 public:
  Watermarks(const std::map<std::string, std::optional<std::string>>& cleaned,
             std::vector<LocationStatus>& statuses)
      : cleaned_(cleaned), statuses_(statuses) {}
  Status table(const LocationPlan& plan, const std::string& table) override {
    const std::string record = record_name(*plan.location, table);
    auto found = cleaned_.find(record);
    statuses_.push_back({record, found == cleaned_.end() ? std::nullopt : found->second});
    return {};
  }

 private:
  const std::map<std::string, std::optional<std::string>>& cleaned_;
  std::vector<LocationStatus>& statuses_;
};

Result<std::vector<RelatedScrubber::LocationStatus>> RelatedScrubber::watermark_status() {
  std::map<std::string, std::optional<std::string>> cleaned;
  if (schema_.has_table("gdpr_watermarks")) {
    MGDPR_ASSIGN_OR_RETURN(auto rows,
                           connection_.query(fmt::format("SELECT location, cleaned_at FROM {}",
                                                         schema_.table("gdpr_watermarks"))));
    for (const auto& row : rows.rows) cleaned[row[0].value_or("")] = row[1];
  }
  std::vector<LocationStatus> statuses;
  Watermarks watermarks(cleaned, statuses);
  MGDPR_TRY(walk_locations(plan_, watermarks, KeptLocations::kVisit));
  return statuses;
}

}  // namespace mgdpr::mautic
