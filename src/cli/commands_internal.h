// SPDX-License-Identifier: GPL-3.0-or-later
// What the command files of src/cli share (commands.cpp, check.cpp, init_config.cpp): one way
// to print an error or a JSON document, and the pieces two commands print alike.
#pragma once

#include <nlohmann/json.hpp>

#include <optional>
#include <string>

#include "cli/commands.h"
#include "mautic/change_queue.h"
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

// Every location with its effective action (check, plan).
void print_locations(const mautic::RelatedPlan& related);

// The change queue's state (queue, check): as JSON, and as text lines.
nlohmann::json queue_json(const mautic::QueueState& state, const mautic::Schema& schema);
void print_queue(const mautic::QueueState& state);

int run_check(CommandContext& context);
int run_init_config(CommandContext& context);
void init_config_options(CLI::App& command, CommandArgs& args);

}  // namespace mgdpr::cli
