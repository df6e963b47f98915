// SPDX-License-Identifier: GPL-3.0-or-later
#include "cli/commands.h"

#include <fcntl.h>
#include <termios.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <sstream>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "app/secrets.h"
#include "app/session.h"
#include "cli/commands_internal.h"
#include "cli/progress.h"
#include "core/timestamps.h"
#include "mautic/own_tables.h"
#include "server/auth.h"
#include "server/service.h"

namespace mgdpr::cli {

// ---------------------------------------------------------------------------------------------
// Exit codes: the one table.

namespace {

constexpr ExitCodeRow kExitCodes[] = {
    {kExitOk,
     "success (lookup, guard --check-file: at least one match; export: exported; erase: erased, "
     "or processed before)",
     std::nullopt},
    {kExitNoMatch, "lookup, guard --check-file, export, erase: nothing matched", std::nullopt},
    {kExitConfig,
     "configuration error: the config file, the key, password or secret file, the policy "
     "against the live database, or (check) a missing database privilege; nothing was changed",
     ErrorKind::kConfig},
    {kExitDatabase,
     "database error: cannot connect, or a statement failed (the batch in progress was rolled "
     "back)",
     ErrorKind::kDatabase},
    {kExitKeyMismatch,
     "the hash key is not one this database knows, was retired by a rotation, or the keyring "
     "lacks a key the database still holds digests of",
     ErrorKind::kKeyMismatch},
    {kExitBusy, "another sweep is running on this database (with --quiet: silent)",
     ErrorKind::kBusy},
    {kExitFailure, "any other failure", ErrorKind::kFailure},
    {kExitUsage,
     "wrong command-line arguments or unusable input: an unknown command or option, a field the "
     "policy does not hash, an empty CSV, a too short password; erase: several contacts match, "
     "or the erasure was not confirmed",
     ErrorKind::kUsage},
};

// Wraps `text` at `width` columns, continuation lines indented by `indent`.
std::string wrapped(std::string_view text, size_t width, std::string_view indent) {
  std::string out;
  size_t column = 0;
  while (!text.empty()) {
    const size_t space = text.find(' ');
    const std::string_view word = text.substr(0, space);
    if (column > 0 && column + 1 + word.size() > width) {
      out += "\n";
      out += indent;
      column = 0;
    } else if (column > 0) {
      out += ' ';
      ++column;
    }
    out += word;
    column += word.size();
    text.remove_prefix(space == std::string_view::npos ? text.size() : space + 1);
  }
  return out;
}

}  // namespace

std::span<const ExitCodeRow> exit_codes() { return kExitCodes; }

int exit_code_for(ErrorKind kind) {
  for (const ExitCodeRow& row : kExitCodes) {
    if (row.kind == kind) return row.code;
  }
  return kExitFailure;
}

std::string exit_codes_help() {
  std::string text = "Exit codes (every command):\n";
  for (const ExitCodeRow& row : kExitCodes) {
    text += fmt::format("  {:<3} {}\n", row.code, wrapped(row.meaning, 84, "      "));
  }
  return text;
}

std::string exit_codes_markdown() {
  std::string text = "| code | meaning |\n|---|---|\n";
  for (const ExitCodeRow& row : kExitCodes) text += fmt::format("| {} | {} |\n", row.code, row.meaning);
  return text;
}

nlohmann::json error_json(const Error& error) {
  return {{"message", error.message},
          {"kind", error_kind_name(error.kind)},
          {"exit_code", exit_code_for(error.kind)}};
}

void print_json(const nlohmann::json& json) {
  // Replace, not throw, should a message ever hold invalid UTF-8.
  fmt::print("{}\n", json.dump(2, ' ', false, nlohmann::json::error_handler_t::replace));
}

int fail(const CommandArgs& args, const Error& error) {
  const int code = exit_code_for(error.kind);
  if (args.json) {
    print_json({{"error", error_json(error)}});
  } else if (!(args.quiet && error.kind == ErrorKind::kBusy)) {
    // --quiet (cron, the timer) stays silent when another sweep holds the lock: not an error.
    fmt::print(stderr, "mautic-gdpr: error: {}\n", error.message);
  }
  return code;
}

int usage_error(std::string_view message, bool json) {
  CommandArgs args;
  args.json = json;
  return fail(args, Error{std::string(message), ErrorKind::kUsage});
}

std::optional<int> refuse_existing_file(const std::optional<std::string>& path,
                                       std::string_view option, bool json) {
  if (!path || ::access(path->c_str(), F_OK) != 0) return std::nullopt;
  return usage_error(fmt::format("{} exists; mautic-gdpr never overwrites a file: remove it or "
                                 "choose another {}",
                                 *path, option),
                     json);
}

nlohmann::json time_json(const std::optional<std::string>& database_time) {
  return database_time ? nlohmann::json(iso8601_utc(*database_time)) : nlohmann::json(nullptr);
}

void print_locations(const mautic::RelatedPlan& related) {
  fmt::print("  {:<32} {:<7} {}\n", "location", "action", "why");
  for (const auto& plan : related.locations) {
    std::string name(plan.location->name);
    if (plan.location->tables == mautic::Tables::kPerForm) {
      name = fmt::format("form_results ({} tables)", plan.tables.size());
    }
    std::string origin;
    if (plan.declared) {
      origin = fmt::format(" [declared at {}: table {}, via {}]", plan.origin,
                           plan.location->named_table(), plan.location->link_column);
    } else if (plan.origin != "default") {
      origin = fmt::format(" [set at {}]", plan.origin);
    }
    fmt::print("  {:<32} {:<7} {}{}\n", name, mautic::row_action_name(plan.action),
               plan.location->why, origin);
  }
  for (const auto& missing : related.missing) {
    fmt::print("  {:<32} {:<7} {}\n", missing, "-", "skipped: this Mautic has no such table");
  }
}

nlohmann::json queue_json(const mautic::QueueState& state, const mautic::Schema& schema) {
  return {{"installed", state.any()},
          {"complete", state.complete()},
          {"baseline", state.baseline},
          {"covered_tables", std::vector<std::string>(state.covered.begin(), state.covered.end())},
          {"missing_tables", state.missing},
          {"unqueueable_tables", mautic::unqueueable_tables(schema)},
          {"queued", state.queued}};
}

void print_queue(const mautic::QueueState& state) {
  if (!state.any()) {
    fmt::print("Change queue: not installed (every sweep checks every processed contact's rows; "
               "`mautic-gdpr queue install` makes a plain sweep check only what changed)\n");
    return;
  }
  fmt::print("Change queue: installed on {} table(s), {} row(s) queued{}\n", state.covered.size(),
             state.queued,
             state.baseline ? "" : "; the next sweep checks everything once before it relies on it");
  if (!state.missing.empty()) {
    fmt::print("Change queue: triggers missing on {} (a sweep checks these tables in full; "
               "`mautic-gdpr queue install` adds them)\n",
               db::join(state.missing, ", "));
  }
}

namespace {

std::string or_dash(const std::optional<std::string>& value) { return value.value_or("-"); }

// A processed record as the guard prints it: date, reason, channel, field; never a value.
std::string describe_record(const mautic::ProcessedRecord& record) {
  return fmt::format("a record processed on {} ({}, channel {}, by {})", record.processed_on(),
                     record.reason, record.channel, record.field);
}

nlohmann::json record_json(const mautic::ProcessedRecord& record) {
  return {{"processed_at", iso8601_utc(record.processed_at)},
          {"reason", record.reason},
          {"channel", record.channel},
          {"field", record.field}};
}

nlohmann::json guard_json(const mautic::GuardReport& report) {
  nlohmann::json events = nlohmann::json::array();
  for (const auto& event : report.events) {
    nlohmann::json records = nlohmann::json::array();
    for (const auto& record : event.records) records.push_back(record_json(record));
    events.push_back({{"contact_id", event.contact_id},
                      {"origin", origin_name(event.origin)},
                      {"action", event.suppressed ? "suppressed" : "reported"},
                      {"matches", records}});
  }
  return {{"checked", report.checked},
          {"suppressed", report.suppressed},
          {"reported", report.reported},
          {"events", events}};
}

// Rows that could not be handled as the location table says: table, key, what became of the
// row and why; never a value.
template <typename Rows>
void print_unhandled(const Rows& rows) {
  for (const mautic::UnhandledRow& row : rows) {
    fmt::print("  {} {} ({}): {}\n", row.table, row.key, row.outcome, row.problem);
  }
}

template <typename Rows>
nlohmann::json unhandled_json(const Rows& rows) {
  nlohmann::json out = nlohmann::json::array();
  for (const mautic::UnhandledRow& row : rows) {
    out.push_back(
        {{"table", row.table}, {"key", row.key}, {"outcome", row.outcome}, {"problem", row.problem}});
  }
  return out;
}

// One line per returning contact (contact ids only), then the counts.
void print_guard(const mautic::GuardReport& report) {
  for (const auto& event : report.events) {
    std::string matches;
    for (const auto& record : event.records) {
      matches += (matches.empty() ? "" : "; ") + describe_record(record);
    }
    fmt::print("guard: contact {} ({}) matches {}: {}\n", event.contact_id,
               origin_name(event.origin), matches,
               event.suppressed
                   ? "put back on do-not-contact"
                   : "left contactable, its origin is not in [guard] origins; review it");
  }
  fmt::print("guard: {} new contact(s) checked, {} put back on do-not-contact, {} reported\n",
             report.checked, report.suppressed, report.reported);
}

int run_keygen(CommandContext& context) {
  const CommandArgs& args = context.args;
  if (args.rotate) {
    auto rotated = app::rotate_key(args.config_path, args.key_out);
    if (!rotated) return fail(args, rotated.error());
    if (args.json) {
      print_json({{"key_file", args.key_out},
                  {"mode", "0600"},
                  {"rotated", {{"config", args.config_path},
                               {"fingerprint", rotated->new_fingerprint.substr(0, 16)},
                               {"old_key_file", rotated->old_key_file},
                               {"old_fingerprint", rotated->old_fingerprint.substr(0, 16)}}}});
      return kExitOk;
    }
    fmt::print(
        "Wrote a new 256-bit key to {} (mode 0600, fingerprint {}...); it is the active key now.\n"
        "{}: key_file names it, and the old key {} (fingerprint {}...) is listed under\n"
        "[hashing.keyring]: lookups and the re-import guard still use it, new digests never do.\n"
        "The next sweep records the rotation in the database. If `mautic-gdpr serve` runs,\n"
        "reload it (systemctl reload mautic-gdpr) so that it hashes with the new key. Back up\n"
        "the new key, and keep the old one: records processed before can only be found with it.\n",
        args.key_out, rotated->new_fingerprint.substr(0, 16), args.config_path,
        rotated->old_key_file, rotated->old_fingerprint.substr(0, 16));
    return kExitOk;
  }
  if (auto written = app::write_new_key(args.key_out); !written) {
    return fail(args, written.error());
  }
  if (args.json) {
    print_json({{"key_file", args.key_out}, {"mode", "0600"}, {"rotated", nullptr}});
    return kExitOk;
  }
  fmt::print(
      "Wrote a new 256-bit key to {} (mode 0600).\n"
      "Back it up somewhere safe: without it, no hashed value can ever be looked up again.\n"
      "Name it in the config: [hashing] key_file = \"{}\"\n",
      args.key_out, args.key_out);
  return kExitOk;
}

int run_plan(CommandContext& context) {
  auto plan = context.session->engine->plan();
  if (!plan) return fail(context.args, plan.error());
  if (context.args.json) {
    nlohmann::json out;
    out["pending"] = plan->pending;
    out["waiting"] = plan->waiting;
    out["records_to_forget"] = plan->forgettable;
    out["changes"] = nlohmann::json::array();
    out["locations"] = nlohmann::json::object();
    for (const auto& location : plan->related->locations) {
      out["locations"][std::string(location.location->name)] =
          mautic::row_action_name(location.action);
    }
    for (const auto& line : plan->lines) {
      out["changes"].push_back({{"table", line.table},
                                {"column", line.column},
                                {"action", line.action_text},
                                {"values", line.values}});
    }
    print_json(out);
    return kExitOk;
  }
  fmt::print("A sweep would process {} contact(s) and change (nothing is written now):\n",
             plan->pending);
  fmt::print("  {:<40} {:<10} {:>10}\n", "table.column", "action", "values");
  for (const auto& line : plan->lines) {
    if (line.values == 0) continue;
    fmt::print("  {:<40} {:<10} {:>10}\n", line.table + "." + line.column, line.action_text,
               line.values);
  }
  if (plan->waiting > 0) {
    fmt::print("\n{} more contact(s) are on do-not-contact but within their grace period "
               "([trigger] grace): left alone for now.\n",
               plan->waiting);
  }
  if (plan->forgettable > 0) {
    fmt::print("\n{} processed record(s) are past [retention] forget_after: a sweep deletes them "
               "completely, the contacts included.\n",
               plan->forgettable);
  }
  fmt::print("\nand, for the same contacts, in the other tables that hold their data:\n");
  print_locations(*plan->related);
  return kExitOk;
}

int run_sweep(CommandContext& context) {
  const CommandArgs& args = context.args;
  mautic::SweepOptions options;
  options.limit = args.limit;
  options.batch_size = args.batch_size.value_or(context.session->config.sweep.batch_size);
  options.full_pass = args.full_pass;
  Result<mautic::SweepReport> report = Error{};
  {
    SweepProgress progress(args.json ? SweepProgress::Mode::kOff
                                     : SweepProgress::mode_for(stderr, args.quiet),
                           stderr);
    report = context.session->engine->sweep(
        options, [&progress](int64_t done, int64_t total) { progress.update(done, total); });
  }
  if (!report) return fail(args, report.error());
  // Only tables where something changed.
  auto nonzero = [](const mautic::TableCounts& counts) {
    mautic::TableCounts changed;
    for (const auto& [table, rows] : counts) {
      if (rows > 0) changed[table] = rows;
    }
    return changed;
  };
  if (args.json) {
    nlohmann::json out;
    out["processed"] = report->contacts_processed;
    out["pending"] = report->pending_before;
    out["rows_changed"] = nonzero(report->rows_changed);
    out["repaired"] = nonzero(report->repaired);
    out["returned"] = report->returned;
    out["retries"] = report->retries;
    out["unhandled"] = unhandled_json(report->unhandled);
    out["seconds"] = report->seconds;
    out["queue"] = {{"used", report->queue_used}, {"contacts", report->queued_contacts}};
    out["waiting"] = report->waiting;
    out["forget"] = {{"forgotten", report->forget.forgotten},
                     {"by_reason", report->forget.by_reason},
                     {"blocked", report->forget.blocked}};
    out["guard"] = guard_json(report->guard);
    out["warnings"] = report->warnings;
    print_json(out);
    return kExitOk;
  }
  auto joined_counts = [](const mautic::TableCounts& counts) {
    std::string tables;
    for (const auto& [table, rows] : counts) {
      if (rows == 0) continue;
      tables += fmt::format("{}{} {}", tables.empty() ? "" : ", ", table, rows);
    }
    return tables;
  };
  if (!report->forget.blocked.empty()) {
    std::vector<std::string> ids;
    for (int64_t id : report->forget.blocked) ids.push_back(std::to_string(id));
    fmt::print(stderr,
               "mautic-gdpr: warning: forget: contact(s) {} cannot be deleted: a table outside "
               "Mautic's schema refers to them with a foreign key that has no ON DELETE "
               "action; their records stay until that table lets go (MariaDB error 1451)\n",
               fmt::join(ids, ", "));
  }
  // Repairs are news even under --quiet: something wrote personal data about people who left.
  const std::string repaired = joined_counts(report->repaired);
  if (!repaired.empty()) {
    fmt::print("sweep: repaired rows of processed contacts that were not clean: {}\n", repaired);
  }
  // News even under --quiet: a row the sweep could not handle needs someone to look at it.
  if (!report->unhandled.empty()) {
    fmt::print("sweep: {} row(s) could not be handled as the location table says (cleared: the "
               "value could not be rewritten; left: whose it is cannot be told, or the contact "
               "failed alone); the sweep went on with the rest:\n",
               report->unhandled.size());
    print_unhandled(report->unhandled);
  }
  // The full pass's discovery: tables no location covers, on stderr even under --quiet (the
  // timer's journal keeps them).
  for (const auto& warning : report->warnings) fmt::print(stderr, "warning: {}\n", warning);
  if (args.quiet) return kExitOk;  // the outcome is in `status`; only errors are printed
  const std::string changed = joined_counts(report->rows_changed);
  fmt::print("sweep: {} contact(s) processed of {} pending in {:.2f} s{}\n",
             report->contacts_processed, report->pending_before, report->seconds,
             changed.empty() ? "" : " (rows changed: " + changed + ")");
  if (report->waiting > 0) {
    fmt::print("sweep: {} contact(s) wait out their grace period ([trigger] grace)\n",
               report->waiting);
  }
  if (report->forget.forgotten > 0) {
    fmt::print("forget: {} processed record(s) past [retention] forget_after deleted completely\n",
               report->forget.forgotten);
  }
  if (report->returned > 0) {
    fmt::print("sweep: {} processed contact(s) came back (their do-not-contact entry was "
               "removed in Mautic); recorded, and their new data is left alone\n",
               report->returned);
  }
  if (report->retries > 0) {
    fmt::print("sweep: {} transaction(s) run again after a deadlock or lock wait timeout with "
               "Mautic's own writes\n",
               report->retries);
  }
  print_guard(report->guard);
  return kExitOk;
}

int run_queue(CommandContext& context) {
  const CommandArgs& args = context.args;
  app::Session& session = *context.session;
  if (args.queue_action != "status") {
    const auto action = args.queue_action == "install" ? mautic::Engine::QueueAction::kInstall
                                                       : mautic::Engine::QueueAction::kRemove;
    if (auto changed = session.engine->change_queue(action); !changed) {
      return fail(args, changed.error());
    }
  }
  auto state = mautic::read_queue_state(*session.connection, session.schema);
  if (!state) return fail(args, state.error());
  if (args.json) {
    nlohmann::json out = queue_json(*state, session.schema);
    out["action"] = args.queue_action;
    print_json(out);
    return kExitOk;
  }
  if (args.queue_action == "install") fmt::print("queue: triggers installed\n");
  if (args.queue_action == "remove") fmt::print("queue: triggers removed, queue emptied\n");
  print_queue(*state);
  return kExitOk;
}

int run_verify(CommandContext& context) {
  auto verified = context.session->engine->verify();
  if (!verified) return fail(context.args, verified.error());
  const mautic::VerifyReport& report = *verified;
  if (context.args.json) {
    nlohmann::json out;
    out["clean"] = report.clean();
    out["contacts_checked"] = report.contacts_checked;
    out["returned"] = report.returned;
    out["tables_checked"] = report.tables_checked;
    out["unreadable"] = unhandled_json(report.unreadable);
    out["violations"] = nlohmann::json::array();
    for (const auto& violation : report.violations) {
      nlohmann::json columns = nlohmann::json::object();
      for (const auto& [column, rows] : violation.columns) columns[column] = rows;
      out["violations"].push_back({{"location", violation.location},
                                   {"table", violation.table},
                                   {"rows", violation.rows},
                                   {"columns", columns}});
    }
    print_json(out);
  } else {
    fmt::print("verify: {} processed contact(s) still on do-not-contact, checked in {} table(s); "
               "{} came back by choice and are not checked\n",
               report.contacts_checked, report.tables_checked, report.returned);
    if (report.clean()) {
      fmt::print("verify: clean: no personal value of a processed contact is left\n");
    } else if (report.violations.empty()) {
      fmt::print("verify: NOT proven clean: these queued payloads cannot be read, so whose data "
                 "they hold cannot be told; look at them in Mautic (or delete them there)\n");
    } else {
      fmt::print("verify: NOT clean: rows that still hold personal data of processed contacts\n");
      fmt::print("  {:<32} {:<36} {:>8}  {}\n", "location", "table", "rows", "columns");
      for (const auto& violation : report.violations) {
        std::string columns;
        for (const auto& [column, rows] : violation.columns) {
          columns += fmt::format("{}{} {}", columns.empty() ? "" : ", ", column, rows);
        }
        fmt::print("  {:<32} {:<36} {:>8}  {}\n", violation.location, violation.table,
                   violation.rows, columns);
      }
      fmt::print("Run `mautic-gdpr sweep` to repair them; it repairs exactly these rows.\n");
    }
    if (!report.unreadable.empty()) {
      fmt::print("verify: {} queued payload(s) cannot be read:\n", report.unreadable.size());
      print_unhandled(report.unreadable);
    }
  }
  return report.clean() ? kExitOk : kExitNoMatch;
}

}  // namespace

std::optional<std::vector<mautic::LookupCriterion>> lookup_criteria(const CommandArgs& args) {
  std::vector<mautic::LookupCriterion> criteria;
  if (args.email) criteria.push_back({"email", *args.email});
  for (const auto& field : args.fields) {
    auto equals = field.find('=');
    if (equals == std::string::npos || equals == 0) return std::nullopt;
    criteria.push_back({field.substr(0, equals), field.substr(equals + 1)});
  }
  return criteria;
}

namespace {

std::optional<int> check_lookup_args(const CommandArgs& args) {
  auto criteria = lookup_criteria(args);
  if (!criteria) return usage_error("--field takes ALIAS=VALUE, e.g. --field phone=+4930123", args.json);
  if (criteria->empty()) return usage_error("give --email ADDRESS or --field ALIAS=VALUE", args.json);
  return std::nullopt;
}

// A kept value as JSON: a number where the column holds numbers (points, a number field), a
// time in ISO 8601 where it holds times.
nlohmann::json kept_json(const mautic::ContactPolicy& policy, const std::string& column,
                         const std::optional<std::string>& value) {
  if (!value) return nullptr;
  const mautic::ColumnPlan* plan = policy.find(column);
  const std::string_view type = plan != nullptr ? std::string_view(plan->sql_type) : "";
  if (type.starts_with("datetime") || type.starts_with("timestamp")) return iso8601_utc(*value);
  for (std::string_view numeric :
       {"tinyint", "smallint", "mediumint", "int", "bigint", "decimal", "float", "double"}) {
    if (type.starts_with(numeric)) {
      auto number = nlohmann::json::parse(*value, nullptr, false);
      if (number.is_number()) return number;
    }
  }
  return *value;
}

int run_lookup(CommandContext& context) {
  const CommandArgs& args = context.args;
  auto criteria = *lookup_criteria(args);
  // `--email -` keeps the address out of shell history: it is read from stdin.
  if (args.email == "-") std::getline(std::cin, criteria.front().value);
  auto found = context.session->engine->lookup(criteria);
  if (!found) return fail(args, found.error());
  const auto& matches = found->processed;
  if (args.json) {
    nlohmann::json out;
    out["matches"] = nlohmann::json::array();
    for (const auto& match : matches) {
      nlohmann::json kept = nlohmann::json::object();
      for (const auto& [column, value] : match.kept) {
        kept[column] = kept_json(context.session->policy, column, value);
      }
      nlohmann::json exits = nlohmann::json::array();
      for (const auto& exit : match.earlier_exits) {
        exits.push_back({{"processed_at", iso8601_utc(exit.processed_at)},
                         {"reason", exit.reason},
                         {"channel", exit.channel},
                         {"returned_at", iso8601_utc(exit.returned_at)}});
      }
      out["matches"].push_back({{"contact_id", match.contact_id},
                                {"returned_at", time_json(match.returned_at)},
                                {"earlier_exits", exits},
                                {"processed_by", match.processed_by},
                                {"processed_at", time_json(match.processed_at)},
                                {"reason", match.reason},
                                {"channel", match.channel},
                                {"dnc_date", time_json(match.dnc_date)},
                                {"source", match.source},
                                {"kept", kept},
                                {"generalized", match.generalized}});
    }
    out["live"] = found->live;
    print_json(out);
    return matches.empty() ? kExitNoMatch : kExitOk;
  }
  if (matches.empty()) fmt::print("No processed contact matches.\n");
  for (const auto& match : matches) {
    fmt::print("contact {}\n", match.contact_id);
    fmt::print("  processed by     {}{}\n", match.processed_by,
               match.source == "request" ? ", on an erasure request" : "");
    fmt::print("  processed at     {} UTC\n", or_dash(match.processed_at));
    fmt::print("  left because     {} (channel {}), on do-not-contact since {} UTC\n",
               match.reason, match.channel, or_dash(match.dnc_date));
    if (match.returned_at) {
      fmt::print("  came back        {} UTC (the do-not-contact entry was removed in Mautic)\n",
                 *match.returned_at);
    }
    for (const auto& exit : match.earlier_exits) {
      fmt::print("  earlier exit     processed {} UTC ({}, channel {}), came back {} UTC\n",
                 exit.processed_at, exit.reason, exit.channel, exit.returned_at);
    }
    for (const auto& [column, value] : match.kept) {
      const auto generalized = match.generalized.find(column);
      fmt::print("  {:<16} {}{}\n", context.session->schema.field_label(column), or_dash(value),
                 generalized == match.generalized.end()
                     ? ""
                     : fmt::format(" (generalized: {})", generalized->second));
    }
  }
  if (!found->live.empty()) {
    std::vector<std::string> ids;
    for (int64_t id : found->live) ids.push_back(std::to_string(id));
    fmt::print(
        "Live in Mautic, not processed: contact {}. `mautic-gdpr export --contact-id ID` shows "
        "what is stored; `mautic-gdpr erase --contact-id ID` erases it on request.\n",
        db::join(ids, ", "));
  }
  return matches.empty() ? kExitNoMatch : kExitOk;
}

int run_locations(CommandContext& context) {
  if (context.args.markdown) {
    fmt::print("{}", mautic::locations_markdown());
    return kExitOk;
  }
  // Tables declared under [[related.extra]]: listed as written (`check` validates them against
  // the database). No config file at the default path: nothing declared.
  std::optional<Config> config;
  if (context.args.config_path != kDefaultConfigPath ||
      ::access(context.args.config_path.c_str(), F_OK) == 0) {
    auto loaded = app::load_config_file(context.args.config_path);
    if (!loaded) return fail(context.args, loaded.error());
    config = std::move(*loaded);
  }
  const std::vector<ExtraLocationConfig> no_extras;
  const auto& extras = config ? config->related_extra : no_extras;
  auto declared_name = [](const ExtraLocationConfig& extra) {
    return extra.name.empty() ? extra.table : extra.name;
  };
  if (context.args.json) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& location : mautic::pii_locations()) {
      out.push_back({{"location", location.name},
                     {"default_action", mautic::row_action_name(location.default_action)},
                     {"why", location.why}});
    }
    nlohmann::json declared = nlohmann::json::array();
    for (const auto& extra : extras) {
      nlohmann::json columns = nlohmann::json::array();
      for (const auto& column : extra.columns) {
        columns.push_back({{"column", column.name}, {"kind", column.kind}});
      }
      declared.push_back({{"location", declared_name(extra)},
                          {"action", extra.action},
                          {"why", extra.why.empty() ? "declared in the config" : extra.why},
                          {"declared_at", fmt::format("{}:{}", config->path, extra.line)},
                          {"table", extra.table},
                          {"link_column", extra.link_column},
                          {"parent", extra.parent.empty() ? nullptr : nlohmann::json(extra.parent)},
                          {"columns", columns}});
    }
    print_json({{"locations", out}, {"declared", declared}});
    return kExitOk;
  }
  for (const auto& location : mautic::pii_locations()) {
    fmt::print("{:<32} {:<7} {}\n", location.name, mautic::row_action_name(location.default_action),
               location.why);
  }
  for (const auto& extra : extras) {
    std::string columns;
    for (const auto& column : extra.columns) {
      columns += fmt::format("{}{} ({})", columns.empty() ? "" : ", ", column.name, column.kind);
    }
    fmt::print("{:<32} {:<7} {} [declared at {}:{}: table {}, {}{}{}]\n", declared_name(extra),
               extra.action, extra.why.empty() ? "declared in the config" : extra.why, config->path,
               extra.line, extra.table,
               extra.parent.empty()
                   ? "contact in " + extra.link_column
                   : fmt::format("{} -> {}.{}, contact in {}", extra.link_column, extra.parent,
                                 extra.parent_key, extra.parent_contact_column),
               columns.empty() ? "" : "; clears ", columns);
  }
  return kExitOk;
}

