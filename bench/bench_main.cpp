// SPDX-License-Identifier: GPL-3.0-or-later
// mgdpr_bench: the product's sweep side by side with the naive ORM-like path and the database's
// own set-based limit, on identical copies of one synthetic Mautic, in one run. Also lookup
// latency, idle-sweep time and the sweep's peak RSS. bench/run drives it; see bench/README.md.
#include <fmt/chrono.h>
#include <fmt/ranges.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <optional>
#include <random>
#include <set>
#include <sstream>
#include <thread>

#include "app/secrets.h"
#include "app/session.h"
#include "core/normalize.h"
#include "core/scrub.h"
#include "mautic/location_walk.h"
#include "mautic/locations.h"
#include "statement_profile.h"
#include "testing/related_rows.h"
#include "testing/synthetic_mautic.h"

extern char** environ;

namespace mgdpr::bench {
namespace {

using Clock = std::chrono::steady_clock;
using testing::sql_literal;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

[[noreturn]] void fail(const std::string& what) {
  fmt::print(stderr, "mgdpr_bench: error: {}\n", what);
  std::exit(1);
}

template <typename T>
T must(Result<T> result, std::string_view what) {
  if (!result) fail(fmt::format("{}: {}", what, result.error().message));
  return std::move(*result);
}

void must(const Status& status, std::string_view what) {
  if (!status) fail(fmt::format("{}: {}", what, status.error().message));
}

struct Options {
  std::string socket;
  std::string work_dir = "build/bench-work";
  std::string fixtures_dir = "tests/fixtures";
  int64_t contacts = 20000;
  int64_t dnc_period = 10;
  uint64_t seed = 1;
  bool related = true;
  int batch_size = 500;
  int workers = 0;        // 0: [sweep] workers at its default
  int repeat = 1;         // times the product and the limit are timed (the median is reported)
  int64_t naive_max = 0;  // 0: the naive path does every contact
  int lookups = 1000;
  std::vector<int64_t> rss_sizes;
  std::string results_file;  // empty: do not record
  std::string command = "bench/run";
  std::string commit = "unknown";
  std::string label = "CI-sized";
  bool profile = false;  // statement profiles of the product's sweeps (bench/README.md)
};

std::unique_ptr<db::Connection> connect_root(const Options& options, const std::string& database) {
  db::ConnectParams params;
  params.socket = options.socket;
  params.user = "root";
  params.database = database;
  return must(db::Connection::open(params), "connect to the bench server");
}

// ---------------------------------------------------------------------------------------------
// Data: one base database, then an identical copy of it for each of the three ways.

std::string base_db() { return "bench_base"; }

void drop_database(db::Connection& root, const std::string& name) {
  must(root.execute(fmt::format("DROP DATABASE IF EXISTS {}", db::quote_identifier(name))),
       "drop database");
}

void create_database(db::Connection& root, const std::string& name) {
  drop_database(root, name);
  must(root.execute(fmt::format("CREATE DATABASE {} CHARACTER SET utf8mb4 COLLATE "
                                "utf8mb4_unicode_ci",
                                db::quote_identifier(name))),
       "create database");
}

// Columns of a table that can be written (generated columns are computed by the server).
std::vector<std::string> stored_columns(db::Connection& connection, const std::string& database,
                                        const std::string& table, bool with_generated = false) {
  auto rows =
      must(connection.query("SELECT COLUMN_NAME, IS_GENERATED FROM information_schema.COLUMNS "
                            "WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? "
                            "ORDER BY ORDINAL_POSITION",
                            {database, table}),
           "read columns");
  std::vector<std::string> columns;
  for (const auto& row : rows.rows) {
    if (with_generated || row[1].value_or("NEVER") == "NEVER") {
      columns.push_back(row[0].value_or(""));
    }
  }
  return columns;
}

std::string quoted_list(const std::vector<std::string>& columns, std::string_view prefix = "") {
  std::string list;
  for (const auto& column : columns) {
    if (!list.empty()) list += ", ";
    list += std::string(prefix) + db::quote_identifier(column);
  }
  return list;
}

// The base's tables as the copies need them: every table (Mautic's schema, so the product
// finds what it expects), its writable columns, and whether it holds rows to copy.
struct BaseTable {
  std::string name;
  std::string columns;  // quoted list of the stored columns
  bool has_rows = false;
};

std::vector<BaseTable> base_tables(db::Connection& root) {
  auto names = must(root.query("SELECT TABLE_NAME FROM information_schema.TABLES WHERE "
                               "TABLE_SCHEMA = ? AND TABLE_TYPE = 'BASE TABLE' ORDER BY TABLE_NAME",
                               {base_db()}),
                    "list the base tables");
  std::vector<BaseTable> tables;
  for (const auto& row : names.rows) {
    BaseTable table;
    table.name = row[0].value_or("");
    table.columns = quoted_list(stored_columns(root, base_db(), table.name));
    table.has_rows = must(root.query_value(fmt::format("SELECT 1 FROM {}.{} LIMIT 1",
                                                       db::quote_identifier(base_db()),
                                                       db::quote_identifier(table.name))),
                          "read " + table.name)
                         .has_value();
    tables.push_back(std::move(table));
  }
  return tables;
}

// An identical copy of the base for one of the three ways: every table's structure (without
// the foreign keys, which CREATE TABLE ... LIKE does not copy, the same for all three) and its
// rows, one INSERT ... SELECT per table. Returns the seconds it took.
double copy_database(const Options& options, db::Connection& root,
                     const std::vector<BaseTable>& tables, const std::string& name) {
  const auto start = Clock::now();
  create_database(root, name);
  auto copy = connect_root(options, name);
  // The rows are the base's, consistent already. With both checks off MariaDB fills an empty
  // table in bulk (sorted index builds), about 1.7x faster than row by row.
  must(copy->execute_script("SET SESSION unique_checks = 0; SET SESSION foreign_key_checks = 0"),
       "copy: session");
  for (const auto& table : tables) {
    const std::string target = db::quote_identifier(name) + "." + db::quote_identifier(table.name);
    const std::string source =
        db::quote_identifier(base_db()) + "." + db::quote_identifier(table.name);
    must(copy->execute(fmt::format("CREATE TABLE {} LIKE {}", target, source)),
         "copy " + table.name);
    if (!table.has_rows) continue;
    must(copy->execute(fmt::format("INSERT INTO {} ({}) SELECT {} FROM {}", target, table.columns,
                                   table.columns, source)),
         "copy " + table.name);
    // Statistics as a running server has them. InnoDB would recount them in the background
    // after the bulk insert, and a way timed before that ends gets other plans than one timed
    // after it.
    must(copy->query("ANALYZE TABLE " + target), "analyze " + table.name);
  }
  return seconds_since(start);
}

// ---------------------------------------------------------------------------------------------
// Configs and sessions.

std::string key_path(const Options& options) { return options.work_dir + "/hmac.key"; }

// The server writes the statement log, so the path is absolute.
std::string profile_log(const Options& options, std::string_view part) {
  return std::filesystem::absolute(options.work_dir).string() + fmt::format("/{}.slow.log", part);
}

// The product's policy, [related] at its defaults: the same for the three ways.
std::string write_config(const Options& options, const std::string& database) {
  const std::string text = fmt::format(
      "[database]\nsocket = \"{}\"\nname = \"{}\"\nuser = \"root\"\ntable_prefix = \"\"\n\n"
      "[hashing]\nkey_file = \"{}\"\n\n"
      "[trigger]\nreasons = [\"unsubscribed\", \"bounced\"]\nchannels = [\"email\"]\n\n"
      "[policy]\ndefault = \"delete\"\n\n"
      "[policy.fields]\nemail = \"hash\"\nmobile = \"hash\"\nwork_email = \"hash\"\n"
      "country = \"keep\"\ncity = \"keep\"\n\n"
      "[sweep]\nbatch_size = {}\n{}",
      options.socket, database, key_path(options), options.batch_size,
      options.workers > 0 ? fmt::format("workers = {}\n", options.workers) : "");
  const std::string path = fmt::format("{}/{}.toml", options.work_dir, database);
  std::ofstream(path) << text;
  return path;
}

std::unique_ptr<app::Session> open_session(const std::string& config_path) {
  return must(app::open_session(config_path, app::Access::kWrite, "bench"), "open session");
}

// Contacts the engine would process: on DNC for a configured reason and channel, and not
// recorded yet (the same rule as Engine::pending_contacts_sql).
std::vector<int64_t> pending_ids(app::Session& session) {
  const auto& config = session.config;
  std::vector<db::Param> params;
  for (DncReason reason : config.reasons) params.emplace_back(int64_t(reason));
  for (const auto& channel : config.channels) params.emplace_back(channel);
  auto rows = must(
      session.connection->query(
          fmt::format(
              "SELECT DISTINCT d.lead_id FROM {} d LEFT JOIN {} g ON g.contact_id = "
              "d.lead_id WHERE d.lead_id IS NOT NULL AND d.reason IN ({}) AND d.channel "
              "IN ({}) AND g.contact_id IS NULL ORDER BY d.lead_id",
              session.schema.table("lead_donotcontact"), session.schema.table("gdpr_contacts"),
              db::placeholders(config.reasons.size()), db::placeholders(config.channels.size())),
          params),
      "pending contacts");
  std::vector<int64_t> ids;
  for (const auto& row : rows.rows) ids.push_back(db::cell_to_int(row[0]).value_or(0));
  return ids;
}

// The engine's rule for one hashed value: empty stays empty (NULL), a digest is not hashed again.
std::optional<std::string> digest_of(const app::Session& session, const mautic::ColumnPlan& plan,
                                     const db::Cell& cell) {
  if (!cell || trim(*cell).empty()) return std::nullopt;
  if (looks_like_digest(*cell)) return *cell;
  return session.keys->active().key.hmac_hex(normalize(plan.kind, *cell));
}

std::string reason_case_sql(std::string_view column) {
  return fmt::format(
      "CASE {} WHEN 1 THEN 'unsubscribed' WHEN 2 THEN 'bounced' "
      "WHEN 3 THEN 'manual' ELSE 'unknown' END",
      column);
}

// ---------------------------------------------------------------------------------------------
// The related rows, as the naive and limit paths write them: the product's rules for the
// tables the generator fills (tools/testing/related_rows.cpp), written out by hand from
// src/mautic/locations.cpp and src/mautic/related_scrubber.cpp. Plain columns are cleared to
// NULL, or to '' where the column is NOT NULL; serialized ones go through
// scrub_php_serialized; an ip_id is set to NULL apart from these lists (whether a table has
// one is read from the live schema); lead_ips_xref rows are deleted; form results are cleared
// column by column from the live schema; an IP nobody uses any more is deleted.

struct RelatedTable {
  std::string_view table;
  std::string_view contact_column;
  std::string_view kind_column;  // with kind_value: only rows about a contact (audit_log)
  std::string_view kind_value;
  std::vector<std::pair<std::string_view, std::string_view>> cleared;  // column, SQL value
  std::vector<std::string_view> serialized;
};

const std::vector<RelatedTable>& related_tables() {
  static const std::vector<RelatedTable> tables = {
      {"email_stats",
       "lead_id",
       "",
       "",
       {{"email_address", "''"}, {"tracking_hash", "NULL"}},
       {"tokens", "open_details"}},
      {"page_hits",
       "lead_id",
       "",
       "",
       {{"country", "NULL"},
        {"region", "NULL"},
        {"city", "NULL"},
        {"isp", "NULL"},
        {"organization", "NULL"},
        {"referer", "NULL"},
        {"url", "NULL"},
        {"url_title", "NULL"},
        {"user_agent", "NULL"},
        {"remote_host", "NULL"},
        {"page_language", "NULL"},
        {"tracking_id", "''"}},
       {"browser_languages", "query"}},
      {"form_submissions", "lead_id", "", "", {{"tracking_id", "NULL"}, {"referer", "''"}}, {}},
      {"audit_log", "object_id", "object", "lead", {{"ip_address", "''"}}, {"details"}},
  };
  return tables;
}

constexpr std::string_view kFormResults = "form_results_1_contactform";
constexpr std::string_view kIpLinks = "lead_ips_xref";

// The SET list of a related table's plain columns (ip_id first), `alias` before each column.
std::vector<std::string> cleared_assignments(const mautic::Schema& schema,
                                             const RelatedTable& table, std::string_view alias) {
  std::vector<std::string> assignments;
  if (schema.column(table.table, "ip_id") != nullptr) {
    assignments.push_back(fmt::format("{}ip_id = NULL", alias));
  }
  for (const auto& [column, value] : table.cleared) {
    assignments.push_back(fmt::format("{}{} = {}", alias, db::quote_identifier(column), value));
  }
  return assignments;
}

// Form results: every column but submission_id and form_id, NULL or '' (other NOT NULL columns
// stay, as in the product).
std::string form_results_assignments(const mautic::Schema& schema, std::string_view alias) {
  const auto* columns = schema.columns(kFormResults);
  if (columns == nullptr) fail(fmt::format("{} is missing", kFormResults));
  std::vector<std::string> assignments;
  for (const auto& column : *columns) {
    if (column.name == "submission_id" || column.name == "form_id") continue;
    if (!column.nullable && !column.is_text()) continue;
    assignments.push_back(fmt::format("{}{} = {}", alias, db::quote_identifier(column.name),
                                      column.nullable ? "NULL" : "''"));
  }
  return db::join(assignments, ", ");
}

// Every table whose ip_id can keep an IP in use.
std::vector<std::string> ip_tables(const mautic::Schema& schema) {
  std::vector<std::string> tables;
  for (const auto& table : schema.tables()) {
    if (schema.column(table, "ip_id") != nullptr) tables.push_back(table);
  }
  return tables;
}

// A serialized value as the product scrubs it: one that does not parse is cleared (to NULL:
// every serialized column here is nullable).
std::optional<std::string> scrubbed(const db::Cell& value) {
  if (!value) return std::nullopt;
  auto result = scrub_php_serialized(*value);
  if (!result) return std::nullopt;
  return std::move(*result);
}

// The engine keeps the DNC comments it wrote itself (`NOT LIKE 'mautic-gdpr:%'`, any case).
bool written_by_the_tool(std::string_view comment) {
  constexpr std::string_view kPrefix = "mautic-gdpr:";
  return comment.size() >= kPrefix.size() &&
         std::equal(kPrefix.begin(), kPrefix.end(), comment.begin(), [](char a, char b) {
           return a == std::tolower(static_cast<unsigned char>(b));
         });
}

// The naive and limit paths are written out for the tables the generator fills: refuse to
// compare when the product would change rows in any other table, or where these rules differ.
void check_bench_covers(app::Session& session) {
  std::set<std::string, std::less<>> covered = {std::string(kFormResults), std::string(kIpLinks)};
  for (const auto& table : related_tables()) covered.emplace(table.table);
  // Every table the product changes (the walk skips the kept ones) must be written here too.
  struct Uncovered : mautic::EveryTableVisitor {
    app::Session& session;
    const std::set<std::string, std::less<>>& covered;
    Uncovered(app::Session& s, const std::set<std::string, std::less<>>& c)
        : session(s), covered(c) {}
    Status table(const mautic::LocationPlan&, const std::string& table) override {
      if (covered.contains(table)) return {};
      auto any = must(session.connection->query_value(
                          fmt::format("SELECT 1 FROM {} LIMIT 1", session.schema.table(table))),
                      "read " + table);
      if (any) fail(table + " has rows, but the naive and limit paths do not write it");
      return {};
    }
  } uncovered(session, covered);
  must(mautic::walk_locations(session.related, uncovered), "walk the locations");
  for (const auto& table : related_tables()) {
    const auto* ip = session.schema.column(table.table, "ip_id");
    if (ip != nullptr && !ip->nullable) {
      fail(
          fmt::format("{}.ip_id is NOT NULL: the bench writes NULL, as the product does on "
                      "Mautic 5.1",
                      table.table));
    }
  }
}

// ---------------------------------------------------------------------------------------------
// (2) The naive path: what a plugin on an ORM does. Per contact: load the entity and its DNC
// rows, write every changed field with its own UPDATE in autocommit, then load each related
// table's rows and write each row with its own UPDATE (or DELETE), then drop the IPs the
// contact was the last to use.

size_t column_index(const db::Rows& rows, std::string_view column) {
  auto at = std::find(rows.columns.begin(), rows.columns.end(), column);
  if (at == rows.columns.end()) fail(fmt::format("naive: column missing: {}", column));
  return size_t(at - rows.columns.begin());
}

// One contact's related rows, row by row; returns the IPs they referenced.
std::set<int64_t> naive_related_rows(app::Session& session, int64_t id) {
  auto& connection = *session.connection;
  const auto& schema = session.schema;
  std::set<int64_t> ips;
  std::vector<int64_t> submissions;
  for (const auto& table : related_tables()) {
    std::string where = fmt::format("{} = ?", db::quote_identifier(table.contact_column));
    if (!table.kind_column.empty()) {
      where += fmt::format(" AND {} = {}", db::quote_identifier(table.kind_column),
                           sql_literal(table.kind_value));
    }
    auto rows =
        must(connection.query(
                 fmt::format("SELECT * FROM {} WHERE {}", schema.table(table.table), where), {id}),
             "naive: load " + std::string(table.table));
    if (rows.empty()) continue;
    auto assignments = cleared_assignments(schema, table, "");
    for (auto column : table.serialized) {
      assignments.push_back(db::quote_identifier(column) + " = ?");
    }
    const std::string update = fmt::format("UPDATE {} SET {} WHERE id = ?",
                                           schema.table(table.table), db::join(assignments, ", "));
    const size_t id_at = column_index(rows, "id");
    const bool has_ip = schema.column(table.table, "ip_id") != nullptr;
    const size_t ip_at = has_ip ? column_index(rows, "ip_id") : 0;
    for (const auto& row : rows.rows) {
      if (has_ip && row[ip_at]) ips.insert(db::cell_to_int(row[ip_at]).value_or(0));
      std::vector<db::Param> params;
      for (auto column : table.serialized) {
        auto value = scrubbed(row[column_index(rows, column)]);
        params.push_back(value ? db::Param(*value) : db::Param(nullptr));
      }
      const int64_t row_id = db::cell_to_int(row[id_at]).value_or(0);
      params.emplace_back(row_id);
      must(connection.execute(update, params), "naive: update " + std::string(table.table));
      if (table.table == "form_submissions") submissions.push_back(row_id);
    }
  }
  const std::string results_update =
      fmt::format("UPDATE {} SET {} WHERE submission_id = ?", schema.table(kFormResults),
                  form_results_assignments(schema, ""));
  for (int64_t submission : submissions) {
    auto result = must(connection.query(fmt::format("SELECT * FROM {} WHERE submission_id = ?",
                                                    schema.table(kFormResults)),
                                        {submission}),
                       "naive: load form results");
    if (result.empty()) continue;
    must(connection.execute(results_update, {submission}), "naive: clear form results");
  }
  auto links = must(connection.query(fmt::format("SELECT lead_id, ip_id FROM {} WHERE lead_id = ?",
                                                 schema.table(kIpLinks)),
                                     {id}),
                    "naive: load IP links");
  for (const auto& link : links.rows) {
    const int64_t ip = db::cell_to_int(link[1]).value_or(0);
    ips.insert(ip);
    must(connection.execute(
             fmt::format("DELETE FROM {} WHERE lead_id = ? AND ip_id = ?", schema.table(kIpLinks)),
             {id, ip}),
         "naive: delete IP link");
  }
  return ips;
}

// Each IP is deleted when no row of any table refers to it any more.
void naive_drop_unused_ips(app::Session& session, const std::vector<std::string>& users,
                           const std::set<int64_t>& ips) {
  auto& connection = *session.connection;
  for (int64_t ip : ips) {
    bool used = false;
    for (const auto& table : users) {
      used = must(connection.query_value(fmt::format("SELECT 1 FROM {} WHERE ip_id = ? LIMIT 1",
                                                     session.schema.table(table)),
                                         {ip}),
                  "naive: IP in use?")
                 .has_value();
      if (used) break;
    }
    if (used) continue;
    must(
        connection.execute(
            fmt::format("DELETE FROM {} WHERE id = ?", session.schema.table("ip_addresses")), {ip}),
        "naive: delete IP");
  }
}

void naive_contact(app::Session& session, const std::vector<std::string>& ip_users, int64_t id) {
  auto& connection = *session.connection;
  const auto& schema = session.schema;
  auto lead = must(
      connection.query(fmt::format("SELECT * FROM {} WHERE id = ?", schema.table("leads")), {id}),
      "naive: load contact");
  if (lead.empty()) return;
  auto done =
      must(connection.query_value(fmt::format("SELECT contact_id FROM {} WHERE contact_id = ?",
                                              schema.table("gdpr_contacts")),
                                  {id}),
           "naive: processed?");
  if (done) return;
  auto dnc = must(connection.query(fmt::format("SELECT id, reason, channel, date_added, comments "
                                               "FROM {} WHERE lead_id = ? ORDER BY date_added, id",
                                               schema.table("lead_donotcontact")),
                                   {id}),
                  "naive: load DNC");
  const auto& config = session.config;
  const std::vector<db::Cell>* trigger = nullptr;
  for (const auto& row : dnc.rows) {
    auto reason = reason_from_code(db::cell_to_int(row[1]).value_or(0));
    const bool configured_reason = reason && std::find(config.reasons.begin(), config.reasons.end(),
                                                       *reason) != config.reasons.end();
    const bool configured_channel = std::find(config.channels.begin(), config.channels.end(),
                                              row[2].value_or("")) != config.channels.end();
    if (configured_reason && configured_channel) {
      trigger = &row;
      break;
    }
  }
  if (trigger == nullptr) return;

  std::vector<std::pair<std::string, std::string>> hashes;  // digest, field
  for (const auto& plan : session.policy.columns) {
    if (plan.action == Action::kKeep) continue;
    db::Param value = nullptr;
    if (plan.action == Action::kHash) {
      if (auto digest = digest_of(session, plan, lead.rows[0][column_index(lead, plan.column)])) {
        hashes.emplace_back(*digest, plan.column);
        value = *digest;
      }
    }
    must(connection.execute(fmt::format("UPDATE {} SET {} = ? WHERE id = ?", schema.table("leads"),
                                        db::quote_identifier(plan.column)),
                            {value, db::Param(id)}),
         "naive: update field");
  }
  naive_drop_unused_ips(session, ip_users, naive_related_rows(session, id));
  for (const auto& row : dnc.rows) {
    if (!row[4] || written_by_the_tool(*row[4])) continue;
    must(connection.execute(fmt::format("UPDATE {} SET comments = NULL WHERE id = ?",
                                        schema.table("lead_donotcontact")),
                            {db::cell_to_int(row[0]).value_or(0)}),
         "naive: clear DNC comment");
  }
  for (const auto& [digest, field] : hashes) {
    must(connection.execute(fmt::format("INSERT IGNORE INTO {} (digest, field, contact_id) "
                                        "VALUES (?, ?, ?)",
                                        schema.table("gdpr_hashes")),
                            {db::Param(digest), db::Param(field), db::Param(id)}),
         "naive: insert hash");
  }
  auto reason = reason_from_code(db::cell_to_int((*trigger)[1]).value_or(0));
  must(connection.execute(
           fmt::format(
               "INSERT INTO {} (contact_id, processed_at, reason, channel, dnc_date, "
               "policy_fingerprint, source) VALUES (?, UTC_TIMESTAMP(6), ?, ?, ?, ?, 'sweep')",
               schema.table("gdpr_contacts")),
           {db::Param(id), db::Param(std::string(reason ? reason_name(*reason) : "unknown")),
            db::Param((*trigger)[2].value_or("")),
            (*trigger)[3] ? db::Param(*(*trigger)[3]) : db::Param(nullptr),
            db::Param(session.policy.fingerprint)}),
       "naive: record contact");
}

// ---------------------------------------------------------------------------------------------
// (3) The database's limit: every value computed beforehand (digests, scrubbed serialized
// values), loaded into scratch tables in bulk, then one set-based statement per table. No
// batching, no re-checks, no tool.

struct LimitTimes {
  double precompute_seconds = 0;  // reading the values, hashing and scrubbing them (not counted)
  double seconds = 0;             // bulk loads into the scratch tables + one statement per table
};

// Multi-row INSERTs of the tuples, flushed at about 4 MiB.
void bulk_insert(db::Connection& connection, const std::string& table,
                 const std::vector<std::string>& tuples) {
  std::string insert;
  for (size_t i = 0; i < tuples.size(); ++i) {
    insert += insert.empty() ? fmt::format("INSERT INTO {} VALUES ", table) : ", ";
    insert += tuples[i];
    if (insert.size() > 4 * 1024 * 1024 || i + 1 == tuples.size()) {
      must(connection.execute(insert), "limit: load " + table);
      insert.clear();
    }
  }
}

std::string scratch_values_table(const RelatedTable& table) {
  return db::quote_identifier(fmt::format("bench_values_{}", table.table));
}

// The scrubbed serialized values of the contacts' rows of one table, as "(id, value, ...)"
// tuples; rows without any serialized value need none (NULL stays NULL).
std::vector<std::string> scrubbed_values(app::Session& session, const RelatedTable& table,
                                         const std::vector<int64_t>& ids) {
  std::vector<std::string> selected = {"id"}, any_set;
  for (auto column : table.serialized) {
    selected.push_back(db::quote_identifier(column));
    any_set.push_back(db::quote_identifier(column) + " IS NOT NULL");
  }
  std::string kind;
  if (!table.kind_column.empty()) {
    kind = fmt::format(" AND {} = {}", db::quote_identifier(table.kind_column),
                       sql_literal(table.kind_value));
  }
  std::vector<std::string> tuples;
  constexpr size_t kChunk = 1000;  // contacts per read
  for (size_t from = 0; from < ids.size(); from += kChunk) {
    const size_t to = std::min(ids.size(), from + kChunk);
    std::vector<db::Param> params(ids.begin() + int64_t(from), ids.begin() + int64_t(to));
    auto rows =
        must(session.connection->query(
                 fmt::format("SELECT {} FROM {} WHERE {} IN ({}){} AND ({})",
                             db::join(selected, ", "), session.schema.table(table.table),
                             db::quote_identifier(table.contact_column),
                             db::placeholders(params.size()), kind, db::join(any_set, " OR ")),
                 params),
             "limit: read " + std::string(table.table));
    for (const auto& row : rows.rows) {
      std::string tuple = "(" + row[0].value_or("0");
      for (size_t c = 1; c < row.size(); ++c) {
        auto value = scrubbed(row[c]);
        tuple += ", " + (value ? sql_literal(*value) : "NULL");
      }
      tuples.push_back(tuple + ")");
    }
  }
  return tuples;
}

// `timed_start` runs just before the timed part (a statement profile starts there).
LimitTimes limit_path(app::Session& session, const std::vector<int64_t>& ids,
                      const std::function<void()>& timed_start = {}) {
  LimitTimes times;
  if (ids.empty()) return times;
  auto& connection = *session.connection;
  const auto& schema = session.schema;
  const auto hashed = session.policy.with_action(Action::kHash);
  const auto deleted = session.policy.with_action(Action::kDelete);
  const std::string pending = db::quote_identifier("bench_pending");
  const std::string ip_candidates = db::quote_identifier("bench_ip_candidates");

  // Precompute: the clear values of the hashed columns and their digests, then the related
  // rows' serialized values, scrubbed.
  const auto precompute_start = Clock::now();
  std::vector<std::string> pending_tuples;
  pending_tuples.reserve(ids.size());
  const std::set<int64_t> wanted(ids.begin(), ids.end());
  std::string selected = "id";
  for (const auto* plan : hashed) selected += ", " + db::quote_identifier(plan->column);
  constexpr int64_t kChunk = 20000;  // keyset chunks keep the client's memory flat
  for (size_t from = 0; from < ids.size(); from += kChunk) {
    const size_t to = std::min(ids.size(), from + size_t(kChunk));
    auto rows = must(connection.query(fmt::format("SELECT {} FROM {} WHERE id BETWEEN ? AND ? "
                                                  "ORDER BY id",
                                                  selected, schema.table("leads")),
                                      {ids[from], ids[to - 1]}),
                     "limit: read values");
    for (const auto& row : rows.rows) {
      const int64_t id = db::cell_to_int(row[0]).value_or(0);
      if (!wanted.contains(id)) continue;
      std::string tuple = fmt::format("({}", id);
      for (size_t h = 0; h < hashed.size(); ++h) {
        auto digest = digest_of(session, *hashed[h], row[h + 1]);
        tuple += digest ? ", '" + *digest + "'" : ", NULL";
      }
      pending_tuples.push_back(tuple + ")");
    }
  }
  std::vector<std::vector<std::string>> values_tuples;
  for (const auto& table : related_tables()) {
    values_tuples.push_back(table.serialized.empty() ? std::vector<std::string>{}
                                                     : scrubbed_values(session, table, ids));
  }
  times.precompute_seconds = seconds_since(precompute_start);

  // Scratch tables (not counted): the pending contacts with their digests, per related table
  // the scrubbed values, and the IPs the contacts' rows refer to.
  std::vector<std::string> scratch = {pending, ip_candidates};
  std::string digest_columns;
  for (size_t h = 0; h < hashed.size(); ++h) {
    digest_columns += fmt::format(", d{} CHAR(64) NULL", h);
  }
  must(connection.execute(fmt::format("CREATE OR REPLACE TABLE {} (contact_id BIGINT UNSIGNED NOT "
                                      "NULL PRIMARY KEY{}) ENGINE=InnoDB",
                                      pending, digest_columns)),
       "limit: create scratch");
  must(connection.execute(fmt::format("CREATE OR REPLACE TABLE {} (id INT UNSIGNED NOT NULL "
                                      "PRIMARY KEY) ENGINE=InnoDB",
                                      ip_candidates)),
       "limit: create scratch");
  for (const auto& table : related_tables()) {
    if (table.serialized.empty()) continue;
    std::string columns;
    for (auto column : table.serialized) {
      columns += ", " + db::quote_identifier(column) + " LONGTEXT NULL";
    }
    scratch.push_back(scratch_values_table(table));
    must(connection.execute(fmt::format("CREATE OR REPLACE TABLE {} (id BIGINT UNSIGNED NOT NULL "
                                        "PRIMARY KEY{}) ENGINE=InnoDB",
                                        scratch.back(), columns)),
         "limit: create scratch");
  }

  if (timed_start) timed_start();
  const auto start = Clock::now();
  must(connection.begin(), "limit: begin");
  bulk_insert(connection, pending, pending_tuples);
  for (size_t t = 0; t < related_tables().size(); ++t) {
    if (!values_tuples[t].empty()) {
      bulk_insert(connection, scratch_values_table(related_tables()[t]), values_tuples[t]);
    }
  }

  // The IPs the contacts' rows refer to, before they are unlinked: the candidates to drop.
  std::vector<std::string> ip_selects = {
      fmt::format("SELECT x.ip_id FROM {} x JOIN {} p ON p.contact_id = x.lead_id",
                  schema.table(kIpLinks), pending)};
  for (const auto& table : related_tables()) {
    if (schema.column(table.table, "ip_id") == nullptr) continue;
    ip_selects.push_back(fmt::format(
        "SELECT x.ip_id FROM {} x JOIN {} p ON p.contact_id = x.{} WHERE x.ip_id IS NOT NULL",
        schema.table(table.table), pending, db::quote_identifier(table.contact_column)));
  }
  must(connection.execute(
           fmt::format("INSERT INTO {} {}", ip_candidates, db::join(ip_selects, " UNION "))),
       "limit: candidate IPs");

  // One UPDATE per related table: plain columns cleared, serialized ones from the scratch.
  for (const auto& table : related_tables()) {
    auto assignments = cleared_assignments(schema, table, "x.");
    std::string join = fmt::format("JOIN {} p ON p.contact_id = x.{}", pending,
                                   db::quote_identifier(table.contact_column));
    if (!table.serialized.empty()) {
      join += fmt::format(" LEFT JOIN {} v ON v.id = x.id", scratch_values_table(table));
      for (auto column : table.serialized) {
        assignments.push_back(fmt::format("x.{0} = v.{0}", db::quote_identifier(column)));
      }
    }
    std::string where;
    if (!table.kind_column.empty()) {
      where = fmt::format(" WHERE x.{} = {}", db::quote_identifier(table.kind_column),
                          sql_literal(table.kind_value));
    }
    must(connection.execute(fmt::format("UPDATE {} x {} SET {}{}", schema.table(table.table), join,
                                        db::join(assignments, ", "), where)),
         "limit: update " + std::string(table.table));
  }
  must(connection.execute(fmt::format("UPDATE {} x JOIN {} s ON s.id = x.submission_id JOIN {} p "
                                      "ON p.contact_id = s.lead_id SET {}",
                                      schema.table(kFormResults), schema.table("form_submissions"),
                                      pending, form_results_assignments(schema, "x."))),
       "limit: clear form results");
  must(connection.execute(fmt::format("DELETE x FROM {} x JOIN {} p ON p.contact_id = x.lead_id",
                                      schema.table(kIpLinks), pending)),
       "limit: delete IP links");
  std::vector<std::string> unused;
  for (const auto& table : ip_tables(schema)) {
    unused.push_back(
        fmt::format("NOT EXISTS (SELECT 1 FROM {} u WHERE u.ip_id = i.id)", schema.table(table)));
  }
  must(connection.execute(fmt::format("DELETE i FROM {} i JOIN {} c ON c.id = i.id WHERE {}",
                                      schema.table("ip_addresses"), ip_candidates,
                                      db::join(unused, " AND "))),
       "limit: delete unused IPs");

  // The profile.
  std::vector<std::string> assignments;
  for (const auto* plan : deleted) {
    assignments.push_back("l." + db::quote_identifier(plan->column) + " = NULL");
  }
  for (size_t h = 0; h < hashed.size(); ++h) {
    assignments.push_back(fmt::format("l.{} = p.d{}", db::quote_identifier(hashed[h]->column), h));
  }
  must(connection.execute(fmt::format("UPDATE {} l JOIN {} p ON p.contact_id = l.id SET {}",
                                      schema.table("leads"), pending, db::join(assignments, ", "))),
       "limit: update leads");
  must(connection.execute(fmt::format("UPDATE {} d JOIN {} p ON p.contact_id = d.lead_id "
                                      "SET d.comments = NULL WHERE d.comments IS NOT NULL AND "
                                      "d.comments NOT LIKE 'mautic-gdpr:%'",
                                      schema.table("lead_donotcontact"), pending)),
       "limit: clear DNC comments");
  if (!hashed.empty()) {
    std::string selects;
    for (size_t h = 0; h < hashed.size(); ++h) {
      selects +=
          fmt::format("{0}SELECT d{1}, {2}, contact_id FROM {3} WHERE d{1} IS NOT NULL",
                      h == 0 ? "" : " UNION ALL ", h, sql_literal(hashed[h]->column), pending);
    }
    must(connection.execute(fmt::format("INSERT IGNORE INTO {} (digest, field, contact_id) {}",
                                        schema.table("gdpr_hashes"), selects)),
         "limit: insert hashes");
  }
  std::vector<db::Param> params = {session.policy.fingerprint};
  for (DncReason reason : session.config.reasons) params.emplace_back(int64_t(reason));
  for (const auto& channel : session.config.channels) params.emplace_back(channel);
  must(connection.execute(
           fmt::format("INSERT INTO {} (contact_id, processed_at, reason, channel, dnc_date, "
                       "policy_fingerprint, source) SELECT e.lead_id, UTC_TIMESTAMP(6), {}, "
                       "e.channel, e.date_added, ?, 'sweep' FROM (SELECT d.lead_id, d.reason, "
                       "d.channel, d.date_added, ROW_NUMBER() OVER (PARTITION BY d.lead_id ORDER "
                       "BY d.date_added, d.id) AS n FROM {} d JOIN {} p ON p.contact_id = "
                       "d.lead_id WHERE d.reason IN ({}) AND d.channel IN ({})) e WHERE e.n = 1",
                       schema.table("gdpr_contacts"), reason_case_sql("e.reason"),
                       schema.table("lead_donotcontact"), pending,
                       db::placeholders(session.config.reasons.size()),
                       db::placeholders(session.config.channels.size())),
           params),
       "limit: record contacts");
  must(connection.commit(), "limit: commit");
  times.seconds = seconds_since(start);
  for (const auto& table : scratch) {
    must(connection.execute(fmt::format("DROP TABLE {}", table)), "limit: drop scratch");
  }
  return times;
}

// ---------------------------------------------------------------------------------------------
// Checksums: per table, the row count and the XOR of each row's SHA-256 (first 64 bits) over
// every column but the timestamps the writer sets. Order-free and computed by the server.

struct TableSum {
  std::string table;
  std::string sum;
};

std::vector<TableSum> checksum(db::Connection& connection, const std::string& database) {
  const std::vector<std::pair<std::string, std::set<std::string>>> tables = {
      {"leads", {}},
      {"lead_donotcontact", {}},
      {"gdpr_hashes", {}},
      {"gdpr_contacts", {"processed_at"}},
      {"email_stats", {}},
      {"page_hits", {}},
      {"form_submissions", {}},
      {std::string(kFormResults), {}},
      {"audit_log", {}},
      {"ip_addresses", {}},
      {std::string(kIpLinks), {}}};
  std::vector<TableSum> sums;
  for (const auto& [table, excluded] : tables) {
    std::vector<std::string> parts;
    for (const auto& column : stored_columns(connection, database, table, true)) {
      if (!excluded.contains(column)) {
        parts.push_back("QUOTE(" + db::quote_identifier(column) + ")");
      }
    }
    std::string concat;
    for (const auto& part : parts) concat += (concat.empty() ? "" : ", ") + part;
    auto rows = must(connection.query(fmt::format(
                         "SELECT COUNT(*), BIT_XOR(CAST(CONV(LEFT(SHA2(CONCAT_WS('|', {}), 256), "
                         "16), 16, 10) AS UNSIGNED)) FROM {}.{}",
                         concat, db::quote_identifier(database), db::quote_identifier(table))),
                     "checksum " + table);
    const uint64_t xor_sum = std::stoull(rows.rows[0][1].value_or("0"));
    sums.push_back({table, fmt::format("{}:{:016x}", rows.rows[0][0].value_or("0"), xor_sum)});
  }
  return sums;
}

// ---------------------------------------------------------------------------------------------
// The product's sweep in a child process (this binary, `sweep-child`): its own peak RSS, not
// ours, and the library call timed inside it (not the process start).

struct ChildSweep {
  int64_t contacts = 0;
  double seconds = 0;
  int64_t max_rss_kib = 0;
  double cpu_seconds = 0;  // the sweep's own, user + system, within `seconds`
};

ChildSweep sweep_in_child(const std::string& config_path) {
  int pipe_fds[2];
  if (::pipe(pipe_fds) != 0) fail("pipe");
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, pipe_fds[1], STDOUT_FILENO);
  posix_spawn_file_actions_addclose(&actions, pipe_fds[0]);
  std::string self = std::filesystem::read_symlink("/proc/self/exe").string();
  std::vector<std::string> args = {self, "sweep-child", "--config", config_path};
  std::vector<char*> argv;
  for (auto& arg : args) argv.push_back(arg.data());
  argv.push_back(nullptr);
  pid_t pid = 0;
  if (posix_spawn(&pid, self.c_str(), &actions, nullptr, argv.data(), environ) != 0) {
    fail("spawn the sweep child");
  }
  posix_spawn_file_actions_destroy(&actions);
  ::close(pipe_fds[1]);
  std::string output;
  char buffer[256];
  for (ssize_t n; (n = ::read(pipe_fds[0], buffer, sizeof buffer)) > 0;) {
    output.append(buffer, size_t(n));
  }
  ::close(pipe_fds[0]);
  int status = 0;
  if (::waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    fail("the sweep child failed: " + output);
  }
  ChildSweep result;
  if (std::sscanf(output.c_str(), "%ld %lf %ld %lf", &result.contacts, &result.seconds,
                  &result.max_rss_kib, &result.cpu_seconds) != 4) {
    fail("unexpected sweep child output: " + output);
  }
  return result;
}

// This process's CPU time so far, user + system, all threads.
double process_cpu_seconds() {
  rusage usage{};
  ::getrusage(RUSAGE_SELF, &usage);
  auto seconds = [](const timeval& t) { return double(t.tv_sec) + double(t.tv_usec) / 1e6; };
  return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

// The database server's CPU time so far (user + system, from /proc; the server is ours and
// local), to show what a timed run cost the server beside its wall time.
double server_cpu_seconds(db::Connection& root) {
  const auto pid_file = must(root.query_value("SELECT @@pid_file"), "read the server's pid file");
  std::ifstream pid_in(pid_file.value_or(""));
  long pid = 0;
  if (!(pid_in >> pid)) fail("cannot read the server's pid from " + pid_file.value_or("?"));
  std::ifstream stat_in(fmt::format("/proc/{}/stat", pid));
  std::string stat((std::istreambuf_iterator<char>(stat_in)), {});
  // Fields after the command name's closing parenthesis; utime and stime are the 12th and 13th.
  std::istringstream fields(stat.substr(stat.rfind(')') + 2));
  std::string field;
  unsigned long long utime = 0, stime = 0;
  for (int i = 1; i <= 13 && fields >> field; ++i) {
    if (i == 12) utime = std::stoull(field);
    if (i == 13) stime = std::stoull(field);
  }
  return double(utime + stime) / double(::sysconf(_SC_CLK_TCK));
}

// This process's peak resident set (VmHWM), in KiB. Not ru_maxrss: posix_spawn runs the child
// in the parent's memory until exec, and the kernel carries that high-water mark over, so the
// child would report the (large) bench process instead of itself.
int64_t peak_rss_kib() {
  std::ifstream status("/proc/self/status");
  for (std::string line; std::getline(status, line);) {
    if (line.starts_with("VmHWM:")) return std::strtoll(line.c_str() + 6, nullptr, 10);
  }
  fail("no VmHWM in /proc/self/status");
}

int sweep_child_main(const std::string& config_path) {
  auto session = open_session(config_path);
  mautic::SweepOptions options;
  options.batch_size = session->config.sweep.batch_size;
  const auto start = Clock::now();
  const double cpu_before = process_cpu_seconds();
  auto report = must(session->engine->sweep(options, {}), "sweep");
  const double seconds = seconds_since(start);
  fmt::print("{} {:.6f} {} {:.6f}\n", report.contacts_processed, seconds, peak_rss_kib(),
             process_cpu_seconds() - cpu_before);
  return 0;
}

// ---------------------------------------------------------------------------------------------

constexpr int kWarmupLookups = 100;

double median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  return values[values.size() / 2];
}

// "; median of 3: 1.52 / 1.61 / 1.70 s", or nothing for a single run.
std::string spread(std::vector<double> values) {
  if (values.size() < 2) return "";
  std::sort(values.begin(), values.end());
  std::vector<std::string> texts;
  for (double value : values) texts.push_back(fmt::format("{:.2f}", value));
  return fmt::format("; median of {}: {} s", values.size(), fmt::join(texts, " / "));
}

// Waits until the server has settled after the writes before (or two minutes have passed):
// InnoDB has purged their undo history and written their dirty pages back, so the purge threads
// and the page cleaner do not share the two cores (and the redo log's room) with what is timed
// next. Returns the seconds waited.
double wait_until_settled(db::Connection& root) {
  const auto start = Clock::now();
  auto global = [&](std::string_view sql) {
    auto value = must(root.query_value(sql), "read the server's backlog");
    return db::cell_to_int(value).value_or(0);
  };
  // Dirty pages are written at once only above innodb_max_dirty_pages_pct, and then at
  // innodb_io_capacity pages a second (200): both raised while waiting, then put back.
  must(root.execute("SET @dirty_pct = @@GLOBAL.innodb_max_dirty_pages_pct, "
                    "@io_capacity = @@GLOBAL.innodb_io_capacity, "
                    "@io_capacity_max = @@GLOBAL.innodb_io_capacity_max, "
                    "GLOBAL innodb_io_capacity_max = 100000, GLOBAL innodb_io_capacity = 100000, "
                    "GLOBAL innodb_max_dirty_pages_pct = 0"),
       "flush dirty pages");
  while (seconds_since(start) < 120) {
    const int64_t history = global(
        "SELECT `count` FROM information_schema.INNODB_METRICS "
        "WHERE name = 'trx_rseg_history_len'");
    const int64_t dirty = global(
        "SELECT VARIABLE_VALUE FROM information_schema.GLOBAL_STATUS "
        "WHERE VARIABLE_NAME = 'INNODB_BUFFER_POOL_PAGES_DIRTY'");
    if (history < 100 && dirty < 100) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  must(root.execute("SET GLOBAL innodb_max_dirty_pages_pct = @dirty_pct, "
                    "GLOBAL innodb_io_capacity = @io_capacity, "
                    "GLOBAL innodb_io_capacity_max = @io_capacity_max"),
       "restore the flushing settings");
  return seconds_since(start);
}

struct Latency {
  double p50_ms = 0, p99_ms = 0, max_ms = 0;
};

Latency summarize(std::vector<double> samples_ms) {
  Latency latency;
  if (samples_ms.empty()) return latency;
  std::sort(samples_ms.begin(), samples_ms.end());
  auto at = [&](double q) {
    return samples_ms[std::min(samples_ms.size() - 1, size_t(q * double(samples_ms.size())))];
  };
  latency.p50_ms = at(0.50);
  latency.p99_ms = at(0.99);
  latency.max_ms = samples_ms.back();
  return latency;
}

std::string mib(int64_t kib) { return fmt::format("{:.1f} MiB", double(kib) / 1024.0); }
std::string rate(int64_t contacts, double seconds) {
  return seconds > 0 ? fmt::format("{:.0f}", double(contacts) / seconds) : "-";
}

// ---------------------------------------------------------------------------------------------
// Steady state: what a sweep costs once everyone pending is processed, without and with the
// change queue. Late writes are what Mautic writes about processed contacts: a late open
// updating an old email_stats row in place, a page hit, a profile save without date_modified,
// an audit row, a form post, an IP link, a note, a lead event.

// The rows one batch of late writes touched, by table, so the limit can repair exactly them.
struct LateRows {
  std::map<std::string, std::vector<int64_t>> keys;
  size_t writes = 0;
};

constexpr std::string_view kLateOpen =
    "a:1:{i:0;a:2:{s:8:\"datetime\";s:19:\"2026-11-30 10:00:00\";s:9:\"useragent\";s:9:\"LATEagent\";}}";
constexpr std::string_view kLateAudit =
    "a:1:{s:6:\"fields\";a:1:{s:9:\"firstname\";a:2:{i:0;N;i:1;s:9:\"LATEaudit\";}}}";
constexpr std::string_view kLateEvent = "{\"row\":{\"city\":\"LATEcity\"}}";

LateRows late_writes(db::Connection& c, const std::vector<int64_t>& processed, int64_t count,
                     uint64_t seed) {
  LateRows rows;
  std::mt19937_64 random(seed);
  auto last_id = [&] { return db::cell_to_int(must(c.query_value("SELECT LAST_INSERT_ID()"), "id")).value_or(0); };
  for (int64_t n = 0; int64_t(rows.writes) < count; ++n) {
    const int64_t contact = processed[random() % processed.size()];
    switch (n % 8) {
      case 0: {
        auto stat = must(c.query_value("SELECT id FROM email_stats WHERE lead_id = ? ORDER BY id "
                                       "LIMIT 1",
                                       {contact}),
                         "late open");
        if (!stat) continue;
        const int64_t id = db::cell_to_int(stat).value_or(0);
        must(c.execute("UPDATE email_stats SET is_read = 1, open_count = open_count + 1, "
                       "last_opened = UTC_TIMESTAMP(), open_details = ? WHERE id = ?",
                       {std::string(kLateOpen), id}),
             "late open");
        rows.keys["email_stats"].push_back(id);
        break;
      }
      case 1:
        must(c.execute("INSERT INTO page_hits (lead_id, date_hit, code, tracking_id, url, user_agent) "
                       "VALUES (?, UTC_TIMESTAMP(), 200, 'LATEtrack', 'https://example.org/LATEurl', "
                       "'LATEua')",
                       {contact}),
             "page hit");
        rows.keys["page_hits"].push_back(last_id());
        break;
      case 2:
        must(c.execute("UPDATE leads SET firstname = 'LATEfirst' WHERE id = ?", {contact}),
             "profile");
        rows.keys["leads"].push_back(contact);
        break;
      case 3:
        must(c.execute("INSERT INTO audit_log (user_id, user_name, bundle, object, object_id, "
                       "action, details, date_added, ip_address) VALUES (1, 'admin', 'lead', "
                       "'lead', ?, 'update', ?, UTC_TIMESTAMP(), 'LATEip')",
                       {contact, std::string(kLateAudit)}),
             "audit");
        rows.keys["audit_log"].push_back(last_id());
        break;
      case 4:
        must(c.execute("INSERT INTO form_submissions (form_id, lead_id, date_submitted, referer) "
                       "VALUES (1, ?, UTC_TIMESTAMP(), 'LATEreferer')",
                       {contact}),
             "form post");
        rows.keys["form_submissions"].push_back(last_id());
        must(c.execute(fmt::format("INSERT INTO {} (submission_id, form_id, first_name) VALUES "
                                   "(LAST_INSERT_ID(), 1, 'LATEanswer')",
                                   kFormResults)),
             "form post");
        break;
      case 5:
        must(c.execute("INSERT INTO ip_addresses (ip_address) VALUES ('LATEaddr')"), "ip");
        rows.keys["ip_addresses"].push_back(last_id());
        must(c.execute("INSERT INTO lead_ips_xref (lead_id, ip_id) VALUES (?, LAST_INSERT_ID())",
                       {contact}),
             "ip link");
        rows.keys["lead_ips_xref"].push_back(contact);
        break;
      case 6:
        must(c.execute("INSERT INTO lead_notes (lead_id, is_published, text) VALUES (?, 1, "
                       "'LATEnote')",
                       {contact}),
             "note");
        rows.keys["lead_notes"].push_back(last_id());
        break;
      default:
        must(c.execute("INSERT INTO lead_event_log (lead_id, bundle, object, action, date_added, "
                       "properties) VALUES (?, 'lead', 'import', 'updated', UTC_TIMESTAMP(), ?)",
                       {contact, std::string(kLateEvent)}),
             "lead event");
        rows.keys["lead_event_log"].push_back(last_id());
        break;
    }
    ++rows.writes;
  }
  return rows;
}

// The set-based limit for repairing late writes: their keys known beforehand (no search), the
// scrubbed values computed beforehand, one statement per table in one transaction.
double late_writes_limit(db::Connection& c, const LateRows& rows) {
  const std::string open = must(scrub_php_serialized(kLateOpen), "scrub");
  const std::string audit = must(scrub_php_serialized(kLateAudit), "scrub");
  const std::string event = must(scrub_json(kLateEvent), "scrub");
  const std::map<std::string, std::pair<std::string, std::vector<db::Param>>> statements = {
      {"email_stats", {"UPDATE email_stats SET open_details = ? WHERE id IN ({})", {open}}},
      {"page_hits",
       {"UPDATE page_hits SET tracking_id = '', url = NULL, user_agent = NULL WHERE id IN ({})",
        {}}},
      {"leads", {"UPDATE leads SET firstname = NULL WHERE id IN ({})", {}}},
      {"audit_log",
       {"UPDATE audit_log SET details = ?, ip_address = '' WHERE id IN ({})", {audit}}},
      {"form_submissions",
       {"UPDATE form_submissions s JOIN form_results_1_contactform r ON r.submission_id = s.id "
        "SET s.referer = '', r.first_name = NULL WHERE s.id IN ({})",
        {}}},
      {"lead_ips_xref", {"DELETE FROM lead_ips_xref WHERE lead_id IN ({})", {}}},
      {"ip_addresses", {"DELETE FROM ip_addresses WHERE id IN ({})", {}}},
      {"lead_notes", {"DELETE FROM lead_notes WHERE id IN ({})", {}}},
      {"lead_event_log", {"UPDATE lead_event_log SET properties = ? WHERE id IN ({})", {event}}},
  };
  const auto start = Clock::now();
  must(c.begin(), "begin");
  for (const auto& [table, keys] : rows.keys) {
    const auto& [sql, values] = statements.at(table);
    std::vector<db::Param> params = values;
    params.insert(params.end(), keys.begin(), keys.end());
    must(c.execute(fmt::format(fmt::runtime(sql), db::placeholders(keys.size())), params),
         "limit " + table);
  }
  must(c.commit(), "commit");
  return seconds_since(start);
}

// The set-based limit of a full content check: every processed contact's rows read once, their
// personal columns with them, one statement per table (no predicate evaluated, nothing
// written).
double full_check_limit(db::Connection& c) {
  const std::string processed =
      "(SELECT g.contact_id FROM gdpr_contacts g WHERE g.returned_at IS NULL)";
  std::vector<std::string> statements = {
      "SELECT SUM(LENGTH(CONCAT_WS('', email, firstname, lastname, mobile))) FROM leads WHERE id "
      "IN " + processed,
      "SELECT SUM(LENGTH(CONCAT_WS('', f.first_name))) FROM form_results_1_contactform f JOIN "
      "form_submissions s ON s.id = f.submission_id WHERE s.lead_id IN " + processed,
      "SELECT COUNT(*) FROM lead_ips_xref WHERE lead_id IN " + processed};
  for (const auto& table : related_tables()) {
    std::vector<std::string> columns;
    for (const auto& [column, value] : table.cleared) columns.emplace_back(column);
    for (const auto& column : table.serialized) columns.emplace_back(column);
    statements.push_back(fmt::format(
        "SELECT SUM(LENGTH(CONCAT_WS('', {}))) FROM {} WHERE {} IN {}{}", fmt::join(columns, ", "),
        table.table, table.contact_column, processed,
        table.kind_column.empty() ? ""
                                  : fmt::format(" AND {} = '{}'", table.kind_column,
                                                table.kind_value)));
  }
  const auto start = Clock::now();
  for (const auto& sql : statements) must(c.query(sql), "full check limit");
  return seconds_since(start);
}

template <typename Row>
void steady_state(const Options& options, const std::string& config,
                  const std::vector<int64_t>& processed, const Row& row,
                  std::vector<std::string>& profiles) {
  auto session = open_session(config);
  auto writer = connect_root(options, session->schema.database());
  auto timed_sweep = [&](bool full_pass) {
    mautic::SweepOptions sweep;
    sweep.full_pass = full_pass;
    const auto start = Clock::now();
    auto report = must(session->engine->sweep(sweep, {}), "sweep");
    return std::make_pair(seconds_since(start), report);
  };
  auto repaired_rows = [](const mautic::SweepReport& report) {
    uint64_t rows = 0;
    for (const auto& [table, count] : report.repaired) rows += count;
    return rows;
  };
  constexpr int64_t kLateWrites = 1000;
  for (const bool queue : {false, true}) {
    const std::string mode = queue ? "with the queue" : "no queue";
    if (queue) {
      must(session->engine->change_queue(mautic::Engine::QueueAction::kInstall), "queue install");
      const auto [seconds, report] = timed_sweep(false);
      row("queue: the first sweep after `queue install` (one full check; s)",
          fmt::format("{:.2f} s", seconds));
    }
    std::vector<double> idle_ms;
    for (int i = 0; i < 5; ++i) idle_ms.push_back(timed_sweep(false).first * 1000);
    const auto idle = summarize(idle_ms);
    row(fmt::format("idle sweep, {} (median / max of 5; target < 100 ms)", mode),
        fmt::format("{:.1f} ms / {:.1f} ms", idle.p50_ms, idle.max_ms));

    // The limit repairs one batch of late writes by their keys; the product another, found.
    auto start = Clock::now();
    const LateRows for_limit = late_writes(*writer, processed, kLateWrites, options.seed + 1);
    const double write_seconds = seconds_since(start);
    const double limit_seconds = late_writes_limit(*writer, for_limit);
    // The queue holds the limit's batch too: an untimed sweep takes it, so the timed one below
    // answers for its own batch only, as the limit does.
    if (queue) timed_sweep(false);
    const LateRows for_product = late_writes(*writer, processed, kLateWrites, options.seed + 2);
    std::optional<StatementProfile> profile;
    if (options.profile && queue) {
      profile.emplace(*writer, profile_log(options, "late-writes-sweep"),
                      std::vector<db::Connection*>{session->connection.get()});
    }
    const auto [seconds, report] = timed_sweep(false);
    if (profile) {
      profiles.push_back(profile_table(
          fmt::format("Statements of the sweep after {} late writes, {}", kLateWrites, mode),
          profile->finish(), seconds));
    }
    row(fmt::format("sweep after {} mixed late writes to processed contacts, {} (target < 1 s; "
                    "rows repaired)",
                    kLateWrites, mode),
        fmt::format("{:.3f} s ({} rows{}); limit {:.3f} s (keys known, one statement per "
                    "table); the writes themselves {:.2f} s",
                    seconds, repaired_rows(report),
                    queue ? fmt::format(", {} queued contacts", report.queued_contacts) : "",
                    limit_seconds, write_seconds));
    // Two writes to one row are one repair; verify below proves that nothing is left.
    if (repaired_rows(report) == 0) fail("the late writes were not repaired");

    start = Clock::now();
    const auto verified = must(session->engine->verify(), "verify");
    const double verify_seconds = seconds_since(start);
    if (!verified.clean()) fail("verify found rows the sweep left");
    const double floor_seconds = full_check_limit(*writer);
    row(fmt::format("verify over everything, {} (target < 30 s)", mode),
        fmt::format("{:.2f} s ({} contacts, {} tables); limit {:.2f} s (every processed row's "
                    "personal columns read once)",
                    verify_seconds, verified.contacts_checked, verified.tables_checked,
                    floor_seconds));
    const auto [full_seconds, full_report] = timed_sweep(true);
    if (repaired_rows(full_report) != 0) fail("the full pass found rows the sweep left");
    row(fmt::format("full pass (sweep --full-pass, nothing to repair), {}", mode),
        fmt::format("{:.2f} s; limit {:.2f} s (as verify)", full_seconds, floor_seconds));
  }
  must(session->engine->change_queue(mautic::Engine::QueueAction::kRemove), "queue remove");
}

int run(const Options& options) {
  std::filesystem::create_directories(options.work_dir);
  std::filesystem::remove(key_path(options));
  must(app::write_new_key(key_path(options)), "write the hash key");
  auto root = connect_root(options, "");
  const std::string server_version = root->server_version();
  std::vector<std::string> lines;  // the result table, markdown
  auto row = [&](const std::string& what, const std::string& value) {
    lines.push_back(fmt::format("| {} | {} |", what, value));
    fmt::print("  {:<58} {}\n", what, value);
    std::fflush(stdout);
  };
  fmt::print("mgdpr_bench: {} contacts, DNC period {}, seed {}, batch {}, {} cores, MariaDB {}\n",
             options.contacts, options.dnc_period, options.seed, options.batch_size,
             std::thread::hardware_concurrency(), server_version);

  // The data.
  testing::ContactSet set;
  set.contacts = options.contacts;
  set.dnc_period = options.dnc_period;
  set.seed = options.seed;
  auto started = Clock::now();
  create_database(*root, base_db());
  auto base = connect_root(options, base_db());
  must(testing::create_synthetic_mautic(*base, options.fixtures_dir,
                                        testing::MauticSchemaVersion::k51, "", set),
       "generate contacts");
  const double contacts_seconds = seconds_since(started);
  testing::RelatedCounts related;
  started = Clock::now();
  if (options.related) {
    testing::RelatedSet related_set;
    related_set.contacts = options.contacts;
    related_set.seed = options.seed;
    related = must(testing::generate_related_rows(*base, "", related_set), "generate related rows");
  }
  const double related_seconds = seconds_since(started);
  row("data: contacts (generate, s)",
      fmt::format("{} ({:.1f})", options.contacts, contacts_seconds));
  row("data: related rows (generate, s)",
      fmt::format("{} email_stats, {} page_hits, {} form submissions + results, {} audit_log, "
                  "{} IPs / {} IP links ({:.1f})",
                  related.email_stats, related.page_hits, related.form_submissions,
                  related.audit_log, related.ip_addresses, related.lead_ips_xref, related_seconds));
  // Each way gets its copy just before it runs, so each starts from the same state.
  const auto tables = base_tables(*root);
  std::map<std::string, double> copy_seconds;  // per database, the time of its first copy
  std::vector<double> settle_seconds;  // before each timed run of the product and the limit
  // A fresh copy of the base for one timed run of a way; the first run's copy time is shown.
  auto fresh_copy = [&](int run, const std::string& name) {
    if (run > 0) drop_database(*root, name);
    const double copied = copy_database(options, *root, tables, name);
    if (run == 0) copy_seconds[name] = copied;
  };

  // (2) The naive path, first: it is timed once, and the two ways compared below then run
  // side by side in time.
  copy_seconds["bench_naive"] = copy_database(options, *root, tables, "bench_naive");
  auto naive_session = open_session(write_config(options, "bench_naive"));
  check_bench_covers(*naive_session);
  const auto ip_users = ip_tables(naive_session->schema);
  started = Clock::now();
  auto naive_ids = pending_ids(*naive_session);
  const size_t naive_count = options.naive_max > 0
                                 ? std::min(naive_ids.size(), size_t(options.naive_max))
                                 : naive_ids.size();
  for (size_t i = 0; i < naive_count; ++i) naive_contact(*naive_session, ip_users, naive_ids[i]);
  const double naive_seconds = seconds_since(started);
  if (naive_count < naive_ids.size()) {
    // The rest is finished set-based (untimed), so the checksums still cover every contact.
    std::vector<int64_t> rest(naive_ids.begin() + int64_t(naive_count), naive_ids.end());
    (void)limit_path(*naive_session, rest);
  }

  // (1) The product: Engine::sweep in a child process (timed inside it), and (3) the database's
  // limit, in pairs: with --repeat, the product then the limit, each on a fresh copy, N times,
  // so that whatever the machine does meanwhile falls on both alike. Each is timed on a settled
  // server (the undo history of the copy and of the run before purged and their dirty pages
  // written: the purge threads and the page cleaner share the two cores).
  const std::string product_config = write_config(options, "bench_product");
  std::vector<std::string> profiles;  // markdown, after the table
  ChildSweep product;
  LimitTimes limit;
  std::vector<double> product_times, limit_times;
  // Per timed run: CPU seconds of the sweep process and of the server (the limit: the server).
  std::vector<std::pair<double, double>> product_cpu;
  std::vector<double> limit_server_cpu;
  for (int run = 0; run < options.repeat; ++run) {
    fresh_copy(run, "bench_product");
    settle_seconds.push_back(wait_until_settled(*root));
    std::optional<StatementProfile> product_profile;
    if (options.profile && run == 0) {
      product_profile.emplace(*root, profile_log(options, "first-sweep"));
    }
    const double product_server_before = server_cpu_seconds(*root);
    const auto product_run = sweep_in_child(product_config);
    product_cpu.push_back(
        {product_run.cpu_seconds, server_cpu_seconds(*root) - product_server_before});
    if (product_profile) {
      profiles.push_back(profile_table("Statements of (1), the product's sweep",
                                       product_profile->finish(), product_run.seconds));
    }
    product.contacts = product_run.contacts;
    product.max_rss_kib = std::max(product.max_rss_kib, product_run.max_rss_kib);
    product_times.push_back(product_run.seconds);

    fresh_copy(run, "bench_limit");
    if (run + 1 == options.repeat) drop_database(*root, base_db());
    settle_seconds.push_back(wait_until_settled(*root));
    auto limit_session = open_session(write_config(options, "bench_limit"));
    std::optional<StatementProfile> limit_profile;
    double limit_server_before = 0;
    const auto limit_run = limit_path(*limit_session, pending_ids(*limit_session), [&] {
      limit_server_before = server_cpu_seconds(*root);
      if (options.profile && run == 0) {
        limit_profile.emplace(*root, profile_log(options, "limit"),
                              std::vector<db::Connection*>{limit_session->connection.get()});
      }
    });
    limit_server_cpu.push_back(server_cpu_seconds(*root) - limit_server_before);
    if (limit_profile) {
      profiles.push_back(profile_table("Statements of (3), the limit", limit_profile->finish(),
                                       limit_run.seconds));
    }
    limit.precompute_seconds = limit_run.precompute_seconds;
    limit_times.push_back(limit_run.seconds);
  }
  product.seconds = median(product_times);
  limit.seconds = median(limit_times);
  const int64_t pending = product.contacts;
  row("data: copy of every table for each way (product / naive / limit, s)",
      fmt::format("{:.1f} / {:.1f} / {:.1f}", copy_seconds["bench_product"],
                  copy_seconds["bench_naive"], copy_seconds["bench_limit"]));
  row("data: waited for the server to settle before each timed run (product and limit in turn; s)",
      fmt::format("{:.1f}", fmt::join(settle_seconds, " / ")));
  row("pending contacts (unsubscribed + bounced on email)", std::to_string(pending));

  // Same data?
  const auto product_sums = checksum(*root, "bench_product");
  const auto naive_sums = checksum(*root, "bench_naive");
  const auto limit_sums = checksum(*root, "bench_limit");
  std::vector<std::string> differing;
  std::string sums_text;
  for (size_t t = 0; t < product_sums.size(); ++t) {
    const bool same =
        product_sums[t].sum == naive_sums[t].sum && product_sums[t].sum == limit_sums[t].sum;
    if (!same) differing.push_back(product_sums[t].table);
    sums_text += fmt::format(
        "{}{} {}{}", sums_text.empty() ? "" : ", ", product_sums[t].table, product_sums[t].sum,
        same ? "" : fmt::format(" (naive {}, limit {})", naive_sums[t].sum, limit_sums[t].sum));
  }

  const double product_rate = double(pending) / product.seconds;
  const double naive_rate = double(naive_count) / naive_seconds;
  row("(1) product: Engine::sweep, profile + related tables (contacts/s; s)",
      fmt::format("{} ({:.2f} s{})", rate(pending, product.seconds), product.seconds,
                  spread(product_times)));
  row("(2) naive: per field and per related row UPDATE, autocommit (contacts/s; s)",
      fmt::format("{} ({:.2f} s for {} contacts{})", rate(int64_t(naive_count), naive_seconds),
                  naive_seconds, naive_count,
                  naive_count < naive_ids.size() ? ", the rest finished set-based, untimed" : ""));
  row("(3) limit: set-based SQL per table, values precomputed (contacts/s; s)",
      fmt::format("{} ({:.2f} s{}; precompute {:.2f} s not counted)", rate(pending, limit.seconds),
                  limit.seconds, spread(limit_times), limit.precompute_seconds));
  row("product / naive (target >= 30x)", fmt::format("{:.1f}x", product_rate / naive_rate));
  // Each pair ran back to back: the median of their ratios, with each pair's in run order.
  std::vector<double> pair_ratios;
  for (size_t i = 0; i < product_times.size(); ++i) {
    pair_ratios.push_back(product_times[i] / limit_times[i]);
  }
  row("product time / limit time (target <= 1.1x)",
      pair_ratios.size() < 2
          ? fmt::format("{:.2f}x", pair_ratios.front())
          : fmt::format("{:.2f}x (median of {} pairs run back to back: {:.2f})",
                        median(pair_ratios), pair_ratios.size(), fmt::join(pair_ratios, " / ")));
  std::vector<std::string> cpu_texts;
  for (const auto& [sweep_cpu, server_cpu] : product_cpu) {
    cpu_texts.push_back(fmt::format("{:.2f} + {:.2f}", sweep_cpu, server_cpu));
  }
  row("CPU of each timed run (product: sweep process + server; limit: server; s)",
      fmt::format("product {}; limit {:.2f}", fmt::join(cpu_texts, " / "),
                  fmt::join(limit_server_cpu, " / ")));
  row("same data in all three (count:xor-sha256 per table)",
      fmt::format("{} — {}", differing.empty() ? "yes" : "NO", sums_text));

  // Idle sweep and lookups, on the product's database (N contacts, all pending processed).
  // leads.email indexed, as `check` advises (Mautic 7 has the index; a lookup of live contacts
  // reads the whole table without it).
  must(root->execute("CREATE INDEX `gdpr_leads_email` ON `bench_product`.`leads` (email)"),
       "index leads.email");
  {
    auto session = open_session(product_config);
    std::vector<double> idle_ms;
    for (int i = 0; i < 5; ++i) {
      const auto start = Clock::now();
      auto report = must(session->engine->sweep({}, {}), "idle sweep");
      idle_ms.push_back(seconds_since(start) * 1000);
      if (report.contacts_processed != 0) fail("the idle sweep found work");
    }
    const auto idle = summarize(idle_ms);
    row("idle sweep, no new work (median / max of 5; target < 100 ms)",
        fmt::format("{:.1f} ms / {:.1f} ms", idle.p50_ms, idle.max_ms));

    std::vector<int64_t> processed;
    for (int64_t id = 1; id <= options.contacts; ++id) {
      const int reason = testing::dnc_reason_for(id, set);
      if (reason == 1 || reason == 2) processed.push_back(id);
    }
    std::mt19937_64 random(options.seed);
    // Timed on a settled server with warm caches, as a support lookup meets a running Mautic:
    // the sweep's undo history purged and its pages written first (at 1M the purge threads hold
    // a core for minutes after the sweep), then the statements prepared and the index pages read by
    // untimed lookups.
    const double settle_wait = wait_until_settled(*root);
    for (int i = 0; i < kWarmupLookups && !processed.empty(); ++i) {
      const int64_t id = processed[random() % processed.size()];
      must(session->engine->lookup({{"email", testing::synthetic_email(id, options.seed)}}),
           "warm-up lookup");
      must(session->engine->lookup({{"email", fmt::format("warm.{}@example.invalid", i)}}),
           "warm-up lookup");
    }
    std::vector<double> hit_ms, miss_ms;
    for (int i = 0; i < options.lookups && !processed.empty(); ++i) {
      const int64_t id = processed[random() % processed.size()];
      auto start = Clock::now();
      auto hit =
          must(session->engine->lookup({{"email", testing::synthetic_email(id, options.seed)}}),
               "lookup");
      hit_ms.push_back(seconds_since(start) * 1000);
      if (hit.processed.size() != 1 || hit.processed[0].contact_id != id) {
        fail("a lookup hit was not found");
      }
      start = Clock::now();
      auto miss =
          must(session->engine->lookup({{"email", fmt::format("nobody.{}@example.invalid", i)}}),
               "lookup");
      miss_ms.push_back(seconds_since(start) * 1000);
      if (!miss.processed.empty() || !miss.live.empty()) fail("a lookup miss matched");
    }
    const auto hits = summarize(hit_ms);
    const auto misses = summarize(miss_ms);
    row(fmt::format(
            "lookup hit, {} processed contacts, leads.email indexed, after {} untimed "
            "and {:.0f} s waiting for the server to settle (p50 / p99 / max; target p99 < 2 ms)",
            pending, 2 * kWarmupLookups, settle_wait),
        fmt::format("{:.2f} / {:.2f} / {:.2f} ms", hits.p50_ms, hits.p99_ms, hits.max_ms));
    row("lookup miss (p50 / p99 / max)",
        fmt::format("{:.2f} / {:.2f} / {:.2f} ms", misses.p50_ms, misses.p99_ms, misses.max_ms));
    if (options.related) {
      session.reset();
      steady_state(options, product_config, processed, row, profiles);
    }
  }

  // Peak RSS of the sweep, profile + related tables, per N (target < 64 MiB).
  row(fmt::format("peak RSS of the sweep process, N = {} (profile + related)", options.contacts),
      mib(product.max_rss_kib));
  for (int64_t size : options.rss_sizes) {
    if (size == options.contacts) continue;
    create_database(*root, "bench_rss");
    auto rss_db = connect_root(options, "bench_rss");
    testing::ContactSet rss_set = set;
    rss_set.contacts = size;
    must(testing::create_synthetic_mautic(*rss_db, options.fixtures_dir,
                                          testing::MauticSchemaVersion::k51, "", rss_set),
         "generate contacts");
    if (options.related) {
      testing::RelatedSet related_set;
      related_set.contacts = size;
      related_set.seed = options.seed;
      (void)must(testing::generate_related_rows(*rss_db, "", related_set), "generate related rows");
    }
    const auto sweep = sweep_in_child(write_config(options, "bench_rss"));
    row(fmt::format("peak RSS of the sweep process, N = {} (profile + related)", size),
        fmt::format("{} ({} contacts in {:.2f} s)", mib(sweep.max_rss_kib), sweep.contacts,
                    sweep.seconds));
    drop_database(*root, "bench_rss");
  }

  for (const auto& profile : profiles) fmt::print("{}", profile);
  if (!options.results_file.empty()) {
    const auto now = std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now());
    std::ofstream out(options.results_file, std::ios::app);
    out << fmt::format("\n## {:%Y-%m-%d %H:%M} UTC, {}: {} contacts\n\n", now, options.label,
                       options.contacts)
        << fmt::format("Commit `{}`; machine: {} cores (nproc), MariaDB {}; command: `{}`\n\n",
                       options.commit, std::thread::hardware_concurrency(), server_version,
                       options.command)
        << "| measure | result |\n|---|---|\n";
    for (const auto& line : lines) out << line << '\n';
    for (const auto& profile : profiles) out << profile;
    fmt::print("appended to {}\n", options.results_file);
  }
  for (const std::string name : {"bench_product", "bench_naive", "bench_limit"}) {
    drop_database(*root, name);
  }
  if (!differing.empty()) {
    fmt::print(stderr, "mgdpr_bench: the three ways left different data in {}: {}\n",
               db::join(differing, ", "), sums_text);
    return 2;
  }
  return 0;
}

}  // namespace
}  // namespace mgdpr::bench

