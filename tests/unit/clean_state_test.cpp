// SPDX-License-Identifier: GPL-3.0-or-later
#include "mautic/clean_state.h"

#include <gtest/gtest.h>

#include "schema_builders.h"

namespace mgdpr::mautic {
namespace {

using schema_builders::column;
using schema_builders::not_null;

Schema schema() {
  return Schema::from_tables(
      "", {{"email_stats",
            {not_null(column("id", "bigint")), column("lead_id", "bigint"), column("ip_id", "int"),
             not_null(column("email_address", "varchar")), column("tokens", "longtext"),
             column("open_details", "longtext"), column("tracking_hash", "varchar")}},
           {"lead_notes", {not_null(column("id", "int")), column("lead_id", "bigint")}},
           {"form_results_1_a",
            {not_null(column("submission_id", "int")), not_null(column("form_id", "int")),
             column("email", "longtext"), not_null(column("count", "int"))}}});
}

LocationPlan plan_for(std::string_view name, RowAction action) {
  return {.location = find_location(name), .action = action, .origin = "default"};
}

TEST(CleanState, ScrubLocationChecksEachPersonalColumnByContent) {
  const auto check = clean_check(plan_for("email_stats", RowAction::kScrub), "email_stats",
                                 schema(), std::nullopt);
  std::vector<std::string> columns;
  for (const auto& [name, condition] : check.plain) columns.push_back(name);
  EXPECT_EQ(columns, (std::vector<std::string>{"email_address", "tracking_hash", "ip_id"}));
  EXPECT_EQ(check.plain[0].second, "t.`email_address` <> ''");  // NOT NULL: cleared to ''
  EXPECT_EQ(check.plain[1].second, "t.`tracking_hash` IS NOT NULL");
  EXPECT_EQ(check.plain[2].second, "t.ip_id IS NOT NULL");
  EXPECT_TRUE(check.plain_params.empty());
  ASSERT_EQ(check.structured.size(), 2u);  // tokens, open_details
  EXPECT_NE(check.candidate.find("UNHEX(SHA2(t.`tokens`, 256))"), std::string::npos);
  EXPECT_NE(check.candidate.find("`gdpr_clean_values`"), std::string::npos);
  EXPECT_NE(check.any_sql().find(" OR "), std::string::npos);
}

TEST(CleanState, PlaceholderAddressCountsAsUnset) {
  const auto check =
      clean_check(plan_for("email_stats", RowAction::kScrub), "email_stats", schema(), 42);
  EXPECT_EQ(check.plain.back().second, "t.ip_id IS NOT NULL AND t.ip_id <> ?");
  ASSERT_EQ(check.plain_params.size(), 1u);
  EXPECT_EQ(std::get<int64_t>(check.plain_params[0]), 42);
}

TEST(CleanState, DeleteLocationIsCleanOnlyWithoutRows) {
  const auto check =
      clean_check(plan_for("lead_notes", RowAction::kDelete), "lead_notes", schema(), std::nullopt);
  ASSERT_EQ(check.plain.size(), 1u);
  EXPECT_EQ(check.plain[0].second, "TRUE");
  EXPECT_EQ(check.any_sql(), "(TRUE)");
}

TEST(CleanState, FormAnswersAreEveryColumnButTheMeta) {
  const auto check = clean_check(plan_for("form_results", RowAction::kScrub), "form_results_1_a",
                                 schema(), std::nullopt);
  ASSERT_EQ(check.plain.size(), 1u);  // `count` is NOT NULL and not text: nothing to clear
  EXPECT_EQ(check.plain[0].first, "email");
  EXPECT_TRUE(check.candidate.empty());
}

TEST(CleanState, ProfileHashedColumnsHoldDigestsAndDeletedOnesNothing) {
  ContactPolicy policy;
  policy.columns = {{.column = "email", .action = Action::kHash},
                    {.column = "firstname", .action = Action::kDelete},
                    {.column = "country", .action = Action::kKeep}};
  auto dirty = profile_dirty(policy);
  ASSERT_EQ(dirty.size(), 2u);
  EXPECT_EQ(dirty[0].second,
            "l.`email` IS NOT NULL AND NOT (l.`email` REGEXP '(?-i)^[0-9a-f]{64}$')");
  EXPECT_EQ(dirty[1].second, "l.`firstname` IS NOT NULL");
}

// A value recorded as clean must be a fixed point of scrubbing, or the content check and the
// repair would disagree.
TEST(CleanState, ScrubbingIsIdempotent) {
  const ColumnRule php{"tokens", ColumnScrub::kPhpSerialized};
  const ColumnRule json{"properties", ColumnScrub::kJson};
  const ColumnInfo nullable = column("v", "longtext");
  const ColumnInfo required = not_null(column("v", "longtext"));
  const std::vector<std::pair<const ColumnRule*, std::string>> values = {
      {&php, "a:2:{s:5:\"email\";s:11:\"a@b.example\";s:1:\"n\";i:3;}"},
      {&php,
       "a:1:{i:0;a:2:{s:8:\"datetime\";s:19:\"2025-05-05 05:05:05\";s:9:\"useragent\";"
       "s:3:\"Bot\";}}"},
      {&php, "not serialized"},
      {&php, ""},
      {&json, "{\"row\":{\"email\":\"a@b.example\",\"n\":[1,\"x\"]}}"},
      {&json, "[not json"},
  };
  for (const auto& [rule, value] : values) {
    for (const ColumnInfo* info : {&nullable, &required}) {
      auto once = scrubbed_value(*rule, *info, value);
      if (!once) continue;  // cleared to NULL: nothing left to scrub
      EXPECT_EQ(scrubbed_value(*rule, *info, *once), once) << value;
      EXPECT_EQ(once->find("a@b.example"), std::string::npos) << value;
    }
  }
}

}  // namespace
}  // namespace mgdpr::mautic
