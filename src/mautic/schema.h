// SPDX-License-Identifier: GPL-3.0-or-later
// What the live Mautic database looks like: its tables (under the configured prefix), their
// real column types from information_schema, and the contact fields from lead_fields.
// Version differences (4.4 vs 5.x, upgraded vs fresh) are read from here, never configured.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "core/result.h"
#include "db/connection.h"

namespace mgdpr::mautic {

struct ColumnInfo {
  std::string name;
  std::string data_type;    // information_schema DATA_TYPE, e.g. "varchar", "longtext"
  std::string column_type;  // e.g. "varchar(191)"
  std::optional<int64_t> max_length;  // CHARACTER_MAXIMUM_LENGTH for text columns
  bool nullable = true;
  bool generated = false;  // a generated column: MariaDB computes it, it must not be written

  bool is_text() const;
};

struct ContactField {
  std::string alias;  // lead_fields.alias, also the column name in leads
  std::string type;   // lead_fields.type: text, email, tel, number, date, boolean, ...
  std::string label;  // lead_fields.label, what Mautic shows (exports and pages show it too)
  std::optional<ColumnInfo> column;  // nullopt when Mautic has not created the column
};

class Schema {
 public:
  struct TableSpec {
    std::string name;  // unprefixed
    std::vector<ColumnInfo> columns;
  };
  // A schema from data, for pure code and its unit tests (no server): the rules that read a
  // Schema (policy, locations, rows_of) are tested on a few tables written out by hand.
  static Schema from_tables(std::string prefix, std::vector<TableSpec> tables,
                            std::vector<ContactField> contact_fields = {},
                            std::string database = "mautic");

  const std::string& prefix() const { return prefix_; }
  const std::string& database() const { return database_; }

  bool has_table(std::string_view unprefixed) const;
  // The prefixed, quoted table name for SQL.
  std::string table(std::string_view unprefixed) const;
  // The prefixed, unquoted name (for messages and information_schema).
  std::string table_name(std::string_view unprefixed) const;

  const std::vector<ColumnInfo>* columns(std::string_view unprefixed) const;
  const ColumnInfo* column(std::string_view unprefixed, std::string_view column) const;

  const std::vector<ContactField>& contact_fields() const { return contact_fields_; }
  const ContactField* contact_field(std::string_view alias) const;
  // What Mautic shows for a field (lead_fields.label); the alias when it has none.
  std::string field_label(std::string_view alias) const;

  // Unprefixed names of every table under the prefix.
  const std::set<std::string, std::less<>>& tables() const { return tables_; }

  // "5.x" when the tables that arrived with 5.0 exist, "4.4" otherwise (for messages only;
  // behaviour follows the individual columns).
  std::string mautic_generation() const;

 private:
  friend Result<Schema> load_schema(db::Connection& connection, const std::string& prefix);
  std::string prefix_;
  std::string database_;
  std::set<std::string, std::less<>> tables_;
  std::map<std::string, std::vector<ColumnInfo>, std::less<>> columns_;
  std::vector<ContactField> contact_fields_;
};

// Reads the schema. Fails with a fix when there is no `{prefix}leads` / `{prefix}lead_fields`
// (a wrong table_prefix names the prefixes that would work).
Result<Schema> load_schema(db::Connection& connection, const std::string& prefix);

}  // namespace mgdpr::mautic
