// SPDX-License-Identifier: GPL-3.0-or-later
#include "mautic/verify.h"

#include <fmt/format.h>

#include "mautic/clean_state.h"
#include "mautic/location_rows.h"
#include "mautic/location_walk.h"
#include "mautic/own_tables.h"
#include "mautic/related_scrubber.h"

namespace mgdpr::mautic {

using db::Param;
using db::quote_identifier;

namespace {

// Candidate rows read per query when structured values are checked in C++.
constexpr int64_t kCandidatesPerRead = 5000;

// Counts `conditions` over `from`/`where` in one statement: rows matching any, and per
// condition. Nothing but numbers leaves the server.
Result<Violation> count_conditions(
    db::Connection& connection, const std::string& from, const std::string& where,
    std::vector<Param> params, const std::vector<std::pair<std::string, std::string>>& conditions,
    const std::vector<Param>& condition_params) {
  Violation counted;
  if (conditions.empty()) return counted;
  std::vector<std::string> any;
  std::vector<std::string> sums = {"COUNT(*)"};
  for (const auto& [column, condition] : conditions) {
    any.push_back("(" + condition + ")");
    sums.push_back(fmt::format("COALESCE(SUM({}), 0)", condition));
  }
  // The conditions appear twice: in the sums and in the WHERE clause.
  std::vector<Param> all = condition_params;
  all.insert(all.end(), params.begin(), params.end());
  all.insert(all.end(), condition_params.begin(), condition_params.end());
  MGDPR_ASSIGN_OR_RETURN(
      auto rows,
      connection.query(fmt::format("SELECT {} FROM {} WHERE {} AND ({})", db::join(sums, ", "),
                                   from, where, db::join(any, " OR ")),
                       all));
  const auto& row = rows.rows.front();
  counted.rows = db::cell_to_int(row[0]).value_or(0);
  for (size_t c = 0; c < conditions.size(); ++c) {
    const int64_t count = db::cell_to_int(row[c + 1]).value_or(0);
    if (count > 0) counted.columns.emplace_back(conditions[c].first, count);
  }
  return counted;
}

class Verifier : public LocationVisitor {
 public:
  Verifier(db::Connection& connection, const Schema& schema, const EmailDigest& digest,
           std::optional<int64_t> placeholder_ip, VerifyReport& report)
      : connection_(connection),
        schema_(schema),
        digest_(digest),
        placeholder_ip_(placeholder_ip),
        processed_(ContactSet::processed(schema)),
        report_(report) {}

  Status linked(const LocationPlan& plan, const std::string& table) override {
    ++report_.tables_checked;
    const CleanCheck check = clean_check(plan, table, schema_, placeholder_ip_);
    const RowSelection rows = rows_of(*plan.location, table, schema_, processed_);
    MGDPR_ASSIGN_OR_RETURN(Violation found,
                           count_conditions(connection_, rows.from, rows.where, rows.params,
                                            check.plain, check.plain_params));
    if (!check.structured.empty()) {
      MGDPR_TRY(count_structured(plan, table, rows, check, found));
    }
    add(plan, table, std::move(found));
    return {};
  }

  Status in_payload(const LocationPlan& plan, const std::string& table) override {
    ++report_.tables_checked;
    MGDPR_ASSIGN_OR_RETURN(auto found,
                           rows_naming_contacts(connection_, schema_, *plan.location,
                                                                table, processed_));
    std::move(found.unreadable.begin(), found.unreadable.end(),
              std::back_inserter(report_.unreadable));
    return count_keys(plan, table, found.keys);
  }

  Status in_text(const LocationPlan& plan, const std::string& table) override {
    ++report_.tables_checked;
    MGDPR_ASSIGN_OR_RETURN(auto keys, rows_naming_processed_addresses(
                                          connection_, schema_, *plan.location, table, digest_));
    return count_keys(plan, table, keys);
  }

 private:
  void add(const LocationPlan& plan, const std::string& table, Violation found) {
    if (found.rows == 0) return;
    found.location = std::string(plan.location->name);
    found.table = table;
    report_.violations.push_back(std::move(found));
  }

  // Rows whose plain columns are clean but a structured value is not in scrubbed form.
  Status count_structured(const LocationPlan& plan, const std::string& table,
                          const RowSelection& rows, const CleanCheck& check, Violation& found) {
    const std::string key = "t." + quote_identifier(plan.location->key_column);
    std::vector<std::string> selected = {key};
    for (const ColumnRule* rule : check.structured) {
      selected.push_back("t." + quote_identifier(rule->column));
    }
    std::vector<std::string> plain;
    for (const auto& [column, condition] : check.plain) plain.push_back("(" + condition + ")");
    const std::string none_plain = plain.empty() ? "TRUE" : "NOT (" + db::join(plain, " OR ") + ")";
    std::map<std::string, int64_t> per_column;
    std::optional<std::string> cursor;
    while (true) {
      std::vector<Param> params = rows.params;
      params.insert(params.end(), check.plain_params.begin(), check.plain_params.end());
      std::string where =
          fmt::format("{} AND {} AND ({})", rows.where, none_plain, check.candidate);
      if (cursor) {
        where += fmt::format(" AND {} > ?", key);
        params.push_back(db::key_param(*cursor));
      }
      params.emplace_back(kCandidatesPerRead);
      MGDPR_ASSIGN_OR_RETURN(
          auto candidates,
          connection_.query(fmt::format("SELECT {} FROM {} WHERE {} ORDER BY {} LIMIT ?",
                                        db::join(selected, ", "), rows.from, where, key),
                            params));
      for (const auto& row : candidates.rows) {
        bool dirty = false;
        for (size_t c = 0; c < check.structured.size(); ++c) {
          const auto& value = row[c + 1];
          if (!value) continue;
          const ColumnRule& rule = *check.structured[c];
          if (scrubbed_value(rule, *schema_.column(table, rule.column), *value) != value) {
            ++per_column[std::string(rule.column)];
            dirty = true;
          }
        }
        if (dirty) ++found.rows;
      }
      if (int64_t(candidates.size()) < kCandidatesPerRead) break;
      cursor = candidates.rows.back()[0];
      if (!cursor) break;
    }
    for (const auto& entry : per_column) found.columns.push_back(entry);
    return {};
  }

