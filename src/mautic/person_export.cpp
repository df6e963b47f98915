// SPDX-License-Identifier: GPL-3.0-or-later
// Everything stored about a contact (`mautic-gdpr export`, the pages' download; GDPR Art. 15):
// the record and profile, do-not-contact entries, memberships, and every location's rows, read
// in one consistent snapshot and handed to a sink. The locations are read by a visitor of the
// one walk (location_walk.h) that selects rows through the one builder (location_rows.h), so an
// export covers exactly the places processing clears, and a new kind of link does not compile
// until the export says what it means.
#include <algorithm>
#include <set>

#include "core/hashing.h"
#include "core/policy.h"
#include "core/scrub.h"
#include "mautic/content_match.h"
#include "mautic/engine.h"
#include "mautic/location_walk.h"
#include "mautic/own_tables.h"

namespace mgdpr::mautic {

using db::Param;
using db::quote_identifier;

namespace {

// Tables that tie a contact to things shared by many (segments, campaigns, ...): nothing of
// the person's own is in them, so processing leaves them, but an export names them.
struct Membership {
  std::string_view section;
  std::string_view table;          // has lead_id and target_column
  std::string_view target_column;  // the id of a target_table row
  std::string_view target_table;
  std::string_view name_column;  // what the person recognises it by
};

constexpr Membership kMemberships[] = {
    {"segments", "lead_lists_leads", "leadlist_id", "lead_lists", "name"},
    {"campaigns", "campaign_leads", "campaign_id", "campaigns", "name"},
    {"tags", "lead_tags_xref", "tag_id", "lead_tags", "tag"},
    {"companies", "companies_leads", "company_id", "companies", "companyname"},
    {"categories", "lead_categories", "category_id", "categories", "title"},
};

// Columns of the contact's record that are no contact field but are about the person (the
// staff columns, created_by_user and the like, are not).
constexpr std::string_view kRecordColumns[] = {
    "date_added", "date_identified", "date_modified",           "last_active",
    "points",     "internal",        "preferred_profile_image", "social_cache"};

// Rows with columns, built by hand.
db::Rows rows_with(std::vector<std::string> columns) { return {std::move(columns), {}}; }

// The contact's rows of every location, through `emit`; remembers the IPs they link.
class ExportRows : public LocationVisitor {
 public:
  using Emit = std::function<Status(const std::string& section, const db::Rows& rows)>;

  ExportRows(db::Connection& connection, const Schema& schema, int64_t contact_id,
             std::optional<std::string> email, Emit emit)
      : connection_(connection),
        schema_(schema),
        contact_id_(contact_id),
        email_(std::move(email)),
        emit_(std::move(emit)) {}

  Status linked(const LocationPlan& plan, const std::string& table) override {
    const int64_t ids[] = {contact_id_};
    return select(plan, table, rows_of(*plan.location, table, schema_, ContactSet::of(ids)));
  }

  // The queued payloads that name the contact, decompressed: what Mautic would send.
  Status in_payload(const LocationPlan& plan, const std::string& table) override {
    const int64_t ids[] = {contact_id_};
    // An unreadable payload names no one that can be told; the sweep reports those.
    MGDPR_ASSIGN_OR_RETURN(auto found, rows_naming_contacts(connection_, schema_, *plan.location,
                                                            table, ContactSet::of(ids)));
    const std::vector<std::string>& keys = found.keys;
    if (keys.empty()) return {};
    std::vector<Param> params;
    for (const auto& key : keys) params.push_back(db::key_param(key));
    MGDPR_ASSIGN_OR_RETURN(
        auto rows,
        connection_.query(fmt::format("SELECT t.* FROM {} t WHERE t.id IN ({}) "
                                      "ORDER BY t.id",
                                      schema_.table(table), db::placeholders(params.size())),
                          params));
    // The compressed copy goes out as the text it holds, in the payload column.
    const auto compressed =
        std::find(rows.columns.begin(), rows.columns.end(), "payload_compressed");
    const auto payload = std::find(rows.columns.begin(), rows.columns.end(), "payload");
    if (compressed != rows.columns.end() && payload != rows.columns.end()) {
      const size_t from = size_t(compressed - rows.columns.begin());
      const size_t to = size_t(payload - rows.columns.begin());
      for (auto& row : rows.rows) {
        if (!row[to] && row[from]) {
          if (auto text = zlib_decompress(*row[from])) row[to] = std::move(*text);
        }
        row.erase(row.begin() + long(from));
      }
      rows.columns.erase(compressed);
    }
    return emit_(table, rows);
  }

  // Free text holds no contact id: the notes that contain the contact's exact address. A
  // processed contact's address is gone, and with it any way to find them (processing cleared
  // them).
  Status in_text(const LocationPlan& plan, const std::string& table) override {
    if (!email_ || email_->find('@') == std::string::npos) return {};
    const std::string addresses[] = {*email_};
    return select(plan, table, rows_naming(*plan.location, table, schema_, addresses));
  }

