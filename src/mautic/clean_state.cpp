// SPDX-License-Identifier: GPL-3.0-or-later
#include "mautic/clean_state.h"

#include <fmt/format.h>

#include <algorithm>

#include "core/scrub.h"

namespace mgdpr::mautic {

using db::quote_identifier;

Result<std::string> rewrite_structured(ColumnScrub scrub, std::string_view value) {
  switch (scrub) {
    case ColumnScrub::kPhpSerialized:
      return scrub_php_serialized(value);
    case ColumnScrub::kJson:
      return scrub_json(value);
    case ColumnScrub::kCompressedJson:
      return scrub_compressed_json(value);
    case ColumnScrub::kClear:
      break;
  }
  return make_error("the column is cleared, not rewritten");
}

std::optional<std::string> cleared_structured(const ColumnRule& rule, const ColumnInfo& column) {
  if (column.nullable) return std::nullopt;
  switch (rule.scrub) {
    case ColumnScrub::kPhpSerialized:
      return std::string(kEmptyPhpArray);
    case ColumnScrub::kJson:
      return std::string("{}");
    case ColumnScrub::kCompressedJson:
    case ColumnScrub::kClear:
      break;
  }
  return std::string();
}

std::optional<std::string> scrubbed_value(const ColumnRule& rule, const ColumnInfo& column,
                                          const std::string& value) {
  auto rewritten = rewrite_structured(rule.scrub, value);
  if (rewritten) return std::move(*rewritten);
  return cleared_structured(rule, column);
}

std::string CleanCheck::any_sql() const {
  std::vector<std::string> parts;
  for (const auto& [column, condition] : plain) parts.push_back("(" + condition + ")");
  if (!candidate.empty()) parts.push_back("(" + candidate + ")");
  return parts.empty() ? "FALSE" : db::join(parts, " OR ");
}

int clean_value_kind(ColumnScrub scrub) { return static_cast<int>(scrub); }

CleanCheck clean_check(const LocationPlan& plan, const std::string& table, const Schema& schema,
                       std::optional<int64_t> placeholder_ip) {
  CleanCheck check;
  const Location& location = *plan.location;
  if (plan.action == RowAction::kDelete) {
    check.plain.emplace_back("(row)", "TRUE");
    return check;
  }
  // A cleared column holds NULL, or '' where NULL is not allowed; a NOT NULL column that is
  // not text has nothing to be cleared to, so the scrubber leaves it and so does the check.
  auto plain_column = [&](const ColumnInfo& column) {
    const std::string name = "t." + quote_identifier(column.name);
    if (column.nullable) {
      check.plain.emplace_back(column.name, name + " IS NOT NULL");
    } else if (column.is_text()) {
      check.plain.emplace_back(column.name, name + " <> ''");
    }
  };
  if (!location.every_column_but.empty()) {
    const auto& meta = location.every_column_but;
    for (const ColumnInfo& column : *schema.columns(table)) {
      if (std::find(meta.begin(), meta.end(), column.name) == meta.end()) plain_column(column);
    }
  }
  std::vector<std::string> candidates;
  for (const ColumnRule& rule : location.columns) {
    const ColumnInfo* column = schema.column(table, rule.column);
    if (column == nullptr) continue;
    if (rule.scrub == ColumnScrub::kClear) {
      plain_column(*column);
      continue;
    }
    check.structured.push_back(&rule);
    const std::string name = "t." + quote_identifier(column->name);
    candidates.push_back(
        fmt::format("({0} IS NOT NULL AND NOT EXISTS (SELECT 1 FROM {1} v WHERE v.kind = {2} AND "
                    "v.digest = UNHEX(SHA2({0}, 256))))",
                    name, schema.table("gdpr_clean_values"), clean_value_kind(rule.scrub)));
  }
  check.candidate = db::join(candidates, " OR ");
  if (schema.column(table, "ip_id") != nullptr) {
    if (placeholder_ip) {
      check.plain.emplace_back("ip_id", "t.ip_id IS NOT NULL AND t.ip_id <> ?");
      check.plain_params.emplace_back(*placeholder_ip);
    } else {
      check.plain.emplace_back("ip_id", "t.ip_id IS NOT NULL");
    }
  }
  return check;
}

namespace {

// True when a column `name` holds something the generalizer would change: the SQL form of
// "generalize(value) != value" for the shapes src/core/generalize.cpp writes (a change there
// needs one here). REGEXP reads DATE and DATETIME values as their 'YYYY-MM-DD[ HH:MM:SS]' text.
std::string not_generalized_sql(const Generalizer& generalizer, const std::string& name) {
  constexpr std::string_view kYear = "(?!0000)[0-9]{4}";
  switch (generalizer.kind) {
    case Generalization::kYear:
      return fmt::format("{0} IS NOT NULL AND NOT ({0} REGEXP '^{1}-01-01( 00:00:00)?$')", name,
                         kYear);
    case Generalization::kMonth:
      return fmt::format(
          "{0} IS NOT NULL AND NOT ({0} REGEXP '^{1}-(0[1-9]|1[0-2])-01( 00:00:00)?$')", name,
          kYear);
    case Generalization::kPrefix:
      // Lengths, not <>: a PAD SPACE collation finds 'ab ' equal to 'ab'.
      return fmt::format("{0} IS NOT NULL AND (CHAR_LENGTH({0}) > {1} OR CHAR_LENGTH(TRIM({0})) "
                         "= 0 OR CHAR_LENGTH(TRIM({0})) <> CHAR_LENGTH({0}))",
                         name, generalizer.n);
    case Generalization::kBucket:
      return fmt::format("{0} IS NOT NULL AND (NOT (CAST({0} AS CHAR) REGEXP '^-?[0-9]+$') OR "
                         "MOD({0}, {1}) <> 0)",
                         name, generalizer.n);
    case Generalization::kDomain:
      // (?-i): an upper-case letter is not what `domain` writes, whatever the collation says.
      return fmt::format("{0} IS NOT NULL AND ({0} REGEXP '(?-i)[@A-Z[:space:]]' OR NOT ({0} "
                         "REGEXP '^[^.]+([.][^.]+)+$'))",
                         name);
  }
  return name + " IS NOT NULL";
}

}  // namespace

std::vector<std::pair<std::string, std::string>> profile_dirty(const ContactPolicy& policy) {
  std::vector<std::pair<std::string, std::string>> conditions;
  for (const ColumnPlan& plan : policy.columns) {
    const std::string name = "l." + quote_identifier(plan.column);
    switch (plan.action) {
      case Action::kKeep:
        break;
      case Action::kDelete:
        // A NOT NULL column (one no lead_fields row describes) is cleared to its default.
        conditions.emplace_back(plan.column, !plan.clears_to_default
                                                 ? name + " IS NOT NULL"
                                                 : fmt::format("NOT ({0} <=> DEFAULT({0}))", name));
        break;
      case Action::kGeneralize:
        conditions.emplace_back(plan.column, not_generalized_sql(*plan.generalizer, name));
        break;
      case Action::kHash:
        // (?-i): digests are lowercase hex; the column's collation would ignore case.
        conditions.emplace_back(
            plan.column,
            fmt::format("{0} IS NOT NULL AND NOT ({0} REGEXP '(?-i)^[0-9a-f]{{64}}$'){1}", name,
                        !plan.clears_to_default
                            ? ""
                            : fmt::format(" AND NOT ({0} <=> DEFAULT({0}))", name)));
        break;
    }
  }
  return conditions;
}

}  // namespace mgdpr::mautic
