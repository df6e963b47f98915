// SPDX-License-Identifier: GPL-3.0-or-later
// The opt-in change queue (`queue install|remove|status`): triggers on Mautic's tables queue
// processed contacts that Mautic writes about, and a plain sweep checks only those. Late
// writes of every kind are repaired by one plain sweep; a write about a contact that was not
// processed queues nothing; install and remove are idempotent and leave other triggers alone;
// a table whose trigger is gone is checked in full.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <set>

#include "test_database.h"
#include "testing/related_rows.h"

namespace mgdpr::testing {
namespace {

class Queue : public MauticTest {
 protected:
  void SetUp() override {
    contact_set.contacts = 200;
    MauticTest::SetUp();
    RelatedSet related;
    related.contacts = contact_set.contacts;
    related.seed = contact_set.seed;
    ASSERT_TRUE(generate_related_rows(*connection, prefix(), related).ok());
    // Parents (webhooks, devices) this test does not need.
    ASSERT_TRUE(connection->execute("SET SESSION foreign_key_checks = 0").ok());
  }

  int64_t queued() { return std::stoll(value_of("SELECT COUNT(*) FROM " + quoted("gdpr_dirty"))); }
  std::set<std::string> triggers() {
    std::set<std::string> names;
    auto rows = connection->query(
        "SELECT TRIGGER_NAME FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = ?",
        {database});
    EXPECT_TRUE(rows.ok());
    for (const auto& row : rows->rows) names.insert(row[0].value_or(""));
    return names;
  }
  nlohmann::json json_of(std::vector<std::string> args) {
    args.push_back("--json");
    auto result = tool(args);
    EXPECT_EQ(result.exit_code, 0) << result.out << result.err;
    return nlohmann::json::parse(result.out, nullptr, false);
  }
  // Installs the queue and runs the first sweep, which processes everyone pending and checks
  // everything once with the triggers in place (the baseline).
  void install_and_sweep() {
    ASSERT_EQ(json_of({"sweep"})["processed"], 40);  // creates the gdpr tables
    ASSERT_EQ(json_of({"queue", "install"})["complete"], true);
    auto first = json_of({"sweep"});
    EXPECT_EQ(first["queue"]["used"], false) << "no full check since the install yet";
    auto status = json_of({"queue", "status"});
    ASSERT_EQ(status["baseline"], true);
    ASSERT_EQ(status["queued"], 0);
    left_ = std::stoll(value_of(
        fmt::format("SELECT MIN(lead_id) FROM {} WHERE lead_id % 10 = 0", quoted("email_stats"))));
  }