  const std::set<int64_t>& ips() const { return ips_; }

 private:
  Status select(const LocationPlan& plan, const std::string& table, const RowSelection& rows) {
    const std::string_view key = plan.location->key_column;
    const bool ordered = !key.empty() && schema_.column(table, key) != nullptr;
    MGDPR_ASSIGN_OR_RETURN(
        auto found,
        connection_.query(fmt::format("SELECT t.* FROM {} WHERE {}{}", rows.from, rows.where,
                                      ordered ? " ORDER BY t." + quote_identifier(key) : ""),
                          rows.params));
    for (size_t c = 0; c < found.columns.size(); ++c) {
      if (found.columns[c] != "ip_id") continue;
      for (const auto& row : found.rows) {
        if (auto ip = db::cell_to_int(row[c])) ips_.insert(*ip);
      }
    }
    return emit_(table, found);
  }

  db::Connection& connection_;
  const Schema& schema_;
  int64_t contact_id_;
  std::optional<std::string> email_;
  Emit emit_;
  std::set<int64_t> ips_;
};

}  // namespace

Result<ExportedContact> Engine::export_one(int64_t contact_id, const ExportSink& sink) {
  ExportedContact exported{.contact_id = contact_id};
  auto emit = [&](const std::string& section, const db::Rows& rows) -> Status {
    if (rows.empty()) return {};
    exported.rows += int64_t(rows.size());
    return sink(contact_id, section, rows);
  };

  // The record and the profile, in one read of the contact's row.
  std::vector<std::string> selected = {"l.id"};
  std::vector<std::string_view> record;
  for (std::string_view column : kRecordColumns) {
    if (schema_.column("leads", column) == nullptr || schema_.contact_field(column) != nullptr) {
      continue;
    }
    selected.push_back("l." + quote_identifier(column));
    record.push_back(column);
  }
  std::string from = schema_.table("leads") + " l";
  const bool staged = schema_.has_table("stages") && schema_.column("leads", "stage_id");
  if (staged) {
    selected.emplace_back("s.name");
    from += fmt::format(" LEFT JOIN {} s ON s.id = l.stage_id", schema_.table("stages"));
  }
  // The profile's columns: the fields lead_fields describes, and the columns of leads none
  // describes (a plugin's), which hold the person's data too.
  struct ProfileColumn {
    std::string name;
    std::string label;
    const ColumnPlan* plan;  // null: a field the policy does not name
  };
  const size_t first_field = selected.size();
  std::vector<ProfileColumn> profile_columns;
  for (const ContactField& field : schema_.contact_fields()) {
    if (!field.column) continue;
    profile_columns.push_back({field.alias, field.label, policy_.find(field.alias)});
  }
  for (const ColumnPlan& plan : policy_.columns) {
    if (plan.unknown) profile_columns.push_back({plan.column, plan.column, &plan});
  }
  for (const auto& column : profile_columns) {
    selected.push_back("l." + quote_identifier(column.name));
  }
  MGDPR_ASSIGN_OR_RETURN(auto lead,
                         connection_.query(fmt::format("SELECT {} FROM {} WHERE l.id = ?",
                                                       db::join(selected, ", "), from),
                                           {contact_id}));
  if (lead.empty()) {
    return make_error("no contact {} in `{}`; it may have been deleted in Mautic", contact_id,
                      schema_.table_name("leads"));
  }
  const auto& values = lead.rows[0];
  // The record of its processing; a contact who came back by choice is live again, and the
  // record says so.
  std::optional<std::vector<db::Cell>> processing;
  if (schema_.has_table("gdpr_contacts")) {
    const bool returns = schema_.column("gdpr_contacts", "returned_at") != nullptr;
    MGDPR_ASSIGN_OR_RETURN(
        auto recorded,
        connection_.query(
            fmt::format("SELECT processed_at, reason, channel, dnc_date, source, {} "
                        "FROM {} WHERE contact_id = ?",
                        returns ? "returned_at" : "NULL", schema_.table("gdpr_contacts")),
            {contact_id}));
    if (!recorded.empty()) processing = recorded.rows[0];
  }
  exported.processed = processing && !processing->back();

  db::Rows contact = rows_with({"contact_id"});
  std::vector<db::Cell> contact_row = {std::to_string(contact_id)};
  for (size_t c = 0; c < record.size(); ++c) {
    contact.columns.emplace_back(record[c]);
    contact_row.push_back(values[1 + c]);
  }
  if (staged) {
    contact.columns.emplace_back("stage");
    contact_row.push_back(values[first_field - 1]);
  }
  contact.rows.push_back(std::move(contact_row));
  MGDPR_TRY(emit("contact", contact));

  // Every field with a value; of a processed contact, the keyed hashes are no value of theirs.
  db::Rows profile = rows_with({"field", "label", "value"});
  std::optional<std::string> email;
  for (size_t f = 0; f < profile_columns.size(); ++f) {
    const auto& value = values[first_field + f];
    if (!value || value->empty()) continue;
    const ProfileColumn& column = profile_columns[f];
    const bool digest =
        column.plan != nullptr && column.plan->action == Action::kHash && looks_like_digest(*value);
    if (processing && digest) continue;
    if (column.name == "email") email = value;
    profile.rows.push_back({column.name, column.label, value});
  }
  MGDPR_TRY(emit("profile", profile));

  if (processing) {
    db::Rows processed = rows_with({"processed_at", "reason", "channel", "on_do_not_contact_since",
                                    "processed_by", "came_back_at"});
    processed.rows.push_back(*processing);
    MGDPR_TRY(emit("processing", processed));
  }

  MGDPR_ASSIGN_OR_RETURN(
      auto dnc,
      connection_.query(
          fmt::format("SELECT date_added, CASE reason WHEN 1 THEN 'unsubscribed' WHEN 2 "
                      "THEN 'bounced' WHEN 3 THEN 'manual' ELSE reason END AS reason, "
                      "channel, comments FROM {} WHERE lead_id = ? ORDER BY date_added, id",
                      schema_.table("lead_donotcontact")),
          {contact_id}));
  MGDPR_TRY(emit("do_not_contact", dnc));

  for (const Membership& membership : kMemberships) {
    if (!schema_.has_table(membership.table) || !schema_.has_table(membership.target_table)) {
      continue;
    }
    std::vector<std::string> columns = {"x." + quote_identifier(membership.name_column) +
                                        " AS name"};
    for (const ColumnInfo& column : *schema_.columns(membership.table)) {
      if (column.name == "lead_id" || column.name == "id" ||
          column.name == membership.target_column) {
        continue;
      }
      columns.push_back("m." + quote_identifier(column.name));
    }
    MGDPR_ASSIGN_OR_RETURN(
        auto rows,
        connection_.query(fmt::format("SELECT {} FROM {} m LEFT JOIN {} x ON x.id = "
                                      "m.{} WHERE m.lead_id = ? ORDER BY 1",
                                      db::join(columns, ", "), schema_.table(membership.table),
                                      schema_.table(membership.target_table),
                                      quote_identifier(membership.target_column)),
                          {contact_id}));
    MGDPR_TRY(emit(std::string(membership.section), rows));
  }

  // Every location, also those the policy keeps: they hold the person's data all the same.
  ExportRows locations(connection_, schema_, contact_id, email, emit);
  MGDPR_TRY(walk_locations(related_, locations, KeptLocations::kVisit));
  if (!locations.ips().empty() && schema_.has_table("ip_addresses")) {
    std::vector<Param> ips(locations.ips().begin(), locations.ips().end());
    MGDPR_ASSIGN_OR_RETURN(
        auto rows,
        connection_.query(fmt::format("SELECT * FROM {} WHERE id IN ({}) ORDER BY id",
                                      schema_.table("ip_addresses"), db::placeholders(ips.size())),
                          ips));
    MGDPR_TRY(emit("ip_addresses", rows));
  }
  return exported;
}

Result<ExportSummary> Engine::export_contacts(std::span<const int64_t> contact_ids,
                                              std::string_view named_by, const ExportSink& sink) {
  ExportSummary summary;
  for (int64_t contact_id : contact_ids) {
    // One snapshot per contact: its tables read as of one moment, while Mautic writes on.
    MGDPR_TRY(connection_.execute("START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY"));
    auto exported = export_one(contact_id, sink);
    MGDPR_TRY(connection_.rollback());
    if (!exported) return exported.error();
    summary.contacts.push_back(*exported);
  }
  std::vector<std::string> described;
  int64_t rows = 0;
  for (const auto& contact : summary.contacts) {
    described.push_back(fmt::format("contact {} ({})", contact.contact_id,
                                    contact.processed ? "processed" : "live"));
    rows += contact.rows;
  }
  MGDPR_TRY(
      audit("export",
            described.empty()
                ? fmt::format("by {}: no contact matches", named_by)
                : fmt::format("by {}: {}; {} rows", named_by, db::join(described, ", "), rows),
            int64_t(summary.contacts.size()),
            summary.contacts.size() == 1 ? std::optional<int64_t>(summary.contacts[0].contact_id)
                                         : std::nullopt));
  return summary;
}

Status Engine::audit(std::string_view action, std::string_view detail, int64_t matches,
                     std::optional<int64_t> contact_id) {
  if (!schema_.has_table("gdpr_audit")) {
    return make_error(
        "the gdpr tables are missing, so the {} cannot be audited; run "
        "`mautic-gdpr sweep` once to create them",
        action);
  }
  return write_audit(connection_, schema_, actor_, action, detail, matches, contact_id);
}

}  // namespace mgdpr::mautic
