// SPDX-License-Identifier: GPL-3.0-or-later
// `mautic-gdpr check`: everything a later command needs, proven before it is needed. The config
// against the live schema (fields, locations, guard), the keys against the database, the
// privileges of the database user (tried, changing nothing), and [server]. Every problem is
// collected, so one run names all of them, each with its fix.
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>

#include "app/secrets.h"
#include "app/session.h"
#include "cli/commands_internal.h"
#include "mautic/discovery.h"
#include "mautic/guard.h"
#include "mautic/own_tables.h"
#include "mautic/privileges.h"
#include "mautic/residue.h"
#include "server/service.h"

namespace mgdpr::cli {

namespace {

Error privilege_problem(const mautic::PrivilegeReport& report,
                        const mautic::MissingPrivilege& missing) {
  std::string where = "the database";
  if (!missing.tables.front().empty()) {
    where = fmt::format("`{}`", missing.tables.front());
    if (missing.tables.size() > 1) {
      where += fmt::format(" and {} more table(s)", missing.tables.size() - 1);
    }
  }
  return make_error(ErrorKind::kConfig, "the database user {} lacks {} on {}: {}; fix: {}",
                    report.account, missing.privilege, where, missing.needed_for, missing.grant);
}

// "unsubscribed 7d, bounced 3d" for the trigger's reasons (and any other one named), or
// `none` when no reason has a span.
std::string describe_spans(const ReasonDurations& spans, const std::vector<DncReason>& reasons,
                           std::string_view none) {
  std::vector<DncReason> shown = reasons;
  for (const auto& [reason, span] : spans.by_reason) {
    if (std::find(shown.begin(), shown.end(), reason) == shown.end()) shown.push_back(reason);
  }
  std::string text;
  bool any = false;
  for (DncReason reason : shown) {
    const auto span = spans.for_reason(reason);
    any |= span && !span->is_zero();
    text += fmt::format("{}{} {}", text.empty() ? "" : ", ", reason_name(reason),
                        span ? span->text() : std::string(none == "0" ? "0" : "never"));
  }
  return any ? text : std::string(none);
}

// Problems as strings (the policy's, the related plan's) are configuration problems.
void add_config_problems(std::vector<Error>& problems, const std::vector<std::string>& lines) {
  for (const auto& line : lines) problems.push_back(Error{line, ErrorKind::kConfig});
}

// Columns of leads no lead_fields row describes, each with what a sweep does and why.
void print_unknown_columns(const mautic::ContactPolicy& policy) {
  bool any = false;
  for (const auto& plan : policy.columns) {
    if (!plan.unknown) continue;
    if (!any) {
      fmt::print(
          "\nColumns of leads that no lead_fields row describes (a plugin's, or a newer "
          "Mautic's;\nname one under [policy.fields] by its column name to choose):\n");
    }
    any = true;
    fmt::print("  {:<28} {:<12} {:<18} {:<7} {}\n", plan.column, "-", plan.sql_type,
               action_name(plan.action), plan.origin);
  }
}

// Tables no location covers that reference contacts or look personal, each with a block to
// paste into the config.
void print_discovery(const mautic::DiscoveryReport& report) {
  if (report.tables.empty()) {
    fmt::print("\nNo other table references contacts or looks personal.\n");
    return;
  }
  fmt::print("\nTables no location covers ({}): declare each, or mark it reviewed:\n",
             report.tables.size());
  for (const auto& table : report.tables) {
    fmt::print("\nwarning: {}\n{}", table.summary(), table.config_block);
  }
}

}  // namespace

int run_check(CommandContext& context) {
  const Config& config = *context.config;
  const CommandArgs& args = context.args;
  const bool json = args.json;
  nlohmann::json out;
  std::vector<Error> problems;
  std::vector<std::string> warnings;

  auto keys = app::load_key_ring(config);
  if (!keys) problems.push_back(keys.error());
  auto connection = app::connect(config);
  if (!connection) {
    // One error (one JSON document with --json) that names the key's problem too.
    Error error = connection.error();
    for (const auto& problem : problems) error.message = problem.message + "\n" + error.message;
    return fail(args, error);
  }
  auto schema = mautic::load_schema(**connection, config.database.table_prefix);
  if (!schema) {
    if (!mautic::is_denied(schema.error())) return fail(args, schema.error());
    // Not even Mautic's schema can be read: name every privilege, in one GRANT.
    auto user = (*connection)->query_value("SELECT CURRENT_USER()");
    const std::string account = mautic::account_of(user ? user->value_or("?") : "?");
    return fail(args, make_error(ErrorKind::kConfig, "{}; fix: {}", schema.error().message,
                                 mautic::grant_statement(mautic::kNeededPrivileges,
                                                         config.database.name, account)));
  }

  mautic::ContactPolicy policy = mautic::build_contact_policy(config, *schema);
  mautic::RelatedPlan related = mautic::build_related_plan(config, *schema);
  const std::string guard = mautic::describe_guard(config, policy);
  add_config_problems(problems, policy.problems);
  add_config_problems(problems, related.problems);
  add_config_problems(problems, mautic::guard_problems(config, policy));
  if (keys) {
    if (auto verified = mautic::match_key_ring(**connection, *schema, *keys, false); !verified) {
      problems.push_back(verified.error());
    }
  }
  warnings = policy.warnings;
  const std::string grace = describe_spans(config.grace, config.reasons, "0");
  const std::string forget_after = describe_spans(config.forget_after, config.reasons, "never");
  std::vector<std::string> older_keys;
  if (keys) {
    for (const auto& entry : keys->entries().subspan(1)) {
      older_keys.push_back(entry.fingerprint.substr(0, 16));
    }
  }
  const mautic::DiscoveryReport discovered = mautic::discover(*schema, related, config);
  auto residue_settings = mautic::read_residue_settings(**connection, *schema);
  if (!residue_settings) return fail(args, residue_settings.error());
  const auto residue = mautic::residue_findings(*residue_settings);

  auto privileges = mautic::check_privileges(**connection, *schema, related);
  if (!privileges) return fail(args, privileges.error());
  for (const auto& missing : privileges->missing) {
    problems.push_back(privilege_problem(*privileges, missing));
  }
  // The change queue is optional: a table without its triggers is checked in full by every
  // sweep, so a gap is a warning that names the tables, not a problem.
  auto queue = mautic::read_queue_state(**connection, *schema);
  if (!queue) return fail(args, queue.error());
  if (queue->any() && !queue->missing.empty()) {
    warnings.push_back(fmt::format(
        "the change queue's triggers are missing on {}: sweeps check these tables in full "
        "until `mautic-gdpr queue install` adds them",
        db::join(queue->missing, ", ")));
  }
  // Requests that name a person compare the address with every live contact's.
  constexpr std::string_view kEmail[] = {"email"};
  if (schema->column("leads", "email") != nullptr && !schema->has_index_on("leads", kEmail)) {
    warnings.push_back(fmt::format(
        "leads.email has no index (none before Mautic 7): `lookup`, `export` and `erase` read "
        "every contact to find live ones by address (about half a second per request at a "
        "million contacts); an index makes that a point read: CREATE INDEX {} ON {} (email) "
        "(after an upgrade to Mautic 7, which adds its own, drop this one)",
        db::quote_identifier(schema->prefix() + "gdpr_leads_email"), schema->table("leads")));
  }
  const bool has_server = config.line_of("server") > 0;
  if (has_server) {
    for (auto& problem : server::check_server_config(config)) problems.push_back(std::move(problem));
  }

  int code = kExitOk;
  for (const auto& problem : problems) {
    // The key mismatch is the most serious: the database was processed with another key.
    const int problem_code = exit_code_for(problem.kind);
    if (code == kExitOk || problem_code == kExitKeyMismatch) code = problem_code;
  }

  if (json) {
    out["valid"] = problems.empty();
    out["database"] = {{"name", schema->database()},
                       {"server_version", (*connection)->server_version()},
                       {"table_prefix", schema->prefix()},
                       {"mautic", schema->mautic_generation()}};
    out["fields"] = nlohmann::json::array();
    out["unknown_columns"] = nlohmann::json::array();
    for (const auto& plan : policy.columns) {
      out[plan.unknown ? "unknown_columns" : "fields"].push_back(
          {{"column", plan.column},
           {"field_type", plan.field_type.empty() ? nullptr : nlohmann::json(plan.field_type)},
           {"column_type", plan.sql_type},
           {"action", plan.action_text()},
           {"because", plan.origin}});
    }
    out["locations"] = nlohmann::json::array();
    for (const auto& plan : related.locations) {
      out["locations"].push_back({{"location", plan.location->name},
                                  {"action", mautic::row_action_name(plan.action)},
                                  {"set_at", plan.origin},
                                  {"tables", plan.tables.size()}});
    }
    out["missing_locations"] = related.missing;
    out["orphans"] = config.orphans.scrub ? "scrub" : "keep";
    out["discovered"] = nlohmann::json::array();
    for (const auto& table : discovered.tables) {
      out["discovered"].push_back({{"table", table.table},
                                   {"contact_columns", table.contact_columns},
                                   {"personal_columns", table.personal_columns},
                                   {"kinds", table.kinds},
                                   {"summary", table.summary()},
                                   {"config_block", table.config_block}});
    }
    out["residue"] = nlohmann::json::array();
    for (const auto& finding : residue) {
      out["residue"].push_back({{"where", finding.where}, {"what", finding.what}});
    }
    out["guard"] = guard;
    out["grace"] = grace;
    out["forget_after"] = forget_after;
    out["keys"] = keys ? nlohmann::json{{"active", keys->active().fingerprint.substr(0, 16)},
                                        {"older", older_keys}}
                       : nlohmann::json(nullptr);
    nlohmann::json missing = nlohmann::json::array();
    for (const auto& privilege : privileges->missing) {
      std::vector<std::string> tables;
      for (const auto& table : privilege.tables) {
        if (!table.empty()) tables.push_back(table);
      }
      missing.push_back({{"privilege", privilege.privilege},
                         {"tables", tables},
                         {"needed_for", privilege.needed_for},
                         {"grant", privilege.grant}});
    }
    out["privileges"] = {{"account", privileges->account},
                         {"probes", privileges->probes},
                         {"missing", missing}};
    out["queue"] = queue_json(*queue, *schema);
    out["server_checked"] = has_server;
    out["warnings"] = warnings;
    out["problems"] = nlohmann::json::array();
    for (const auto& problem : problems) out["problems"].push_back(error_json(problem));
    print_json(out);
    return code;
  }

  fmt::print("Database `{}` (MariaDB {}), table prefix \"{}\", Mautic {} schema.\n",
             schema->database(), (*connection)->server_version(), schema->prefix(),
             schema->mautic_generation());
  fmt::print("\nContact fields and what a sweep does with them:\n");
  fmt::print("  {:<28} {:<12} {:<18} {:<10} {}\n", "column", "field type", "column type",
             "action", "because");
  for (const auto& plan : policy.columns) {
    if (plan.unknown) continue;
    fmt::print("  {:<28} {:<12} {:<18} {:<10} {}\n", plan.column,
               plan.field_type.empty() ? "-" : plan.field_type, plan.sql_type,
               plan.action_text(), plan.origin);
  }
  for (const auto& field : schema->contact_fields()) {
    if (!field.column) {
      fmt::print("  {:<28} {:<12} {:<18} {:<10} {}\n", field.alias, field.type, "(no column)",
                 "-", "Mautic has not created the column");
    }
  }
  fmt::print("  {:<28} {:<12} {:<18} {:<10} {}\n", "lead_donotcontact.comments", "-",
             "longtext", "delete", "bounce text can quote the address; the DNC row itself stays");
  fmt::print("\nGeneralized values (year, month, prefix:N, bucket:N, domain) are kept in that "
             "coarser form; a value\nthat cannot be generalized (empty or malformed) is "
             "deleted.\n");
  print_unknown_columns(policy);
  fmt::print("\nOther places that hold a processed contact's data ([related] overrides):\n");
  print_locations(related);
  fmt::print("\nRows of contacts Mautic deletes ([orphans] action): {}\n",
             config.orphans.scrub ? "scrub: each gets its location's action (ARCHITECTURE.md "
                                    "says which can be found)"
                                  : "keep: left as Mautic leaves them");
  print_discovery(discovered);
  fmt::print("\nWhere old values may persist outside the tables (nothing here is changed):\n");
  for (const auto& finding : residue) fmt::print("  {}: {}\n", finding.where, finding.what);
  fmt::print("\nRe-import guard ([guard]): {}\n", guard);
  fmt::print("Grace period ([trigger] grace): {}\n",
             grace == "0" ? "none: a contact is processed as soon as it is on do-not-contact"
                          : grace + " (a contact is processed once its do-not-contact entry is "
                                    "that old)");
  fmt::print("Retention ([retention] forget_after): {}\n",
             forget_after == "never"
                 ? "records are kept forever"
                 : forget_after + " (a processed record that old is deleted completely)");
  if (keys) {
    fmt::print("Hash keys: active {}... ([hashing] key_file){}\n",
               keys->active().fingerprint.substr(0, 16),
               older_keys.empty()
                   ? ""
                   : fmt::format("; older {}... ([hashing.keyring], lookups and the guard only)",
                                 fmt::join(older_keys, "..., ")));
  }
  fmt::print("\nDatabase privileges of {} ({} tried, nothing changed): {}\n", privileges->account,
             privileges->probes,
             privileges->missing.empty()
                 ? "everything sweep, serve and the other commands need is granted"
                 : fmt::format("{} missing (below)", privileges->missing.size()));
  print_queue(*queue);
  if (has_server) {
    fmt::print("[server]: webhook secret, TLS files and users checked\n");
  }
  for (const auto& warning : warnings) fmt::print("\nwarning: {}\n", warning);
  if (!problems.empty()) {
    fmt::print(stderr, "\n");
    for (const auto& problem : problems) {
      fmt::print(stderr, "mautic-gdpr: error: {}\n", problem.message);
    }
    fmt::print(stderr, "\n{} problem(s); no sweep will run until they are fixed.\n",
               problems.size());
    return code;
  }
  fmt::print("\nThe configuration is valid.\n");
  return kExitOk;
}

}  // namespace mgdpr::cli
