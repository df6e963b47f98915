// SPDX-License-Identifier: GPL-3.0-or-later
// The opt-in change queue (`mautic-gdpr queue install`): MariaDB triggers on Mautic's tables
// that hold contacts' data write the contact id and the table into {prefix}gdpr_dirty when, and
// only when, a processed contact's row is inserted or updated (a point read of gdpr_contacts).
// A plain sweep then checks only the queued contacts, each in the table its write went to,
// instead of every processed contact's rows; the hourly
// full pass and `verify` keep the full content check. The triggers are derived from the
// location table (every location whose rows carry a contact id, directly or through a parent
// row) plus the profile (`leads`) and `lead_donotcontact`; they never touch Mautic's columns
// and sit beside any trigger Mautic or a plugin has (MariaDB allows several per event).
// Without the queue (the default) nothing here runs and correctness is the same.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "core/result.h"
#include "db/connection.h"
#include "mautic/schema.h"

namespace mgdpr::mautic {

// One trigger the queue needs on one of Mautic's tables.
struct QueueTrigger {
  std::string table;  // unprefixed: leads, email_stats, form_results_1_contactform, ...
  std::string event;  // INSERT or UPDATE
  std::string name;   // the trigger's name, prefixed, at most 64 characters
  std::string body;   // the statement after FOR EACH ROW
};

// Every trigger the queue needs in this database, in table order. Pure: from the location
// table and the live schema.
std::vector<QueueTrigger> queue_triggers(const Schema& schema);

// The tables whose rows no trigger can tie to a contact (a payload, free text): every sweep
// checks them in full, queue or not.
std::vector<std::string> unqueueable_tables(const Schema& schema);

struct QueueState {
  // Tables that have every trigger they need, as this version writes them.
  std::set<std::string> covered;
  // Tables that lack one or more of their triggers (or carry an older version of one): a
  // sweep checks them in full, and `check` names them.
  std::vector<std::string> missing;
  int64_t queued = 0;         // rows in gdpr_dirty
  bool baseline = false;      // a full content check ran with every trigger in place
  bool any() const { return !covered.empty(); }
  bool complete() const { return any() && missing.empty(); }
};

// Reads the triggers of this database (information_schema.TRIGGERS) and the queue's rows.
Result<QueueState> read_queue_state(db::Connection& connection, const Schema& schema);

// Creates the triggers that are missing or outdated; idempotent. A missing TRIGGER privilege
// or binary logging without log_bin_trust_function_creators comes back as a config error that
// names the GRANT or the setting. REQUIRES: the own tables exist (version 4).
Status install_queue(db::Connection& connection, const Schema& schema);

// Drops every trigger the queue created (any version) and empties gdpr_dirty; idempotent.
// Triggers of Mautic or plugins are never touched.
Status remove_queue(db::Connection& connection, const Schema& schema);

// Whether a queue is installed (gdpr_meta `queue`), read cheaply by processing: the contacts a
// batch processes are queued once more so the next sweep checks them after the commit (a
// Mautic write racing the processing transaction is then seen).
Result<bool> queue_installed(db::Connection& connection, const Schema& schema);

// Appends the contacts to gdpr_dirty. REQUIRES: the caller's transaction is open.
Status enqueue_contacts(db::Connection& connection, const Schema& schema,
                        const std::vector<int64_t>& contact_ids);

// A slice of the queue: its rows' sequence numbers and their distinct contacts, in all and by
// the table their write went to. All id lists are sorted and unique.
struct QueueSlice {
  std::vector<int64_t> seqs;
  std::vector<int64_t> contacts;
  std::map<std::string, std::vector<int64_t>> by_table;
  std::vector<int64_t> everywhere;  // queued without a table (by processing): every table
};

// Up to `limit` rows with a sequence number above `after` and at most `up_to`, committed ones
// only (a write still in Mautic's transaction is read by a later sweep).
Result<QueueSlice> read_queue(db::Connection& connection, const Schema& schema, int64_t after,
                              int64_t up_to, int64_t limit);
Result<int64_t> queue_top(db::Connection& connection, const Schema& schema);

// Deletes exactly these rows (never rows queued after they were read).
Status delete_queued(db::Connection& connection, const Schema& schema,
                     const std::vector<int64_t>& seqs);

// The error MariaDB gives for CREATE TRIGGER, explained: which grant or setting fixes it.
Error explain_trigger_error(const Error& error, const Schema& schema);

}  // namespace mgdpr::mautic
