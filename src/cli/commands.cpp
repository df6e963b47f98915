// SPDX-License-Identifier: GPL-3.0-or-later
#include "cli/commands.h"

#include <unistd.h>

#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>

#include "app/secrets.h"
#include "app/session.h"
#include "mautic/own_tables.h"

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
    if (plan.location->name == mautic::kFormResultsLocation) {
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
         "  0   success (lookup: at least one match)\n"
         "  1   lookup: nothing matched\n"
         "  2   configuration error: config file, key or password file, or the policy does not\n"
         "      fit the live database (nothing was changed)\n"
         "  3   database error: cannot connect, or a statement failed (the batch was rolled back)\n"
         "  4   the hash key is not the key this database was processed with\n"
         "  5   another sweep is running on this database\n"
         "  6   any other failure\n"
         "  64  wrong command-line arguments\n";
}

int run_keygen(const std::string& out_path) {
  auto written = app::write_new_key(out_path);
  if (!written) return fail(written.error());
  fmt::print(
      "Wrote a new 256-bit key to {} (mode 0600).\n"
      "Back it up somewhere safe: without it, no hashed value can ever be looked up again.\n"
      "Name it in the config: [hashing] key_file = \"{}\"\n",
      out_path, out_path);
  return kExitOk;
}

int run_init_config() {
  fmt::print("{}", example_config());
  return kExitOk;
}

int run_check(const std::string& config_path) {
  auto config = app::load_config_file(config_path);
  if (!config) return fail(config.error());
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
  problems.insert(problems.end(), policy.problems.begin(), policy.problems.end());
  problems.insert(problems.end(), related.problems.begin(), related.problems.end());
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

int run_plan(const std::string& config_path, bool json) {
  auto session = app::open_session(config_path, app::Access::kReadOnly, app::cli_actor());
  if (!session) return fail(session.error());
  auto plan = (*session)->engine->plan();
  if (!plan) return fail(plan.error());
  if (json) {
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

int run_sweep(const SweepArgs& args) {
  auto session = app::open_session(args.config_path, app::Access::kWrite, app::cli_actor());
  if (!session) return fail(session.error());
  mautic::SweepOptions options;
  options.limit = args.limit;
  options.batch_size = args.batch_size.value_or((*session)->config.sweep.batch_size);
  Result<mautic::SweepReport> report = Error{};
  {
    ProgressBar bar(!args.json && !args.quiet);
    report = (*session)->engine->sweep(
        options, [&bar](int64_t done, int64_t total) { bar.update(done, total); });
  }
  if (!report) return fail(report.error());
  if (args.json) {
    nlohmann::json out;
    out["contacts_processed"] = report->contacts_processed;
    out["pending_before"] = report->pending_before;
    out["rows_changed"] = report->rows_changed;
    out["seconds"] = report->seconds;
    fmt::print("{}\n", out.dump(2));
  } else if (!args.quiet || report->contacts_processed > 0) {
    std::string tables;
    for (const auto& [table, rows] : report->rows_changed) {
      if (rows == 0) continue;
      tables += fmt::format("{}{} {}", tables.empty() ? "" : ", ", table, rows);
    }
    fmt::print("sweep: {} contact(s) processed of {} pending in {:.2f} s{}\n",
               report->contacts_processed, report->pending_before, report->seconds,
               tables.empty() ? "" : " (rows changed: " + tables + ")");
  }
  return kExitOk;
}

int run_lookup(const LookupArgs& args) {
  std::vector<mautic::LookupCriterion> criteria;
  if (args.email) {
    std::string value = *args.email;
    if (value == "-") std::getline(std::cin, value);  // keeps the address out of shell history
    criteria.push_back({"email", value});
  }
  for (const auto& field : args.fields) {
    auto equals = field.find('=');
    if (equals == std::string::npos || equals == 0) {
      fmt::print(stderr, "mautic-gdpr: error: --field takes ALIAS=VALUE, e.g. --field phone=+4930123\n");
      return kExitUsage;
    }
    criteria.push_back({field.substr(0, equals), field.substr(equals + 1)});
  }
  if (criteria.empty()) {
    fmt::print(stderr, "mautic-gdpr: error: give --email ADDRESS or --field ALIAS=VALUE\n");
    return kExitUsage;
  }
  auto session = app::open_session(args.config_path, app::Access::kReadOnly, app::cli_actor());
  if (!session) return fail(session.error());
  auto matches = (*session)->engine->lookup(criteria);
  if (!matches) return fail(matches.error());
  if (args.json) {
    nlohmann::json out;
    out["matches"] = nlohmann::json::array();
    for (const auto& match : *matches) {
      nlohmann::json kept = nlohmann::json::object();
      for (const auto& [column, value] : match.kept) kept[column] = json_or_null(value);
      out["matches"].push_back({{"contact_id", match.contact_id},
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
      for (const auto& [column, value] : match.kept) {
        fmt::print("  {:<16} {}\n", column, or_dash(value));
      }
    }
  }
  return matches->empty() ? kExitNoMatch : kExitOk;
}

int run_locations(bool markdown) {
  if (markdown) {
    fmt::print("{}", mautic::locations_markdown());
    return kExitOk;
  }
  for (const auto& location : mautic::pii_locations()) {
    fmt::print("{:<32} {:<7} {}\n", location.name, mautic::row_action_name(location.default_action),
               location.why);
  }
  return kExitOk;
}

int run_status(const std::string& config_path, bool json) {
  auto session = app::open_session(config_path, app::Access::kReadOnly, app::cli_actor());
  if (!session) return fail(session.error());
  auto status = (*session)->engine->status();
  if (!status) return fail(status.error());
  int64_t total = 0;
  for (const auto& [reason, count] : status->processed_by_reason) total += count;
  if (json) {
    nlohmann::json out;
    out["processed"] = status->processed_by_reason;
    out["processed_total"] = total;
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
  fmt::print("pending (on do-not-contact, not yet processed): {}\n", status->pending);
  fmt::print("last sweep: {}\n",
             status->last_sweep_at ? *status->last_sweep_at + " UTC" : "never");
  if (!status->locations.empty()) {
    fmt::print("late rows about processed contacts, last cleaned (UTC):\n");
    for (const auto& location : status->locations) {
      fmt::print("  {:<36} {}\n", location.table, location.cleaned_at.value_or("never"));
    }
  }
  return kExitOk;
}

}  // namespace mgdpr::cli
