// SPDX-License-Identifier: GPL-3.0-or-later
// The re-import guard: when the address of a person who left comes back (a CSV import, the
// API, a CRM sync), Mautic creates a fresh contact that it would mail. The guard finds such
// contacts by the keyed hashes in {prefix}gdpr_hashes (no address is kept for it) and puts
// them back on do-not-contact with the original reason and channel. A form submission by the
// person is a fresh opt-in and is only reported. One code path serves the sweep (every new
// contact since a watermark), the webhook service (one contact) and `guard --check-file`.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/config.h"
#include "core/hashing.h"
#include "core/result.h"
#include "db/connection.h"
#include "mautic/contact_policy.h"
#include "mautic/schema.h"

namespace mgdpr::mautic {

// A processed contact's record that a value matched: what a returning contact inherits.
struct ProcessedRecord {
  std::string field;         // the guarded field whose digest matched
  std::string processed_at;  // UTC, "YYYY-MM-DD HH:MM:SS.ffffff"
  std::string reason;        // as recorded: unsubscribed, bounced, manual
  std::string channel;       // e.g. email
  bool on_request = false;   // processed because the person asked to be erased

  std::string processed_on() const { return processed_at.substr(0, 10); }
};

struct GuardEvent {
  int64_t contact_id = 0;
  ContactOrigin origin = ContactOrigin::kApi;
  bool suppressed = false;  // put on do-not-contact; false: left contactable, only reported
  std::vector<ProcessedRecord> records;  // the deciding record per channel, newest first
};

struct GuardReport {
  int64_t checked = 0;     // contacts compared (not processed, with a value to compare)
  int64_t suppressed = 0;  // put back on do-not-contact
  int64_t reported = 0;    // matched, but from an origin the config does not guard
  std::vector<GuardEvent> events;

  // Contacts put back on do-not-contact because a person who asked to be erased came back:
  // processed at once, whatever [trigger] says (Trigger::kRequest), as the request was.
  std::vector<int64_t> suppressed_on_request() const;
};

struct CsvRowMatch {
  int64_t line = 0;  // line of the file where the row starts (the header is line 1)
  ProcessedRecord record;
};

struct CsvCheck {
  int64_t rows = 0;                  // data rows: not the header, not blank lines
  std::vector<std::string> columns;  // guarded fields found among the headers
  std::vector<CsvRowMatch> matches;
  std::string filtered;  // the file without the matching rows, every other byte unchanged
};

class Guard {
 public:
  // Values are compared under every key of the ring: a person processed before a key
  // rotation is recognised as well as one processed after it.
  Guard(db::Connection& connection, const Config& config, const Schema& schema,
        const ContactPolicy& policy, const KeyRing& keys, std::string actor);

  // Every contact created or identified since the last pass ({prefix}gdpr_watermarks, location
  // "guard"); the first pass checks every contact once. The sweep calls this first.
  Result<GuardReport> run_pass(int batch_size);

  // The given contacts, whatever their age: what the webhook service calls for the contact a
  // lead_post_save_new / lead_post_save_update event names. Processed contacts are skipped;
  // a contact is suppressed or reported at most once.
  Result<GuardReport> check_contacts(std::span<const int64_t> contact_ids);

  // The rows of a CSV an admin is about to import: which match processed records, and the file
  // without them. Columns are found by header = field alias (case-insensitive).
  Result<CsvCheck> check_csv(std::string_view text, char delimiter);

 private:
  Status usable() const;
  Status check_batch(std::span<const int64_t> contact_ids, GuardReport& report);
  // The value's digest under every key of the ring; none when there is nothing to compare.
  std::vector<std::string> digests_of(const ColumnPlan& field, std::string_view value) const;
  // Processed records with a guarded reason, by digest of `field`, newest first.
  Result<std::map<std::string, std::vector<ProcessedRecord>>> find_processed(
      const ColumnPlan& field, const std::vector<std::string>& digests);
  Result<bool> handled_before(int64_t contact_id);
  Result<ContactOrigin> origin_of(int64_t contact_id);
  Result<bool> suppress(int64_t contact_id, ContactOrigin origin,
                        const std::vector<ProcessedRecord>& records);
  Status report_only(int64_t contact_id, ContactOrigin origin,
                     const std::vector<ProcessedRecord>& records);
  bool guards(ContactOrigin origin) const;

  db::Connection& connection_;
  const Config& config_;
  const Schema& schema_;
  const KeyRing& keys_;
  std::string actor_;
  std::vector<const ColumnPlan*> fields_;  // the hashed fields compared
  std::vector<std::string> reasons_;       // names of the reasons that suppress
  std::vector<std::string> problems_;      // config problems; nothing runs while there are any
};

// `file:line: problem; fix` for every [guard] setting the resolved policy cannot serve (a
// field that is not hashed has no digests to compare).
std::vector<std::string> guard_problems(const Config& config, const ContactPolicy& policy);

// One line for `check`: what the guard compares and does, or why it is off.
std::string describe_guard(const Config& config, const ContactPolicy& policy);

}  // namespace mgdpr::mautic