nlohmann::json sweep_run_json(const std::optional<mautic::SweepRun>& run) {
  if (!run) return nullptr;
  return {{"started_at", iso8601_utc(run->started_at)},
          {"ended_at", time_json(run->ended_at)},
          {"processed", run->processed},
          {"result", run->result},
          {"error_class", run->error_class ? nlohmann::json(*run->error_class) : nullptr},
          {"seconds", run->seconds ? nlohmann::json(*run->seconds) : nullptr}};
}

std::string sweep_run_text(const std::optional<mautic::SweepRun>& run) {
  if (!run) return "never";
  std::string text = fmt::format("{}, started {} UTC", run->result, run->started_at.substr(0, 19));
  if (run->seconds) text += fmt::format(", {:.1f} s", *run->seconds);
  text += fmt::format(", {} contact(s) processed", run->processed);
  if (run->error_class) text += fmt::format(" ({} error)", *run->error_class);
  return text;
}

int run_status(CommandContext& context) {
  const app::Session& session = *context.session;
  // The config's keys, when this user may read them: each key of the database then says
  // whether the config still names it. A monitoring user without them gets the counts.
  auto loaded = app::load_key_ring(session.config);
  const KeyRing* keys = session.keys ? &*session.keys : loaded ? &*loaded : nullptr;
  auto status = mautic::read_status(*session.connection, session.config, session.schema,
                                    session.related, keys);
  if (!status) return fail(context.args, status.error());
  int64_t total = 0;
  for (const auto& [reason, count] : status->processed_by_reason) total += count;
  // Overdue: no successful sweep within twice the timer's interval ([sweep] interval_minutes).
  const auto& success = status->last_successful_sweep;
  const auto ended = success && success->ended_at ? utc_epoch_seconds(*success->ended_at)
                                                  : std::nullopt;
  const int64_t now = std::chrono::duration_cast<std::chrono::seconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();
  const int interval = session.config.sweep.interval_minutes;
  const bool overdue = !ended || now - *ended > 2 * 60 * int64_t(interval);
  if (context.args.json) {
    nlohmann::json out;
    out["processed"] = total;
    out["processed_by_reason"] = status->processed_by_reason;
    out["returned"] = status->returned;
    out["pending"] = status->pending;
    out["oldest_pending_since"] = time_json(status->oldest_pending_since);
    out["oldest_pending_age_seconds"] = status->oldest_pending_age_seconds
                                            ? nlohmann::json(*status->oldest_pending_age_seconds)
                                            : nullptr;
    out["last_sweep"] = sweep_run_json(status->last_sweep);
    out["last_successful_sweep"] = sweep_run_json(status->last_successful_sweep);
    out["sweep_interval_minutes"] = interval;
    out["sweep_overdue"] = overdue;
    out["unhandled_total"] = status->unhandled.rows;
    out["unhandled_latest"] = nlohmann::json::array();
    for (const auto& entry : status->unhandled.recent) {
      nlohmann::json row = unhandled_json(std::vector<mautic::UnhandledRow>{entry.row})[0];
      row["first_seen"] = time_json(entry.first_seen);
      row["last_seen"] = time_json(entry.last_seen);
      out["unhandled_latest"].push_back(std::move(row));
    }
    out["waiting"] = status->waiting;
    out["next_due_at"] = time_json(status->next_due_at);
    out["keys"] = nlohmann::json::array();
    for (const auto& key : status->keys) {
      out["keys"].push_back({{"id", key.id},
                             {"fingerprint", key.fingerprint.substr(0, 16)},
                             {"added_at", time_json(key.added_at)},
                             {"retired_at", time_json(key.retired_at)},
                             {"active", !key.retired_at.has_value()},
                             {"records", key.records},
                             {"digests", key.digests},
                             {"in_config", keys ? nlohmann::json(key.in_config) : nullptr}});
    }
    out["locations_cleaned_at"] = nlohmann::json::object();
    for (const auto& location : status->locations) {
      out["locations_cleaned_at"][location.table] = time_json(location.cleaned_at);
    }
    print_json(out);
    return kExitOk;
  }
  fmt::print("processed contacts: {}\n", total);
  for (const auto& [reason, count] : status->processed_by_reason) {
    fmt::print("  {:<14} {}\n", reason, count);
  }
  if (status->returned > 0) {
    fmt::print("  of those, came back by choice (no longer on do-not-contact): {}\n",
               status->returned);
  }
  fmt::print("pending (on do-not-contact, not yet processed): {}{}\n", status->pending,
             status->oldest_pending_age_seconds
                 ? fmt::format(", the oldest for {}",
                               duration_text(*status->oldest_pending_age_seconds))
                 : "");
  if (status->waiting > 0) {
    fmt::print("waiting out their grace period: {} (the next is due {} UTC)\n", status->waiting,
               or_dash(status->next_due_at));
  }
  fmt::print("last sweep: {}\n", sweep_run_text(status->last_sweep));
  fmt::print("last successful sweep: {}\n", sweep_run_text(status->last_successful_sweep));
  if (overdue) {
    fmt::print("warning: no successful sweep in the last {} minutes (twice [sweep] "
               "interval_minutes = {}); is the timer running? systemctl status "
               "mautic-gdpr-sweep.timer\n",
               2 * interval, interval);
  }
  if (status->unhandled.rows > 0) {
    std::string counts;
    for (const auto& [where, rows] : status->unhandled.by_table_and_outcome) {
      counts += fmt::format("{}{} {} {}", counts.empty() ? "" : ", ", where.first, where.second,
                            rows);
    }
    fmt::print("rows sweeps could not handle: {} ({}); the latest (last met, UTC):\n",
               status->unhandled.rows, counts);
    for (const auto& entry : status->unhandled.recent) {
      fmt::print("  {} {} {} ({}): {}\n", entry.last_seen, entry.row.table, entry.row.key,
                 entry.row.outcome, entry.row.problem);
    }
  }
  if (!status->keys.empty()) fmt::print("hash keys (digests made by each):\n");
  for (const auto& key : status->keys) {
    fmt::print("  {}... {:<8} {} record(s), {} digest(s), added {}{}{}\n",
               key.fingerprint.substr(0, 16), key.retired_at ? "older" : "active", key.records,
               key.digests, or_dash(key.added_at),
               key.retired_at ? ", retired " + *key.retired_at : "",
               !keys || key.in_config ? "" : "; not in the config");
  }
  if (!status->locations.empty()) {
    fmt::print("rows of processed contacts, last checked clean (UTC):\n");
    for (const auto& location : status->locations) {
      fmt::print("  {:<36} {}\n", location.table, location.cleaned_at.value_or("never"));
    }
  }
  return kExitOk;
}

