// SPDX-License-Identifier: GPL-3.0-or-later
#include "mautic/related_plan.h"

#include <fmt/format.h>

#include <algorithm>

#include "mautic/location_rows.h"

namespace mgdpr::mautic {

namespace {

// "; did you mean `x`? write key = "x"", or the fallback fix.
std::string fix_for(std::string_view key, std::string_view word,
                    const std::vector<std::string>& candidates, std::string_view otherwise) {
  auto suggestion = did_you_mean(word, candidates);
  if (suggestion) return fmt::format("; did you mean `{0}`? write {1} = \"{0}\"", *suggestion, key);
  return fmt::format("; {}", otherwise);
}

std::string joined(const std::vector<std::string>& names) {
  std::string text;
  for (const auto& name : names) text += (text.empty() ? "" : ", ") + name;
  return text;
}

std::vector<std::string> column_names(const Schema& schema, std::string_view table) {
  std::vector<std::string> names;
  if (const auto* columns = schema.columns(table)) {
    for (const auto& column : *columns) names.push_back(column.name);
  }
  return names;
}

// What Mautic's delete of a contact leaves of a declared table's rows, from the live foreign
// key on the column that holds the contact.
Orphans orphans_by_foreign_key(const ForeignKey* key, bool through_parent) {
  if (key == nullptr) return Orphans::kIdKept;
  if (key->on_delete == "SET NULL") return Orphans::kLinkNulled;
  if (key->on_delete == "CASCADE") {
    return through_parent ? Orphans::kParentGone : Orphans::kDeletedWithContact;
  }
  return Orphans::kDeletedWithContact;  // RESTRICT: Mautic cannot delete the contact
}

// One [[related.extra]] entry checked against the live schema; nullptr when it has problems.
std::shared_ptr<DeclaredLocation> declare(const ExtraLocationConfig& extra, const Config& config,
                                          const Schema& schema, std::vector<std::string>& problems,
                                          const std::vector<std::string>& taken) {
  const size_t before = problems.size();
  auto where = [&](std::string_view key) { return extra.where(config.path, key); };
  const std::string name = extra.name.empty() ? extra.table : extra.name;
  if (std::find(taken.begin(), taken.end(), name) != taken.end()) {
    problems.push_back(
        fmt::format("{}: a location named `{}` exists already; add name = \"{}_extra\" to this "
                    "[[related.extra]]",
                    where(extra.name.empty() ? "table" : "name"), name, name));
  }
  std::vector<std::string> tables(schema.tables().begin(), schema.tables().end());
  const std::string unprefixed_fix = "write the table's name without the table prefix";
  if (!schema.has_table(extra.table)) {
    problems.push_back(fmt::format(
        "{}: there is no table `{}` in database `{}`{}{}", where("table"),
        schema.table_name(extra.table), schema.database(),
        schema.prefix().empty() ? ""
                                : fmt::format(" (table_prefix \"{}\" is added)", schema.prefix()),
        fix_for("table", extra.table, tables, unprefixed_fix)));
    return nullptr;
  }
  auto require_column = [&](std::string_view table, const std::string& column,
                            std::string_view key) {
    if (schema.column(table, column) != nullptr) return true;
    const auto names = column_names(schema, table);
    problems.push_back(
        fmt::format("{}: table `{}` has no column `{}`{}", where(key), schema.table_name(table),
                    column, fix_for(key, column, names, "its columns are " + joined(names))));
    return false;
  };
  require_column(extra.table, extra.link_column, "link_column");
  const bool through_parent = !extra.parent.empty();
  if (through_parent) {
    if (!schema.has_table(extra.parent)) {
      problems.push_back(fmt::format("{}: there is no table `{}`{}", where("parent"),
                                     schema.table_name(extra.parent),
                                     fix_for("parent", extra.parent, tables, unprefixed_fix)));
    } else {
      require_column(extra.parent, extra.parent_key, "parent_key");
      require_column(extra.parent, extra.parent_contact_column, "parent_contact_column");
    }
  }
  for (const ExtraColumn& column : extra.columns) {
    if (column.name == extra.link_column) {
      problems.push_back(
          fmt::format("{}:{}: `{}` is the link column: it ties the row to the "
                      "contact and cannot be cleared; remove it from columns",
                      config.path, column.line, column.name));
      continue;
    }
    if (schema.column(extra.table, column.name) == nullptr) {
      const auto names = column_names(schema, extra.table);
      auto suggestion = did_you_mean(column.name, names);
      problems.push_back(
          fmt::format("{}:{}: table `{}` has no column `{}`; {}", config.path, column.line,
                      schema.table_name(extra.table), column.name,
                      suggestion ? fmt::format("did you mean `{0}`? write {0} = \"{1}\" in columns",
                                               *suggestion, column.kind)
                                 : "its columns are " + joined(names)));
    }
  }
  if (extra.action == "scrub" && extra.columns.empty() &&
      schema.column(extra.table, "ip_id") == nullptr) {
    problems.push_back(fmt::format(
        "{}: a scrubbed table needs its personal columns; write columns = {{ note = \"clear\" "
        "}} (kinds: clear, php-serialized, json) or action = \"delete\"",
        where("action")));
  }
  // Serialized and JSON values are rewritten row by row, found again by the row's key.
  const ColumnInfo* row_id = schema.column(extra.table, "id");
  const bool has_row_id = row_id != nullptr && row_id->is_integer();
  if (extra.action == "scrub" && !has_row_id) {
    for (const ExtraColumn& column : extra.columns) {
      if (column.kind == "clear") continue;
      problems.push_back(fmt::format(
          "{}:{}: table `{}` has no integer `id` column, so its {} values cannot be rewritten "
          "in place; write {} = \"clear\" or action = \"delete\"",
          config.path, column.line, schema.table_name(extra.table), column.kind, column.name));
    }
  }
  if (problems.size() != before) return nullptr;

  auto declared = std::make_shared<DeclaredLocation>();
  declared->name = name;
  declared->table = extra.table;
  declared->link_column = extra.link_column;
  declared->parent = extra.parent;
  declared->parent_key = extra.parent_key;
  declared->parent_contact_column = extra.parent_contact_column;
  declared->origin = fmt::format("{}:{}", config.path, extra.line);
  declared->why = extra.why.empty() ? "declared in the config" : extra.why;
  // The row's identity, by which the repair goes in batches: an integer id; none otherwise
  // (then the rows are repaired in one transaction).
  if (has_row_id) declared->key_column = row_id->name;
  for (const ExtraColumn& column : extra.columns) declared->column_names.push_back(column.name);
  for (size_t i = 0; i < extra.columns.size(); ++i) {
    const std::string& kind = extra.columns[i].kind;
    declared->rules.push_back({declared->column_names[i], kind == "json" ? ColumnScrub::kJson
                                                          : kind == "php-serialized"
                                                              ? ColumnScrub::kPhpSerialized
                                                              : ColumnScrub::kClear});
  }
  Location& location = declared->location;
  location.name = declared->name;
  location.table = declared->table;
  location.link = through_parent ? Link::kParentRow : Link::kColumn;
  location.link_column = declared->link_column;
  if (through_parent) {
    location.parent = {.table = declared->parent,
                       .key = declared->parent_key,
                       .contact_column = declared->parent_contact_column};
  }
  location.key_column = declared->key_column;
  location.default_action = extra.action == "delete" ? RowAction::kDelete : RowAction::kScrub;
  location.columns = declared->rules;
  location.orphans = orphans_by_foreign_key(
      through_parent ? schema.foreign_key(extra.parent, extra.parent_contact_column)
                     : schema.foreign_key(extra.table, extra.link_column),
      through_parent);
  location.why = declared->why;
  return declared;
}

}  // namespace

RelatedPlan build_related_plan(const Config& config, const Schema& schema) {
  RelatedPlan plan;
  std::vector<std::string> names;
  for (const auto& location : pii_locations()) names.emplace_back(location.name);

  // Declared tables first: a plugin's rows may hang on Mautic rows a built-in location deletes.
  for (const auto& extra : config.related_extra) {
    auto declared = declare(extra, config, schema, plan.problems, names);
    if (!declared) continue;
    names.push_back(declared->name);
    plan.locations.push_back({.location = &declared->location,
                              .action = declared->location.default_action,
                              .origin = declared->origin,
                              .tables = {declared->table},
                              .declared = true});
    plan.declared.push_back(std::move(declared));
  }
  for (const auto& [name, action_word] : config.related) {
    const std::string where = config.where("related." + name);
    const Location* location = find_location(name);
    if (auto declared = std::find_if(plan.declared.begin(), plan.declared.end(),
                                     [&](const auto& entry) { return entry->name == name; });
        declared != plan.declared.end()) {
      plan.problems.push_back(fmt::format(
          "{}: `{}` is declared under [[related.extra]] at {}; write its action there, e.g. "
          "action = \"delete\", and remove this line",
          where, name, (*declared)->origin));
      continue;
    }
    if (location == nullptr) {
      auto suggestion = did_you_mean(name, names);
      plan.problems.push_back(
          fmt::format("{}: `{}` is not a location mautic-gdpr knows; {}", where, name,
                      suggestion ? fmt::format("did you mean `{}`?", *suggestion)
                                 : "run `mautic-gdpr check` to list them"));
      continue;
    }
    auto action = parse_row_action(action_word);
    if (!action) {
      // The word itself is not repeated: a value typed in the wrong place may be anything.
      plan.problems.push_back(fmt::format(
          "{}: the action of a location is \"scrub\", \"delete\" or \"keep\"; write {} = "
          "\"scrub\", \"delete\" or \"keep\"",
          where, name));
      continue;
    }
    if (*action == RowAction::kScrub && location->columns.empty() &&
        location->every_column_but.empty() &&
        schema.column(location->named_table(), "ip_id") == nullptr) {
      plan.problems.push_back(fmt::format(
          "{}: `{}` has nothing statistical to keep, so it cannot be scrubbed; write {} = "
          "\"delete\" or \"keep\"",
          where, name, name));
    }
  }

  for (const auto& location : pii_locations()) {
    LocationPlan entry;
    entry.location = &location;
    entry.action = location.default_action;
    entry.origin = "default";
    if (auto configured = config.related.find(std::string(location.name));
        configured != config.related.end()) {
      if (auto action = parse_row_action(configured->second)) {
        entry.action = *action;
        entry.origin = config.where("related." + std::string(location.name));
      }
    }
    entry.tables = tables_of(location, schema);
    // A location with a table per form applies even before the first form exists.
    if (entry.tables.empty() && location.tables == Tables::kNamed) {
      plan.missing.emplace_back(location.name);
      continue;
    }
    plan.locations.push_back(std::move(entry));
  }
  return plan;
}

}  // namespace mgdpr::mautic
