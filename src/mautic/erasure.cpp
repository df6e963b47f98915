// SPDX-License-Identifier: GPL-3.0-or-later
// Erasure on request (`mautic-gdpr erase`, the pages' erase; GDPR Art. 17). The contact is put
// on do-not-contact and processed with the policy by the engine's own processing, in one
// transaction: a crash leaves it untouched or erased, never half. The record that stays
// (gdpr_contacts, source "request") and the keyed hashes keep answering `lookup` and keep the
// re-import guard from letting the address back in.
#include <fmt/chrono.h>

#include <algorithm>
#include <chrono>
#include <set>
#include <thread>

#include "mautic/engine.h"
#include "mautic/location_rows.h"

namespace mgdpr::mautic {

using db::Param;

namespace {

// What processing does to each exported section of a live contact.
class ErasureItems {
 public:
  ErasureItems(const ContactPolicy& policy, const RelatedPlan& related)
      : policy_(policy), related_(related) {}

  Status add(const std::string& section, const db::Rows& rows) {
    if (section == "contact") {
      // The record's columns that processing clears (a Gravatar URL, social profiles).
      for (size_t c = 0; c < rows.columns.size(); ++c) {
        const ColumnPlan* plan = policy_.find(rows.columns[c]);
        if (plan == nullptr || !plan->field_type.empty() || plan->action == Action::kKeep ||
            !rows.rows[0][c]) {
          continue;
        }
        items_.push_back(
            {"profile", plan->column, plan->column, std::string(action_name(plan->action)), 1});
      }
    } else if (section == "profile") {
      for (const auto& row : rows.rows) {
        const ColumnPlan* plan = policy_.find(row[0].value_or(""));
        const Action action = plan != nullptr ? plan->action : Action::kDelete;
        items_.push_back({"profile", row[0].value_or(""), row[1].value_or(""),
                          std::string(action_name(action)), 1});
      }
    } else if (section == "ip_addresses") {
      // Each goes unless another contact still uses it.
      items_.push_back({section, "", "", "delete", int64_t(rows.size())});
    } else {
      items_.push_back({section, "", "", std::string(action_of(section)), int64_t(rows.size())});
    }
    return {};
  }

  std::vector<ErasureItem> take() { return std::move(items_); }

 private:
  // A location's table gets the plan's action; do-not-contact entries and memberships stay.
  std::string_view action_of(const std::string& section) const {
    if (const Location* location = location_of_table(section)) {
      for (const LocationPlan& plan : related_.locations) {
        if (plan.location == location) return row_action_name(plan.action);
      }
    }
    return row_action_name(RowAction::kKeep);
  }

