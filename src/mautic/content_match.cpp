// SPDX-License-Identifier: GPL-3.0-or-later
#include "mautic/content_match.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <set>

#include "mautic/content_ids.h"

namespace mgdpr::mautic {

using db::Param;
using db::quote_identifier;

std::vector<std::string> email_shaped_words(std::string_view text) {
  auto is_address_char = [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '_' || c == '%' || c == '+' || c == '-' || c == '@';
  };
  std::vector<std::string> words;
  size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && !is_address_char(text[i])) ++i;
    size_t start = i;
    while (i < text.size() && is_address_char(text[i])) ++i;
    std::string_view word = text.substr(start, i - start);
    while (!word.empty() && word.back() == '.') word.remove_suffix(1);
    auto at = word.find('@');
    if (at != std::string_view::npos && at > 0 && at + 1 < word.size() &&
        word.find('@', at + 1) == std::string_view::npos) {
      words.emplace_back(word);
    }
  }
  return words;
}

Result<std::set<int64_t>> members_of(db::Connection& connection, const Schema& schema,
                                     std::span<const int64_t> ids, const ContactSet& contacts) {
  constexpr size_t kIdsPerQuery = 1000;
  std::set<int64_t> members;
  for (size_t first = 0; first < ids.size(); first += kIdsPerQuery) {
    const size_t count = std::min(kIdsPerQuery, ids.size() - first);
    std::vector<Param> params;
    std::vector<std::string> selects;
    for (int64_t id : ids.subspan(first, count)) {
      params.emplace_back(id);
      selects.emplace_back("SELECT ? AS id");
    }
    const std::string condition = contact_condition("d.id", contacts, schema, params);
    MGDPR_ASSIGN_OR_RETURN(
        auto rows, connection.query(fmt::format("SELECT d.id FROM ({}) d WHERE {}",
                                                db::join(selects, " UNION ALL "), condition),
                                    params));
    for (const auto& row : rows.rows) members.insert(db::cell_to_int(row[0]).value_or(0));
  }
  return members;
}

Result<PayloadRows> rows_naming_contacts(db::Connection& connection, const Schema& schema,
                                         const Location& location, const std::string& table,
                                         const ContactSet& contacts, const KeyRange& range) {
  const std::string key = "t." + quote_identifier(location.key_column);
  std::vector<std::string> selected = {key, "t." + quote_identifier(location.link_column)};
  // Mautic 5 queues webhooks zlib-compressed, with the plain payload NULL.
  const bool compressed = location.payload == Payload::kWebhookJson &&
                          schema.column(table, "payload_compressed") != nullptr;
  if (compressed) selected.emplace_back("t.payload_compressed");
  std::vector<Param> params;
  const std::string in_range = range_condition(range, params);
  MGDPR_ASSIGN_OR_RETURN(auto rows, connection.query(fmt::format("SELECT {} FROM {} t WHERE TRUE{}",
                                                                 db::join(selected, ", "),
                                                                 schema.table(table), in_range),
                                                     params));
  // Row key -> contact ids its content names. Content that cannot be read names nobody.
  std::map<std::string, std::set<int64_t>> mentions;
  std::set<int64_t> mentioned;
  PayloadRows found;
  for (const auto& row : rows.rows) {
    if (!row[0]) continue;
    auto ids = contact_ids_in(location.payload, row[1],
                              compressed ? row[2] : std::optional<std::string>());
    if (!ids) {
      // Whose it is cannot be told: named (outcome "left"), never guessed.
      const std::string_view column =
          !row[1] && compressed ? std::string_view("payload_compressed")
                                : std::string_view(location.link_column);
      found.unreadable.push_back({table, *row[0], fmt::format("{}: {}", column, ids.error().message),
                                  std::string(kUnhandledLeft)});
      continue;
    }
    if (ids->empty()) continue;
    mentioned.insert(ids->begin(), ids->end());
    mentions[*row[0]] = std::move(*ids);
  }
  if (mentions.empty()) return found;

  const std::vector<int64_t> all(mentioned.begin(), mentioned.end());
  MGDPR_ASSIGN_OR_RETURN(auto targets, members_of(connection, schema, all, contacts));
  for (const auto& [row_key, ids] : mentions) {
    if (std::any_of(ids.begin(), ids.end(), [&](int64_t id) { return targets.contains(id); })) {
      found.keys.push_back(row_key);
    }
  }
  return found;
}

Result<std::vector<std::string>> rows_naming_processed_addresses(
    db::Connection& connection, const Schema& schema, const Location& location,
    const std::string& table, const EmailDigest& digest, const KeyRange& range) {
  std::vector<std::string> keys;
  if (!digest || !schema.has_table("gdpr_hashes")) return keys;
  const std::string column = quote_identifier(location.link_column);
  const std::string key = quote_identifier(location.key_column);
  MGDPR_ASSIGN_OR_RETURN(
      auto rows,
      connection.query(fmt::format("SELECT {}, {} FROM {} WHERE {} > ? AND {} <= ? AND {} LIKE "
                                   "'%@%'",
                                   key, column, schema.table(table), key, key, column),
                       {range.above.value_or(0), range.up_to.value_or(INT64_MAX)}));
  std::map<std::string, std::vector<std::string>> rows_by_digest;
  for (const auto& row : rows.rows) {
    if (!row[0] || !row[1]) continue;
    for (const std::string& word : email_shaped_words(*row[1])) {
      for (const std::string& made : digest(word)) rows_by_digest[made].push_back(*row[0]);
    }
  }
  if (rows_by_digest.empty()) return keys;
  std::vector<Param> digests;
  for (const auto& entry : rows_by_digest) digests.emplace_back(entry.first);
  // Only the addresses of processed contacts still on do-not-contact: one who came back by
  // choice is no longer someone who left.
  const ContactSet processed = ContactSet::processed(schema);
  digests.insert(digests.end(), processed.params.begin(), processed.params.end());
  MGDPR_ASSIGN_OR_RETURN(
      auto known,
      connection.query(
          fmt::format("SELECT DISTINCT digest FROM {} WHERE field = 'email' AND "
                      "digest IN ({}) AND contact_id IN {}",
                      schema.table("gdpr_hashes"),
                      db::placeholders(digests.size() - processed.params.size()), processed.sql),
          digests));
  std::set<std::string> found;
  for (const auto& row : known.rows) {
    for (const auto& row_key : rows_by_digest[row[0].value_or("")]) found.insert(row_key);
  }
  keys.assign(found.begin(), found.end());
  return keys;
}

}  // namespace mgdpr::mautic
