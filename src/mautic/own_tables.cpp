// SPDX-License-Identifier: GPL-3.0-or-later
#include "mautic/own_tables.h"

#include <algorithm>
#include <iterator>

namespace mgdpr::mautic {

namespace {

constexpr std::string_view kOwnTables[] = {"gdpr_meta",       "gdpr_contacts", "gdpr_hashes",
                                           "gdpr_audit",      "gdpr_watermarks", "gdpr_returns",
                                           "gdpr_clean_values", "gdpr_sweep_runs"};

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
      fmt::arg("meta", schema.table("gdpr_meta")), fmt::arg("contacts", schema.table("gdpr_contacts")),
      fmt::arg("hashes", schema.table("gdpr_hashes")), fmt::arg("audit", schema.table("gdpr_audit")),
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

// Every version after the first is one more step here, appended, never edited: each step's DDL
// is idempotent (IF NOT EXISTS), so a crash between a step and its version record is harmless.
using Migration = std::string (*)(const Schema&);
constexpr Migration kMigrations[] = {version_1, version_2, version_3};
static_assert(std::size(kMigrations) == kOwnSchemaVersion,
              "kOwnSchemaVersion is the number of migration steps");

}  // namespace

bool is_own_table(std::string_view unprefixed) {
  return std::find(std::begin(kOwnTables), std::end(kOwnTables), unprefixed) !=
         std::end(kOwnTables);
}

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
    return make_error("`{}`.schema_version is not a version number; restore the gdpr tables "
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

Status verify_key(db::Connection& connection, const Schema& schema, const HashKey& key,
                  bool record_if_missing) {
  if (!schema.has_table("gdpr_meta")) return {};  // nothing hashed yet, nothing to disagree with
  auto recorded = read_meta(connection, schema, "key_fingerprint");
  if (!recorded) return recorded.error();
  const std::string fingerprint = key.fingerprint();
  if (!recorded->has_value()) {
    if (record_if_missing) return write_meta(connection, schema, "key_fingerprint", fingerprint);
    return {};
  }
  if (**recorded != fingerprint) {
    return make_error(
        ErrorKind::kKeyMismatch, "the hash key is not the key this database was processed with (key fingerprint {}..., "
        "recorded {}...): hashes made with two keys would make lookups silently wrong; point "
        "[hashing] key_file at the original key",
        fingerprint.substr(0, 12), (**recorded).substr(0, 12));
  }
  return {};
}

Status write_audit(db::Connection& connection, const Schema& schema, std::string_view actor,
                   std::string_view action, std::string_view detail,
                   std::optional<int64_t> matches) {
  auto done = connection.execute(
      fmt::format("INSERT INTO {} (at, actor, action, detail, matches) "
                  "VALUES (UTC_TIMESTAMP(6), ?, ?, ?, ?)",
                  schema.table("gdpr_audit")),
      {std::string(actor), std::string(action), std::string(detail),
       matches ? db::Param(*matches) : db::Param(nullptr)});
  if (!done) return done.error();
  return {};
}

}  // namespace mgdpr::mautic