  // Payload and free-text rows found by content: a row that names a processed contact should
  // not exist (delete), or must hold no personal value any more (scrub).
  Status count_keys(const LocationPlan& plan, const std::string& table,
                    const std::vector<std::string>& keys) {
    if (keys.empty()) return {};
    Violation found;
    if (plan.action == RowAction::kDelete) {
      found.rows = int64_t(keys.size());
      found.columns.emplace_back("(row)", found.rows);
      add(plan, table, std::move(found));
      return {};
    }
    std::vector<Param> params;
    for (const auto& key : keys) params.push_back(db::key_param(key));
    const RowSelection rows{schema_.table(table) + " t",
                            fmt::format("t.{} IN ({})", quote_identifier(plan.location->key_column),
                                        db::placeholders(params.size())),
                            params};
    const CleanCheck check = clean_check(plan, table, schema_, placeholder_ip_);
    MGDPR_ASSIGN_OR_RETURN(found, count_conditions(connection_, rows.from, rows.where, rows.params,
                                                   check.plain, check.plain_params));
    if (!check.structured.empty()) MGDPR_TRY(count_structured(plan, table, rows, check, found));
    add(plan, table, std::move(found));
    return {};
  }

  db::Connection& connection_;
  const Schema& schema_;
  const EmailDigest& digest_;
  const std::optional<int64_t> placeholder_ip_;
  const ContactSet processed_;
  VerifyReport& report_;
};

Status verify_in_snapshot(db::Connection& connection, const Schema& schema,
                          const ContactPolicy& policy, const RelatedPlan& plan,
                          const EmailDigest& email_digest, VerifyReport& report) {
  const ContactSet processed = ContactSet::processed(schema);
  MGDPR_ASSIGN_OR_RETURN(
      auto counts,
      connection.query(fmt::format("SELECT (SELECT COUNT(*) FROM {} p), (SELECT COUNT(*) FROM {})",
                                   processed.sql, schema.table("gdpr_contacts"))));
  report.contacts_checked = db::cell_to_int(counts.rows[0][0]).value_or(0);
  report.returned = db::cell_to_int(counts.rows[0][1]).value_or(0) - report.contacts_checked;

  // The profile and the do-not-contact comments.
  report.tables_checked += 2;
  MGDPR_ASSIGN_OR_RETURN(
      Violation profile,
      count_conditions(connection, schema.table("leads") + " l", "l.id IN " + processed.sql,
                       processed.params, profile_dirty(policy), {}));
  if (profile.rows > 0) {
    profile.location = "profile";
    profile.table = "leads";
    report.violations.push_back(std::move(profile));
  }
  MGDPR_ASSIGN_OR_RETURN(Violation comments,
                         count_conditions(connection, schema.table("lead_donotcontact") + " d",
                                          "d.lead_id IN " + processed.sql, processed.params,
                                          {{"comments", std::string(kDncCommentDirty)}}, {}));
  if (comments.rows > 0) {
    comments.location = "do-not-contact";
    comments.table = "lead_donotcontact";
    report.violations.push_back(std::move(comments));
  }

  // IP addresses nobody references any more, at least one sweep old (the sweep deletes them).
  MGDPR_ASSIGN_OR_RETURN(auto placeholder, read_meta(connection, schema, "placeholder_ip_id"));
  MGDPR_ASSIGN_OR_RETURN(auto ip_top, read_meta(connection, schema, "ip_sweep_top"));
  if (schema.has_table("ip_addresses")) {
    ++report.tables_checked;
    MGDPR_ASSIGN_OR_RETURN(
        Violation ips,
        count_conditions(
            connection, schema.table("ip_addresses") + " i", "i.id <= ? AND i.id <> ?",
            {db::cell_to_int(ip_top).value_or(0), db::cell_to_int(placeholder).value_or(0)},
            {{"(referenced by nothing)", unreferenced_ip_sql(schema)}}, {}));
    if (ips.rows > 0) {
      ips.location = "ip_addresses";
      ips.table = "ip_addresses";
      report.violations.push_back(std::move(ips));
    }
  }
  Verifier verifier(connection, schema, email_digest, db::cell_to_int(placeholder), report);
  return walk_locations(plan, verifier);
}

}  // namespace

Result<VerifyReport> verify_processed(db::Connection& connection, const Schema& schema,
                                      const ContactPolicy& policy, const RelatedPlan& plan,
                                      const EmailDigest& email_digest) {
  VerifyReport report;
  if (!schema.has_table("gdpr_contacts")) return report;  // nothing processed yet
  MGDPR_TRY(connection.execute("START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY"));
  Status checked = verify_in_snapshot(connection, schema, policy, plan, email_digest, report);
  MGDPR_TRY(connection.rollback());
  if (!checked) return checked.error();
  return report;
}

}  // namespace mgdpr::mautic
