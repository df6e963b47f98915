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
    "  mautic-gdpr lookup --email someone@example.org\n"
    "  mautic-gdpr serve                                        # webhook + lookup page\n\n"
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
  sweep->add_flag("--full-pass", sweep_args.full_pass,
                  "Also look where no watermark narrows the work: tables without an integer\n"
                  "key, rows below the watermarks, profiles Mautic changed after processing,\n"
                  "and every do-not-contact row. Done automatically at most once an hour;\n"
                  "use it after changing the policy or restoring a backup");
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

  GuardArgs guard_args;
  auto* guard = app.add_subcommand(
      "guard",
      "Test a CSV before importing it into Mautic: which rows (by line number, never the\n"
      "address) match people who left, and why. Every sweep also runs the re-import guard on\n"
      "the contacts created since the last one ([guard] in the config).");
  add_config(guard);
  guard->add_option("--check-file", guard_args.check_file,
                    "The CSV file; its email column is the one whose header is `email`")
      ->required();
  guard->add_option("--out", guard_args.out,
                    "Also write the file without the matching rows here (mode 0600, never "
                    "overwrites)");
  guard->add_option("--delimiter", guard_args.delimiter, "The field delimiter")
      ->capture_default_str();
  guard->add_flag("--json", guard_args.json,
                  "Print {\"rows\":..,\"matches\":[{\"line\":..,\"processed_on\":..,"
                  "\"reason\":..,\"channel\":..,\"field\":..}]}");
  guard->footer("Exit code 0 when some row matched, 1 when none did.");

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

  auto* serve = app.add_subcommand(
      "serve",
      "Run the service ([server] in the config): Mautic's webhook at POST /mautic/webhook\n"
      "processes a contact the moment it unsubscribes or bounces (same engine as sweep; keep\n"
      "the cron sweep as the safety net), and support staff log in to /lookup and /status.\n"
      "Also /metrics (Prometheus) and /healthz. Logs go to stderr as key=value lines.");
  add_config(serve);
  serve->footer(
      "Listens on [server] listen (default 127.0.0.1:8470); put nginx with HTTPS in front, or\n"
      "set tls_cert_file and tls_key_file. The webhook secret comes from secret_file or\n"
      "secret_env, never the command line. In Mautic: Settings > Webhooks > New, URL\n"
      "https://<this host>/mautic/webhook, event \"Contact Channel Subscription Change Event\",\n"
      "and the secret Mautic shows goes into the secret file. SIGTERM stops it gracefully:\n"
      "requests in flight finish. packaging/mautic-gdpr.service is a systemd unit for it.");

  std::optional<std::string> passwd_user;
  auto* passwd = app.add_subcommand(
      "passwd",
      "Hash a password for a [server.users] entry (Argon2id). Asks twice on a terminal\n"
      "without echo, or reads one line from stdin; the password is never an argument.");
  passwd->add_option("--user", passwd_user,
                     "Print the whole config line, e.g. alice = \"$argon2id$...\"");
  passwd->footer(
      "Example:  mautic-gdpr passwd --user alice\n"
      "then paste the printed line below [server.users] and restart `mautic-gdpr serve`.");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& error) {
    int code = app.exit(error);
    return code == 0 ? kExitOk : kExitUsage;
  }
  sweep_args.config_path = config_path;
  lookup_args.config_path = config_path;
  guard_args.config_path = config_path;

  if (*keygen) return run_keygen(key_out);
  if (*init_config) return run_init_config();
  if (*check) return run_check(config_path);
  if (*plan) return run_plan(config_path, json);
  if (*sweep) return run_sweep(sweep_args);
  if (*lookup) return run_lookup(lookup_args);
  if (*guard) return run_guard(guard_args);
  if (*status) return run_status(config_path, json);
  if (*locations) return run_locations(markdown);
  if (*serve) return run_serve(config_path);
  if (*passwd) return run_passwd(passwd_user);
  return kExitUsage;
}
