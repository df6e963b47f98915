// SPDX-License-Identifier: GPL-3.0-or-later
// The one engine behind sweep, plan, lookup, status and the webhook service. Every rule about
// which contacts are processed and how lives here, once.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "core/config.h"
#include "core/duration.h"
#include "core/hashing.h"
#include "core/result.h"
#include "db/connection.h"
#include "mautic/change_queue.h"
#include "mautic/contact_policy.h"
#include "mautic/guard.h"
#include "mautic/person_requests.h"
#include "mautic/related_scrubber.h"
#include "mautic/schema.h"
#include "mautic/unhandled.h"
#include "mautic/verify.h"

namespace mgdpr::mautic {

struct SweepOptions {
  std::optional<int64_t> limit;  // at most this many contacts
  int batch_size = 500;
  // Also look where no watermark narrows the work (otherwise done at most once an hour).
  bool full_pass = false;
};

// [retention] forget_after: processed records past their horizon, deleted completely.
struct ForgetReport {
  int64_t forgotten = 0;
  std::map<std::string, int64_t> by_reason;
  // Records that stay: a table Mautic does not have (a plugin's) has a foreign key without ON
  // DELETE on the contact, so the contact cannot be deleted as Mautic deletes one.
  std::vector<int64_t> blocked;
  TableCounts rows_changed;  // Mautic's rows scrubbed or deleted with the contacts
};

struct SweepReport {
  int64_t contacts_processed = 0;
  int64_t pending_before = 0;
  int64_t waiting = 0;  // on do-not-contact, within their grace period (counted when scanned)
  TableCounts rows_changed;  // by processing: rows whose content changed
  // Rows of processed contacts that were not clean (written after processing, or missed) and
  // were repaired, per table.
  TableCounts repaired;
  int64_t returned = 0;  // processed contacts that came back by choice, recorded now
  int64_t retries = 0;   // transactions run again after a deadlock or lock wait timeout
  // Rows this sweep could not handle as the location table says (unhandled.h), each once; the
  // sweep went on with the rest.
  std::set<UnhandledRow> unhandled;
  double seconds = 0;
  GuardReport guard;  // the re-import guard's pass, run first
  // The change queue stood in for the full content check (installed, checked in full once
  // since, and not a full pass); queued_contacts: distinct contacts per slice it checked.
  bool queue_used = false;
  int64_t queued_contacts = 0;
  ForgetReport forget;
  // The full pass's discovery (discovery.h): tables no location covers, one line each.
  std::vector<std::string> warnings;
};

struct ProcessReport {
  std::vector<int64_t> processed;  // contacts this call processed
  // Named contacts on do-not-contact for a configured reason and channel whose entry is still
  // within its grace period: left for the first sweep after it.
  std::vector<int64_t> waiting;
  TableCounts rows_changed;
  std::vector<UnhandledRow> unhandled;  // rows it could not handle (cleared or left), named
  int64_t retries = 0;  // attempts rolled back by a deadlock or lock wait timeout
  // Structured values the batch found or left in scrubbed form, recorded after its commit
  // (RelatedScrubber::BatchMode::kSideBySide).
  CleanDigests clean_values;
};

struct PlanLine {
  std::string table;   // unprefixed
  std::string column;
  Action action = Action::kDelete;
  std::string action_text;  // as the config writes it: "hash", "year", "prefix:3"
  int64_t values = 0;       // values that would change
};

struct PlanReport {
  int64_t pending = 0;
  int64_t waiting = 0;     // within their grace period: not processed by a sweep now
  int64_t forgettable = 0;  // processed records past [retention] forget_after
  std::vector<PlanLine> lines;
  const RelatedPlan* related = nullptr;  // the action for every location
};

// An exit that ended in a return by choice: the person left, then came back.
struct EarlierExit {
  std::string processed_at;  // UTC
  std::string reason;
  std::string channel;
  std::string returned_at;  // UTC: when mautic-gdpr saw the do-not-contact entry gone
};

struct LookupMatch {
  int64_t contact_id = 0;
  std::string processed_by;               // "mautic-gdpr" or "legacy plugin"
  std::optional<std::string> processed_at;  // UTC
  std::string reason;
  std::string channel;
  std::optional<std::string> dnc_date;  // UTC
  // Set when the person came back by choice after this exit (not on do-not-contact now).
  std::optional<std::string> returned_at;
  std::vector<EarlierExit> earlier_exits;  // oldest first
  std::string source;  // what processed it: sweep, webhook, request ("" for the legacy plugin)
  std::vector<std::pair<std::string, std::optional<std::string>>> kept;
  // Kept columns that hold a generalized value, with the generalizer ("birthday" -> "year").
  std::map<std::string, std::string> generalized;
};

// Everything a value finds: processed records by their digests, and contacts still live in
// Mautic (not processed) by the value in clear.
struct PersonMatches {
  std::vector<LookupMatch> processed;
  std::vector<int64_t> live;  // at most kMaxContactsOfAPerson + 1, in id order
};

// More live contacts than this for one value is not one person (a city, a company): export and
// erase refuse and ask for a narrower value or a contact id.
inline constexpr size_t kMaxContactsOfAPerson = 20;

// Which do-not-contact entry makes a contact due for process_contacts.
enum class Trigger {
  kConfigured,  // one for a [trigger] reason on a [trigger] channel (sweep, webhook)
  kRequest,     // any: the person asked to be erased, whatever [trigger] says
};

// One criterion: a hashed field's alias and the clear value a person gave us.
struct LookupCriterion {
  std::string alias;
  std::string value;
};

// One sweep's outcome, from {prefix}gdpr_sweep_runs. Times are UTC "YYYY-MM-DD HH:MM:SS.ffffff".
struct SweepRun {
  std::string started_at;
  std::optional<std::string> ended_at;
  int64_t processed = 0;
  std::string result;                      // running, ok, failed, busy, interrupted
  std::optional<std::string> error_class;  // error_kind_name() of a failure
  std::optional<double> seconds;           // ended_at - started_at
};

// A key the database's digests were made with ({prefix}gdpr_keys).
struct KeyStatus {
  int64_t id = 0;
  std::string fingerprint;
  std::optional<std::string> added_at;    // UTC
  std::optional<std::string> retired_at;  // UTC; none for the active key
  int64_t records = 0;  // processed contacts with digests made by it
  int64_t digests = 0;
  bool in_config = false;  // key_file or [hashing.keyring]
};

struct StatusReport {
  std::vector<RelatedScrubber::LocationStatus> locations;  // when each was last checked clean
  std::map<std::string, int64_t> processed_by_reason;
  int64_t returned = 0;  // of those, came back by choice
  int64_t pending = 0;
  // The do-not-contact date of the oldest pending contact, and its age in seconds.
  std::optional<std::string> oldest_pending_since;
  std::optional<int64_t> oldest_pending_age_seconds;
  std::optional<SweepRun> last_sweep;             // the latest, whatever its result
  std::optional<SweepRun> last_successful_sweep;  // the latest with result "ok"
  UnhandledSummary unhandled;  // rows sweeps could not handle, the latest first
  int64_t waiting = 0;                       // within their grace period
  std::optional<std::string> next_due_at;    // UTC: when the next waiting contact is due
  std::optional<std::string> key_fingerprint;  // the active key's
  std::vector<KeyStatus> keys;
};

// The numbers of `status`, the status page and /metrics. Reads only, and needs no hash key:
// a monitoring user whose config names no readable key file can run it. With `keys` (null for
// such a user), each key of the database says whether the config still names it.
Result<StatusReport> read_status(db::Connection& connection, const Config& config,
                                 const Schema& schema, const RelatedPlan& related,
                                 const KeyRing* keys);

// Receives (contacts done, contacts planned) during a sweep.
using ProgressCallback = std::function<void(int64_t, int64_t)>;

// Opens one more connection to the database, set up as the engine's own (app::connect): the
// sweep's workers ([sweep] workers) each process their batches on one.
using ConnectionFactory = std::function<Result<std::unique_ptr<db::Connection>>()>;

class Engine {
 public:
  Engine(db::Connection& connection, const Config& config, const Schema& schema,
         const ContactPolicy& policy, const RelatedPlan& related, const KeyRing& keys,
         std::string actor, ConnectionFactory more_connections = {});

