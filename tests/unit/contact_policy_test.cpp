// SPDX-License-Identifier: GPL-3.0-or-later
// The policy resolved against a schema written out as data (no server): generalizers on every
// Mautic field type, accepted where they fit and refused at their config line elsewhere.
#include "mautic/contact_policy.h"

#include <gtest/gtest.h>

#include <set>

namespace mgdpr::mautic {
namespace {

// A leads table with one nullable column per Mautic field type, named f_<type>, of the column
// type Mautic 5.1 creates for it; with_required adds a NOT NULL text field, f_required.
Schema every_field_type(bool with_required = false) {
  std::vector<ColumnInfo> columns = {
      {.name = "id", .data_type = "bigint", .nullable = false},
      {.name = "email", .data_type = "varchar", .column_type = "varchar(191)", .max_length = 191}};
  std::vector<ContactField> fields = {{.alias = "email", .type = "email"}};
  for (std::string_view type : mautic_field_types()) {
    const bool text = type != "number" && type != "date" && type != "datetime" && type != "time" &&
                      type != "boolean";
    columns.push_back(
        {.name = fmt::format("f_{}", type),
         .data_type = text ? "varchar" : std::string(type == "number" ? "double" : type),
         .column_type = text ? "varchar(191)" : std::string(type),
         .max_length = text ? std::optional<int64_t>(191) : std::nullopt});
    fields.push_back({.alias = fmt::format("f_{}", type), .type = std::string(type)});
  }
  if (with_required) {
    columns.push_back({.name = "f_required",
                       .data_type = "varchar",
                       .column_type = "varchar(191)",
                       .max_length = 191,
                       .nullable = false});
    fields.push_back({.alias = "f_required", .type = "text"});
  }
  return Schema::from_tables("", {{"leads", columns}, {"lead_fields", {}}}, fields);
}

Config config_with(const std::string& fields) {
  auto config = parse_config("[policy.fields]\nemail = \"hash\"\n" + fields, "config.toml");
  EXPECT_TRUE(config.ok()) << config.error().message;
  return config.ok() ? *config : Config{};
}

TEST(ContactPolicyTest, EveryGeneralizerOnEveryFieldType) {
  const Schema schema = every_field_type();
  for (std::string_view word : {"year", "month", "prefix:3", "bucket:10", "domain"}) {
    const Generalizer generalizer = *parse_generalizer(word, "f");
    for (std::string_view type : mautic_field_types()) {
      SCOPED_TRACE(fmt::format("{} on {}", word, type));
      const std::string alias = fmt::format("f_{}", type);
      const ContactPolicy policy =
          build_contact_policy(config_with(fmt::format("{} = \"{}\"\n", alias, word)), schema);
      if (accepts_field_type(generalizer.kind, type)) {
        EXPECT_TRUE(policy.problems.empty()) << policy.problems.front();
        const ColumnPlan* plan = policy.find(alias);
        ASSERT_NE(plan, nullptr);
        EXPECT_EQ(plan->action, Action::kGeneralize);
        EXPECT_EQ(plan->action_text(), word);
        EXPECT_EQ(plan->origin, "policy.fields");
        EXPECT_NE(std::find(policy.computed().begin(), policy.computed().end(), plan),
                  policy.computed().end());
        continue;
      }
      ASSERT_EQ(policy.problems.size(), 1u);
      const std::string& problem = policy.problems.front();
      EXPECT_EQ(
          problem.rfind(fmt::format("config.toml:3: `{}` is a {} field and {} applies to {}; ",
                                    alias, type, word, accepted_field_types(generalizer.kind)),
                        0),
          0u)
          << problem;
      const std::string fitting = generalizers_for_field_type(type);
      EXPECT_NE(problem.find(fitting.empty() ? fmt::format("no generalizer fits a {} field", type)
                                             : fmt::format("write {} = {}", alias, fitting)),
                std::string::npos)
          << problem;
    }
  }
}

TEST(ContactPolicyTest, GeneralizerOnANotNullColumnIsRefused) {
  const ContactPolicy policy =
      build_contact_policy(config_with("f_required = \"prefix:2\"\n"), every_field_type(true));
  ASSERT_EQ(policy.problems.size(), 1u);
  EXPECT_NE(policy.problems[0].find("config.toml:3: column `leads`.`f_required` is NOT NULL"),
            std::string::npos)
      << policy.problems[0];
}

TEST(ContactPolicyTest, GeneralizersAreInTheFingerprintAndComputedInOrder) {
  const Schema schema = every_field_type();
  const ContactPolicy year = build_contact_policy(config_with("f_date = \"year\"\n"), schema);
  const ContactPolicy month = build_contact_policy(config_with("f_date = \"month\"\n"), schema);
  const ContactPolicy deleted = build_contact_policy(config_with(""), schema);
  EXPECT_NE(year.fingerprint, month.fingerprint);
  EXPECT_NE(year.fingerprint, deleted.fingerprint);
  const ContactPolicy both =
      build_contact_policy(config_with("f_number = \"bucket:5\"\nf_tel = \"hash\"\n"), schema);
  std::vector<std::string> computed;
  for (const ColumnPlan* plan : both.computed()) computed.push_back(plan->column);
  EXPECT_EQ(computed, (std::vector<std::string>{"email", "f_number", "f_tel"}));
}

}  // namespace
}  // namespace mgdpr::mautic
