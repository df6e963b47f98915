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
#include "core/result.h"

namespace CLI {
class App;
}

namespace mgdpr::app {
struct Session;
}

namespace mgdpr::cli {

// Exit codes: one table (kExitCodes in commands.cpp) for every command, printed by --help and
// in README.md; library errors reach them through their ErrorKind.
enum ExitCode : int {
  kExitOk = 0,
  kExitNoMatch = 1,      // lookup, guard --check-file: nothing matched
  kExitConfig = 2,       // the config, a secret file, the policy against the live schema, a grant
  kExitDatabase = 3,     // the database could not be reached or failed
  kExitKeyMismatch = 4,  // the key is not the one this database was processed with
  kExitBusy = 5,         // another sweep is running
  kExitFailure = 6,      // anything else
  kExitUsage = 64,       // wrong command-line arguments or unusable input
};

struct ExitCodeRow {
  int code;
  std::string_view meaning;
  std::optional<ErrorKind> kind;  // the library errors that end with this code
};
std::span<const ExitCodeRow> exit_codes();
int exit_code_for(ErrorKind kind);
std::string exit_codes_help();      // for --help
std::string exit_codes_markdown();  // README.md's table (a test compares them)

// A wrong command line, reported like every other error: on stderr, or as {"error": ...} on
// stdout with --json. Returns kExitUsage.
int usage_error(std::string_view message, bool json);

// What a command needs before it runs (ninja's Tool::when).
enum class Needs {
  kNothing,         // no config: keygen, init-config, locations, passwd
  kConfig,          // the config file only; the command connects itself (check, serve)
  kMonitorSession,  // config, database, schema; no hash key (status: a monitoring user)
  kReadSession,     // config, key, database, schema, policy; creates nothing in the database
  kWriteSession,    // the same, and creates or upgrades the gdpr tables and records the key
};

// Every option of every command, filled by CLI11.
struct CommandArgs {
  std::string config_path{kDefaultConfigPath};
  bool json = false;   // every command: machine-readable output and errors (docs/json.md)
  bool quiet = false;
  // sweep
  std::optional<int64_t> limit;
  std::optional<int> batch_size;
  bool full_pass = false;
  // lookup, export, erase
  std::optional<std::string> email;
  std::vector<std::string> fields;  // ALIAS=VALUE
  // export, erase
  std::optional<int64_t> contact_id;
  std::optional<std::string> html;  // export: the page for the person
  bool dry_run = false;             // erase
  bool yes = false;                 // erase: no question asked
  // guard
  std::string check_file;          // the CSV an admin is about to import
  std::optional<std::string> out;  // guard: without the matching rows; export: the export
  std::string delimiter = ",";
  // keygen
  std::string key_out;
  bool rotate = false;  // --rotate: the new key becomes the active one (config rewritten)
  // init-config
  std::optional<std::string> from_mautic;  // the Mautic directory (or its local.php)
  std::optional<std::string> config_out;   // write the config here instead of stdout
  std::string password_file = "/etc/mautic-gdpr/db-password";
  // locations
  bool markdown = false;
  // passwd
  std::optional<std::string> user;
  // queue
  std::string queue_action = "status";  // install, remove, status
};

// What run_command() opened for a command, as its row's `needs` says.
struct CommandContext {
  CommandArgs& args;
  const Config* config = nullptr;   // kConfig and every session
  app::Session* session = nullptr;  // kMonitorSession (no key, no engine), kReadSession,
                                    // kWriteSession
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

// Adds the command's options (-c/--config where it reads the config, and --json) to its CLI11
// app.
void add_command_options(const Command& command, CLI::App& app, CommandArgs& args);

// Opens what the command needs (errors become exit codes here), then runs it.
int run_command(const Command& command, CommandArgs& args);

}  // namespace mgdpr::cli
