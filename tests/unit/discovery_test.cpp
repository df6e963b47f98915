// SPDX-License-Identifier: GPL-3.0-or-later
#include "mautic/discovery.h"

#include <gtest/gtest.h>

#include "schema_builders.h"

namespace mgdpr::mautic {
namespace {

using schema_builders::column;
using schema_builders::with_comment;

Config config_of(std::string_view text) {
  auto config = parse_config(text, "config.toml");
  EXPECT_TRUE(config.ok()) << config.error().message;
  return config.ok() ? *config : Config{};
}

Schema plugin_schema() {
  return Schema::from_tables(
      "mt_",
      {{"leads", {column("id"), column("email", "varchar")}},
       {"page_hits", {column("id"), column("lead_id")}},       // a location
       {"campaign_leads", {column("lead_id")}},                // left alone, with its reason
       {"users", {column("id"), column("email", "varchar")}},  // left alone
       {"gdpr_contacts", {column("contact_id")}},              // mautic-gdpr's own
       {"plugin_survey",
        {column("id"), column("respondent"), column("work_email", "varchar"),
         with_comment(column("answers", "longtext"), "(DC2Type:json)"), column("score")},
        {{.column = "respondent",
          .referenced_table = "leads",
          .referenced_column = "id",
          .on_delete = "SET NULL"}}},
       {"plugin_visits",
        {column("id"), column("contact_id"),
         with_comment(column("meta", "longtext"), "(DC2Type:array)")}},
       {"plugin_log", {column("id"), column("client_ip", "varchar"), column("user_agent", "text")}},
       {"plugin_settings", {column("id"), column("name", "varchar")}},
       {"plugin_counts", {column("id"), column("total")}}});
}

TEST(Discovery, ReportsWhatNoLocationCovers) {
  const Schema schema = plugin_schema();
  const Config config = config_of("[discovery]\nignore = [\"plugin_settings\"]\n");
  const auto report = discover(schema, build_related_plan(config, schema), config);
  std::vector<std::string> tables;
  for (const auto& found : report.tables) tables.push_back(found.table);
  EXPECT_EQ(tables, (std::vector<std::string>{"plugin_log", "plugin_survey", "plugin_visits"}));

  const DiscoveredTable& survey = report.tables[1];
  EXPECT_EQ(survey.contact_columns, std::vector<std::string>{"respondent"});  // the foreign key
  EXPECT_EQ(survey.personal_columns, (std::vector<std::string>{"work_email", "answers"}));
  EXPECT_EQ(survey.config_block,
            "[[related.extra]]\ntable = \"plugin_survey\"\nlink_column = \"respondent\"\n"
            "action = \"scrub\"    # or \"delete\": nothing statistical to keep\n"
            "columns = { work_email = \"clear\", answers = \"json\" }   # kinds: clear, "
            "php-serialized, json\n");
  EXPECT_EQ(survey.summary(),
            "table `plugin_survey` references contacts (respondent) and looks personal "
            "(work_email, answers); no location covers it");
  EXPECT_EQ(report.tables[2].kinds, std::vector<std::string>{"php-serialized"});

  // No contact column: the block to paste is the reviewed-as-not-personal line.
  const std::string& log = report.tables[0].config_block;
  EXPECT_NE(log.find("[discovery]\nignore = [\"plugin_log\"]\n"), std::string::npos) << log;
  EXPECT_NE(log.find("#   columns = { client_ip = \"clear\", user_agent = \"clear\" }"),
            std::string::npos)
      << log;
}

TEST(Discovery, DeclaredTablesAreCovered) {
  const Schema schema = plugin_schema();
  const Config config = config_of(
      "[[related.extra]]\ntable = \"plugin_visits\"\nlink_column = \"contact_id\"\n"
      "columns = { meta = \"php-serialized\" }\n");
  const auto plan = build_related_plan(config, schema);
  ASSERT_TRUE(plan.problems.empty()) << plan.problems.front();
  for (const auto& found : discover(schema, plan, config).tables) {
    EXPECT_NE(found.table, "plugin_visits");
  }
}

}  // namespace
}  // namespace mgdpr::mautic