  int64_t left_ = 10;                    // unsubscribed (processed), with emails sent
  static constexpr int64_t kStays = 14;  // contactable
};

TEST_P(Queue, InstallAndRemoveAreIdempotentAndLeaveOtherTriggersAlone) {
  // Mautic or a plugin has triggers of its own on the same tables and events.
  exec(fmt::format("CREATE TRIGGER {} AFTER UPDATE ON {} FOR EACH ROW SET @plugin_saw = NEW.id",
                   db::quote_identifier(prefix() + "plugin_leads_au"), quoted("leads")));
  exec(fmt::format("CREATE TRIGGER {} AFTER INSERT ON {} FOR EACH ROW SET @plugin_saw = NEW.id",
                   db::quote_identifier(prefix() + "plugin_stats_ai"), quoted("email_stats")));
  ASSERT_EQ(tool({"sweep", "-q"}).exit_code, 0);
  auto status = json_of({"queue", "status"});
  EXPECT_EQ(status["installed"], false);

  auto installed = json_of({"queue", "install"});
  const auto covered = installed["covered_tables"];
  EXPECT_EQ(installed["complete"], true);
  for (const char* table : {"leads", "lead_donotcontact", "email_stats", "email_stats_devices",
                            "page_hits", "form_submissions", "form_results_1_contactform",
                            "audit_log", "lead_ips_xref", "lead_event_log", "lead_notes"}) {
    EXPECT_NE(std::find(covered.begin(), covered.end(), table), covered.end()) << table;
  }
  const auto unqueueable = installed["unqueueable_tables"];
  EXPECT_NE(std::find(unqueueable.begin(), unqueueable.end(), "webhook_queue"), unqueueable.end());
  const std::set<std::string> once = triggers();
  // Two per table, two more for each further location on a table (audit_log's notes), and the
  // plugin's two.
  EXPECT_EQ(once.size(), 2 * covered.size() + 2 + 2)
      << "two per location's table, and the plugin's two";
  auto again = json_of({"queue", "install"});
  EXPECT_EQ(again["complete"], true);
  EXPECT_EQ(triggers(), once) << "a second install changes nothing";

  // A trigger dropped by hand: status and check name the table, install puts it back.
  exec(fmt::format("DROP TRIGGER {}", db::quote_identifier(prefix() + "gdpr_q_u_page_hits")));
  status = json_of({"queue", "status"});
  EXPECT_EQ(status["complete"], false);
  EXPECT_EQ(status["missing_tables"], nlohmann::json::array({"page_hits"}));
  auto checked = json_of({"check"});
  EXPECT_EQ(checked["queue"]["missing_tables"], nlohmann::json::array({"page_hits"}));
  EXPECT_NE(checked["warnings"].dump().find("page_hits"), std::string::npos);
  EXPECT_EQ(json_of({"queue", "install"})["complete"], true);
  EXPECT_EQ(triggers(), once);

  auto removed = json_of({"queue", "remove"});
  EXPECT_EQ(removed["installed"], false);
  EXPECT_EQ(json_of({"queue", "remove"})["installed"], false);
  const std::set<std::string> left = triggers();
  EXPECT_EQ(left,
            (std::set<std::string>{prefix() + "plugin_leads_au", prefix() + "plugin_stats_ai"}));
  // The plugin's triggers still fire.
  exec(fmt::format("UPDATE {} SET points = points + 1 WHERE id = 3", quoted("leads")));
}

TEST_P(Queue, AWriteAboutAContactThatWasNotProcessedQueuesNothing) {
  install_and_sweep();
  ASSERT_EQ(dnc_reason_for(kStays, contact_set), 0);
  exec(fmt::format("UPDATE {} SET firstname = 'Stays' WHERE id = {}", quoted("leads"), kStays));
  exec(
      fmt::format("INSERT INTO {} (lead_id, date_hit, code, tracking_id, url) VALUES ({}, "
                  "UTC_TIMESTAMP(), 200, 't', 'https://example.org/stays')",
                  quoted("page_hits"), kStays));
  exec(fmt::format("UPDATE {} SET open_count = open_count + 1 WHERE lead_id = {}",
                   quoted("email_stats"), kStays));
  EXPECT_EQ(queued(), 0);
  // The same about a processed contact is queued.
  exec(fmt::format("UPDATE {} SET position = 'late' WHERE id = {}", quoted("leads"), left_));
  EXPECT_EQ(queued(), 1);
}

TEST_P(Queue, LateWritesOfEveryKindAreRepairedByOnePlainSweep) {
  install_and_sweep();
  ASSERT_EQ(dnc_reason_for(left_, contact_set), 1);
  const std::string id = std::to_string(left_);
  // A late open of an old email: the row is updated in place, no date_modified anywhere.
  exec(
      fmt::format("UPDATE {} SET is_read = 1, open_count = open_count + 1, open_details = "
                  "'a:1:{{s:9:\"useragent\";s:9:\"QMKagent1\";}}' WHERE lead_id = {} ORDER BY id "
                  "LIMIT 1",
                  quoted("email_stats"), id));
  // Its device row (tied through the email_stats row).
  exec(
      fmt::format("INSERT INTO {} (stat_id, ip_id, date_opened) SELECT id, NULL, "
                  "UTC_TIMESTAMP() FROM {} WHERE lead_id = {} ORDER BY id LIMIT 1",
                  quoted("email_stats_devices"), quoted("email_stats"), id));
  // A plugin writes the profile without touching date_modified.
  exec(fmt::format("UPDATE {} SET firstname = 'QMKfirst', email = 'qmk@example.org' WHERE id = {}",
                   quoted("leads"), id));
  // A page hit, a form post, an audit row, a note, a lead event, an IP link.
  exec(
      fmt::format("INSERT INTO {} (lead_id, date_hit, code, tracking_id, url, user_agent) VALUES "
                  "({}, UTC_TIMESTAMP(), 200, 'QMKtrack', 'https://example.org/QMKurl', 'QMKua')",
                  quoted("page_hits"), id));
  exec(
      fmt::format("INSERT INTO {} (form_id, lead_id, date_submitted, referer) VALUES (1, {}, "
                  "UTC_TIMESTAMP(), 'QMKreferer')",
                  quoted("form_submissions"), id));
  exec(
      fmt::format("INSERT INTO {} (submission_id, form_id, first_name) VALUES "
                  "(LAST_INSERT_ID(), 1, 'QMKanswer')",
                  quoted("form_results_1_contactform")));
  exec(
      fmt::format("INSERT INTO {} (user_id, user_name, bundle, object, object_id, action, "
                  "details, date_added, ip_address) VALUES (1, 'admin', 'lead', 'lead', {}, "
                  "'update', 'a:1:{{s:1:\"f\";s:8:\"QMKaudit\";}}', UTC_TIMESTAMP(), 'QMKip')",
                  quoted("audit_log"), id));
  exec(fmt::format("INSERT INTO {} (lead_id, is_published, text) VALUES ({}, 1, 'QMKnote')",
                   quoted("lead_notes"), id));
  exec(
      fmt::format("INSERT INTO {} (lead_id, bundle, object, action, date_added, properties) "
                  "VALUES ({}, 'lead', 'import', 'updated', UTC_TIMESTAMP(), "
                  "'{{\"city\":\"QMKimport\"}}')",
                  quoted("lead_event_log"), id));
  exec(fmt::format("INSERT INTO {} (ip_address) VALUES ('QMKaddr')", quoted("ip_addresses")));
  exec(fmt::format("INSERT INTO {} (lead_id, ip_id) VALUES ({}, LAST_INSERT_ID())",
                   quoted("lead_ips_xref"), id));
  // A bounce comment written on the do-not-contact row again.
  exec(fmt::format("UPDATE {} SET comments = 'QMKbounce' WHERE lead_id = {}",
                   quoted("lead_donotcontact"), id));
  EXPECT_GT(queued(), 0);
  EXPECT_EQ(tool({"verify"}).exit_code, 1);

  auto sweep = json_of({"sweep"});
  EXPECT_EQ(sweep["queue"]["used"], true) << sweep.dump();
  EXPECT_EQ(sweep["queue"]["contacts"], 1) << sweep.dump();
  for (const char* table : {"leads", "lead_donotcontact", "email_stats", "email_stats_devices",
                            "page_hits", "form_submissions", "form_results_1_contactform",
                            "audit_log", "lead_notes", "lead_event_log", "lead_ips_xref"}) {
    EXPECT_TRUE(sweep["repaired"].contains(table)) << table << ": " << sweep.dump();
  }
  EXPECT_EQ(queued(), 0) << "the rows read were deleted";
  auto verified = tool({"verify"});
  EXPECT_EQ(verified.exit_code, 0) << verified.out;
  // The repairs themselves queue nothing: the next plain sweep has nothing to do.
  auto idle = json_of({"sweep"});
  EXPECT_EQ(idle["queue"]["contacts"], 0) << idle.dump();
  EXPECT_TRUE(idle["repaired"].empty()) << idle.dump();
}

TEST_P(Queue, ATableWithoutItsTriggerIsCheckedInFull) {
  install_and_sweep();
  exec(fmt::format("DROP TRIGGER {}", db::quote_identifier(prefix() + "gdpr_q_i_page_hits")));
  exec(
      fmt::format("INSERT INTO {} (lead_id, date_hit, code, tracking_id, url) VALUES ({}, "
                  "UTC_TIMESTAMP(), 200, 't', 'https://example.org/untriggered')",
                  quoted("page_hits"), left_));
  EXPECT_EQ(queued(), 0);
  auto sweep = json_of({"sweep"});
  EXPECT_EQ(sweep["queue"]["used"], true);
  EXPECT_EQ(sweep["repaired"]["page_hits"], 1) << sweep.dump();
  EXPECT_EQ(tool({"verify"}).exit_code, 0);
}

TEST_P(Queue, AQueuedWriteIsCheckedInTheTableItWentToAndTheFullPassChecksTheRest) {
  install_and_sweep();
  // A write no trigger saw (made as mautic-gdpr's own connection would be): page_hits.
  exec("SET @mautic_gdpr_writer = 1");
  exec(fmt::format("UPDATE {} SET url = 'https://example.org/unseen' WHERE lead_id = {} ORDER BY "
                   "id LIMIT 1",
                   quoted("page_hits"), left_));
  exec("SET @mautic_gdpr_writer = NULL");
  // A late open the trigger queues with its table.
  exec(fmt::format("UPDATE {} SET open_details = 'a:1:{{s:9:\"useragent\";s:4:\"late\";}}' "
                   "WHERE lead_id = {} ORDER BY id LIMIT 1",
                   quoted("email_stats"), left_));
  EXPECT_EQ(value_of(fmt::format("SELECT GROUP_CONCAT(location_table) FROM {}",
                                 quoted("gdpr_dirty"))),
            "email_stats");
  auto sweep = json_of({"sweep"});
  EXPECT_EQ(sweep["queue"]["contacts"], 1) << sweep.dump();
  EXPECT_EQ(sweep["repaired"], nlohmann::json({{"email_stats", 1}}))
      << "the contact is checked where the write went, not in every table: " << sweep.dump();
  EXPECT_EQ(tool({"verify"}).exit_code, 1) << "the unseen write is still there";
  auto full = json_of({"sweep", "--full-pass"});
  EXPECT_EQ(full["repaired"]["page_hits"], 1) << full.dump();
  EXPECT_EQ(tool({"verify"}).exit_code, 0);

  // Rows queued without a table (by processing, or by the triggers of an older version) are
  // checked in every covered table.
  exec(fmt::format("UPDATE {} SET url = 'https://example.org/unseen-again' WHERE lead_id = {} "
                   "ORDER BY id LIMIT 1",
                   quoted("page_hits"), left_));
  exec(fmt::format("DELETE FROM {}", quoted("gdpr_dirty")));
  exec(fmt::format("INSERT INTO {} (contact_id) VALUES ({})", quoted("gdpr_dirty"), left_));
  sweep = json_of({"sweep"});
  EXPECT_EQ(sweep["repaired"]["page_hits"], 1) << sweep.dump();
  EXPECT_EQ(tool({"verify"}).exit_code, 0);
}

TEST_P(Queue, AContactThatCameBackIsNotTouchedThroughTheQueue) {
  install_and_sweep();
  // A write queued while the contact was processed, then the contact resubscribes.
  exec(fmt::format("UPDATE {} SET firstname = 'Before' WHERE id = {}", quoted("leads"), left_));
  EXPECT_EQ(queued(), 1);
  exec(fmt::format("DELETE FROM {} WHERE lead_id = {}", quoted("lead_donotcontact"), left_));
  exec(fmt::format("UPDATE {} SET firstname = 'Back' WHERE id = {}", quoted("leads"), left_));
  auto sweep = json_of({"sweep"});
  EXPECT_EQ(sweep["returned"], 1);
  EXPECT_EQ(value_of(fmt::format("SELECT firstname FROM {} WHERE id = {}", quoted("leads"), left_)),
            "Back");
  EXPECT_EQ(queued(), 0);
}

INSTANTIATE_TEST_SUITE_P(Prefixes, Queue, ::testing::Values("", "mq_"), prefix_name);

}  // namespace
}  // namespace mgdpr::testing
