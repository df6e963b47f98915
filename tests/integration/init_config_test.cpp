// SPDX-License-Identifier: GPL-3.0-or-later
// `init-config --from-mautic`: Mautic 4.x and 5.x style local.php files (a prefix, a socket, a
// port) become a config and a 0600 password file; the 5.x one, pointed at the test server,
// passes `check`.
#include <gtest/gtest.h>

#include <unistd.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "app/secrets.h"
#include "test_database.h"

namespace mgdpr::testing {
namespace {

class InitConfig : public MauticTest {
 protected:
  void SetUp() override {
    contact_set.contacts = 100;
    MauticTest::SetUp();
  }
  void TearDown() override {
    drop_database_user(user());
    MauticTest::TearDown();
  }
  // Mautic's own database user, with the password local.php holds.
  std::string user() const { return database + "_m"; }
};

std::string read_text(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

void write_text(const std::filesystem::path& path, const std::string& text) {
  std::filesystem::create_directories(path.parent_path());
  std::ofstream(path, std::ios::binary) << text;
}

TEST_P(InitConfig, Mautic5LocalPhpWithASocketGivesAConfigThatChecks) {
  // Mautic 5 keeps local.php in config/; the socket stands in db_host.
  ASSERT_NO_FATAL_FAILURE(create_database_user(user(), "mautic password 5", "ALL", database));
  const auto mautic = dir / "mautic5";
  const std::string prefix_value = prefix().empty() ? "null" : "'" + prefix() + "'";
  write_text(mautic / "config" / "local.php",
             fmt::format("<?php\n$parameters = [\n    'db_driver' => 'pdo_mysql',\n"
                         "    'db_host' => '{}',\n    'db_port' => 3306,\n"
                         "    'db_name' => '{}',\n    'db_user' => '{}',\n"
                         "    'db_password' => 'mautic password 5',\n"
                         "    'db_table_prefix' => {},\n"
                         "    'mailer_dsn' => getenv('MAILER_DSN'),\n];\n",
                         test_socket(), database, user(), prefix_value));
  const auto generated = dir / "generated.toml";
  const auto password = dir / "generated-password";
  auto made = run_tool({"init-config", "--from-mautic", mautic.string(), "--out",
                        generated.string(), "--password-file", password.string()});
  ASSERT_EQ(made.exit_code, 0) << made.err;
  // What came from where, never the password.
  EXPECT_NE(made.err.find("database.socket"), std::string::npos) << made.err;
  EXPECT_NE(made.err.find((mautic / "config" / "local.php").string() + ":4 (db_host)"),
            std::string::npos)
      << made.err;
  EXPECT_NE(made.err.find("local.php:8 (db_password)"), std::string::npos) << made.err;
  EXPECT_EQ(made.err.find("password 5"), std::string::npos) << made.err;
  EXPECT_EQ(read_text(generated).find("password 5"), std::string::npos);
  EXPECT_EQ(read_text(password), "mautic password 5\n");
  EXPECT_EQ(std::filesystem::status(password).permissions() & std::filesystem::perms::all,
            std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);

  auto config = app::load_config_file(generated.string());
  ASSERT_TRUE(config.ok()) << config.error().message;
  EXPECT_EQ(config->database.socket, test_socket());
  EXPECT_EQ(config->database.table_prefix, prefix());
  EXPECT_EQ(config->database.password_file, password.string());

  // With this test's key, the generated config passes check against the live database.
  std::string text = read_text(generated);
  const std::string default_key = "key_file = \"/etc/mautic-gdpr/hmac.key\"";
  text.replace(text.find(default_key), default_key.size(),
               "key_file = \"" + key_path.string() + "\"");
  std::filesystem::remove(generated);
  write_text(generated, text);
  auto check = run_tool({"check", "--config", generated.string()});
  EXPECT_EQ(check.exit_code, 0) << check.out << check.err;

  // Again: the same password is left as it is, the config is never overwritten.
  auto again = run_tool({"init-config", "--from-mautic", mautic.string(), "--out",
                         generated.string(), "--password-file", password.string()});
  EXPECT_EQ(again.exit_code, 64);
  EXPECT_NE(again.err.find("already exists"), std::string::npos) << again.err;
}

// Files only, no database: a scratch folder of their own.
class InitConfigFiles : public ::testing::Test {
 protected:
  void SetUp() override {
    dir = std::filesystem::temp_directory_path() /
          fmt::format("mgdpr-init-{}-{}", ::getpid(),
                      ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
  }
  void TearDown() override { std::filesystem::remove_all(dir); }
  std::filesystem::path dir;
};

TEST_F(InitConfigFiles, Mautic4LocalPhpWithAPortAndAPrefix) {
  const auto mautic = dir / "mautic4";
  write_text(mautic / "app" / "config" / "local.php",
             "<?php\n$parameters = array(\n\t'db_driver' => 'pdo_mysql',\n"
             "\t'db_host' => 'db.internal',\n\t'db_table_prefix' => 'mautic_',\n"
             "\t'db_port' => '3307',\n\t'db_name' => 'mautic',\n\t'db_user' => 'mautic',\n"
             "\t'db_password' => 'Secr3t\\'pw',\n\t'site_url' => 'https://m.example.org',\n);\n");
  const auto password = dir / "password";
  auto made = run_tool({"init-config", "--from-mautic", mautic.string(), "--password-file",
                        password.string(), "--json"});
  ASSERT_EQ(made.exit_code, 0) << made.err;
  EXPECT_EQ(made.out.find("Secr3t"), std::string::npos) << made.out;
  auto json = nlohmann::json::parse(made.out);
  EXPECT_EQ(json["password_file"], password.string());
  std::map<std::string, std::string> from;
  for (const auto& taken : json["taken"]) from[taken["key"]] = taken["from"];
  EXPECT_EQ(from["database.port"], (mautic / "app/config/local.php").string() + ":6 (db_port)");
  EXPECT_EQ(from["database.table_prefix"],
            (mautic / "app/config/local.php").string() + ":5 (db_table_prefix)");
  auto config = parse_config(json["config"].get<std::string>(), "config.toml");
  ASSERT_TRUE(config.ok()) << config.error().message;
  EXPECT_EQ(config->database.host, "db.internal");
  EXPECT_EQ(config->database.port, 3307);
  EXPECT_EQ(config->database.table_prefix, "mautic_");
  EXPECT_EQ(read_text(password), "Secr3t'pw\n");
}

TEST_F(InitConfigFiles, WhatCannotBeReadIsNamedByItsLine) {
  const auto local = dir / "local.php";
  write_text(local, "<?php\n$parameters = [\n  'db_host' => getenv('DB_HOST'),\n"
                    "  'db_name' => 'm',\n  'db_user' => 'u',\n];\n");
  auto code = run_tool({"init-config", "--from-mautic", local.string(), "--password-file",
                        (dir / "pw").string()});
  EXPECT_EQ(code.exit_code, 2);
  EXPECT_NE(code.err.find(local.string() + ":3: db_host is PHP code"), std::string::npos)
      << code.err;
  auto missing = run_tool({"init-config", "--from-mautic", (dir / "nowhere").string()});
  EXPECT_EQ(missing.exit_code, 64);
  EXPECT_NE(missing.err.find("app/config/local.php"), std::string::npos) << missing.err;
}

INSTANTIATE_TEST_SUITE_P(Prefixes, InitConfig, ::testing::Values("", "mt_"), prefix_name);

}  // namespace
}  // namespace mgdpr::testing
