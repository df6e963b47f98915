// SPDX-License-Identifier: GPL-3.0-or-later
// Parses the command line and calls into the library; nothing else happens here. The commands,
// their options and what each needs opened are one table in src/cli/commands.cpp.
#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <string_view>
#include <utility>
#include <vector>

#include "cli/commands.h"

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

  // A mistyped command gets a suggestion (the word itself is not echoed: it may be anything).
  if (argc > 1 && argv[1][0] != '-' && find_command(argv[1]) == nullptr) {
    auto suggestion = suggest_command(argv[1]);
    fmt::print(stderr,
               "mautic-gdpr: error: unknown command{}; `mautic-gdpr --help` lists the commands\n",
               suggestion ? fmt::format(" (did you mean `{}`?)", *suggestion) : "");
    return kExitUsage;
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
    int code = app.exit(error);
    return code == 0 ? kExitOk : kExitUsage;
  }
  for (auto [sub, command] : chosen) {
    if (*sub) return run_command(*command, args);
  }
  return kExitUsage;
}
