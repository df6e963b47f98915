// SPDX-License-Identifier: GPL-3.0-or-later
#include "cli/commands.h"

#include <gtest/gtest.h>

#include <set>

namespace mgdpr::cli {
namespace {

TEST(Commands, NamesAreUniqueAndFindable) {
  std::set<std::string_view> names;
  for (const Command& command : commands()) {
    EXPECT_TRUE(names.insert(command.name).second) << command.name;
    EXPECT_EQ(find_command(command.name), &command);
    EXPECT_NE(command.run, nullptr) << command.name;
    EXPECT_NE(command.add_options, nullptr) << command.name;
  }
  EXPECT_EQ(find_command("sweeep"), nullptr);
}

TEST(Commands, OnlyTheCommandsThatChangeTheDatabaseOpenAWritingSession) {
  // Read-only commands must never create mautic-gdpr's tables or record a key; sweep and queue
  // (its triggers) change the database.
  for (const Command& command : commands()) {
    EXPECT_EQ(command.needs == Needs::kWriteSession,
              command.name == "sweep" || command.name == "queue")
        << command.name;
  }
  // status needs no hash key: a monitoring user can run it.
  EXPECT_EQ(find_command("status")->needs, Needs::kMonitorSession);
  EXPECT_EQ(find_command("lookup")->needs, Needs::kReadSession);
  EXPECT_EQ(find_command("keygen")->needs, Needs::kNothing);
}

TEST(Commands, MistypedNamesGetASuggestion) {
  EXPECT_EQ(suggest_command("swep"), "sweep");
  EXPECT_EQ(suggest_command("lokup"), "lookup");
  EXPECT_EQ(suggest_command("statsu"), "status");
  EXPECT_FALSE(suggest_command("someone@example.org").has_value());
}

TEST(Commands, ArgumentsAreCheckedBeforeAnythingIsOpened) {
  const Command* lookup = find_command("lookup");
  ASSERT_NE(lookup->check_args, nullptr);
  CommandArgs args;
  EXPECT_EQ(lookup->check_args(args), kExitUsage);  // neither --email nor --field
  args.fields = {"phone"};
  EXPECT_EQ(lookup->check_args(args), kExitUsage);  // not ALIAS=VALUE
  args.fields = {"phone=+4930123"};
  EXPECT_EQ(lookup->check_args(args), std::nullopt);

  const Command* guard = find_command("guard");
  CommandArgs guard_args;
  guard_args.delimiter = ";;";
  EXPECT_EQ(guard->check_args(guard_args), kExitUsage);

  CommandArgs passwd_args;
  passwd_args.user = "alice smith";
  EXPECT_EQ(find_command("passwd")->check_args(passwd_args), kExitUsage);
}

TEST(Commands, OneExitCodeTableForEveryErrorKind) {
  EXPECT_EQ(exit_code_for(ErrorKind::kConfig), kExitConfig);
  EXPECT_EQ(exit_code_for(ErrorKind::kDatabase), kExitDatabase);
  EXPECT_EQ(exit_code_for(ErrorKind::kKeyMismatch), kExitKeyMismatch);
  EXPECT_EQ(exit_code_for(ErrorKind::kBusy), kExitBusy);
  EXPECT_EQ(exit_code_for(ErrorKind::kFailure), kExitFailure);
  EXPECT_EQ(exit_code_for(ErrorKind::kUsage), kExitUsage);
  std::set<int> codes;
  for (const ExitCodeRow& row : exit_codes()) {
    EXPECT_TRUE(codes.insert(row.code).second) << row.code;
    EXPECT_NE(exit_codes_help().find(fmt::format("  {:<3} ", row.code)), std::string::npos);
    EXPECT_NE(exit_codes_markdown().find(fmt::format("| {} |", row.code)), std::string::npos);
  }
}

}  // namespace
}  // namespace mgdpr::cli
