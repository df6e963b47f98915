// SPDX-License-Identifier: GPL-3.0-or-later
#include "mautic/local_php.h"

#include <gtest/gtest.h>

namespace mgdpr::mautic {
namespace {

// As Mautic 4.4's installer writes app/config/local.php.
constexpr const char* kMautic4 = R"(<?php
$parameters = array(
	'db_driver' => 'pdo_mysql',
	'db_host' => 'db.internal',
	'db_table_prefix' => 'mautic_',
	'db_port' => '3307',
	'db_name' => 'mautic4',
	'db_user' => 'mautic',
	'db_password' => 'pa\'ss"word',
	'db_backup_tables' => 1,
	'db_backup_prefix' => 'bak_',
	'mailer_from_name' => 'Example',
	'secret_key' => 'abc',
	'site_url' => 'https://mautic.example.org',
);
)";

// Mautic 5.x config/local.php: short arrays, a socket as the host, no prefix.
constexpr const char* kMautic5 = R"(<?php
$parameters = [
    'db_driver'       => 'pdo_mysql',
    'db_host'         => '/run/mysqld/mysqld.sock',
    'db_port'         => 3306,
    'db_name'         => 'mautic5',
    'db_user'         => 'mautic',
    'db_password'     => '%env(MAUTIC_DB_PASSWORD)%',
    'db_table_prefix' => null,
    'mailer_dsn'      => getenv('MAILER_DSN'),
];
)";

TEST(LocalPhp, Mautic4WithAPrefixAndAPort) {
  auto settings = read_local_php(kMautic4, "app/config/local.php");
  ASSERT_TRUE(settings.ok()) << settings.error().message;
  EXPECT_EQ(settings->database.host, "db.internal");
  EXPECT_EQ(settings->database.port, 3307);
  EXPECT_EQ(settings->database.socket, "");
  EXPECT_EQ(settings->database.name, "mautic4");
  EXPECT_EQ(settings->database.table_prefix, "mautic_");
  EXPECT_EQ(settings->password, "pa'ss\"word");
  EXPECT_EQ(settings->password_from, "app/config/local.php:9 (db_password)");
  bool saw_port = false;
  for (const auto& taken : settings->taken) {
    EXPECT_EQ(taken.value.find("pa'ss"), std::string::npos) << "the password is never reported";
    if (taken.key == "database.port") {
      saw_port = true;
      EXPECT_EQ(taken.from, "app/config/local.php:6 (db_port)");
    }
  }
  EXPECT_TRUE(saw_port);
}

TEST(LocalPhp, Mautic5WithASocketAndAnEnvironmentPassword) {
  auto settings = read_local_php(kMautic5, "config/local.php");
  ASSERT_TRUE(settings.ok()) << settings.error().message;
  EXPECT_EQ(settings->database.socket, "/run/mysqld/mysqld.sock");
  EXPECT_EQ(settings->database.table_prefix, "");
  EXPECT_EQ(settings->database.password_env, "MAUTIC_DB_PASSWORD");
  EXPECT_FALSE(settings->password.has_value());
  // The config it becomes parses, with the socket and no password in it.
  const std::string text = example_config(database_section_toml(settings->database));
  auto config = parse_config(text, "config.toml");
  ASSERT_TRUE(config.ok()) << config.error().message;
  EXPECT_EQ(config->database.socket, "/run/mysqld/mysqld.sock");
  EXPECT_EQ(config->database.password_env, "MAUTIC_DB_PASSWORD");
}

TEST(LocalPhp, CodeInANeededSettingNamesItsLine) {
  const std::string source =
      "<?php\n$parameters = [\n  'db_name' => 'm',\n  'db_user' => getenv('DB_USER'),\n];\n";
  auto settings = read_local_php(source, "/var/www/mautic/config/local.php");
  ASSERT_FALSE(settings.ok());
  EXPECT_EQ(settings.error().message,
            "/var/www/mautic/config/local.php:4: db_user is PHP code, not a literal value "
            "(mautic-gdpr runs no PHP); write the value into the config yourself");
}

TEST(LocalPhp, MysqliStyleSocketAndLocalhost) {
  auto mysqli = read_local_php(
      "<?php $parameters = ['db_host' => 'localhost:/tmp/my.sock', 'db_name' => 'm', "
      "'db_user' => 'u'];",
      "local.php");
  ASSERT_TRUE(mysqli.ok());
  EXPECT_EQ(mysqli->database.socket, "/tmp/my.sock");
  auto local = read_local_php(
      "<?php $parameters = ['db_host' => 'localhost', 'db_name' => 'm', 'db_user' => 'u'];",
      "local.php");
  ASSERT_TRUE(local.ok());
  EXPECT_EQ(local->database.host, "localhost");
  EXPECT_FALSE(local->notes.empty());
}

TEST(LocalPhp, CandidatesCoverBothLayouts) {
  const auto candidates = local_php_candidates("/var/www/mautic/");
  ASSERT_GE(candidates.size(), 2u);
  EXPECT_EQ(candidates[0], "/var/www/mautic/config/local.php");
  EXPECT_EQ(candidates[1], "/var/www/mautic/app/config/local.php");
  EXPECT_EQ(local_php_candidates("/x/local.php"), std::vector<std::string>{"/x/local.php"});
}

}  // namespace
}  // namespace mgdpr::mautic
