// SPDX-License-Identifier: GPL-3.0-or-later
#include "mautic/residue.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>

namespace mgdpr::mautic {

namespace {

constexpr std::string_view kVariables[] = {
    "log_bin",     "binlog_format",    "expire_logs_days", "binlog_expire_logs_seconds",
    "general_log", "general_log_file", "slow_query_log",   "slow_query_log_file",
    "log_output"};

bool is_on(const ResidueSettings& settings, const std::string& name) {
  auto found = settings.variables.find(name);
  return found != settings.variables.end() && (found->second == "ON" || found->second == "1");
}

std::string value_of(const ResidueSettings& settings, const std::string& name) {
  auto found = settings.variables.find(name);
  return found == settings.variables.end() ? std::string() : found->second;
}

// Where the general and slow logs go: a file, or the mysql.general_log / slow_log tables.
std::string log_destination(const ResidueSettings& settings, const std::string& file_variable,
                            std::string_view table) {
  const std::string output = value_of(settings, "log_output");
  std::vector<std::string> places;
  if (output.find("FILE") != std::string::npos || output.empty()) {
    places.push_back(fmt::format("the file {}", value_of(settings, file_variable)));
  }
  if (output.find("TABLE") != std::string::npos) places.push_back(fmt::format("mysql.{}", table));
  std::string joined;
  for (const auto& place : places) joined += (joined.empty() ? "" : " and ") + place;
  return joined;
}

}  // namespace

Result<ResidueSettings> read_residue_settings(db::Connection& connection, const Schema& schema) {
  ResidueSettings settings;
  std::vector<db::Param> names;
  for (std::string_view name : kVariables) names.emplace_back(std::string(name));
  MGDPR_ASSIGN_OR_RETURN(
      auto rows, connection.query(fmt::format("SELECT LOWER(VARIABLE_NAME), VARIABLE_VALUE FROM "
                                              "information_schema.GLOBAL_VARIABLES WHERE "
                                              "LOWER(VARIABLE_NAME) IN ({})",
                                              db::placeholders(names.size())),
                                  names));
  for (const auto& row : rows.rows) settings.variables[row[0].value_or("")] = row[1].value_or("");
  if (schema.has_table("messenger_messages")) {
    MGDPR_ASSIGN_OR_RETURN(
        auto counted, connection.query(fmt::format("SELECT COUNT(*), COALESCE(SUM(queue_name = "
                                                   "'failed'), 0) FROM {}",
                                                   schema.table("messenger_messages"))));
    settings.messenger_rows = db::cell_to_int(counted.rows[0][0]).value_or(0);
    settings.messenger_failed_rows = db::cell_to_int(counted.rows[0][1]).value_or(0);
  }
  return settings;
}

std::vector<ResidueFinding> residue_findings(const ResidueSettings& settings) {
  std::vector<ResidueFinding> findings;
  if (is_on(settings, "log_bin")) {
    const std::string format = value_of(settings, "binlog_format");
    const int64_t days = std::atoll(value_of(settings, "expire_logs_days").c_str());
    const int64_t seconds = std::atoll(value_of(settings, "binlog_expire_logs_seconds").c_str());
    const std::string expiry =
        seconds > 0
            ? fmt::format("{} days (binlog_expire_logs_seconds = {})", seconds / 86400, seconds)
        : days > 0 ? fmt::format("{} days (expire_logs_days)", days)
                   : std::string("never (expire_logs_days = 0): old values stay for ever");
    findings.push_back(
        {"binary log",
         fmt::format("on, format {}, kept for {}. It holds every change as it was made: what "
                     "Mautic wrote about a person{}. Keep it as short as your recovery needs, "
                     "e.g. expire_logs_days = 7 in the server's config, PURGE BINARY LOGS to "
                     "drop older ones now, and the same on every replica",
                     format.empty() ? "?" : format, expiry,
                     format == "STATEMENT" ? ""
                                           : ", and the values mautic-gdpr replaced (row "
                                             "images)")});
  }
  if (is_on(settings, "general_log")) {
    findings.push_back(
        {"general query log",
         fmt::format("on: every statement, with its values, goes to {}. Turn it off (SET GLOBAL "
                     "general_log = OFF, and in the server's config) and delete what it wrote",
                     log_destination(settings, "general_log_file", "general_log"))});
  }
  if (is_on(settings, "slow_query_log")) {
    findings.push_back(
        {"slow query log",
         fmt::format("on: slow statements, with their values, go to {}. Rotate it and delete "
                     "old files on a schedule you can state",
                     log_destination(settings, "slow_query_log_file", "slow_log"))});
  }
  if (settings.messenger_rows && *settings.messenger_rows > 0) {
    findings.push_back(
        {"messenger queue",
         fmt::format("messenger_messages holds {} queued message(s), {} in the failed queue, "
                     "which keeps them until someone acts. Sweeps delete those that name a "
                     "processed or deleted contact; for the rest run `php bin/console "
                     "messenger:failed:show`, then retry or `messenger:failed:remove` them, and "
                     "make sure messenger:consume runs",
                     *settings.messenger_rows, settings.messenger_failed_rows)});
  }
  findings.push_back(
      {"backups",
       "a backup made before a contact was processed still holds its data. Keep backups for a "
       "period you can state (e.g. 30 days) so they age out, and after restoring one run "
       "`mautic-gdpr sweep --full-pass` before Mautic is used again"});
  return findings;
}

}  // namespace mgdpr::mautic
