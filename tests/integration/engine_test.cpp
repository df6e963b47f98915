// SPDX-License-Identifier: GPL-3.0-or-later
// Guarantees of Engine::process_contacts that the end-to-end tests cannot see: a batch of
// contacts is one transaction with one commit, so a contact that fails takes the whole batch
// back with it (a crash or an error anywhere leaves every contact of the batch untouched).
#include <gtest/gtest.h>

#include "app/session.h"
#include "test_database.h"

namespace mgdpr::testing {
namespace {

using EngineBatch = MauticTest;

// COMMITs this connection has sent since it was opened.
int64_t commits(db::Connection& connection) {
  return std::stoll(cell(connection,
                         "SELECT VARIABLE_VALUE FROM information_schema.SESSION_STATUS "
                         "WHERE VARIABLE_NAME = 'COM_COMMIT'"));
}

TEST_P(EngineBatch, ABatchIsOneTransactionWithOneCommit) {
  auto session = app::open_session(config_path.string(), app::Access::kWrite, "test");
  ASSERT_TRUE(session.ok()) << session.error().message;
  db::Connection& engine_connection = *(*session)->connection;
  mautic::Engine& engine = *(*session)->engine;

  // Three pending contacts, with rows in the related tables too.
  auto pending = connection->query(
      fmt::format("SELECT DISTINCT lead_id FROM {} WHERE reason IN (1, 2) AND channel = 'email' "
                  "ORDER BY lead_id LIMIT 3",
                  quoted("lead_donotcontact")),
      {});
  ASSERT_TRUE(pending.ok());
  ASSERT_EQ(pending->rows.size(), 3u);
  std::vector<int64_t> ids;
  for (const auto& row : pending->rows) ids.push_back(std::stoll(*row[0]));
  const std::string id_list = fmt::format("{}, {}, {}", ids[0], ids[1], ids[2]);
  ASSERT_TRUE(connection
                  ->execute(fmt::format("INSERT INTO {} (lead_id, email_address, date_sent, "
                                        "is_read, is_failed, viewed_in_browser, tokens) "
                                        "SELECT id, COALESCE(email, 'x@example.org'), UTC_TIMESTAMP(), 0, 0, 0, 'a:0:{{}}' "
                                        "FROM {} WHERE id IN ({})",
                                        quoted("email_stats"), quoted("leads"), id_list))
                  .ok());
  auto snapshot = [&] {
    return std::vector<std::vector<std::string>>{
        table_rows(*connection, table("leads"), "id IN (" + id_list + ")"),
        table_rows(*connection, table("email_stats"), "lead_id IN (" + id_list + ")"),
        table_rows(*connection, table("lead_donotcontact"), "lead_id IN (" + id_list + ")"),
        table_rows(*connection, table("gdpr_contacts")),
        table_rows(*connection, table("gdpr_hashes"))};
  };
  const auto before = snapshot();

  // The middle contact fails at the very last step, when it is recorded: had the engine
  // committed per contact, the first one would be done by then.
  ASSERT_TRUE(connection
                  ->execute(fmt::format(
                      "CREATE TRIGGER mgdpr_test_refuse BEFORE INSERT ON {} FOR EACH ROW "
                      "IF NEW.contact_id = {} THEN SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = "
                      "'refused by the test'; END IF",
                      quoted("gdpr_contacts"), ids[1]))
                  .ok());
  const int64_t commits_before_failure = commits(engine_connection);
  auto failed = engine.process_contacts(ids, "sweep");
  ASSERT_FALSE(failed.ok());
  EXPECT_NE(failed.error().message.find("refused by the test"), std::string::npos)
      << failed.error().message;
  EXPECT_EQ(snapshot(), before) << "a contact of the failed batch was changed";
  EXPECT_EQ(commits(engine_connection), commits_before_failure);

  // Without the trigger the same batch goes through, with exactly one COMMIT.
  ASSERT_TRUE(connection->execute("DROP TRIGGER mgdpr_test_refuse").ok());
  const int64_t commits_before = commits(engine_connection);
  auto done = engine.process_contacts(ids, "sweep");
  ASSERT_TRUE(done.ok()) << done.error().message;
  EXPECT_EQ(done->processed, ids);
  EXPECT_EQ(commits(engine_connection) - commits_before, 1);
  EXPECT_EQ(std::stoll(cell(*connection, fmt::format("SELECT COUNT(*) FROM {}",
                                                     quoted("gdpr_contacts")))),
            3);
  EXPECT_EQ(cell(*connection, fmt::format("SELECT COUNT(*) FROM {} WHERE lead_id IN ({}) AND "
                                          "email_address <> ''",
                                          quoted("email_stats"), id_list)),
            "0");
}

INSTANTIATE_TEST_SUITE_P(Prefixes, EngineBatch, ::testing::Values("", "mt_"), prefix_name);

}  // namespace
}  // namespace mgdpr::testing