std::optional<int> check_guard_args(const CommandArgs& args) {
  if (args.delimiter.size() != 1) {
    return usage_error("--delimiter takes one character, e.g. --delimiter ';'", args.json);
  }
  // Checked before any work: the filtered file is never written over an existing one.
  return refuse_existing_file(args.out, "--out", args.json);
}

int run_guard(CommandContext& context) {
  const CommandArgs& args = context.args;
  std::ifstream in(args.check_file, std::ios::binary);
  if (!in) {
    return fail(args, make_error(ErrorKind::kUsage, "cannot read {}: {}", args.check_file,
                                 std::strerror(errno)));
  }
  std::ostringstream content;
  content << in.rdbuf();
  const std::string text = content.str();

  app::Session& session = *context.session;
  mautic::Guard guard(*session.connection, session.config, session.schema, session.policy,
                      *session.keys, app::cli_actor());
  auto check = guard.check_csv(text, args.delimiter[0]);
  if (!check) return fail(args, check.error());

  if (args.out) {
    // The rest of the file is still personal data: only the owner may read the copy.
    if (auto written = app::write_new_file(*args.out, check->filtered, 0600,
                                           "mautic-gdpr never overwrites a file; choose another "
                                           "--out");
        !written) {
      return fail(args, written.error());
    }
  }

  const auto& origins = session.config.guard.origins;
  const bool imports_guarded =
      std::find(origins.begin(), origins.end(), ContactOrigin::kImport) != origins.end();
  const int64_t kept = check->rows - int64_t(check->matches.size());
  if (args.json) {
    nlohmann::json out;
    out["rows"] = check->rows;
    out["columns"] = check->columns;
    out["imports_guarded"] = imports_guarded;
    out["matches"] = nlohmann::json::array();
    for (const auto& match : check->matches) {
      nlohmann::json line = record_json(match.record);
      line["line"] = match.line;
      out["matches"].push_back(line);
    }
    out["written"] = args.out ? nlohmann::json(kept) : nlohmann::json(nullptr);
    print_json(out);
  } else {
    for (const auto& match : check->matches) {
      fmt::print("line {}: matches {}\n", match.line, describe_record(match.record));
    }
    std::string columns;
    for (const auto& column : check->columns) columns += (columns.empty() ? "" : ", ") + column;
    fmt::print("{} of {} row(s) match records of people who left (compared by {}).\n",
               check->matches.size(), check->rows, columns);
    if (!check->matches.empty()) {
      fmt::print("{}\n", imports_guarded
                             ? "An import puts these contacts back on do-not-contact."
                             : "Imports are not in [guard] origins: an import would only report "
                               "these contacts, and Mautic would mail them.");
    }
    if (args.out) {
      fmt::print("Wrote {} row(s) to {} (mode 0600), the file without the matching rows.\n",
                 kept, *args.out);
    }
  }
  return check->matches.empty() ? kExitNoMatch : kExitOk;
}

