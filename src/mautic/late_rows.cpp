// SPDX-License-Identifier: GPL-3.0-or-later
// Rows Mautic writes about a contact after it was processed: found above per-location
// watermarks (and, in the full pass, also just below them and where no key grows).
#include <algorithm>
#include <functional>

#include "mautic/location_walk.h"
#include "mautic/related_scrubber.h"

namespace mgdpr::mautic {

using db::Param;
using db::quote_identifier;

namespace {

// Rows at most this far below a watermark are looked at again: an insert that committed after
// a later one (InnoDB hands out ids at insert, not at commit) is still found.
constexpr int64_t kWatermarkOverlap = 1000;
// The same for a time watermark: rows stamped up to this many seconds before it.
constexpr int64_t kTimeOverlapSeconds = 600;
// Ids per transaction when late rows are looked for (see scrub_late_rows).
constexpr int64_t kLateRowsWindow = 20000;

bool is_integer_column(const ColumnInfo* column) {
  if (column == nullptr) return false;
  static const std::set<std::string, std::less<>> kIntegers = {"tinyint", "smallint", "mediumint",
                                                               "int", "bigint"};
  return kIntegers.contains(column->data_type);
}

// Words of free text that look like an email address: [local]@[domain] with the characters
// addresses use; whatever surrounds them (quotes, brackets, punctuation) is cut off.
std::vector<std::string> email_shaped_words(std::string_view text) {
  auto is_address_char = [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '_' || c == '%' || c == '+' || c == '-' || c == '@';
  };
  std::vector<std::string> words;
  size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && !is_address_char(text[i])) ++i;
    size_t start = i;
    while (i < text.size() && is_address_char(text[i])) ++i;
    std::string_view word = text.substr(start, i - start);
    while (!word.empty() && word.back() == '.') word.remove_suffix(1);
    auto at = word.find('@');
    if (at != std::string_view::npos && at > 0 && at + 1 < word.size() &&
        word.find('@', at + 1) == std::string_view::npos) {
      words.emplace_back(word);
    }
  }
  return words;
}

}  // namespace

// Per table: the rows of processed contacts above its watermark, one window of ids per
// transaction that also moves the watermark.
class RelatedScrubber::LateRows : public LocationVisitor {
 public:
  LateRows(RelatedScrubber& scrubber, TableCounts& changed, bool full_pass, bool anyone_processed)
      : scrubber_(scrubber),
        changed_(changed),
        full_pass_(full_pass),
        anyone_processed_(anyone_processed),
        processed_(ContactSet::processed(scrubber.schema_)) {}

  Status linked(const LocationPlan& plan, const std::string& table) override {
    return in_windows(plan, table, [&](const KeyRange& range) {
      return scrubber_.apply(plan, table,
                             rows_of(*plan.location, table, scrubber_.schema_, processed_, range),
                             changed_);
    });
  }
  Status in_payload(const LocationPlan& plan, const std::string& table) override {
    return in_windows(plan, table, [&](const KeyRange& range) {
      return scrubber_.apply_payloads(plan, table, processed_, range, changed_);
    });
  }
  Status in_text(const LocationPlan& plan, const std::string& table) override {
    return in_windows(plan, table, [&](const KeyRange& range) {
      return scrubber_.apply_late_email_match(plan, table, range, changed_);
    });
  }

 private:
  Status in_windows(const LocationPlan& plan, const std::string& table,
                    const std::function<Status(const KeyRange&)>& work);

  RelatedScrubber& scrubber_;
  TableCounts& changed_;
  const bool full_pass_;
  const bool anyone_processed_;
  const ContactSet processed_;
};

Status RelatedScrubber::LateRows::in_windows(const LocationPlan& plan, const std::string& table,
                                             const std::function<Status(const KeyRange&)>& work) {
  db::Connection& connection = scrubber_.connection_;
  const Schema& schema = scrubber_.schema_;
  const std::string_view mark_name = plan.location->watermark_column.empty()
                                         ? plan.location->key_column
                                         : plan.location->watermark_column;
  const ColumnInfo* key = mark_name.empty() ? nullptr : schema.column(table, mark_name);
  const bool by_time =
      key != nullptr && (key->data_type == "datetime" || key->data_type == "timestamp");
  const bool by_id = is_integer_column(key);
  // Without a growing key nothing says which rows are new: only the full pass looks.
  if (!by_id && !by_time && (!full_pass_ || !anyone_processed_)) return {};

  KeyRange range;
  std::optional<int64_t> high_water;
  if (by_id || by_time) {
    MGDPR_ASSIGN_OR_RETURN(
        auto watermark,
        connection.query_value(fmt::format("SELECT last_id FROM {} WHERE location = ?",
                                           schema.table("gdpr_watermarks")),
                               {table}));
    if (!anyone_processed_ && watermark.has_value()) return {};
    const int64_t last = db::cell_to_int(watermark).value_or(0);
    MGDPR_ASSIGN_OR_RETURN(
        auto top, connection.query_value(fmt::format(
                      "SELECT COALESCE({}(MAX({})), 0) FROM {}", by_time ? "UNIX_TIMESTAMP" : "",
                      quote_identifier(key->name), schema.table(table))));
    high_water = db::cell_to_int(top).value_or(0);
    // Before anyone is processed nothing can be late: the watermark starts at today's rows,
    // so the pass after the first processing looks at new rows only, not at every old one.
    if (!anyone_processed_) return scrubber_.move_watermark(table, *high_water);
    // Nothing above the watermark: an idle sweep costs one index lookup here. The full pass
    // still looks below it, for inserts that committed out of id order.
    if (*high_water <= last && watermark.has_value() && !full_pass_) return {};
    range.column = key->name;
    range.unix_time = by_time;
    range.above = std::max<int64_t>(0, last - (by_time ? kTimeOverlapSeconds : kWatermarkOverlap));
  }
  // Id windows bound the rows held in memory and make a long catch-up (a location switched
  // from keep, say) progress one committed window at a time.
  do {
    if (by_id) range.up_to = std::min(*range.above + kLateRowsWindow, *high_water);
    MGDPR_ASSIGN_OR_RETURN(auto transaction, db::Transaction::begin(connection));
    MGDPR_TRY(work(range));
    MGDPR_TRY(scrubber_.drop_orphan_ips(changed_, /*unlink_processed=*/true));
    MGDPR_TRY(scrubber_.move_watermark(table, range.up_to.value_or(high_water.value_or(0))));
    MGDPR_TRY(transaction.commit());
    range.above = range.up_to;
  } while (by_id && *range.above < *high_water);
  return {};
}

