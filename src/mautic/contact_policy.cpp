// SPDX-License-Identifier: GPL-3.0-or-later
#include "mautic/contact_policy.h"

#include <algorithm>

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

const FixedColumn* fixed_column(std::string_view column) {
  for (const auto& fixed : kFixedColumns) {
    if (fixed.column == column) return &fixed;
  }
  return nullptr;
}

}  // namespace

bool field_type_is_hashable(std::string_view mautic_type) {
  static constexpr std::string_view kNotHashable[] = {"number", "date", "datetime", "time",
                                                     "boolean"};
  return std::find(std::begin(kNotHashable), std::end(kNotHashable), mautic_type) ==
         std::end(kNotHashable);
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
    if (plan.column == column) return &plan;
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
      bool long_enough =
          column.is_text() && column.max_length.value_or(0) >= int64_t(kDigestHexLength);
      if (!long_enough) {
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
    if (column.generated) continue;  // MariaDB computes it from the columns we change
    ColumnPlan plan;
    plan.column = column.name;
    plan.sql_type = column.column_type;
    if (const FixedColumn* fixed = fixed_column(column.name)) {
      plan.action = fixed->action;
      plan.origin = std::string(fixed->why);
    } else if (const ContactField* field = schema.contact_field(column.name)) {
      plan.field_type = field->type;
      plan.kind = value_kind_for_field_type(field->type);
      if (column.name == legacy_field) {
        plan.action = Action::kKeep;
        plan.origin = "legacy.md5_field: already a hash from the LeadEngine GDPR plugin";
      } else if (const FieldRule* rule = config.rule_for(column.name)) {
        plan.action = rule->action;
        plan.generalizer = rule->generalizer;
        plan.origin = "policy.fields";
      } else {
        plan.action = config.default_action;
        plan.origin = "policy.default";
        // A default of hash applies only where a hash fits; elsewhere the value is deleted.
        if (plan.action == Action::kHash &&
            (!field_type_is_hashable(field->type) || !column.is_text() ||
             column.max_length.value_or(0) < int64_t(kDigestHexLength))) {
          plan.action = Action::kDelete;
          plan.origin = "policy.default (hash does not fit this field: deleted)";
        }
      }
    } else {
      continue;  // bookkeeping columns (id, is_published, created_by_user, ...)
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