int run_serve(CommandContext& context) {
  auto served = server::serve(*context.config);
  if (!served) return fail(context.args, served.error());
  return kExitOk;
}

// One line from the terminal with echo off (restored even when reading fails).
std::optional<std::string> read_hidden_line(const char* prompt) {
  fmt::print(stderr, "{}", prompt);
  std::fflush(stderr);
  termios saved{};
  const bool terminal = ::tcgetattr(STDIN_FILENO, &saved) == 0;
  if (terminal) {
    termios quiet = saved;
    quiet.c_lflag &= ~tcflag_t(ECHO);
    ::tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
  }
  std::string line;
  const bool read = static_cast<bool>(std::getline(std::cin, line));
  if (terminal) ::tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved);
  fmt::print(stderr, "\n");
  if (!read) return std::nullopt;
  return line;
}

std::optional<int> check_passwd_args(const CommandArgs& args) {
  const auto name_char = [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '_' || c == '.' || c == '-';
  };
  const std::optional<std::string>& user = args.user;
  if (user && (user->empty() || user->size() > 64 ||
               !std::all_of(user->begin(), user->end(), name_char))) {
    return usage_error("--user takes a name of letters, digits, _ . - (at most 64), e.g. --user "
                       "alice",
                       args.json);
  }
  return std::nullopt;
}

