// SPDX-License-Identifier: GPL-3.0-or-later
// Locations whose rows no SQL can tie to a contact: queued webhook payloads (the contact id is
// inside the JSON) and webhook delivery notes (only the address, inside free text).
#include <algorithm>

#include "core/scrub.h"
#include "mautic/related_scrubber.h"

namespace mgdpr::mautic {

using db::Param;
using db::quote_identifier;

Status RelatedScrubber::apply_payloads(const LocationPlan& plan, const std::string& table,
                                       const ContactSet& contacts, const KeyRange& range,
                                       TableCounts& changed) {
  const bool compressed = schema_.column(table, "payload_compressed") != nullptr;
  std::string sql = fmt::format("SELECT id, payload{} FROM {}",
                                compressed ? ", payload_compressed" : "", schema_.table(table));
  std::vector<Param> params;
  if (range.above) {
    sql += " WHERE id > ?";
    params.emplace_back(*range.above);
    if (range.up_to) {
      sql += " AND id <= ?";
      params.emplace_back(*range.up_to);
    }
  }
  MGDPR_ASSIGN_OR_RETURN(auto rows, connection_.query(sql, params));
  // Row id -> contact ids its payload names.
  std::map<std::string, std::set<int64_t>> mentions;
  std::set<int64_t> mentioned;
  for (const auto& row : rows.rows) {
    std::optional<std::string> text = row[1];
    if (!text && compressed && row[2]) {
      auto inflated = zlib_decompress(*row[2]);
      if (inflated) text = std::move(*inflated);
    }
    if (!text) continue;
    auto ids = contact_ids_in_payload(*text);
    if (!ids || ids->empty()) continue;
    mentioned.insert(ids->begin(), ids->end());
    mentions[*row[0]] = std::move(*ids);
  }
  if (mentions.empty()) return {};

  // Which of the mentioned contacts are the ones this pass is about.
  std::vector<Param> check_params;
  for (int64_t id : mentioned) check_params.emplace_back(id);
  check_params.insert(check_params.end(), contacts.params.begin(), contacts.params.end());
  MGDPR_ASSIGN_OR_RETURN(
      auto ours, connection_.query(fmt::format("SELECT id FROM {} WHERE id IN ({}) AND id IN {}",
                                               schema_.table("leads"),
                                               db::placeholders(mentioned.size()), contacts.sql),
                                   check_params));
  std::set<int64_t> targets;
  for (const auto& row : ours.rows) targets.insert(db::cell_to_int(row[0]).value_or(0));
  std::vector<Param> row_ids;
  for (const auto& [row_id, ids] : mentions) {
    if (std::any_of(ids.begin(), ids.end(), [&](int64_t id) { return targets.contains(id); })) {
      row_ids.push_back(db::key_param(row_id));
    }
  }
  if (row_ids.empty()) return {};
  const RowSelection queued{schema_.table(table) + " t",
                            fmt::format("t.id IN ({})", db::placeholders(row_ids.size())), row_ids};
  if (plan.action == RowAction::kDelete) {
    MGDPR_ASSIGN_OR_RETURN(
        auto deleted,
        connection_.execute(fmt::format("DELETE t FROM {} WHERE {}", queued.from, queued.where),
                            queued.params));
    changed[table] += deleted;
    return {};
  }
  std::vector<const ColumnRule*> rules;
  for (const ColumnRule& rule : plan.location->columns) {
    if (schema_.column(table, rule.column) != nullptr) rules.push_back(&rule);
  }
  MGDPR_ASSIGN_OR_RETURN(auto staged, stage_structured(table, "id", rules, queued, nullptr));
  return write_rows(table, "id", rules, staged, queued, {}, changed);
}

Status RelatedScrubber::apply_email_match(const LocationPlan& plan, const std::string& table,
                                          std::span<const ContactIdentity> contacts,
                                          TableCounts& changed) {
  std::vector<Param> emails;
  std::vector<std::string> conditions;
  const std::string column = quote_identifier(plan.location->link_column);
  for (const auto& contact : contacts) {
    if (!contact.email || contact.email->find('@') == std::string::npos) continue;
    emails.emplace_back(*contact.email);
    conditions.push_back(fmt::format("LOCATE(?, {}) > 0", column));
  }
  if (emails.empty()) return {};
  const std::string statement =
      plan.action == RowAction::kDelete
          ? fmt::format("DELETE FROM {} WHERE {}", schema_.table(table),
                        db::join(conditions, " OR "))
          : fmt::format("UPDATE {} SET {} = NULL WHERE {}", schema_.table(table), column,
                        db::join(conditions, " OR "));
  MGDPR_ASSIGN_OR_RETURN(auto done, connection_.execute(statement, emails));
  changed[table] += done;
  return {};
}

}  // namespace mgdpr::mautic
