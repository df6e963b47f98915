// SPDX-License-Identifier: GPL-3.0-or-later
// `check` against a real server, as a database user with exactly the grants README lists, and
// as users lacking one privilege each: every missing privilege is named with its GRANT, and the
// full set is enough for a real sweep.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "mautic/privileges.h"
#include "test_database.h"

namespace mgdpr::testing {
namespace {

constexpr const char* kUserPassword = "check-test-password";

class Check : public MauticTest {
 protected:
  void SetUp() override {
    contact_set.contacts = 100;
    MauticTest::SetUp();
    if (HasFatalFailure()) return;
    user = database + "_u";
    password_path = dir / "db-password";
    std::ofstream(password_path) << kUserPassword << "\n";
    std::filesystem::permissions(password_path, std::filesystem::perms::owner_read |
                                                    std::filesystem::perms::owner_write);
  }

  void TearDown() override {
    drop_database_user(user);
    MauticTest::TearDown();
  }

  // A fresh user with these privileges on the test database; the config connects as it.
  void use_user_with(const std::string& privileges) {
    ASSERT_NO_FATAL_FAILURE(create_database_user(user, kUserPassword, privileges, database));
    std::string text;
    {
      std::ifstream in(config_path);
      text.assign(std::istreambuf_iterator<char>(in), {});
    }
    const std::string root_line = "user = \"root\"\n";
    const size_t at = text.find(root_line);
    if (at != std::string::npos) {
      text.replace(at, root_line.size(),
                   fmt::format("user = \"{}\"\npassword_file = \"{}\"\n", user,
                               password_path.string()));
    } else {
      const size_t old = text.find("user = \"" + database);
      ASSERT_NE(old, std::string::npos);
      text.replace(old, text.find('\n', old) - old, fmt::format("user = \"{}\"", user));
    }
    std::ofstream(config_path) << text;
  }

  std::string user;
  std::filesystem::path password_path;
};

TEST_P(Check, TheReadmeGrantsAreEnoughForCheckAndSweep) {
  ASSERT_NO_FATAL_FAILURE(use_user_with(std::string(mautic::kNeededPrivileges)));
  auto check = tool({"check"});
  EXPECT_EQ(check.exit_code, 0) << check.out << check.err;
  EXPECT_NE(check.out.find("everything sweep, serve and the other commands need is granted"),
            std::string::npos)
      << check.out;
  // The first sweep creates mautic-gdpr's tables and stages values in temporary tables.
  auto sweep = tool({"sweep", "--json"});
  ASSERT_EQ(sweep.exit_code, 0) << sweep.out << sweep.err;
  EXPECT_EQ(nlohmann::json::parse(sweep.out)["processed"], 20);
  // Once the tables exist, check probes them too.
  EXPECT_EQ(tool({"check"}).exit_code, 0);
}

TEST_P(Check, TheChangeQueueNamesTheTriggerGrantItNeeds) {
  // The README grants run everything but the opt-in queue: its install names the grant.
  ASSERT_NO_FATAL_FAILURE(use_user_with(std::string(mautic::kNeededPrivileges)));
  ASSERT_EQ(tool({"sweep", "-q"}).exit_code, 0);
  auto refused = tool({"queue", "install"});
  EXPECT_EQ(refused.exit_code, 2) << refused.out << refused.err;
  EXPECT_NE(refused.err.find(fmt::format("GRANT TRIGGER ON `{}`.*", database)), std::string::npos)
      << refused.err;
  ASSERT_NO_FATAL_FAILURE(
      use_user_with(std::string(mautic::kNeededPrivileges) + ", TRIGGER"));
  auto installed = tool({"queue", "install"});
  EXPECT_EQ(installed.exit_code, 0) << installed.out << installed.err;
  EXPECT_EQ(tool({"queue", "remove"}).exit_code, 0);
}

TEST_P(Check, EachMissingPrivilegeIsNamedWithTheGrantThatFixesIt) {
  // ALTER is tried once mautic-gdpr's tables exist (TheReadmeGrants... covers the sweep).
  const std::vector<std::string> all = {"SELECT", "INSERT", "UPDATE", "DELETE", "CREATE",
                                        "CREATE TEMPORARY TABLES"};
  for (const std::string& lacking : all) {
    SCOPED_TRACE(lacking);
    std::string granted = "ALTER";
    for (const auto& privilege : all) {
      if (privilege != lacking) granted += ", " + privilege;
    }
    ASSERT_NO_FATAL_FAILURE(use_user_with(granted));
    auto check = tool({"check", "--json"});
    EXPECT_EQ(check.exit_code, 2) << check.out << check.err;
    const std::string grant = fmt::format("GRANT {} ON {}.* TO '{}'@'localhost';",
                                          lacking == "SELECT" ? std::string(mautic::kNeededPrivileges)
                                                              : lacking,
                                          db::quote_identifier(database), user);
    EXPECT_NE(check.out.find(grant), std::string::npos) << check.out;
    auto json = nlohmann::json::parse(check.out);
    if (lacking == "SELECT") {
      // Not even the schema can be read: one error with the whole GRANT.
      EXPECT_EQ(json["error"]["kind"], "config");
      continue;
    }
    EXPECT_EQ(json["valid"], false);
    ASSERT_EQ(json["privileges"]["missing"].size(), 1u) << check.out;
    EXPECT_EQ(json["privileges"]["missing"][0]["privilege"], lacking);
    EXPECT_EQ(json["privileges"]["missing"][0]["grant"], grant);
  }
  // A read-only user: everything but SELECT is named, and a sweep would have failed.
  ASSERT_NO_FATAL_FAILURE(use_user_with("SELECT"));
  auto read_only = tool({"check"});
  EXPECT_EQ(read_only.exit_code, 2);
  for (const auto& privilege : {"INSERT", "UPDATE", "DELETE", "CREATE TEMPORARY TABLES"}) {
    EXPECT_NE(read_only.err.find(fmt::format("lacks {} on", privilege)), std::string::npos)
        << privilege << "\n" << read_only.err;
  }
  // SELECT is all a monitoring user needs for status, which reads no hash key either.
  std::filesystem::remove(key_path);
  auto status = tool({"status", "--json"});
  EXPECT_EQ(status.exit_code, 0) << status.out << status.err;
  EXPECT_EQ(nlohmann::json::parse(status.out)["pending"], 20);
}

INSTANTIATE_TEST_SUITE_P(Prefixes, Check, ::testing::Values("", "mt_"), prefix_name);

}  // namespace
}  // namespace mgdpr::testing
