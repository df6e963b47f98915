// SPDX-License-Identifier: GPL-3.0-or-later
#include "mautic/location_rows.h"

#include <gtest/gtest.h>

#include "schema_builders.h"

namespace mgdpr::mautic {
namespace {

using schema_builders::column;

Schema small_schema(std::string prefix = "mt_") {
  return Schema::from_tables(
      std::move(prefix),
      {{"leads", {column("id"), column("email", "varchar")}},
       {"page_hits", {column("id"), column("lead_id"), column("ip_id"), column("url", "longtext")}},
       {"email_stats", {column("id"), column("lead_id")}},
       {"email_stats_devices", {column("id"), column("stat_id"), column("ip_id")}},
       {"audit_log", {column("id"), column("object", "varchar"), column("object_id")}},
       {"form_submissions", {column("id"), column("lead_id")}},
       {"form_results_3_contact",
        {column("submission_id"), column("form_id"), column("email", "longtext")}},
       {"form_results_12_x_y", {column("submission_id"), column("form_id")}},
       {"form_resultsx", {column("id")}},
       {"lead_notes", {column("id"), column("lead_id")}},
       {"email_copies", {column("id", "varchar"), column("body", "longtext")}},
       {"gdpr_contacts", {column("contact_id")}},
       {"contact_merge_records", {column("contact_id"), column("merged_id")}}});
}

TEST(LocationRows, ContactColumn) {
  const int64_t ids[] = {7, 9};
  auto rows =
      rows_of(*find_location("page_hits"), "page_hits", small_schema(), ContactSet::of(ids));
  EXPECT_EQ(rows.from, "`mt_page_hits` t");
  EXPECT_EQ(rows.where, "t.`lead_id` IN (?, ?)");
  ASSERT_EQ(rows.params.size(), 2u);
  EXPECT_EQ(std::get<int64_t>(rows.params[1]), 9);
}

TEST(LocationRows, ParentRowJoinsTheParentTable) {
  const int64_t ids[] = {7};
  auto rows = rows_of(*find_location("email_stats_devices"), "email_stats_devices", small_schema(),
                      ContactSet::of(ids));
  EXPECT_EQ(rows.from,
            "`mt_email_stats_devices` t JOIN `mt_email_stats` parent ON parent.`id` = "
            "t.`stat_id`");
  EXPECT_EQ(rows.where, "parent.`lead_id` IN (?)");
}

TEST(LocationRows, KindConditionAndRangeAreBound) {
  const Schema schema = small_schema("");
  auto rows = rows_of(*find_location("audit_log"), "audit_log", schema,
                      ContactSet::processed(schema), {.column = "id", .above = 10, .up_to = 20});
  EXPECT_TRUE(
      rows.where.starts_with("t.`object_id` IN (SELECT g.contact_id FROM `gdpr_contacts` g "
                             "WHERE TRUE AND EXISTS (SELECT 1 FROM `lead_donotcontact` d "))
      << rows.where;
  EXPECT_TRUE(rows.where.ends_with(") AND t.`object` IN (?) AND t.`id` > ? AND t.`id` <= ?"))
      << rows.where;
  ASSERT_EQ(rows.params.size(), 3u);
  EXPECT_EQ(std::get<std::string>(rows.params[0]), "lead");
  EXPECT_EQ(std::get<int64_t>(rows.params[1]), 10);
  EXPECT_EQ(std::get<int64_t>(rows.params[2]), 20);
}

TEST(LocationRows, TimeRangeIsConvertedFromUnixTime) {
  const Schema schema = small_schema("");
  auto rows =
      rows_of(*find_location("page_hits"), "page_hits", schema, ContactSet::processed(schema),
              {.column = "date_hit", .above = 1700000000, .unix_time = true});
  EXPECT_TRUE(rows.where.ends_with("AND t.`date_hit` > FROM_UNIXTIME(?)")) << rows.where;
}

TEST(LocationRows, PayloadAndTextRowsCannotBeSelectedBySql) {
  const int64_t ids[] = {7};
  EXPECT_EQ(
      rows_of(*find_location("webhook_queue"), "webhook_queue", small_schema(), ContactSet::of(ids))
          .where,
      "FALSE");
  EXPECT_EQ(
      rows_of(*find_location("webhook_logs"), "webhook_logs", small_schema(), ContactSet::of(ids))
          .where,
      "FALSE");
}

TEST(LocationRows, TextRowsAreFoundByTheExactAddress) {
  const std::string addresses[] = {"a@example.org", "b@example.org"};
  auto rows =
      rows_naming(*find_location("webhook_logs"), "webhook_logs", small_schema(), addresses);
  EXPECT_EQ(rows.from, "`mt_webhook_logs` t");
  EXPECT_EQ(rows.where, "(LOCATE(?, t.`note`) > 0 OR LOCATE(?, t.`note`) > 0)");
  ASSERT_EQ(rows.params.size(), 2u);
  EXPECT_EQ(std::get<std::string>(rows.params[1]), "b@example.org");
  EXPECT_EQ(rows_naming(*find_location("webhook_logs"), "webhook_logs", small_schema(), {}).where,
            "FALSE");
}

TEST(LocationRows, RowsOfDeletedContacts) {
  const Schema schema = small_schema("");
  // Mautic set the link to NULL (ON DELETE SET NULL), directly or on the parent row.
  EXPECT_EQ(rows_of(*find_location("page_hits"), "page_hits", schema, ContactSet::unlinked()).where,
            "t.`lead_id` IS NULL");
  EXPECT_EQ(rows_of(*find_location("email_stats_devices"), "email_stats_devices", schema,
                    ContactSet::unlinked())
                .where,
            "parent.`lead_id` IS NULL");
  // The id stayed, its contact is gone (and was not merged into another contact).
  auto gone = rows_of(*find_location("audit_log"), "audit_log", schema, ContactSet::gone());
  EXPECT_EQ(gone.where,
            "t.`object_id` IS NOT NULL AND NOT EXISTS (SELECT 1 FROM `leads` c WHERE c.id = "
            "t.`object_id`) AND NOT EXISTS (SELECT 1 FROM `contact_merge_records` m WHERE "
            "m.merged_id = t.`object_id`) AND t.`object` IN (?)");
  ASSERT_EQ(gone.params.size(), 1u);
  // A child whose parent row is gone: no join, the parent must not exist.
  auto notes = rows_of(*find_location("audit_log_notes"), "audit_log", schema, ContactSet::gone());
  EXPECT_EQ(notes.from, "`audit_log` t");
  EXPECT_EQ(notes.where,
            "t.`object_id` IS NOT NULL AND NOT EXISTS (SELECT 1 FROM `lead_notes` parent WHERE "
            "parent.`id` = t.`object_id`) AND t.`object` IN (?)");
  EXPECT_EQ(std::get<std::string>(notes.params[0]), "note");
}

TEST(LocationRows, ParentRowByAnotherKeyAndOnlyParentsWithoutAColumn) {
  const int64_t ids[] = {7};
  auto copies = rows_of(*find_location("email_copies"), "email_copies", small_schema(""),
                        ContactSet::of(ids));
  EXPECT_EQ(copies.from, "`email_copies` t JOIN `email_stats` parent ON parent.`copy_id` = t.`id`");
  EXPECT_EQ(copies.where, "parent.`lead_id` IN (?) AND parent.`email_id` IS NULL");
}

TEST(LocationRows, RecordNames) {
  EXPECT_EQ(record_name(*find_location("audit_log_notes"), "audit_log"), "audit_log_notes");
  EXPECT_EQ(record_name(*find_location("page_hits"), "page_hits"), "page_hits");
  EXPECT_EQ(record_name(*find_location("form_results"), "form_results_3_x"), "form_results_3_x");
}

TEST(LocationRows, TableToLocationIsTheInverse) {
  EXPECT_EQ(location_of_table("page_hits"), find_location("page_hits"));
  EXPECT_EQ(location_of_table("form_results_3_contact"), find_location("form_results"));
  EXPECT_EQ(location_of_table("form_results_12_x_y"), find_location("form_results"));
  EXPECT_EQ(location_of_table("form_resultsx"), nullptr);
  EXPECT_EQ(location_of_table("form_results__x"), nullptr);
  EXPECT_EQ(location_of_table("form_results_x_1"), nullptr);
  EXPECT_EQ(location_of_table("companies"), nullptr);
  EXPECT_EQ(location_of_table("audit_log"), find_location("audit_log"));  // the first of two
  // Every location's own tables map back to it (or to the first location of a shared table).
  const Schema schema = small_schema();
  for (const Location& location : pii_locations()) {
    for (const auto& table : tables_of(location, schema)) {
      EXPECT_EQ(location_of_table(table)->named_table(), location.named_table()) << table;
    }
  }
}

TEST(LocationRows, FormResultsTablesExistOnlyWithTheirSubmissions) {
  const Location& form_results = *find_location("form_results");
  EXPECT_EQ(tables_of(form_results, small_schema()),
            (std::vector<std::string>{"form_results_12_x_y", "form_results_3_contact"}));
  auto without = Schema::from_tables("", {{"form_results_3_contact", {column("submission_id")}}});
  EXPECT_TRUE(tables_of(form_results, without).empty());
  EXPECT_TRUE(tables_of(*find_location("video_hits"), small_schema()).empty());
}

}  // namespace
}  // namespace mgdpr::mautic
