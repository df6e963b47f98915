// SPDX-License-Identifier: GPL-3.0-or-later
// The subcommands, as functions that take parsed arguments, print, and return an exit code.
// This is the edge: library Results become exit codes and messages here.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace mgdpr::cli {

// Exit codes, documented in `mautic-gdpr --help`.
enum ExitCode : int {
  kExitOk = 0,
  kExitNoMatch = 1,     // lookup: nothing matched
  kExitConfig = 2,      // the config, a secret file, or the policy against the live schema
  kExitDatabase = 3,    // the database could not be reached or failed
  kExitKeyMismatch = 4, // the key is not the one this database was processed with
  kExitBusy = 5,        // another sweep is running
  kExitFailure = 6,     // anything else
  kExitUsage = 64,      // wrong command-line arguments
};

std::string exit_codes_help();

struct SweepArgs {
  std::string config_path;
  std::optional<int64_t> limit;
  std::optional<int> batch_size;
  bool full_pass = false;
  bool json = false;
  bool quiet = false;
};

struct LookupArgs {
  std::string config_path;
  std::optional<std::string> email;
  std::vector<std::string> fields;  // ALIAS=VALUE
  bool json = false;
};

struct GuardArgs {
  std::string config_path;
  std::string check_file;          // the CSV an admin is about to import
  std::optional<std::string> out;  // where to write it without the matching rows
  std::string delimiter = ",";
  bool json = false;
};

int run_keygen(const std::string& out_path);
int run_init_config();
int run_check(const std::string& config_path);
int run_plan(const std::string& config_path, bool json);
int run_sweep(const SweepArgs& args);
int run_lookup(const LookupArgs& args);
int run_guard(const GuardArgs& args);
int run_status(const std::string& config_path, bool json);
int run_locations(bool markdown);
// `serve`: the webhook receiver and the pages for support staff, until SIGTERM
// (src/server/service.h).
int run_serve(const std::string& config_path);
// `passwd`: reads a password from the terminal (asked twice, not echoed) or one line of stdin
// and prints its Argon2id hash; with a user name, as the line for [server.users].
int run_passwd(const std::optional<std::string>& user);

}  // namespace mgdpr::cli
