// SPDX-License-Identifier: GPL-3.0-or-later
#include "mautic/contact_policy.h"

#include <algorithm>
#include <cctype>
#include <optional>

#include "core/hashing.h"

namespace mgdpr::mautic {

namespace {

// Columns of leads that are not contact fields but still matter. One table, read by
// resolve_contact_policy; ARCHITECTURE.md describes the same rows.
struct FixedColumn {
  std::string_view column;
  Action action;
  std::string_view why;
};

constexpr FixedColumn kFixedColumns[] = {
    {"preferred_profile_image", Action::kDelete, "a Gravatar URL embeds the MD5 of the email"},
    {"social_cache", Action::kDelete, "serialized social profiles of the person"},
    {"internal", Action::kDelete, "serialized internal data that can hold personal values"},
    // Statistics that stay, and that keep Mautic's cleanup of unidentified contacts away.
    {"points", Action::kKeep, "statistics (score); Mautic needs it"},
    {"date_identified", Action::kKeep, "statistics; Mautic deletes unidentified contacts"},
    {"date_added", Action::kKeep, "statistics"},
    {"stage_id", Action::kKeep, "statistics"},
    {"owner_id", Action::kKeep, "statistics"},
};

// Mautic's own bookkeeping columns of leads (no contact field, nothing of the person's):
// kept, and not listed.
constexpr std::string_view kMauticColumns[] = {"id",
                                               "is_published",
                                               "created_by",
                                               "created_by_user",
                                               "date_modified",
                                               "modified_by",
                                               "modified_by_user",
                                               "checked_out",
                                               "checked_out_by",
                                               "checked_out_by_user",
                                               "generated_email_domain"};

bool same_name(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

const FixedColumn* fixed_column(std::string_view column) {
  for (const auto& fixed : kFixedColumns) {
    if (same_name(fixed.column, column)) return &fixed;
  }
  return nullptr;
}

bool is_mautic_column(std::string_view column) {
  return std::any_of(std::begin(kMauticColumns), std::end(kMauticColumns),
                     [&](std::string_view name) { return same_name(name, column); });
}

// Why a column no lead_fields row describes must stay as it is, or nullopt when it may be
// cleared like a field: Mautic (or the plugin that added it) needs it, or it cannot hold a
// person's data.
std::optional<std::string> must_keep(const ColumnInfo& column, const Schema& schema) {
  std::string lower = column.name;
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return char(std::tolower(c)); });
  if (column.generated) return "a generated column: MariaDB computes it from other columns";
  if (lower == "uuid" || lower.ends_with("_uuid") || lower == "guid") {
    return "an identifier (Mautic 6 adds uuid to leads), not personal data; Mautic needs it";
  }
  if (schema.foreign_key("leads", column.name) != nullptr) {
    return "a foreign key: it points at another table's row";
  }
  if (schema.in_unique_key("leads", column.name)) {
    return "part of a unique key: Mautic or a plugin finds the contact by it";
  }
  if (!column.nullable && !column.has_default) {
    return "NOT NULL without a default: clearing it would break Mautic's next save of the "
           "contact";
  }
  return std::nullopt;
}

const FieldRule* rule_for(const Config& config, std::string_view column) {
  for (const auto& rule : config.fields) {
    if (same_name(rule.alias, column)) return &rule;
  }
  return nullptr;
}

bool hash_fits(const ColumnInfo& column) {
  return column.is_text() && column.max_length.value_or(0) >= int64_t(kDigestHexLength);
}

// The action [policy.fields] gives the column, or the policy default; a default of hash applies
// only where a hash fits, elsewhere the value is deleted. `note` is added to the origin.
void choose_action(ColumnPlan& plan, const Config& config, bool hash_possible,
                   std::string_view note) {
  if (const FieldRule* rule = rule_for(config, plan.column)) {
    plan.action = rule->action;
    plan.generalizer = rule->generalizer;
    plan.origin = fmt::format("policy.fields{}", note);
    return;
  }
  plan.action = config.default_action;
  plan.origin = fmt::format("policy.default{}", note);
  if (plan.action == Action::kHash && !hash_possible) {
    plan.action = Action::kDelete;
    plan.origin = fmt::format("policy.default{} (hash does not fit: deleted)", note);
  }
}

}  // namespace

