// SPDX-License-Identifier: GPL-3.0-or-later
#include "mautic/change_queue.h"

#include <gtest/gtest.h>

#include "schema_builders.h"

namespace mgdpr::mautic {
namespace {

using schema_builders::column;

const std::string kLongForm = "form_results_123456_a_very_long_form_alias_that_goes_on_and_on";

Schema small_schema() {
  return Schema::from_tables(
      "mt_",
      {{"leads", {column("id"), column("email", "varchar")}},
       {"lead_donotcontact", {column("id"), column("lead_id"), column("comments", "longtext")}},
       {"email_stats", {column("id"), column("lead_id")}},
       {"email_stats_devices", {column("id"), column("stat_id"), column("ip_id")}},
       {"audit_log", {column("id"), column("object", "varchar"), column("object_id")}},
       {"form_submissions", {column("id"), column("lead_id")}},
       {kLongForm, {column("submission_id"), column("form_id"), column("email", "longtext")}},
       {"webhook_queue", {column("id"), column("payload", "longtext")}},
       {"gdpr_contacts", {column("contact_id")}}});
}

const QueueTrigger* find(const std::vector<QueueTrigger>& triggers, std::string_view table,
                         std::string_view event) {
  for (const auto& trigger : triggers) {
    if (trigger.table == table && trigger.event == event) return &trigger;
  }
  return nullptr;
}

TEST(ChangeQueue, OneInsertAndOneUpdateTriggerPerTableThatCarriesAContact) {
  const auto triggers = queue_triggers(small_schema());
  for (std::string_view table : {"leads", "lead_donotcontact", "email_stats", "email_stats_devices",
                                 "audit_log", "form_submissions"}) {
    EXPECT_NE(find(triggers, table, "INSERT"), nullptr) << table;
    EXPECT_NE(find(triggers, table, "UPDATE"), nullptr) << table;
  }
  EXPECT_NE(find(triggers, kLongForm, "INSERT"), nullptr);
  EXPECT_EQ(find(triggers, "webhook_queue", "INSERT"), nullptr) << "no column names the contact";
  EXPECT_EQ(unqueueable_tables(small_schema()), std::vector<std::string>{"webhook_queue"});
}

TEST(ChangeQueue, BodiesQueueOnlyProcessedContactsAndNeverWriteMauticsRows) {
  const auto triggers = queue_triggers(small_schema());
  const auto* stats = find(triggers, "email_stats", "UPDATE");
  ASSERT_NE(stats, nullptr);
  EXPECT_EQ(stats->name, "mt_gdpr_q_u_email_stats");
  EXPECT_EQ(stats->body,
            "INSERT INTO `mt_gdpr_dirty` (contact_id, location_table) SELECT g.contact_id, "
            "'email_stats' FROM `mt_gdpr_contacts` g WHERE g.contact_id = NEW.`lead_id` AND "
            "g.returned_at IS NULL AND @mautic_gdpr_writer IS NULL");
  const auto* audit = find(triggers, "audit_log", "INSERT");
  ASSERT_NE(audit, nullptr);
  EXPECT_TRUE(audit->body.ends_with(" AND NEW.`object` IN ('lead')")) << audit->body;
  const auto* devices = find(triggers, "email_stats_devices", "INSERT");
  ASSERT_NE(devices, nullptr);
  EXPECT_NE(devices->body.find("SELECT g.contact_id, 'email_stats_devices' FROM `mt_email_stats` "
                               "parent JOIN `mt_gdpr_contacts` g WHERE g.contact_id = "
                               "parent.`lead_id`"),
            std::string::npos)
      << "the write is queued with the table it went to: " << devices->body;
  EXPECT_TRUE(devices->body.ends_with(" AND parent.`id` = NEW.`stat_id`")) << devices->body;
  for (const auto& trigger : triggers) {
    EXPECT_TRUE(trigger.body.starts_with("INSERT INTO `mt_gdpr_dirty` ")) << trigger.body;
  }
}

TEST(ChangeQueue, LongTableNamesGiveDistinctNamesWithinMariaDbsLimit) {
  const auto triggers = queue_triggers(small_schema());
  const auto* insert = find(triggers, kLongForm, "INSERT");
  const auto* update = find(triggers, kLongForm, "UPDATE");
  ASSERT_NE(insert, nullptr);
  ASSERT_NE(update, nullptr);
  EXPECT_LE(insert->name.size(), 64u);
  EXPECT_TRUE(insert->name.starts_with("mt_gdpr_q_i_form_results_123456")) << insert->name;
  EXPECT_NE(insert->name, update->name);
}

TEST(ChangeQueue, TriggerErrorsNameTheFix) {
  const Schema schema = small_schema();
  auto denied =
      explain_trigger_error(Error{"TRIGGER command denied", ErrorKind::kDatabase, 1142}, schema);
  EXPECT_EQ(denied.kind, ErrorKind::kConfig);
  EXPECT_NE(denied.message.find("GRANT TRIGGER ON `mautic`.*"), std::string::npos);
  auto binlog = explain_trigger_error(
      Error{"You do not have the SUPER privilege and binary logging is enabled",
            ErrorKind::kDatabase, 1419},
      schema);
  EXPECT_NE(binlog.message.find("log_bin_trust_function_creators = 1"), std::string::npos);
  auto other = explain_trigger_error(Error{"gone away", ErrorKind::kDatabase, 2006}, schema);
  EXPECT_EQ(other.kind, ErrorKind::kDatabase);
}

}  // namespace
}  // namespace mgdpr::mautic
