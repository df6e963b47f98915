// SPDX-License-Identifier: GPL-3.0-or-later
// The policy resolved against the live schema: for every column of {prefix}leads that can
// hold personal data, what the sweep does with it and why. Built once; the sweep, plan,
// check and lookup all read this one plan.
#pragma once

#include <string>
#include <vector>

#include "core/config.h"
#include "core/normalize.h"
#include "core/policy.h"
#include "core/result.h"
#include "mautic/schema.h"

namespace mgdpr::mautic {

struct ColumnPlan {
  std::string column;      // column of {prefix}leads (the field's alias, maybe in another case)
  std::string field_type;  // Mautic field type; "" for columns that are not contact fields
  std::string sql_type;    // the live column type, e.g. "varchar(191)"
  Action action = Action::kDelete;
  std::optional<Generalizer> generalizer;  // set when action is kGeneralize
  ValueKind kind = ValueKind::kText;  // normalization used when hashing
  std::string origin;  // why: "policy.fields", "policy.default", or a fixed rule's reason

  // The action as the config writes it: "hash", "year", "prefix:3".
  std::string action_text() const;
  // No lead_fields row describes the column: a plugin's, or a Mautic version's we have not
  // seen. It gets the policy default unless [policy.fields] names it, or it is kept for a
  // reason Mautic needs (origin says which).
  bool unknown = false;
  // What "delete" writes: NULL, or the column's default where it is NOT NULL.
  bool clears_to_default = false;
  // That value in SQL, for the column as the statement names it (`l.\`email\``): a bare
  // DEFAULT(name) would be ambiguous in an UPDATE that joins another table.
  std::string cleared(std::string_view column_sql) const;
};

struct ContactPolicy {
  std::vector<ColumnPlan> columns;
  // SHA-256 over the resolved column actions: recorded per processed contact so a DPO can
  // tell which policy processed it.
  std::string fingerprint;
  std::vector<std::string> warnings;
  // `file:line: problem; fix` lines; a policy with problems must not run.
  std::vector<std::string> problems;

  std::vector<const ColumnPlan*> with_action(Action action) const;
  // The columns whose new value is computed from the old one (hash, generalize), in plan
  // order: what the engine reads before it rewrites a profile.
  std::vector<const ColumnPlan*> computed() const;
  // By column name, without case (as MariaDB compares column names).
  const ColumnPlan* find(std::string_view column) const;
};

// The plan with every problem found: unknown alias (did-you-mean), hash on a non-text field, a
// column too short for a digest, a generalizer on a field type it does not fit, delete or a
// generalizer on a column Mautic needs (NOT NULL). `check` prints both.
ContactPolicy build_contact_policy(const Config& config, const Schema& schema);

// The plan, or an error holding the problems, one per line.
Result<ContactPolicy> resolve_contact_policy(const Config& config, const Schema& schema);

// Mautic field types whose values cannot hold a 64-character digest.
bool field_type_is_hashable(std::string_view mautic_type);

}  // namespace mgdpr::mautic