  // Processes every pending contact in batches, one transaction per batch. Takes an advisory
  // lock so two sweeps never work at once. Every call is recorded in {prefix}gdpr_sweep_runs
  // (start, end, processed, result, error class), a failed or refused one too. A batch that
  // fails with an error of the database's own (a trigger, a constraint: not the connection) is
  // done again one contact at a time, so one contact that cannot be processed is named
  // (unhandled.h) instead of stopping every sweep; when every contact of the batch fails alone
  // too, the error is the sweep's. With [sweep] workers above 1 (and a ConnectionFactory),
  // that many batches are processed side by side, each on its own connection and in its own
  // transaction: one worker's client reads and rewrites values while the server writes
  // another's batch.
  Result<SweepReport> sweep(const SweepOptions& options, const ProgressCallback& progress);

  // Processes the given contacts (those of them that are pending) in one transaction; a
  // contact already processed, not on do-not-contact for a configured reason and channel
  // (with kRequest: for any reason on any channel), or still within its grace period, is left
  // alone. The webhook service calls this for the contacts an event names. A deadlock or lock
  // wait timeout with Mautic's own transactions is retried a bounded number of times.
  Result<ProcessReport> process_contacts(std::span<const int64_t> contact_ids,
                                         std::string_view source,
                                         Trigger trigger = Trigger::kConfigured);

