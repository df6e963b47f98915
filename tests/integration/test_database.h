// SPDX-License-Identifier: GPL-3.0-or-later
// Integration tests run against the real MariaDB server that scripts/test.sh starts (its socket
// in MGDPR_TEST_SOCKET). Each test gets its own database, dropped afterwards.
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "core/hashing.h"
#include "db/connection.h"
#include "testing/synthetic_mautic.h"

namespace mgdpr::testing {

std::string test_socket();
std::string fixtures_dir();

// A connection as root to the named database ("" for none).
std::unique_ptr<db::Connection> connect_root(const std::string& database);

// A database user 'name'@'localhost' with this password and these privileges on `database`.*
// (replacing one of that name); dropped again by drop_database_user.
void create_database_user(const std::string& name, const std::string& password,
                          const std::string& privileges, const std::string& database);
void drop_database_user(const std::string& name);

// The one value a query returns ("NULL" for none); a failed query fails the test.
std::string cell(db::Connection& connection, const std::string& sql,
                 const std::vector<db::Param>& params = {});

// Every row of a table, sorted, as text: to compare contacts byte for byte.
std::vector<std::string> table_rows(db::Connection& connection, const std::string& table,
                                    const std::string& where = "1");

// The hash key the config names.
HashKey load_key(const std::filesystem::path& config_path);

struct CommandResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};

// Runs build/mautic-gdpr with the arguments; no shell involved.
CommandResult run_tool(const std::vector<std::string>& args, const std::string& stdin_text = "");

// A fresh database with a synthetic Mautic, a key file and a config file in a temp folder.
class MauticTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override;
  void TearDown() override;

  // Writes config.toml; `policy` is appended verbatim (the [policy] sections and any others).
  void write_config(const std::string& extra_toml);
  std::string prefix() const { return GetParam(); }
  std::string table(const std::string& name) const { return prefix() + name; }
  std::string quoted(const std::string& name) const { return db::quote_identifier(table(name)); }
  CommandResult tool(std::vector<std::string> args, const std::string& stdin_text = "");
  // Runs a statement on the test database; a failure fails the test.
  void exec(const std::string& sql, const std::vector<db::Param>& params = {});
  // The first cell of a query's first row as text, "NULL" for NULL or no row.
  std::string value_of(const std::string& sql, const std::vector<db::Param>& params = {});
  // The line of the config file that starts with `start` (0 when none does).
  int config_line(const std::string& start) const;

  ContactSet contact_set;
  MauticSchemaVersion schema_version = MauticSchemaVersion::k51;
  std::string database;
  std::filesystem::path dir;
  std::filesystem::path config_path;
  std::filesystem::path key_path;
  std::unique_ptr<db::Connection> connection;

  static constexpr const char* kDefaultPolicy =
      "[policy]\ndefault = \"delete\"\n\n[policy.fields]\nemail = \"hash\"\n"
      "mobile = \"hash\"\nwork_email = \"hash\"\ncountry = \"keep\"\ncity = \"keep\"\n";
};

std::string prefix_name(const ::testing::TestParamInfo<std::string>& info);

}  // namespace mgdpr::testing