int main(int argc, char** argv) {
  using mgdpr::bench::Options;
  if (argc >= 2 && std::string_view(argv[1]) == "sweep-child") {
    if (argc != 4 || std::string_view(argv[2]) != "--config") return 64;
    return mgdpr::bench::sweep_child_main(argv[3]);
  }
  CLI::App app{
      "Benchmarks the sweep against the naive path and the set-based limit, and lookup, "
      "idle sweep and peak RSS. Usually run through bench/run.",
      "mgdpr_bench"};
  Options options;
  app.add_option("--socket", options.socket, "MariaDB socket of a private server (root)")
      ->required();
  app.add_option("--contacts", options.contacts, "Contacts N")->capture_default_str();
  app.add_option("--dnc-period", options.dnc_period,
                 "Of every P contacts one is unsubscribed, one bounced, one manual")
      ->capture_default_str();
  app.add_option("--seed", options.seed, "Seed of the synthetic data")->capture_default_str();
  app.add_option("--batch-size", options.batch_size, "[sweep] batch_size")->capture_default_str();
  app.add_option("--repeat", options.repeat,
                 "Time the product and the limit this many times in pairs (the product, then "
                 "the limit), each on a fresh copy; report the medians and the median of the "
                 "pairs' ratios")
      ->check(CLI::Range(1, 9))
      ->capture_default_str();
  app.add_option("--workers", options.workers, "[sweep] workers (0: its default)")
      ->check(CLI::Range(0, 8))
      ->capture_default_str();
  app.add_option("--naive-max", options.naive_max,
                 "Time the naive path on at most this many contacts (0: all)")
      ->capture_default_str();
  app.add_option("--lookups", options.lookups, "Lookups per kind (hit, miss)")
      ->capture_default_str();
  app.add_option("--rss-sizes", options.rss_sizes, "Extra N for the peak-RSS measure")
      ->delimiter(',');
  app.add_flag("!--no-related", options.related, "Do not generate related rows");
  app.add_option("--work-dir", options.work_dir, "Scratch folder (key, configs)")
      ->capture_default_str();
  app.add_option("--fixtures-dir", options.fixtures_dir, "Schema fixtures")->capture_default_str();
  app.add_option("--results-file", options.results_file, "Append the table here (markdown)");
  app.add_option("--command", options.command, "The command line recorded with the results");
  app.add_option("--commit", options.commit, "The commit recorded with the results");
  app.add_option("--label", options.label, "Run label recorded with the results");
  app.add_flag("--profile", options.profile,
               "Also log every statement of the product's timed sweeps (the first sweep, the "
               "sweep after late writes with the queue) and print them grouped by shape with "
               "their server time; slows those sweeps a little");
  CLI11_PARSE(app, argc, argv);
  return mgdpr::bench::run(options);
}
