// SPDX-License-Identifier: GPL-3.0-or-later
// Scrubbing selected rows: the processing of contacts (scrub_contacts) and the one UPDATE per
// table that rewrites a row once, whatever the number of its personal columns.
#include "mautic/related_scrubber.h"

#include <algorithm>
#include <chrono>
#include <thread>

#include "core/hashing.h"
#include "mautic/clean_state.h"
#include "mautic/location_walk.h"
#include "mautic/staged_values.h"

namespace mgdpr::mautic {

using db::Param;
using db::quote_identifier;

namespace {

// Where scrubbed structured values wait for the UPDATE that joins them in: a temporary table,
// private to the connection, dropped after each use.
constexpr std::string_view kScratchTable = "`mgdpr_scrubbed_values`";

}  // namespace

namespace {

// The linked tables that hold any row at all. Most locations are empty tables in a given
// Mautic (SMS, push, social plugins never used): asking once per batch, one statement of
// EXISTS without values, spares each of them its statements for every batch. A row written
// into such a table while the batch runs is a late write, found by the next sweep's check.
class NonEmptyTables : public LocationVisitor {
 public:
  explicit NonEmptyTables(const Schema& schema) : schema_(schema) {}

  Status linked(const LocationPlan&, const std::string& table) override {
    tables_.insert(table);
    return {};
  }
  Status in_payload(const LocationPlan&, const std::string&) override { return {}; }
  Status in_text(const LocationPlan&, const std::string&) override { return {}; }

  Result<std::set<std::string>> ask(db::Connection& connection) const {
    if (tables_.empty()) return std::set<std::string>{};
    std::vector<std::string> probes;
    for (const auto& table : tables_) {
      probes.push_back(fmt::format("EXISTS (SELECT 1 FROM {})", schema_.table(table)));
    }
    MGDPR_ASSIGN_OR_RETURN(auto answer, connection.query("SELECT " + db::join(probes, ", ")));
    std::set<std::string> found;
    size_t i = 0;
    for (const auto& table : tables_) {
      const bool any =
          answer.rows.empty() || db::cell_to_int(answer.rows[0][i]).value_or(1) != 0;
      if (any) found.insert(table);
      ++i;
    }
    return found;
  }

 private:
  const Schema& schema_;
  std::set<std::string> tables_;
};

}  // namespace

// The processing of given contacts: every location's rows of theirs, selected by the builder.
class RelatedScrubber::ContactsScrub : public LocationVisitor {
 public:
  ContactsScrub(RelatedScrubber& scrubber, std::span<const ContactIdentity> contacts,
                TableCounts& changed)
      : scrubber_(scrubber), contacts_(contacts), changed_(changed) {
    std::vector<int64_t> ids;
    for (const auto& contact : contacts) ids.push_back(contact.id);
    set_ = ContactSet::of(ids);
  }

  Status find_tables_with_rows() {
    NonEmptyTables probe(scrubber_.schema_);
    MGDPR_TRY(walk_locations(scrubber_.plan_, probe));
    MGDPR_ASSIGN_OR_RETURN(with_rows_, probe.ask(scrubber_.connection_));
    return {};
  }

  Status linked(const LocationPlan& plan, const std::string& table) override {
    if (!with_rows_.contains(table)) return {};
    return scrubber_.apply(plan, table, rows_of(*plan.location, table, scrubber_.schema_, set_),
                           changed_);
  }
  Status in_payload(const LocationPlan& plan, const std::string& table) override {
    MGDPR_ASSIGN_OR_RETURN(auto found, rows_naming_contacts(scrubber_.connection_,
                                                            scrubber_.schema_, *plan.location,
                                                            table, set_));
    MGDPR_TRY(scrubber_.name_unhandled(std::move(found.unreadable)));
    return scrubber_.apply_to_keys(plan, table, found.keys, changed_);
  }
  Status in_text(const LocationPlan& plan, const std::string& table) override {
    return scrubber_.apply_email_match(plan, table, contacts_, changed_);
  }

