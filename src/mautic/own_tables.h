// SPDX-License-Identifier: GPL-3.0-or-later
// mautic-gdpr's own tables, beside Mautic's and under the same prefix. Created on first use and
// versioned in {prefix}gdpr_meta; Mautic's tables' structure is never touched.
#pragma once

#include <optional>
#include <span>
#include <string>

#include "core/hashing.h"
#include "core/result.h"
#include "db/connection.h"
#include "mautic/schema.h"

namespace mgdpr::mautic {

inline constexpr int kOwnSchemaVersion = 9;

// Creates or upgrades the tables. Safe to call on every run.
Status ensure_own_tables(db::Connection& connection, const Schema& schema);

// True when the tables exist (read-only commands do not create them).
bool own_tables_exist(const Schema& schema);
// One of mautic-gdpr's own tables (unprefixed name).
bool is_own_table(std::string_view unprefixed);
// All of them, unprefixed.
std::span<const std::string_view> own_table_names();

Result<std::optional<std::string>> read_meta(db::Connection& connection, const Schema& schema,
                                             std::string_view name);
Status write_meta(db::Connection& connection, const Schema& schema, std::string_view name,
                  std::string_view value);

// Matches the ring with the keys this database knows ({prefix}gdpr_keys) and sets each
// entry's id. The ring's active key must be the database's active key, or a new one whose
// predecessor (the database's active key) is among the ring's older keys: a rotation, which
// `record` writes down (the new key active, the old one retired). The first key is recorded
// likewise. Every key the database still holds digests of must be in the ring, or lookups
// would miss those records silently. Refusals are ErrorKind::kKeyMismatch.
Status match_key_ring(db::Connection& connection, const Schema& schema, KeyRing& ring, bool record);

// One row of {prefix}gdpr_audit as the audit page shows it.
struct AuditEntry {
  int64_t id = 0;
  std::string at;  // UTC, "YYYY-MM-DD HH:MM:SS"
  std::string actor;
  std::string action;
  std::string detail;
  std::optional<int64_t> matches;
  std::optional<int64_t> contact_id;
};

// The newest audit rows, newest first: older than `before_id` when set, only those about
// `contact_id` when set, at most `limit`.
Result<std::vector<AuditEntry>> read_audit(db::Connection& connection, const Schema& schema,
                                           std::optional<int64_t> before_id,
                                           std::optional<int64_t> contact_id, int limit);

// One row in {prefix}gdpr_audit. detail must never hold a clear-text personal value;
// contact_id is the contact the act was about, when it names one (export, erase).
Status write_audit(db::Connection& connection, const Schema& schema, std::string_view actor,
                   std::string_view action, std::string_view detail,
                   std::optional<int64_t> matches = std::nullopt,
                   std::optional<int64_t> contact_id = std::nullopt);

}  // namespace mgdpr::mautic