Status RelatedScrubber::scrub_late_rows(TableCounts& changed, bool full_pass) {
  MGDPR_ASSIGN_OR_RETURN(
      auto processed, connection_.query_value(
                          fmt::format("SELECT 1 FROM {} LIMIT 1", schema_.table("gdpr_contacts"))));
  LateRows late(*this, changed, full_pass, processed.has_value());
  return walk_locations(plan_, late);
}

Status RelatedScrubber::move_watermark(const std::string& table, int64_t last) {
  MGDPR_TRY(connection_.execute(
      fmt::format("INSERT INTO {} (location, last_id, cleaned_at) VALUES (?, ?, "
                  "UTC_TIMESTAMP(6)) ON DUPLICATE KEY UPDATE last_id = VALUES(last_id), "
                  "cleaned_at = VALUES(cleaned_at)",
                  schema_.table("gdpr_watermarks")),
      {table, last}));
  return {};
}

Status RelatedScrubber::apply_late_email_match(const LocationPlan& plan, const std::string& table,
                                               const KeyRange& range, TableCounts& changed) {
  // The address is gone from the profile, but its keyed hash is not: every email-shaped word
  // of a new row is hashed the same way and looked up among the processed contacts' digests.
  if (!email_digest_) return {};
  const std::string column = quote_identifier(plan.location->link_column);
  const std::string key = quote_identifier(plan.location->key_column);
  MGDPR_ASSIGN_OR_RETURN(
      auto rows,
      connection_.query(fmt::format("SELECT {}, {} FROM {} WHERE {} > ? AND {} <= ? AND {} LIKE "
                                    "'%@%'",
                                    key, column, schema_.table(table), key, key, column),
                        {range.above.value_or(0), range.up_to.value_or(INT64_MAX)}));
  std::map<std::string, std::vector<std::string>> rows_by_digest;
  for (const auto& row : rows.rows) {
    if (!row[0] || !row[1]) continue;
    for (const std::string& word : email_shaped_words(*row[1])) {
      rows_by_digest[email_digest_(word)].push_back(*row[0]);
    }
  }
  if (rows_by_digest.empty()) return {};
  std::vector<Param> digests;
  for (const auto& entry : rows_by_digest) digests.emplace_back(entry.first);
  MGDPR_ASSIGN_OR_RETURN(
      auto known,
      connection_.query(
          fmt::format("SELECT DISTINCT digest FROM {} WHERE field = 'email' AND digest IN ({})",
                      schema_.table("gdpr_hashes"), db::placeholders(digests.size())),
          digests));
  std::set<std::string> row_keys;
  for (const auto& row : known.rows) {
    for (const auto& row_key : rows_by_digest[row[0].value_or("")]) row_keys.insert(row_key);
  }
  if (row_keys.empty()) return {};
  std::vector<Param> keys;
  for (const auto& row_key : row_keys) keys.push_back(db::key_param(row_key));
  const std::string where = fmt::format("{} IN ({})", key, db::placeholders(keys.size()));
  MGDPR_ASSIGN_OR_RETURN(
      auto done,
      connection_.execute(plan.action == RowAction::kDelete
                              ? fmt::format("DELETE FROM {} WHERE {}", schema_.table(table), where)
                              : fmt::format("UPDATE {} SET {} = NULL WHERE {}",
                                            schema_.table(table), column, where),
                          keys));
  changed[table] += done;
  return {};
}

// Every table of every location, kept ones too, with when its late rows were last cleaned.
class RelatedScrubber::Watermarks : public EveryTableVisitor {
 public:
  Watermarks(const std::map<std::string, std::optional<std::string>>& cleaned,
             std::vector<LocationStatus>& statuses)
      : cleaned_(cleaned), statuses_(statuses) {}
  Status table(const LocationPlan&, const std::string& table) override {
    auto found = cleaned_.find(table);
    statuses_.push_back({table, found == cleaned_.end() ? std::nullopt : found->second});
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
