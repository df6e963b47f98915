// SPDX-License-Identifier: GPL-3.0-or-later
#include "mautic/engine.h"

#include <fmt/chrono.h>

#include <algorithm>
#include <chrono>
#include <set>
#include <thread>

#include "core/normalize.h"
#include "mautic/clean_state.h"
#include "mautic/discovery.h"
#include "mautic/location_rows.h"
#include "mautic/own_tables.h"

namespace mgdpr::mautic {

using db::Param;
using db::quote_identifier;

namespace {

constexpr int64_t kFullPassIntervalSeconds = 3600;
// Attempts of a transaction that a deadlock or lock wait timeout rolled back.
constexpr int kRepairAttempts = 5;

void append_ids(std::vector<Param>& params, std::span<const int64_t> ids) {
  for (int64_t id : ids) params.emplace_back(id);
}

// The one definition of "pending": on do-not-contact for a configured reason and channel, and
// not yet recorded as processed. One row per DNC entry (a contact can have several), in
// lead_id order so a LIMIT stops early on the (lead_id, channel, reason) index instead of
// materialising every pending contact. Parameters: reasons, channels (then the cursor).
std::string pending_contacts_sql(const Config& config, const Schema& schema, bool with_cursor,
                                 std::string_view columns = "d.lead_id") {
  std::string sql = fmt::format(
      "SELECT {} FROM {} d WHERE d.lead_id IS NOT NULL AND d.reason IN ({}) AND "
      "d.channel IN ({})",
      columns, schema.table("lead_donotcontact"), db::placeholders(config.reasons.size()),
      db::placeholders(config.channels.size()));
  if (with_cursor) sql += " AND d.lead_id > ?";
  if (schema.has_table("gdpr_contacts")) {
    // A contact that came back by choice and left again is processed again.
    sql += fmt::format(" AND NOT EXISTS (SELECT 1 FROM {} g WHERE g.contact_id = d.lead_id AND {})",
                       schema.table("gdpr_contacts"), not_returned_sql(schema, "g"));
  }
  return sql;
}

std::string pending_contact_set_sql(const Config& config, const Schema& schema) {
  return fmt::format("(SELECT DISTINCT lead_id FROM ({}) pending_rows)",
                     pending_contacts_sql(config, schema, false));
}

std::vector<Param> pending_contacts_params(const Config& config) {
  std::vector<Param> params;
  for (DncReason reason : config.reasons) params.emplace_back(int64_t(reason));
  for (const auto& channel : config.channels) params.emplace_back(channel);
  return params;
}

Result<int64_t> count_pending(db::Connection& connection, const Config& config,
                              const Schema& schema) {
  auto count = connection.query_value(
      fmt::format("SELECT COUNT(DISTINCT lead_id) FROM ({}) pending",
                  pending_contacts_sql(config, schema, false)),
      pending_contacts_params(config));
  if (!count) return count.error();
  return db::cell_to_int(*count).value_or(0);
}

}  // namespace

Engine::Engine(db::Connection& connection, const Config& config, const Schema& schema,
               const ContactPolicy& policy, const RelatedPlan& related, const HashKey& key,
               std::string actor)
    : connection_(connection),
      config_(config),
      schema_(schema),
      policy_(policy),
      related_(related),
      key_(key),
      actor_(std::move(actor)) {}

RelatedScrubber::EmailDigest Engine::email_digest() const {
  const ColumnPlan* email = policy_.find("email");
  if (email == nullptr || email->action != Action::kHash) return {};
  return [this](std::string_view address) {
    return key_.hmac_hex(normalize(ValueKind::kEmail, address));
  };
}

Result<std::string> Engine::dnc_signature() {
  auto rows = connection_.query(
      fmt::format("SELECT COALESCE(MAX(id), 0), COUNT(*) FROM {}",
                  schema_.table("lead_donotcontact")),
      {});
  if (!rows) return rows.error();
  std::string signature = fmt::format("{}:{}", rows->rows[0][0].value_or("0"),
                                      rows->rows[0][1].value_or("0"));
  // A changed trigger makes other contacts pending: it is part of the signature.
  for (DncReason reason : config_.reasons) signature += fmt::format(":{}", int(reason));
  for (const auto& channel : config_.channels) signature += ":" + channel;
  return sha256_hex(signature);
}

Result<std::vector<int64_t>> Engine::next_pending(int64_t after_id, int64_t count) {
  auto params = pending_contacts_params(config_);
  params.emplace_back(after_id);
  params.emplace_back(count);
  auto rows = connection_.query(
      fmt::format("{} ORDER BY d.lead_id LIMIT ?", pending_contacts_sql(config_, schema_, true)), params);
  if (!rows) return rows.error();
  std::vector<int64_t> ids;
  for (const auto& row : rows->rows) {
    int64_t id = db::cell_to_int(row[0]).value_or(0);
    if (ids.empty() || ids.back() != id) ids.push_back(id);  // rows come in lead_id order
  }
  return ids;
}

Status Engine::hold_sweep_lock() {
  // One lock per database and prefix; the name is hashed to fit MariaDB's 64-character limit.
  const std::string name =
      "mautic-gdpr-" + sha256_hex(schema_.database() + '\n' + schema_.prefix()).substr(0, 40);
  auto got = connection_.query_value("SELECT GET_LOCK(?, 0)", {name});
  if (!got) return got.error();
  if (*got != std::optional<std::string>("1")) {
    return make_error(
        ErrorKind::kBusy, "another sweep is already running on database `{}` (prefix \"{}\"); this one stops "
        "without changing anything. Wait for it to finish, or look for a stuck mautic-gdpr "
        "process",
        schema_.database(), schema_.prefix());
  }
  return {};
}

void Engine::release_sweep_lock() {
  const std::string name =
      "mautic-gdpr-" + sha256_hex(schema_.database() + '\n' + schema_.prefix()).substr(0, 40);
  (void)connection_.query("SELECT RELEASE_LOCK(?)", {name});
}

Result<SweepReport> Engine::sweep(const SweepOptions& options, const ProgressCallback& progress) {
  const auto started = std::chrono::steady_clock::now();
  MGDPR_ASSIGN_OR_RETURN(const int64_t run, record_sweep_start());
  SweepReport report;
  Status outcome = sweep_locked(run, options, progress, report);
  report.seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  record_sweep_end(run, report, outcome);
  if (!outcome) return outcome.error();
  return report;
}

Result<int64_t> Engine::record_sweep_start() {
  MGDPR_ASSIGN_OR_RETURN(
      auto inserted,
      connection_.execute(fmt::format("INSERT INTO {} (started_at, result, actor) "
                                      "VALUES (UTC_TIMESTAMP(6), 'running', ?)",
                                      schema_.table("gdpr_sweep_runs")),
                          {actor_}));
  (void)inserted;
  MGDPR_ASSIGN_OR_RETURN(auto id, connection_.query_value("SELECT LAST_INSERT_ID()"));
  return db::cell_to_int(id).value_or(0);
}

// Best effort: when the database itself failed, the row may stay "running" until the next
// sweep that holds the lock marks it "interrupted".
void Engine::record_sweep_end(int64_t run, const SweepReport& report, const Status& outcome) {
  std::string result = "ok";
  std::optional<std::string> error_class;
  if (!outcome) {
    result = outcome.error().kind == ErrorKind::kBusy ? "busy" : "failed";
    error_class = std::string(error_kind_name(outcome.error().kind));
  }
  (void)connection_.execute(
      fmt::format("UPDATE {} SET ended_at = UTC_TIMESTAMP(6), processed = ?, result = ?, "
                  "error_class = ? WHERE id = ?",
                  schema_.table("gdpr_sweep_runs")),
      {report.contacts_processed, result, error_class ? Param(*error_class) : Param(nullptr),
       run});
}

Status Engine::sweep_locked(int64_t run, const SweepOptions& options,
                            const ProgressCallback& progress, SweepReport& report) {
  MGDPR_TRY(hold_sweep_lock());
  struct LockGuard {
    Engine* engine;
    ~LockGuard() { engine->release_sweep_lock(); }
  } lock_guard{this};
  // Holding the lock, no other sweep runs: a row still "running" is one whose process ended.
  MGDPR_TRY(connection_.execute(
      fmt::format("UPDATE {} SET result = 'interrupted' WHERE result = 'running' AND id <> ?",
                  schema_.table("gdpr_sweep_runs")),
      {run}));

  // The re-import guard first: a returning contact it puts on do-not-contact is pending, so
  // this same sweep pseudonymizes it (intended: ARCHITECTURE.md, "Re-import guard").
  auto guarded =
      Guard(connection_, config_, schema_, policy_, key_, actor_).run_pass(options.batch_size);
  if (!guarded) return guarded.error();
  report.guard = std::move(*guarded);
  // An hourly full pass also rescans do-not-contact even when it looks unchanged (a reason
  // edited in place keeps the row's id) and every IP address for references.
  const int64_t now = std::chrono::duration_cast<std::chrono::seconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();
  MGDPR_ASSIGN_OR_RETURN(auto last_full_pass, read_meta(connection_, schema_, "full_pass_at"));
  const bool full_pass =
      options.full_pass || !last_full_pass.has_value() ||
      now - db::cell_to_int(last_full_pass).value_or(0) >= kFullPassIntervalSeconds;

  // An idle sweep skips the do-not-contact scan: nothing was added or removed since the last
  // complete one.
  MGDPR_ASSIGN_OR_RETURN(auto signature, dnc_signature());
  MGDPR_ASSIGN_OR_RETURN(auto scanned, read_meta(connection_, schema_, "dnc_signature"));
  if (full_pass || scanned != std::optional<std::string>(signature)) {
    // Contacts whose do-not-contact entry Mautic removed came back by choice: recorded first,
    // so nothing below treats their new data as late writes.
    MGDPR_ASSIGN_OR_RETURN(report.returned, record_returns());
    MGDPR_ASSIGN_OR_RETURN(report.pending_before, count_pending(connection_, config_, schema_));
    const int64_t planned = options.limit ? std::min<int64_t>(*options.limit, report.pending_before)
                                          : report.pending_before;
    if (progress) progress(0, planned);

    int64_t cursor = 0;
    bool stopped_by_limit = false;
    while (true) {
      int64_t want = options.batch_size;
      if (options.limit) {
        stopped_by_limit = report.contacts_processed >= *options.limit;
        if (stopped_by_limit) break;
        want = std::min<int64_t>(want, *options.limit - report.contacts_processed);
      }
      MGDPR_ASSIGN_OR_RETURN(auto batch, next_pending(cursor, want));
      if (batch.empty()) break;
      cursor = batch.back();
      MGDPR_ASSIGN_OR_RETURN(auto processed, process_contacts(batch, "sweep"));
      report.contacts_processed += int64_t(processed.processed.size());
      report.retries += processed.retries;
      for (const auto& [table, rows] : processed.rows_changed) report.rows_changed[table] += rows;
      if (progress) progress(std::min(report.contacts_processed, planned), planned);
    }
    // The signature was read before the scan: rows added meanwhile make the next sweep scan.
    if (!stopped_by_limit) MGDPR_TRY(write_meta(connection_, schema_, "dnc_signature", signature));
  }

  // Then whatever Mautic (or a plugin, or direct SQL) wrote about processed contacts since,
  // found by content wherever it is: the profile, the do-not-contact comments, every location.
  MGDPR_TRY(repair_profiles(report.repaired, report.retries));
  RelatedScrubber related(connection_, schema_, related_, email_digest());
  MGDPR_TRY(related.repair(report.repaired, full_pass, report.retries));
  // Rows Mautic left behind when it deleted a contact: a delete is an erasure too.
  if (config_.orphans.scrub) MGDPR_TRY(related.scrub_orphans(report.rows_changed, full_pass));
  // What the location table does not know (a plugin's tables), said in every full pass.
  if (full_pass) {
    for (const auto& table : discover(schema_, related_, config_).tables) {
      report.warnings.push_back(table.summary() +
                                "; `mautic-gdpr check` prints a config block for it");
    }
  }

  if (full_pass) MGDPR_TRY(write_meta(connection_, schema_, "full_pass_at", std::to_string(now)));
  return {};
}

Result<ProcessReport> Engine::process_contacts(std::span<const int64_t> contact_ids,
                                               std::string_view source) {
  // A deadlock or lock wait timeout against Mautic's own transactions rolled the batch back;
  // the work is idempotent, so it is simply done again, a bounded number of times.
  constexpr int kAttempts = 5;
  for (int attempt = 1;; ++attempt) {
    auto report = process_once(contact_ids, source);
    if (report) {
      report->retries = attempt - 1;
      return report;
    }
    if (attempt == kAttempts || !is_retryable(report.error())) return report;
    std::this_thread::sleep_for(std::chrono::milliseconds(20 * attempt));
  }
}

Result<ProcessReport> Engine::process_once(std::span<const int64_t> contact_ids,
                                           std::string_view source) {
  ProcessReport report;
  if (contact_ids.empty()) return report;
  if (!schema_.has_table("gdpr_contacts")) {
    return make_error("the gdpr tables are missing; the engine must be opened for writing");
  }
  const auto hashed = policy_.with_action(Action::kHash);

  auto transaction = db::Transaction::begin(connection_);
  if (!transaction) return transaction.error();

  // Lock the contacts first, then re-check their state: a webhook and a sweep reaching the
  // same contact serialize on this row lock, and the second sees the first one's record.
  std::vector<std::string> selected = {"l.id", "l.`email`"};
  for (const ColumnPlan* plan : hashed) selected.push_back("l." + quote_identifier(plan->column));
  std::vector<Param> id_params;
  append_ids(id_params, contact_ids);
  auto contacts = connection_.query(
      fmt::format("SELECT {} FROM {} l WHERE l.id IN ({}) ORDER BY l.id FOR UPDATE",
                  db::join(selected, ", "), schema_.table("leads"),
                  db::placeholders(contact_ids.size())),
      id_params);
  if (!contacts) return contacts.error();

  auto already = connection_.query(
      fmt::format("SELECT g.contact_id FROM {} g WHERE g.contact_id IN ({}) AND {}",
                  schema_.table("gdpr_contacts"), db::placeholders(contact_ids.size()),
                  not_returned_sql(schema_, "g")),
      id_params);
  if (!already) return already.error();
  std::set<int64_t> done;
  for (const auto& row : already->rows) done.insert(db::cell_to_int(row[0]).value_or(0));

  // The do-not-contact entry that makes each contact pending; the earliest one names the
  // reason and date recorded as proof.
  std::vector<Param> dnc_params = id_params;
  for (auto& param : pending_contacts_params(config_)) dnc_params.push_back(std::move(param));
  auto dnc_rows = connection_.query(
      fmt::format("SELECT lead_id, reason, channel, date_added FROM {} WHERE lead_id IN ({}) "
                  "AND reason IN ({}) AND channel IN ({}) ORDER BY date_added, id",
                  schema_.table("lead_donotcontact"), db::placeholders(contact_ids.size()),
                  db::placeholders(config_.reasons.size()),
                  db::placeholders(config_.channels.size())),
      dnc_params);
  if (!dnc_rows) return dnc_rows.error();
  struct DncEntry {
    std::string reason;
    std::string channel;
    std::optional<std::string> date;
  };
  std::map<int64_t, DncEntry> dnc_by_contact;
  for (const auto& row : dnc_rows->rows) {
    int64_t id = db::cell_to_int(row[0]).value_or(0);
    if (dnc_by_contact.contains(id)) continue;
    auto reason = reason_from_code(db::cell_to_int(row[1]).value_or(0));
    dnc_by_contact[id] = {std::string(reason ? reason_name(*reason) : "unknown"),
                          row[2].value_or(""), row[3]};
  }

  std::vector<int64_t> targets;
  std::vector<ContactIdentity> identities;
  std::vector<const std::vector<db::Cell>*> target_rows;
  for (const auto& row : contacts->rows) {
    int64_t id = db::cell_to_int(row[0]).value_or(0);
    if (done.contains(id) || !dnc_by_contact.contains(id)) continue;
    targets.push_back(id);
    identities.push_back({id, row[1]});
    target_rows.push_back(&row);
  }
  if (targets.empty()) {
    MGDPR_TRY(transaction->commit());
    return report;
  }
  MGDPR_TRY(rewrite_profiles(target_rows, 2, report.rows_changed));

  std::vector<Param> target_params;
  append_ids(target_params, targets);
  const std::string target_list = db::placeholders(targets.size());

  RelatedScrubber related(connection_, schema_, related_);
  MGDPR_TRY(related.scrub_contacts(identities, report.rows_changed));

  // The do-not-contact row stays (a second safety); its free text can quote the address.
  auto comments = connection_.execute(
      fmt::format("UPDATE {} SET comments = NULL WHERE lead_id IN ({}) AND comments IS NOT NULL "
                  "AND comments NOT LIKE 'mautic-gdpr:%'",
                  schema_.table("lead_donotcontact"), target_list),
      target_params);
  if (!comments) return comments.error();
  report.rows_changed["lead_donotcontact"] += *comments;

  std::vector<Param> record_params;
  for (int64_t id : targets) {
    const DncEntry& entry = dnc_by_contact[id];
    record_params.emplace_back(id);
    record_params.emplace_back(entry.reason);
    record_params.emplace_back(entry.channel);
    record_params.emplace_back(entry.date ? Param(*entry.date) : Param(nullptr));
    record_params.emplace_back(policy_.fingerprint);
    record_params.emplace_back(std::string(source));
  }
  std::vector<std::string> record_tuples(targets.size(),
                                         "(?, UTC_TIMESTAMP(6), ?, ?, ?, ?, ?)");
  // A contact that came back and left again gets a new record; its earlier exit stays in
  // gdpr_returns (record_returns).
  auto recorded = connection_.execute(
      fmt::format("INSERT INTO {} (contact_id, processed_at, reason, channel, dnc_date, "
                  "policy_fingerprint, source) VALUES {} ON DUPLICATE KEY UPDATE "
                  "processed_at = VALUES(processed_at), reason = VALUES(reason), "
                  "channel = VALUES(channel), dnc_date = VALUES(dnc_date), "
                  "policy_fingerprint = VALUES(policy_fingerprint), source = VALUES(source), "
                  "returned_at = NULL",
                  schema_.table("gdpr_contacts"), db::join(record_tuples, ", ")),
      record_params);
  if (!recorded) return recorded.error();

  MGDPR_TRY(transaction->commit());
  report.processed = std::move(targets);
  return report;
}

Status Engine::rewrite_profiles(const std::vector<const std::vector<db::Cell>*>& rows,
                                size_t first_hashed, TableCounts& changed) {
  if (rows.empty()) return {};
  const auto hashed = policy_.with_action(Action::kHash);
  const auto deleted = policy_.with_action(Action::kDelete);
  std::vector<std::vector<std::pair<int64_t, std::string>>> digests(hashed.size());
  std::vector<Param> hash_rows;  // (digest, field, contact) for the lookup table
  std::vector<Param> ids;
  for (const auto* row : rows) {
    const int64_t id = db::cell_to_int((*row)[0]).value_or(0);
    ids.emplace_back(id);
    for (size_t h = 0; h < hashed.size(); ++h) {
      const auto& cell = (*row)[first_hashed + h];
      if (!cell) continue;
      // A value that is already a digest stays as it is: a hash is never hashed twice.
      std::string digest;
      if (looks_like_digest(*cell)) {
        digest = *cell;
      } else {
        // Nothing left after normalization ("n/a" as a phone number): deleted, not hashed, or
        // every such contact would share one digest and match each other's lookups.
        const std::string normalized = normalize(hashed[h]->kind, *cell);
        if (normalized.empty()) continue;
        digest = key_.hmac_hex(normalized);
      }
      hash_rows.emplace_back(digest);
      hash_rows.emplace_back(hashed[h]->column);
      hash_rows.emplace_back(id);
      digests[h].emplace_back(id, std::move(digest));
    }
  }

  std::vector<std::string> assignments;
  std::vector<Param> update_params;
  for (const ColumnPlan* plan : deleted) {
    assignments.push_back(quote_identifier(plan->column) + " = " + plan->cleared);
  }
  for (size_t h = 0; h < hashed.size(); ++h) {
    const std::string column = quote_identifier(hashed[h]->column);
    if (digests[h].empty()) {
      assignments.push_back(column + " = " + hashed[h]->cleared);
      continue;
    }
    std::string expression = "CASE `id`";
    for (auto& [id, digest] : digests[h]) {
      expression += " WHEN ? THEN ?";
      update_params.emplace_back(id);
      update_params.emplace_back(digest);
    }
    expression += " ELSE " + hashed[h]->cleared + " END";  // an empty value has nothing to hash
    assignments.push_back(column + " = " + expression);
  }
  if (!assignments.empty()) {
    update_params.insert(update_params.end(), ids.begin(), ids.end());
    auto updated = connection_.execute(
        fmt::format("UPDATE {} SET {} WHERE `id` IN ({})", schema_.table("leads"),
                    db::join(assignments, ", "), db::placeholders(ids.size())),
        update_params);
    if (!updated) return updated.error();
    changed["leads"] += *updated;
  }
  if (!hash_rows.empty()) {
    std::vector<std::string> tuples(hash_rows.size() / 3, "(?, ?, ?)");
    auto inserted = connection_.execute(
        fmt::format("INSERT IGNORE INTO {} (digest, field, contact_id) VALUES {}",
                    schema_.table("gdpr_hashes"), db::join(tuples, ", ")),
        hash_rows);
    if (!inserted) return inserted.error();
  }
  return {};
}

Status Engine::repair_profiles(TableCounts& repaired, int64_t& retries) {
  // Found without locks, in contact id order; each batch then locked and rewritten by the same
  // code as the first time (a digest stays as it is, never hashed twice).
  const auto hashed = policy_.with_action(Action::kHash);
  std::vector<std::string> selected = {"l.id"};
  for (const ColumnPlan* plan : hashed) selected.push_back("l." + quote_identifier(plan->column));
  const ContactSet processed = ContactSet::processed(schema_);
  std::vector<std::string> dirty;
  for (const auto& [column, condition] : profile_dirty(policy_)) dirty.push_back("(" + condition + ")");
  const std::string comment_dirty(kDncCommentDirty);
  int64_t cursor = 0;
  while (true) {
    std::vector<Param> params = processed.params;
    params.push_back(cursor);
    params.emplace_back(int64_t(config_.sweep.batch_size));
    MGDPR_ASSIGN_OR_RETURN(
        auto found,
        connection_.query(
            fmt::format("SELECT l.id FROM {} l WHERE l.id IN {} AND l.id > ? AND ({} OR EXISTS "
                        "(SELECT 1 FROM {} d WHERE d.lead_id = l.id AND {})) ORDER BY l.id LIMIT ?",
                        schema_.table("leads"), processed.sql,
                        dirty.empty() ? "FALSE" : db::join(dirty, " OR "),
                        schema_.table("lead_donotcontact"), comment_dirty),
            params));
    if (found.empty()) return {};
    std::vector<Param> ids;
    for (const auto& row : found.rows) ids.emplace_back(db::cell_to_int(row[0]).value_or(0));
    cursor = std::get<int64_t>(ids.back());
    for (int attempt = 1;; ++attempt) {
      TableCounts counts;
      Status done = [&]() -> Status {
        MGDPR_ASSIGN_OR_RETURN(auto transaction, db::Transaction::begin(connection_));
        MGDPR_ASSIGN_OR_RETURN(
            auto rows, connection_.query(fmt::format("SELECT {} FROM {} l WHERE l.id IN ({}) "
                                                     "ORDER BY l.id FOR UPDATE",
                                                     db::join(selected, ", "),
                                                     schema_.table("leads"),
                                                     db::placeholders(ids.size())),
                                         ids));
        std::vector<const std::vector<db::Cell>*> batch;
        for (const auto& row : rows.rows) batch.push_back(&row);
        MGDPR_TRY(rewrite_profiles(batch, 1, counts));
        MGDPR_ASSIGN_OR_RETURN(
            auto comments,
            connection_.execute(fmt::format("UPDATE {} d SET d.comments = NULL WHERE d.lead_id IN "
                                            "({}) AND {}",
                                            schema_.table("lead_donotcontact"),
                                            db::placeholders(ids.size()), comment_dirty),
                                ids));
        counts["lead_donotcontact"] += comments;
        return transaction.commit();
      }();
      if (done) {
        for (const auto& [table, rows] : counts) repaired[table] += rows;
        break;
      }
      if (attempt == kRepairAttempts || !is_retryable(done.error())) return done;
      ++retries;
      std::this_thread::sleep_for(std::chrono::milliseconds(20 * attempt));
    }
    if (int64_t(found.size()) < config_.sweep.batch_size) return {};
  }
}

Result<int64_t> Engine::record_returns() {
  // Processed, no longer on do-not-contact on the channel they left, and still in Mautic (a
  // deleted contact has no entry either, but it did not come back).
  MGDPR_ASSIGN_OR_RETURN(
      auto found,
      connection_.query(fmt::format(
          "SELECT g.contact_id FROM {} g JOIN {} l ON l.id = g.contact_id WHERE {} AND NOT "
          "EXISTS (SELECT 1 FROM {} d WHERE d.lead_id = g.contact_id AND d.channel = g.channel)",
          schema_.table("gdpr_contacts"), schema_.table("leads"), not_returned_sql(schema_, "g"),
          schema_.table("lead_donotcontact"))));
  int64_t returned = 0;
  for (size_t first = 0; first < found.size(); first += size_t(config_.sweep.batch_size)) {
    const size_t count = std::min(found.size() - first, size_t(config_.sweep.batch_size));
    std::vector<Param> ids;
    for (size_t i = first; i < first + count; ++i) {
      ids.emplace_back(db::cell_to_int(found.rows[i][0]).value_or(0));
    }
    MGDPR_ASSIGN_OR_RETURN(auto transaction, db::Transaction::begin(connection_));
    // Locked like processing locks them, then checked again: a webhook may have put one back
    // on do-not-contact meanwhile.
    MGDPR_TRY(connection_.query(fmt::format("SELECT id FROM {} WHERE id IN ({}) FOR UPDATE",
                                            schema_.table("leads"), db::placeholders(ids.size())),
                                ids));
    const std::string still_gone = fmt::format(
        "g.contact_id IN ({}) AND g.returned_at IS NULL AND NOT EXISTS (SELECT 1 FROM {} d "
        "WHERE d.lead_id = g.contact_id AND d.channel = g.channel)",
        db::placeholders(ids.size()), schema_.table("lead_donotcontact"));
    MGDPR_TRY(connection_.execute(
        fmt::format("INSERT IGNORE INTO {} (contact_id, processed_at, reason, channel, dnc_date, "
                    "source, returned_at) SELECT g.contact_id, g.processed_at, g.reason, "
                    "g.channel, g.dnc_date, g.source, UTC_TIMESTAMP(6) FROM {} g WHERE {}",
                    schema_.table("gdpr_returns"), schema_.table("gdpr_contacts"), still_gone),
        ids));
    MGDPR_ASSIGN_OR_RETURN(
        auto marked,
        connection_.execute(fmt::format("UPDATE {} g SET g.returned_at = UTC_TIMESTAMP(6) WHERE {}",
                                        schema_.table("gdpr_contacts"), still_gone),
                            ids));
    if (marked > 0) {
      MGDPR_TRY(write_audit(connection_, schema_, actor_, "return",
                            fmt::format("{} processed contact(s) no longer on do-not-contact in "
                                        "Mautic: recorded as returned by choice",
                                        marked),
                            int64_t(marked)));
    }
    MGDPR_TRY(transaction.commit());
    returned += int64_t(marked);
  }
  return returned;
}

Result<VerifyReport> Engine::verify() {
  return verify_processed(connection_, schema_, policy_, related_, email_digest());
}

Result<PlanReport> Engine::plan() {
  PlanReport report;
  report.related = &related_;
  auto pending = count_pending(connection_, config_, schema_);
  if (!pending) return pending.error();
  report.pending = *pending;

  std::vector<const ColumnPlan*> changing;
  std::vector<std::string> sums;
  for (const auto& plan : policy_.columns) {
    if (plan.action == Action::kKeep) continue;
    const std::string column = "l." + quote_identifier(plan.column);
    // Hashing changes non-empty values; deleting changes every value that is not NULL yet.
    sums.push_back(plan.action == Action::kHash
                       ? fmt::format("SUM({0} IS NOT NULL AND {0} <> '')", column)
                       : fmt::format("SUM({} IS NOT NULL)", column));
    changing.push_back(&plan);
  }
  if (!changing.empty()) {
    auto rows = connection_.query(
        fmt::format("SELECT {} FROM {} l JOIN {} p ON p.lead_id = l.id", db::join(sums, ", "),
                    schema_.table("leads"), pending_contact_set_sql(config_, schema_)),
        pending_contacts_params(config_));
    if (!rows) return rows.error();
    for (size_t i = 0; i < changing.size(); ++i) {
      int64_t values = rows->rows.empty() ? 0 : db::cell_to_int(rows->rows[0][i]).value_or(0);
      report.lines.push_back({"leads", changing[i]->column, changing[i]->action, values});
    }
  }
  auto comments = connection_.query_value(
      fmt::format("SELECT COUNT(*) FROM {} dnc JOIN {} p ON p.lead_id = dnc.lead_id "
                  "WHERE dnc.comments IS NOT NULL AND dnc.comments NOT LIKE 'mautic-gdpr:%'",
                  schema_.table("lead_donotcontact"), pending_contact_set_sql(config_, schema_)),
      pending_contacts_params(config_));
  if (!comments) return comments.error();
  report.lines.push_back(
      {"lead_donotcontact", "comments", Action::kDelete, db::cell_to_int(*comments).value_or(0)});
  return report;
}

Result<std::vector<LookupMatch>> Engine::lookup(const std::vector<LookupCriterion>& criteria) {
  std::vector<LookupMatch> matches;
  if (criteria.empty()) return make_error("a lookup needs at least one field and value");
  std::vector<std::string> asked;
  for (const auto& criterion : criteria) {
    const ColumnPlan* plan = policy_.find(criterion.alias);
    if (plan == nullptr || plan->field_type.empty()) {
      return make_error(ErrorKind::kUsage,
                        "`{}` is not a contact field; run `mautic-gdpr check` to list them",
                        criterion.alias);
    }
    if (plan->action != Action::kHash) {
      return make_error(
          ErrorKind::kUsage, "`{}` is not hashed by the policy (it is {}), so its values cannot be looked up; "
          "only fields with action \"hash\" can",
          criterion.alias, action_name(plan->action));
    }
    asked.push_back(criterion.alias);
  }

  std::optional<std::set<int64_t>> found;
  if (schema_.has_table("gdpr_hashes")) {
    for (const auto& criterion : criteria) {
      const ColumnPlan* plan = policy_.find(criterion.alias);
      const std::string normalized = normalize(plan->kind, criterion.value);
      if (normalized.empty()) {
        return make_error(ErrorKind::kUsage,
                          "the value for `{}` is empty once normalized; nothing to look up",
                          criterion.alias);
      }
      std::string digest = key_.hmac_hex(normalized);
      auto rows = connection_.query(
          fmt::format("SELECT contact_id FROM {} WHERE digest = ? AND field = ?",
                      schema_.table("gdpr_hashes")),
          {digest, criterion.alias});
      if (!rows) return rows.error();
      std::set<int64_t> ids;
      for (const auto& row : rows->rows) ids.insert(db::cell_to_int(row[0]).value_or(0));
      if (found) {
        std::set<int64_t> both;
        std::set_intersection(found->begin(), found->end(), ids.begin(), ids.end(),
                              std::inserter(both, both.begin()));
        found = std::move(both);
      } else {
        found = std::move(ids);
      }
    }
  }

  std::vector<std::string> kept_columns;
  for (const auto& plan : policy_.columns) {
    if (plan.action == Action::kKeep) kept_columns.push_back(plan.column);
  }
  auto kept_values = [&](int64_t id, LookupMatch& match) -> Status {
    if (kept_columns.empty()) return {};
    std::vector<std::string> quoted;
    for (const auto& column : kept_columns) quoted.push_back(quote_identifier(column));
    auto rows = connection_.query(fmt::format("SELECT {} FROM {} WHERE id = ?",
                                              db::join(quoted, ", "), schema_.table("leads")),
                                  {id});
    if (!rows) return rows.error();
    if (rows->rows.empty()) return {};  // deleted in Mautic since; the record remains
    for (size_t c = 0; c < kept_columns.size(); ++c) {
      match.kept.emplace_back(kept_columns[c], rows->rows[0][c]);
    }
    return {};
  };

  if (found) {
    const bool returns = schema_.has_table("gdpr_returns") &&
                         schema_.column("gdpr_contacts", "returned_at") != nullptr;
    for (int64_t id : *found) {
      MGDPR_ASSIGN_OR_RETURN(
          auto rows,
          connection_.query(fmt::format("SELECT processed_at, reason, channel, dnc_date, {} FROM {} "
                                        "WHERE contact_id = ?",
                                        returns ? "returned_at" : "NULL",
                                        schema_.table("gdpr_contacts")),
                            {id}));
      if (rows.rows.empty()) continue;
      LookupMatch match;
      match.contact_id = id;
      match.processed_by = "mautic-gdpr";
      match.processed_at = rows.rows[0][0];
      match.reason = rows.rows[0][1].value_or("");
      match.channel = rows.rows[0][2].value_or("");
      match.dnc_date = rows.rows[0][3];
      match.returned_at = rows.rows[0][4];
      if (returns) {
        MGDPR_ASSIGN_OR_RETURN(
            auto exits,
            connection_.query(fmt::format("SELECT processed_at, reason, channel, returned_at FROM "
                                          "{} WHERE contact_id = ? AND processed_at <> ? ORDER "
                                          "BY processed_at",
                                          schema_.table("gdpr_returns")),
                              {id, match.processed_at.value_or("")}));
        for (const auto& exit : exits.rows) {
          match.earlier_exits.push_back({exit[0].value_or(""), exit[1].value_or(""),
                                         exit[2].value_or(""), exit[3].value_or("")});
        }
      }
      MGDPR_TRY(kept_values(id, match));
      matches.push_back(std::move(match));
    }
  }

  // Contacts the LeadEngine GDPR plugin processed: md5(salt + value + salt) of the email as
  // typed (it trimmed but did not lowercase), so try the value as typed and lowercased.
  if (config_.legacy && criteria.size() == 1 && criteria[0].alias == "email" &&
      schema_.column("leads", config_.legacy->md5_field) != nullptr) {
    const std::string typed(trim(criteria[0].value));
    const std::string lowered = normalize(ValueKind::kEmail, criteria[0].value);
    auto rows = connection_.query(
        fmt::format("SELECT l.id, d.reason, d.channel, d.date_added FROM {} l LEFT JOIN {} d "
                    "ON d.lead_id = l.id WHERE l.{} IN (?, ?) ORDER BY l.id, d.date_added",
                    schema_.table("leads"), schema_.table("lead_donotcontact"),
                    quote_identifier(config_.legacy->md5_field)),
        {legacy_md5_hex(config_.legacy->md5_salt, typed),
         legacy_md5_hex(config_.legacy->md5_salt, lowered)});
    if (!rows) return rows.error();
    std::set<int64_t> seen;
    for (const auto& match : matches) seen.insert(match.contact_id);
    for (const auto& row : rows->rows) {
      int64_t id = db::cell_to_int(row[0]).value_or(0);
      if (!seen.insert(id).second) continue;
      LookupMatch match;
      match.contact_id = id;
      match.processed_by = "legacy plugin";
      auto reason = reason_from_code(db::cell_to_int(row[1]).value_or(0));
      match.reason = reason ? std::string(reason_name(*reason)) : "";
      match.channel = row[2].value_or("");
      match.dnc_date = row[3];
      MGDPR_TRY(kept_values(id, match));
      matches.push_back(std::move(match));
    }
  }

  if (schema_.has_table("gdpr_audit")) {
    MGDPR_TRY(write_audit(connection_, schema_, actor_, "lookup",
                          "fields: " + db::join(asked, ", "), int64_t(matches.size())));
  }
  return matches;
}

namespace {

Result<std::optional<SweepRun>> read_sweep_run(db::Connection& connection, const Schema& schema,
                                               std::string_view where) {
  MGDPR_ASSIGN_OR_RETURN(
      auto rows,
      connection.query(fmt::format("SELECT started_at, ended_at, processed, result, error_class, "
                                   "TIMESTAMPDIFF(MICROSECOND, started_at, ended_at) FROM {} "
                                   "WHERE {} ORDER BY id DESC LIMIT 1",
                                   schema.table("gdpr_sweep_runs"), where)));
  if (rows.rows.empty()) return std::optional<SweepRun>();
  const auto& row = rows.rows[0];
  SweepRun run;
  run.started_at = row[0].value_or("");
  run.ended_at = row[1];
  run.processed = db::cell_to_int(row[2]).value_or(0);
  run.result = row[3].value_or("");
  run.error_class = row[4];
  if (auto micros = db::cell_to_int(row[5])) run.seconds = double(*micros) / 1e6;
  return std::optional<SweepRun>(std::move(run));
}

}  // namespace

Result<StatusReport> read_status(db::Connection& connection, const Config& config,
                                 const Schema& schema, const RelatedPlan& related) {
  StatusReport report;
  MGDPR_ASSIGN_OR_RETURN(report.pending, count_pending(connection, config, schema));
  MGDPR_ASSIGN_OR_RETURN(
      auto oldest,
      connection.query(
          fmt::format("SELECT MIN(date_added), TIMESTAMPDIFF(SECOND, MIN(date_added), "
                      "UTC_TIMESTAMP()) FROM ({}) pending",
                      pending_contacts_sql(config, schema, false, "d.lead_id, d.date_added")),
          pending_contacts_params(config)));
  if (!oldest.rows.empty()) {
    report.oldest_pending_since = oldest.rows[0][0];
    report.oldest_pending_age_seconds = db::cell_to_int(oldest.rows[0][1]);
  }
  if (!schema.has_table("gdpr_contacts")) return report;
  RelatedScrubber scrubber(connection, schema, related);
  MGDPR_ASSIGN_OR_RETURN(report.locations, scrubber.watermark_status());
  MGDPR_ASSIGN_OR_RETURN(
      auto rows, connection.query(fmt::format("SELECT reason, COUNT(*) FROM {} GROUP BY reason "
                                              "ORDER BY reason",
                                              schema.table("gdpr_contacts"))));
  for (const auto& row : rows.rows) {
    report.processed_by_reason[row[0].value_or("")] = db::cell_to_int(row[1]).value_or(0);
  }
  if (schema.column("gdpr_contacts", "returned_at") != nullptr) {
    MGDPR_ASSIGN_OR_RETURN(
        auto returned, connection.query_value(fmt::format(
                           "SELECT COUNT(*) FROM {} WHERE returned_at IS NOT NULL",
                           schema.table("gdpr_contacts"))));
    report.returned = db::cell_to_int(returned).value_or(0);
  }
  if (!schema.has_table("gdpr_sweep_runs")) return report;  // before version 3 of the own tables
  MGDPR_ASSIGN_OR_RETURN(report.last_sweep, read_sweep_run(connection, schema, "1"));
  MGDPR_ASSIGN_OR_RETURN(report.last_successful_sweep,
                         read_sweep_run(connection, schema, "result = 'ok'"));
  return report;
}

}  // namespace mgdpr::mautic
