// SPDX-License-Identifier: GPL-3.0-or-later
// The one engine behind sweep, plan, lookup, status and the webhook service. Every rule about
// which contacts are processed and how lives here, once.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "core/config.h"
#include "core/hashing.h"
#include "core/result.h"
#include "db/connection.h"
#include "mautic/contact_policy.h"
#include "mautic/guard.h"
#include "mautic/related_scrubber.h"
#include "mautic/schema.h"
#include "mautic/verify.h"

namespace mgdpr::mautic {

struct SweepOptions {
  std::optional<int64_t> limit;  // at most this many contacts
  int batch_size = 500;
  // Also look where no watermark narrows the work (otherwise done at most once an hour).
  bool full_pass = false;
};

struct SweepReport {
  int64_t contacts_processed = 0;
  int64_t pending_before = 0;
  TableCounts rows_changed;  // by processing: rows whose content changed
  // Rows of processed contacts that were not clean (written after processing, or missed) and
  // were repaired, per table.
  TableCounts repaired;
  int64_t returned = 0;  // processed contacts that came back by choice, recorded now
  int64_t retries = 0;   // transactions run again after a deadlock or lock wait timeout
  double seconds = 0;
  GuardReport guard;  // the re-import guard's pass, run first
  // The full pass's discovery (discovery.h): tables no location covers, one line each.
  std::vector<std::string> warnings;
};

struct ProcessReport {
  std::vector<int64_t> processed;  // contacts this call processed
  TableCounts rows_changed;
  int64_t retries = 0;  // attempts rolled back by a deadlock or lock wait timeout
};

struct PlanLine {
  std::string table;   // unprefixed
  std::string column;
  Action action = Action::kDelete;
  int64_t values = 0;  // values that would change
};

struct PlanReport {
  int64_t pending = 0;
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
  std::vector<std::pair<std::string, std::optional<std::string>>> kept;
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
};

// The numbers of `status`, the status page and /metrics. Reads only, and needs no hash key:
// a monitoring user whose config names no readable key file can run it.
Result<StatusReport> read_status(db::Connection& connection, const Config& config,
                                 const Schema& schema, const RelatedPlan& related);

// Receives (contacts done, contacts planned) during a sweep.
using ProgressCallback = std::function<void(int64_t, int64_t)>;

class Engine {
 public:
  Engine(db::Connection& connection, const Config& config, const Schema& schema,
         const ContactPolicy& policy, const RelatedPlan& related, const HashKey& key,
         std::string actor);

  // Processes every pending contact in batches, one transaction per batch. Takes an advisory
  // lock so two sweeps never work at once. Every call is recorded in {prefix}gdpr_sweep_runs
  // (start, end, processed, result, error class), a failed or refused one too.
  Result<SweepReport> sweep(const SweepOptions& options, const ProgressCallback& progress);

  // Processes the given contacts (those of them that are pending) in one transaction; a
  // contact already processed, or not on do-not-contact for a configured reason and channel,
  // is left alone. The webhook service calls this for the contacts an event names. A deadlock
  // or lock wait timeout with Mautic's own transactions is retried a bounded number of times.
  Result<ProcessReport> process_contacts(std::span<const int64_t> contact_ids,
                                         std::string_view source);

  Result<PlanReport> plan();
  // Checks every processed contact still on do-not-contact by content (read only).
  Result<VerifyReport> verify();
  Result<std::vector<LookupMatch>> lookup(const std::vector<LookupCriterion>& criteria);

 private:
  // The sweep itself; `report` holds what was done even when it fails part way.
  Status sweep_locked(int64_t run, const SweepOptions& options, const ProgressCallback& progress,
                      SweepReport& report);
  Result<int64_t> record_sweep_start();
  void record_sweep_end(int64_t run, const SweepReport& report, const Status& outcome);
  // Changes whenever a do-not-contact row is added or removed, or the trigger changes.
  Result<std::string> dnc_signature();
  RelatedScrubber::EmailDigest email_digest() const;
  // Applies the policy to profile rows (id first, hashed columns from first_hashed on) and
  // records their digests; the caller holds the rows' locks in its transaction.
  Status rewrite_profiles(const std::vector<const std::vector<db::Cell>*>& rows,
                          size_t first_hashed, TableCounts& changed);
  Result<ProcessReport> process_once(std::span<const int64_t> contact_ids,
                                     std::string_view source);
  // Processed contacts whose profile or do-not-contact comments are not clean (clean_state.h),
  // pseudonymized again by the same code as the first time.
  Status repair_profiles(TableCounts& repaired, int64_t& retries);
  // Processed contacts no longer on do-not-contact: recorded as returned (gdpr_returns keeps
  // the exit). Returns how many.
  Result<int64_t> record_returns();
  Result<std::vector<int64_t>> next_pending(int64_t after_id, int64_t count);
  Status hold_sweep_lock();
  void release_sweep_lock();

  db::Connection& connection_;
  const Config& config_;
  const Schema& schema_;
  const ContactPolicy& policy_;
  const RelatedPlan& related_;
  const HashKey& key_;
  std::string actor_;
};

}  // namespace mgdpr::mautic
