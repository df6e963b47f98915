// SPDX-License-Identifier: GPL-3.0-or-later
#include "mautic/change_queue.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>

#include "core/hashing.h"
#include "mautic/location_rows.h"
#include "mautic/locations.h"
#include "mautic/own_tables.h"

namespace mgdpr::mautic {

using db::quote_identifier;

namespace {

// MariaDB error numbers of CREATE TRIGGER.
constexpr unsigned kTableAccessDenied = 1142;     // ER_TABLEACCESS_DENIED_ERROR: no TRIGGER privilege
constexpr unsigned kBinlogNeedsSuper = 1419;      // ER_BINLOG_CREATE_ROUTINE_NEED_SUPER
constexpr unsigned kSpecificAccessDenied = 1227;  // ER_SPECIFIC_ACCESS_DENIED_ERROR

constexpr size_t kMaxIdentifier = 64;

// Every trigger of the queue starts with this (after the table prefix): `remove` drops exactly
// these, whatever version made them.
std::string name_stem(const Schema& schema) { return schema.prefix() + "gdpr_q_"; }

std::string trigger_name(const Schema& schema, std::string_view table, char event) {
  std::string name = fmt::format("{}{}_{}", name_stem(schema), event, table);
  if (name.size() <= kMaxIdentifier) return name;
  // Long form table names: shortened, and told apart by a digest of the whole name.
  const std::string tail = "_" + sha256_hex(table).substr(0, 8);
  return name.substr(0, kMaxIdentifier - tail.size()) + tail;
}

// A constant of the location table as an SQL string literal (DDL cannot bind values). The
// values are ours (`lead`, a class name), never input; quotes and backslashes are doubled.
std::string literal(std::string_view value) {
  std::string out = "'";
  for (char c : value) {
    if (c == '\'' || c == '\\') out += c;
    out += c;
  }
  return out + "'";
}

// The body of a trigger on `table`: when `contact` (an expression on NEW) is a processed
// contact that has not come back, and the row is not written by mautic-gdpr itself (a sweep's
// own repairs make rows clean; @mautic_gdpr_writer is set on its connection), queue it with the
// table, where the next sweep checks it.
std::string queue_body(const Schema& schema, std::string_view table,
                       const std::string& contact_sql, const std::string& from,
                       const std::string& where) {
  return fmt::format(
      "INSERT INTO {dirty} (contact_id, location_table) SELECT g.contact_id, {table} FROM "
      "{from}{contacts} g WHERE g.contact_id = {contact} AND g.returned_at IS NULL AND "
      "@mautic_gdpr_writer IS NULL{where}",
      fmt::arg("dirty", schema.table("gdpr_dirty")), fmt::arg("table", literal(table)),
      fmt::arg("from", from), fmt::arg("contacts", schema.table("gdpr_contacts")),
      fmt::arg("contact", contact_sql), fmt::arg("where", where));
}

// `named` tells the pair apart: the table, or the location where several share one table
// (audit_log and audit_log_notes).
void add_pair(std::vector<QueueTrigger>& triggers, const Schema& schema, const std::string& table,
              const std::string& body, std::string_view named = {}) {
  if (named.empty()) named = table;
  triggers.push_back({table, "INSERT", trigger_name(schema, named, 'i'), body});
  triggers.push_back({table, "UPDATE", trigger_name(schema, named, 'u'), body});
}

// information_schema.TRIGGERS shows a body with its string escapes already applied (a class
// name's doubled backslash comes back single): bodies are compared without backslashes.
bool same_body(std::string shown, std::string ours) {
  std::erase(shown, '\\');
  std::erase(ours, '\\');
  return shown == ours;
}

// Every trigger of this database (Mautic's and plugins' too): name -> body.
Result<std::map<std::string, std::string>> existing_triggers(db::Connection& connection,
                                                             const Schema& schema) {
  MGDPR_ASSIGN_OR_RETURN(
      auto found, connection.query("SELECT TRIGGER_NAME, ACTION_STATEMENT FROM "
                                   "information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = ?",
                                   {schema.database()}));
  std::map<std::string, std::string> existing;
  for (const auto& row : found.rows) existing[row[0].value_or("")] = row[1].value_or("");
  return existing;
}

Status execute(db::Connection& connection, const std::string& sql) {
  auto done = connection.execute(sql);
  if (!done) return done.error();
  return {};
}

}  // namespace

std::vector<QueueTrigger> queue_triggers(const Schema& schema) {
  std::vector<QueueTrigger> triggers;
  // The profile and the do-not-contact comments.
  add_pair(triggers, schema, "leads", queue_body(schema, "leads", "NEW.`id`", "", ""));
  if (schema.has_table("lead_donotcontact")) {
    add_pair(triggers, schema, "lead_donotcontact",
             queue_body(schema, "lead_donotcontact", "NEW.`lead_id`", "", ""));
  }
  for (const Location& location : pii_locations()) {
    for (const std::string& table : tables_of(location, schema)) {
      const std::string link = "NEW." + quote_identifier(location.link_column);
      if (schema.column(table, location.link_column) == nullptr) continue;
      std::string where;
      if (!location.kind_column.empty()) {
        if (schema.column(table, location.kind_column) == nullptr) continue;
        std::vector<std::string> values;
        for (auto value : location.kind_values) values.push_back(literal(value));
        where = fmt::format(" AND NEW.{} IN ({})", quote_identifier(location.kind_column),
                            db::join(values, ", "));
      }
      const std::string named = record_name(location, table);
      switch (location.link) {
        case Link::kColumn:
          add_pair(triggers, schema, table, queue_body(schema, table, link, "", where), named);
          break;
        case Link::kParentRow: {
          // The parent row holds the contact: one point read of it by its key.
          const ParentRow& parent = location.parent;
          const std::string parent_contact = "parent." + quote_identifier(parent.contact_column);
          std::string parent_where =
              fmt::format(" AND parent.{} = {}", quote_identifier(parent.key), link);
          if (!parent.null_column.empty()) {
            parent_where += fmt::format(" AND parent.{} IS NULL", quote_identifier(parent.null_column));
          }
          add_pair(triggers, schema, table,
                   queue_body(schema, table, parent_contact,
                              schema.table(parent.table) + " parent JOIN ", parent_where + where),
                   named);
          break;
        }
        case Link::kPayload:
        case Link::kText:
          break;  // no column to read a contact from: unqueueable_tables()
      }
    }
  }
  return triggers;
}

std::vector<std::string> unqueueable_tables(const Schema& schema) {
  std::vector<std::string> tables;
  for (const Location& location : pii_locations()) {
    if (location.link != Link::kPayload && location.link != Link::kText) continue;
    for (const std::string& table : tables_of(location, schema)) tables.push_back(table);
  }
  return tables;
}

Result<QueueState> read_queue_state(db::Connection& connection, const Schema& schema) {
  QueueState state;
  MGDPR_ASSIGN_OR_RETURN(const auto existing, existing_triggers(connection, schema));
  std::map<std::string, bool> complete;  // per table, in table order of first appearance
  std::vector<std::string> order;
  for (const QueueTrigger& trigger : queue_triggers(schema)) {
    if (!complete.contains(trigger.table)) {
      complete[trigger.table] = true;
      order.push_back(trigger.table);
    }
    auto it = existing.find(trigger.name);
    if (it == existing.end() || !same_body(it->second, trigger.body)) {
      complete[trigger.table] = false;
    }
  }
  for (const auto& table : order) {
    if (complete[table]) {
      state.covered.insert(table);
    } else {
      state.missing.push_back(table);
    }
  }
  if (schema.has_table("gdpr_dirty")) {
    MGDPR_ASSIGN_OR_RETURN(auto count, connection.query_value(fmt::format(
                                           "SELECT COUNT(*) FROM {}", schema.table("gdpr_dirty"))));
    state.queued = db::cell_to_int(count).value_or(0);
  }
  if (schema.has_table("gdpr_meta")) {
    MGDPR_ASSIGN_OR_RETURN(auto baseline, read_meta(connection, schema, "queue_baseline"));
    state.baseline = baseline.has_value();
  }
  return state;
}

Error explain_trigger_error(const Error& error, const Schema& schema) {
  Error explained = error;
  explained.kind = ErrorKind::kConfig;
  if (error.server_code == kTableAccessDenied || error.server_code == kSpecificAccessDenied) {
    explained.message = fmt::format(
        "{}; the change queue needs the TRIGGER privilege; fix: GRANT TRIGGER ON `{}`.* TO "
        "<the database user of the config>",
        error.message, schema.database());
  } else if (error.server_code == kBinlogNeedsSuper) {
    explained.message = fmt::format(
        "{}; binary logging is on, and MariaDB lets only a user with SUPER create triggers then; "
        "fix: SET GLOBAL log_bin_trust_function_creators = 1 (and log_bin_trust_function_creators "
        "= 1 under [mysqld] in the server's config so it survives a restart), or run `queue "
        "install` once as a user with SUPER",
        error.message);
  } else {
    explained.kind = error.kind;
  }
  return explained;
}

Status install_queue(db::Connection& connection, const Schema& schema) {
  if (!schema.has_table("gdpr_dirty")) {
    return make_error("the gdpr tables are older than version 4 (no gdpr_dirty); run `mautic-gdpr "
                      "sweep` once to upgrade them, then install the queue");
  }
  MGDPR_ASSIGN_OR_RETURN(const auto existing, existing_triggers(connection, schema));
  // Until a full content check has run with every trigger in place, the queue does not know
  // what was written before: the next sweep does that check (queue_baseline).
  MGDPR_TRY(execute(connection, fmt::format("DELETE FROM {} WHERE name = 'queue_baseline'",
                                            schema.table("gdpr_meta"))));
  for (const QueueTrigger& trigger : queue_triggers(schema)) {
    auto it = existing.find(trigger.name);
    if (it != existing.end() && same_body(it->second, trigger.body)) continue;
    if (it != existing.end()) {
      MGDPR_TRY(execute(connection, "DROP TRIGGER IF EXISTS " + quote_identifier(trigger.name)));
    }
    auto created = connection.execute(
        fmt::format("CREATE TRIGGER {} AFTER {} ON {} FOR EACH ROW {}",
                    quote_identifier(trigger.name), trigger.event, schema.table(trigger.table),
                    trigger.body));
    if (!created) {
      return explain_trigger_error(
          Error{fmt::format("creating trigger `{}` on `{}`: {}", trigger.name,
                            schema.table_name(trigger.table), created.error().message),
                created.error().kind, created.error().server_code},
          schema);
    }
  }
  return write_meta(connection, schema, "queue", "installed");
}

Status remove_queue(db::Connection& connection, const Schema& schema) {
  MGDPR_ASSIGN_OR_RETURN(const auto existing, existing_triggers(connection, schema));
  const std::string stem = name_stem(schema);
  for (const auto& [name, body] : existing) {
    if (!name.starts_with(stem)) continue;
    auto dropped = connection.execute("DROP TRIGGER IF EXISTS " + quote_identifier(name));
    if (!dropped) return explain_trigger_error(dropped.error(), schema);
  }
  if (schema.has_table("gdpr_meta")) {
    MGDPR_TRY(execute(connection,
                      fmt::format("DELETE FROM {} WHERE name IN ('queue', 'queue_baseline')",
                                  schema.table("gdpr_meta"))));
  }
  if (schema.has_table("gdpr_dirty")) {
    MGDPR_TRY(execute(connection, fmt::format("DELETE FROM {}", schema.table("gdpr_dirty"))));
  }
  return {};
}

Result<bool> queue_installed(db::Connection& connection, const Schema& schema) {
  if (!schema.has_table("gdpr_dirty")) return false;
  MGDPR_ASSIGN_OR_RETURN(auto value, read_meta(connection, schema, "queue"));
  return value.has_value();
}

Status enqueue_contacts(db::Connection& connection, const Schema& schema,
                        const std::vector<int64_t>& contact_ids) {
  if (contact_ids.empty()) return {};
  std::vector<db::Param> params(contact_ids.begin(), contact_ids.end());
  std::vector<std::string> tuples(contact_ids.size(), "(?)");
  auto done = connection.execute(fmt::format("INSERT INTO {} (contact_id) VALUES {}",
                                             schema.table("gdpr_dirty"), db::join(tuples, ", ")),
                                 params);
  if (!done) return done.error();
  return {};
}

Result<QueueSlice> read_queue(db::Connection& connection, const Schema& schema, int64_t after,
                              int64_t up_to, int64_t limit) {
  MGDPR_ASSIGN_OR_RETURN(
      auto rows, connection.query(fmt::format("SELECT seq, contact_id, location_table FROM {} "
                                              "WHERE seq > ? AND seq <= ? ORDER BY seq LIMIT ?",
                                              schema.table("gdpr_dirty")),
                                  {after, up_to, limit}));
  QueueSlice slice;
  auto sorted_unique = [](std::vector<int64_t>& ids) {
    std::sort(ids.begin(), ids.end());
    ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  };
  for (const auto& row : rows.rows) {
    const int64_t contact = db::cell_to_int(row[1]).value_or(0);
    slice.seqs.push_back(db::cell_to_int(row[0]).value_or(0));
    slice.contacts.push_back(contact);
    (row[2] ? slice.by_table[*row[2]] : slice.everywhere).push_back(contact);
  }
  sorted_unique(slice.contacts);
  sorted_unique(slice.everywhere);
  for (auto& [table, ids] : slice.by_table) sorted_unique(ids);
  return slice;
}

Result<int64_t> queue_top(db::Connection& connection, const Schema& schema) {
  MGDPR_ASSIGN_OR_RETURN(auto top, connection.query_value(fmt::format(
                                       "SELECT MAX(seq) FROM {}", schema.table("gdpr_dirty"))));
  return db::cell_to_int(top).value_or(0);
}

Status delete_queued(db::Connection& connection, const Schema& schema,
                     const std::vector<int64_t>& seqs) {
  if (seqs.empty()) return {};
  std::vector<db::Param> params(seqs.begin(), seqs.end());
  auto done = connection.execute(fmt::format("DELETE FROM {} WHERE seq IN ({})",
                                             schema.table("gdpr_dirty"),
                                             db::placeholders(seqs.size())),
                                 params);
  if (!done) return done.error();
  return {};
}

}  // namespace mgdpr::mautic
