// SPDX-License-Identifier: GPL-3.0-or-later
#include "mautic/staged_values.h"

#include <fmt/format.h>

#include <algorithm>

namespace mgdpr::mautic {

Status stage_values(db::Connection& connection, std::string_view scratch, const std::string& table,
                    std::string_view key_column, const std::vector<std::string>& columns,
                    std::span<const db::Param> rows) {
  std::vector<std::string> typed = {"t." + db::quote_identifier(key_column) + " AS k"};
  std::vector<std::string> names = {"k"};
  for (size_t c = 0; c < columns.size(); ++c) {
    // Typed like the column but nullable even where the column is not: NULL is a row without a
    // value there (ENUM and SET would come out as strings; no value of theirs is staged).
    typed.push_back(
        fmt::format("IF(FALSE, NULL, t.{}) AS v{}", db::quote_identifier(columns[c]), c));
    names.push_back(fmt::format("v{}", c));
  }
  MGDPR_TRY(connection.execute(fmt::format("DROP TEMPORARY TABLE IF EXISTS {}", scratch)));
  MGDPR_TRY(connection.execute(
      fmt::format("CREATE TEMPORARY TABLE {} (PRIMARY KEY (k)) SELECT {} FROM {} t LIMIT 0",
                  scratch, db::join(typed, ", "), table)));
  const size_t width = columns.size() + 1;
  const size_t row_count = rows.size() / width;
  const std::string tuple = "(" + db::placeholders(width) + ")";
  for (size_t first = 0; first < row_count; first += kRowsPerInsert) {
    const size_t count = std::min(row_count - first, kRowsPerInsert);
    std::vector<std::string> tuples(count, tuple);
    MGDPR_TRY(connection.execute(fmt::format("INSERT INTO {} ({}) VALUES {}", scratch,
                                             db::join(names, ", "), db::join(tuples, ", ")),
                                 rows.subspan(first * width, count * width)));
  }
  return {};
}

}  // namespace mgdpr::mautic
