// SPDX-License-Identifier: GPL-3.0-or-later
#include "mautic/related_plan.h"

#include <gtest/gtest.h>

namespace mgdpr::mautic {
namespace {

ColumnInfo column(std::string name, std::string type = "bigint") {
  return {.name = std::move(name), .data_type = std::move(type)};
}

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

}  // namespace
}  // namespace mgdpr::mautic
