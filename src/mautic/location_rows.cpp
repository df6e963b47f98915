// SPDX-License-Identifier: GPL-3.0-or-later
#include "mautic/location_rows.h"

#include <fmt/format.h>

#include <algorithm>

namespace mgdpr::mautic {

using db::quote_identifier;

namespace {

constexpr std::string_view kFormResultsStem = "form_results_";

// form_results_<form id>_<alias>, the tables Mautic creates per form.
bool is_form_results_table(std::string_view name) {
  if (!name.starts_with(kFormResultsStem)) return false;
  auto rest = name.substr(kFormResultsStem.size());
  auto underscore = rest.find('_');
  return underscore != std::string_view::npos && underscore > 0 &&
         std::all_of(rest.begin(), rest.begin() + long(underscore),
                     [](char c) { return c >= '0' && c <= '9'; });
}

}  // namespace

ContactSet ContactSet::of(std::span<const int64_t> ids) {
  ContactSet set{Kind::kListed, "(" + db::placeholders(ids.size()) + ")", {}};
  for (int64_t id : ids) set.params.emplace_back(id);
  return set;
}

ContactSet ContactSet::processed(const Schema& schema, const std::optional<std::string>& before) {
  ContactSet set{Kind::kListed,
                 fmt::format("(SELECT g.contact_id FROM {} g WHERE {}{} AND EXISTS (SELECT 1 FROM "
                             "{} d WHERE d.lead_id = g.contact_id AND d.channel = g.channel))",
                             schema.table("gdpr_contacts"), not_returned_sql(schema, "g"),
                             before ? " AND g.processed_at < ?" : "",
                             schema.table("lead_donotcontact")),
                 {}};
  if (before) set.params.emplace_back(*before);
  return set;
}

std::string not_returned_sql(const Schema& schema, std::string_view alias) {
  // Tables from before version 2 (a read-only command on a database not swept since the
  // upgrade) have no return to record.
  if (schema.column("gdpr_contacts", "returned_at") == nullptr) return "TRUE";
  return fmt::format("{}.returned_at IS NULL", alias);
}

std::string contact_condition(std::string_view expression, const ContactSet& contacts,
                              const Schema& schema, std::vector<db::Param>& params) {
  switch (contacts.kind) {
    case ContactSet::Kind::kListed:
      params.insert(params.end(), contacts.params.begin(), contacts.params.end());
      return fmt::format("{} IN {}", expression, contacts.sql);
    case ContactSet::Kind::kUnlinked:
      return fmt::format("{} IS NULL", expression);
    case ContactSet::Kind::kGone: {
      std::string condition =
          fmt::format("{0} IS NOT NULL AND NOT EXISTS (SELECT 1 FROM {1} c WHERE c.id = {0})",
                      expression, schema.table("leads"));
      // A contact merged into another is the same person, not an erasure: its history stays.
      if (schema.has_table("contact_merge_records")) {
        condition += fmt::format(" AND NOT EXISTS (SELECT 1 FROM {} m WHERE m.merged_id = {})",
                                 schema.table("contact_merge_records"), expression);
      }
      return condition;
    }
  }
  return "FALSE";
}

RowSelection rows_of(const Location& location, std::string_view table, const Schema& schema,
                     const ContactSet& contacts, const KeyRange& range) {
  RowSelection rows;
  rows.from = schema.table(table) + " t";
  const std::string link = "t." + quote_identifier(location.link_column);
  switch (location.link) {
    case Link::kColumn:
      rows.where = contact_condition(link, contacts, schema, rows.params);
      break;
    case Link::kParentRow: {
      const ParentRow& parent = location.parent;
      const std::string parent_key = quote_identifier(parent.key);
      if (contacts.kind == ContactSet::Kind::kGone) {
        // The parent row itself is gone (a note deleted with its contact).
        rows.where = fmt::format(
            "{0} IS NOT NULL AND NOT EXISTS (SELECT 1 FROM {1} parent WHERE "
            "parent.{2} = {0})",
            link, schema.table(parent.table), parent_key);
        break;
      }
      rows.from += fmt::format(" JOIN {} parent ON parent.{} = {}", schema.table(parent.table),
                               parent_key, link);
      rows.where = contact_condition("parent." + quote_identifier(parent.contact_column), contacts,
                                     schema, rows.params);
      if (!parent.null_column.empty()) {
        rows.where += fmt::format(" AND parent.{} IS NULL", quote_identifier(parent.null_column));
      }
      break;
    }
    case Link::kPayload:
    case Link::kText:
      rows.where = "FALSE";
      return rows;
  }
  if (!location.kind_column.empty()) {
    rows.where += fmt::format(" AND t.{} IN ({})", quote_identifier(location.kind_column),
                              db::placeholders(location.kind_values.size()));
    for (auto value : location.kind_values) rows.params.emplace_back(std::string(value));
  }
  rows.where += range_condition(range, rows.params);
  return rows;
}

std::string range_condition(const KeyRange& range, std::vector<db::Param>& params) {
  std::string condition;
  const char* bound = range.unix_time ? "FROM_UNIXTIME(?)" : "?";
  if (range.above) {
    condition += fmt::format(" AND t.{} > {}", quote_identifier(range.column), bound);
    params.emplace_back(*range.above);
  }
  if (range.up_to) {
    condition += fmt::format(" AND t.{} <= {}", quote_identifier(range.column), bound);
    params.emplace_back(*range.up_to);
  }
  return condition;
}

std::string record_name(const Location& location, std::string_view table) {
  return location.tables == Tables::kPerForm ? std::string(table) : std::string(location.name);
}

RowSelection rows_naming(const Location& location, std::string_view table, const Schema& schema,
                         std::span<const std::string> addresses) {
  RowSelection rows;
  rows.from = schema.table(table) + " t";
  std::vector<std::string> conditions;
  const std::string text = "t." + quote_identifier(location.link_column);
  for (const auto& address : addresses) {
    conditions.push_back(fmt::format("LOCATE(?, {}) > 0", text));
    rows.params.emplace_back(address);
  }
  rows.where = conditions.empty() ? "FALSE" : "(" + db::join(conditions, " OR ") + ")";
  return rows;
}

const Location* location_of_table(std::string_view unprefixed) {
  for (const Location& location : pii_locations()) {
    switch (location.tables) {
      case Tables::kNamed:
        if (location.named_table() == unprefixed) return &location;
        break;
      case Tables::kPerForm:
        if (is_form_results_table(unprefixed)) return &location;
        break;
    }
  }
  return nullptr;
}

std::vector<std::string> tables_of(const Location& location, const Schema& schema) {
  std::vector<std::string> tables;
  switch (location.tables) {
    case Tables::kNamed:
      if (schema.has_table(location.named_table())) tables.emplace_back(location.named_table());
      break;
    case Tables::kPerForm:
      // Answers without their submissions could not be tied to anyone.
      if (!schema.has_table(location.parent.table)) break;
      for (const auto& table : schema.tables()) {
        if (location_of_table(table) == &location) tables.push_back(table);
      }
      break;
  }
  return tables;
}

}  // namespace mgdpr::mautic