  // The opt-in change queue (change_queue.h): installed or removed under the sweep lock, so
  // no sweep works while the triggers change. Idempotent.
  enum class QueueAction { kInstall, kRemove };
  Status change_queue(QueueAction action);

  // Deletes every processed record past [retention] forget_after completely: the contact as
  // Mautic deletes one (its foreign keys act), its rows in every location first scrubbed as a
  // processed contact's are (so nothing personal is left on the rows Mautic keeps with
  // lead_id NULL), its digests and record; gdpr_audit keeps a count per day and reason. One
  // transaction per batch. The sweep calls this; `now` is a parameter for tests.
  Result<ForgetReport> forget_expired(UtcSeconds now, int batch_size);

  Result<PlanReport> plan();
  // Checks every processed contact still on do-not-contact by content (read only).
  Result<VerifyReport> verify();
  // The person the criteria name (every field hashed by the policy), audited as a lookup
  // (fields and number of matches, never a value).
  Result<PersonMatches> lookup(const std::vector<LookupCriterion>& criteria);
  // The same for any contact field, without an audit row: export and erase find the person
  // with it and audit what they do. Processed records are searched only when every field is
  // hashed (their other values are gone).
  Result<PersonMatches> find_person(const std::vector<LookupCriterion>& criteria);

  // Requests that name a person (person_export.cpp, erasure.cpp; person_requests.h).
  // Everything stored about each contact, section by section through the sink, each contact
  // read in one consistent snapshot; then one audit row (`named_by` says how the person was
  // named: "email", "contact id"; never a value). No contact: audited as such.
  Result<ExportSummary> export_contacts(std::span<const int64_t> contact_ids,
                                        std::string_view named_by, const ExportSink& sink);
  // Erasure on request: the contact goes on do-not-contact (manual, with a comment naming the
  // request's date) and is processed with the policy in the same transaction, source
  // "request", whatever [trigger] says. dry_run changes nothing and says what would go.
  Result<ErasureReport> erase_contact(int64_t contact_id, std::string_view named_by,
                                      bool dry_run);
  // One row in the audit table as this engine's actor (detail never holds a value): a
  // request that found no contact is audited too.
  Status audit(std::string_view action, std::string_view detail, int64_t matches,
               std::optional<int64_t> contact_id = std::nullopt);

