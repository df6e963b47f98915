// SPDX-License-Identifier: GPL-3.0-or-later
#include <gtest/gtest.h>

#include "mautic/contact_policy.h"

namespace mgdpr::mautic {
namespace {

ColumnInfo text_column(std::string name, int64_t length = 191) {
  return {.name = std::move(name),
          .data_type = "varchar",
          .column_type = fmt::format("varchar({})", length),
          .max_length = length};
}

// A 5.x-like leads table with Mautic's bookkeeping, two fields (one whose alias differs in
// case from its column), and columns no lead_fields row describes.
Schema leads_with_plugin_columns() {
  ColumnInfo id{.name = "id", .data_type = "bigint", .nullable = false};
  ColumnInfo required = text_column("plugin_required");
  required.nullable = false;
  ColumnInfo with_default = text_column("plugin_flag", 8);
  with_default.nullable = false;
  with_default.has_default = true;
  ColumnInfo generated = text_column("plugin_domain");
  generated.generated = true;
  return Schema::from_tables(
      "",
      {{"leads",
        {id, text_column("date_modified"), text_column("email"), text_column("Nickname"),
         text_column("plugin_note"), text_column("uuid", 36), text_column("plugin_code"),
         text_column("owner_ref"), required, with_default, generated},
        {{.column = "owner_ref",
          .referenced_table = "users",
          .referenced_column = "id",
          .on_delete = "SET NULL"}},
        {{.columns = {"id"}, .unique = true}, {.columns = {"plugin_code"}, .unique = true}}}},
      {{.alias = "email", .type = "email"}, {.alias = "nickname", .type = "text"}});
}

Config config_of(std::string_view policy) {
  auto config = parse_config(
      std::string("[database]\npassword_env = \"PW\"\n") + std::string(policy), "config.toml");
  EXPECT_TRUE(config.ok()) << config.error().message;
  return config.ok() ? *config : Config{};
}

TEST(ContactPolicy, ColumnsNoFieldDescribesGetTheDefaultUnlessMauticNeedsThem) {
  const auto policy = build_contact_policy(
      config_of("[policy]\ndefault = \"hash\"\n[policy.fields]\nemail = \"hash\"\n"),
      leads_with_plugin_columns());
  EXPECT_TRUE(policy.problems.empty()) << policy.problems.front();
  auto plan_of = [&](std::string_view column) {
    const ColumnPlan* plan = policy.find(column);
    EXPECT_NE(plan, nullptr) << column;
    return plan != nullptr ? *plan : ColumnPlan{};
  };
  EXPECT_EQ(policy.find("date_modified"), nullptr);  // Mautic's bookkeeping, not listed
  // The alias differs in case from its column: still that field.
  EXPECT_FALSE(plan_of("Nickname").unknown);
  EXPECT_EQ(plan_of("Nickname").field_type, "text");
  EXPECT_TRUE(plan_of("plugin_note").unknown);
  EXPECT_EQ(plan_of("plugin_note").action, Action::kHash);
  // Kept, each with its reason.
  EXPECT_EQ(plan_of("uuid").action, Action::kKeep);
  EXPECT_NE(plan_of("uuid").origin.find("identifier"), std::string::npos);
  EXPECT_NE(plan_of("plugin_code").origin.find("unique key"), std::string::npos);
  EXPECT_NE(plan_of("owner_ref").origin.find("foreign key"), std::string::npos);
  EXPECT_NE(plan_of("plugin_required").origin.find("NOT NULL without a default"),
            std::string::npos);
  EXPECT_NE(plan_of("plugin_domain").origin.find("generated"), std::string::npos);
  // NOT NULL with a default: reset to it; a hash does not fit 8 characters.
  EXPECT_EQ(plan_of("plugin_flag").action, Action::kDelete);
  EXPECT_EQ(plan_of("plugin_flag").cleared("l.`plugin_flag`"), "DEFAULT(l.`plugin_flag`)");
}

TEST(ContactPolicy, UnknownColumnsCanBeNamedByColumnName) {
  auto policy = build_contact_policy(
      config_of("[policy.fields]\nemail = \"hash\"\nPLUGIN_NOTE = \"keep\"\nuuid = \"delete\"\n"
                "date_modified = \"delete\"\n"),
      leads_with_plugin_columns());
  EXPECT_EQ(policy.find("plugin_note")->action, Action::kKeep);
  EXPECT_EQ(policy.find("plugin_note")->origin, "policy.fields (no lead_fields row)");
  ASSERT_EQ(policy.problems.size(), 2u);
  EXPECT_NE(policy.problems[0].find("config.toml:6: column `uuid` is always kept"),
            std::string::npos)
      << policy.problems[0];
  EXPECT_NE(policy.problems[1].find("`date_modified` is Mautic's own column"), std::string::npos)
      << policy.problems[1];
}

}  // namespace
}  // namespace mgdpr::mautic
