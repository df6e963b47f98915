// SPDX-License-Identifier: GPL-3.0-or-later
#include "mautic/unhandled.h"

#include <fmt/format.h>

#include "mautic/location_rows.h"

namespace mgdpr::mautic {

namespace {

constexpr size_t kMaxNameBytes = 64;
constexpr size_t kMaxProblemBytes = 255;

std::string cut(std::string_view text, size_t bytes) { return std::string(text.substr(0, bytes)); }

}  // namespace

Status record_unhandled(db::Connection& connection, const Schema& schema,
                        std::span<const UnhandledRow> rows) {
  if (rows.empty()) return {};
  std::vector<db::Param> params;
  std::vector<std::string> tuples;
  for (const UnhandledRow& row : rows) {
    params.emplace_back(cut(row.table, kMaxNameBytes));
    params.emplace_back(cut(row.key, kMaxNameBytes));
    params.emplace_back(cut(row.problem, kMaxProblemBytes));
    params.emplace_back(row.outcome);
    tuples.emplace_back("(?, ?, ?, ?, UTC_TIMESTAMP(6), UTC_TIMESTAMP(6))");
  }
  MGDPR_TRY(connection.execute(
      fmt::format("INSERT INTO {} (location_table, row_key, problem, outcome, first_seen, "
                  "last_seen) VALUES {} ON DUPLICATE KEY UPDATE problem = VALUES(problem), "
                  "outcome = VALUES(outcome), last_seen = VALUES(last_seen)",
                  schema.table("gdpr_unhandled"), db::join(tuples, ", ")),
      params));
  return {};
}

Result<UnhandledSummary> read_unhandled(db::Connection& connection, const Schema& schema,
                                        size_t recent) {
  UnhandledSummary summary;
  if (!schema.has_table("gdpr_unhandled")) return summary;
  const std::string table = schema.table("gdpr_unhandled");
  MGDPR_ASSIGN_OR_RETURN(
      auto counts,
      connection.query(fmt::format("SELECT location_table, outcome, COUNT(*) FROM {} GROUP BY "
                                   "location_table, outcome",
                                   table),
                       {}));
  for (const auto& row : counts.rows) {
    const int64_t rows = db::cell_to_int(row[2]).value_or(0);
    summary.by_table_and_outcome[{row[0].value_or(""), row[1].value_or("")}] = rows;
    summary.rows += rows;
  }
  MGDPR_ASSIGN_OR_RETURN(
      auto latest,
      connection.query(
          fmt::format("SELECT location_table, row_key, problem, outcome, "
                      "DATE_FORMAT(first_seen, '%Y-%m-%d %H:%i:%s'), "
                      "DATE_FORMAT(last_seen, '%Y-%m-%d %H:%i:%s') FROM {} ORDER BY last_seen "
                      "DESC, location_table, row_key LIMIT {}",
                      table, recent),
          {}));
  for (const auto& row : latest.rows) {
    summary.recent.push_back({{row[0].value_or(""), row[1].value_or(""), row[2].value_or(""),
                               row[3].value_or("")},
                              row[4].value_or(""),
                              row[5].value_or("")});
  }
  return summary;
}

Status forget_gone_unhandled(db::Connection& connection, const Schema& schema) {
  if (!schema.has_table("gdpr_unhandled")) return {};
  const std::string unhandled = schema.table("gdpr_unhandled");
  MGDPR_ASSIGN_OR_RETURN(
      auto tables,
      connection.query(fmt::format("SELECT DISTINCT location_table FROM {} WHERE outcome = ?",
                                   unhandled),
                       {std::string(kUnhandledLeft)}));
  for (const auto& row : tables.rows) {
    const std::string name = row[0].value_or("");
    std::string gone = "TRUE";  // a table this Mautic no longer has: all of its rows are gone
    if (schema.has_table(name)) {
      const Location* location = location_of_table(name);
      const std::string key = db::quote_identifier(
          location != nullptr && !location->key_column.empty() ? location->key_column : "id");
      gone = fmt::format("NOT EXISTS (SELECT 1 FROM {} x WHERE x.{} = u.row_key)",
                         schema.table(name), key);
      // A contact left pending that a later sweep or webhook processed is done.
      if (name == "leads") {
        gone += fmt::format(" OR EXISTS (SELECT 1 FROM {} c WHERE c.contact_id = u.row_key)",
                            schema.table("gdpr_contacts"));
      }
    }
    MGDPR_TRY(connection.execute(
        fmt::format("DELETE u FROM {} u WHERE u.location_table = ? AND u.outcome = ? AND ({})",
                    unhandled, gone),
        {name, std::string(kUnhandledLeft)}));
  }
  return {};
}

}  // namespace mgdpr::mautic
