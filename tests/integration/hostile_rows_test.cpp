// SPDX-License-Identifier: GPL-3.0-or-later
// Rows a sweep cannot handle as the location table says neither stop it nor slip past it: a
// queued webhook nested 50,000 deep (tied to no contact) or compressed garbage is left and
// named, a JSON column without Mautic's CHECK nested as deep and a serialized value that does
// not parse are cleared and named, a contact the database refuses is left pending and named;
// the sweep goes on with the rest, `status` and `verify` say so, and nothing names a value.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "core/scrub.h"
#include "test_database.h"

namespace mgdpr::testing {
namespace {

class HostileRows : public MauticTest {
 protected:
  HostileRows() { contact_set.contacts = 40; }
};

// The rows named, as "table key outcome".
std::set<std::string> named(const nlohmann::json& rows) {
  std::set<std::string> out;
  for (const auto& row : rows) {
    out.insert(fmt::format("{} {} {}", row["table"].get<std::string>(),
                           row["key"].get<std::string>(), row["outcome"].get<std::string>()));
  }
  return out;
}

TEST_P(HostileRows, AreNamedAndTheSweepGoesOn) {
  const std::string deep(50000, '[');
  const std::string marker = "hostilemarker@example.org";
  // Parent rows (webhooks, events) are not what this test is about.
  exec("SET SESSION foreign_key_checks = 0");
  exec(fmt::format("INSERT INTO {} (id, webhook_id, event_id, date_added, payload) VALUES "
                   "(900, 1, 1, UTC_TIMESTAMP(), ?)",
                   quoted("webhook_queue")),
       {deep});
  exec(fmt::format("INSERT INTO {} (id, webhook_id, event_id, date_added, payload_compressed) "
                   "VALUES (901, 1, 1, UTC_TIMESTAMP(), ?)",
                   quoted("webhook_queue")),
       {std::string("\x78\x9c not zlib at all ") + marker});
  // A JSON column as a MySQL-to-MariaDB migration leaves it: no json_valid CHECK.
  exec(fmt::format("ALTER TABLE {} MODIFY properties LONGTEXT NULL", quoted("lead_event_log")));
  exec(fmt::format("INSERT INTO {} (id, lead_id, bundle, object, action, date_added, "
                   "properties) VALUES (910, 10, 'lead', 'import', 'inserted', UTC_TIMESTAMP(), ?)",
                   quoted("lead_event_log")),
       {deep + "\"" + marker + "\""});
  exec(fmt::format("INSERT INTO {} (id, user_id, user_name, bundle, object, object_id, action, "
                   "details, date_added, ip_address) VALUES (920, 1, 'admin', 'lead', 'lead', 10, "
                   "'update', ?, UTC_TIMESTAMP(), '192.0.2.9')",
                   quoted("audit_log")),
       {"a:1:{s:5:\"email\";s:99:\"" + marker + "\";}"});
  // The database refuses contact 20 (a plugin's trigger): that contact alone is left.
  exec(
      fmt::format("CREATE TRIGGER {} BEFORE UPDATE ON {} FOR EACH ROW BEGIN IF OLD.id = 20 "
                  "THEN SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'refused {}'; END IF; END",
                  quoted("refuse_20"), quoted("leads"), marker));
  const std::string firstname_20 =
      value_of(fmt::format("SELECT firstname FROM {} WHERE id = 20", quoted("leads")));

  auto first = tool({"sweep", "--json"});
  ASSERT_EQ(first.exit_code, 0) << first.out << first.err;
  EXPECT_EQ(first.out.find(marker), std::string::npos);
  auto sweep = nlohmann::json::parse(first.out);
  EXPECT_EQ(sweep["processed"].get<int64_t>(), sweep["pending"].get<int64_t>() - 1);
  EXPECT_EQ(named(sweep["unhandled"]),
            (std::set<std::string>{"webhook_queue 900 left", "webhook_queue 901 left",
                                   "lead_event_log 910 cleared", "audit_log 920 cleared",
                                   "leads 20 left"}))
      << sweep["unhandled"].dump();
  // Cleared (NULL: the columns allow it); the queued rows and contact 20 untouched.
  EXPECT_EQ(
      value_of(fmt::format("SELECT properties FROM {} WHERE id = 910", quoted("lead_event_log"))),
      "NULL");
  EXPECT_EQ(value_of(fmt::format("SELECT details FROM {} WHERE id = 920", quoted("audit_log"))),
            "NULL");
  EXPECT_EQ(value_of(fmt::format("SELECT COUNT(*) FROM {}", quoted("webhook_queue"))), "2");
  EXPECT_EQ(value_of(fmt::format("SELECT firstname FROM {} WHERE id = 20", quoted("leads"))),
            firstname_20);

  // The text output names them too, for cron.
  auto text = tool({"sweep", "-q"});
  ASSERT_EQ(text.exit_code, 0) << text.err;
  EXPECT_NE(text.out.find("webhook_queue 900 (left)"), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("leads 20 (left)"), std::string::npos) << text.out;
  EXPECT_EQ(text.out.find(marker), std::string::npos);

  auto status_run = tool({"status", "--json"});
  ASSERT_EQ(status_run.exit_code, 0) << status_run.err;
  EXPECT_EQ(status_run.out.find(marker), std::string::npos);
  auto status = nlohmann::json::parse(status_run.out);
  EXPECT_EQ(status["unhandled_total"], 5);
  EXPECT_EQ(named(status["unhandled_latest"]).size(), 5u) << status.dump();
  for (const auto& row : status["unhandled_latest"]) {
    EXPECT_TRUE(row["last_seen"].is_string());
    EXPECT_FALSE(row["problem"].get<std::string>().empty());
  }

  // Unreadable queued payloads: whose they are cannot be told, so nothing is proven clean.
  auto verify = tool({"verify", "--json"});
  EXPECT_EQ(verify.exit_code, 1) << verify.out;
  EXPECT_EQ(named(nlohmann::json::parse(verify.out)["unreadable"]),
            (std::set<std::string>{"webhook_queue 900 left", "webhook_queue 901 left"}));

  // The admin deletes the queued rows and the trigger: the next sweep processes contact 20 and
  // forgets what is gone; the cleared rows stay on record.
  exec(fmt::format("DELETE FROM {}", quoted("webhook_queue")));
  exec(fmt::format("DROP TRIGGER {}", quoted("refuse_20")));
  sweep = nlohmann::json::parse(tool({"sweep", "--json"}).out);
  EXPECT_EQ(sweep["processed"], 1);
  EXPECT_TRUE(sweep["unhandled"].empty()) << sweep.dump();
  status = nlohmann::json::parse(tool({"status", "--json"}).out);
  EXPECT_EQ(named(status["unhandled_latest"]),
            (std::set<std::string>{"lead_event_log 910 cleared", "audit_log 920 cleared"}));
  EXPECT_EQ(tool({"verify"}).exit_code, 0);
}

// Names an attacker with access to Mautic's schema could choose (a custom field alias, a form's
// results table) are identifiers like any other: checked against the live schema, quoted, never
// spliced. The sweep clears the field and the answers, and every table is still there.
TEST_P(HostileRows, HostileSchemaNamesAreQuotedNotRun) {
  const std::string alias = "evil`; DROP TABLE leads; -- x";
  ASSERT_TRUE(add_custom_field(*connection, prefix(), {alias, "text", "VARCHAR(191)"}).ok());
  exec(fmt::format("UPDATE {} SET {} = 'evilvalue@example.org' WHERE id = 10", quoted("leads"),
                   db::quote_identifier(alias)));
  const std::string form_table = table("form_results_3_x`y; DROP TABLE leads");
  exec(
      fmt::format("CREATE TABLE {} (submission_id INT NOT NULL, form_id INT NOT NULL, "
                  "`e``mail` LONGTEXT DEFAULT NULL, PRIMARY KEY(submission_id)) DEFAULT "
                  "CHARACTER SET utf8mb4",
                  db::quote_identifier(form_table)));
  exec("SET SESSION foreign_key_checks = 0");
  exec(
      fmt::format("INSERT INTO {} (id, form_id, lead_id, date_submitted, referer) VALUES "
                  "(930, 3, 10, UTC_TIMESTAMP(), '')",
                  quoted("form_submissions")));
  exec(
      fmt::format("INSERT INTO {} (submission_id, form_id, `e``mail`) VALUES (930, 3, "
                  "'evilanswer@example.org')",
                  db::quote_identifier(form_table)));

  auto sweep = tool({"sweep", "--json"});
  ASSERT_EQ(sweep.exit_code, 0) << sweep.out << sweep.err;
  EXPECT_EQ(value_of(fmt::format("SELECT {} FROM {} WHERE id = 10", db::quote_identifier(alias),
                                 quoted("leads"))),
            "NULL");
  EXPECT_EQ(value_of(fmt::format("SELECT COUNT(*) FROM {} WHERE `e``mail` IS NOT NULL",
                                 db::quote_identifier(form_table))),
            "0");
  EXPECT_EQ(value_of(fmt::format("SELECT COUNT(*) FROM {}", quoted("leads"))), "40");
  EXPECT_EQ(tool({"verify"}).exit_code, 0);
}

INSTANTIATE_TEST_SUITE_P(Prefixes, HostileRows, ::testing::Values("mt_"), prefix_name);

}  // namespace
}  // namespace mgdpr::testing
