// SPDX-License-Identifier: GPL-3.0-or-later
#include "server/stats.h"

#include <fmt/chrono.h>
#include <fmt/format.h>

#include <chrono>

namespace mgdpr::server {

Result<DatabaseNumbers> read_database_numbers(db::Connection& connection, const app::Session& session,
                                              int days) {
  const mautic::Schema& schema = session.schema;
  DatabaseNumbers numbers;
  MGDPR_ASSIGN_OR_RETURN(numbers.status,
                         mautic::read_status(connection, session.config, schema, session.related,
                                             session.keys ? &*session.keys : nullptr));

  // Every day of the window, oldest first, so the chart shows quiet days too.
  const auto today = std::chrono::floor<std::chrono::days>(std::chrono::system_clock::now());
  std::map<std::string, size_t> day_index;
  for (int back = days - 1; back >= 0; --back) {
    const std::string date = fmt::format("{:%Y-%m-%d}", today - std::chrono::days(back));
    day_index[date] = numbers.last_days.size();
    numbers.last_days.push_back({date, {}});
  }
  if (!schema.has_table("gdpr_contacts")) return numbers;

  // The connection's time zone is UTC (db::Connection sets it).
  auto per_day = connection.query(
      fmt::format("SELECT DATE_FORMAT(processed_at, '%Y-%m-%d'), reason, COUNT(*) FROM {} "
                  "WHERE processed_at >= UTC_DATE() - INTERVAL ? DAY GROUP BY 1, 2",
                  schema.table("gdpr_contacts")),
      {int64_t(days - 1)});
  if (!per_day) return per_day.error();
  for (const auto& row : per_day->rows) {
    auto found = day_index.find(row[0].value_or(""));
    if (found == day_index.end()) continue;
    numbers.last_days[found->second].by_reason[row[1].value_or("")] =
        db::cell_to_int(row[2]).value_or(0);
  }
  auto by_source = connection.query(
      fmt::format("SELECT source, COUNT(*) FROM {} GROUP BY source", schema.table("gdpr_contacts")),
      {});
  if (!by_source) return by_source.error();
  for (const auto& row : by_source->rows) {
    numbers.processed_by_source[row[0].value_or("")] = db::cell_to_int(row[1]).value_or(0);
  }
  return numbers;
}

}  // namespace mgdpr::server
