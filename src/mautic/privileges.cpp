// SPDX-License-Identifier: GPL-3.0-or-later
#include "mautic/privileges.h"

#include <algorithm>
#include <iterator>
#include <map>
#include <set>

#include "mautic/own_tables.h"

namespace mgdpr::mautic {

// ER_DBACCESS_DENIED_ERROR, ER_TABLEACCESS_DENIED_ERROR, ER_COLUMNACCESS_DENIED_ERROR,
// ER_SPECIFIC_ACCESS_DENIED_ERROR.
bool is_denied(const Error& error) {
  return error.server_code == 1044 || error.server_code == 1142 || error.server_code == 1143 ||
         error.server_code == 1227;
}

namespace {

// The own tables [retention] forget_after deletes from, with the contact itself.
constexpr std::string_view kForgotten[] = {"gdpr_contacts", "gdpr_hashes", "gdpr_audit",
                                           "gdpr_returns"};
// The own tables only ever inserted into.
constexpr std::string_view kInsertOnly[] = {"gdpr_hashes", "gdpr_audit", "gdpr_returns",
                                            "gdpr_clean_values"};

struct Need {
  std::string_view privilege;
  std::string_view needed_for;
  std::set<std::string> tables;  // unprefixed; empty: a database-wide probe
};

// What each privilege is needed on, from the location plan: what a sweep writes.
std::vector<Need> needs(const Schema& schema, const RelatedPlan& related) {
  Need select{"SELECT", "every command reads Mautic's tables and mautic-gdpr's own", {}};
  Need update{"UPDATE", "sweep and serve pseudonymize profiles and scrub related rows", {}};
  Need remove{"DELETE",
              "sweep and serve delete related rows with nothing statistical and unused IP "
              "addresses; [retention] forget_after deletes contacts and their records",
              {}};
  Need insert{"INSERT",
              "the re-import guard puts returning contacts back on do-not-contact; every run "
              "records proof, the lookup index and the audit",
              {}};
  for (std::string_view table : {"leads", "lead_donotcontact", "lead_fields"}) {
    select.tables.emplace(table);
  }
  update.tables = {"leads", "lead_donotcontact"};
  remove.tables = {"leads"};
  insert.tables = {"lead_donotcontact"};
  if (schema.has_table("ip_addresses")) {
    select.tables.emplace("ip_addresses");
    remove.tables.emplace("ip_addresses");
    insert.tables.emplace("ip_addresses");  // the placeholder address on Mautic 4.4
  }
  for (const auto& plan : related.locations) {
    for (const auto& table : plan.tables) {
      select.tables.insert(table);
      if (plan.action == RowAction::kScrub) update.tables.insert(table);
      if (plan.action == RowAction::kDelete) remove.tables.insert(table);
    }
  }
  for (std::string_view table : own_table_names()) {
    if (!schema.has_table(table)) continue;
    select.tables.emplace(table);
    insert.tables.emplace(table);
    if (std::find(std::begin(kForgotten), std::end(kForgotten), table) != std::end(kForgotten)) {
      remove.tables.emplace(table);
    }
    if (std::find(std::begin(kInsertOnly), std::end(kInsertOnly), table) == std::end(kInsertOnly)) {
      update.tables.emplace(table);
    }
    if (table == "gdpr_dirty") remove.tables.emplace(table);  // the queue's rows, once checked
    if (table == "gdpr_ip_candidates") remove.tables.emplace(table);  // once dropped or kept
  }
  // A sweep forgets the rows it could not handle once Mautic no longer holds them.
  if (schema.has_table("gdpr_unhandled")) remove.tables.emplace("gdpr_unhandled");
  Need create{
      "CREATE", "the first sweep creates mautic-gdpr's tables, a newer version adds to them", {}};
  Need alter{"ALTER", "a newer version adds columns to mautic-gdpr's tables", {}};
  Need temporary{"CREATE TEMPORARY TABLES",
                 "sweep and serve stage scrubbed serialized values in a temporary table",
                 {}};
  return {select, update, remove, insert, create, alter, temporary};
}

// The columns that may be written (every one but a generated one), quoted.
std::vector<std::string> writable_columns(const Schema& schema, std::string_view table) {
  std::vector<std::string> names;
  if (const auto* columns = schema.columns(table)) {
    for (const auto& column : *columns) {
      if (!column.generated) names.push_back(db::quote_identifier(column.name));
    }
  }
  if (names.empty()) names.emplace_back("`id`");
  return names;
}

std::string probe_sql(std::string_view privilege, const Schema& schema, std::string_view table) {
  const std::string name = schema.table(table);
  const auto columns = writable_columns(schema, table);
  if (privilege == "SELECT") return fmt::format("SELECT 1 FROM {} LIMIT 0", name);
  if (privilege == "UPDATE") {
    return fmt::format("UPDATE {} SET {} = {} WHERE 0", name, columns[0], columns[0]);
  }
  if (privilege == "DELETE") return fmt::format("DELETE FROM {} WHERE 0", name);
  // Every column from the table itself: no default is needed for a row that never comes.
  const std::string list = db::join(columns, ", ");
  return fmt::format("INSERT INTO {} ({}) SELECT {} FROM {} WHERE 0", name, list, list, name);
}

}  // namespace

std::string account_of(std::string_view current_user) {
  const size_t at = current_user.rfind('@');
  if (at == std::string_view::npos) return fmt::format("'{}'", current_user);
  return fmt::format("'{}'@'{}'", current_user.substr(0, at), current_user.substr(at + 1));
}

std::string grant_statement(std::string_view privileges, std::string_view database,
                            std::string_view account) {
  return fmt::format("GRANT {} ON {}.* TO {};", privileges, db::quote_identifier(database),
                     account);
}

Result<PrivilegeReport> check_privileges(db::Connection& connection, const Schema& schema,
                                         const RelatedPlan& related) {
  PrivilegeReport report;
  MGDPR_ASSIGN_OR_RETURN(auto user, connection.query_value("SELECT CURRENT_USER()"));
  report.account = account_of(user.value_or("?"));

  auto probe = [&](std::string_view sql) -> Result<bool> {
    ++report.probes;
    auto done = connection.execute(sql);
    if (done) return true;
    if (is_denied(done.error())) return false;
    return done.error();
  };

  for (const Need& need : needs(schema, related)) {
    MissingPrivilege missing{std::string(need.privilege),
                             {},
                             std::string(need.needed_for),
                             grant_statement(need.privilege, schema.database(), report.account)};
    if (need.privilege == "CREATE") {
      // IF NOT EXISTS on a table that exists: the privilege is checked, nothing is created.
      const std::string_view existing = schema.has_table("gdpr_meta") ? "gdpr_meta" : "leads";
      MGDPR_ASSIGN_OR_RETURN(
          bool granted,
          probe(fmt::format("CREATE TABLE IF NOT EXISTS {} (probe INT)", schema.table(existing))));
      if (!granted) missing.tables.push_back("");
    } else if (need.privilege == "ALTER") {
      // Adding a column that exists changes nothing; only mautic-gdpr's own table is used.
      if (schema.has_table("gdpr_contacts")) {
        MGDPR_ASSIGN_OR_RETURN(
            bool granted, probe(fmt::format("ALTER TABLE {} ADD COLUMN IF NOT EXISTS contact_id "
                                            "BIGINT UNSIGNED NOT NULL",
                                            schema.table("gdpr_contacts"))));
        if (!granted) missing.tables.push_back("");
      }
    } else if (need.privilege == "CREATE TEMPORARY TABLES") {
      MGDPR_ASSIGN_OR_RETURN(bool granted,
                             probe("CREATE TEMPORARY TABLE mgdpr_privilege_probe (probe INT)"));
      if (granted) MGDPR_TRY(connection.execute("DROP TEMPORARY TABLE mgdpr_privilege_probe"));
      if (!granted) missing.tables.push_back("");
    } else {
      for (const auto& table : need.tables) {
        MGDPR_ASSIGN_OR_RETURN(bool granted, probe(probe_sql(need.privilege, schema, table)));
        if (!granted) missing.tables.push_back(schema.table_name(table));
      }
    }
    if (!missing.tables.empty()) report.missing.push_back(std::move(missing));
  }
  return report;
}

}  // namespace mgdpr::mautic