 private:
  RelatedScrubber& scrubber_;
  std::span<const ContactIdentity> contacts_;
  TableCounts& changed_;
  ContactSet set_;
  std::set<std::string> with_rows_;
};

RelatedScrubber::RelatedScrubber(db::Connection& connection, const Schema& schema,
                                 const RelatedPlan& plan, EmailDigest email_digest)
    : connection_(connection),
      schema_(schema),
      plan_(plan),
      email_digest_(std::move(email_digest)) {}

Status RelatedScrubber::scrub_contacts(std::span<const ContactIdentity> contacts,
                                       TableCounts& changed, BatchMode mode) {
  if (contacts.empty()) return {};
  if (!connection_.in_transaction()) {
    return make_error("scrub_contacts runs inside the caller's transaction; none is open");
  }
  touched_ips_.clear();
  ContactsScrub scrub(*this, contacts, changed);
  MGDPR_TRY(scrub.find_tables_with_rows());
  keep_clean_ = mode == BatchMode::kSideBySide;
  Status walked = walk_locations(plan_, scrub);
  keep_clean_ = false;
  MGDPR_TRY(walked);
  if (mode == BatchMode::kSideBySide) return defer_orphan_ips();
  return drop_orphan_ips(changed, /*unlink_processed=*/false);
}

Status RelatedScrubber::apply(const LocationPlan& plan, const std::string& table,
                              const RowSelection& rows, TableCounts& changed) {
  const Location& location = *plan.location;
  // The IPs the rows link are remembered (an IP nobody uses any more goes at the end): read
  // here, or with the structured values below when the table has any.
  const ColumnInfo* ip = schema_.column(table, "ip_id");
  bool links_ips = false;
  auto read_ips = [&]() -> Status {
    MGDPR_ASSIGN_OR_RETURN(
        auto ips, connection_.query(fmt::format("SELECT DISTINCT t.ip_id FROM {} WHERE {} AND "
                                                "t.ip_id IS NOT NULL",
                                                rows.from, rows.where),
                                    rows.params));
    for (const auto& row : ips.rows) touched_ips_.insert(db::cell_to_int(row[0]).value_or(0));
    links_ips = !ips.rows.empty();
    return {};
  };

  if (plan.action == RowAction::kDelete) {
    if (ip != nullptr) MGDPR_TRY(read_ips());
    MGDPR_ASSIGN_OR_RETURN(
        auto deleted,
        connection_.execute(fmt::format("DELETE t FROM {} WHERE {}", rows.from, rows.where),
                            rows.params));
    changed[table] += deleted;
    return {};
  }

  // Scrub: every personal column of every row in one UPDATE (each row is rewritten once).
  RowUpdate update;
  auto clear_expression = [&](const ColumnInfo& column) {
    if (!column.nullable && !column.is_text()) return;  // nothing to clear it to
    const std::string name = "t." + quote_identifier(column.name);
    update.sets.push_back(name + (column.nullable ? " = NULL" : " = ''"));
  };
  if (!location.every_column_but.empty()) {
    const auto& meta = location.every_column_but;
    for (const ColumnInfo& column : *schema_.columns(table)) {
      if (std::find(meta.begin(), meta.end(), column.name) == meta.end()) clear_expression(column);
    }
  }
  std::vector<const ColumnRule*> structured;
  for (const ColumnRule& rule : location.columns) {
    const ColumnInfo* column = schema_.column(table, rule.column);
    if (column == nullptr) continue;  // not in this Mautic version
    if (rule.scrub == ColumnScrub::kClear) {
      clear_expression(*column);
    } else {
      structured.push_back(&rule);
    }
  }
  bool staged = false;
  if (!structured.empty()) {
    MGDPR_ASSIGN_OR_RETURN(
        staged, stage_structured(table, std::string(location.key_column), structured, rows,
                                 ip != nullptr ? &links_ips : nullptr));
  } else if (ip != nullptr) {
    MGDPR_TRY(read_ips());
  }
  if (links_ips) {
    // Mautic 4.4 (and databases upgraded from it) have NOT NULL ip_id: point those rows at
    // an anonymous placeholder address instead.
    Param replacement = nullptr;
    if (!ip->nullable) {
      MGDPR_ASSIGN_OR_RETURN(replacement, placeholder_ip());
    }
    update.sets.push_back("t.ip_id = IF(t.ip_id IS NULL, NULL, ?)");
    update.set_params.push_back(replacement);
  }
  return write_rows(table, std::string(location.key_column), structured, staged, rows,
                    std::move(update), changed);
}

Status RelatedScrubber::write_rows(const std::string& table, const std::string& key_column,
                                   const std::vector<const ColumnRule*>& structured, bool staged,
                                   const RowSelection& rows, RowUpdate update,
                                   TableCounts& changed) {
  std::string from = rows.from;
  if (staged) {
    from +=
        fmt::format(" LEFT JOIN {} s ON s.k = t.{}", kScratchTable, quote_identifier(key_column));
    for (size_t c = 0; c < structured.size(); ++c) {
      const std::string name = "t." + quote_identifier(structured[c]->column);
      update.sets.push_back(fmt::format("{} = IF(s.k IS NULL, {}, s.v{})", name, name, c));
    }
  }
  if (!update.sets.empty()) {
    std::vector<Param> params = std::move(update.set_params);
    params.insert(params.end(), rows.params.begin(), rows.params.end());
    MGDPR_ASSIGN_OR_RETURN(auto written,
                           connection_.execute(fmt::format("UPDATE {} SET {} WHERE {}", from,
                                                           db::join(update.sets, ", "), rows.where),
                                               params));
    changed[table] += written;
  }
  if (staged) {
    MGDPR_TRY(connection_.execute(fmt::format("DROP TEMPORARY TABLE {}", kScratchTable)));
  }
  return {};
}

Result<bool> RelatedScrubber::stage_structured(const std::string& table,
                                               const std::string& key_column,
                                               const std::vector<const ColumnRule*>& rules,
                                               const RowSelection& rows, bool* links_ips) {
  // With links_ips every row is read (for its IP); otherwise only rows with a value to scrub.
  std::vector<std::string> selected = {"t." + quote_identifier(key_column)};
  if (links_ips != nullptr) selected.emplace_back("t.ip_id");
  const size_t first_value = selected.size();
  std::vector<std::string> any_set;
  for (const ColumnRule* rule : rules) {
    selected.push_back("t." + quote_identifier(rule->column));
    any_set.push_back("t." + quote_identifier(rule->column) + " IS NOT NULL");
  }
  MGDPR_ASSIGN_OR_RETURN(
      auto read,
      connection_.query(
          fmt::format("SELECT DISTINCT {} FROM {} WHERE {}{}", db::join(selected, ", "), rows.from,
                      rows.where,
                      links_ips != nullptr ? "" : " AND (" + db::join(any_set, " OR ") + ")"),
          rows.params));

  // Each changed row with the new value of every structured column (unchanged ones as read).
  // Values already in scrubbed form, and the scrubbed forms written, are recorded as clean.
  std::vector<Param> staged;
  std::vector<std::pair<int, std::string>> clean;
  std::vector<UnhandledRow> unhandled;
  size_t staged_rows = 0;
  for (const auto& row : read.rows) {
    if (!row[0]) continue;
    if (links_ips != nullptr && row[1]) {
      touched_ips_.insert(db::cell_to_int(row[1]).value_or(0));
      *links_ips = true;
    }
    std::vector<Param> values;
    bool row_changed = false;
    for (size_t c = 0; c < rules.size(); ++c) {
      const auto& value = row[first_value + c];
      if (!value) {
        values.emplace_back(nullptr);
        continue;
      }
      const ColumnInfo& column = *schema_.column(table, rules[c]->column);
      // A value that cannot be rewritten is cleared and its row named; an empty one is what an
      // earlier clear left (earlier versions wrote '' there), cleared again without a name.
      auto rewritten = rewrite_structured(rules[c]->scrub, *value);
      std::optional<std::string> replacement;
      if (rewritten) {
        replacement = std::move(*rewritten);
      } else {
        replacement = cleared_structured(*rules[c], column);
        if (!value->empty()) {
          unhandled.push_back({table, *row[0],
                               fmt::format("{}: {}", column.name, rewritten.error().message),
                               std::string(kUnhandledCleared)});
        }
      }
      const int kind = clean_value_kind(rules[c]->scrub);
      if (replacement == value) {
        clean.emplace_back(kind, *value);
      } else {
        row_changed = true;
        // Only a fixed point of scrubbing is clean: a value scrubbing would change again is not.
        if (replacement && scrubbed_value(*rules[c], column, *replacement) == replacement) {
          clean.emplace_back(kind, *replacement);
        }
      }
      values.push_back(replacement ? Param(std::move(*replacement)) : Param(nullptr));
    }
    if (!row_changed) continue;
    staged.push_back(db::key_param(*row[0]));
    std::move(values.begin(), values.end(), std::back_inserter(staged));
    ++staged_rows;
  }
  MGDPR_TRY(record_clean_values(clean));
  MGDPR_TRY(name_unhandled(std::move(unhandled)));
  if (staged_rows == 0) return false;

  std::vector<std::string> columns;
  for (const ColumnRule* rule : rules) columns.emplace_back(rule->column);
  MGDPR_TRY(
      stage_values(connection_, kScratchTable, schema_.table(table), key_column, columns, staged));
  return true;
}

Status RelatedScrubber::name_unhandled(std::vector<UnhandledRow> rows) {
  if (rows.empty()) return {};
  MGDPR_TRY(record_unhandled(connection_, schema_, rows));
  std::move(rows.begin(), rows.end(), std::back_inserter(unhandled_));
  return {};
}

Status RelatedScrubber::record_clean_values(const std::vector<std::pair<int, std::string>>& values) {
  if (values.empty() || !schema_.has_table("gdpr_clean_values")) return {};
  CleanDigests digests;
  for (const auto& [kind, value] : values) digests.emplace(kind, sha256_hex(value));
  if (keep_clean_) {
    kept_clean_.merge(digests);
    return {};
  }
  return record_clean_digests(digests);
}

Status RelatedScrubber::record_clean_digests(const CleanDigests& digests) {
  if (digests.empty() || !schema_.has_table("gdpr_clean_values")) return {};
  std::vector<Param> params;
  for (const auto& [kind, digest] : digests) {
    params.emplace_back(int64_t(kind));
    params.emplace_back(digest);
  }
  for (size_t first = 0; first < digests.size(); first += kRowsPerInsert) {
    const size_t count = std::min(digests.size() - first, kRowsPerInsert);
    std::vector<std::string> tuples(count, "(?, UNHEX(?))");
    MGDPR_TRY(connection_.execute(
        fmt::format("INSERT IGNORE INTO {} (kind, digest) VALUES {}",
                    schema_.table("gdpr_clean_values"), db::join(tuples, ", ")),
        std::span<const Param>(params).subspan(first * 2, count * 2)));
  }
  return {};
}

Status RelatedScrubber::in_own_transaction(const std::function<Status(TableCounts&)>& work,
                                           TableCounts& total, int64_t& retries) {
  constexpr int kAttempts = 5;
  for (int attempt = 1;; ++attempt) {
    // A rolled-back attempt may have created the placeholder IP: it is looked up again.
    placeholder_ip_.reset();
    touched_ips_.clear();
    TableCounts counts;
    Status done = [&]() -> Status {
      MGDPR_ASSIGN_OR_RETURN(auto transaction, db::Transaction::begin(connection_));
      MGDPR_TRY(work(counts));
      return transaction.commit();
    }();
    if (done) {
      for (const auto& [table, rows] : counts) total[table] += rows;
      return {};
    }
    if (attempt == kAttempts || !is_retryable(done.error())) return done;
    ++retries;
    std::this_thread::sleep_for(std::chrono::milliseconds(20 * attempt));
  }
}

}  // namespace mgdpr::mautic
