// SPDX-License-Identifier: GPL-3.0-or-later
#include "mautic/schema.h"

#include <algorithm>
#include <cctype>

namespace mgdpr::mautic {

bool ColumnInfo::is_text() const {
  static const std::set<std::string, std::less<>> kTextTypes = {
      "char", "varchar", "tinytext", "text", "mediumtext", "longtext"};
  return kTextTypes.contains(data_type);
}

bool ColumnInfo::is_integer() const {
  static const std::set<std::string, std::less<>> kIntegers = {"tinyint", "smallint", "mediumint",
                                                               "int", "bigint"};
  return kIntegers.contains(data_type);
}

bool ColumnInfo::is_structured() const {
  return data_type == "json" || comment.find("DC2Type:array") != std::string::npos ||
         comment.find("DC2Type:json") != std::string::npos ||
         comment.find("DC2Type:object") != std::string::npos;
}

namespace {

bool same_name(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

}  // namespace

bool Schema::has_table(std::string_view unprefixed) const { return tables_.contains(unprefixed); }

std::string Schema::table_name(std::string_view unprefixed) const {
  if (unprefixed_.contains(unprefixed)) return std::string(unprefixed);
  return prefix_ + std::string(unprefixed);
}

std::string Schema::table(std::string_view unprefixed) const {
  return db::quote_identifier(table_name(unprefixed));
}

const std::vector<ColumnInfo>* Schema::columns(std::string_view unprefixed) const {
  auto found = columns_.find(unprefixed);
  return found == columns_.end() ? nullptr : &found->second;
}

const ColumnInfo* Schema::column(std::string_view unprefixed, std::string_view name) const {
  const auto* all = columns(unprefixed);
  if (all == nullptr) return nullptr;
  for (const auto& info : *all) {
    if (same_name(info.name, name)) return &info;
  }
  return nullptr;
}

const std::vector<ForeignKey>& Schema::foreign_keys(std::string_view unprefixed) const {
  static const std::vector<ForeignKey> kNone;
  auto found = foreign_keys_.find(unprefixed);
  return found == foreign_keys_.end() ? kNone : found->second;
}

const ForeignKey* Schema::foreign_key(std::string_view unprefixed, std::string_view column) const {
  for (const auto& key : foreign_keys(unprefixed)) {
    if (same_name(key.column, column)) return &key;
  }
  return nullptr;
}

bool Schema::has_index_on(std::string_view unprefixed,
                          std::span<const std::string_view> leading) const {
  auto found = indexes_.find(unprefixed);
  if (found == indexes_.end() || leading.empty()) return false;
  return std::any_of(found->second.begin(), found->second.end(), [&](const Index& index) {
    if (index.columns.size() < leading.size()) return false;
    for (size_t i = 0; i < leading.size(); ++i) {
      if (!same_name(index.columns[i], leading[i])) return false;
    }
    return true;
  });
}

bool Schema::in_unique_key(std::string_view unprefixed, std::string_view column) const {
  auto found = indexes_.find(unprefixed);
  if (found == indexes_.end()) return false;
  return std::any_of(found->second.begin(), found->second.end(), [&](const Index& index) {
    return index.unique && std::any_of(index.columns.begin(), index.columns.end(),
                                       [&](const std::string& name) { return same_name(name, column); });
  });
}

const ContactField* Schema::contact_field(std::string_view alias) const {
  for (const auto& field : contact_fields_) {
    if (same_name(field.alias, alias)) return &field;
  }
  return nullptr;
}

std::string Schema::field_label(std::string_view alias) const {
  const ContactField* field = contact_field(alias);
  return field != nullptr && !field->label.empty() ? field->label : std::string(alias);
}

Schema Schema::from_tables(std::string prefix, std::vector<TableSpec> tables,
                           std::vector<ContactField> contact_fields, std::string database) {
  Schema schema;
  schema.prefix_ = std::move(prefix);
  schema.database_ = std::move(database);
  for (auto& table : tables) {
    schema.tables_.insert(table.name);
    schema.columns_[table.name] = std::move(table.columns);
    schema.foreign_keys_[table.name] = std::move(table.foreign_keys);
    schema.indexes_[table.name] = std::move(table.indexes);
  }
  for (auto& field : contact_fields) {
    if (const ColumnInfo* column = schema.column("leads", field.alias)) field.column = *column;
  }
  schema.contact_fields_ = std::move(contact_fields);
  return schema;
}

std::string Schema::mautic_generation() const {
  return has_table("point_groups") ? "5.x" : "4.4";
}

namespace {

// Prefixes under which a Mautic contact table exists, to suggest the right table_prefix.
std::vector<std::string> prefixes_with_leads(const std::vector<std::string>& all_tables) {
  std::vector<std::string> prefixes;
  for (const auto& name : all_tables) {
    constexpr std::string_view kLeads = "leads";
    if (name.size() >= kLeads.size() && name.ends_with(kLeads)) {
      std::string prefix = name.substr(0, name.size() - kLeads.size());
      if (std::find(all_tables.begin(), all_tables.end(), prefix + "lead_fields") !=
          all_tables.end()) {
        prefixes.push_back(prefix);
      }
    }
  }
  return prefixes;
}

}  // namespace

Result<Schema> load_schema(db::Connection& connection, const std::string& prefix) {
  Schema schema;
  schema.prefix_ = prefix;
  auto database = connection.query_value("SELECT DATABASE()");
  if (!database) return database.error();
  if (!database->has_value()) {
    return make_error("no database selected: set name = \"mautic\" in [database]");
  }
  schema.database_ = **database;

  auto table_rows = connection.query(
      "SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE()", {});
  if (!table_rows) return table_rows.error();
  std::vector<std::string> all_tables;
  for (auto& row : table_rows->rows) {
    if (row[0]) all_tables.push_back(*row[0]);
  }
  for (const auto& name : all_tables) {
    if (name.starts_with(prefix)) schema.tables_.insert(name.substr(prefix.size()));
  }
  // Under the prefix, or else without it (the table's physical name is then the bare name).
  auto stored_name = [&](std::string_view physical) -> std::optional<std::string> {
    if (physical.starts_with(prefix)) {
      std::string unprefixed(physical.substr(prefix.size()));
      if (!schema.unprefixed_.contains(unprefixed)) return unprefixed;
    }
    if (schema.unprefixed_.contains(physical)) return std::string(physical);
    return std::nullopt;
  };
  for (std::string_view name : kUnprefixedTables) {
    if (!prefix.empty() && !schema.tables_.contains(name) &&
        std::find(all_tables.begin(), all_tables.end(), name) != all_tables.end()) {
      schema.tables_.emplace(name);
      schema.unprefixed_.emplace(name);
    }
  }
  if (!schema.has_table("leads") || !schema.has_table("lead_fields")) {
    auto prefixes = prefixes_with_leads(all_tables);
    std::string hint;
    if (prefixes.empty()) {
      hint = fmt::format("database `{}` holds no Mautic contact tables; check name in [database]",
                         schema.database_);
    } else {
      hint = fmt::format("the Mautic tables here use table_prefix = \"{}\"", prefixes.front());
    }
    return make_error(ErrorKind::kConfig, "no table `{}leads` in database `{}` (table_prefix = \"{}\"): {}", prefix,
                      schema.database_, prefix, hint);
  }

  auto column_rows = connection.query(
      "SELECT TABLE_NAME, COLUMN_NAME, DATA_TYPE, COLUMN_TYPE, CHARACTER_MAXIMUM_LENGTH, "
      "IS_NULLABLE, IS_GENERATED, COLUMN_DEFAULT IS NOT NULL, COLUMN_COMMENT "
      "FROM information_schema.COLUMNS "
      "WHERE TABLE_SCHEMA = DATABASE() ORDER BY TABLE_NAME, ORDINAL_POSITION",
      {});
  if (!column_rows) return column_rows.error();
  for (auto& row : column_rows->rows) {
    auto table = stored_name(*row[0]);
    if (!table) continue;
    ColumnInfo info;
    info.name = *row[1];
    info.data_type = *row[2];
    info.column_type = *row[3];
    info.max_length = db::cell_to_int(row[4]);
    info.nullable = row[5] == "YES";
    info.generated = row[6] == "ALWAYS";
    info.has_default = row[7] == "1";
    info.comment = row[8].value_or("");
    schema.columns_[*table].push_back(std::move(info));
  }

  MGDPR_ASSIGN_OR_RETURN(
      auto key_rows,
      connection.query("SELECT k.TABLE_NAME, k.COLUMN_NAME, k.REFERENCED_TABLE_NAME, "
                       "k.REFERENCED_COLUMN_NAME, r.DELETE_RULE FROM "
                       "information_schema.KEY_COLUMN_USAGE k JOIN "
                       "information_schema.REFERENTIAL_CONSTRAINTS r ON "
                       "r.CONSTRAINT_SCHEMA = k.CONSTRAINT_SCHEMA AND r.CONSTRAINT_NAME = "
                       "k.CONSTRAINT_NAME AND r.TABLE_NAME = k.TABLE_NAME WHERE "
                       "k.TABLE_SCHEMA = DATABASE() AND k.REFERENCED_TABLE_NAME IS NOT NULL",
                       {}));
  for (auto& row : key_rows.rows) {
    auto table = stored_name(*row[0]);
    if (!table) continue;
    auto referenced = stored_name(*row[2]);
    schema.foreign_keys_[*table].push_back(
        {*row[1], referenced.value_or(*row[2]), *row[3], row[4].value_or("")});
  }
  MGDPR_ASSIGN_OR_RETURN(
      auto index_rows,
      connection.query("SELECT TABLE_NAME, INDEX_NAME, NON_UNIQUE, COLUMN_NAME FROM "
                       "information_schema.STATISTICS WHERE TABLE_SCHEMA = DATABASE() ORDER BY "
                       "TABLE_NAME, INDEX_NAME, SEQ_IN_INDEX",
                       {}));
  std::string last_index;
  for (auto& row : index_rows.rows) {
    auto table = stored_name(*row[0]);
    if (!table) continue;
    auto& indexes = schema.indexes_[*table];
    const std::string index_key = *table + '\n' + *row[1];
    if (indexes.empty() || index_key != last_index) {
      indexes.push_back({{}, row[2] == "0"});
      last_index = index_key;
    }
    indexes.back().columns.push_back(*row[3]);
  }

  auto field_rows = connection.query(
      fmt::format(
          "SELECT alias, type, label FROM {} WHERE object = 'lead' ORDER BY field_order, id",
          schema.table("lead_fields")),
      {});
  if (!field_rows) return field_rows.error();
  for (auto& row : field_rows->rows) {
    if (!row[0] || !row[1]) continue;
    ContactField field;
    field.alias = *row[0];
    field.type = *row[1];
    field.label = row[2].value_or(field.alias);
    if (const ColumnInfo* column = schema.column("leads", field.alias)) field.column = *column;
    schema.contact_fields_.push_back(std::move(field));
  }
  return schema;
}

}  // namespace mgdpr::mautic
