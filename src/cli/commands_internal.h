// SPDX-License-Identifier: GPL-3.0-or-later
// What the command files of src/cli share (commands.cpp, check.cpp, init_config.cpp,
// person_commands.cpp): one way to print an error or a JSON document, and the pieces two
// commands print alike.
#pragma once

#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "mautic/change_queue.h"
#include "mautic/engine.h"
#include "mautic/related_scrubber.h"

namespace CLI {
class App;
}

namespace mgdpr::cli {

// Prints the error (`mautic-gdpr: error: ...` on stderr, or {"error": {...}} on stdout with
// --json) and returns its exit code from the one table.
int fail(const CommandArgs& args, const Error& error);

// {"message": ..., "kind": ..., "exit_code": ...}: an error inside a JSON document.
nlohmann::json error_json(const Error& error);

void print_json(const nlohmann::json& json);

// A database time as ISO 8601 UTC with `Z`, or null.
nlohmann::json time_json(const std::optional<std::string>& database_time);

// Checked before any work, for an option naming a file to create: kExitUsage (and the error
// printed) when the file exists, since mautic-gdpr never overwrites one.
std::optional<int> refuse_existing_file(const std::optional<std::string>& path,
                                       std::string_view option, bool json);

// Every location with its effective action (check, plan).
void print_locations(const mautic::RelatedPlan& related);

// The change queue's state (queue, check): as JSON, and as text lines.
nlohmann::json queue_json(const mautic::QueueState& state, const mautic::Schema& schema);
void print_queue(const mautic::QueueState& state);
// ALIAS=VALUE pairs (and --email) as criteria; nullopt when one is malformed.
std::optional<std::vector<mautic::LookupCriterion>> lookup_criteria(const CommandArgs& args);

int run_check(CommandContext& context);
int run_init_config(CommandContext& context);
void init_config_options(CLI::App& command, CommandArgs& args);

// export and erase, the requests that name a person (person_commands.cpp)
void export_options(CLI::App& command, CommandArgs& args);
std::optional<int> check_export_args(const CommandArgs& args);
int run_export(CommandContext& context);
void erase_options(CLI::App& command, CommandArgs& args);
std::optional<int> check_erase_args(const CommandArgs& args);
int run_erase(CommandContext& context);

}  // namespace mgdpr::cli