int run_passwd(CommandContext& context) {
  const CommandArgs& args = context.args;
  const std::optional<std::string>& user = args.user;
  std::string password;
  if (::isatty(STDIN_FILENO) != 0) {
    auto first = read_hidden_line("Password: ");
    auto again = first ? read_hidden_line("Again: ") : std::nullopt;
    if (!first || !again) return fail(args, make_error(ErrorKind::kUsage, "no password was entered"));
    if (*first != *again) {
      return fail(args, make_error(ErrorKind::kUsage,
                                   "the two passwords differ; nothing was printed"));
    }
    password = std::move(*first);
  } else if (!std::getline(std::cin, password)) {
    return fail(args, make_error(ErrorKind::kUsage,
                                 "no password on stdin; pipe one line, e.g. from a password "
                                 "manager"));
  }
  if (!password.empty() && password.back() == '\r') password.pop_back();
  if (password.size() < 8) {
    std::fill(password.begin(), password.end(), '\0');
    return fail(args, make_error(ErrorKind::kUsage,
                                 "the password is shorter than 8 characters; choose a longer one"));
  }
  auto hash = server::hash_password(password);
  std::fill(password.begin(), password.end(), '\0');
  if (!hash) return fail(args, hash.error());
  // A dot would make a dotted TOML key: such names are quoted.
  const bool bare = user && user->find('.') == std::string::npos;
  const std::string line =
      user ? fmt::format("{}{}{} = \"{}\"", bare ? "" : "\"", *user, bare ? "" : "\"", *hash) : "";
  if (args.json) {
    print_json({{"user", user ? nlohmann::json(*user) : nullptr},
                {"hash", *hash},
                {"line", user ? nlohmann::json(line) : nullptr}});
  } else if (user) {
    fmt::print("{}\n", line);
    if (::isatty(STDOUT_FILENO) != 0) {
      fmt::print(stderr,
                 "Paste this line below [server.users] in the config and reload serve "
                 "(systemctl reload mautic-gdpr, or SIGHUP).\n");
    }
  } else {
    fmt::print("{}\n", *hash);
  }
  return kExitOk;
}

