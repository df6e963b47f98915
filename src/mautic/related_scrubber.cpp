// SPDX-License-Identifier: GPL-3.0-or-later
#include "mautic/related_scrubber.h"

#include <algorithm>

#include "core/scrub.h"
#include "mautic/own_tables.h"

namespace mgdpr::mautic {

using db::Param;
using db::quote_identifier;

namespace {

// Rows at most this far below a watermark are looked at again: an insert that committed after
// a later one (InnoDB hands out ids at insert, not at commit) is still found.
constexpr int64_t kWatermarkOverlap = 1000;
// The same for a time watermark: rows stamped up to this many seconds before it.
constexpr int64_t kTimeOverlapSeconds = 600;
// Ids per transaction when late rows are looked for (see scrub_late_rows).
constexpr int64_t kLateRowsWindow = 20000;
// Rows per INSERT when scrubbed structured values are staged.
constexpr size_t kRowsPerWrite = 500;
constexpr std::string_view kPlaceholderIp = "0.0.0.0";
// Where scrubbed structured values wait for the UPDATE that joins them in: a temporary table,
// private to the connection, dropped after each use.
constexpr std::string_view kScratchTable = "`mgdpr_scrubbed_values`";

// The scrubbed form of one structured value. A value that cannot be parsed cannot be
// scrubbed: it is cleared instead (NULL, or the empty value where NULL is not allowed), never
// kept.
std::optional<std::string> scrubbed_value(const ColumnRule& rule, const ColumnInfo& column,
                                          const std::string& value) {
  Result<std::string> scrubbed = Error{};
  switch (rule.scrub) {
    case ColumnScrub::kPhpSerialized:
      scrubbed = scrub_php_serialized(value);
      break;
    case ColumnScrub::kJson:
      scrubbed = scrub_json(value);
      break;
    case ColumnScrub::kCompressedJson: {
      auto text = zlib_decompress(value);
      scrubbed = text ? scrub_json(*text) : Result<std::string>(text.error());
      if (scrubbed) scrubbed = zlib_compress(*scrubbed);
      break;
    }
    case ColumnScrub::kClear:
      break;
  }
  if (scrubbed) return std::move(*scrubbed);
  if (column.nullable) return std::nullopt;
  return std::string(rule.scrub == ColumnScrub::kJson ? "{}" : "");
}

bool is_integer_column(const ColumnInfo* column) {
  if (column == nullptr) return false;
  static const std::set<std::string, std::less<>> kIntegers = {"tinyint", "smallint", "mediumint",
                                                               "int", "bigint"};
  return kIntegers.contains(column->data_type);
}

Param key_param(const std::string& key) {
  auto as_int = db::cell_to_int(key);
  return as_int ? Param(*as_int) : Param(key);
}

// The form results tables Mautic creates per form: form_results_<form id>_<alias>.
bool is_form_results_table(std::string_view name) {
  constexpr std::string_view kStem = "form_results_";
  if (!name.starts_with(kStem)) return false;
  auto rest = name.substr(kStem.size());
  auto underscore = rest.find('_');
  return underscore != std::string_view::npos && underscore > 0 &&
         std::all_of(rest.begin(), rest.begin() + long(underscore),
                     [](char c) { return c >= '0' && c <= '9'; });
}

// Words of free text that look like an email address: [local]@[domain] with the characters
// addresses use; whatever surrounds them (quotes, brackets, punctuation) is cut off.
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

}  // namespace

RelatedPlan build_related_plan(const Config& config, const Schema& schema) {
  RelatedPlan plan;
  std::vector<std::string> names;
  for (const auto& location : pii_locations()) names.emplace_back(location.name);
  for (const auto& [name, action_word] : config.related) {
    const std::string where = config.where("related." + name);
    const Location* location = find_location(name);
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
      plan.problems.push_back(fmt::format(
          "{}: `{}` is not an action for a location; write {} = \"scrub\", \"delete\" or \"keep\"",
          where, action_word, name));
      continue;
    }
    if (*action == RowAction::kScrub && location->columns.empty() &&
        schema.column(location->name, "ip_id") == nullptr) {
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
    if (location.name == kFormResultsLocation) {
      for (const auto& table : schema.tables()) {
        if (is_form_results_table(table)) entry.tables.push_back(table);
      }
      if (!schema.has_table("form_submissions")) entry.tables.clear();
    } else if (schema.has_table(location.name)) {
      entry.tables.emplace_back(location.name);
    }
    if (entry.tables.empty() && location.name != kFormResultsLocation) {
      plan.missing.emplace_back(location.name);
      continue;
    }
    plan.locations.push_back(std::move(entry));
  }
  return plan;
}

// Which contacts' rows an operation touches: `contacts_sql` is an SQL set of contact ids, e.g.
// "(?, ?)" or "(SELECT contact_id FROM ...)"; with key_floor only rows above it.
struct RelatedScrubber::Filter {
  std::string contacts_sql;
  std::vector<Param> contacts_params;
  std::optional<int64_t> key_floor;
  std::optional<int64_t> key_ceiling;  // with key_floor: only rows up to it (integer keys)
  std::string floor_column;            // the key, or the location's watermark column
  bool floor_is_time = false;          // key_floor is then a Unix time
};

RelatedScrubber::RelatedScrubber(db::Connection& connection, const Schema& schema,
                                 const RelatedPlan& plan, EmailDigest email_digest)
    : connection_(connection),
      schema_(schema),
      plan_(plan),
      email_digest_(std::move(email_digest)) {}

// "FROM <table> t [JOIN parent] WHERE <row belongs to the contacts> [AND key > ?]"
struct RelatedScrubber::RowSelection {
  std::string from;   // "<table> t JOIN ..." (no FROM keyword: UPDATE and DELETE reuse it)
  std::string where;  // without WHERE keyword
  std::vector<Param> params;
};

// Plain assignments of one UPDATE ("t.col = NULL"), with the values they bind, in order.
struct RelatedScrubber::RowUpdate {
  std::vector<std::string> sets;
  std::vector<Param> set_params;
};

RelatedScrubber::RowSelection RelatedScrubber::select_rows(const Location& location,
                                                           const std::string& table,
                                                           const Filter& filter) const {
  const Schema& schema = schema_;
  RowSelection selection;
  selection.from = schema.table(table) + " t";
  const std::string link = "t." + quote_identifier(location.link_column);
  switch (location.link) {
    case Link::kContactColumn:
      selection.where = link + " IN " + filter.contacts_sql;
      break;
    case Link::kEmailStat:
      selection.from += " JOIN " + schema.table("email_stats") + " parent ON parent.id = " + link;
      selection.where = "parent.lead_id IN " + filter.contacts_sql;
      break;
    case Link::kCampaignLog:
      selection.from +=
          " JOIN " + schema.table("campaign_lead_event_log") + " parent ON parent.id = " + link;
      selection.where = "parent.lead_id IN " + filter.contacts_sql;
      break;
    case Link::kFormSubmission:
      selection.from +=
          " JOIN " + schema.table("form_submissions") + " parent ON parent.id = " + link;
      selection.where = "parent.lead_id IN " + filter.contacts_sql;
      break;
    case Link::kWebhookPayload:
    case Link::kNoLink:
      selection.where = "0";  // handled apart: no SQL can tie these rows to a contact
      break;
  }
  selection.params = filter.contacts_params;
  if (!location.kind_column.empty()) {
    selection.where += fmt::format(" AND t.{} IN ({})", quote_identifier(location.kind_column),
                                   db::placeholders(location.kind_values.size()));
    for (auto value : location.kind_values) selection.params.emplace_back(std::string(value));
  }
  if (filter.key_floor) {
    selection.where += fmt::format(" AND t.{} > {}", quote_identifier(filter.floor_column),
                                   filter.floor_is_time ? "FROM_UNIXTIME(?)" : "?");
    selection.params.emplace_back(*filter.key_floor);
  }
  if (filter.key_ceiling) {
    selection.where += fmt::format(" AND t.{} <= ?", quote_identifier(filter.floor_column));
    selection.params.emplace_back(*filter.key_ceiling);
  }
  return selection;
}

Status RelatedScrubber::apply(const LocationPlan& plan, const std::string& table,
                              const Filter& filter, TableCounts& changed) {
  const Location& location = *plan.location;
  if (plan.action == RowAction::kKeep) return {};
  if (location.link == Link::kWebhookPayload) {
    return apply_webhook_queue(plan, table, filter, changed);
  }
  const RowSelection rows = select_rows(location, table, filter);

  // The IPs the rows link are remembered (an IP nobody uses any more goes at the end): read
  // here, or with the structured values below when the table has any.
  const ColumnInfo* ip = schema_.column(table, "ip_id");
  bool links_ips = false;
  auto read_ips = [&]() -> Status {
    auto ips = connection_.query(fmt::format("SELECT DISTINCT t.ip_id FROM {} WHERE {} AND "
                                             "t.ip_id IS NOT NULL",
                                             rows.from, rows.where),
                                 rows.params);
    if (!ips) return ips.error();
    for (const auto& row : ips->rows) touched_ips_.insert(db::cell_to_int(row[0]).value_or(0));
    links_ips = !ips->rows.empty();
    return {};
  };

  if (plan.action == RowAction::kDelete) {
    if (ip != nullptr) MGDPR_TRY(read_ips());
    auto deleted = connection_.execute(
        fmt::format("DELETE t FROM {} WHERE {}", rows.from, rows.where), rows.params);
    if (!deleted) return deleted.error();
    changed[table] += *deleted;
    return {};
  }

  // Scrub: every personal column of every row in one UPDATE (each row is rewritten once).
  RowUpdate update;
  auto clear_expression = [&](const ColumnInfo& column) {
    const std::string name = "t." + quote_identifier(column.name);
    update.sets.push_back(name + (column.nullable ? " = NULL" : " = ''"));
  };
  if (location.name == kFormResultsLocation) {
    for (const ColumnInfo& column : *schema_.columns(table)) {
      if (column.name == "submission_id" || column.name == "form_id") continue;
      if (column.nullable || column.is_text()) clear_expression(column);
    }
  }
  std::vector<const ColumnRule*> structured;
  for (const ColumnRule& rule : location.columns) {
    const ColumnInfo* column = schema_.column(table, rule.column);
    if (column == nullptr) continue;  // not in this Mautic version
    if (rule.scrub == ColumnScrub::kClear) {
      if (column->nullable || column->is_text()) clear_expression(*column);
    } else {
      structured.push_back(&rule);
    }
  }
  bool staged = false;
  if (!structured.empty()) {
    auto values = stage_structured(table, std::string(location.key_column), structured, rows,
                                   ip != nullptr ? &links_ips : nullptr);
    if (!values) return values.error();
    staged = *values;
  } else if (ip != nullptr) {
    MGDPR_TRY(read_ips());
  }
  if (links_ips) {
    // Mautic 4.4 (and databases upgraded from it) have NOT NULL ip_id: point those rows at
    // an anonymous placeholder address instead.
    Param replacement = nullptr;
    if (!ip->nullable) {
      auto placeholder = placeholder_ip();
      if (!placeholder) return placeholder.error();
      replacement = *placeholder;
    }
    update.sets.push_back("t.ip_id = IF(t.ip_id IS NULL, NULL, ?)");
    update.set_params.push_back(replacement);
  }
  return write_rows(table, std::string(location.key_column), structured, staged, rows,
                    std::move(update), changed);
}

Status RelatedScrubber::write_rows(const std::string& table, const std::string& key_column,
                                   const std::vector<const ColumnRule*>& structured, bool staged,
                                   const RowSelection& rows, RowUpdate update,
                                   TableCounts& changed) {
  std::string from = rows.from;
  if (staged) {
    from +=
        fmt::format(" LEFT JOIN {} s ON s.k = t.{}", kScratchTable, quote_identifier(key_column));
    for (size_t c = 0; c < structured.size(); ++c) {
      const std::string name = "t." + quote_identifier(structured[c]->column);
      update.sets.push_back(fmt::format("{} = IF(s.k IS NULL, {}, s.v{})", name, name, c));
    }
  }
  if (!update.sets.empty()) {
    std::vector<Param> params = std::move(update.set_params);
    params.insert(params.end(), rows.params.begin(), rows.params.end());
    auto written = connection_.execute(
        fmt::format("UPDATE {} SET {} WHERE {}", from, db::join(update.sets, ", "), rows.where),
        params);
    if (!written) return written.error();
    changed[table] += *written;
  }
  if (staged) {
    auto dropped = connection_.execute(fmt::format("DROP TEMPORARY TABLE {}", kScratchTable));
    if (!dropped) return dropped.error();
  }
  return {};
}

Result<bool> RelatedScrubber::stage_structured(const std::string& table,
                                               const std::string& key_column,
                                               const std::vector<const ColumnRule*>& rules,
                                               const RowSelection& rows, bool* links_ips) {
  // With links_ips every row is read (for its IP); otherwise only rows with a value to scrub.
  std::vector<std::string> selected = {"t." + quote_identifier(key_column)};
  if (links_ips != nullptr) selected.emplace_back("t.ip_id");
  const size_t first_value = selected.size();
  std::vector<std::string> any_set;
  for (const ColumnRule* rule : rules) {
    selected.push_back("t." + quote_identifier(rule->column));
    any_set.push_back("t." + quote_identifier(rule->column) + " IS NOT NULL");
  }
  auto read = connection_.query(
      fmt::format("SELECT {} FROM {} WHERE {}{}", db::join(selected, ", "), rows.from, rows.where,
                  links_ips != nullptr ? "" : " AND (" + db::join(any_set, " OR ") + ")"),
      rows.params);
  if (!read) return read.error();

  // Each changed row with the new value of every structured column (unchanged ones as read).
  std::vector<Param> staged;
  size_t staged_rows = 0;
  for (const auto& row : read->rows) {
    if (!row[0]) continue;
    if (links_ips != nullptr && row[1]) {
      touched_ips_.insert(db::cell_to_int(row[1]).value_or(0));
      *links_ips = true;
    }
    std::vector<Param> values;
    bool row_changed = false;
    for (size_t c = 0; c < rules.size(); ++c) {
      const auto& value = row[first_value + c];
      if (!value) {
        values.emplace_back(nullptr);
        continue;
      }
      auto replacement =
          scrubbed_value(*rules[c], *schema_.column(table, rules[c]->column), *value);
      row_changed = row_changed || replacement != value;
      values.push_back(replacement ? Param(std::move(*replacement)) : Param(nullptr));
    }
    if (!row_changed) continue;
    staged.push_back(key_param(*row[0]));
    std::move(values.begin(), values.end(), std::back_inserter(staged));
    ++staged_rows;
  }
  if (staged_rows == 0) return false;

  // A temporary table typed like the target's columns, so values go back byte for byte. It
  // is private to this connection and does not end the transaction.
  std::vector<std::string> typed = {"t." + quote_identifier(key_column) + " AS k"};
  std::vector<std::string> names = {"k"};
  for (size_t c = 0; c < rules.size(); ++c) {
    typed.push_back(fmt::format("t.{} AS v{}", quote_identifier(rules[c]->column), c));
    names.push_back(fmt::format("v{}", c));
  }
  MGDPR_TRY(connection_.execute(fmt::format("DROP TEMPORARY TABLE IF EXISTS {}", kScratchTable)));
  auto created = connection_.execute(
      fmt::format("CREATE TEMPORARY TABLE {} (PRIMARY KEY (k)) SELECT {} FROM {} t LIMIT 0",
                  kScratchTable, db::join(typed, ", "), schema_.table(table)));
  if (!created) return created.error();
  const size_t width = rules.size() + 1;
  const std::string tuple = "(" + db::placeholders(width) + ")";
  for (size_t first = 0; first < staged_rows; first += kRowsPerWrite) {
    const size_t count = std::min(staged_rows - first, kRowsPerWrite);
    std::vector<std::string> tuples(count, tuple);
    auto inserted =
        connection_.execute(fmt::format("INSERT INTO {} ({}) VALUES {}", kScratchTable,
                                        db::join(names, ", "), db::join(tuples, ", ")),
                            std::span<const Param>(staged).subspan(first * width, count * width));
    if (!inserted) return inserted.error();
  }
  return true;
}

Status RelatedScrubber::apply_webhook_queue(const LocationPlan& plan, const std::string& table,
                                            const Filter& filter, TableCounts& changed) {
  const bool compressed = schema_.column(table, "payload_compressed") != nullptr;
  std::string sql = fmt::format("SELECT id, payload{} FROM {}",
                                compressed ? ", payload_compressed" : "", schema_.table(table));
  std::vector<Param> params;
  if (filter.key_floor) {
    sql += " WHERE id > ?";
    params.emplace_back(*filter.key_floor);
    if (filter.key_ceiling) {
      sql += " AND id <= ?";
      params.emplace_back(*filter.key_ceiling);
    }
  }
  auto rows = connection_.query(sql, params);
  if (!rows) return rows.error();
  // Row id -> contact ids its payload names.
  std::map<std::string, std::set<int64_t>> mentions;
  std::set<int64_t> mentioned;
  for (const auto& row : rows->rows) {
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
  check_params.insert(check_params.end(), filter.contacts_params.begin(),
                      filter.contacts_params.end());
  auto ours = connection_.query(
      fmt::format("SELECT id FROM {} WHERE id IN ({}) AND id IN {}", schema_.table("leads"),
                  db::placeholders(mentioned.size()), filter.contacts_sql),
      check_params);
  if (!ours) return ours.error();
  std::set<int64_t> targets;
  for (const auto& row : ours->rows) targets.insert(db::cell_to_int(row[0]).value_or(0));
  std::vector<Param> row_ids;
  for (const auto& [row_id, ids] : mentions) {
    if (std::any_of(ids.begin(), ids.end(), [&](int64_t id) { return targets.contains(id); })) {
      row_ids.push_back(key_param(row_id));
    }
  }
  if (row_ids.empty()) return {};
  const RowSelection queued{schema_.table(table) + " t",
                            fmt::format("t.id IN ({})", db::placeholders(row_ids.size())), row_ids};
  if (plan.action == RowAction::kDelete) {
    auto deleted = connection_.execute(
        fmt::format("DELETE t FROM {} WHERE {}", queued.from, queued.where), queued.params);
    if (!deleted) return deleted.error();
    changed[table] += *deleted;
    return {};
  }
  std::vector<const ColumnRule*> rules;
  for (const ColumnRule& rule : plan.location->columns) {
    if (schema_.column(table, rule.column) != nullptr) rules.push_back(&rule);
  }
  auto staged = stage_structured(table, "id", rules, queued, nullptr);
  if (!staged) return staged.error();
  return write_rows(table, "id", rules, *staged, queued, {}, changed);
}

Status RelatedScrubber::apply_email_match(const LocationPlan& plan, const std::string& table,
                                          std::span<const ContactIdentity> contacts,
                                          TableCounts& changed) {
  if (plan.action == RowAction::kKeep) return {};
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
  auto done = connection_.execute(statement, emails);
  if (!done) return done.error();
  changed[table] += *done;
  return {};
}

Result<int64_t> RelatedScrubber::placeholder_ip() {
  if (placeholder_ip_) return *placeholder_ip_;
  auto recorded = read_meta(connection_, schema_, "placeholder_ip_id");
  if (!recorded) return recorded.error();
  if (recorded->has_value()) {
    auto exists = connection_.query_value(
        fmt::format("SELECT id FROM {} WHERE id = ?", schema_.table("ip_addresses")),
        {db::cell_to_int(**recorded).value_or(0)});
    if (!exists) return exists.error();
    if (exists->has_value()) return *(placeholder_ip_ = db::cell_to_int(**exists));
  }
  auto inserted =
      connection_.execute(fmt::format("INSERT INTO {} (ip_address, ip_details) VALUES (?, NULL)",
                                      schema_.table("ip_addresses")),
                          {std::string(kPlaceholderIp)});
  if (!inserted) return inserted.error();
  auto id = connection_.query_value("SELECT LAST_INSERT_ID()");
  if (!id) return id.error();
  placeholder_ip_ = db::cell_to_int(*id);
  MGDPR_TRY(write_meta(connection_, schema_, "placeholder_ip_id", **id));
  return *placeholder_ip_;
}

Status RelatedScrubber::drop_orphan_ips(TableCounts& changed, bool unlink_processed) {
  if (placeholder_ip_) touched_ips_.erase(*placeholder_ip_);
  if (touched_ips_.empty() || !schema_.has_table("ip_addresses")) return {};
  std::vector<Param> candidates;
  for (int64_t id : touched_ips_) candidates.emplace_back(id);
  touched_ips_.clear();
  if (unlink_processed) {
    // A late row brings an IP that older rows of processed contacts may link too (typically
    // a new lead_ips_xref row, which has no key to watermark): unlink it from all of them.
    for (const LocationPlan& plan : plan_.locations) {
      if (plan.location->link != Link::kContactColumn || plan.action == RowAction::kKeep) continue;
      for (const std::string& table : plan.tables) {
        const ColumnInfo* ip = schema_.column(table, "ip_id");
        if (ip == nullptr) continue;
        std::vector<Param> params;
        std::string statement;
        if (plan.action == RowAction::kDelete) {
          statement = fmt::format(
              "DELETE FROM {} WHERE ip_id IN ({}) AND {} IN (SELECT "
              "contact_id FROM {})",
              schema_.table(table), db::placeholders(candidates.size()),
              quote_identifier(plan.location->link_column), schema_.table("gdpr_contacts"));
        } else {
          Param replacement = nullptr;
          if (!ip->nullable) {
            auto placeholder = placeholder_ip();
            if (!placeholder) return placeholder.error();
            replacement = *placeholder;
          }
          params.push_back(replacement);
          statement = fmt::format(
              "UPDATE {} SET ip_id = ? WHERE ip_id IN ({}) AND {} IN "
              "(SELECT contact_id FROM {})",
              schema_.table(table), db::placeholders(candidates.size()),
              quote_identifier(plan.location->link_column), schema_.table("gdpr_contacts"));
        }
        params.insert(params.end(), candidates.begin(), candidates.end());
        auto unlinked = connection_.execute(statement, params);
        if (!unlinked) return unlinked.error();
        changed[table] += *unlinked;
      }
    }
  }
  // Still used by anyone (another contact, or a row this policy keeps): the IP stays. One
  // statement; every ip_id column Mautic has is a foreign key, so each check is an index probe.
  std::vector<std::string> unused;
  for (const auto& table : schema_.tables()) {
    if (schema_.column(table, "ip_id") == nullptr) continue;
    unused.push_back(
        fmt::format("NOT EXISTS (SELECT 1 FROM {} u WHERE u.ip_id = i.id)", schema_.table(table)));
  }
  auto deleted = connection_.execute(
      fmt::format("DELETE i FROM {} i WHERE i.id IN ({}){}{}", schema_.table("ip_addresses"),
                  db::placeholders(candidates.size()), unused.empty() ? "" : " AND ",
                  db::join(unused, " AND ")),
      candidates);
  if (!deleted) return deleted.error();
  changed["ip_addresses"] += *deleted;
  return {};
}

Status RelatedScrubber::scrub_contacts(std::span<const ContactIdentity> contacts,
                                       TableCounts& changed) {
  if (contacts.empty()) return {};
  touched_ips_.clear();
  Filter filter;
  filter.contacts_sql = "(" + db::placeholders(contacts.size()) + ")";
  for (const auto& contact : contacts) filter.contacts_params.emplace_back(contact.id);
  for (const LocationPlan& plan : plan_.locations) {
    for (const std::string& table : plan.tables) {
      if (plan.location->link == Link::kNoLink) {
        MGDPR_TRY(apply_email_match(plan, table, contacts, changed));
      } else {
        MGDPR_TRY(apply(plan, table, filter, changed));
      }
    }
  }
  return drop_orphan_ips(changed, /*unlink_processed=*/false);
}

Status RelatedScrubber::scrub_late_rows(TableCounts& changed, bool full_pass) {
  auto processed = connection_.query_value(
      fmt::format("SELECT 1 FROM {} LIMIT 1", schema_.table("gdpr_contacts")));
  if (!processed) return processed.error();
  // Before anyone is processed nothing can be late: the watermarks start at today's rows, so
  // the pass after the first processing looks at new rows only, not at every old one.
  const bool anyone_processed = processed->has_value();
  for (const LocationPlan& plan : plan_.locations) {
    if (plan.action == RowAction::kKeep) continue;
    for (const std::string& table : plan.tables) {
      const std::string_view mark_name = plan.location->watermark_column.empty()
                                             ? plan.location->key_column
                                             : plan.location->watermark_column;
      const ColumnInfo* key = mark_name.empty() ? nullptr : schema_.column(table, mark_name);
      const bool by_time =
          key != nullptr && (key->data_type == "datetime" || key->data_type == "timestamp");
      const bool by_id = is_integer_column(key);
      // Without a growing key nothing says which rows are new: only the full pass looks.
      if (!by_id && !by_time && (!full_pass || !anyone_processed)) continue;
      Filter filter;
      filter.contacts_sql =
          fmt::format("(SELECT contact_id FROM {})", schema_.table("gdpr_contacts"));
      std::optional<int64_t> high_water;
      if (by_id || by_time) {
        auto watermark =
            connection_.query_value(fmt::format("SELECT last_id FROM {} WHERE location = ?",
                                                schema_.table("gdpr_watermarks")),
                                    {table});
        if (!watermark) return watermark.error();
        if (!anyone_processed && watermark->has_value()) continue;
        const int64_t last = db::cell_to_int(*watermark).value_or(0);
        auto top = connection_.query_value(
            fmt::format("SELECT COALESCE({}(MAX({})), 0) FROM {}", by_time ? "UNIX_TIMESTAMP" : "",
                        quote_identifier(key->name), schema_.table(table)));
        if (!top) return top.error();
        high_water = db::cell_to_int(*top).value_or(0);
        if (!anyone_processed) {
          MGDPR_TRY(move_watermark(table, *high_water));
          continue;
        }
        // Nothing above the watermark: an idle sweep costs one index lookup here. The full
        // pass still looks below it, for inserts that committed out of id order.
        if (*high_water <= last && watermark->has_value() && !full_pass) continue;
        filter.key_floor =
            std::max<int64_t>(0, last - (by_time ? kTimeOverlapSeconds : kWatermarkOverlap));
        filter.floor_column = key->name;
        filter.floor_is_time = by_time;
      }
      // Id windows bound the rows held in memory and make a long catch-up (a location switched
      // from keep, say) progress one committed window at a time.
      do {
        if (by_id) {
          filter.key_ceiling = std::min(*filter.key_floor + kLateRowsWindow, *high_water);
        }
        auto transaction = db::Transaction::begin(connection_);
        if (!transaction) return transaction.error();
        if (plan.location->link == Link::kNoLink) {
          MGDPR_TRY(apply_late_email_match(plan, table, filter, changed));
        } else {
          MGDPR_TRY(apply(plan, table, filter, changed));
        }
        MGDPR_TRY(drop_orphan_ips(changed, /*unlink_processed=*/true));
        MGDPR_TRY(move_watermark(table, filter.key_ceiling.value_or(high_water.value_or(0))));
        MGDPR_TRY(transaction->commit());
        filter.key_floor = filter.key_ceiling;
      } while (by_id && *filter.key_floor < *high_water);
    }
  }
  return {};
}

Status RelatedScrubber::move_watermark(const std::string& table, int64_t last) {
  auto moved = connection_.execute(
      fmt::format("INSERT INTO {} (location, last_id, cleaned_at) VALUES (?, ?, "
                  "UTC_TIMESTAMP(6)) ON DUPLICATE KEY UPDATE last_id = VALUES(last_id), "
                  "cleaned_at = VALUES(cleaned_at)",
                  schema_.table("gdpr_watermarks")),
      {table, last});
  if (!moved) return moved.error();
  return {};
}

Status RelatedScrubber::apply_late_email_match(const LocationPlan& plan, const std::string& table,
                                               const Filter& filter, TableCounts& changed) {
  // The address is gone from the profile, but its keyed hash is not: every email-shaped word
  // of a new row is hashed the same way and looked up among the processed contacts' digests.
  if (!email_digest_) return {};
  const std::string column = quote_identifier(plan.location->link_column);
  const std::string key = quote_identifier(plan.location->key_column);
  auto rows = connection_.query(
      fmt::format("SELECT {}, {} FROM {} WHERE {} > ? AND {} <= ? AND {} LIKE '%@%'", key, column,
                  schema_.table(table), key, key, column),
      {filter.key_floor.value_or(0), filter.key_ceiling.value_or(INT64_MAX)});
  if (!rows) return rows.error();
  std::map<std::string, std::vector<std::string>> rows_by_digest;
  for (const auto& row : rows->rows) {
    if (!row[0] || !row[1]) continue;
    for (const std::string& word : email_shaped_words(*row[1])) {
      rows_by_digest[email_digest_(word)].push_back(*row[0]);
    }
  }
  if (rows_by_digest.empty()) return {};
  std::vector<Param> digests;
  for (const auto& entry : rows_by_digest) digests.emplace_back(entry.first);
  auto known = connection_.query(
      fmt::format("SELECT DISTINCT digest FROM {} WHERE field = 'email' AND digest IN ({})",
                  schema_.table("gdpr_hashes"), db::placeholders(digests.size())),
      digests);
  if (!known) return known.error();
  std::set<std::string> row_keys;
  for (const auto& row : known->rows) {
    for (const auto& row_key : rows_by_digest[row[0].value_or("")]) row_keys.insert(row_key);
  }
  if (row_keys.empty()) return {};
  std::vector<Param> keys;
  for (const auto& row_key : row_keys) keys.push_back(key_param(row_key));
  const std::string where = fmt::format("{} IN ({})", key, db::placeholders(keys.size()));
  auto done = connection_.execute(
      plan.action == RowAction::kDelete
          ? fmt::format("DELETE FROM {} WHERE {}", schema_.table(table), where)
          : fmt::format("UPDATE {} SET {} = NULL WHERE {}", schema_.table(table), column, where),
      keys);
  if (!done) return done.error();
  changed[table] += *done;
  return {};
}

Result<std::vector<RelatedScrubber::LocationStatus>> RelatedScrubber::watermark_status() {
  std::vector<LocationStatus> statuses;
  std::map<std::string, std::optional<std::string>> cleaned;
  if (schema_.has_table("gdpr_watermarks")) {
    auto rows = connection_.query(
        fmt::format("SELECT location, cleaned_at FROM {}", schema_.table("gdpr_watermarks")), {});
    if (!rows) return rows.error();
    for (const auto& row : rows->rows) cleaned[row[0].value_or("")] = row[1];
  }
  for (const LocationPlan& plan : plan_.locations) {
    for (const std::string& table : plan.tables) {
      auto found = cleaned.find(table);
      statuses.push_back({table, found == cleaned.end() ? std::nullopt : found->second});
    }
  }
  return statuses;
}

}  // namespace mgdpr::mautic
