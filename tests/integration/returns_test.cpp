// SPDX-License-Identifier: GPL-3.0-or-later
// Coming back by choice is not a late write: a processed contact whose do-not-contact entry
// Mautic removes (a preference center, a form, an admin) returns, and new data about them is
// theirs; if they leave again they are processed again, and lookup proves both exits. And the
// sweep yields to Mautic's own locks: a lock wait timeout is retried, not a failed sweep.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "test_database.h"

namespace mgdpr::testing {
namespace {

using Returns = MauticTest;

TEST_P(Returns, AResubscribedContactKeepsItsNewDataAndIsProcessedAgainWhenItLeaves) {
  const int64_t id = 10;  // unsubscribed by the synthetic data (id % 10 == 0)
  ASSERT_EQ(dnc_reason_for(id, contact_set), 1);
  const std::string address = synthetic_email(id, contact_set.seed);
  ASSERT_EQ(tool({"sweep", "-q"}).exit_code, 0);
  ASSERT_EQ(
      value_of(fmt::format("SELECT firstname FROM {} WHERE id = 10", quoted("leads"))),
      "NULL");

  // The person resubscribes: Mautic deletes the entry, then the person gives new data.
  ASSERT_TRUE(
      connection
          ->execute(fmt::format("DELETE FROM {} WHERE lead_id = 10", quoted("lead_donotcontact")))
          .ok());
  ASSERT_TRUE(connection
                  ->execute(fmt::format("UPDATE {} SET firstname = 'Backagain', email = "
                                        "'back@example.org' WHERE id = 10",
                                        quoted("leads")))
                  .ok());
  ASSERT_TRUE(connection
                  ->execute(fmt::format("INSERT INTO {} (lead_id, date_hit, code, tracking_id, "
                                        "url) VALUES (10, UTC_TIMESTAMP(), 200, 'trk', "
                                        "'https://example.org/back')",
                                        quoted("page_hits")))
                  .ok());
  auto sweep = nlohmann::json::parse(tool({"sweep", "--json"}).out);
  EXPECT_EQ(sweep["returned"], 1);
  EXPECT_TRUE(sweep["repaired"].empty()) << "their new data is theirs: " << sweep.dump();
  EXPECT_EQ(
      value_of(fmt::format("SELECT firstname FROM {} WHERE id = 10", quoted("leads"))),
      "Backagain");
  EXPECT_EQ(tool({"verify"}).exit_code, 0);
  auto status = nlohmann::json::parse(tool({"status", "--json"}).out);
  EXPECT_EQ(status["returned"], 1);
  // The earlier exit stays provable.
  auto found = tool({"lookup", "--json", "--email", address});
  ASSERT_EQ(found.exit_code, 0) << found.err;
  auto match = nlohmann::json::parse(found.out)["matches"][0];
  EXPECT_EQ(match["contact_id"], id);
  EXPECT_FALSE(match["returned_at"].is_null());
  EXPECT_EQ(match["reason"], "unsubscribed");

  // They leave again (bounced this time): processed again, with the same code as the first time.
  ASSERT_TRUE(
      connection
          ->execute(fmt::format("INSERT INTO {} (lead_id, date_added, reason, channel, "
                                "channel_id) VALUES (10, UTC_TIMESTAMP(), 2, 'email', NULL)",
                                quoted("lead_donotcontact")))
          .ok());
  sweep = nlohmann::json::parse(tool({"sweep", "--json"}).out);
  EXPECT_EQ(sweep["processed"], 1);
  EXPECT_EQ(
      value_of(fmt::format("SELECT firstname FROM {} WHERE id = 10", quoted("leads"))),
      "NULL");
  EXPECT_EQ(value_of(fmt::format("SELECT COUNT(*) FROM {} WHERE lead_id = 10 AND "
                                              "url IS NOT NULL",
                                              quoted("page_hits"))),
            "0");
  EXPECT_EQ(tool({"verify"}).exit_code, 0);
  // Both addresses find the record; it shows the exit now and the earlier one.
  for (const std::string& email : {address, std::string("back@example.org")}) {
    found = tool({"lookup", "--json", "--email", email});
    ASSERT_EQ(found.exit_code, 0) << email;
    match = nlohmann::json::parse(found.out)["matches"][0];
    EXPECT_EQ(match["reason"], "bounced");
    EXPECT_TRUE(match["returned_at"].is_null());
    ASSERT_EQ(match["earlier_exits"].size(), 1u) << found.out;
    EXPECT_EQ(match["earlier_exits"][0]["reason"], "unsubscribed");
  }
}

TEST_P(Returns, AContactDeletedInMauticHasNotComeBack) {
  ASSERT_EQ(tool({"sweep", "-q"}).exit_code, 0);
  ASSERT_TRUE(
      connection->execute(fmt::format("DELETE FROM {} WHERE id = 10", quoted("leads"))).ok());
  auto sweep = nlohmann::json::parse(tool({"sweep", "--json"}).out);
  EXPECT_EQ(sweep["returned"], 0);
}

// Mautic holds a processed contact's row locked (a long request) while its data needs repair:
// the repair waits at most lock_wait_seconds, is rolled back and runs again, and the sweep
// succeeds once the lock is gone.
TEST_P(Returns, LockWaitsAgainstMauticAreRetried) {
  ASSERT_EQ(tool({"sweep", "-q"}).exit_code, 0);
  // The same config with a one-second lock wait.
  std::string config;
  {
    std::ifstream in(config_path);
    std::ostringstream content;
    content << in.rdbuf();
    config = content.str();
  }
  config.replace(config.find("[database]\n"), 11, "[database]\nlock_wait_seconds = 1\n");
  {
    std::ofstream out(config_path);
    out << config;
  }
  ASSERT_TRUE(connection
                  ->execute(fmt::format("UPDATE {} SET firstname = 'Latewrite' WHERE id = 10",
                                        quoted("leads")))
                  .ok());
  auto holder = connect_root(database);
  ASSERT_TRUE(holder->execute("START TRANSACTION").ok());
  ASSERT_TRUE(
      holder->query(fmt::format("SELECT id FROM {} WHERE id = 10 FOR UPDATE", quoted("leads")))
          .ok());
  std::thread release([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(2500));
    (void)holder->execute("COMMIT");
  });
  auto sweep = tool({"sweep", "--json"});
  release.join();
  ASSERT_EQ(sweep.exit_code, 0) << sweep.err;
  auto report = nlohmann::json::parse(sweep.out);
  EXPECT_GE(report["retries"], 1);
  EXPECT_EQ(report["repaired"]["leads"], 1);
  EXPECT_EQ(
      value_of(fmt::format("SELECT firstname FROM {} WHERE id = 10", quoted("leads"))),
      "NULL");
}

INSTANTIATE_TEST_SUITE_P(Prefixes, Returns, ::testing::Values("", "mt_"), prefix_name);

}  // namespace
}  // namespace mgdpr::testing