// ---------------------------------------------------------------------------------------------
// The options of each command.

void add_config_option(CLI::App& command, CommandArgs& args) {
  command.add_option("-c,--config", args.config_path, "The TOML config file")
      ->capture_default_str();
}

void keygen_options(CLI::App& command, CommandArgs& args) {
  command.add_option("--out", args.key_out, "Where to write the key, e.g. /etc/mautic-gdpr/hmac.key")
      ->required();
  command.add_flag("--rotate", args.rotate,
                   "Replace the active key (a key may have leaked): the config's key_file then\n"
                   "names the new key and the old one moves to [hashing.keyring], for lookups\n"
                   "and the re-import guard only. The config file is rewritten in place");
  command.add_option("-c,--config", args.config_path, "The TOML config file (with --rotate)")
      ->capture_default_str();
  command.footer(
      "Keep a backup of every key: without it no value hashed with it can be looked up again,\n"
      "and a key the database does not know is refused. After --rotate, the next sweep records\n"
      "the new key in the database; reload `mautic-gdpr serve` (SIGHUP) so that it uses it.\n"
      "Example: mautic-gdpr keygen --rotate --out /etc/mautic-gdpr/hmac-2027.key");
}

void no_options(CLI::App&, CommandArgs&) {}

void verify_options(CLI::App& command, CommandArgs&) {
  command.footer(
      "Exit code 0 when clean, 1 when some row still holds personal data (the sweep repairs\n"
      "it) or a queued webhook payload cannot be read (whose it is cannot be told; named by\n"
      "table and id). A contact whose do-not-contact entry was removed in Mautic came back by\n"
      "choice: its new data is its own and is not checked.");
}