 private:
  // The sweep itself; `report` holds what was done even when it fails part way.
  Status sweep_locked(int64_t run, const SweepOptions& options, const ProgressCallback& progress,
                      SweepReport& report);
  Result<int64_t> record_sweep_start();
  void record_sweep_end(int64_t run, const SweepReport& report, const Status& outcome);
  // process_contacts' work. REQUIRES: a transaction is open on the connection (the caller's).
  Result<ProcessReport> process_in_transaction(std::span<const int64_t> contact_ids,
                                               std::string_view source, Trigger trigger);
  Result<std::vector<LookupMatch>> find_processed(const std::vector<LookupCriterion>& criteria);
  Result<std::vector<int64_t>> find_live(const std::vector<LookupCriterion>& criteria);
  // One attempt of erase_contact (dry run: the only one).
  Result<ErasureReport> erase_once(int64_t contact_id, std::string_view named_by, bool dry_run);
  // One contact's sections through the sink (no audit).
  // REQUIRES: a consistent read snapshot is open on the connection.
  Result<ExportedContact> export_one(int64_t contact_id, const ExportSink& sink);
  Status forget_batch(std::span<const int64_t> contact_ids, ForgetReport& report);
  // The exits kept in gdpr_returns (contacts that came back by choice) past the horizon.
  Status forget_earlier_exits(UtcSeconds now, ForgetReport& report);
  // Adds the day's count per reason to gdpr_audit (action "forget"), in the caller's
  // transaction.
  Status count_forgotten(const std::map<std::string, int64_t>& by_reason);
  // Changes whenever a do-not-contact row is added or removed, or the trigger changes.
  Result<std::string> dnc_signature();
  RelatedScrubber::EmailDigest email_digest() const;
  // Applies the policy to profile rows (id first, then the policy's computed columns from
  // first_computed on) and records their digests; the caller holds the rows' locks in its
  // transaction.
  Status rewrite_profiles(const std::vector<const std::vector<db::Cell>*>& rows,
                          size_t first_computed, TableCounts& changed);
  // One attempt of process_contacts: its own transaction around process_in_transaction.
  Result<ProcessReport> process_once(std::span<const int64_t> contact_ids,
                                     std::string_view source, Trigger trigger);
  // The batch one contact at a time, after it failed as a whole with `error`: the contacts
  // that fail alone too are named and left pending.
  Result<ProcessReport> process_one_by_one(std::span<const int64_t> contact_ids,
                                           const Error& error);
  // A batch of the sweep: process_contacts, and process_one_by_one when the database refused
  // a statement.
  Result<ProcessReport> process_sweep_batch(std::span<const int64_t> contact_ids);
  // A sweep worker: its own connection, an engine on it, the batch it is processing.
  struct SweepWorker;
  // `count` workers on connections of their own; none when count is 1 or the engine has no
  // ConnectionFactory (the sweep then processes its batches itself, one at a time).
  Result<std::vector<std::unique_ptr<SweepWorker>>> open_sweep_workers(int count);
  // Processed contacts whose profile or do-not-contact comments are not clean (clean_state.h),
  // pseudonymized again by the same code as the first time. `contacts`: processed contacts
  // still on do-not-contact (ContactSet::processed, or ids known to be so).
  Status repair_profiles(const ContactSet& contacts, TableCounts& repaired, int64_t& retries);
  // The content check narrowed by the change queue (change_queue.h): the contacts queued up to
  // `top` in the tables the triggers cover, every processed contact in the others; only
  // contacts processed before `processed_before` (this run's start).
  Status repair_queued(RelatedScrubber& related, const QueueState& queue, int64_t top,
                       const std::optional<std::string>& processed_before, SweepReport& report);
  // Processed contacts (all, or `only` these) no longer on do-not-contact: recorded as
  // returned (gdpr_returns keeps the exit). Returns how many.
  Result<int64_t> record_returns(std::span<const int64_t> only = {});
  Result<std::vector<int64_t>> next_pending(int64_t after_id, int64_t count, UtcSeconds now);
  Status hold_sweep_lock();
  void release_sweep_lock();

  db::Connection& connection_;
  const Config& config_;
  const Schema& schema_;
  const ContactPolicy& policy_;
  const RelatedPlan& related_;
  const KeyRing& keys_;
  std::string actor_;
  ConnectionFactory more_connections_;
};

}  // namespace mgdpr::mautic
