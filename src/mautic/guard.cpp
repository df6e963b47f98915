// SPDX-License-Identifier: GPL-3.0-or-later
#include "mautic/guard.h"

#include "mautic/location_rows.h"

#include <algorithm>
#include <set>

#include "core/csv.h"
#include "core/normalize.h"
#include "mautic/own_tables.h"

namespace mgdpr::mautic {

using db::Param;
using db::quote_identifier;

namespace {

constexpr std::string_view kWatermark = "guard";  // the row in {prefix}gdpr_watermarks
constexpr std::string_view kAuditSuppress = "guard-suppress";
constexpr std::string_view kAuditReport = "guard-report";
constexpr std::string_view kAuditCsvCheck = "guard-check";
constexpr size_t kDigestsPerQuery = 500;
constexpr size_t kAuditDetailLimit = 1024;  // gdpr_audit.detail is VARCHAR(1024)

// Contacts created or identified up to this long before the previous pass started are checked
// again: Mautic stamps date_added/date_identified with the web server's clock, and a row
// inserted before that pass may have committed only after it. A second check changes nothing.
constexpr int kRecheckSeconds = 600;

// "2026-05-01 (unsubscribed, channel email, by email)": no personal value, ever.
std::string describe_record(const ProcessedRecord& record) {
  return fmt::format("{} ({}{}, channel {}, by {})", record.processed_on(), record.reason,
                     record.on_request ? ", erased on request" : "", record.channel,
                     record.field);
}

std::string describe_records(const std::vector<ProcessedRecord>& records) {
  std::vector<std::string> parts;
  for (const auto& record : records) parts.push_back(describe_record(record));
  return db::join(parts, "; ");
}

std::string limited(std::string text) {
  if (text.size() > kAuditDetailLimit) text.resize(kAuditDetailLimit);
  return text;
}

// The hashed fields the guard compares: [guard] fields, or email when the policy hashes it.
std::vector<const ColumnPlan*> resolve_fields(const Config& config, const ContactPolicy& policy,
                                              std::vector<std::string>* problems) {
  std::vector<const ColumnPlan*> fields;
  if (config.guard.fields.empty()) {
    const ColumnPlan* email = policy.find("email");
    if (email != nullptr && email->action == Action::kHash) fields.push_back(email);
    return fields;
  }
  for (const auto& alias : config.guard.fields) {
    const ColumnPlan* plan = policy.find(alias);
    if (plan == nullptr || plan->field_type.empty()) {
      if (problems != nullptr) {
        problems->push_back(fmt::format(
            "{}: [guard] fields names `{}`, which is not a contact field of this Mautic; name "
            "hashed contact fields, e.g. fields = [\"email\"]",
            config.where("guard.fields"), alias));
      }
      continue;
    }
    if (plan->action != Action::kHash) {
      if (problems != nullptr) {
        problems->push_back(fmt::format(
            "{}: [guard] fields names `{}`, which the policy does not hash (it is {}), so "
            "processed contacts keep no digest of it to compare; write {} = \"hash\" under "
            "[policy.fields], or remove it from [guard] fields",
            config.where("guard.fields"), alias, plan->action_text(), alias));
      }
      continue;
    }
    fields.push_back(plan);
  }
  return fields;
}

std::vector<DncReason> guard_reasons(const Config& config) {
  return config.guard.reasons.value_or(config.reasons);
}

// The deciding record per channel: the newest one (the person's latest known state).
std::vector<ProcessedRecord> newest_per_channel(std::vector<ProcessedRecord> records) {
  std::stable_sort(records.begin(), records.end(),
                   [](const ProcessedRecord& a, const ProcessedRecord& b) {
                     return a.processed_at > b.processed_at;
                   });
  std::vector<ProcessedRecord> deciding;
  std::set<std::string> channels;
  for (auto& record : records) {
    if (channels.insert(record.channel).second) deciding.push_back(std::move(record));
  }
  return deciding;
}

}  // namespace

Guard::Guard(db::Connection& connection, const Config& config, const Schema& schema,
             const ContactPolicy& policy, const KeyRing& keys, std::string actor)
    : connection_(connection),
      config_(config),
      schema_(schema),
      keys_(keys),
      actor_(std::move(actor)) {
  fields_ = resolve_fields(config, policy, &problems_);
  for (DncReason reason : guard_reasons(config)) reasons_.emplace_back(reason_name(reason));
}

Status Guard::usable() const {
  if (problems_.empty()) return {};
  return Error{db::join(problems_, "\n"), ErrorKind::kConfig};
}

bool Guard::guards(ContactOrigin origin) const {
  const auto& origins = config_.guard.origins;
  return std::find(origins.begin(), origins.end(), origin) != origins.end();
}

std::vector<std::string> Guard::digests_of(const ColumnPlan& field, std::string_view value) const {
  // A value that is already a digest is compared as it is: a hash is never hashed twice.
  if (looks_like_digest(value)) return {std::string(value)};
  std::string normalized = normalize(field.kind, value);
  // Nothing to compare: blank, or a phone number without digits.
  if (normalized.empty()) return {};
  return keys_.digests(normalized);
}

Result<std::map<std::string, std::vector<ProcessedRecord>>> Guard::find_processed(
    const ColumnPlan& field, const std::vector<std::string>& digests) {
  std::map<std::string, std::vector<ProcessedRecord>> found;
  if (digests.empty() || !schema_.has_table("gdpr_hashes") ||
      !schema_.has_table("gdpr_contacts")) {
    return found;
  }
  // A person erased on request stays out whatever the reasons: the request covers every
  // return of the data.
  const std::string counted =
      reasons_.empty() ? "g.source = 'request'"
                       : fmt::format("(g.reason IN ({}) OR g.source = 'request')",
                                     db::placeholders(reasons_.size()));
  for (size_t first = 0; first < digests.size(); first += kDigestsPerQuery) {
    const size_t count = std::min(kDigestsPerQuery, digests.size() - first);
    std::vector<Param> params = {field.column};
    for (size_t i = first; i < first + count; ++i) params.emplace_back(digests[i]);
    for (const auto& reason : reasons_) params.emplace_back(reason);
    auto rows = connection_.query(
        fmt::format("SELECT h.digest, DATE_FORMAT(g.processed_at, '%Y-%m-%d %H:%i:%s.%f'), "
                    "g.reason, g.channel, g.source = 'request' FROM {} h JOIN {} g ON "
                    "g.contact_id = h.contact_id WHERE h.field = ? AND h.digest IN ({}) AND {} "
                    "AND {}",
                    schema_.table("gdpr_hashes"), schema_.table("gdpr_contacts"),
                    db::placeholders(count), counted, not_returned_sql(schema_, "g")),
        params);
    if (!rows) return rows.error();
    for (const auto& row : rows->rows) {
      found[row[0].value_or("")].push_back({field.column, row[1].value_or(""),
                                            row[2].value_or(""), row[3].value_or(""),
                                            row[4] == std::optional<std::string>("1")});
    }
  }
  for (auto& [digest, records] : found) records = newest_per_channel(std::move(records));
  return found;
}

std::vector<int64_t> GuardReport::suppressed_on_request() const {
  std::vector<int64_t> ids;
  for (const auto& event : events) {
    if (event.suppressed &&
        std::any_of(event.records.begin(), event.records.end(),
                    [](const ProcessedRecord& record) { return record.on_request; })) {
      ids.push_back(event.contact_id);
    }
  }
  return ids;
}

Result<GuardReport> Guard::run_pass(int batch_size) {
  MGDPR_TRY(usable());
  GuardReport report;
  if (!config_.guard.enabled || fields_.empty()) return report;
  for (std::string_view table : {"gdpr_watermarks", "gdpr_hashes", "gdpr_contacts"}) {
    if (!schema_.has_table(table)) {
      return make_error("the gdpr tables are missing; the guard must be opened for writing");
    }
  }

  // Where this pass starts: the next one checks what arrives from here on.
  auto start =
      connection_.query(fmt::format("SELECT DATE_FORMAT(UTC_TIMESTAMP(6), '%Y-%m-%d %H:%i:%s.%f'), "
                                    "(SELECT COALESCE(MAX(id), 0) FROM {})",
                                    schema_.table("leads")),
                        {});
  if (!start) return start.error();
  const std::string started_at = start->rows[0][0].value_or("");
  const int64_t highest_id = db::cell_to_int(start->rows[0][1]).value_or(0);

  auto mark =
      connection_.query(fmt::format("SELECT last_id, DATE_FORMAT(cleaned_at - INTERVAL {} SECOND, "
                                    "'%Y-%m-%d %H:%i:%s') FROM {} WHERE location = ?",
                                    kRecheckSeconds, schema_.table("gdpr_watermarks")),
                        {std::string(kWatermark)});
  if (!mark) return mark.error();
  const int64_t last_id = mark->empty() ? 0 : db::cell_to_int(mark->rows[0][0]).value_or(0);
  const std::optional<std::string> since = mark->empty() ? std::nullopt : mark->rows[0][1];

  auto save_watermark = [&]() -> Status {
    auto saved = connection_.execute(
        fmt::format("INSERT INTO {} (location, last_id, cleaned_at) VALUES (?, ?, ?) "
                    "ON DUPLICATE KEY UPDATE last_id = GREATEST(last_id, VALUES(last_id)), "
                    "cleaned_at = VALUES(cleaned_at)",
                    schema_.table("gdpr_watermarks")),
        {std::string(kWatermark), highest_id, started_at});
    if (!saved) return saved.error();
    return {};
  };

  // Nothing processed yet: nothing can match.
  auto any = connection_.query_value(
      fmt::format("SELECT EXISTS(SELECT 1 FROM {})", schema_.table("gdpr_hashes")), {});
  if (!any) return any.error();
  if (*any == std::optional<std::string>("0")) {
    MGDPR_TRY(save_watermark());
    return report;
  }

  // New contacts by id (the primary key), contacts created or identified recently by their
  // indexed dates: each branch is an index range, so a pass costs what arrived, not the table.
  std::vector<std::string> has_value;
  for (const ColumnPlan* field : fields_) {
    has_value.push_back(
        fmt::format("(l.{0} IS NOT NULL AND l.{0} <> '')", quote_identifier(field->column)));
  }
  const std::string condition = fmt::format(
      "l.id <= ? AND ({}) AND NOT EXISTS (SELECT 1 FROM {} g WHERE g.contact_id = l.id)",
      db::join(has_value, " OR "), schema_.table("gdpr_contacts"));
  std::vector<std::string> branches = {fmt::format("SELECT l.id FROM {} l WHERE l.id > ? AND {}",
                                                   schema_.table("leads"), condition)};
  std::vector<Param> params = {last_id, highest_id};
  if (since) {
    for (std::string_view column : {"date_added", "date_identified"}) {
      if (schema_.column("leads", column) == nullptr) continue;
      branches.push_back(fmt::format("SELECT l.id FROM {} l WHERE l.{} >= ? AND {}",
                                     schema_.table("leads"), quote_identifier(column), condition));
      params.emplace_back(*since);
      params.emplace_back(highest_id);
    }
  }
  auto candidates =
      connection_.query(fmt::format("{} ORDER BY id", db::join(branches, " UNION ")), params);
  if (!candidates) return candidates.error();
  std::vector<int64_t> ids;
  ids.reserve(candidates->size());
  for (const auto& row : candidates->rows) ids.push_back(db::cell_to_int(row[0]).value_or(0));

  const size_t batch = size_t(std::max(1, batch_size));
  for (size_t first = 0; first < ids.size(); first += batch) {
    MGDPR_TRY(
        check_batch(std::span(ids).subspan(first, std::min(batch, ids.size() - first)), report));
  }
  MGDPR_TRY(save_watermark());
  return report;
}

Result<GuardReport> Guard::check_contacts(std::span<const int64_t> contact_ids) {
  MGDPR_TRY(usable());
  GuardReport report;
  if (!config_.guard.enabled || fields_.empty()) return report;
  for (size_t first = 0; first < contact_ids.size(); first += kDigestsPerQuery) {
    MGDPR_TRY(check_batch(
        contact_ids.subspan(first, std::min(kDigestsPerQuery, contact_ids.size() - first)),
        report));
  }
  return report;
}

Status Guard::check_batch(std::span<const int64_t> contact_ids, GuardReport& report) {
  if (contact_ids.empty() || !schema_.has_table("gdpr_hashes") ||
      !schema_.has_table("gdpr_contacts")) {
    return {};
  }
  // The contacts' values, unless processed: a processed contact is a record, not a return.
  std::vector<std::string> selected = {"l.id"};
  for (const ColumnPlan* field : fields_) {
    selected.push_back("l." + quote_identifier(field->column));
  }
  std::vector<Param> id_params(contact_ids.begin(), contact_ids.end());
  auto rows = connection_.query(
      fmt::format("SELECT {} FROM {} l LEFT JOIN {} g ON g.contact_id = l.id "
                  "WHERE l.id IN ({}) AND g.contact_id IS NULL ORDER BY l.id",
                  db::join(selected, ", "), schema_.table("leads"), schema_.table("gdpr_contacts"),
                  db::placeholders(contact_ids.size())),
      id_params);
  if (!rows) return rows.error();

  std::map<int64_t, std::vector<ProcessedRecord>> matched;
  for (size_t f = 0; f < fields_.size(); ++f) {
    std::vector<std::pair<int64_t, std::string>> contact_digests;
    std::vector<std::string> digests;
    for (const auto& row : rows->rows) {
      if (!row[f + 1]) continue;
      for (auto& digest : digests_of(*fields_[f], *row[f + 1])) {
        contact_digests.emplace_back(db::cell_to_int(row[0]).value_or(0), digest);
        digests.push_back(std::move(digest));
      }
    }
    auto found = find_processed(*fields_[f], digests);
    if (!found) return found.error();
    for (const auto& [id, digest] : contact_digests) {
      auto records = found->find(digest);
      if (records == found->end()) continue;
      auto& into = matched[id];
      into.insert(into.end(), records->second.begin(), records->second.end());
    }
  }
  for (const auto& row : rows->rows) {
    for (size_t f = 0; f < fields_.size(); ++f) {
      if (row[f + 1] && !trim(*row[f + 1]).empty()) {
        ++report.checked;
        break;
      }
    }
  }

  for (auto& [id, all_records] : matched) {
    auto handled = handled_before(id);
    if (!handled) return handled.error();
    if (*handled) continue;  // suppressed or reported once; an admin's later decision stands
    const auto records = newest_per_channel(std::move(all_records));
    auto origin = origin_of(id);
    if (!origin) return origin.error();
    if (guards(*origin)) {
      auto suppressed = suppress(id, *origin, records);
      if (!suppressed) return suppressed.error();
      if (!*suppressed) continue;  // on do-not-contact already, or processed meanwhile
      ++report.suppressed;
      report.events.push_back({id, *origin, true, records});
    } else {
      MGDPR_TRY(report_only(id, *origin, records));
      ++report.reported;
      report.events.push_back({id, *origin, false, records});
    }
  }
  return {};
}

// The audit table is the guard's memory: a contact it acted on once is left alone afterwards,
// so an admin who lifts the do-not-contact keeps that decision. Matches are rare, so the scan
// of the (small) audit table happens rarely.
Result<bool> Guard::handled_before(int64_t contact_id) {
  if (!schema_.has_table("gdpr_audit")) return false;
  auto found = connection_.query_value(
      fmt::format("SELECT EXISTS(SELECT 1 FROM {} WHERE action IN (?, ?) AND detail LIKE ?)",
                  schema_.table("gdpr_audit")),
      {std::string(kAuditSuppress), std::string(kAuditReport),
       fmt::format("contact {} %", contact_id)});
  if (!found) return found.error();
  return *found == std::optional<std::string>("1");
}

// How a contact arrived, from Mautic's own tables, in this order: a form submission by the
// person (a fresh opt-in, even when an import or sync touched the contact too), an import, an
// integration; anything else came through the API or from a Mautic user.
Result<ContactOrigin> Guard::origin_of(int64_t contact_id) {
  struct Evidence {
    ContactOrigin origin;
    std::string_view table;
    std::string_view where;
    std::vector<Param> params;
  };
  const Evidence evidence[] = {
      {ContactOrigin::kForm, "form_submissions", "lead_id = ?", {contact_id}},
      {ContactOrigin::kImport,
       "lead_event_log",
       "lead_id = ? AND bundle = ? AND object = ?",
       {contact_id, std::string("lead"), std::string("import")}},
      {ContactOrigin::kIntegration,
       "integration_entity",
       "internal_entity = ? AND internal_entity_id = ?",
       {std::string("lead"), contact_id}},
      {ContactOrigin::kIntegration,
       "sync_object_mapping",
       "internal_object_name = ? AND internal_object_id = ?",
       {std::string("lead"), contact_id}},
  };
  for (const auto& item : evidence) {
    if (!schema_.has_table(item.table)) continue;
    auto found = connection_.query_value(fmt::format("SELECT EXISTS(SELECT 1 FROM {} WHERE {})",
                                                     schema_.table(item.table), item.where),
                                         item.params);
    if (!found) return found.error();
    if (*found == std::optional<std::string>("1")) return item.origin;
  }
  return ContactOrigin::kApi;
}

Result<bool> Guard::suppress(int64_t contact_id, ContactOrigin origin,
                             const std::vector<ProcessedRecord>& records) {
  auto transaction = db::Transaction::begin(connection_);
  if (!transaction) return transaction.error();
  // The contact's row lock, as process_contacts takes it: a sweep, a webhook and the guard
  // reaching the same contact serialize here.
  auto locked = connection_.query(
      fmt::format("SELECT id FROM {} WHERE id = ? FOR UPDATE", schema_.table("leads")),
      {contact_id});
  if (!locked) return locked.error();
  if (locked->empty()) return false;  // deleted in Mautic meanwhile
  auto processed =
      connection_.query_value(fmt::format("SELECT EXISTS(SELECT 1 FROM {} WHERE contact_id = ?)",
                                          schema_.table("gdpr_contacts")),
                              {contact_id});
  if (!processed) return processed.error();
  if (*processed == std::optional<std::string>("1")) return false;

  auto existing = connection_.query(fmt::format("SELECT DISTINCT channel FROM {} WHERE lead_id = ?",
                                                schema_.table("lead_donotcontact")),
                                    {contact_id});
  if (!existing) return existing.error();
  std::set<std::string> on_dnc;
  for (const auto& row : existing->rows) on_dnc.insert(row[0].value_or(""));

  std::vector<ProcessedRecord> added;
  for (const auto& record : records) {
    auto reason = parse_reason(record.reason);
    if (!reason || on_dnc.contains(record.channel)) continue;
    // Mautic shows this comment beside the do-not-contact entry; it names no personal data.
    const std::string comment =
        fmt::format("mautic-gdpr: matches a record processed on {} ({}{})", record.processed_on(),
                    record.reason, record.on_request ? ", erased on request" : "");
    auto inserted = connection_.execute(
        fmt::format("INSERT INTO {} (lead_id, date_added, reason, channel, channel_id, comments) "
                    "VALUES (?, UTC_TIMESTAMP(), ?, ?, NULL, ?)",
                    schema_.table("lead_donotcontact")),
        {contact_id, int64_t(*reason), record.channel, comment});
    if (!inserted) return inserted.error();
    added.push_back(record);
  }
  if (added.empty()) {
    MGDPR_TRY(transaction->commit());
    return false;
  }
  MGDPR_TRY(write_audit(
      connection_, schema_, actor_, kAuditSuppress,
      limited(fmt::format("contact {} (origin {}): matches a record processed on {}; put on "
                          "do-not-contact",
                          contact_id, origin_name(origin), describe_records(added))),
      int64_t(records.size()), contact_id));
  MGDPR_TRY(transaction->commit());
  return true;
}

Status Guard::report_only(int64_t contact_id, ContactOrigin origin,
                          const std::vector<ProcessedRecord>& records) {
  return write_audit(
      connection_, schema_, actor_, kAuditReport,
      limited(fmt::format("contact {} (origin {}): matches a record processed on {}; left "
                          "contactable, [guard] origins does not include {}",
                          contact_id, origin_name(origin), describe_records(records),
                          origin_name(origin))),
      int64_t(records.size()), contact_id);
}

Result<CsvCheck> Guard::check_csv(std::string_view text, char delimiter) {
  MGDPR_TRY(usable());
  if (fields_.empty()) {
    return make_error(ErrorKind::kConfig,
                      "{}: the policy hashes no field the guard could compare (email is not "
                      "hashed); write email = \"hash\" under [policy.fields]",
                      config_.where("policy.fields"));
  }
  auto records = parse_csv(text, delimiter);
  if (!records) return records.error();
  if (records->empty()) return make_error(ErrorKind::kUsage, "the file is empty: it has no header line");

  CsvCheck check;
  const CsvRecord& header = records->front();
  std::vector<std::pair<const ColumnPlan*, size_t>> columns;
  for (const ColumnPlan* field : fields_) {
    if (auto column = find_csv_column(header, field->column)) {
      columns.emplace_back(field, *column);
      check.columns.push_back(field->column);
    }
  }
  if (columns.empty()) {
    std::vector<std::string> names;
    for (const ColumnPlan* field : fields_) names.push_back(field->column);
    return make_error(
        ErrorKind::kUsage, "no column of the file's first line is named {} (case does not matter); name the email "
        "column `email` in the header line, or pass --delimiter if the file does not use {:?}",
        db::join(names, " or "), delimiter);
  }

  // Digests per column, then the first matching column decides each row.
  const size_t row_count = records->size() - 1;
  std::vector<std::optional<ProcessedRecord>> row_match(row_count);
  for (const auto& [field, column] : columns) {
    std::vector<std::pair<size_t, std::string>> row_digests;
    std::vector<std::string> digests;
    for (size_t r = 0; r < row_count; ++r) {
      const CsvRecord& record = (*records)[r + 1];
      if (row_match[r] || column >= record.fields.size()) continue;
      for (auto& digest : digests_of(*field, record.fields[column])) {
        row_digests.emplace_back(r, digest);
        digests.push_back(std::move(digest));
      }
    }
    auto found = find_processed(*field, digests);
    if (!found) return found.error();
    for (const auto& [r, digest] : row_digests) {
      if (auto hit = found->find(digest); hit != found->end()) row_match[r] = hit->second.front();
    }
  }

  check.filtered = std::string(header.raw);
  for (size_t r = 0; r < row_count; ++r) {
    const CsvRecord& record = (*records)[r + 1];
    if (!record.blank()) ++check.rows;
    if (row_match[r]) {
      check.matches.push_back({record.line, std::move(*row_match[r])});
    } else {
      check.filtered += record.raw;
    }
  }
  if (schema_.has_table("gdpr_audit")) {
    // Never the file name: Mautic's own import list shows names can carry personal data.
    MGDPR_TRY(write_audit(
        connection_, schema_, actor_, kAuditCsvCheck,
        fmt::format("csv file: {} rows, columns: {}", check.rows, db::join(check.columns, ", ")),
        int64_t(check.matches.size())));
  }
  return check;
}

std::vector<std::string> guard_problems(const Config& config, const ContactPolicy& policy) {
  std::vector<std::string> problems;
  resolve_fields(config, policy, &problems);
  return problems;
}

std::string describe_guard(const Config& config, const ContactPolicy& policy) {
  if (!config.guard.enabled) return "off ([guard] enabled = false)";
  const auto fields = resolve_fields(config, policy, nullptr);
  if (fields.empty()) return "off: the policy hashes no email to compare";
  std::vector<std::string> compared;
  for (const ColumnPlan* field : fields) compared.push_back(field->column);
  std::vector<std::string> guarded;
  std::vector<std::string> reported;
  for (ContactOrigin origin : {ContactOrigin::kImport, ContactOrigin::kApi,
                               ContactOrigin::kIntegration, ContactOrigin::kForm}) {
    const auto& origins = config.guard.origins;
    const bool guards = std::find(origins.begin(), origins.end(), origin) != origins.end();
    (guards ? guarded : reported).emplace_back(origin_name(origin));
  }
  std::vector<std::string> reasons;
  for (DncReason reason : guard_reasons(config)) reasons.emplace_back(reason_name(reason));
  return fmt::format(
      "compares {}; a new contact matching a record that left as {} is put on do-not-contact "
      "when it came from {}, and only reported when it came from {}",
      db::join(compared, ", "), db::join(reasons, " or "),
      guarded.empty() ? "nowhere" : db::join(guarded, ", "),
      reported.empty() ? "nowhere" : db::join(reported, ", "));
}

}  // namespace mgdpr::mautic
