// SPDX-License-Identifier: GPL-3.0-or-later
// Columns for schemas the unit tests build in memory (Schema::from_tables).
#pragma once

#include <string>
#include <utility>

#include "mautic/schema.h"

namespace mgdpr::mautic::schema_builders {

inline ColumnInfo column(std::string name, std::string type = "bigint") {
  return {.name = std::move(name), .data_type = std::move(type)};
}

inline ColumnInfo not_null(ColumnInfo column) {
  column.nullable = false;
  return column;
}

// Doctrine's type comment, e.g. "(DC2Type:json)".
inline ColumnInfo with_comment(ColumnInfo column, std::string comment) {
  column.comment = std::move(comment);
  return column;
}

}  // namespace mgdpr::mautic::schema_builders
