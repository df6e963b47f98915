// SPDX-License-Identifier: GPL-3.0-or-later
// Which privileges the sweep, serve and the read-only commands need on Mautic's tables and on
// mautic-gdpr's own, proven by trying each one without changing anything: `UPDATE t SET c = c
// WHERE 0`, `DELETE FROM t WHERE 0`, `INSERT INTO t (c) SELECT NULL FROM DUAL WHERE 0`,
// `CREATE TABLE IF NOT EXISTS <an existing table>` and a temporary table that is dropped again.
// MariaDB checks the privilege before it looks at a single row, so a missing one fails exactly
// as the real statement would, and a granted one changes nothing. `check` reports each missing
// privilege with the GRANT that fixes it.
#pragma once

#include <string>
#include <vector>

#include "core/result.h"
#include "db/connection.h"
#include "mautic/related_plan.h"
#include "mautic/schema.h"

namespace mgdpr::mautic {

struct MissingPrivilege {
  std::string privilege;            // "UPDATE", "CREATE TEMPORARY TABLES", ...
  std::vector<std::string> tables;  // prefixed tables it is missing on ("" for database-wide)
  std::string needed_for;           // what fails without it
  std::string grant;                // the statement that fixes it
};

struct PrivilegeReport {
  std::string account;  // 'user'@'host' as the server sees it (CURRENT_USER())
  int probes = 0;       // statements tried
  std::vector<MissingPrivilege> missing;
};

// Tries every privilege the commands need. The connection's errors other than "denied" are
// returned as errors.
Result<PrivilegeReport> check_privileges(db::Connection& connection, const Schema& schema,
                                         const RelatedPlan& related);

// An error that says the user lacks a privilege (the server's "denied" errors).
bool is_denied(const Error& error);

// Every privilege the commands need, for one GRANT (README.md lists it).
inline constexpr std::string_view kNeededPrivileges =
    "SELECT, INSERT, UPDATE, DELETE, CREATE, ALTER, CREATE TEMPORARY TABLES";

// The GRANT statement that gives `account` these privileges on every table of `database`.
// 'user'@'host' from CURRENT_USER()'s user@host.
std::string account_of(std::string_view current_user);

std::string grant_statement(std::string_view privileges, std::string_view database,
                            std::string_view account);

}  // namespace mgdpr::mautic