  const ContactPolicy& policy_;
  const RelatedPlan& related_;
  std::vector<ErasureItem> items_;
};

}  // namespace

std::vector<const ErasureItem*> ErasureReport::profile_with(std::string_view action) const {
  std::vector<const ErasureItem*> found;
  for (const auto& item : items) {
    if (item.place == "profile" && item.action == action) found.push_back(&item);
  }
  return found;
}

std::string_view describe_row_action(std::string_view action) {
  if (action == "scrub") return "personal columns cleared, the rows stay as statistics";
  if (action == "delete") return "deleted (an IP address only when no one else uses it)";
  return "kept: nothing of the person's own";
}

Result<ErasureReport> Engine::erase_contact(int64_t contact_id, std::string_view named_by,
                                            bool dry_run) {
  if (dry_run) return erase_once(contact_id, named_by, true);
  // A contact whose do-not-contact entry was removed in Mautic since its processing came back
  // by choice: recorded as returned first, as a sweep would, so its new data is erased too.
  const int64_t ids[] = {contact_id};
  MGDPR_TRY(record_returns(ids));
  // A deadlock or lock wait timeout with Mautic's own writes rolled it all back: done again.
  constexpr int kAttempts = 5;
  for (int attempt = 1;; ++attempt) {
    auto report = erase_once(contact_id, named_by, false);
    if (report || attempt == kAttempts || !is_retryable(report.error())) return report;
    std::this_thread::sleep_for(std::chrono::milliseconds(20 * attempt));
  }
}

Result<ErasureReport> Engine::erase_once(int64_t contact_id, std::string_view named_by,
                                         bool dry_run) {
  ErasureReport report;
  report.contact_id = contact_id;
  report.dry_run = dry_run;
  const ColumnPlan* email = policy_.find("email");
  report.email_hashed = email != nullptr && email->action == Action::kHash;
  report.comment =
      fmt::format("mautic-gdpr: erasure request of {:%Y-%m-%d}",
                  std::chrono::floor<std::chrono::days>(std::chrono::system_clock::now()));
  if (!schema_.has_table("gdpr_contacts")) {
    return make_error("the gdpr tables are missing; the engine must be opened for writing");
  }

  // A dry run reads one snapshot and changes nothing; an erasure holds the contact's row lock
  // from the first read to the commit, like every processing.
  std::optional<db::Transaction> transaction;
  if (dry_run) {
    MGDPR_TRY(connection_.execute("START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY"));
  } else {
    MGDPR_ASSIGN_OR_RETURN(auto begun, db::Transaction::begin(connection_));
    transaction.emplace(std::move(begun));
  }
  struct SnapshotEnd {
    db::Connection& connection;
    bool active;
    ~SnapshotEnd() {
      if (active) (void)connection.rollback();
    }
  } snapshot_end{connection_, dry_run};

  MGDPR_ASSIGN_OR_RETURN(
      auto locked,
      connection_.query(fmt::format("SELECT id FROM {} WHERE id = ?{}", schema_.table("leads"),
                                    dry_run ? "" : " FOR UPDATE"),
                        {contact_id}));
  if (locked.empty()) {
    return make_error("no contact {} in `{}`; it may have been deleted in Mautic", contact_id,
                      schema_.table_name("leads"));
  }
  MGDPR_ASSIGN_OR_RETURN(
      auto processed_at,
      connection_.query_value(
          fmt::format("SELECT DATE_FORMAT(g.processed_at, '%Y-%m-%d %H:%i:%s') FROM {} g WHERE "
                      "g.contact_id = ? AND {}",
                      schema_.table("gdpr_contacts"), not_returned_sql(schema_, "g")),
          {contact_id}));
  std::string detail;
  if (processed_at) {
    report.processed_before = *processed_at;
    detail = fmt::format("by {}: contact {} was processed on {}; nothing to erase", named_by,
                         contact_id, *processed_at);
  } else {
    ErasureItems items(policy_, related_);
    auto read =
        export_one(contact_id, [&](int64_t, const std::string& section, const db::Rows& rows) {
          return items.add(section, rows);
        });
    if (!read) return read.error();
    report.items = items.take();

    // Do-not-contact on every channel the trigger watches (email at least), where the contact
    // is not on it already: an existing entry (an unsubscribe) stays as Mautic wrote it.
    std::set<std::string> channels(config_.channels.begin(), config_.channels.end());
    channels.insert("email");
    MGDPR_ASSIGN_OR_RETURN(
        auto existing,
        connection_.query(fmt::format("SELECT DISTINCT channel FROM {} WHERE lead_id = ?",
                                      schema_.table("lead_donotcontact")),
                          {contact_id}));
    for (const auto& row : existing.rows) channels.erase(row[0].value_or(""));
    report.channels_added.assign(channels.begin(), channels.end());
    detail = fmt::format("by {}: contact {}", named_by, contact_id);
  }

  if (dry_run) {
    snapshot_end.active = false;
    MGDPR_TRY(connection_.rollback());
    MGDPR_TRY(audit("erase-dry-run",
                    report.processed_before ? detail : detail + ": nothing changed", 1,
                    contact_id));
    return report;
  }
  if (!report.processed_before) {
    for (const auto& channel : report.channels_added) {
      MGDPR_TRY(connection_.execute(
          fmt::format("INSERT INTO {} (lead_id, date_added, reason, channel, channel_id, comments) "
                      "VALUES (?, UTC_TIMESTAMP(), ?, ?, NULL, ?)",
                      schema_.table("lead_donotcontact")),
          {contact_id, int64_t(DncReason::kManual), channel, report.comment}));
    }
    const int64_t ids[] = {contact_id};
    MGDPR_ASSIGN_OR_RETURN(auto processed,
                           process_in_transaction(ids, "request", Trigger::kRequest));
    if (processed.processed.empty()) {
      return make_error("contact {} could not be processed; nothing was changed", contact_id);
    }
    report.rows_changed = std::move(processed.rows_changed);
    uint64_t rows = 0;
    for (const auto& [table, count] : report.rows_changed) rows += count;
    detail += fmt::format(
        ": put on do-not-contact{} and processed on request; {} row{} changed",
        report.channels_added.empty()
            ? ""
            : fmt::format(" (manual, channel {})", db::join(report.channels_added, ", ")),
        rows, rows == 1 ? "" : "s");
  }
  MGDPR_TRY(audit("erase", detail, 1, contact_id));
  MGDPR_TRY(transaction->commit());
  return report;
}

}  // namespace mgdpr::mautic
