// SPDX-License-Identifier: GPL-3.0-or-later
// mgdpr_bench: the product's sweep side by side with the naive ORM-like path and the database's
// own set-based limit, on identical copies of one synthetic Mautic, in one run. Also lookup
// latency, idle-sweep time and the sweep's peak RSS. bench/run drives it; see bench/README.md.
#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <fmt/chrono.h>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <set>
#include <thread>

#include "app/secrets.h"
#include "app/session.h"
#include "core/normalize.h"
#include "mautic/locations.h"
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
  int64_t naive_max = 0;  // 0: the naive path does every contact
  int lookups = 1000;
  std::vector<int64_t> rss_sizes;
  std::string results_file;  // empty: do not record
  std::string command = "bench/run";
  std::string commit = "unknown";
  std::string label = "CI-sized";
};

std::unique_ptr<db::Connection> connect_root(const Options& options, const std::string& database) {
  db::ConnectParams params;
  params.socket = options.socket;
  params.user = "root";
  params.database = database;
  return must(db::Connection::open(params), "connect to the bench server");
}

// ---------------------------------------------------------------------------------------------
// Data: one base database, then copies of the profile tables for each of the three ways.

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
  auto rows = must(connection.query("SELECT COLUMN_NAME, IS_GENERATED FROM information_schema.COLUMNS "
                                    "WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? "
                                    "ORDER BY ORDINAL_POSITION",
                                    {database, table}),
                   "read columns");
  std::vector<std::string> columns;
  for (const auto& row : rows.rows) {
    if (with_generated || row[1].value_or("NEVER") == "NEVER") columns.push_back(row[0].value_or(""));
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

// A database with the base's profile tables (structure and rows: contacts, their fields, DNC
// entries): what the profile work reads and writes. Mautic's other tables are absent there;
// with every [related] location kept the engine only lists them as missing.
void copy_profile_database(const Options& options, db::Connection& root, const std::string& name) {
  create_database(root, name);
  auto copy = connect_root(options, name);
  for (const std::string table : {"leads", "lead_fields", "lead_donotcontact"}) {
    const std::string target = db::quote_identifier(name) + "." + db::quote_identifier(table);
    const std::string source = db::quote_identifier(base_db()) + "." + db::quote_identifier(table);
    const auto columns = quoted_list(stored_columns(root, base_db(), table));
    must(copy->execute(fmt::format("CREATE TABLE {} LIKE {}", target, source)), "copy " + table);
    must(copy->execute(fmt::format("INSERT INTO {} ({}) SELECT {} FROM {}", target, columns,
                                   columns, source)),
         "copy " + table);
  }
}

// ---------------------------------------------------------------------------------------------
// Configs and sessions.

std::string key_path(const Options& options) { return options.work_dir + "/hmac.key"; }

// profile_only: every related location is kept, so the three ways do the same (profile) work.
std::string write_config(const Options& options, const std::string& database, bool profile_only) {
  std::string text = fmt::format(
      "[database]\nsocket = \"{}\"\nname = \"{}\"\nuser = \"root\"\ntable_prefix = \"\"\n\n"
      "[hashing]\nkey_file = \"{}\"\n\n"
      "[trigger]\nreasons = [\"unsubscribed\", \"bounced\"]\nchannels = [\"email\"]\n\n"
      "[policy]\ndefault = \"delete\"\n\n"
      "[policy.fields]\nemail = \"hash\"\nmobile = \"hash\"\nwork_email = \"hash\"\n"
      "country = \"keep\"\ncity = \"keep\"\n\n"
      "[sweep]\nbatch_size = {}\n",
      options.socket, database, key_path(options), options.batch_size);
  if (profile_only) {
    text += "\n[related]\n";
    for (const auto& location : mautic::pii_locations()) {
      text += fmt::format("{} = \"keep\"\n", location.name);
    }
  }
  const std::string path =
      fmt::format("{}/{}{}.toml", options.work_dir, database, profile_only ? "" : "-full");
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
          fmt::format("SELECT DISTINCT d.lead_id FROM {} d LEFT JOIN {} g ON g.contact_id = "
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
  return session.key->hmac_hex(normalize(plan.kind, *cell));
}

std::string reason_case_sql(std::string_view column) {
  return fmt::format("CASE {} WHEN 1 THEN 'unsubscribed' WHEN 2 THEN 'bounced' "
                     "WHEN 3 THEN 'manual' ELSE 'unknown' END",
                     column);
}

// ---------------------------------------------------------------------------------------------
// (2) The naive path: what a plugin on an ORM does. Per contact: load the entity and its DNC
// rows, write every changed field with its own UPDATE in autocommit, then each dependent row.

void naive_contact(app::Session& session, int64_t id) {
  auto& connection = *session.connection;
  const auto& schema = session.schema;
  auto lead = must(connection.query(fmt::format("SELECT * FROM {} WHERE id = ?", schema.table("leads")),
                                    {id}),
                   "naive: load contact");
  if (lead.empty()) return;
  auto done = must(connection.query_value(
                       fmt::format("SELECT contact_id FROM {} WHERE contact_id = ?",
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
    const bool configured_reason =
        reason && std::find(config.reasons.begin(), config.reasons.end(), *reason) != config.reasons.end();
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
      auto at = std::find(lead.columns.begin(), lead.columns.end(), plan.column);
      if (at == lead.columns.end()) fail("naive: column missing: " + plan.column);
      if (auto digest = digest_of(session, plan, lead.rows[0][size_t(at - lead.columns.begin())])) {
        hashes.emplace_back(*digest, plan.column);
        value = *digest;
      }
    }
    must(connection.execute(fmt::format("UPDATE {} SET {} = ? WHERE id = ?", schema.table("leads"),
                                        db::quote_identifier(plan.column)),
                            {value, db::Param(id)}),
         "naive: update field");
  }
  for (const auto& row : dnc.rows) {
    if (!row[4]) continue;
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
           fmt::format("INSERT INTO {} (contact_id, processed_at, reason, channel, dnc_date, "
                       "policy_fingerprint, source) VALUES (?, UTC_TIMESTAMP(6), ?, ?, ?, ?, 'sweep')",
                       schema.table("gdpr_contacts")),
           {db::Param(id), db::Param(std::string(reason ? reason_name(*reason) : "unknown")),
            db::Param((*trigger)[2].value_or("")),
            (*trigger)[3] ? db::Param(*(*trigger)[3]) : db::Param(nullptr),
            db::Param(session.policy.fingerprint)}),
       "naive: record contact");
}

// ---------------------------------------------------------------------------------------------
// (3) The database's limit: digests computed beforehand, loaded into a table in bulk, then one
// set-based statement per table. No batching, no re-checks, no tool.

struct LimitTimes {
  double precompute_seconds = 0;  // reading the values and hashing them (not in the limit)
  double seconds = 0;             // bulk load of the digests + one statement per table
};

LimitTimes limit_path(app::Session& session, const std::vector<int64_t>& ids) {
  LimitTimes times;
  if (ids.empty()) return times;
  auto& connection = *session.connection;
  const auto& schema = session.schema;
  const auto hashed = session.policy.with_action(Action::kHash);
  const auto deleted = session.policy.with_action(Action::kDelete);
  const std::string scratch = db::quote_identifier("bench_digests");

  // Precompute: the clear values of the hashed columns, then their digests.
  const auto precompute_start = Clock::now();
  std::vector<std::string> tuples;
  tuples.reserve(ids.size());
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
      tuples.push_back(tuple + ")");
    }
  }
  times.precompute_seconds = seconds_since(precompute_start);

  std::string digest_columns;
  for (size_t h = 0; h < hashed.size(); ++h) digest_columns += fmt::format(", d{} CHAR(64) NULL", h);
  must(connection.execute(fmt::format("DROP TABLE IF EXISTS {}", scratch)), "limit: drop scratch");
  must(connection.execute(fmt::format("CREATE TABLE {} (contact_id BIGINT UNSIGNED NOT NULL "
                                      "PRIMARY KEY{}) ENGINE=InnoDB",
                                      scratch, digest_columns)),
       "limit: create scratch");

  const auto start = Clock::now();
  must(connection.begin(), "limit: begin");
  std::string insert;
  for (size_t i = 0; i < tuples.size(); ++i) {
    insert += insert.empty() ? fmt::format("INSERT INTO {} VALUES ", scratch) : ", ";
    insert += tuples[i];
    if (insert.size() > 4 * 1024 * 1024 || i + 1 == tuples.size()) {
      must(connection.execute(insert), "limit: load digests");
      insert.clear();
    }
  }
  std::vector<std::string> assignments;
  for (const auto* plan : deleted) assignments.push_back("l." + db::quote_identifier(plan->column) + " = NULL");
  for (size_t h = 0; h < hashed.size(); ++h) {
    assignments.push_back(fmt::format("l.{} = t.d{}", db::quote_identifier(hashed[h]->column), h));
  }
  std::string assignment_list;
  for (const auto& assignment : assignments) {
    assignment_list += (assignment_list.empty() ? "" : ", ") + assignment;
  }
  must(connection.execute(fmt::format("UPDATE {} l JOIN {} t ON t.contact_id = l.id SET {}",
                                      schema.table("leads"), scratch, assignment_list)),
       "limit: update leads");
  must(connection.execute(fmt::format("UPDATE {} d JOIN {} t ON t.contact_id = d.lead_id "
                                      "SET d.comments = NULL WHERE d.comments IS NOT NULL",
                                      schema.table("lead_donotcontact"), scratch)),
       "limit: clear DNC comments");
  if (!hashed.empty()) {
    std::string selects;
    for (size_t h = 0; h < hashed.size(); ++h) {
      selects += fmt::format("{0}SELECT d{1}, {2}, contact_id FROM {3} WHERE d{1} IS NOT NULL",
                             h == 0 ? "" : " UNION ALL ", h, sql_literal(hashed[h]->column), scratch);
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
                       "BY d.date_added, d.id) AS n FROM {} d JOIN {} t ON t.contact_id = "
                       "d.lead_id WHERE d.reason IN ({}) AND d.channel IN ({})) e WHERE e.n = 1",
                       schema.table("gdpr_contacts"), reason_case_sql("e.reason"),
                       schema.table("lead_donotcontact"), scratch,
                       db::placeholders(session.config.reasons.size()),
                       db::placeholders(session.config.channels.size())),
           params),
       "limit: record contacts");
  must(connection.commit(), "limit: commit");
  times.seconds = seconds_since(start);
  must(connection.execute(fmt::format("DROP TABLE {}", scratch)), "limit: drop scratch");
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
      {"gdpr_contacts", {"processed_at"}}};
  std::vector<TableSum> sums;
  for (const auto& [table, excluded] : tables) {
    std::vector<std::string> parts;
    for (const auto& column : stored_columns(connection, database, table, true)) {
      if (!excluded.contains(column)) parts.push_back("QUOTE(" + db::quote_identifier(column) + ")");
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
  for (ssize_t n; (n = ::read(pipe_fds[0], buffer, sizeof buffer)) > 0;) output.append(buffer, size_t(n));
  ::close(pipe_fds[0]);
  int status = 0;
  rusage usage{};
  if (::wait4(pid, &status, 0, &usage) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    fail("the sweep child failed: " + output);
  }
  ChildSweep result;
  if (std::sscanf(output.c_str(), "%ld %lf", &result.contacts, &result.seconds) != 2) {
    fail("unexpected sweep child output: " + output);
  }
  result.max_rss_kib = usage.ru_maxrss;  // KiB on Linux
  return result;
}

int sweep_child_main(const std::string& config_path) {
  auto session = open_session(config_path);
  mautic::SweepOptions options;
  options.batch_size = session->config.sweep.batch_size;
  const auto start = Clock::now();
  auto report = must(session->engine->sweep(options, {}), "sweep");
  fmt::print("{} {:.6f}\n", report.contacts_processed, seconds_since(start));
  return 0;
}

// ---------------------------------------------------------------------------------------------

struct Latency {
  double p50_ms = 0, p99_ms = 0, max_ms = 0;
};

Latency summarize(std::vector<double> samples_ms) {
  Latency latency;
  if (samples_ms.empty()) return latency;
  std::sort(samples_ms.begin(), samples_ms.end());
  auto at = [&](double q) { return samples_ms[std::min(samples_ms.size() - 1, size_t(q * double(samples_ms.size())))]; };
  latency.p50_ms = at(0.50);
  latency.p99_ms = at(0.99);
  latency.max_ms = samples_ms.back();
  return latency;
}

std::string mib(int64_t kib) { return fmt::format("{:.1f} MiB", double(kib) / 1024.0); }
std::string rate(int64_t contacts, double seconds) {
  return seconds > 0 ? fmt::format("{:.0f}", double(contacts) / seconds) : "-";
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
  must(testing::create_synthetic_mautic(*base, options.fixtures_dir, testing::MauticSchemaVersion::k51,
                                        "", set),
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
  row("data: contacts (generate, s)", fmt::format("{} ({:.1f})", options.contacts, contacts_seconds));
  row("data: related rows (generate, s)",
      fmt::format("{} email_stats, {} page_hits, {} form submissions + results, {} audit_log, "
                  "{} IPs / {} IP links ({:.1f})",
                  related.email_stats, related.page_hits, related.form_submissions,
                  related.audit_log, related.ip_addresses, related.lead_ips_xref, related_seconds));
  for (const std::string name : {"bench_product", "bench_naive", "bench_limit"}) {
    copy_profile_database(options, *root, name);
  }

  // (1) The product: Engine::sweep in a child process (timed inside it).
  const auto product = sweep_in_child(write_config(options, "bench_product", true));
  const int64_t pending = product.contacts;
  row("pending contacts (unsubscribed + bounced on email)", std::to_string(pending));

  // (2) The naive path.
  auto naive_session = open_session(write_config(options, "bench_naive", true));
  started = Clock::now();
  auto naive_ids = pending_ids(*naive_session);
  const size_t naive_count = options.naive_max > 0 ? std::min(naive_ids.size(), size_t(options.naive_max))
                                                   : naive_ids.size();
  for (size_t i = 0; i < naive_count; ++i) naive_contact(*naive_session, naive_ids[i]);
  const double naive_seconds = seconds_since(started);
  if (naive_count < naive_ids.size()) {
    // The rest is finished set-based (untimed), so the checksums still cover every contact.
    std::vector<int64_t> rest(naive_ids.begin() + int64_t(naive_count), naive_ids.end());
    (void)limit_path(*naive_session, rest);
  }

  // (3) The database's limit.
  auto limit_session = open_session(write_config(options, "bench_limit", true));
  const auto limit = limit_path(*limit_session, pending_ids(*limit_session));

  // Same data?
  const auto product_sums = checksum(*root, "bench_product");
  const auto naive_sums = checksum(*root, "bench_naive");
  const auto limit_sums = checksum(*root, "bench_limit");
  bool identical = true;
  std::string sums_text;
  for (size_t t = 0; t < product_sums.size(); ++t) {
    const bool same = product_sums[t].sum == naive_sums[t].sum && product_sums[t].sum == limit_sums[t].sum;
    identical = identical && same;
    sums_text += fmt::format("{}{} {}{}", sums_text.empty() ? "" : ", ", product_sums[t].table,
                             product_sums[t].sum,
                             same ? "" : fmt::format(" (naive {}, limit {})", naive_sums[t].sum,
                                                     limit_sums[t].sum));
  }

  const double product_rate = double(pending) / product.seconds;
  const double naive_rate = double(naive_count) / naive_seconds;
  const double limit_rate = double(pending) / limit.seconds;
  row("(1) product: Engine::sweep, profile work (contacts/s; s)",
      fmt::format("{} ({:.2f} s)", rate(pending, product.seconds), product.seconds));
  row("(2) naive: per field UPDATE, autocommit (contacts/s; s)",
      fmt::format("{} ({:.2f} s for {} contacts{})", rate(int64_t(naive_count), naive_seconds),
                  naive_seconds, naive_count,
                  naive_count < naive_ids.size() ? ", the rest finished set-based, untimed" : ""));
  row("(3) limit: set-based SQL, digests precomputed (contacts/s; s)",
      fmt::format("{} ({:.2f} s; precompute {:.2f} s not counted)", rate(pending, limit.seconds),
                  limit.seconds, limit.precompute_seconds));
  row("product / naive (target >= 30x)", fmt::format("{:.1f}x", product_rate / naive_rate));
  row("product time / limit time (target <= 1.3x)", fmt::format("{:.2f}x", limit_rate / product_rate));
  row("same data in all three (count:xor-sha256 per table)",
      fmt::format("{} — {}", identical ? "yes" : "NO", sums_text));

  // Idle sweep and lookups, on the product's database (N contacts, all pending processed).
  {
    auto session = open_session(write_config(options, "bench_product", true));
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
    std::vector<double> hit_ms, miss_ms;
    for (int i = 0; i < options.lookups && !processed.empty(); ++i) {
      const int64_t id = processed[random() % processed.size()];
      auto start = Clock::now();
      auto hit = must(session->engine->lookup({{"email", testing::synthetic_email(id, options.seed)}}),
                      "lookup");
      hit_ms.push_back(seconds_since(start) * 1000);
      if (hit.size() != 1 || hit[0].contact_id != id) fail("a lookup hit was not found");
      start = Clock::now();
      auto miss = must(session->engine->lookup({{"email", fmt::format("nobody.{}@example.invalid", i)}}),
                       "lookup");
      miss_ms.push_back(seconds_since(start) * 1000);
      if (!miss.empty()) fail("a lookup miss matched");
    }
    const auto hits = summarize(hit_ms);
    const auto misses = summarize(miss_ms);
    row(fmt::format("lookup hit, {} processed contacts (p50 / p99 / max; target p99 < 2 ms)", pending),
        fmt::format("{:.2f} / {:.2f} / {:.2f} ms", hits.p50_ms, hits.p99_ms, hits.max_ms));
    row("lookup miss (p50 / p99 / max)",
        fmt::format("{:.2f} / {:.2f} / {:.2f} ms", misses.p50_ms, misses.p99_ms, misses.max_ms));
  }

  // The product's full sweep: related locations at their defaults, on the base with all rows.
  const auto full = sweep_in_child(write_config(options, base_db(), false));
  row("product full sweep, [related] at defaults (contacts/s; s)",
      fmt::format("{} ({:.2f} s)", rate(full.contacts, full.seconds), full.seconds));

  // Peak RSS of the sweep, per N (target < 64 MiB).
  row(fmt::format("peak RSS of the sweep process, N = {} (profile / full)", options.contacts),
      fmt::format("{} / {}", mib(product.max_rss_kib), mib(full.max_rss_kib)));
  for (int64_t size : options.rss_sizes) {
    if (size == options.contacts) continue;
    create_database(*root, "bench_rss");
    auto rss_db = connect_root(options, "bench_rss");
    testing::ContactSet rss_set = set;
    rss_set.contacts = size;
    must(testing::create_synthetic_mautic(*rss_db, options.fixtures_dir,
                                          testing::MauticSchemaVersion::k51, "", rss_set),
         "generate contacts");
    const auto sweep = sweep_in_child(write_config(options, "bench_rss", true));
    row(fmt::format("peak RSS of the sweep process, N = {} (profile)", size),
        fmt::format("{} ({} contacts in {:.2f} s)", mib(sweep.max_rss_kib), sweep.contacts, sweep.seconds));
    drop_database(*root, "bench_rss");
  }

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
    fmt::print("appended to {}\n", options.results_file);
  }
  for (const std::string& name : std::vector<std::string>{"bench_product", "bench_naive", "bench_limit", base_db()}) {
    drop_database(*root, name);
  }
  if (!identical) {
    fmt::print(stderr, "mgdpr_bench: the three ways left different data: {}\n", sums_text);
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
  CLI::App app{"Benchmarks the sweep against the naive path and the set-based limit, and lookup, "
               "idle sweep and peak RSS. Usually run through bench/run.",
               "mgdpr_bench"};
  Options options;
  app.add_option("--socket", options.socket, "MariaDB socket of a private server (root)")->required();
  app.add_option("--contacts", options.contacts, "Contacts N")->capture_default_str();
  app.add_option("--dnc-period", options.dnc_period,
                 "Of every P contacts one is unsubscribed, one bounced, one manual")
      ->capture_default_str();
  app.add_option("--seed", options.seed, "Seed of the synthetic data")->capture_default_str();
  app.add_option("--batch-size", options.batch_size, "[sweep] batch_size")->capture_default_str();
  app.add_option("--naive-max", options.naive_max,
                 "Time the naive path on at most this many contacts (0: all)")
      ->capture_default_str();
  app.add_option("--lookups", options.lookups, "Lookups per kind (hit, miss)")->capture_default_str();
  app.add_option("--rss-sizes", options.rss_sizes, "Extra N for the peak-RSS measure")->delimiter(',');
  app.add_flag("!--no-related", options.related, "Do not generate related rows");
  app.add_option("--work-dir", options.work_dir, "Scratch folder (key, configs)")->capture_default_str();
  app.add_option("--fixtures-dir", options.fixtures_dir, "Schema fixtures")->capture_default_str();
  app.add_option("--results-file", options.results_file, "Append the table here (markdown)");
  app.add_option("--command", options.command, "The command line recorded with the results");
  app.add_option("--commit", options.commit, "The commit recorded with the results");
  app.add_option("--label", options.label, "Run label recorded with the results");
  CLI11_PARSE(app, argc, argv);
  return mgdpr::bench::run(options);
}
