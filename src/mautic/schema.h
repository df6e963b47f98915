// SPDX-License-Identifier: GPL-3.0-or-later
// What the live Mautic database looks like: its tables (under the configured prefix), their
// real column types from information_schema, and the contact fields from lead_fields.
// Version differences (4.4 vs 5.x, upgraded vs fresh) are read from here, never configured.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "db/connection.h"

namespace mgdpr::mautic {

// Tables that libraries under Mautic create without Mautic's table prefix: Symfony's doctrine
// messenger transport (5.x, a MAUTIC_MESSENGER_DSN_* of doctrine://) names its table
// messenger_messages whatever the prefix. Found with the prefix too, the prefixed one wins.
inline constexpr std::string_view kUnprefixedTables[] = {"messenger_messages"};

struct ColumnInfo {
  std::string name;
  std::string data_type;    // information_schema DATA_TYPE, e.g. "varchar", "longtext"
  std::string column_type;  // e.g. "varchar(191)"
  std::optional<int64_t> max_length;  // CHARACTER_MAXIMUM_LENGTH for text columns
  bool nullable = true;
  bool generated = false;  // a generated column: MariaDB computes it, it must not be written
  bool has_default = false;  // COLUMN_DEFAULT is set (a NOT NULL column can be reset to it)
  std::string comment;       // Doctrine writes "(DC2Type:array)", "(DC2Type:json)" here

  bool is_text() const;
  bool is_integer() const;
  // A PHP serialize()d or JSON value, by its type or Doctrine's comment.
  bool is_structured() const;
};

// A foreign key of a table (one column; Mautic has no composite ones).
struct ForeignKey {
  std::string column;
  std::string referenced_table;  // unprefixed when it is under the prefix
  std::string referenced_column;
  std::string on_delete;  // CASCADE, SET NULL, RESTRICT or NO ACTION
};

struct Index {
  std::vector<std::string> columns;  // in index order
  bool unique = false;               // the primary key too
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
    std::vector<ForeignKey> foreign_keys = {};
    std::vector<Index> indexes = {};
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
  // Column names compare without case, as MariaDB compares them.
  const ColumnInfo* column(std::string_view unprefixed, std::string_view column) const;

  const std::vector<ForeignKey>& foreign_keys(std::string_view unprefixed) const;
  const ForeignKey* foreign_key(std::string_view unprefixed, std::string_view column) const;
  // An index whose first columns are `leading`, in that order (a range on them is a seek).
  bool has_index_on(std::string_view unprefixed, std::span<const std::string_view> leading) const;
  // The column is part of the primary key or of a unique index.
  bool in_unique_key(std::string_view unprefixed, std::string_view column) const;

  const std::vector<ContactField>& contact_fields() const { return contact_fields_; }
  // By alias, without case (a column named in another case than its alias is that field).
  const ContactField* contact_field(std::string_view alias) const;
  // What Mautic shows for a field (lead_fields.label); the alias when it has none.
  std::string field_label(std::string_view alias) const;

  // Unprefixed names of every table under the prefix, and of the tables in
  // kUnprefixedTables that exist without it.
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
  std::map<std::string, std::vector<ForeignKey>, std::less<>> foreign_keys_;
  std::map<std::string, std::vector<Index>, std::less<>> indexes_;
  std::set<std::string, std::less<>> unprefixed_;  // tables that exist without the prefix
  std::vector<ContactField> contact_fields_;
};

// Reads the schema. Fails with a fix when there is no `{prefix}leads` / `{prefix}lead_fields`
// (a wrong table_prefix names the prefixes that would work).
Result<Schema> load_schema(db::Connection& connection, const std::string& prefix);

}  // namespace mgdpr::mautic
