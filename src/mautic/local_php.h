// SPDX-License-Identifier: GPL-3.0-or-later
// Mautic's database settings from its local.php (app/config/local.php on 4.x, config/local.php
// on 5.x and later), read as PHP array literals (src/core/php_array.h): nothing is executed.
// Used by `init-config --from-mautic`, which writes the config and the password file.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/config.h"
#include "core/result.h"

namespace mgdpr::mautic {

// One setting taken over, for the "what came from where" report. Never the password's value.
struct TakenSetting {
  std::string key;    // "database.host"
  std::string value;  // as written to the config ("(the password)" for the password)
  std::string from;   // "local.php:7 (db_host)"
};

struct MauticDatabaseSettings {
  DatabaseConfig database;              // host or socket, port, name, user, table_prefix,
                                        // password_env when local.php names a variable
  std::optional<std::string> password;  // local.php's clear db_password
  std::string password_from;            // "local.php:9 (db_password)"
  std::vector<TakenSetting> taken;
  std::vector<std::string> notes;       // e.g. that localhost means the default socket
};

// The local.php files to try under a Mautic directory, newest layout first (5.x: config/,
// 4.x: app/config/). A path to a file is tried as it is.
std::vector<std::string> local_php_candidates(std::string_view mautic_dir);

// Reads $parameters from local.php's text. `path` names the file in messages. A setting that
// is PHP code rather than a literal (getenv(...), a constant) is an error naming its line.
Result<MauticDatabaseSettings> read_local_php(std::string_view source, std::string_view path);

}  // namespace mgdpr::mautic
