// SPDX-License-Identifier: GPL-3.0-or-later
#include "mautic/engine.h"

#include <fmt/chrono.h>

#include <algorithm>
#include <chrono>
#include <future>
#include <set>
#include <thread>

#include "core/normalize.h"
#include "mautic/clean_state.h"
#include "mautic/discovery.h"
#include "mautic/location_rows.h"
#include "mautic/own_tables.h"
#include "mautic/staged_values.h"

namespace mgdpr::mautic {

using db::Param;
using db::quote_identifier;

namespace {

constexpr int64_t kFullPassIntervalSeconds = 3600;
// Attempts of a transaction that a deadlock or lock wait timeout rolled back.
constexpr int kRepairAttempts = 5;

// Where a batch's computed profile values wait for the UPDATE that joins them in.
constexpr std::string_view kProfileScratch = "`mgdpr_profile_values`";

// gdpr_contacts.source of what the sweep processes.
constexpr std::string_view kSweepSource = "sweep";

void append_ids(std::vector<Param>& params, std::span<const int64_t> ids) {
  for (int64_t id : ids) params.emplace_back(id);
}

// A piece of SQL with the values it binds, in order.
struct SqlCondition {
  std::string sql;
  std::vector<Param> params;
};

// True for a do-not-contact row (alias `d`) whose reason's grace period is over at `now`, or
// that mautic-gdpr wrote itself (the re-import guard's: that person left long ago). "1" when
// no configured reason has a grace period.
SqlCondition grace_over(const Config& config, UtcSeconds now) {
  SqlCondition condition;
  std::vector<std::string> anytime;  // reasons without a grace period
  std::vector<std::string> parts;
  for (DncReason reason : config.reasons) {
    const auto grace = config.grace.for_reason(reason);
    if (!grace || grace->is_zero()) {
      anytime.push_back(std::to_string(int(reason)));
      continue;
    }
    parts.push_back("(d.reason = ? AND d.date_added <= ?)");
    condition.params.emplace_back(int64_t(reason));
    condition.params.emplace_back(utc_text(grace->before(now)));
  }
  if (parts.empty()) {
    condition.sql = "1";
    return condition;
  }
  if (!anytime.empty()) parts.push_back(fmt::format("d.reason IN ({})", db::join(anytime, ", ")));
  // The re-import guard's own entries: the person left long ago (ARCHITECTURE.md, grace).
  parts.push_back("d.comments LIKE 'mautic-gdpr:%'");
  condition.sql = "(" + db::join(parts, " OR ") + ")";
  return condition;
}

// True for a processed record (alias `g`) past its reason's forget_after; empty sql when no
// reason is ever forgotten.
SqlCondition forget_due(const Config& config, UtcSeconds now) {
  SqlCondition condition;
  std::vector<std::string> parts;
  std::vector<std::string> named;
  std::vector<Param> params;
  std::optional<UtcSeconds> latest;  // the youngest horizon: no record after it is due
  auto horizon = [&](const Duration& after) {
    const UtcSeconds cutoff = after.before(now);
    if (!latest || cutoff > *latest) latest = cutoff;
    params.emplace_back(utc_text(cutoff));
  };
  for (const auto& [reason, after] : config.forget_after.by_reason) {
    named.emplace_back(reason_name(reason));
    if (!after) continue;  // "never"
    parts.push_back("(g.reason = ? AND g.processed_at < ?)");
    params.emplace_back(std::string(reason_name(reason)));
    horizon(*after);
  }
  if (const auto& after = config.forget_after.fallback) {
    if (named.empty()) {
      parts.push_back("g.processed_at < ?");
    } else {
      parts.push_back(fmt::format("(g.reason NOT IN ({}) AND g.processed_at < ?)",
                                  db::placeholders(named.size())));
      for (const auto& name : named) params.emplace_back(name);
    }
    horizon(*after);
  }
  if (parts.empty()) return condition;
  // The bound first, so the processed_at index reads the old records only.
  condition.sql = "g.processed_at < ? AND (" + db::join(parts, " OR ") + ")";
  condition.params.emplace_back(utc_text(*latest));
  condition.params.insert(condition.params.end(), params.begin(), params.end());
  return condition;
}

// lead_donotcontact as `d`, with the contact's standing record beside it (`pending_g`; NULL
// when none stands) for not_processed_sql. An anti-join rather than NOT EXISTS: MariaDB turns
// that into a materialized NOT IN and reads every record once per batch.
std::string dnc_with_records(const Schema& schema) {
  if (!schema.has_table("gdpr_contacts")) return schema.table("lead_donotcontact") + " d";
  // A contact that came back by choice and left again is processed again.
  return fmt::format("{} d LEFT JOIN {} pending_g ON pending_g.contact_id = d.lead_id AND {}",
                     schema.table("lead_donotcontact"), schema.table("gdpr_contacts"),
                     not_returned_sql(schema, "pending_g"));
}

// With FROM dnc_with_records(): no record stands for the entry's contact (one that came back by
// choice does not count); "" before the gdpr tables exist.
std::string not_processed_sql(const Schema& schema) {
  if (!schema.has_table("gdpr_contacts")) return "";
  return " AND pending_g.contact_id IS NULL";
}

// The one definition of "pending": on do-not-contact for a configured reason and channel,
// past the reason's grace period, and not yet recorded as processed. One row per DNC entry (a
// contact can have several), in lead_id order so a LIMIT stops early on the (lead_id, channel,
// reason) index instead of materialising every pending contact. Parameters:
// pending_contacts_params (then the cursor).
std::string pending_contacts_sql(const Config& config, const Schema& schema, bool with_cursor,
                                 std::string_view columns = "d.lead_id") {
  std::string sql = fmt::format(
      "SELECT {} FROM {} WHERE d.lead_id IS NOT NULL AND d.reason IN ({}) AND "
      "d.channel IN ({}) AND {}",
      columns, dnc_with_records(schema), db::placeholders(config.reasons.size()),
      db::placeholders(config.channels.size()), grace_over(config, UtcSeconds{}).sql);
  if (with_cursor) sql += " AND d.lead_id > ?";
  return sql + not_processed_sql(schema);
}

std::string pending_contact_set_sql(const Config& config, const Schema& schema) {
  return fmt::format("(SELECT DISTINCT lead_id FROM ({}) pending_rows)",
                     pending_contacts_sql(config, schema, false));
}

// Reasons, channels, then the grace cutoffs at `now`.
std::vector<Param> pending_contacts_params(const Config& config, UtcSeconds now) {
  std::vector<Param> params;
  for (DncReason reason : config.reasons) params.emplace_back(int64_t(reason));
  for (const auto& channel : config.channels) params.emplace_back(channel);
  for (auto& param : grace_over(config, now).params) params.push_back(std::move(param));
  return params;
}

Result<int64_t> count_pending(db::Connection& connection, const Config& config,
                              const Schema& schema, UtcSeconds now) {
  auto count = connection.query_value(
      fmt::format("SELECT COUNT(DISTINCT lead_id) FROM ({}) pending",
                  pending_contacts_sql(config, schema, false)),
      pending_contacts_params(config, now));
  if (!count) return count.error();
  return db::cell_to_int(*count).value_or(0);
}

// Contacts on do-not-contact for a configured reason and channel, not processed, and not
// pending yet because of the grace period (`pending` of them are).
Result<int64_t> count_waiting(db::Connection& connection, const Config& config,
                              const Schema& schema, int64_t pending) {
  if (config.grace.none()) return 0;
  // Everyone on do-not-contact for the trigger and not processed, less those already due.
  std::vector<Param> params;
  for (DncReason reason : config.reasons) params.emplace_back(int64_t(reason));
  for (const auto& channel : config.channels) params.emplace_back(channel);
  std::string sql = fmt::format(
      "SELECT COUNT(DISTINCT d.lead_id) FROM {} WHERE d.lead_id IS NOT NULL AND d.reason IN "
      "({}) AND d.channel IN ({})",
      dnc_with_records(schema), db::placeholders(config.reasons.size()),
      db::placeholders(config.channels.size()));
  sql += not_processed_sql(schema);
  MGDPR_ASSIGN_OR_RETURN(auto all, connection.query_value(sql, params));
  return std::max<int64_t>(0, db::cell_to_int(all).value_or(0) - pending);
}

// The lowest id among the entries still within their grace period; none when none is. An id,
// not a time: what a sweep looks at again must not depend on the entries' dates.
Result<std::optional<int64_t>> first_waiting_entry(db::Connection& connection,
                                                   const Config& config, const Schema& schema,
                                                   UtcSeconds now) {
  if (config.grace.none()) return std::optional<int64_t>();
  const SqlCondition over = grace_over(config, now);
  std::vector<Param> params;
  for (DncReason reason : config.reasons) params.emplace_back(int64_t(reason));
  for (const auto& channel : config.channels) params.emplace_back(channel);
  params.insert(params.end(), over.params.begin(), over.params.end());
  std::string sql = fmt::format(
      "SELECT MIN(d.id) FROM {} WHERE d.lead_id IS NOT NULL AND d.reason IN ({}) AND "
      "d.channel IN ({}) AND ({}) IS NOT TRUE",
      dnc_with_records(schema), db::placeholders(config.reasons.size()),
      db::placeholders(config.channels.size()), over.sql);
  sql += not_processed_sql(schema);
  MGDPR_ASSIGN_OR_RETURN(auto first, connection.query_value(sql, params));
  return db::cell_to_int(first);
}

// True when an entry from first_id on has come out of its grace period and is pending.
Result<bool> waiting_entry_due(db::Connection& connection, const Config& config,
                               const Schema& schema, int64_t first_id, UtcSeconds now) {
  auto params = pending_contacts_params(config, now);
  params.emplace_back(first_id);
  MGDPR_ASSIGN_OR_RETURN(
      auto due,
      connection.query_value(fmt::format("SELECT EXISTS({} AND d.id >= ?)",
                                         pending_contacts_sql(config, schema, false)),
                             params));
  return due == std::optional<std::string>("1");
}

// When the earliest entry still within its grace period comes due; none when none is.
Result<std::optional<UtcSeconds>> next_grace_due(db::Connection& connection, const Config& config,
                                                 const Schema& schema, UtcSeconds now) {
  std::optional<UtcSeconds> due;
  for (DncReason reason : config.reasons) {
    const auto grace = config.grace.for_reason(reason);
    if (!grace || grace->is_zero()) continue;
    std::vector<Param> params = {int64_t(reason)};
    for (const auto& channel : config.channels) params.emplace_back(channel);
    params.emplace_back(utc_text(grace->before(now)));
    std::string sql = fmt::format(
        "SELECT UNIX_TIMESTAMP(MIN(d.date_added)) FROM {} WHERE d.lead_id IS NOT NULL AND "
        "d.reason = ? AND d.channel IN ({}) AND d.date_added > ?",
        dnc_with_records(schema), db::placeholders(config.channels.size()));
    sql += not_processed_sql(schema);
    MGDPR_ASSIGN_OR_RETURN(auto earliest, connection.query_value(sql, params));
    const auto seconds = db::cell_to_int(earliest);
    if (!seconds) continue;
    const UtcSeconds comes_due = grace->after(UtcSeconds(std::chrono::seconds(*seconds)));
    if (!due || comes_due < *due) due = comes_due;
  }
  return due;
}

}  // namespace

Engine::Engine(db::Connection& connection, const Config& config, const Schema& schema,
               const ContactPolicy& policy, const RelatedPlan& related, const KeyRing& keys,
               std::string actor, ConnectionFactory more_connections)
    : connection_(connection),
      config_(config),
      schema_(schema),
      policy_(policy),
      related_(related),
      keys_(keys),
      actor_(std::move(actor)),
      more_connections_(std::move(more_connections)) {}

struct Engine::SweepWorker {
  SweepWorker(std::unique_ptr<db::Connection> own_connection, const Engine& parent)
      : connection(std::move(own_connection)),
        engine(*connection, parent.config_, parent.schema_, parent.policy_, parent.related_,
               parent.keys_, parent.actor_) {}
  std::unique_ptr<db::Connection> connection;
  Engine engine;
  std::future<Result<ProcessReport>> running;  // last: waited for before the rest goes
};

RelatedScrubber::EmailDigest Engine::email_digest() const {
  const ColumnPlan* email = policy_.find("email");
  if (email == nullptr || email->action != Action::kHash) return {};
  return [this](std::string_view address) {
    return keys_.digests(normalize(ValueKind::kEmail, address));
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
  for (DncReason reason : config_.reasons) {
    const auto grace = config_.grace.for_reason(reason);
    signature += fmt::format(":{}/{}", int(reason), grace ? grace->text() : "0");
  }
  for (const auto& channel : config_.channels) signature += ":" + channel;
  return sha256_hex(signature);
}

Result<std::vector<int64_t>> Engine::next_pending(int64_t after_id, int64_t count,
                                                  UtcSeconds now) {
  auto params = pending_contacts_params(config_, now);
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
  // The change queue's triggers skip this connection's writes: they make rows clean, and
  // processing queues its contacts itself (change_queue.h).
  MGDPR_TRY(connection_.execute("SET @mautic_gdpr_writer = 1"));
  // Holding the lock, no other sweep runs: a row still "running" is one whose process ended.
  MGDPR_TRY(connection_.execute(
      fmt::format("UPDATE {} SET result = 'interrupted' WHERE result = 'running' AND id <> ?",
                  schema_.table("gdpr_sweep_runs")),
      {run}));

  // The checks after processing look at contacts processed before this run: what this run
  // processes is clean when its batch commits, and a Mautic write after that is found by the
  // next sweep (from the queue, where processing put these contacts, or by its full check).
  MGDPR_ASSIGN_OR_RETURN(const auto started, connection_.query_value("SELECT UTC_TIMESTAMP(6)"));
  const std::optional<std::string> run_start = started;
  MGDPR_ASSIGN_OR_RETURN(const bool queue_installed_at_start, queue_installed(connection_, schema_));
  int64_t queue_top_at_start = 0;
  if (queue_installed_at_start) {
    MGDPR_ASSIGN_OR_RETURN(queue_top_at_start, queue_top(connection_, schema_));
  }

  // The re-import guard first: a returning contact it puts on do-not-contact is pending, so
  // this same sweep pseudonymizes it (intended: ARCHITECTURE.md, "Re-import guard").
  auto guarded =
      Guard(connection_, config_, schema_, policy_, keys_, actor_).run_pass(options.batch_size);
  if (!guarded) return guarded.error();
  report.guard = std::move(*guarded);
  // A person who asked to be erased and came back is erased again now, as the request was.
  if (auto returned = report.guard.suppressed_on_request(); !returned.empty()) {
    MGDPR_ASSIGN_OR_RETURN(auto erased, process_contacts(returned, "request", Trigger::kRequest));
    report.contacts_processed += int64_t(erased.processed.size());
    report.retries += erased.retries;
    for (const auto& [table, rows] : erased.rows_changed) report.rows_changed[table] += rows;
  }
  // An hourly full pass also rescans do-not-contact even when it looks unchanged (a reason
  // edited in place keeps the row's id) and every IP address for references.
  const UtcSeconds now_time = utc_now();
  const int64_t now = now_time.time_since_epoch().count();
  MGDPR_ASSIGN_OR_RETURN(auto last_full_pass, read_meta(connection_, schema_, "full_pass_at"));
  const bool full_pass =
      options.full_pass || !last_full_pass.has_value() ||
      now - db::cell_to_int(last_full_pass).value_or(0) >= kFullPassIntervalSeconds;

  // Records past [retention] forget_after go before anything new is processed.
  MGDPR_ASSIGN_OR_RETURN(report.forget, forget_expired(now_time, options.batch_size));
  for (const auto& [table, rows] : report.forget.rows_changed) report.rows_changed[table] += rows;

  // An idle sweep skips the do-not-contact scan: nothing was added or removed since the last
  // complete one, and no entry has come out of its grace period since.
  MGDPR_ASSIGN_OR_RETURN(auto signature, dnc_signature());
  MGDPR_ASSIGN_OR_RETURN(auto scanned, read_meta(connection_, schema_, "dnc_signature"));
  bool grace_ended = false;
  MGDPR_ASSIGN_OR_RETURN(auto first_waiting, read_meta(connection_, schema_, "grace_first_id"));
  if (auto first = db::cell_to_int(first_waiting); first && !config_.grace.none()) {
    MGDPR_ASSIGN_OR_RETURN(grace_ended, waiting_entry_due(connection_, config_, schema_, *first, now_time));
  }
  if (full_pass || grace_ended || scanned != std::optional<std::string>(signature)) {
    // Contacts whose do-not-contact entry Mautic removed came back by choice: recorded first,
    // so nothing below treats their new data as late writes.
    MGDPR_ASSIGN_OR_RETURN(report.returned, record_returns());
    MGDPR_ASSIGN_OR_RETURN(report.pending_before, count_pending(connection_, config_, schema_, now_time));
    const int64_t planned = options.limit ? std::min<int64_t>(*options.limit, report.pending_before)
                                          : report.pending_before;
    if (progress) progress(0, planned);

    int64_t cursor = 0;
    bool stopped_by_limit = false;
    bool contact_left = false;  // one failed alone: the next sweep must scan again to retry it
    auto merge = [&](Result<ProcessReport> processed) -> Status {
      if (!processed) return processed.error();
      contact_left = contact_left || std::any_of(processed->unhandled.begin(),
                                                 processed->unhandled.end(),
                                                 [](const UnhandledRow& row) {
                                                   return row.table == "leads";
                                                 });
      report.unhandled.insert(processed->unhandled.begin(), processed->unhandled.end());
      report.contacts_processed += int64_t(processed->processed.size());
      report.retries += processed->retries;
      for (const auto& [table, rows] : processed->rows_changed) report.rows_changed[table] += rows;
      if (progress) progress(std::min(report.contacts_processed, planned), planned);
      return {};
    };
    // A limit counts processed contacts, known only once a batch is done: one at a time then.
    MGDPR_ASSIGN_OR_RETURN(auto workers,
                           open_sweep_workers(options.limit ? 1 : config_.sweep.workers));
    size_t next_worker = 0;
    while (true) {
      int64_t want = options.batch_size;
      if (options.limit) {
        stopped_by_limit = report.contacts_processed >= *options.limit;
        if (stopped_by_limit) break;
        want = std::min<int64_t>(want, *options.limit - report.contacts_processed);
      }
      MGDPR_ASSIGN_OR_RETURN(auto batch, next_pending(cursor, want, now_time));
      if (batch.empty()) break;
      cursor = batch.back();
      if (workers.empty()) {
        MGDPR_TRY(merge(process_sweep_batch(batch)));
        continue;
      }
      // Round robin: a worker's previous batch is merged before it takes the next one. Its
      // contacts were past the cursor already, so no other batch holds them.
      SweepWorker& worker = *workers[next_worker];
      next_worker = (next_worker + 1) % workers.size();
      if (worker.running.valid()) MGDPR_TRY(merge(worker.running.get()));
      worker.running = std::async(std::launch::async, [&worker, batch = std::move(batch)] {
        return worker.engine.process_sweep_batch(batch);
      });
    }
    // Every batch still running is waited for and merged; the first error is the sweep's.
    Status finished;
    for (auto& worker : workers) {
      if (!worker->running.valid()) continue;
      Status merged = merge(worker->running.get());
      if (finished && !merged) finished = merged;
    }
    MGDPR_TRY(finished);
    // The signature was read before the scan: rows added meanwhile make the next sweep scan.
    if (!stopped_by_limit && !contact_left) {
      MGDPR_TRY(write_meta(connection_, schema_, "dnc_signature", signature));
      // Entries still within their grace period: from the first of them on, each idle sweep
      // looks (by id, an index range) whether one has come due ("": none waits).
      MGDPR_ASSIGN_OR_RETURN(auto first, first_waiting_entry(connection_, config_, schema_, now_time));
      MGDPR_TRY(write_meta(connection_, schema_, "grace_first_id",
                           first ? std::to_string(*first) : ""));
    }
    MGDPR_ASSIGN_OR_RETURN(
        report.waiting,
        count_waiting(connection_, config_, schema_, std::max<int64_t>(0, report.pending_before - report.contacts_processed)));
  }
  // The IPs the batches unlinked (an interrupted sweep's too): those nobody references go.
  RelatedScrubber related(connection_, schema_, related_, email_digest());
  MGDPR_TRY(related.drop_ip_candidates(report.rows_changed, report.retries));

  // Then whatever Mautic (or a plugin, or direct SQL) wrote about processed contacts since,
  // found by content wherever it is: the profile, the do-not-contact comments, every location.
  // With the change queue in place (and a full check since it was installed), a plain sweep
  // checks only the queued contacts in the tables the triggers cover.
  QueueState queue;  // none: the default, and then no trigger is even looked for
  if (queue_installed_at_start) {
    MGDPR_ASSIGN_OR_RETURN(queue, read_queue_state(connection_, schema_));
  }
  report.queue_used = !full_pass && queue.baseline && queue.any();
  if (report.queue_used) {
    MGDPR_TRY(repair_queued(related, queue, queue_top_at_start, run_start, report));
  } else {
    MGDPR_TRY(repair_profiles(ContactSet::processed(schema_, run_start), report.repaired,
                              report.retries));
    MGDPR_TRY(related.repair_locations(report.repaired, report.retries,
                                       {.processed_before = run_start}));
    // Every write since the triggers were in place is queued, and everything before was just
    // checked: from now on the queue may stand in for this check.
    if (queue.complete() && !queue.baseline) {
      MGDPR_TRY(write_meta(connection_, schema_, "queue_baseline", std::to_string(now)));
    }
  }
  MGDPR_TRY(related.finish_repair(report.repaired, full_pass, report.retries));
  report.unhandled.insert(related.unhandled().begin(), related.unhandled().end());
  MGDPR_TRY(forget_gone_unhandled(connection_, schema_));
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

Status Engine::change_queue(QueueAction action) {
  MGDPR_TRY(hold_sweep_lock());
  Status done = action == QueueAction::kInstall ? install_queue(connection_, schema_)
                                                : remove_queue(connection_, schema_);
  release_sweep_lock();
  return done;
}

Status Engine::repair_queued(RelatedScrubber& related, const QueueState& queue, int64_t top,
                             const std::optional<std::string>& processed_before,
                             SweepReport& report) {
  // The rows queued up to `top`, a slice at a time; each slice's contacts (those still
  // processed and on do-not-contact) checked in the tables their writes went to (every covered
  // table for those queued without one), then exactly the rows read deleted. A crash between
  // the two leaves the rows queued: checked again, harmlessly.
  constexpr int64_t kSlice = 2000;
  const bool profile_covered =
      queue.covered.contains("leads") && queue.covered.contains("lead_donotcontact");
  int64_t cursor = 0;
  while (cursor < top) {
    MGDPR_ASSIGN_OR_RETURN(auto slice, read_queue(connection_, schema_, cursor, top, kSlice));
    if (slice.seqs.empty()) break;
    cursor = slice.seqs.back();
    // A queued contact that came back by choice since is not checked: its data is its own.
    const ContactSet all = ContactSet::processed(schema_, processed_before);
    std::vector<Param> params(slice.contacts.begin(), slice.contacts.end());
    params.insert(params.end(), all.params.begin(), all.params.end());
    MGDPR_ASSIGN_OR_RETURN(
        auto still, connection_.query(fmt::format("SELECT g.contact_id FROM {} g WHERE "
                                                  "g.contact_id IN ({}) AND g.contact_id IN {} "
                                                  "ORDER BY g.contact_id",
                                                  schema_.table("gdpr_contacts"),
                                                  db::placeholders(slice.contacts.size()), all.sql),
                                      params));
    std::set<int64_t> still_processed;
    for (const auto& row : still.rows) still_processed.insert(db::cell_to_int(row[0]).value_or(0));
    report.queued_contacts += int64_t(still_processed.size());
    // Per covered table, the contacts to check there.
    auto checked_in = [&](std::initializer_list<std::string_view> tables) {
      std::set<int64_t> ids;
      auto keep = [&](const std::vector<int64_t>& queued) {
        for (int64_t id : queued) {
          if (still_processed.contains(id)) ids.insert(id);
        }
      };
      keep(slice.everywhere);
      for (std::string_view table : tables) {
        if (auto it = slice.by_table.find(std::string(table)); it != slice.by_table.end()) {
          keep(it->second);
        }
      }
      return std::vector<int64_t>(ids.begin(), ids.end());
    };
    if (profile_covered) {
      if (auto profiles = checked_in({"leads", "lead_donotcontact"}); !profiles.empty()) {
        MGDPR_TRY(repair_profiles(ContactSet::of(profiles), report.repaired, report.retries));
      }
    }
    std::map<std::string, std::vector<int64_t>> by_table;
    for (const std::string& table : queue.covered) {
      if (auto ids = checked_in({table}); !ids.empty()) by_table[table] = std::move(ids);
    }
    if (!by_table.empty()) {
      RepairScope scope{.tables = &queue.covered, .contacts_by_table = &by_table};
      MGDPR_TRY(related.repair_locations(report.repaired, report.retries, scope));
    }
    MGDPR_TRY(delete_queued(connection_, schema_, slice.seqs));
  }
  // What no trigger covers: the profile if its triggers are gone, tables without a trigger (a
  // form created since the install) and rows no trigger can tie to a contact (payloads, text).
  if (!profile_covered) {
    MGDPR_TRY(repair_profiles(ContactSet::processed(schema_, processed_before), report.repaired,
                              report.retries));
  }
  RepairScope rest{
      .tables = &queue.covered, .except_tables = true, .processed_before = processed_before};
  MGDPR_TRY(related.repair_locations(report.repaired, report.retries, rest));
  return {};
}

Result<ProcessReport> Engine::process_contacts(std::span<const int64_t> contact_ids,
                                               std::string_view source, Trigger trigger) {
  // A deadlock or lock wait timeout against Mautic's own transactions rolled the batch back;
  // the work is idempotent, so it is simply done again, a bounded number of times.
  constexpr int kAttempts = 5;
  for (int attempt = 1;; ++attempt) {
    auto report = process_once(contact_ids, source, trigger);
    if (report) {
      report->retries = attempt - 1;
      return report;
    }
    if (attempt == kAttempts || !is_retryable(report.error())) return report;
    std::this_thread::sleep_for(std::chrono::milliseconds(20 * attempt));
  }
}

Result<ProcessReport> Engine::process_once(std::span<const int64_t> contact_ids,
                                           std::string_view source, Trigger trigger) {
  if (contact_ids.empty()) return ProcessReport{};
  auto transaction = db::Transaction::begin(connection_);
  if (!transaction) return transaction.error();
  MGDPR_ASSIGN_OR_RETURN(auto report, process_in_transaction(contact_ids, source, trigger));
  MGDPR_TRY(transaction->commit());
  MGDPR_TRY(
      RelatedScrubber(connection_, schema_, related_).record_clean_digests(report.clean_values));
  return report;
}

Result<ProcessReport> Engine::process_in_transaction(std::span<const int64_t> contact_ids,
                                                     std::string_view source, Trigger trigger) {
  ProcessReport report;
  if (!schema_.has_table("gdpr_contacts")) {
    return make_error("the gdpr tables are missing; the engine must be opened for writing");
  }
  if (!connection_.in_transaction()) {
    return make_error("process_in_transaction runs inside the caller's transaction; none is open");
  }
  const auto computed = policy_.computed();

  // Lock the contacts first, then re-check their state: a webhook and a sweep reaching the
  // same contact serialize on this row lock, and the second sees the first one's record.
  std::vector<std::string> selected = {"l.id", "l.`email`"};
  for (const ColumnPlan* plan : computed) {
    selected.push_back("l." + quote_identifier(plan->column));
  }
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

  // The do-not-contact entry that makes each contact pending (a configured reason and
  // channel, its grace period over); the earliest one names the reason and date recorded as
  // proof. Entries still within their grace period only say the contact waits. On request, any
  // entry does, at once.
  const SqlCondition over =
      trigger == Trigger::kConfigured ? grace_over(config_, utc_now()) : SqlCondition{"1", {}};
  std::vector<Param> dnc_params = over.params;
  dnc_params.insert(dnc_params.end(), id_params.begin(), id_params.end());
  std::string configured;
  if (trigger == Trigger::kConfigured) {
    for (DncReason reason : config_.reasons) dnc_params.emplace_back(int64_t(reason));
    for (const auto& channel : config_.channels) dnc_params.emplace_back(channel);
    configured = fmt::format(" AND d.reason IN ({}) AND d.channel IN ({})",
                             db::placeholders(config_.reasons.size()),
                             db::placeholders(config_.channels.size()));
  }
  auto dnc_rows = connection_.query(
      fmt::format("SELECT d.lead_id, d.reason, d.channel, d.date_added, {} FROM {} d WHERE "
                  "d.lead_id IN ({}){} ORDER BY d.date_added, d.id",
                  over.sql, schema_.table("lead_donotcontact"),
                  db::placeholders(contact_ids.size()), configured),
      dnc_params);
  if (!dnc_rows) return dnc_rows.error();
  struct DncEntry {
    std::string reason;
    std::string channel;
    std::optional<std::string> date;
  };
  std::map<int64_t, DncEntry> dnc_by_contact;
  std::set<int64_t> in_grace;
  for (const auto& row : dnc_rows->rows) {
    int64_t id = db::cell_to_int(row[0]).value_or(0);
    if (row[4] != std::optional<std::string>("1")) {
      in_grace.insert(id);
      continue;
    }
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
    if (done.contains(id)) continue;
    if (!dnc_by_contact.contains(id)) {
      if (in_grace.contains(id)) report.waiting.push_back(id);
      continue;
    }
    targets.push_back(id);
    identities.push_back({id, row[1]});
    target_rows.push_back(&row);
  }
  if (targets.empty()) return report;
  MGDPR_TRY(rewrite_profiles(target_rows, 2, report.rows_changed));

  std::vector<Param> target_params;
  append_ids(target_params, targets);
  const std::string target_list = db::placeholders(targets.size());

  RelatedScrubber related(connection_, schema_, related_);
  // A sweep's batches run side by side: the IPs they unlink go once they are all done.
  MGDPR_TRY(related.scrub_contacts(identities, report.rows_changed,
                                   source == kSweepSource ? RelatedScrubber::BatchMode::kSideBySide
                                                          : RelatedScrubber::BatchMode::kAlone));
  report.clean_values = related.take_clean_values();

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
  // With the change queue, the next sweep checks these contacts once more after this commit:
  // a Mautic write that committed between this batch's scrub and its record was not queued by
  // its trigger (the contact was not processed yet when it read gdpr_contacts).
  MGDPR_ASSIGN_OR_RETURN(const bool queued, queue_installed(connection_, schema_));
  if (queued) MGDPR_TRY(enqueue_contacts(connection_, schema_, targets));

  report.processed = std::move(targets);
  report.unhandled = related.unhandled();
  return report;
}

Result<ProcessReport> Engine::process_sweep_batch(std::span<const int64_t> contact_ids) {
  auto processed = process_contacts(contact_ids, kSweepSource);
  if (!processed && is_statement_error(processed.error())) {
    return process_one_by_one(contact_ids, processed.error());
  }
  return processed;
}

Result<std::vector<std::unique_ptr<Engine::SweepWorker>>> Engine::open_sweep_workers(int count) {
  std::vector<std::unique_ptr<SweepWorker>> workers;
  if (count <= 1 || !more_connections_) return workers;
  for (int i = 0; i < count; ++i) {
    MGDPR_ASSIGN_OR_RETURN(auto connection, more_connections_());
    // As on the sweep's own connection: the change queue's triggers skip these writes.
    MGDPR_TRY(connection->execute("SET @mautic_gdpr_writer = 1"));
    workers.push_back(std::make_unique<SweepWorker>(std::move(connection), *this));
  }
  return workers;
}

Result<ProcessReport> Engine::process_one_by_one(std::span<const int64_t> contact_ids,
                                                 const Error& error) {
  ProcessReport report;
  std::vector<UnhandledRow> failed;
  for (int64_t id : contact_ids) {
    auto alone = process_contacts(std::span<const int64_t>(&id, 1), kSweepSource);
    if (!alone) {
      if (!is_statement_error(alone.error())) return alone.error();
      failed.push_back({"leads", std::to_string(id),
                        // The code, not the message: a server message may quote a value
                        // ("Duplicate entry '...'").
                        fmt::format("the contact could not be processed: the database refused "
                                    "a statement (MariaDB error {})",
                                    alone.error().server_code),
                        std::string(kUnhandledLeft)});
      continue;
    }
    report.processed.insert(report.processed.end(), alone->processed.begin(),
                            alone->processed.end());
    for (const auto& [table, rows] : alone->rows_changed) report.rows_changed[table] += rows;
    report.retries += alone->retries;
    report.unhandled.insert(report.unhandled.end(), alone->unhandled.begin(),
                            alone->unhandled.end());
  }
  // Nothing of several goes through alone either: not one contact's problem, but the sweep's.
  if (contact_ids.size() > 1 && failed.size() == contact_ids.size()) return error;
  MGDPR_TRY(record_unhandled(connection_, schema_, failed));
  report.unhandled.insert(report.unhandled.end(), failed.begin(), failed.end());
  return report;
}

Status Engine::rewrite_profiles(const std::vector<const std::vector<db::Cell>*>& rows,
                                size_t first_computed, TableCounts& changed) {
  if (rows.empty()) return {};
  const auto computed = policy_.computed();
  const auto deleted = policy_.with_action(Action::kDelete);
  const KeyRing::Entry& key = keys_.active();
  if (key.id == 0) return make_error("the hash key is not recorded; the engine must be opened for writing");
  // Per contact its id, then the new value of each computed column (NULL: none, cleared).
  std::vector<Param> staged;
  std::vector<Param> ids;
  for (const auto* row : rows) {
    const int64_t id = db::cell_to_int((*row)[0]).value_or(0);
    ids.emplace_back(id);
    staged.emplace_back(id);
    for (size_t c = 0; c < computed.size(); ++c) {
      const ColumnPlan& plan = *computed[c];
      const auto& cell = (*row)[first_computed + c];
      Param& value = staged.emplace_back(nullptr);
      if (!cell) continue;
      if (plan.generalizer) {
        // Idempotent: a value generalized before comes out the same; malformed ones go.
        if (auto general = generalize(*plan.generalizer, *cell)) value = std::move(*general);
        continue;
      }
      // A value that is already a digest stays as it is: a hash is never hashed twice.
      std::string digest;
      if (looks_like_digest(*cell)) {
        digest = *cell;
      } else {
        // Nothing left after normalization ("n/a" as a phone number): deleted, not hashed, or
        // every such contact would share one digest and match each other's lookups.
        const std::string normalized = normalize(plan.kind, *cell);
        if (normalized.empty()) continue;
        digest = key.key.hmac_hex(normalized);
      }
      value = std::move(digest);
    }
  }

  // The computed values wait in a scratch table joined in by the UPDATE.
  std::vector<std::string> assignments;
  for (const ColumnPlan* plan : deleted) {
    const std::string column = "l." + quote_identifier(plan->column);
    assignments.push_back(column + " = " + plan->cleared(column));
  }
  std::vector<std::string> computed_columns;
  for (size_t c = 0; c < computed.size(); ++c) {
    const std::string column = "l." + quote_identifier(computed[c]->column);
    // Nothing to hash, or nothing a generalizer can keep: cleared.
    assignments.push_back(
        fmt::format("{} = COALESCE(s.v{}, {})", column, c, computed[c]->cleared(column)));
    computed_columns.push_back(computed[c]->column);
  }
  if (!assignments.empty()) {
    std::string from = schema_.table("leads") + " l";
    if (!computed.empty()) {
      MGDPR_TRY(stage_values(connection_, kProfileScratch, schema_.table("leads"), "id",
                             computed_columns, staged));
      from += fmt::format(" LEFT JOIN {} s ON s.k = l.id", kProfileScratch);
    }
    auto updated =
        connection_.execute(fmt::format("UPDATE {} SET {} WHERE l.id IN ({})", from,
                                        db::join(assignments, ", "), db::placeholders(ids.size())),
                            ids);
    if (!updated) return updated.error();
    changed["leads"] += *updated;
  }
  if (computed.empty()) return {};
  // The lookup table takes every digest from the scratch table (sent once, not again as
  // parameters): one row per hashed column that has one.
  std::vector<std::string> selects;
  std::vector<Param> params;
  for (size_t c = 0; c < computed.size(); ++c) {
    if (computed[c]->generalizer) continue;
    selects.push_back(
        fmt::format("SELECT v{0}, ?, k, ? FROM {1} WHERE v{0} IS NOT NULL", c, kProfileScratch));
    params.emplace_back(computed[c]->column);
    params.emplace_back(key.id);
  }
  if (!selects.empty()) {
    MGDPR_TRY(connection_.execute(
        fmt::format("INSERT IGNORE INTO {} (digest, field, contact_id, key_id) {}",
                    schema_.table("gdpr_hashes"), db::join(selects, " UNION ALL ")),
        params));
  }
  MGDPR_TRY(connection_.execute(fmt::format("DROP TEMPORARY TABLE {}", kProfileScratch)));
  return {};
}

Status Engine::repair_profiles(const ContactSet& contacts, TableCounts& repaired,
                               int64_t& retries) {
  // Found without locks, in contact id order; each batch then locked and rewritten by the same
  // code as the first time (a digest stays as it is, never hashed twice).
  const auto computed = policy_.computed();
  std::vector<std::string> selected = {"l.id"};
  for (const ColumnPlan* plan : computed) {
    selected.push_back("l." + quote_identifier(plan->column));
  }
  const ContactSet& processed = contacts;
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

Result<int64_t> Engine::record_returns(std::span<const int64_t> only) {
  // Processed, no longer on do-not-contact on the channel they left, and still in Mautic (a
  // deleted contact has no entry either, but it did not come back).
  std::vector<Param> only_params;
  append_ids(only_params, only);
  MGDPR_ASSIGN_OR_RETURN(
      auto found,
      connection_.query(
          fmt::format(
              "SELECT g.contact_id FROM {} g JOIN {} l ON l.id = g.contact_id WHERE {} AND NOT "
              "EXISTS (SELECT 1 FROM {} d WHERE d.lead_id = g.contact_id AND d.channel = "
              "g.channel){}",
              schema_.table("gdpr_contacts"), schema_.table("leads"),
              not_returned_sql(schema_, "g"), schema_.table("lead_donotcontact"),
              only.empty() ? ""
                           : fmt::format(" AND g.contact_id IN ({})",
                                         db::placeholders(only.size()))),
          only_params));
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
  const UtcSeconds now = utc_now();
  auto pending = count_pending(connection_, config_, schema_, now);
  if (!pending) return pending.error();
  report.pending = *pending;
  MGDPR_ASSIGN_OR_RETURN(report.waiting, count_waiting(connection_, config_, schema_, *pending));
  const SqlCondition expired = forget_due(config_, now);
  if (!expired.sql.empty() && schema_.has_table("gdpr_contacts")) {
    MGDPR_ASSIGN_OR_RETURN(
        auto forgettable,
        connection_.query_value(fmt::format("SELECT COUNT(*) FROM {} g WHERE {}",
                                            schema_.table("gdpr_contacts"), expired.sql),
                                expired.params));
    report.forgettable = db::cell_to_int(forgettable).value_or(0);
  }

  std::vector<const ColumnPlan*> changing;
  std::vector<std::string> sums;
  for (const auto& plan : policy_.columns) {
    if (plan.action == Action::kKeep) continue;
    const std::string column = "l." + quote_identifier(plan.column);
    // Hashing changes non-empty values; deleting and generalizing change every value that is
    // not NULL yet.
    sums.push_back(plan.action == Action::kHash
                       ? fmt::format("SUM({0} IS NOT NULL AND {0} <> '')", column)
                       : fmt::format("SUM({} IS NOT NULL)", column));
    changing.push_back(&plan);
  }
  if (!changing.empty()) {
    auto rows = connection_.query(
        fmt::format("SELECT {} FROM {} l JOIN {} p ON p.lead_id = l.id", db::join(sums, ", "),
                    schema_.table("leads"), pending_contact_set_sql(config_, schema_)),
        pending_contacts_params(config_, now));
    if (!rows) return rows.error();
    for (size_t i = 0; i < changing.size(); ++i) {
      int64_t values = rows->rows.empty() ? 0 : db::cell_to_int(rows->rows[0][i]).value_or(0);
      report.lines.push_back({"leads", changing[i]->column, changing[i]->action,
                              changing[i]->action_text(), values});
    }
  }
  auto comments = connection_.query_value(
      fmt::format("SELECT COUNT(*) FROM {} dnc JOIN {} p ON p.lead_id = dnc.lead_id "
                  "WHERE dnc.comments IS NOT NULL AND dnc.comments NOT LIKE 'mautic-gdpr:%'",
                  schema_.table("lead_donotcontact"), pending_contact_set_sql(config_, schema_)),
      pending_contacts_params(config_, now));
  if (!comments) return comments.error();
  report.lines.push_back({"lead_donotcontact", "comments", Action::kDelete, "delete",
                          db::cell_to_int(*comments).value_or(0)});
  return report;
}

Result<PersonMatches> Engine::lookup(const std::vector<LookupCriterion>& criteria) {
  std::vector<std::string> asked;
  for (const auto& criterion : criteria) {
    const ColumnPlan* plan = policy_.find(criterion.alias);
    if (plan != nullptr && !plan->field_type.empty() && plan->action != Action::kHash) {
      return make_error(
          ErrorKind::kUsage, "`{}` is not hashed by the policy (it is {}), so its values cannot be looked up; "
          "only fields with action \"hash\" can",
          criterion.alias, plan->action_text());
    }
    asked.push_back(criterion.alias);
  }
  MGDPR_ASSIGN_OR_RETURN(auto matches, find_person(criteria));
  if (schema_.has_table("gdpr_audit")) {
    MGDPR_TRY(write_audit(connection_, schema_, actor_, "lookup",
                          fmt::format("fields: {}{}", db::join(asked, ", "),
                                      matches.live.empty()
                                          ? ""
                                          : fmt::format("; {} live", matches.live.size())),
                          int64_t(matches.processed.size() + matches.live.size())));
  }
  return matches;
}

Result<PersonMatches> Engine::find_person(const std::vector<LookupCriterion>& criteria) {
  if (criteria.empty()) return make_error(ErrorKind::kUsage, "a lookup needs at least one field and value");
  bool all_hashed = true;
  std::set<std::string_view> given;
  for (const auto& criterion : criteria) {
    if (!given.insert(criterion.alias).second) {
      return make_error(ErrorKind::kUsage,
                        "`{}` is given twice; a person is found by every field given, so give "
                        "each field once",
                        criterion.alias);
    }
    const ColumnPlan* plan = policy_.find(criterion.alias);
    if (plan == nullptr || plan->field_type.empty()) {
      return make_error(ErrorKind::kUsage,
                        "`{}` is not a contact field; run `mautic-gdpr check` to list them",
                        criterion.alias);
    }
    if (normalize(plan->kind, criterion.value).empty()) {
      return make_error(ErrorKind::kUsage,
                        "the value for `{}` is empty once normalized; nothing to look up",
                        criterion.alias);
    }
    all_hashed = all_hashed && plan->action == Action::kHash;
  }
  PersonMatches person;
  // Processed contacts keep digests of hashed fields only: any other field finds live ones.
  if (all_hashed) {
    MGDPR_ASSIGN_OR_RETURN(person.processed, find_processed(criteria));
  }
  MGDPR_ASSIGN_OR_RETURN(person.live, find_live(criteria));
  return person;
}

Result<std::vector<int64_t>> Engine::find_live(const std::vector<LookupCriterion>& criteria) {
  // The value in clear, compared in SQL: an email relies on the column's case-insensitive
  // collation (Mautic's utf8mb4_unicode_ci), a phone number is compared as + and digits.
  // Without an index (a fresh Mautic 5.1 has none on leads.email) this reads the whole table.
  std::vector<std::string> conditions;
  std::vector<Param> params;
  for (const auto& criterion : criteria) {
    const ColumnPlan* plan = policy_.find(criterion.alias);
    const std::string column = "l." + quote_identifier(plan->column);
    if (plan->kind == ValueKind::kPhone) {
      conditions.push_back(fmt::format(
          "CONCAT(IF(TRIM({0}) LIKE '+%', '+', ''), REGEXP_REPLACE({0}, '[^0-9]', '')) = ?",
          column));
    } else {
      conditions.push_back(column + " = ?");
    }
    params.emplace_back(normalize(plan->kind, criterion.value));
  }
  if (schema_.has_table("gdpr_contacts")) {
    // A processed contact who came back by choice is live again.
    conditions.push_back(fmt::format("NOT EXISTS (SELECT 1 FROM {} g WHERE g.contact_id = l.id "
                                     "AND {})",
                                     schema_.table("gdpr_contacts"), not_returned_sql(schema_, "g")));
  }
  params.emplace_back(int64_t(kMaxContactsOfAPerson) + 1);
  MGDPR_ASSIGN_OR_RETURN(
      auto rows, connection_.query(fmt::format("SELECT l.id FROM {} l WHERE {} ORDER BY l.id LIMIT ?",
                                               schema_.table("leads"),
                                               db::join(conditions, " AND ")),
                                   params));
  std::vector<int64_t> ids;
  for (const auto& row : rows.rows) ids.push_back(db::cell_to_int(row[0]).value_or(0));
  return ids;
}

Result<std::vector<LookupMatch>> Engine::find_processed(
    const std::vector<LookupCriterion>& criteria) {
  // Kept values, generalized ones among them (they are kept, in a coarser form).
  std::vector<std::string> kept_columns;
  std::map<std::string, std::string> generalized;
  for (const auto& plan : policy_.columns) {
    if (plan.action == Action::kKeep || plan.generalizer) kept_columns.push_back(plan.column);
    if (plan.generalizer) generalized[plan.column] = plan.generalizer->name();
  }
  std::vector<std::string> kept_sql;
  for (const auto& column : kept_columns) kept_sql.push_back("l." + quote_identifier(column));

  std::vector<LookupMatch> matches;
  if (schema_.has_table("gdpr_hashes")) {
    // One statement: the records whose digests match every criterion (under any key of the
    // ring: records processed before a rotation keep their old digests), with what the profile
    // kept. A support request answers in one round trip.
    std::vector<std::string> matched;
    std::vector<Param> params;
    std::set<std::string> fields;
    for (const auto& criterion : criteria) {
      const ColumnPlan* plan = policy_.find(criterion.alias);
      auto digests = keys_.digests(normalize(plan->kind, criterion.value));
      matched.push_back(fmt::format("(h.field = ? AND h.digest IN ({}))",
                                    db::placeholders(digests.size())));
      params.emplace_back(criterion.alias);
      for (auto& digest : digests) params.emplace_back(std::move(digest));
      fields.insert(criterion.alias);
    }
    params.emplace_back(int64_t(fields.size()));
    const bool returns = schema_.has_table("gdpr_returns") &&
                         schema_.column("gdpr_contacts", "returned_at") != nullptr;
    MGDPR_ASSIGN_OR_RETURN(
        auto rows,
        connection_.query(
            fmt::format("SELECT g.contact_id, g.processed_at, g.reason, g.channel, g.dnc_date, {}, "
                        "g.source, l.id{} FROM {} g LEFT JOIN {} l ON l.id = g.contact_id WHERE "
                        "g.contact_id IN (SELECT h.contact_id FROM {} h WHERE {} GROUP BY "
                        "h.contact_id HAVING COUNT(DISTINCT h.field) = ?) ORDER BY g.contact_id",
                        returns ? "g.returned_at" : "NULL",
                        kept_sql.empty() ? "" : ", " + db::join(kept_sql, ", "),
                        schema_.table("gdpr_contacts"), schema_.table("leads"),
                        schema_.table("gdpr_hashes"), db::join(matched, " OR ")),
            params));
    std::vector<Param> ids;
    for (const auto& row : rows.rows) {
      LookupMatch match;
      match.contact_id = db::cell_to_int(row[0]).value_or(0);
      match.processed_by = "mautic-gdpr";
      match.processed_at = row[1];
      match.reason = row[2].value_or("");
      match.channel = row[3].value_or("");
      match.dnc_date = row[4];
      match.returned_at = row[5];
      match.source = row[6].value_or("");
      if (row[7]) {  // the profile still exists (Mautic may have deleted it; the record remains)
        for (size_t c = 0; c < kept_columns.size(); ++c) {
          match.kept.emplace_back(kept_columns[c], row[8 + c]);
        }
        match.generalized = generalized;
      }
      ids.emplace_back(match.contact_id);
      matches.push_back(std::move(match));
    }
    if (returns && !ids.empty()) {
      MGDPR_ASSIGN_OR_RETURN(
          auto exits,
          connection_.query(fmt::format("SELECT contact_id, processed_at, reason, channel, "
                                        "returned_at FROM {} WHERE contact_id IN ({}) ORDER BY "
                                        "contact_id, processed_at",
                                        schema_.table("gdpr_returns"),
                                        db::placeholders(ids.size())),
                            ids));
      for (auto& match : matches) {
        for (const auto& exit : exits.rows) {
          if (db::cell_to_int(exit[0]).value_or(0) != match.contact_id) continue;
          if (exit[1] == match.processed_at) continue;  // this exit itself
          match.earlier_exits.push_back({exit[1].value_or(""), exit[2].value_or(""),
                                         exit[3].value_or(""), exit[4].value_or("")});
        }
      }
    }
  }

  // Contacts the LeadEngine GDPR plugin processed: md5(salt + value + salt) of the email as
  // typed (it trimmed but did not lowercase), so try the value as typed and lowercased.
  if (config_.legacy && criteria.size() == 1 && criteria[0].alias == "email" &&
      schema_.column("leads", config_.legacy->md5_field) != nullptr) {
    const std::string typed(trim(criteria[0].value));
    const std::string lowered = normalize(ValueKind::kEmail, criteria[0].value);
    auto rows = connection_.query(
        fmt::format("SELECT l.id, d.reason, d.channel, d.date_added{} FROM {} l LEFT JOIN {} d "
                    "ON d.lead_id = l.id WHERE l.{} IN (?, ?) ORDER BY l.id, d.date_added",
                    kept_sql.empty() ? "" : ", " + db::join(kept_sql, ", "),
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
      for (size_t c = 0; c < kept_columns.size(); ++c) {
        match.kept.emplace_back(kept_columns[c], row[4 + c]);
      }
      match.generalized = generalized;
      matches.push_back(std::move(match));
    }
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
                                 const Schema& schema, const RelatedPlan& related,
                                 const KeyRing* keys) {
  StatusReport report;
  const UtcSeconds now = utc_now();
  MGDPR_ASSIGN_OR_RETURN(report.pending, count_pending(connection, config, schema, now));
  MGDPR_ASSIGN_OR_RETURN(
      auto oldest,
      connection.query(
          fmt::format("SELECT MIN(date_added), TIMESTAMPDIFF(SECOND, MIN(date_added), "
                      "UTC_TIMESTAMP()) FROM ({}) pending",
                      pending_contacts_sql(config, schema, false, "d.lead_id, d.date_added")),
          pending_contacts_params(config, now)));
  if (!oldest.rows.empty()) {
    report.oldest_pending_since = oldest.rows[0][0];
    report.oldest_pending_age_seconds = db::cell_to_int(oldest.rows[0][1]);
  }
  MGDPR_ASSIGN_OR_RETURN(report.waiting, count_waiting(connection, config, schema, report.pending));
  if (report.waiting > 0) {
    MGDPR_ASSIGN_OR_RETURN(auto due, next_grace_due(connection, config, schema, now));
    if (due) report.next_due_at = utc_text(*due);
  }
  if (keys != nullptr) report.key_fingerprint = keys->active().fingerprint;
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
  MGDPR_ASSIGN_OR_RETURN(report.unhandled, read_unhandled(connection, schema, 20));
  if (schema.has_table("gdpr_sweep_runs")) {  // from version 3 of the own tables on
    MGDPR_ASSIGN_OR_RETURN(report.last_sweep, read_sweep_run(connection, schema, "1"));
    MGDPR_ASSIGN_OR_RETURN(report.last_successful_sweep,
                           read_sweep_run(connection, schema, "result = 'ok'"));
  }
  if (!schema.has_table("gdpr_keys") || schema.column("gdpr_hashes", "key_id") == nullptr) {
    return report;  // own tables before the key ring: one key, not upgraded yet
  }
  MGDPR_ASSIGN_OR_RETURN(
      auto key_rows,
      connection.query(fmt::format(
          "SELECT k.id, k.fingerprint, DATE_FORMAT(k.added_at, '%Y-%m-%d %H:%i:%s'), "
          "DATE_FORMAT(k.retired_at, '%Y-%m-%d %H:%i:%s'), COUNT(DISTINCT h.contact_id), "
          "COUNT(h.key_id) FROM {} k LEFT JOIN {} h ON h.key_id = k.id GROUP BY k.id ORDER BY "
          "k.id",
          schema.table("gdpr_keys"), schema.table("gdpr_hashes"))));
  for (const auto& row : key_rows.rows) {
    KeyStatus key;
    key.id = db::cell_to_int(row[0]).value_or(0);
    key.fingerprint = row[1].value_or("");
    key.added_at = row[2];
    key.retired_at = row[3];
    key.records = db::cell_to_int(row[4]).value_or(0);
    key.digests = db::cell_to_int(row[5]).value_or(0);
    if (keys != nullptr) {
      for (const auto& entry : keys->entries()) key.in_config |= entry.fingerprint == key.fingerprint;
    }
    // Without the config's keys (a monitoring user), the database names the active one.
    if (keys == nullptr && !key.retired_at) report.key_fingerprint = key.fingerprint;
    report.keys.push_back(std::move(key));
  }
  return report;
}

Result<ForgetReport> Engine::forget_expired(UtcSeconds now, int batch_size) {
  ForgetReport report;
  const SqlCondition expired = forget_due(config_, now);
  if (expired.sql.empty() || !schema_.has_table("gdpr_contacts")) return report;
  while (true) {
    // Oldest first, through the processed_at index; records that cannot go are passed over.
    std::vector<Param> params = expired.params;
    std::string skip;
    if (!report.blocked.empty()) {
      skip = fmt::format(" AND g.contact_id NOT IN ({})", db::placeholders(report.blocked.size()));
      append_ids(params, report.blocked);
    }
    params.emplace_back(int64_t(std::max(1, batch_size)));
    MGDPR_ASSIGN_OR_RETURN(
        auto rows, connection_.query(fmt::format("SELECT g.contact_id FROM {} g WHERE {}{} "
                                                 "ORDER BY g.processed_at, g.contact_id LIMIT ?",
                                                 schema_.table("gdpr_contacts"), expired.sql, skip),
                                     params));
    if (rows.empty()) break;
    std::vector<int64_t> ids;
    for (const auto& row : rows.rows) ids.push_back(db::cell_to_int(row[0]).value_or(0));
    Status done = forget_batch(ids, report);
    if (done.ok()) continue;
    if (done.error().server_code != kRowIsReferenced) return done.error();
    // A foreign key of some other table refuses the delete: one at a time, so every other
    // record of the batch still goes, and the refused ones are reported.
    for (int64_t id : ids) {
      Status one = forget_batch(std::span(&id, 1), report);
      if (one.ok()) continue;
      if (one.error().server_code != kRowIsReferenced) return one.error();
      report.blocked.push_back(id);
    }
  }
  // Earlier exits of contacts that came back by choice (gdpr_returns) have their own age.
  MGDPR_TRY(forget_earlier_exits(now, report));
  return report;
}

Status Engine::forget_batch(std::span<const int64_t> contact_ids, ForgetReport& report) {
  ForgetReport batch;
  MGDPR_ASSIGN_OR_RETURN(auto transaction, db::Transaction::begin(connection_));
  std::vector<Param> id_params;
  append_ids(id_params, contact_ids);
  const std::string id_list = db::placeholders(contact_ids.size());
  // The records, locked, and still there (a concurrent sweep may have forgotten them).
  // The third column: the contact came back by choice (recorded, or its do-not-contact entry
  // removed since the last scan): it is alive in Mautic again, and only its record ends.
  MGDPR_ASSIGN_OR_RETURN(
      auto records,
      connection_.query(fmt::format("SELECT g.contact_id, g.reason, NOT ({}) OR NOT EXISTS "
                                    "(SELECT 1 FROM {} d WHERE d.lead_id = g.contact_id AND "
                                    "d.channel = g.channel) FROM {} g WHERE g.contact_id IN ({}) "
                                    "ORDER BY g.contact_id FOR UPDATE",
                                    not_returned_sql(schema_, "g"),
                                    schema_.table("lead_donotcontact"),
                                    schema_.table("gdpr_contacts"), id_list),
                        id_params));
  if (records.empty()) return transaction.commit();
  std::vector<ContactIdentity> gone;
  std::vector<Param> gone_ids;
  for (const auto& row : records.rows) {
    batch.by_reason[row[1].value_or("unknown")] += 1;
    if (row[2] == std::optional<std::string>("1")) continue;
    const int64_t id = db::cell_to_int(row[0]).value_or(0);
    gone.push_back({id, std::nullopt});  // the profile holds digests: no clear address
    gone_ids.emplace_back(id);
  }
  if (!gone.empty()) {
    const std::string gone_list = db::placeholders(gone_ids.size());
    MGDPR_TRY(connection_.query(fmt::format("SELECT id FROM {} WHERE id IN ({}) FOR UPDATE",
                                            schema_.table("leads"), gone_list),
                                gone_ids));
    // Every location's rows of these contacts, while they still name the contact: the rows
    // Mautic keeps with lead_id NULL after the delete (email_stats, page_hits, form results,
    // ...) are among them. A location the policy keeps is scrubbed too: the record it was kept
    // for ends here.
    RelatedPlan forget_plan = related_;
    for (LocationPlan& location : forget_plan.locations) {
      if (location.action == RowAction::kKeep) location.action = location.location->default_action;
    }
    RelatedScrubber related(connection_, schema_, forget_plan);
    MGDPR_TRY(related.scrub_contacts(gone, batch.rows_changed));
    // The contact as Mautic deletes one: its foreign keys cascade (do-not-contact, segments,
    // campaign logs, ...) or set lead_id NULL (the rows scrubbed above).
    MGDPR_ASSIGN_OR_RETURN(auto leads,
                           connection_.execute(fmt::format("DELETE FROM {} WHERE id IN ({})",
                                                           schema_.table("leads"), gone_list),
                                               gone_ids));
    batch.rows_changed["leads"] += leads;
  }
  for (std::string_view own : {"gdpr_hashes", "gdpr_contacts", "gdpr_returns"}) {
    if (!schema_.has_table(own)) continue;
    MGDPR_TRY(connection_.execute(
        fmt::format("DELETE FROM {} WHERE contact_id IN ({})", schema_.table(own), id_list),
        id_params));
  }
  // The guard's notes name these contacts: they go with them.
  std::vector<std::string> notes;
  std::vector<Param> note_params = {std::string("guard-suppress"), std::string("guard-report")};
  for (int64_t id : contact_ids) {
    notes.push_back("detail LIKE ?");
    note_params.emplace_back(fmt::format("contact {} %", id));
  }
  MGDPR_TRY(connection_.execute(fmt::format("DELETE FROM {} WHERE action IN (?, ?) AND ({})",
                                            schema_.table("gdpr_audit"), db::join(notes, " OR ")),
                                note_params));
  MGDPR_TRY(count_forgotten(batch.by_reason));
  MGDPR_TRY(transaction.commit());
  batch.forgotten = int64_t(records.size());
  report.forgotten += batch.forgotten;
  for (const auto& [reason, count] : batch.by_reason) report.by_reason[reason] += count;
  for (const auto& [table, rows] : batch.rows_changed) report.rows_changed[table] += rows;
  return {};
}

Status Engine::forget_earlier_exits(UtcSeconds now, ForgetReport& report) {
  const SqlCondition expired = forget_due(config_, now);
  if (expired.sql.empty() || !schema_.has_table("gdpr_returns")) return {};
  MGDPR_ASSIGN_OR_RETURN(auto transaction, db::Transaction::begin(connection_));
  MGDPR_ASSIGN_OR_RETURN(
      auto counts, connection_.query(fmt::format("SELECT g.reason, COUNT(*) FROM {} g WHERE {} "
                                                 "GROUP BY g.reason FOR UPDATE",
                                                 schema_.table("gdpr_returns"), expired.sql),
                                     expired.params));
  if (counts.empty()) return transaction.commit();
  MGDPR_TRY(connection_.execute(
      fmt::format("DELETE g FROM {} g WHERE {}", schema_.table("gdpr_returns"), expired.sql),
      expired.params));
  std::map<std::string, int64_t> by_reason;
  for (const auto& row : counts.rows) {
    by_reason[row[0].value_or("unknown")] = db::cell_to_int(row[1]).value_or(0);
  }
  MGDPR_TRY(count_forgotten(by_reason));
  MGDPR_TRY(transaction.commit());
  for (const auto& [reason, count] : by_reason) {
    report.by_reason[reason] += count;
    report.forgotten += count;
  }
  return {};
}

Status Engine::count_forgotten(const std::map<std::string, int64_t>& by_reason) {
  // What stays is a count per day and reason, no ids.
  for (const auto& [reason, count] : by_reason) {
    const std::string detail = fmt::format("records of reason {} past [retention] forget_after "
                                           "deleted completely",
                                           reason);
    MGDPR_ASSIGN_OR_RETURN(
        auto counted,
        connection_.execute(fmt::format("UPDATE {} SET matches = matches + ? WHERE action = "
                                        "'forget' AND detail = ? AND at >= UTC_DATE() ORDER BY "
                                        "id DESC LIMIT 1",
                                        schema_.table("gdpr_audit")),
                            {count, detail}));
    if (counted == 0) {
      MGDPR_TRY(write_audit(connection_, schema_, actor_, "forget", detail, count));
    }
  }
  return {};
}

}  // namespace mgdpr::mautic
