// SPDX-License-Identifier: GPL-3.0-or-later
// Parses the command line and calls into the library; nothing else happens here.
#include <CLI/CLI.hpp>

#include "cli/commands.h"
#include "core/config.h"

namespace {

constexpr const char* kDescription =
    "mautic-gdpr: GDPR-grade handling of Mautic contacts who leave.\n\n"
    "When a contact is on Mautic's do-not-contact list (unsubscribed, bounced, or the reasons\n"
    "you configure), every personal value is deleted, replaced by a keyed one-way hash, or kept\n"
    "as non-personal statistics, as the policy in the config file says. Anyone who knows an\n"
    "exact value (typically the email address) can still find the record with `lookup`.\n\n"
    "Typical set-up:\n"
    "  mautic-gdpr keygen --out /etc/mautic-gdpr/hmac.key\n"
    "  mautic-gdpr init-config > /etc/mautic-gdpr/config.toml   # then edit it\n"
    "  mautic-gdpr check                                        # validate against the database\n"
    "  mautic-gdpr plan                                         # what a sweep would change\n"
    "  mautic-gdpr sweep                                        # do it (from cron)\n"
    "  mautic-gdpr lookup --email someone@example.org\n\n"
    "Secrets (database password, hash key) are never given on the command line: the config\n"
    "names a file or an environment variable.";

}  // namespace

int main(int argc, char** argv) {
  using namespace mgdpr::cli;
  CLI::App app{kDescription, "mautic-gdpr"};
  app.require_subcommand(1);
  app.footer(exit_codes_help());
  app.set_version_flag("--version", "mautic-gdpr 0.1.0");

  std::string config_path(mgdpr::kDefaultConfigPath);
  auto add_config = [&config_path](CLI::App* command) {
    command->add_option("-c,--config", config_path, "The TOML config file")
        ->capture_default_str();
  };

  std::string key_out;
  auto* keygen = app.add_subcommand(
      "keygen", "Create a new random hash key (32 bytes, hex, mode 0600). Never overwrites.");
  keygen->add_option("--out", key_out, "Where to write the key, e.g. /etc/mautic-gdpr/hmac.key")
      ->required();
  keygen->footer(
      "Keep a backup of the key: without it no hashed value can be looked up again, and a\n"
      "different key is refused by a database that was processed with this one.");

  auto* init_config = app.add_subcommand(
      "init-config", "Print a commented example config to stdout (redirect it into a file).");

  auto* check = app.add_subcommand(
      "check",
      "Validate the config against the live database: prints every contact field with its\n"
      "type, column and action, and every problem as file:line: problem; fix.");
  add_config(check);

  bool json = false;
  auto* plan = app.add_subcommand(
      "plan", "Dry run: how many contacts a sweep would process and which values it would change.");
  add_config(plan);
  plan->add_flag("--json", json, "Machine-readable output");

  SweepArgs sweep_args;
  auto* sweep = app.add_subcommand(
      "sweep",
      "Pseudonymize every contact on do-not-contact for a configured reason and channel that\n"
      "is not processed yet. One transaction per batch: a contact is fully processed or\n"
      "untouched, and a killed sweep is completed by the next one. Safe to run from cron.");
  add_config(sweep);
  sweep->add_option("--limit", sweep_args.limit, "Process at most N contacts")
      ->check(CLI::PositiveNumber);
  sweep->add_option("--batch-size", sweep_args.batch_size,
                    "Contacts per transaction (default: [sweep] batch_size, 500)")
      ->check(CLI::Range(1, 10000));
  sweep->add_flag("--json", sweep_args.json,
                  "Print a JSON summary (contacts processed, rows changed per table, seconds)");
  sweep->add_flag("-q,--quiet", sweep_args.quiet,
                  "No progress bar, and no summary when nothing was processed (for cron)");

  LookupArgs lookup_args;
  auto* lookup = app.add_subcommand(
      "lookup",
      "Find processed contacts by an exact value of a hashed field, e.g. on an official\n"
      "request that names a person. Every lookup is written to the audit table (fields asked\n"
      "and number of matches, never the value).");
  add_config(lookup);
  lookup->add_option("--email", lookup_args.email,
                     "The email address; `-` reads it from stdin (keeps it out of shell history)");
  lookup->add_option("--field", lookup_args.fields,
                     "ALIAS=VALUE for any hashed field; repeat it: all must match");
  lookup->add_flag("--json", lookup_args.json,
                   "Print {\"matches\":[{\"contact_id\":..,\"processed_at\":..,\"reason\":..,"
                   "\"channel\":..,\"kept\":{..}}]}");
  lookup->footer("Exit code 0 when something matched, 1 when nothing did.");

  auto* status = app.add_subcommand(
      "status", "Counts: processed contacts by reason, pending contacts, the last sweep.");
  add_config(status);
  status->add_flag("--json", json, "Machine-readable output");

  bool markdown = false;
  auto* locations = app.add_subcommand(
      "locations",
      "List every place outside the profile where Mautic keeps a contact's data, with how a\n"
      "row is tied to the contact and the default action (override under [related]).");
  locations->add_flag("--markdown", markdown, "Print the table as Markdown (for ARCHITECTURE.md)");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& error) {
    int code = app.exit(error);
    return code == 0 ? kExitOk : kExitUsage;
  }
  sweep_args.config_path = config_path;
  lookup_args.config_path = config_path;

  if (*keygen) return run_keygen(key_out);
  if (*init_config) return run_init_config();
  if (*check) return run_check(config_path);
  if (*plan) return run_plan(config_path, json);
  if (*sweep) return run_sweep(sweep_args);
  if (*lookup) return run_lookup(lookup_args);
  if (*status) return run_status(config_path, json);
  if (*locations) return run_locations(markdown);
  return kExitUsage;
}