void queue_options(CLI::App& command, CommandArgs& args) {
  command.add_option("action", args.queue_action, "install, remove or status")
      ->check(CLI::IsMember({"install", "remove", "status"}))
      ->capture_default_str();
  command.footer(
      "install: AFTER INSERT and AFTER UPDATE triggers on the profile, lead_donotcontact and\n"
      "every table whose rows carry a contact id (directly or through a parent row); each\n"
      "appends the id to gdpr_dirty when the contact is processed and has not come back. They\n"
      "never change Mautic's rows and sit beside any trigger Mautic or a plugin has. Needs the\n"
      "TRIGGER privilege (and, with binary logging, log_bin_trust_function_creators = 1).\n"
      "Run it again after Mautic creates a form (its results table) or after an upgrade.\n"
      "remove: drops exactly these triggers and empties the queue. Both are idempotent.\n"
      "The triggers run as the database user that installed them: remove the queue before\n"
      "dropping that user, or Mautic's writes to these tables will fail.");
}

void sweep_options(CLI::App& command, CommandArgs& args) {
  command.add_option("--limit", args.limit, "Process at most N contacts")
      ->check(CLI::PositiveNumber);
  command.add_flag("--full-pass", args.full_pass,
                   "Also rescan every do-not-contact row and every IP address, and check every\n"
                   "processed contact's rows by content even when the change queue is installed\n"
                   "(a plain sweep then checks only the queued contacts). Done automatically at\n"
                   "most once an hour; use it after changing the policy or restoring a backup");
  command.add_option("--batch-size", args.batch_size,
                     "Contacts per transaction (default: [sweep] batch_size, 500)")
      ->check(CLI::Range(1, 10000));
  command.add_flag("-q,--quiet", args.quiet,
                   "Print only real errors, repairs and rows that could not be handled: no\n"
                   "progress, no summary, and nothing when another sweep holds the lock (exit 5).\n"
                   "For the timer and cron; the outcome of every sweep is in `status`");
  command.footer(
      "Progress goes to stderr: on a terminal a line with percent, rate and time left, otherwise\n"
      "a line every 10 s. Every sweep's start, end, count and result are recorded for `status`,\n"
      "the status page and /metrics.\n"
      "[sweep] workers batches (default 2) are processed side by side, each on a database\n"
      "connection of its own and in its own transaction; with --limit one at a time.\n"
      "A row that cannot be handled stops nothing: a value that cannot be read is cleared, a\n"
      "queued webhook that cannot be read is left, a contact the database refuses stays pending\n"
      "and is retried; each is named by table and id (never its value), here and in `status`.");
}

void lookup_options(CLI::App& command, CommandArgs& args) {
  command.add_option("--email", args.email,
                     "The email address; `-` reads it from stdin (keeps it out of shell history)");
  command.add_option("--field", args.fields,
                     "ALIAS=VALUE for any hashed field; repeat it: all must match");
  command.footer("Exit code 0 when something matched, 1 when nothing did.");
}

void guard_options(CLI::App& command, CommandArgs& args) {
  command.add_option("--check-file", args.check_file,
                     "The CSV file; its email column is the one whose header is `email`")
      ->required();
  command.add_option("--out", args.out,
                     "Also write the file without the matching rows here (mode 0600, never "
                     "overwrites)");
  command.add_option("--delimiter", args.delimiter, "The field delimiter")->capture_default_str();
  command.footer("Exit code 0 when some row matched, 1 when none did.");
}

void locations_options(CLI::App& command, CommandArgs& args) {
  command.add_flag("--markdown", args.markdown,
                   "Print the table as Markdown (for ARCHITECTURE.md)");
  add_config_option(command, args);
  command.footer(
      "Tables declared under [[related.extra]] in the config are listed after the\n"
      "built-in locations (`check` validates them against the database).");
}

void serve_options(CLI::App& command, CommandArgs&) {
  command.footer(
      "Listens on [server] listen (default 127.0.0.1:8470); put nginx with HTTPS in front, or\n"
      "set tls_cert_file and tls_key_file. The webhook secret comes from secret_file or\n"
      "secret_env, never the command line. In Mautic: Settings > Webhooks > New, URL\n"
      "https://<this host>/mautic/webhook, event \"Contact Channel Subscription Change Event\",\n"
      "and the secret Mautic shows goes into the secret file. SIGTERM stops it gracefully:\n"
      "requests in flight finish. SIGHUP (systemctl reload) reads the config again: new\n"
      "[server.users] and policy apply at once, no request is dropped. The package's systemd\n"
      "units: mautic-gdpr.service, or mautic-gdpr@NAME.service for /etc/mautic-gdpr/NAME.toml.");
}

void passwd_options(CLI::App& command, CommandArgs& args) {
  command.add_option("--user", args.user,
                     "Print the whole config line, e.g. alice = \"$argon2id$...\"");
  command.footer(
      "Example:  mautic-gdpr passwd --user alice\n"
      "then paste the printed line below [server.users] and reload `mautic-gdpr serve`\n"
      "(systemctl reload mautic-gdpr, or SIGHUP).");
}

// ---------------------------------------------------------------------------------------------
// The table.

using enum Needs;

