// SPDX-License-Identifier: GPL-3.0-or-later
#include "mautic/related_plan.h"

#include <gtest/gtest.h>

#include "mautic/location_rows.h"
#include "schema_builders.h"

namespace mgdpr::mautic {
namespace {

using schema_builders::column;

Config config_with(std::string_view related) {
  auto config = parse_config(
      std::string("[database]\nname = \"mautic\"\npassword_env = \"PW\"\n\n[related]\n") +
          std::string(related),
      "config.toml");
  EXPECT_TRUE(config.ok()) << config.error().message;
  return config.ok() ? *config : Config{};
}

const LocationPlan* planned(const RelatedPlan& plan, std::string_view name) {
  for (const auto& entry : plan.locations) {
    if (entry.location->name == name) return &entry;
  }
  return nullptr;
}

Schema mautic_like() {
  return Schema::from_tables(
      "", {{"leads", {column("id")}},
           {"page_hits", {column("id"), column("lead_id"), column("ip_id")}},
           {"lead_notes", {column("id"), column("lead_id")}},
           {"form_submissions", {column("id"), column("lead_id")}},
           {"form_results_1_contact", {column("submission_id"), column("form_id")}}});
}

TEST(RelatedPlan, DefaultsOverridesAndMissingTables) {
  auto plan = build_related_plan(config_with("page_hits = \"delete\"\n"), mautic_like());
  EXPECT_TRUE(plan.problems.empty());
  ASSERT_NE(planned(plan, "page_hits"), nullptr);
  EXPECT_EQ(planned(plan, "page_hits")->action, RowAction::kDelete);
  EXPECT_EQ(planned(plan, "page_hits")->origin, "config.toml:6");
  EXPECT_EQ(planned(plan, "lead_notes")->action, RowAction::kDelete);
  EXPECT_EQ(planned(plan, "lead_notes")->origin, "default");
  EXPECT_EQ(planned(plan, "form_results")->tables,
            std::vector<std::string>{"form_results_1_contact"});
  EXPECT_EQ(planned(plan, "video_hits"), nullptr);
  EXPECT_NE(std::find(plan.missing.begin(), plan.missing.end(), "video_hits"), plan.missing.end());
}

TEST(RelatedPlan, ProblemsNameTheLineAndNeverEchoTheValue) {
  auto plan = build_related_plan(
      config_with("page_hit = \"delete\"\nlead_notes = \"scrub\"\npage_hits = \"hunter2\"\n"),
      mautic_like());
  ASSERT_EQ(plan.problems.size(), 3u);
  auto has = [&](std::string_view text) {
    for (const auto& problem : plan.problems) {
      if (problem.find(text) != std::string::npos) return true;
    }
    return false;
  };
  EXPECT_TRUE(
      has("config.toml:8: the action of a location is \"scrub\", \"delete\" or \"keep\"; "
          "write page_hits = \"scrub\", \"delete\" or \"keep\""));
  EXPECT_TRUE(
      has("config.toml:6: `page_hit` is not a location mautic-gdpr knows; did you mean "
          "`page_hits`?"));
  EXPECT_TRUE(has("config.toml:7: `lead_notes` has nothing statistical to keep"));
  for (const auto& problem : plan.problems) EXPECT_EQ(problem.find("hunter2"), std::string::npos);
}

TEST(RelatedPlan, FormAnswersCanBeScrubbedExplicitly) {
  auto plan = build_related_plan(config_with("form_results = \"scrub\"\n"), mautic_like());
  EXPECT_TRUE(plan.problems.empty()) << plan.problems.front();
}

// A Custom-Objects-like plugin: values hang on items, items are linked to contacts.
Schema with_plugin() {
  return Schema::from_tables(
      "mt_", {{"leads", {column("id")}},
              {"custom_item_xref_contact",
               {column("id"), column("custom_item_id"), column("contact_id")},
               {{.column = "contact_id",
                 .referenced_table = "leads",
                 .referenced_column = "id",
                 .on_delete = "CASCADE"}}},
              {"custom_field_value_text",
               {column("id"), column("custom_item_id"), column("value", "longtext"),
                column("meta", "longtext")}},
              {"plugin_log", {column("log_id"), column("lead_id"), column("note", "text")}}});
}

TEST(RelatedPlan, DeclaredTablesJoinThePlanFirst) {
  auto plan = build_related_plan(
      config_with("\n[[related.extra]]\ntable = \"custom_field_value_text\"\n"
                  "link_column = \"custom_item_id\"\nparent = \"custom_item_xref_contact\"\n"
                  "parent_key = \"custom_item_id\"\nparent_contact_column = \"contact_id\"\n"
                  "columns = { value = \"clear\", meta = \"json\" }\n\n"
                  "[[related.extra]]\nname = \"plugin_notes\"\ntable = \"plugin_log\"\n"
                  "link_column = \"lead_id\"\naction = \"delete\"\n"),
      with_plugin());
  ASSERT_TRUE(plan.problems.empty()) << plan.problems.front();
  ASSERT_EQ(plan.declared.size(), 2u);
  const LocationPlan& values = plan.locations[0];
  EXPECT_TRUE(values.declared);
  EXPECT_EQ(values.origin, "config.toml:7");
  const Location& location = *values.location;
  EXPECT_EQ(location.name, "custom_field_value_text");
  EXPECT_EQ(location.link, Link::kParentRow);
  EXPECT_EQ(location.key_column, "id");
  ASSERT_EQ(location.columns.size(), 2u);
  for (const ColumnRule& rule : location.columns) {
    EXPECT_EQ(rule.scrub, rule.column == "meta" ? ColumnScrub::kJson : ColumnScrub::kClear);
  }
  // Mautic's delete cascades to the item's link: the values are found by their parent being gone.
  EXPECT_EQ(location.orphans, Orphans::kParentGone);
  const int64_t ids[] = {5};
  EXPECT_EQ(rows_of(location, "custom_field_value_text", with_plugin(), ContactSet::of(ids)).from,
            "`mt_custom_field_value_text` t JOIN `mt_custom_item_xref_contact` parent ON "
            "parent.`custom_item_id` = t.`custom_item_id`");
  const Location& notes = *plan.locations[1].location;
  EXPECT_EQ(notes.name, "plugin_notes");
  EXPECT_EQ(notes.default_action, RowAction::kDelete);
  EXPECT_EQ(notes.key_column, "");             // no integer id: only the full pass looks
  EXPECT_EQ(notes.orphans, Orphans::kIdKept);  // no foreign key
}

TEST(RelatedPlan, DeclaredTablesAreCheckedAgainstTheSchema) {
  auto plan = build_related_plan(
      config_with("page_hits = \"keep\"\n\n[[related.extra]]\ntable = \"plugin_logs\"\n"
                  "link_column = \"lead_id\"\n\n[[related.extra]]\ntable = \"plugin_log\"\n"
                  "link_column = \"lead\"\ncolumns = { nte = \"clear\", lead_id = \"clear\" }\n\n"
                  "[[related.extra]]\nname = \"page_hits\"\ntable = \"plugin_log\"\n"
                  "link_column = \"lead_id\"\n\n[[related.extra]]\ntable = \"plugin_log\"\n"
                  "link_column = \"lead_id\"\ncolumns = { note = \"json\" }\n"),
      with_plugin());
  auto has = [&](std::string_view text) {
    for (const auto& problem : plan.problems) {
      if (problem.find(text) != std::string::npos) return true;
    }
    return false;
  };
  EXPECT_TRUE(
      has("config.toml:9: there is no table `mt_plugin_logs` in database `mautic` "
          "(table_prefix \"mt_\" is added); did you mean `plugin_log`? write table = "
          "\"plugin_log\""));
  EXPECT_TRUE(
      has("config.toml:14: table `mt_plugin_log` has no column `lead`; its columns are "
          "log_id, lead_id, note"));
  EXPECT_TRUE(
      has("config.toml:15: table `mt_plugin_log` has no column `nte`; did you mean "
          "`note`?"));
  EXPECT_TRUE(has("config.toml:18: a location named `page_hits` exists already"));
  EXPECT_TRUE(has("config.toml:17: a scrubbed table needs its personal columns"));
  // No row id: a JSON value could not be found again to be rewritten.
  EXPECT_TRUE(
      has("config.toml:25: table `mt_plugin_log` has no integer `id` column, so its json "
          "values cannot be rewritten in place; write note = \"clear\" or action = "
          "\"delete\""));
  EXPECT_TRUE(plan.declared.empty());
}

}  // namespace
}  // namespace mgdpr::mautic
