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
#include "mautic/own_tables.h"
#include "server/auth.h"
#include "server/service.h"

namespace mgdpr::cli {

namespace {

int exit_code_for(const Error& error) {
  switch (error.kind) {
    case ErrorKind::kConfig: return kExitConfig;
    case ErrorKind::kDatabase: return kExitDatabase;
    case ErrorKind::kKeyMismatch: return kExitKeyMismatch;
    case ErrorKind::kBusy: return kExitBusy;
    case ErrorKind::kFailure: return kExitFailure;
  }
  return kExitFailure;
}

int fail(const Error& error) {
  fmt::print(stderr, "mautic-gdpr: error: {}\n", error.message);
  return exit_code_for(error);
}

std::string or_dash(const std::optional<std::string>& value) { return value.value_or("-"); }

void print_locations(const mautic::RelatedPlan& related) {
  fmt::print("  {:<32} {:<7} {}\n", "location", "action", "why");
  for (const auto& plan : related.locations) {
    std::string name(plan.location->name);
    if (plan.location->tables == mautic::Tables::kPerForm) {
      name = fmt::format("form_results ({} tables)", plan.tables.size());
    }
    fmt::print("  {:<32} {:<7} {}{}\n", name, mautic::row_action_name(plan.action),
               plan.location->why,
               plan.origin == "default" ? "" : fmt::format(" [set at {}]", plan.origin));
  }
  for (const auto& missing : related.missing) {
    fmt::print("  {:<32} {:<7} {}\n", missing, "-", "skipped: this Mautic has no such table");
  }
}

nlohmann::json json_or_null(const std::optional<std::string>& value) {
  return value ? nlohmann::json(*value) : nlohmann::json(nullptr);
}

// A processed record as the guard prints it: date, reason, channel, field; never a value.
std::string describe_record(const mautic::ProcessedRecord& record) {
  return fmt::format("a record processed on {} ({}, channel {}, by {})", record.processed_on(),
                     record.reason, record.channel, record.field);
}

nlohmann::json record_json(const mautic::ProcessedRecord& record) {
  return {{"processed_on", record.processed_on()},
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

// One line per returning contact (contact ids only), then the counts unless quiet.
void print_guard(const mautic::GuardReport& report, bool quiet) {
  for (const auto& event : report.events) {
    std::vector<std::string> records;
    for (const auto& record : event.records) records.push_back(describe_record(record));
    std::string matches;
    for (const auto& record : records) matches += (matches.empty() ? "" : "; ") + record;
    fmt::print("guard: contact {} ({}) matches {}: {}\n", event.contact_id,
               origin_name(event.origin), matches,
               event.suppressed
                   ? "put back on do-not-contact"
                   : "left contactable, its origin is not in [guard] origins; review it");
  }
  if (!quiet) {
    fmt::print("guard: {} new contact(s) checked, {} put back on do-not-contact, {} reported\n",
               report.checked, report.suppressed, report.reported);
  }
}

// A one-line progress bar, redrawn in place, only on a terminal.
class ProgressBar {
 public:
  explicit ProgressBar(bool enabled) : enabled_(enabled && ::isatty(STDERR_FILENO) != 0) {}
  ~ProgressBar() {
    if (drawn_) fmt::print(stderr, "\n");
  }
  void update(int64_t done, int64_t total) {
    if (!enabled_ || total == 0) return;
    constexpr int kWidth = 30;
    int filled = static_cast<int>(kWidth * done / total);
    fmt::print(stderr, "\r[{:#<{}}{:.<{}}] {}/{} contacts", "", filled, "", kWidth - filled, done,
               total);
    std::fflush(stderr);
    drawn_ = true;
  }

 private:
  bool enabled_;
  bool drawn_ = false;
};

}  // namespace

std::string exit_codes_help() {
  return "Exit codes:\n"
         "  0   success (lookup, guard --check-file: at least one match)\n"
         "  1   lookup, guard --check-file: nothing matched\n"
         "  2   configuration error: config file, key or password file, or the policy does not\n"
         "      fit the live database (nothing was changed)\n"
         "  3   database error: cannot connect, or a statement failed (the batch was rolled back)\n"
         "  4   the hash key is not the key this database was processed with\n"
         "  5   another sweep is running on this database\n"
         "  6   any other failure\n"
         "  64  wrong command-line arguments\n";
}

namespace {

int run_keygen(CommandContext& context) {
  const std::string& out_path = context.args.key_out;
  auto written = app::write_new_key(out_path);
  if (!written) return fail(written.error());
  fmt::print(
      "Wrote a new 256-bit key to {} (mode 0600).\n"
      "Back it up somewhere safe: without it, no hashed value can ever be looked up again.\n"
      "Name it in the config: [hashing] key_file = \"{}\"\n",
      out_path, out_path);
  return kExitOk;
}

int run_init_config(CommandContext&) {
  fmt::print("{}", example_config());
  return kExitOk;
}

int run_check(CommandContext& context) {
  const Config* config = context.config;
  std::vector<std::string> problems;
  auto key = app::load_hash_key(*config);
  if (!key) problems.push_back(key.error().message);

  auto connection = app::connect(*config);
  if (!connection) {
    for (const auto& problem : problems) fmt::print(stderr, "mautic-gdpr: error: {}\n", problem);
    return fail(connection.error());
  }
  auto schema = mautic::load_schema(**connection, config->database.table_prefix);
  if (!schema) return fail(schema.error());

  fmt::print("Database `{}` (MariaDB {}), table prefix \"{}\", Mautic {} schema.\n",
             schema->database(), (*connection)->server_version(), schema->prefix(),
             schema->mautic_generation());
  mautic::ContactPolicy policy = mautic::build_contact_policy(*config, *schema);
  fmt::print("\nContact fields and what a sweep does with them:\n");
  fmt::print("  {:<28} {:<12} {:<18} {:<7} {}\n", "column", "field type", "column type",
             "action", "because");
  for (const auto& plan : policy.columns) {
    fmt::print("  {:<28} {:<12} {:<18} {:<7} {}\n", plan.column,
               plan.field_type.empty() ? "-" : plan.field_type, plan.sql_type,
               action_name(plan.action), plan.origin);
  }
  for (const auto& field : schema->contact_fields()) {
    if (!field.column) {
      fmt::print("  {:<28} {:<12} {:<18} {:<7} {}\n", field.alias, field.type, "(no column)", "-",
                 "Mautic has not created the column");
    }
  }
  fmt::print("  {:<28} {:<12} {:<18} {:<7} {}\n", "lead_donotcontact.comments", "-", "longtext",
             "delete", "bounce text can quote the address; the DNC row itself stays");
  mautic::RelatedPlan related = mautic::build_related_plan(*config, *schema);
  fmt::print("\nOther places that hold a processed contact's data ([related] overrides):\n");
  print_locations(related);
  fmt::print("\nRe-import guard ([guard]): {}\n", mautic::describe_guard(*config, policy));
  problems.insert(problems.end(), policy.problems.begin(), policy.problems.end());
  problems.insert(problems.end(), related.problems.begin(), related.problems.end());
  for (auto& problem : mautic::guard_problems(*config, policy)) problems.push_back(problem);
  if (key) {
    auto verified = mautic::verify_key(**connection, *schema, *key, false);
    if (!verified) problems.push_back(verified.error().message);
  }
  for (const auto& warning : policy.warnings) fmt::print("\nwarning: {}\n", warning);
  if (!problems.empty()) {
    fmt::print(stderr, "\n");
    for (const auto& problem : problems) fmt::print(stderr, "mautic-gdpr: error: {}\n", problem);
    fmt::print(stderr, "\n{} problem(s); no sweep will run until they are fixed.\n",
               problems.size());
    return kExitConfig;
  }
  fmt::print("\nThe configuration is valid.\n");
  return kExitOk;
}

int run_plan(CommandContext& context) {
  auto plan = context.session->engine->plan();
  if (!plan) return fail(plan.error());
  if (context.args.json) {
    nlohmann::json out;
    out["pending_contacts"] = plan->pending;
    out["changes"] = nlohmann::json::array();
    out["locations"] = nlohmann::json::object();
    for (const auto& location : plan->related->locations) {
      out["locations"][std::string(location.location->name)] =
          mautic::row_action_name(location.action);
    }
    for (const auto& line : plan->lines) {
      out["changes"].push_back({{"table", line.table},
                                {"column", line.column},
                                {"action", action_name(line.action)},
                                {"values", line.values}});
    }
    fmt::print("{}\n", out.dump(2));
    return kExitOk;
  }
  fmt::print("A sweep would process {} contact(s) and change (nothing is written now):\n",
             plan->pending);
  fmt::print("  {:<40} {:<7} {:>10}\n", "table.column", "action", "values");
  for (const auto& line : plan->lines) {
    if (line.values == 0) continue;
    fmt::print("  {:<40} {:<7} {:>10}\n", line.table + "." + line.column,
               action_name(line.action), line.values);
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
    ProgressBar bar(!args.json && !args.quiet);
    report = context.session->engine->sweep(
        options, [&bar](int64_t done, int64_t total) { bar.update(done, total); });
  }
  if (!report) return fail(report.error());
  // Only tables where something changed.
  auto nonzero = [](const mautic::TableCounts& counts) {
    mautic::TableCounts changed;
    for (const auto& [table, rows] : counts) {
      if (rows > 0) changed[table] = rows;
    }
    return changed;
  };
  auto joined_counts = [](const mautic::TableCounts& counts) {
    std::string tables;
    for (const auto& [table, rows] : counts) {
      if (rows == 0) continue;
      tables += fmt::format("{}{} {}", tables.empty() ? "" : ", ", table, rows);
    }
    return tables;
  };
  if (args.json) {
    nlohmann::json out;
    out["contacts_processed"] = report->contacts_processed;
    out["pending_before"] = report->pending_before;
    out["rows_changed"] = nonzero(report->rows_changed);
    out["repaired"] = nonzero(report->repaired);
    out["returned"] = report->returned;
    out["retries"] = report->retries;
    out["seconds"] = report->seconds;
    out["guard"] = guard_json(report->guard);
    fmt::print("{}\n", out.dump(2));
  } else {
    const std::string changed = joined_counts(report->rows_changed);
    const std::string repaired = joined_counts(report->repaired);
    if (!args.quiet || report->contacts_processed > 0) {
      fmt::print("sweep: {} contact(s) processed of {} pending in {:.2f} s{}\n",
                 report->contacts_processed, report->pending_before, report->seconds,
                 changed.empty() ? "" : " (rows changed: " + changed + ")");
    }
    // Repairs are news even for cron: something wrote personal data about people who left.
    if (!repaired.empty()) {
      fmt::print("sweep: repaired rows of processed contacts that were not clean: {}\n", repaired);
    }
    if (report->returned > 0) {
      fmt::print("sweep: {} processed contact(s) came back (their do-not-contact entry was "
                 "removed in Mautic); recorded, and their new data is left alone\n",
                 report->returned);
    }
    if (report->retries > 0 && !args.quiet) {
      fmt::print("sweep: {} transaction(s) run again after a deadlock or lock wait timeout with "
                 "Mautic's own writes\n",
                 report->retries);
    }
  }
  if (!args.json) print_guard(report->guard, args.quiet);
  return kExitOk;
}

int run_verify(CommandContext& context) {
  auto verified = context.session->engine->verify();
  if (!verified) return fail(verified.error());
  const mautic::VerifyReport& report = *verified;
  if (context.args.json) {
    nlohmann::json out;
    out["clean"] = report.clean();
    out["contacts_checked"] = report.contacts_checked;
    out["returned"] = report.returned;
    out["tables_checked"] = report.tables_checked;
    out["violations"] = nlohmann::json::array();
    for (const auto& violation : report.violations) {
      nlohmann::json columns = nlohmann::json::object();
      for (const auto& [column, rows] : violation.columns) columns[column] = rows;
      out["violations"].push_back({{"location", violation.location},
                                   {"table", violation.table},
                                   {"rows", violation.rows},
                                   {"columns", columns}});
    }
    fmt::print("{}\n", out.dump(2));
  } else {
    fmt::print("verify: {} processed contact(s) still on do-not-contact, checked in {} table(s); "
               "{} came back by choice and are not checked\n",
               report.contacts_checked, report.tables_checked, report.returned);
    if (report.clean()) {
      fmt::print("verify: clean: no personal value of a processed contact is left\n");
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
  }
  return report.clean() ? kExitOk : kExitNoMatch;
}

// ALIAS=VALUE pairs (and --email) as criteria; nullopt when one is malformed.
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

std::optional<int> check_lookup_args(const CommandArgs& args) {
  auto criteria = lookup_criteria(args);
  if (!criteria) {
    fmt::print(stderr, "mautic-gdpr: error: --field takes ALIAS=VALUE, e.g. --field phone=+4930123\n");
    return kExitUsage;
  }
  if (criteria->empty()) {
    fmt::print(stderr, "mautic-gdpr: error: give --email ADDRESS or --field ALIAS=VALUE\n");
    return kExitUsage;
  }
  return std::nullopt;
}

int run_lookup(CommandContext& context) {
  const CommandArgs& args = context.args;
  auto criteria = *lookup_criteria(args);
  // `--email -` keeps the address out of shell history: it is read from stdin.
  if (args.email == "-") std::getline(std::cin, criteria.front().value);
  auto matches = context.session->engine->lookup(criteria);
  if (!matches) return fail(matches.error());
  if (args.json) {
    nlohmann::json out;
    out["matches"] = nlohmann::json::array();
    for (const auto& match : *matches) {
      nlohmann::json kept = nlohmann::json::object();
      for (const auto& [column, value] : match.kept) kept[column] = json_or_null(value);
      nlohmann::json exits = nlohmann::json::array();
      for (const auto& exit : match.earlier_exits) {
        exits.push_back({{"processed_at", exit.processed_at},
                         {"reason", exit.reason},
                         {"channel", exit.channel},
                         {"returned_at", exit.returned_at}});
      }
      out["matches"].push_back({{"contact_id", match.contact_id},
                                {"returned_at", json_or_null(match.returned_at)},
                                {"earlier_exits", exits},
                                {"processed_by", match.processed_by},
                                {"processed_at", json_or_null(match.processed_at)},
                                {"reason", match.reason},
                                {"channel", match.channel},
                                {"dnc_date", json_or_null(match.dnc_date)},
                                {"kept", kept}});
    }
    fmt::print("{}\n", out.dump(2));
  } else if (matches->empty()) {
    fmt::print("No processed contact matches.\n");
  } else {
    for (const auto& match : *matches) {
      fmt::print("contact {}\n", match.contact_id);
      fmt::print("  processed by     {}\n", match.processed_by);
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
        fmt::print("  {:<16} {}\n", column, or_dash(value));
      }
    }
  }
  return matches->empty() ? kExitNoMatch : kExitOk;
}

int run_locations(CommandContext& context) {
  if (context.args.markdown) {
    fmt::print("{}", mautic::locations_markdown());
    return kExitOk;
  }
  for (const auto& location : mautic::pii_locations()) {
    fmt::print("{:<32} {:<7} {}\n", location.name, mautic::row_action_name(location.default_action),
               location.why);
  }
  return kExitOk;
}

int run_status(CommandContext& context) {
  const bool json = context.args.json;
  auto status = context.session->engine->status();
  if (!status) return fail(status.error());
  int64_t total = 0;
  for (const auto& [reason, count] : status->processed_by_reason) total += count;
  if (json) {
    nlohmann::json out;
    out["processed"] = status->processed_by_reason;
    out["processed_total"] = total;
    out["returned"] = status->returned;
    out["pending"] = status->pending;
    out["last_sweep_at"] = json_or_null(status->last_sweep_at);
    out["locations_cleaned_at"] = nlohmann::json::object();
    for (const auto& location : status->locations) {
      out["locations_cleaned_at"][location.table] = json_or_null(location.cleaned_at);
    }
    fmt::print("{}\n", out.dump(2));
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
  fmt::print("pending (on do-not-contact, not yet processed): {}\n", status->pending);
  fmt::print("last sweep: {}\n",
             status->last_sweep_at ? *status->last_sweep_at + " UTC" : "never");
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
    fmt::print(stderr,
               "mautic-gdpr: error: --delimiter takes one character, e.g. --delimiter ';'\n");
    return kExitUsage;
  }
  // Checked before any work: the filtered file is never written over an existing one.
  if (args.out && ::access(args.out->c_str(), F_OK) == 0) {
    return fail(make_error("{} exists; mautic-gdpr never overwrites a file: remove it or choose "
                           "another --out",
                           *args.out));
  }
  return std::nullopt;
}

int run_guard(CommandContext& context) {
  const CommandArgs& args = context.args;
  std::ifstream in(args.check_file, std::ios::binary);
  if (!in) {
    return fail(make_error("cannot read {}: {}", args.check_file, std::strerror(errno)));
  }
  std::ostringstream content;
  content << in.rdbuf();
  const std::string text = content.str();

  app::Session& session = *context.session;
  mautic::Guard guard(*session.connection, session.config, session.schema, session.policy,
                      *session.key, app::cli_actor());
  auto check = guard.check_csv(text, args.delimiter[0]);
  if (!check) return fail(check.error());

  if (args.out) {
    // The rest of the file is still personal data: only the owner may read the copy.
    const int fd = ::open(args.out->c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) return fail(make_error("cannot create {}: {}", *args.out, std::strerror(errno)));
    size_t written = 0;
    while (written < check->filtered.size()) {
      const ssize_t n =
          ::write(fd, check->filtered.data() + written, check->filtered.size() - written);
      if (n < 0) {
        const int error = errno;
        ::close(fd);
        return fail(make_error("cannot write {}: {}", *args.out, std::strerror(error)));
      }
      written += size_t(n);
    }
    if (::close(fd) != 0) {
      return fail(make_error("cannot write {}: {}", *args.out, std::strerror(errno)));
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
    fmt::print("{}\n", out.dump(2));
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
  if (!served) return fail(served.error());
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

int run_passwd(CommandContext& context) {
  const std::optional<std::string>& user = context.args.user;
  const auto name_char = [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '_' || c == '.' || c == '-';
  };
  if (user && (user->empty() || user->size() > 64 ||
               !std::all_of(user->begin(), user->end(), name_char))) {
    fmt::print(stderr, "mautic-gdpr: error: --user takes a name of letters, digits, _ . - (at "
                       "most 64), e.g. --user alice\n");
    return kExitUsage;
  }
  std::string password;
  if (::isatty(STDIN_FILENO) != 0) {
    auto first = read_hidden_line("Password: ");
    auto again = first ? read_hidden_line("Again: ") : std::nullopt;
    if (!first || !again) return fail(make_error("no password was entered"));
    if (*first != *again) return fail(make_error("the two passwords differ; nothing was printed"));
    password = std::move(*first);
  } else if (!std::getline(std::cin, password)) {
    return fail(make_error("no password on stdin; pipe one line, e.g. from a password manager"));
  }
  if (!password.empty() && password.back() == '\r') password.pop_back();
  if (password.size() < 8) {
    return fail(make_error("the password is shorter than 8 characters; choose a longer one"));
  }
  auto hash = server::hash_password(password);
  std::fill(password.begin(), password.end(), '\0');
  if (!hash) return fail(hash.error());
  if (user) {
    // A dot would make a dotted TOML key: such names are quoted.
    const bool bare = user->find('.') == std::string::npos;
    fmt::print("{}{}{} = \"{}\"\n", bare ? "" : "\"", *user, bare ? "" : "\"", *hash);
    if (::isatty(STDOUT_FILENO) != 0) {
      fmt::print(stderr, "Paste this line below [server.users] in the config and restart serve.\n");
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
  command.footer(
      "Keep a backup of the key: without it no hashed value can be looked up again, and a\n"
      "different key is refused by a database that was processed with this one.");
}

void no_options(CLI::App&, CommandArgs&) {}

void json_option(CLI::App& command, CommandArgs& args) {
  command.add_flag("--json", args.json, "Machine-readable output");
}

void verify_options(CLI::App& command, CommandArgs& args) {
  command.add_flag("--json", args.json,
                   "Print {\"clean\":..,\"contacts_checked\":..,\"violations\":[{\"location\":..,"
                   "\"table\":..,\"rows\":..,\"columns\":{..}}]}");
  command.footer(
      "Exit code 0 when clean, 1 when some row still holds personal data (the sweep repairs\n"
      "it). A contact whose do-not-contact entry was removed in Mautic came back by choice:\n"
      "its new data is its own and is not checked.");
}

void sweep_options(CLI::App& command, CommandArgs& args) {
  command.add_option("--limit", args.limit, "Process at most N contacts")
      ->check(CLI::PositiveNumber);
  command.add_flag("--full-pass", args.full_pass,
                   "Also look where no watermark narrows the work: tables without an integer\n"
                   "key, rows below the watermarks, profiles Mautic changed after processing,\n"
                   "and every do-not-contact row. Done automatically at most once an hour;\n"
                   "use it after changing the policy or restoring a backup");
  command.add_option("--batch-size", args.batch_size,
                     "Contacts per transaction (default: [sweep] batch_size, 500)")
      ->check(CLI::Range(1, 10000));
  command.add_flag("--json", args.json,
                   "Print a JSON summary (contacts processed, rows changed per table, seconds)");
  command.add_flag("-q,--quiet", args.quiet,
                   "No progress bar, and no summary when nothing was processed (for cron)");
}

void lookup_options(CLI::App& command, CommandArgs& args) {
  command.add_option("--email", args.email,
                     "The email address; `-` reads it from stdin (keeps it out of shell history)");
  command.add_option("--field", args.fields,
                     "ALIAS=VALUE for any hashed field; repeat it: all must match");
  command.add_flag("--json", args.json,
                   "Print {\"matches\":[{\"contact_id\":..,\"processed_at\":..,\"reason\":..,"
                   "\"channel\":..,\"kept\":{..}}]}");
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
  command.add_flag("--json", args.json,
                   "Print {\"rows\":..,\"matches\":[{\"line\":..,\"processed_on\":..,"
                   "\"reason\":..,\"channel\":..,\"field\":..}]}");
  command.footer("Exit code 0 when some row matched, 1 when none did.");
}

void locations_options(CLI::App& command, CommandArgs& args) {
  command.add_flag("--markdown", args.markdown,
                   "Print the table as Markdown (for ARCHITECTURE.md)");
}

void serve_options(CLI::App& command, CommandArgs&) {
  command.footer(
      "Listens on [server] listen (default 127.0.0.1:8470); put nginx with HTTPS in front, or\n"
      "set tls_cert_file and tls_key_file. The webhook secret comes from secret_file or\n"
      "secret_env, never the command line. In Mautic: Settings > Webhooks > New, URL\n"
      "https://<this host>/mautic/webhook, event \"Contact Channel Subscription Change Event\",\n"
      "and the secret Mautic shows goes into the secret file. SIGTERM stops it gracefully:\n"
      "requests in flight finish. packaging/mautic-gdpr.service is a systemd unit for it.");
}

void passwd_options(CLI::App& command, CommandArgs& args) {
  command.add_option("--user", args.user,
                     "Print the whole config line, e.g. alice = \"$argon2id$...\"");
  command.footer(
      "Example:  mautic-gdpr passwd --user alice\n"
      "then paste the printed line below [server.users] and restart `mautic-gdpr serve`.");
}

// ---------------------------------------------------------------------------------------------
// The table.

using enum Needs;

const Command kCommands[] = {
    {.name = "keygen",
     .summary = "Create a new random hash key (32 bytes, hex, mode 0600). Never overwrites.",
     .needs = kNothing,
     .add_options = keygen_options,
     .run = run_keygen},
    {.name = "init-config",
     .summary = "Print a commented example config to stdout (redirect it into a file).",
     .needs = kNothing,
     .add_options = no_options,
     .run = run_init_config},
    {.name = "check",
     .summary = "Validate the config against the live database: prints every contact field with its\n"
                "type, column and action, and every problem as file:line: problem; fix.",
     .needs = kConfig,
     .add_options = no_options,
     .run = run_check},
    {.name = "plan",
     .summary =
         "Dry run: how many contacts a sweep would process and which values it would change.",
     .needs = kReadSession,
     .add_options = json_option,
     .run = run_plan},
    {.name = "sweep",
     .summary =
         "Pseudonymize every contact on do-not-contact for a configured reason and channel that\n"
         "is not processed yet. One transaction per batch: a contact is fully processed or\n"
         "untouched, and a killed sweep is completed by the next one. Safe to run from cron.",
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
    {.name = "lookup",
     .summary =
         "Find processed contacts by an exact value of a hashed field, e.g. on an official\n"
         "request that names a person. Every lookup is written to the audit table (fields asked\n"
         "and number of matches, never the value).",
     .needs = kReadSession,
     .add_options = lookup_options,
     .run = run_lookup,
     .check_args = check_lookup_args},
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
     .summary = "Counts: processed contacts by reason, pending contacts, the last sweep.",
     .needs = kReadSession,
     .add_options = json_option,
     .run = run_status},
    {.name = "locations",
     .summary =
         "List every place outside the profile where Mautic keeps a contact's data, with how a\n"
         "row is tied to the contact and the default action (override under [related]).",
     .needs = kNothing,
     .add_options = locations_options,
     .run = run_locations},
    {.name = "serve",
     .summary =
         "Run the service ([server] in the config): Mautic's webhook at POST /mautic/webhook\n"
         "processes a contact the moment it unsubscribes or bounces (same engine as sweep; keep\n"
         "the cron sweep as the safety net), and support staff log in to /lookup and /status.\n"
         "Also /metrics (Prometheus) and /healthz. Logs go to stderr as key=value lines.",
     .needs = kConfig,
     .add_options = serve_options,
     .run = run_serve},
    {.name = "passwd",
     .summary =
         "Hash a password for a [server.users] entry (Argon2id). Asks twice on a terminal\n"
         "without echo, or reads one line from stdin; the password is never an argument.",
     .needs = kNothing,
     .add_options = passwd_options,
     .run = run_passwd},
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
      if (!loaded) return fail(loaded.error());
      config = std::move(*loaded);
      context.config = &*config;
      break;
    }
    case Needs::kReadSession:
    case Needs::kWriteSession: {
      auto opened = app::open_session(
          args.config_path,
          command.needs == Needs::kWriteSession ? app::Access::kWrite : app::Access::kReadOnly,
          app::cli_actor());
      if (!opened) return fail(opened.error());
      session = std::move(*opened);
      context.config = &session->config;
      context.session = session.get();
      break;
    }
  }
  return command.run(context);
}

}  // namespace mgdpr::cli
