// SPDX-License-Identifier: GPL-3.0-or-later
// The subcommands as one table (ninja's `kTools`): each row names the command, what it needs
// opened before it runs, its options and its function. run_command() opens exactly that much,
// in one place, so a session's errors become exit codes the same way for every command and a
// read-only command can never create mautic-gdpr's tables. This is the edge: library Results
// become exit codes and messages here.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/config.h"

namespace CLI {
class App;
}

namespace mgdpr::app {
struct Session;
}

namespace mgdpr::cli {

// Exit codes, documented in `mautic-gdpr --help`.
enum ExitCode : int {
  kExitOk = 0,
  kExitNoMatch = 1,      // lookup: nothing matched
  kExitConfig = 2,       // the config, a secret file, or the policy against the live schema
  kExitDatabase = 3,     // the database could not be reached or failed
  kExitKeyMismatch = 4,  // the key is not the one this database was processed with
  kExitBusy = 5,         // another sweep is running
  kExitFailure = 6,      // anything else
  kExitUsage = 64,       // wrong command-line arguments
};

std::string exit_codes_help();

// What a command needs before it runs (ninja's Tool::when).
enum class Needs {
  kNothing,       // no config: keygen, init-config, locations, passwd
  kConfig,        // the config file only; the command connects itself (check, serve)
  kReadSession,   // config, key, database, schema, policy; creates nothing in the database
  kWriteSession,  // the same, and creates or upgrades the gdpr tables and records the key
};

// Every option of every command, filled by CLI11.
struct CommandArgs {
  std::string config_path{kDefaultConfigPath};
  bool json = false;
  bool quiet = false;
  // sweep
  std::optional<int64_t> limit;
  std::optional<int> batch_size;
  bool full_pass = false;
  // lookup
  std::optional<std::string> email;
  std::vector<std::string> fields;  // ALIAS=VALUE
  // guard
  std::string check_file;          // the CSV an admin is about to import
  std::optional<std::string> out;  // where to write it without the matching rows
  std::string delimiter = ",";
  // keygen
  std::string key_out;
  // locations
  bool markdown = false;
  // passwd
  std::optional<std::string> user;
};

// What run_command() opened for a command, as its row's `needs` says.
struct CommandContext {
  CommandArgs& args;
  const Config* config = nullptr;   // kConfig and both sessions
  app::Session* session = nullptr;  // kReadSession, kWriteSession
};

struct Command {
  std::string_view name;
  std::string_view summary;  // the --help text
  Needs needs;
  void (*add_options)(CLI::App& command, CommandArgs& args);
  int (*run)(CommandContext& context);
  // Checks the arguments alone, before anything is opened; an exit code stops the command.
  std::optional<int> (*check_args)(const CommandArgs& args) = nullptr;
};

std::span<const Command> commands();
const Command* find_command(std::string_view name);

// The closest command name to a mistyped word, for "did you mean".
std::optional<std::string> suggest_command(std::string_view word);

// Adds the command's options (and -c/--config where it reads the config) to its CLI11 app.
void add_command_options(const Command& command, CLI::App& app, CommandArgs& args);

// Opens what the command needs (errors become exit codes here), then runs it.
int run_command(const Command& command, CommandArgs& args);

}  // namespace mgdpr::cli
