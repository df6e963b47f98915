// SPDX-License-Identifier: GPL-3.0-or-later
#include "mautic/own_tables.h"

#include <algorithm>
#include <iterator>

namespace mgdpr::mautic {

namespace {

constexpr std::string_view kOwnTables[] = {
    "gdpr_meta",       "gdpr_contacts",  "gdpr_hashes",       "gdpr_audit",
    "gdpr_watermarks", "gdpr_returns",   "gdpr_clean_values", "gdpr_sweep_runs",
    "gdpr_dirty",      "gdpr_unhandled", "gdpr_keys",         "gdpr_ip_candidates"};

constexpr std::string_view kTableOptions =
    "ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci";

// Version 1. Digests are ASCII hex with a binary collation: equality is exact and the index
// stays small. No foreign keys to Mautic's tables: the proof that a person was processed must
// outlive a later delete of the contact in Mautic.
std::string version_1(const Schema& schema) {
  return fmt::format(
      "CREATE TABLE IF NOT EXISTS {meta} (name VARCHAR(64) NOT NULL PRIMARY KEY, "
      "value VARCHAR(255) NOT NULL, updated_at DATETIME NOT NULL) {o};\n"
      "CREATE TABLE IF NOT EXISTS {contacts} (contact_id BIGINT UNSIGNED NOT NULL PRIMARY KEY, "
      "processed_at DATETIME(6) NOT NULL, reason VARCHAR(16) NOT NULL, "
      "channel VARCHAR(191) NOT NULL, dnc_date DATETIME NULL, "
      "policy_fingerprint CHAR(64) CHARACTER SET ascii NOT NULL, source VARCHAR(16) NOT NULL, "
      "profile_checked_at DATETIME NULL, "
      "INDEX gdpr_contacts_processed_at (processed_at), INDEX gdpr_contacts_reason (reason)) "
      "{o};\n"
      "CREATE TABLE IF NOT EXISTS {hashes} (digest CHAR(64) CHARACTER SET ascii COLLATE "
      "ascii_bin NOT NULL, field VARCHAR(191) NOT NULL, contact_id BIGINT UNSIGNED NOT NULL, "
      "PRIMARY KEY (digest, field, contact_id), INDEX gdpr_hashes_contact (contact_id)) {o};\n"
      "CREATE TABLE IF NOT EXISTS {audit} (id BIGINT UNSIGNED AUTO_INCREMENT PRIMARY KEY, "
      "at DATETIME(6) NOT NULL, actor VARCHAR(191) NOT NULL, action VARCHAR(32) NOT NULL, "
      "detail VARCHAR(1024) NOT NULL, matches BIGINT NULL, INDEX gdpr_audit_at (at)) {o};\n"
      "CREATE TABLE IF NOT EXISTS {watermarks} (location VARCHAR(64) NOT NULL PRIMARY KEY, "
      "last_id BIGINT UNSIGNED NOT NULL DEFAULT 0, cleaned_at DATETIME(6) NULL) {o};\n",
      fmt::arg("meta", schema.table("gdpr_meta")),
      fmt::arg("contacts", schema.table("gdpr_contacts")),
      fmt::arg("hashes", schema.table("gdpr_hashes")),
      fmt::arg("audit", schema.table("gdpr_audit")),
      fmt::arg("watermarks", schema.table("gdpr_watermarks")), fmt::arg("o", kTableOptions));
}

// Version 2: a processed contact can come back by choice (its do-not-contact entry removed in
// Mautic): returned_at marks it, and each exit that ended in a return stays provable in
// gdpr_returns. gdpr_clean_values holds the SHA-256 of structured values (serialized, JSON)
// known to be in scrubbed form, so the content check reads only values it has not seen.
std::string version_2(const Schema& schema) {
  return fmt::format(
      "ALTER TABLE {contacts} ADD COLUMN IF NOT EXISTS returned_at DATETIME(6) NULL;\n"
      "CREATE TABLE IF NOT EXISTS {returns} (contact_id BIGINT UNSIGNED NOT NULL, "
      "processed_at DATETIME(6) NOT NULL, reason VARCHAR(16) NOT NULL, "
      "channel VARCHAR(191) NOT NULL, dnc_date DATETIME NULL, source VARCHAR(16) NOT NULL, "
      "returned_at DATETIME(6) NOT NULL, PRIMARY KEY (contact_id, processed_at)) "
      "ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;\n"
      "CREATE TABLE IF NOT EXISTS {clean} (kind TINYINT UNSIGNED NOT NULL, "
      "digest BINARY(32) NOT NULL, PRIMARY KEY (kind, digest)) ENGINE=InnoDB;\n",
      fmt::arg("contacts", schema.table("gdpr_contacts")),
      fmt::arg("returns", schema.table("gdpr_returns")),
      fmt::arg("clean", schema.table("gdpr_clean_values")));
}

// Version 3: one row per sweep, so `status`, the status page and /metrics can tell a failing or
// stalled sweep from a calm one. result: running, ok, failed, busy (another sweep held the
// lock), interrupted (the process ended before it recorded an end); error_class: the
// ErrorKind name of a failure (config, database, key_mismatch, ...), never a message.
std::string version_3(const Schema& schema) {
  return fmt::format(
      "CREATE TABLE IF NOT EXISTS {} (id BIGINT UNSIGNED AUTO_INCREMENT PRIMARY KEY, "
      "started_at DATETIME(6) NOT NULL, ended_at DATETIME(6) NULL, "
      "processed BIGINT NOT NULL DEFAULT 0, result VARCHAR(16) NOT NULL, "
      "error_class VARCHAR(32) NULL, actor VARCHAR(191) NOT NULL, "
      "INDEX gdpr_sweep_runs_result (result, ended_at)) {};\n",
      schema.table("gdpr_sweep_runs"), kTableOptions);
}

// Version 4: the opt-in change queue (change_queue.h). Its triggers on Mautic's tables append
// the id of a processed contact whose row was inserted or updated; a plain sweep checks those
// contacts and deletes exactly the rows it read. seq orders the rows, so a row queued while a
// sweep works is never deleted unread. Created empty whether or not the queue is installed.
std::string version_4(const Schema& schema) {
  return fmt::format(
      "CREATE TABLE IF NOT EXISTS {} (seq BIGINT UNSIGNED AUTO_INCREMENT PRIMARY KEY, "
      "contact_id BIGINT UNSIGNED NOT NULL, "
      "queued_at TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6)) ENGINE=InnoDB;\n",
      schema.table("gdpr_dirty"));
}

// Version 5: rows the sweep could not handle as the location table says (unhandled.h), one
// per table and key, never with a value.
std::string version_5(const Schema& schema) {
  return fmt::format(
      "CREATE TABLE IF NOT EXISTS {} (location_table VARCHAR(64) NOT NULL, "
      "row_key VARCHAR(64) NOT NULL, problem VARCHAR(255) NOT NULL, outcome VARCHAR(16) NOT "
      "NULL, first_seen DATETIME(6) NOT NULL, last_seen DATETIME(6) NOT NULL, "
      "PRIMARY KEY (location_table, row_key), INDEX gdpr_unhandled_last_seen (last_seen)) {};\n",
      schema.table("gdpr_unhandled"), kTableOptions);
}

// Version 6: the contact an audit row is about (exports and erasures name one), so the audit
// page can link it and show a contact's history without parsing the detail text.
std::string version_6(const Schema& schema) {
  return fmt::format(
      "ALTER TABLE {} ADD COLUMN IF NOT EXISTS contact_id BIGINT UNSIGNED NULL, "
      "ADD INDEX IF NOT EXISTS gdpr_audit_contact (contact_id)",
      schema.table("gdpr_audit"));
}

// Version 7: key rotation. gdpr_keys lists every key digests were made with (the one whose
// retired_at is NULL is active); each digest records its key. The key of a database processed
// before (gdpr_meta.key_fingerprint) becomes key 1, and every existing digest is its.
std::string version_7(const Schema& schema) {
  return fmt::format(
      "CREATE TABLE IF NOT EXISTS {keys} (id SMALLINT UNSIGNED AUTO_INCREMENT PRIMARY KEY, "
      "fingerprint CHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL, "
      "added_at DATETIME(6) NOT NULL, retired_at DATETIME(6) NULL, "
      "UNIQUE INDEX gdpr_keys_fingerprint (fingerprint)) {o};\n"
      "INSERT IGNORE INTO {keys} (id, fingerprint, added_at) SELECT 1, value, updated_at "
      "FROM {meta} WHERE name = 'key_fingerprint';\n"
      "ALTER TABLE {hashes} ADD COLUMN IF NOT EXISTS key_id SMALLINT UNSIGNED NOT NULL "
      "DEFAULT 1, ADD INDEX IF NOT EXISTS gdpr_hashes_key (key_id);\n",
      fmt::arg("keys", schema.table("gdpr_keys")), fmt::arg("meta", schema.table("gdpr_meta")),
      fmt::arg("hashes", schema.table("gdpr_hashes")), fmt::arg("o", kTableOptions));
}

// Version 8: the table a queued write went to, so a sweep checks the contact there only (NULL:
// every table, as processing queues its contacts and version 4's triggers did).
std::string version_8(const Schema& schema) {
  return fmt::format("ALTER TABLE {} ADD COLUMN IF NOT EXISTS location_table VARCHAR(64) NULL",
                     schema.table("gdpr_dirty"));
}

// Version 9: IP addresses a sweep's batches unlinked from processed contacts (by id: a column
// named ip_id would count as a reference, unreferenced_ip_sql). The batches run
// side by side ([sweep] workers), so each records its IPs here in its own transaction and the
// sweep deletes those nobody references once its batches are done; a sweep that ended before
// that leaves them for the next one.
std::string version_9(const Schema& schema) {
  return fmt::format(
      "CREATE TABLE IF NOT EXISTS {} (id INT UNSIGNED NOT NULL PRIMARY KEY) ENGINE=InnoDB",
      schema.table("gdpr_ip_candidates"));
}

// Every version after the first is one more step here, appended, never edited: each step's DDL
// is idempotent (IF NOT EXISTS), so a crash between a step and its version record is harmless.
using Migration = std::string (*)(const Schema&);
constexpr Migration kMigrations[] = {version_1, version_2, version_3, version_4, version_5,
                                     version_6, version_7, version_8, version_9};
static_assert(std::size(kMigrations) == kOwnSchemaVersion,
              "kOwnSchemaVersion is the number of migration steps");

}  // namespace

bool is_own_table(std::string_view unprefixed) {
  return std::find(std::begin(kOwnTables), std::end(kOwnTables), unprefixed) !=
         std::end(kOwnTables);
}

std::span<const std::string_view> own_table_names() { return kOwnTables; }

bool own_tables_exist(const Schema& schema) {
  for (auto name : kOwnTables) {
    if (!schema.has_table(name)) return false;
  }
  return true;
}

Status ensure_own_tables(db::Connection& connection, const Schema& schema) {
  // Version 1 holds gdpr_meta, where the version is recorded; it is created if missing.
  MGDPR_TRY(connection.execute_script(kMigrations[0](schema)));
  MGDPR_ASSIGN_OR_RETURN(auto version, read_meta(connection, schema, "schema_version"));
  const int64_t found = version ? db::cell_to_int(version).value_or(0) : 1;
  if (found < 1) {
    return make_error(
        "`{}`.schema_version is not a version number; restore the gdpr tables "
        "from a backup",
        schema.table_name("gdpr_meta"));
  }
  if (found > kOwnSchemaVersion) {
    return make_error(
        "the gdpr tables in `{}` are version {}, newer than this mautic-gdpr understands ({}); "
        "install the newer mautic-gdpr that created them",
        schema.database(), found, kOwnSchemaVersion);
  }
  for (int64_t step = found; step < kOwnSchemaVersion; ++step) {
    MGDPR_TRY(connection.execute_script(kMigrations[step](schema)));
    MGDPR_TRY(write_meta(connection, schema, "schema_version", std::to_string(step + 1)));
  }
  if (!version) {
    MGDPR_TRY(write_meta(connection, schema, "schema_version", std::to_string(kOwnSchemaVersion)));
  }
  return {};
}

Result<std::optional<std::string>> read_meta(db::Connection& connection, const Schema& schema,
                                             std::string_view name) {
  return connection.query_value(
      fmt::format("SELECT value FROM {} WHERE name = ?", schema.table("gdpr_meta")),
      {std::string(name)});
}

Status write_meta(db::Connection& connection, const Schema& schema, std::string_view name,
                  std::string_view value) {
  auto done = connection.execute(
      fmt::format("INSERT INTO {} (name, value, updated_at) VALUES (?, ?, UTC_TIMESTAMP()) "
                  "ON DUPLICATE KEY UPDATE value = VALUES(value), updated_at = UTC_TIMESTAMP()",
                  schema.table("gdpr_meta")),
      {std::string(name), std::string(value)});
  if (!done) return done.error();
  return {};
}

Status match_key_ring(db::Connection& connection, const Schema& schema, KeyRing& ring,
                      bool record) {
  if (!schema.has_table("gdpr_meta")) return {};  // nothing hashed yet, nothing to disagree with
  const KeyRing::Entry& active = ring.active();
  auto short_fp = [](std::string_view fingerprint) { return fingerprint.substr(0, 16); };
  auto in_ring = [&](std::string_view fingerprint) -> std::optional<size_t> {
    const auto entries = ring.entries();
    for (size_t i = 0; i < entries.size(); ++i) {
      if (entries[i].fingerprint == fingerprint) return i;
    }
    return std::nullopt;
  };
  auto unknown_key = [&](std::string_view recorded) {
    return make_error(
        ErrorKind::kKeyMismatch,
        "the hash key is not the key this database was processed with (key fingerprint {}..., "
        "recorded {}...): hashes made with two unrelated keys would make lookups silently "
        "wrong; point [hashing] key_file at the database's key, or, after a rotation, list the "
        "previous key under [hashing.keyring] (`mautic-gdpr keygen --rotate` does both)",
        short_fp(active.fingerprint), short_fp(recorded));
  };

  if (!schema.has_table("gdpr_keys")) {
    // Tables before version 4 (no key ring), read by a read-only command before any sweep
    // upgraded them.
    MGDPR_ASSIGN_OR_RETURN(auto recorded, read_meta(connection, schema, "key_fingerprint"));
    if (recorded && !in_ring(*recorded)) return unknown_key(*recorded);
    return {};
  }

  std::optional<db::Transaction> transaction;
  if (record) {
    MGDPR_ASSIGN_OR_RETURN(auto begun, db::Transaction::begin(connection));
    transaction.emplace(std::move(begun));
  }
  // FOR UPDATE: two processes recording the same rotation serialize here.
  MGDPR_ASSIGN_OR_RETURN(
      auto rows,
      connection.query(fmt::format("SELECT id, fingerprint, DATE_FORMAT(added_at, '%Y-%m-%d'), "
                                   "DATE_FORMAT(retired_at, '%Y-%m-%d') FROM {} ORDER BY id{}",
                                   schema.table("gdpr_keys"), record ? " FOR UPDATE" : "")));
  const std::vector<db::Cell>* database_active = nullptr;
  const std::vector<db::Cell>* ours = nullptr;
  for (const auto& row : rows.rows) {
    const std::string fingerprint = row[1].value_or("");
    if (auto index = in_ring(fingerprint)) {
      ring.set_id(*index, db::cell_to_int(row[0]).value_or(0));
    }
    if (!row[3]) database_active = &row;
    if (fingerprint == active.fingerprint) ours = &row;
  }

  auto add_active_key = [&]() -> Status {
    MGDPR_TRY(connection.execute(
        fmt::format("INSERT INTO {} (fingerprint, added_at) VALUES (?, UTC_TIMESTAMP(6))",
                    schema.table("gdpr_keys")),
        {active.fingerprint}));
    MGDPR_ASSIGN_OR_RETURN(auto id, connection.query_value("SELECT LAST_INSERT_ID()"));
    ring.set_id(0, db::cell_to_int(id).value_or(0));
    return write_meta(connection, schema, "key_fingerprint", active.fingerprint);
  };

  if (ours != nullptr && (*ours)[3]) {
    return make_error(
        ErrorKind::kKeyMismatch,
        "the hash key in [hashing] key_file (fingerprint {}...) was retired on {} by a key "
        "rotation and makes no new digests; point key_file at the active key (fingerprint "
        "{}...) and list this one under [hashing.keyring]",
        short_fp(active.fingerprint), (*ours)[3].value_or("?"),
        database_active != nullptr ? short_fp((*database_active)[1].value_or("")) : "?");
  }
  if (ours == nullptr) {
    if (rows.rows.empty()) {
      // The first key: recorded by the first run that writes digests.
      if (record) MGDPR_TRY(add_active_key());
    } else if (database_active != nullptr &&
               in_ring((*database_active)[1].value_or("")).value_or(0) > 0) {
      // A rotation: the database's active key is among the older keys of the ring.
      if (record) {
        MGDPR_TRY(connection.execute(
            fmt::format("UPDATE {} SET retired_at = UTC_TIMESTAMP(6) WHERE retired_at IS NULL",
                        schema.table("gdpr_keys"))));
        MGDPR_TRY(add_active_key());
      }
    } else {
      return unknown_key(database_active != nullptr ? (*database_active)[1].value_or("")
                                                    : rows.rows.back()[1].value_or(""));
    }
  }

  // Every key that made digests still held must be in the ring: lookups and the guard would
  // miss those records otherwise. (A key whose records were all forgotten may leave it.)
  for (const auto& row : rows.rows) {
    const std::string fingerprint = row[1].value_or("");
    if (in_ring(fingerprint)) continue;
    MGDPR_ASSIGN_OR_RETURN(
        auto used,
        connection.query_value(fmt::format("SELECT EXISTS(SELECT 1 FROM {} WHERE key_id = ?)",
                                           schema.table("gdpr_hashes")),
                               {db::cell_to_int(row[0]).value_or(0)}));
    if (used != std::optional<std::string>("1")) continue;
    return make_error(ErrorKind::kKeyMismatch,
                      "the key with fingerprint {}... (added {}) made digests this database "
                      "still holds, and it is not in the config: lookups and the re-import "
                      "guard would miss those records; list it under [hashing.keyring] as "
                      "{} = \"/path/to/that/key\"",
                      short_fp(fingerprint), row[2].value_or("?"), short_fp(fingerprint));
  }
  if (transaction) MGDPR_TRY(transaction->commit());
  return {};
}

Status write_audit(db::Connection& connection, const Schema& schema, std::string_view actor,
                   std::string_view action, std::string_view detail, std::optional<int64_t> matches,
                   std::optional<int64_t> contact_id) {
  auto optional = [](std::optional<int64_t> number) {
    return number ? db::Param(*number) : db::Param(nullptr);
  };
  std::vector<db::Param> params;
  params.emplace_back(std::string(actor));
  params.emplace_back(std::string(action));
  params.emplace_back(std::string(detail));
  params.push_back(optional(matches));
  // A read-only command on tables a newer binary has not migrated yet (version 1) still audits.
  const bool has_contact = schema.column("gdpr_audit", "contact_id") != nullptr;
  if (has_contact) params.push_back(optional(contact_id));
  auto done =
      connection.execute(fmt::format("INSERT INTO {} (at, actor, action, detail, matches{}) "
                                     "VALUES (UTC_TIMESTAMP(6), ?, ?, ?, ?{})",
                                     schema.table("gdpr_audit"), has_contact ? ", contact_id" : "",
                                     has_contact ? ", ?" : ""),
                         params);
  if (!done) return done.error();
  return {};
}

Result<std::vector<AuditEntry>> read_audit(db::Connection& connection, const Schema& schema,
                                           std::optional<int64_t> before_id,
                                           std::optional<int64_t> contact_id, int limit) {
  const bool has_contact = schema.column("gdpr_audit", "contact_id") != nullptr;
  std::vector<std::string> conditions = {"TRUE"};
  std::vector<db::Param> params;
  if (before_id) {
    conditions.emplace_back("id < ?");
    params.emplace_back(*before_id);
  }
  if (contact_id) {
    if (!has_contact) return std::vector<AuditEntry>{};
    conditions.emplace_back("contact_id = ?");
    params.emplace_back(*contact_id);
  }
  params.emplace_back(int64_t(limit));
  MGDPR_ASSIGN_OR_RETURN(
      auto rows,
      connection.query(fmt::format("SELECT id, DATE_FORMAT(at, '%Y-%m-%d %H:%i:%s'), actor, "
                                   "action, detail, matches, {} FROM {} WHERE {} ORDER BY id "
                                   "DESC LIMIT ?",
                                   has_contact ? "contact_id" : "NULL", schema.table("gdpr_audit"),
                                   db::join(conditions, " AND ")),
                       params));
  std::vector<AuditEntry> entries;
  for (auto& row : rows.rows) {
    entries.push_back({db::cell_to_int(row[0]).value_or(0), row[1].value_or(""),
                       row[2].value_or(""), row[3].value_or(""), row[4].value_or(""),
                       db::cell_to_int(row[5]), db::cell_to_int(row[6])});
  }
  return entries;
}

}  // namespace mgdpr::mautic
