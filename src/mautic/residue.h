// SPDX-License-Identifier: GPL-3.0-or-later
// Where a person's old values may persist beyond the tables mautic-gdpr rewrites: the server's
// binary, general and slow query logs, Symfony's messenger queue (its failed queue keeps
// messages for ever), and backups. `check` reports each with what to do; nothing here changes
// anything. residue_findings() is pure, over settings read_residue_settings() collects.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/result.h"
#include "db/connection.h"
#include "mautic/schema.h"

namespace mgdpr::mautic {

struct ResidueSettings {
  std::map<std::string, std::string> variables;  // the server's, lowercase names
  std::optional<int64_t> messenger_rows;         // nullopt: no messenger_messages table
  int64_t messenger_failed_rows = 0;
};

struct ResidueFinding {
  std::string where;  // "binary log", "general query log", ...
  std::string what;   // what is kept there and what to do, one paragraph
};

Result<ResidueSettings> read_residue_settings(db::Connection& connection, const Schema& schema);

// One finding per place that may hold old values, always ending with the backups.
std::vector<ResidueFinding> residue_findings(const ResidueSettings& settings);

}  // namespace mgdpr::mautic