const Command kCommands[] = {
    {.name = "keygen",
     .summary = "Create a new random hash key (32 bytes, hex, mode 0600). Never overwrites. With\n"
                "--rotate it replaces the active key of a config (the old one stays for lookups).",
     .needs = kNothing,
     .add_options = keygen_options,
     .run = run_keygen},
    {.name = "init-config",
     .summary = "Print a commented example config, or with --from-mautic one with Mautic's own\n"
                "database settings from its local.php (the password goes into a 0600 file).",
     .needs = kNothing,
     .add_options = init_config_options,
     .run = run_init_config},
    {.name = "check",
     .summary =
         "Prove the config before a sweep needs it: every contact field with its type, column\n"
         "and action (generalizers too), and the columns of leads no lead_fields row describes\n"
         "(a plugin's) with theirs; grace, retention and the hash keys; the locations, declared\n"
         "[[related.extra]] tables included; tables no location covers that reference contacts\n"
         "or look personal, each with a config block to paste; where old values persist outside\n"
         "the tables (binary and query logs, the messenger queue, backups); the database\n"
         "privileges each command needs (each missing one with the GRANT that fixes it);\n"
         "[server] (secret, TLS files, users). Problems as file:line: problem; fix.",
     .needs = kConfig,
     .add_options = no_options,
     .run = run_check},
    {.name = "plan",
     .summary =
         "Dry run: how many contacts a sweep would process and which values it would change.",
     .needs = kReadSession,
     .add_options = no_options,
     .run = run_plan},
    {.name = "sweep",
     .summary =
         "Pseudonymize every contact on do-not-contact for a configured reason and channel that\n"
         "is not processed yet (once its [trigger] grace period is over), and delete the records\n"
         "past [retention] forget_after completely. One transaction per batch: a contact is fully\n"
         "processed or untouched, and a killed sweep is completed by the next one. The timer runs\n"
         "it every 10 min.\n"
          "Rows Mautic leaves of contacts it deletes are scrubbed too ([orphans] action); the hourly\n"
          "full pass warns about tables no location covers (see check).",
     .needs = kWriteSession,
     .add_options = sweep_options,
     .run = run_sweep},
    {.name = "verify",
     .summary =
         "Prove that nothing personal is left: checks every processed contact still on\n"
         "do-not-contact, in the profile and every other place, by content (the conditions the\n"
         "sweep repairs). Prints rows per place and column, never a value. Read only.",
     .needs = kReadSession,
     .add_options = verify_options,
     .run = run_verify},
    {.name = "queue",
     .summary =
         "The opt-in change queue: `queue install` puts triggers on Mautic's tables that note\n"
         "which processed contacts Mautic writes about, so a plain sweep checks only those\n"
         "(the hourly full pass and verify still check everything); `queue remove` takes them\n"
         "away; `queue status` (the default) says whether it is installed and complete.",
     .needs = kWriteSession,
     .add_options = queue_options,
     .run = run_queue},
    {.name = "lookup",
     .summary =
         "Find processed contacts by an exact value of a hashed field, e.g. on an official\n"
         "request that names a person; contacts still live in Mautic with that value are named\n"
         "too. Every lookup is written to the audit table (fields asked and number of matches,\n"
         "never the value).",
     .needs = kReadSession,
     .add_options = lookup_options,
     .run = run_lookup,
     .check_args = check_lookup_args},
    {.name = "export",
     .summary =
         "Everything stored about a person (GDPR Art. 15): every profile field with its label,\n"
         "do-not-contact, segments, campaigns, tags, companies and every related table's rows;\n"
         "for a processed contact what was kept, and when and why it was processed. Text or\n"
         "--json on stdout, --html FILE for the person. Every export is audited.",
     .needs = kWriteSession,
     .add_options = export_options,
     .run = run_export,
     .check_args = check_export_args},
    {.name = "erase",
     .summary =
         "Erasure on request (GDPR Art. 17): put the contact on do-not-contact and process it\n"
         "with the policy at once, so `lookup` still proves it and a re-import is caught.\n"
         "--dry-run shows what would go. Asks before erasing unless --yes. Audited.",
     .needs = kWriteSession,
     .add_options = erase_options,
     .run = run_erase,
     .check_args = check_erase_args},
    {.name = "guard",
     .summary =
         "Test a CSV before importing it into Mautic: which rows (by line number, never the\n"
         "address) match people who left, and why. Every sweep also runs the re-import guard on\n"
         "the contacts created since the last one ([guard] in the config).",
     .needs = kReadSession,
     .add_options = guard_options,
     .run = run_guard,
     .check_args = check_guard_args},
    {.name = "status",
     .summary = "Counts: processed contacts by reason, pending contacts and the oldest one's age,\n"
                "those waiting out their grace period, the last sweep and the last successful one,\n"
                "rows sweeps could not handle (the latest 20 by table and id), and the digests\n"
                "made by each hash key. Needs no hash key (a monitoring user).",
     .needs = kMonitorSession,
     .add_options = no_options,
     .run = run_status},
    {.name = "locations",
     .summary =
         "List every place outside the profile where Mautic keeps a contact's data, with how a\n"
         "row is tied to the contact and the default action (override under [related]), then\n"
         "the tables the config declares under [[related.extra]].",
     .needs = kNothing,
     .add_options = locations_options,
     .run = run_locations},
    {.name = "serve",
     .summary =
         "Run the service ([server] in the config): Mautic's webhook at POST /mautic/webhook\n"
         "processes a contact the moment it unsubscribes or bounces (same engine as sweep; keep\n"
         "the sweep timer as the safety net), and support staff log in to /lookup, /status and\n"
         "/audit; by [server.roles] they download a person's export and erase a person after a\n"
         "confirmation. Also /metrics (Prometheus) and /healthz. Logs: stderr, key=value lines.",
     .needs = kConfig,
     .add_options = serve_options,
     .run = run_serve},
    {.name = "passwd",
     .summary = "Hash a password for a [server.users] entry (Argon2id). Asks twice on a terminal\n"
                "without echo, or reads one line from stdin; the password is never an argument.",
     .needs = kNothing,
     .add_options = passwd_options,
     .run = run_passwd,
     .check_args = check_passwd_args},
};

}  // namespace

std::span<const Command> commands() { return kCommands; }

const Command* find_command(std::string_view name) {
  for (const Command& command : kCommands) {
    if (command.name == name) return &command;
  }
  return nullptr;
}

std::optional<std::string> suggest_command(std::string_view word) {
  std::vector<std::string> names;
  for (const Command& command : kCommands) names.emplace_back(command.name);
  return did_you_mean(word, names);
}

void add_command_options(const Command& command, CLI::App& app, CommandArgs& args) {
  if (command.needs != Needs::kNothing) add_config_option(app, args);
  app.add_flag("--json", args.json,
               "Machine-readable output (docs/json.md); errors too, as {\"error\": {...}}");
  command.add_options(app, args);
}

int run_command(const Command& command, CommandArgs& args) {
  if (command.check_args != nullptr) {
    if (auto stop = command.check_args(args)) return *stop;
  }
  CommandContext context{args};
  std::optional<Config> config;
  std::unique_ptr<app::Session> session;
  switch (command.needs) {
    case Needs::kNothing:
      break;
    case Needs::kConfig: {
      auto loaded = app::load_config_file(args.config_path);
      if (!loaded) return fail(args, loaded.error());
      config = std::move(*loaded);
      context.config = &*config;
      break;
    }
    case Needs::kMonitorSession:
    case Needs::kReadSession:
    case Needs::kWriteSession: {
      const app::Access access = command.needs == Needs::kWriteSession ? app::Access::kWrite
                                 : command.needs == Needs::kReadSession ? app::Access::kReadOnly
                                                                        : app::Access::kMonitor;
      auto opened = app::open_session(args.config_path, access, app::cli_actor());
      if (!opened) return fail(args, opened.error());
      session = std::move(*opened);
      context.config = &session->config;
      context.session = session.get();
      break;
    }
  }
  return command.run(context);
}

}  // namespace mgdpr::cli