bool field_type_is_hashable(std::string_view mautic_type) {
  static constexpr std::string_view kNotHashable[] = {"number", "date", "datetime", "time",
                                                     "boolean"};
  return std::find(std::begin(kNotHashable), std::end(kNotHashable), mautic_type) ==
         std::end(kNotHashable);
}

std::string ColumnPlan::cleared(std::string_view column_sql) const {
  return clears_to_default ? fmt::format("DEFAULT({})", column_sql) : "NULL";
}

std::string ColumnPlan::action_text() const {
  return generalizer ? generalizer->name() : std::string(action_name(action));
}

std::vector<const ColumnPlan*> ContactPolicy::computed() const {
  std::vector<const ColumnPlan*> matching;
  for (const auto& plan : columns) {
    if (plan.action == Action::kHash || plan.action == Action::kGeneralize) {
      matching.push_back(&plan);
    }
  }
  return matching;
}

std::vector<const ColumnPlan*> ContactPolicy::with_action(Action action) const {
  std::vector<const ColumnPlan*> matching;
  for (const auto& plan : columns) {
    if (plan.action == action) matching.push_back(&plan);
  }
  return matching;
}

const ColumnPlan* ContactPolicy::find(std::string_view column) const {
  for (const auto& plan : columns) {
    if (same_name(plan.column, column)) return &plan;
  }
  return nullptr;
}

