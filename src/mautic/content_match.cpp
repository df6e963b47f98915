// SPDX-License-Identifier: GPL-3.0-or-later
#include "mautic/content_match.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <set>

#include "core/scrub.h"

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

Result<PayloadRows> rows_naming_contacts(db::Connection& connection, const Schema& schema,
                                         const std::string& table, const ContactSet& contacts,
                                         const KeyRange& range) {
  const bool compressed = schema.column(table, "payload_compressed") != nullptr;
  std::string sql = fmt::format("SELECT id, payload{} FROM {}",
                                compressed ? ", payload_compressed" : "", schema.table(table));
  std::vector<Param> params;
  if (range.above) {
    sql += " WHERE id > ?";
    params.emplace_back(*range.above);
    if (range.up_to) {
      sql += " AND id <= ?";
      params.emplace_back(*range.up_to);
    }
  }
  MGDPR_ASSIGN_OR_RETURN(auto rows, connection.query(sql, params));
  // Row id -> contact ids its payload names.
  std::map<std::string, std::set<int64_t>> mentions;
  std::set<int64_t> mentioned;
  PayloadRows found;
  for (const auto& row : rows.rows) {
    if (!row[0]) continue;
    std::optional<std::string> text = row[1];
    std::string_view column = "payload";
    Status readable;
    if (!text && compressed && row[2]) {
      column = "payload_compressed";
      auto inflated = zlib_decompress(*row[2]);
      if (inflated) {
        text = std::move(*inflated);
      } else {
        readable = inflated.error();
      }
    }
    std::set<int64_t> ids;
    if (text) {
      auto named = contact_ids_in_payload(*text);
      if (named) {
        ids = std::move(*named);
      } else {
        readable = named.error();
      }
    }
    if (!readable) {
      found.unreadable.push_back({table, *row[0],
                                  fmt::format("{}: {}", column, readable.error().message),
                                  std::string(kUnhandledLeft)});
    }
    if (ids.empty()) continue;
    mentioned.insert(ids.begin(), ids.end());
    mentions[*row[0]] = std::move(ids);
  }
  if (mentions.empty()) return found;

  // Which of the mentioned contacts are in the set.
  std::vector<Param> check_params(mentioned.begin(), mentioned.end());
  check_params.insert(check_params.end(), contacts.params.begin(), contacts.params.end());
  MGDPR_ASSIGN_OR_RETURN(
      auto ours, connection.query(fmt::format("SELECT id FROM {} WHERE id IN ({}) AND id IN {}",
                                              schema.table("leads"),
                                              db::placeholders(mentioned.size()), contacts.sql),
                                  check_params));
  std::set<int64_t> targets;
  for (const auto& row : ours.rows) targets.insert(db::cell_to_int(row[0]).value_or(0));
  for (const auto& [row_id, ids] : mentions) {
    if (std::any_of(ids.begin(), ids.end(), [&](int64_t id) { return targets.contains(id); })) {
      found.keys.push_back(row_id);
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
