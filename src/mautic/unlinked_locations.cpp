// SPDX-License-Identifier: GPL-3.0-or-later
// Locations whose rows no SQL can tie to a contact: contact ids inside the content (queued
// webhook payloads and messenger messages, links in notifications) and webhook delivery notes
// (only the address, inside free text). Which rows they are is content_match.h's job; here
// they are deleted or scrubbed.
#include "mautic/related_scrubber.h"

namespace mgdpr::mautic {

using db::Param;
using db::quote_identifier;

Status RelatedScrubber::apply_to_keys(const LocationPlan& plan, const std::string& table,
                                      const std::vector<std::string>& keys, TableCounts& changed) {
  if (keys.empty()) return {};
  std::vector<Param> params;
  for (const auto& key : keys) params.push_back(db::key_param(key));
  const RowSelection rows{
      schema_.table(table) + " t",
      fmt::format("t.{} IN ({})", quote_identifier(plan.location->key_column),
                  db::placeholders(params.size())),
      params};
  if (plan.action == RowAction::kDelete) {
    MGDPR_ASSIGN_OR_RETURN(
        auto deleted, connection_.execute(
                          fmt::format("DELETE t FROM {} WHERE {}", rows.from, rows.where), rows.params));
    changed[table] += deleted;
    return {};
  }
  // Scrub: plain columns cleared, structured ones rewritten, in one UPDATE.
  RowUpdate update;
  std::vector<const ColumnRule*> structured;
  for (const ColumnRule& rule : plan.location->columns) {
    const ColumnInfo* column = schema_.column(table, rule.column);
    if (column == nullptr) continue;
    if (rule.scrub != ColumnScrub::kClear) {
      structured.push_back(&rule);
    } else if (column->nullable || column->is_text()) {
      update.sets.push_back(fmt::format("t.{} = {}", quote_identifier(column->name),
                                        column->nullable ? "NULL" : "''"));
    }
  }
  bool staged = false;
  if (!structured.empty()) {
    MGDPR_ASSIGN_OR_RETURN(
        staged, stage_structured(table, std::string(plan.location->key_column), structured, rows,
                                 nullptr));
  }
  return write_rows(table, std::string(plan.location->key_column), structured, staged, rows,
                    std::move(update), changed);
}

Status RelatedScrubber::apply_email_match(const LocationPlan& plan, const std::string& table,
                                          std::span<const ContactIdentity> contacts,
                                          TableCounts& changed) {
  std::vector<std::string> emails;
  for (const auto& contact : contacts) {
    if (contact.email && contact.email->find('@') != std::string::npos) {
      emails.push_back(*contact.email);
    }
  }
  if (emails.empty()) return {};
  const RowSelection rows = rows_naming(*plan.location, table, schema_, emails);
  const std::string statement =
      plan.action == RowAction::kDelete
          ? fmt::format("DELETE t FROM {} WHERE {}", rows.from, rows.where)
          : fmt::format("UPDATE {} SET t.{} = NULL WHERE {}", rows.from,
                        quote_identifier(plan.location->link_column), rows.where);
  MGDPR_ASSIGN_OR_RETURN(auto done, connection_.execute(statement, rows.params));
  changed[table] += done;
  return {};
}

}  // namespace mgdpr::mautic