ContactPolicy build_contact_policy(const Config& config, const Schema& schema) {
  ContactPolicy policy;
  std::vector<std::string>& problems = policy.problems;
  std::vector<std::string> aliases;
  for (const auto& field : schema.contact_fields()) aliases.push_back(field.alias);

  const std::string legacy_field = config.legacy ? config.legacy->md5_field : std::string();
  for (const auto& rule : config.fields) {
    std::string where = config.where("policy.fields." + rule.alias);
    const ContactField* field = schema.contact_field(rule.alias);
    if (field == nullptr) {
      // A column no lead_fields row describes may be named by its column name.
      const ColumnInfo* column = schema.column("leads", rule.alias);
      if (column != nullptr && fixed_column(rule.alias) == nullptr &&
          !is_mautic_column(rule.alias)) {
        if (auto reason = must_keep(*column, schema); reason && rule.action != Action::kKeep) {
          problems.push_back(fmt::format("{}: column `{}` is always kept ({}); remove this line",
                                         where, rule.alias, *reason));
        } else if (rule.action == Action::kHash && !hash_fits(*column)) {
          problems.push_back(fmt::format(
              "{}: column `{}`.`{}` is {} and cannot hold a {}-character hash; write {} = "
              "\"delete\" or \"keep\"",
              where, schema.table_name("leads"), rule.alias, column->column_type, kDigestHexLength,
              rule.alias));
        }
        continue;
      }
      if (column != nullptr) {
        problems.push_back(
            fmt::format("{}: `{}` is Mautic's own column of {}, not the person's "
                        "data; remove this line",
                        where, rule.alias, schema.table_name("leads")));
        continue;
      }
      auto suggestion = did_you_mean(rule.alias, aliases);
      problems.push_back(fmt::format(
          "{}: `{}` is not a contact field of this Mautic (no alias `{}` in {} with object "
          "'lead'); {}",
          where, rule.alias, rule.alias, schema.table_name("lead_fields"),
          suggestion ? fmt::format("did you mean `{}`?", *suggestion)
                     : "run `mautic-gdpr check` to list the fields"));
      continue;
    }
    if (rule.generalizer && !accepts_field_type(rule.generalizer->kind, field->type)) {
      const std::string fitting = generalizers_for_field_type(field->type);
      problems.push_back(fmt::format(
          "{}: `{}` is a {} field and {} applies to {}; {}", where, rule.alias, field->type,
          rule.generalizer->name(), accepted_field_types(rule.generalizer->kind),
          fitting.empty()
              ? fmt::format("no generalizer fits a {} field: write {} = \"delete\" or \"keep\"",
                            field->type, rule.alias)
              : fmt::format("for a {} field write {} = {}", field->type, rule.alias, fitting)));
      continue;
    }
    if (rule.action == Action::kHash && !field_type_is_hashable(field->type)) {
      problems.push_back(fmt::format(
          "{}: `{}` is a {} field and cannot hold a hash; write {} = \"delete\" or \"keep\"",
          where, rule.alias, field->type, rule.alias));
      continue;
    }
    if (rule.action == Action::kHash && field->column) {
      const ColumnInfo& column = *field->column;
      if (!hash_fits(column)) {
        problems.push_back(fmt::format(
            "{}: column `{}`.`{}` is {} and cannot hold a {}-character hash; widen the field in "
            "Mautic (at least {} characters) or write {} = \"delete\"",
            where, schema.table_name("leads"), rule.alias, column.column_type, kDigestHexLength,
            kDigestHexLength, rule.alias));
      }
    }
    if (const FixedColumn* fixed = fixed_column(rule.alias);
        fixed != nullptr && fixed->action != rule.action) {
      problems.push_back(fmt::format("{}: `{}` is always {} ({}); remove this line", where,
                                     rule.alias, action_name(fixed->action), fixed->why));
    }
    if (rule.generalizer && field->column && !field->column->nullable) {
      problems.push_back(fmt::format(
          "{}: column `{}`.`{}` is NOT NULL, and a value {} cannot generalize (malformed or "
          "empty) must become NULL; write {} = \"keep\"",
          where, schema.table_name("leads"), rule.alias, rule.generalizer->name(), rule.alias));
    }
  }

  if (!legacy_field.empty() && schema.column("leads", legacy_field) == nullptr) {
    problems.push_back(fmt::format(
        "{}: there is no column `{}` in `{}` for the legacy plugin's hashes; write the alias "
        "of the field the LeadEngine GDPR plugin used (usually md5_field = \"email_hash\")",
        config.where("legacy.md5_field"), legacy_field, schema.table_name("leads")));
  }

  const std::vector<ColumnInfo>* lead_columns = schema.columns("leads");
  for (const ColumnInfo& column : *lead_columns) {
    if (is_mautic_column(column.name)) continue;  // Mautic's bookkeeping
    ColumnPlan plan;
    plan.column = column.name;
    plan.sql_type = column.column_type;
    if (!column.nullable) plan.clears_to_default = true;
    if (const FixedColumn* fixed = fixed_column(column.name)) {
      plan.action = fixed->action;
      plan.origin = std::string(fixed->why);
    } else if (const ContactField* field = schema.contact_field(column.name)) {
      plan.field_type = field->type;
      plan.kind = value_kind_for_field_type(field->type);
      if (column.name == legacy_field) {
        plan.action = Action::kKeep;
        plan.origin = "legacy.md5_field: already a hash from the LeadEngine GDPR plugin";
      } else {
        choose_action(plan, config, field_type_is_hashable(field->type) && hash_fits(column), "");
      }
    } else {
      // No lead_fields row: a plugin's column, or one of a Mautic version we have not seen.
      plan.unknown = true;
      if (auto reason = must_keep(column, schema)) {
        plan.action = Action::kKeep;
        plan.origin = "kept: " + *reason;
      } else {
        choose_action(plan, config, hash_fits(column), " (no lead_fields row)");
      }
      policy.columns.push_back(std::move(plan));
      continue;
    }
    if (plan.action == Action::kDelete && !column.nullable) {
      problems.push_back(fmt::format(
          "{}: column `{}`.`{}` is NOT NULL and cannot be deleted; write {} = \"keep\" under "
          "[policy.fields]",
          config.where("policy.fields." + column.name), schema.table_name("leads"), column.name,
          column.name));
    }
    policy.columns.push_back(std::move(plan));
  }
  if (policy.with_action(Action::kHash).empty()) {
    policy.warnings.push_back(
        "no field is hashed: `lookup` will find nobody; write email = \"hash\" under "
        "[policy.fields]");
  }
  std::string canonical;
  for (const auto& plan : policy.columns) {
    canonical += fmt::format("{}={};", plan.column, plan.action_text());
  }
  policy.fingerprint = sha256_hex(canonical);
  return policy;
}

Result<ContactPolicy> resolve_contact_policy(const Config& config, const Schema& schema) {
  ContactPolicy policy = build_contact_policy(config, schema);
  if (policy.problems.empty()) return policy;
  std::string joined;
  for (const auto& problem : policy.problems) joined += (joined.empty() ? "" : "\n") + problem;
  return Error{joined, ErrorKind::kConfig};
}

}  // namespace mgdpr::mautic
