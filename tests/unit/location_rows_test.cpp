// SPDX-License-Identifier: GPL-3.0-or-later
#include "mautic/location_rows.h"

#include <gtest/gtest.h>

namespace mgdpr::mautic {
namespace {

ColumnInfo column(std::string name, std::string type = "bigint") {
  return {.name = std::move(name), .data_type = std::move(type)};
}

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
       {"gdpr_contacts", {column("contact_id")}}});
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
            "`mt_email_stats_devices` t JOIN `mt_email_stats` parent ON parent.id = "
            "t.`stat_id`");
  EXPECT_EQ(rows.where, "parent.`lead_id` IN (?)");
}

TEST(LocationRows, KindConditionAndRangeAreBound) {
  const Schema schema = small_schema("");
  auto rows = rows_of(*find_location("audit_log"), "audit_log", schema,
                      ContactSet::processed(schema), {.column = "id", .above = 10, .up_to = 20});
  EXPECT_TRUE(rows.where.starts_with("t.`object_id` IN (SELECT g.contact_id FROM `gdpr_contacts` g "
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
  auto rows = rows_naming(*find_location("webhook_logs"), "webhook_logs", small_schema(),
                          addresses);
  EXPECT_EQ(rows.from, "`mt_webhook_logs` t");
  EXPECT_EQ(rows.where, "(LOCATE(?, t.`note`) > 0 OR LOCATE(?, t.`note`) > 0)");
  ASSERT_EQ(rows.params.size(), 2u);
  EXPECT_EQ(std::get<std::string>(rows.params[1]), "b@example.org");
  EXPECT_EQ(rows_naming(*find_location("webhook_logs"), "webhook_logs", small_schema(), {}).where,
            "FALSE");
}

TEST(LocationRows, TableToLocationIsTheInverse) {
  EXPECT_EQ(location_of_table("page_hits"), find_location("page_hits"));
  EXPECT_EQ(location_of_table("form_results_3_contact"), find_location("form_results"));
  EXPECT_EQ(location_of_table("form_results_12_x_y"), find_location("form_results"));
  EXPECT_EQ(location_of_table("form_resultsx"), nullptr);
  EXPECT_EQ(location_of_table("form_results__x"), nullptr);
  EXPECT_EQ(location_of_table("form_results_x_1"), nullptr);
  EXPECT_EQ(location_of_table("companies"), nullptr);
  // Every location's own tables map back to it.
  const Schema schema = small_schema();
  for (const Location& location : pii_locations()) {
    for (const auto& table : tables_of(location, schema)) {
      EXPECT_EQ(location_of_table(table), &location) << table;
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
