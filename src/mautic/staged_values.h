// SPDX-License-Identifier: GPL-3.0-or-later
// New values for many rows, written back with one UPDATE ... JOIN: they wait in a temporary
// table typed like the target's columns (so they go back byte for byte) instead of a CASE per
// column, whose cost grows with the square of the rows.
#pragma once

#include <cstddef>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "db/connection.h"

namespace mgdpr::mautic {

// Rows per multi-row INSERT of values: a statement stays well below max_allowed_packet even
// with long serialized values.
inline constexpr size_t kRowsPerInsert = 500;

// Creates the temporary table `scratch` (a quoted name; one left over is dropped first) with
// k typed like `table`'s `key_column` and v0, v1, ... like its `columns` (but NULL allowed),
// and fills it with `rows`: per row its key, then one value per column, NULL for none. The table is
// private to the connection and creating it does not end the transaction; the caller drops it after
// the UPDATE.
Status stage_values(db::Connection& connection, std::string_view scratch, const std::string& table,
                    std::string_view key_column, const std::vector<std::string>& columns,
                    std::span<const db::Param> rows);

}  // namespace mgdpr::mautic
