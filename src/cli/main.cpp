// SPDX-License-Identifier: GPL-3.0-or-later
// Parses the command line and calls into the library; nothing else happens here. The commands,
// their options and what each needs opened are one table in src/cli/commands.cpp.
#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <string_view>
#include <utility>
#include <vector>

#include "cli/commands.h"
#include "core/version.h"

namespace {

constexpr const char* kDescription =
    "mautic-gdpr: GDPR-grade handling of Mautic contacts who leave.\n\n"
    "When a contact is on Mautic's do-not-contact list (unsubscribed, bounced, or the reasons\n"
    "you configure), every personal value is deleted, replaced by a keyed one-way hash, kept\n"
    "as non-personal statistics, or kept in a coarser form (a birth year, a zip code's first\n"
    "digits, an email's domain), as the policy in the config file says; optionally after a\n"
    "grace period, and until a retention period ends. Anyone who knows an exact value\n"
    "(typically the email address) can still find the record with `lookup`.\n\n"
    "Typical set-up:\n"
    "  mautic-gdpr keygen --out /etc/mautic-gdpr/hmac.key\n"
    "  mautic-gdpr init-config --from-mautic /var/www/mautic --out /etc/mautic-gdpr/config.toml\n"
    "  mautic-gdpr check                        # config, privileges, [server], against the database\n"
    "  mautic-gdpr plan                         # what a sweep would change\n"
    "  systemctl enable --now mautic-gdpr-sweep.timer   # a sweep every 10 minutes\n"
    "  mautic-gdpr lookup --email someone@example.org\n"
    "  mautic-gdpr export --email someone@example.org --html someone.html   # access request\n"
    "  mautic-gdpr erase --email someone@example.org   # erasure request\n"
    "  systemctl enable --now mautic-gdpr       # serve: webhook + lookup and status pages\n\n"
    "Secrets (database password, hash key) are never given on the command line: the config\n"
    "names a file or an environment variable. Every command takes --json (docs/json.md).";

// --json anywhere on the command line: errors before a command runs are JSON too.
bool wants_json(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    if (std::string_view(argv[i]) == "--json") return true;
  }
  return false;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace mgdpr::cli;
  CLI::App app{kDescription, "mautic-gdpr"};
  app.require_subcommand(1);
  app.footer(exit_codes_help());
  app.set_version_flag("--version", fmt::format("mautic-gdpr {}", mgdpr::kVersion));

  // A mistyped command gets a suggestion (the word itself is not echoed: it may be anything).
  if (argc > 1 && argv[1][0] != '-' && find_command(argv[1]) == nullptr) {
    auto suggestion = suggest_command(argv[1]);
    return usage_error(
        fmt::format("unknown command{}; `mautic-gdpr --help` lists the commands",
                    suggestion ? fmt::format(" (did you mean `{}`?)", *suggestion) : ""),
        wants_json(argc, argv));
  }

  CommandArgs args;
  std::vector<std::pair<CLI::App*, const Command*>> chosen;
  for (const Command& command : commands()) {
    CLI::App* sub = app.add_subcommand(std::string(command.name), std::string(command.summary));
    add_command_options(command, *sub, args);
    chosen.emplace_back(sub, &command);
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& error) {
    if (error.get_exit_code() == 0) return app.exit(error);  // --help, --version
    if (wants_json(argc, argv)) return usage_error(error.what(), true);
    app.exit(error);
    return kExitUsage;
  }
  for (auto [sub, command] : chosen) {
    if (*sub) return run_command(*command, args);
  }
  return kExitUsage;
}
