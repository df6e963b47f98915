// SPDX-License-Identifier: GPL-3.0-or-later
#include "test_database.h"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <fstream>
#include <thread>

#include "app/secrets.h"

extern char** environ;

namespace mgdpr::testing {

std::string test_socket() {
  const char* socket = std::getenv("MGDPR_TEST_SOCKET");
  return socket != nullptr ? socket : "";
}

std::string fixtures_dir() { return std::string(MGDPR_SOURCE_DIR) + "/tests/fixtures"; }

std::unique_ptr<db::Connection> connect_root(const std::string& database) {
  db::ConnectParams params;
  params.socket = test_socket();
  params.user = "root";
  params.database = database;
  auto connection = db::Connection::open(params);
  if (!connection) {
    ADD_FAILURE() << connection.error().message;
    return nullptr;
  }
  return std::move(*connection);
}

void create_database_user(const std::string& name, const std::string& password,
                          const std::string& privileges, const std::string& database) {
  auto root = connect_root("");
  ASSERT_TRUE(root);
  drop_database_user(name);
  ASSERT_TRUE(
      root->execute(fmt::format("CREATE USER '{}'@'localhost' IDENTIFIED BY '{}'", name, password))
          .ok());
  ASSERT_TRUE(root->execute(fmt::format("GRANT {} ON {}.* TO '{}'@'localhost'", privileges,
                                        db::quote_identifier(database), name))
                  .ok());
}

void drop_database_user(const std::string& name) {
  if (auto root = connect_root("")) {
    (void)root->execute(fmt::format("DROP USER IF EXISTS '{}'@'localhost'", name));
  }
}

std::string cell(db::Connection& connection, const std::string& sql,
                 const std::vector<db::Param>& params) {
  auto value = connection.query_value(sql, params);
  EXPECT_TRUE(value.ok()) << sql << ": " << (value.ok() ? "" : value.error().message);
  return value.ok() && value->has_value() ? **value : "NULL";
}

std::vector<std::string> table_rows(db::Connection& connection, const std::string& table,
                                    const std::string& where) {
  auto rows = connection.query(
      fmt::format("SELECT * FROM {} WHERE {}", db::quote_identifier(table), where), {});
  EXPECT_TRUE(rows.ok()) << (rows.ok() ? "" : rows.error().message);
  std::vector<std::string> lines;
  if (!rows) return lines;
  for (const auto& row : rows->rows) {
    std::string line;
    for (const auto& cell : row) line += (cell ? "'" + *cell + "'" : "NULL") + "|";
    lines.push_back(line);
  }
  std::sort(lines.begin(), lines.end());
  return lines;
}

namespace {

std::string read_all(int fd) {
  std::string data;
  char buffer[65536];
  ssize_t n;
  while ((n = ::read(fd, buffer, sizeof buffer)) > 0) data.append(buffer, size_t(n));
  return data;
}

}  // namespace

CommandResult run_tool(const std::vector<std::string>& args, const std::string& stdin_text) {
  int in_pipe[2], out_pipe[2], err_pipe[2];
  EXPECT_EQ(::pipe(in_pipe), 0);
  EXPECT_EQ(::pipe(out_pipe), 0);
  EXPECT_EQ(::pipe(err_pipe), 0);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, in_pipe[0], 0);
  posix_spawn_file_actions_adddup2(&actions, out_pipe[1], 1);
  posix_spawn_file_actions_adddup2(&actions, err_pipe[1], 2);
  for (int fd : {in_pipe[0], in_pipe[1], out_pipe[0], out_pipe[1], err_pipe[0], err_pipe[1]}) {
    posix_spawn_file_actions_addclose(&actions, fd);
  }
  std::vector<std::string> argv_storage = {MGDPR_BINARY};
  argv_storage.insert(argv_storage.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& arg : argv_storage) argv.push_back(arg.data());
  argv.push_back(nullptr);
  pid_t pid = 0;
  int spawned = posix_spawn(&pid, MGDPR_BINARY, &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  ::close(in_pipe[0]);
  ::close(out_pipe[1]);
  ::close(err_pipe[1]);
  CommandResult result;
  if (spawned != 0) {
    ADD_FAILURE() << "cannot start " << MGDPR_BINARY;
    return result;
  }
  if (!stdin_text.empty()) {
    EXPECT_EQ(::write(in_pipe[1], stdin_text.data(), stdin_text.size()),
              ssize_t(stdin_text.size()));
  }
  ::close(in_pipe[1]);
  std::thread err_reader([&] { result.err = read_all(err_pipe[0]); });
  result.out = read_all(out_pipe[0]);
  err_reader.join();
  ::close(out_pipe[0]);
  ::close(err_pipe[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return result;
}

HashKey load_key(const std::filesystem::path& config_path) {
  auto config = app::load_config_file(config_path.string());
  EXPECT_TRUE(config.ok());
  auto key = app::load_hash_key(*config);
  EXPECT_TRUE(key.ok()) << (key.ok() ? "" : key.error().message);
  return std::move(*key);
}

void MauticTest::SetUp() {
  ASSERT_FALSE(test_socket().empty())
      << "MGDPR_TEST_SOCKET is not set: run the tests through scripts/test.sh, which starts a "
         "private MariaDB server";
  static std::atomic<int> counter{0};
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  database = fmt::format("t{}_{}_{}", ::getpid(), counter++, info->line());
  auto root = connect_root("");
  ASSERT_TRUE(root);
  ASSERT_TRUE(root->execute(fmt::format("CREATE DATABASE {} CHARACTER SET utf8mb4 COLLATE "
                                        "utf8mb4_unicode_ci",
                                        db::quote_identifier(database)))
                  .ok());
  connection = connect_root(database);
  ASSERT_TRUE(connection);
  auto created =
      create_synthetic_mautic(*connection, fixtures_dir(), schema_version, prefix(), contact_set);
  ASSERT_TRUE(created.ok()) << created.error().message;

  dir = std::filesystem::temp_directory_path() / ("mgdpr-" + database);
  std::filesystem::create_directories(dir);
  key_path = dir / "hmac.key";
  auto keygen = run_tool({"keygen", "--out", key_path.string()});
  ASSERT_EQ(keygen.exit_code, 0) << keygen.err;
  config_path = dir / "config.toml";
  write_config(kDefaultPolicy);
}

void MauticTest::TearDown() {
  connection.reset();
  if (auto root = connect_root("")) {
    (void)root->execute(fmt::format("DROP DATABASE IF EXISTS {}", db::quote_identifier(database)));
  }
  std::error_code ignored;
  std::filesystem::remove_all(dir, ignored);
}

void MauticTest::write_config(const std::string& extra_toml) {
  std::ofstream out(config_path);
  out << fmt::format(
      "[database]\nsocket = \"{}\"\nname = \"{}\"\nuser = \"root\"\ntable_prefix = \"{}\"\n\n"
      "[hashing]\nkey_file = \"{}\"\n\n[trigger]\nreasons = [\"unsubscribed\", \"bounced\"]\n"
      "channels = [\"email\"]\n\n{}",
      test_socket(), database, prefix(), key_path.string(), extra_toml);
}

CommandResult MauticTest::tool(std::vector<std::string> args, const std::string& stdin_text) {
  args.push_back("--config");
  args.push_back(config_path.string());
  return run_tool(args, stdin_text);
}

void MauticTest::exec(const std::string& sql, const std::vector<db::Param>& params) {
  auto done = connection->execute(sql, params);
  ASSERT_TRUE(done.ok()) << sql << ": " << done.error().message;
}

std::string MauticTest::value_of(const std::string& sql, const std::vector<db::Param>& params) {
  return cell(*connection, sql, params);
}

int MauticTest::config_line(const std::string& start) const {
  std::ifstream in(config_path);
  int number = 0;
  for (std::string line; std::getline(in, line);) {
    ++number;
    if (line.starts_with(start)) return number;
  }
  return 0;
}

std::string prefix_name(const ::testing::TestParamInfo<std::string>& info) {
  return info.param.empty() ? "no_prefix" : "prefix_" + info.param;
}

}  // namespace mgdpr::testing
