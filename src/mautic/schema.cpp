// SPDX-License-Identifier: GPL-3.0-or-later
#include "mautic/schema.h"

#include <algorithm>

namespace mgdpr::mautic {

bool ColumnInfo::is_text() const {
  static const std::set<std::string, std::less<>> kTextTypes = {
      "char", "varchar", "tinytext", "text", "mediumtext", "longtext"};
  return kTextTypes.contains(data_type);
}

bool Schema::has_table(std::string_view unprefixed) const { return tables_.contains(unprefixed); }

std::string Schema::table_name(std::string_view unprefixed) const {
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
    if (info.name == name) return &info;
  }
  return nullptr;
}

const ContactField* Schema::contact_field(std::string_view alias) const {
  for (const auto& field : contact_fields_) {
    if (field.alias == alias) return &field;
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
      "IS_NULLABLE, IS_GENERATED FROM information_schema.COLUMNS "
      "WHERE TABLE_SCHEMA = DATABASE() ORDER BY TABLE_NAME, ORDINAL_POSITION",
      {});
  if (!column_rows) return column_rows.error();
  for (auto& row : column_rows->rows) {
    const std::string& table = *row[0];
    if (!table.starts_with(prefix)) continue;
    ColumnInfo info;
    info.name = *row[1];
    info.data_type = *row[2];
    info.column_type = *row[3];
    info.max_length = db::cell_to_int(row[4]);
    info.nullable = row[5] == "YES";
    info.generated = row[6] == "ALWAYS";
    schema.columns_[table.substr(prefix.size())].push_back(std::move(info));
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
