// SPDX-License-Identifier: GPL-3.0-or-later
// mautic-gdpr's own tables, beside Mautic's and under the same prefix. Created on first use and
// versioned in {prefix}gdpr_meta; Mautic's tables' structure is never touched.
#pragma once

#include <optional>
#include <string>

#include "core/hashing.h"
#include "core/result.h"
#include "db/connection.h"
#include "mautic/schema.h"

namespace mgdpr::mautic {

inline constexpr int kOwnSchemaVersion = 3;

// Creates or upgrades the tables. Safe to call on every run.
Status ensure_own_tables(db::Connection& connection, const Schema& schema);

// True when the tables exist (read-only commands do not create them).
bool own_tables_exist(const Schema& schema);
// One of mautic-gdpr's own tables (unprefixed name).
bool is_own_table(std::string_view unprefixed);

Result<std::optional<std::string>> read_meta(db::Connection& connection, const Schema& schema,
                                             std::string_view name);
Status write_meta(db::Connection& connection, const Schema& schema, std::string_view name,
                  std::string_view value);

// Refuses a key whose fingerprint differs from the one recorded; records it when none is
// (record_if_missing: only a run that writes hashes records the key).
Status verify_key(db::Connection& connection, const Schema& schema, const HashKey& key,
                  bool record_if_missing);

// One row in {prefix}gdpr_audit. detail must never hold a clear-text personal value.
Status write_audit(db::Connection& connection, const Schema& schema, std::string_view actor,
                   std::string_view action, std::string_view detail,
                   std::optional<int64_t> matches = std::nullopt);

}  // namespace mgdpr::mautic
