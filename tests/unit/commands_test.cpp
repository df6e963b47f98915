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

TEST(Commands, OnlyCommandsThatWriteOpenAWritingSession) {
  // Read-only commands must never create mautic-gdpr's tables or record a key. Sweep and queue
  // (its triggers) change the database; export and erase write their audit rows (and erase
  // processes), so they need the tables.
  const std::set<std::string_view> writing = {"sweep", "queue", "export", "erase"};
  for (const Command& command : commands()) {
    EXPECT_EQ(command.needs == Needs::kWriteSession, writing.contains(command.name))
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

  // Export and erase name a person by values or by contact id; never over an existing file.
  for (const char* name : {"export", "erase"}) {
    const Command* command = find_command(name);
    ASSERT_NE(command->check_args, nullptr) << name;
    CommandArgs person;
    EXPECT_EQ(command->check_args(person), kExitUsage) << name;
    person.contact_id = 42;
    EXPECT_EQ(command->check_args(person), std::nullopt) << name;
    person.fields = {"email"};
    EXPECT_EQ(command->check_args(person), kExitUsage) << name;
  }
  CommandArgs export_args;
  export_args.email = "someone@example.org";
  export_args.html = "/";  // exists
  EXPECT_EQ(find_command("export")->check_args(export_args), kExitUsage);
  export_args.html = export_args.out = "/tmp/mgdpr-never-created-by-this-test.html";
  EXPECT_EQ(find_command("export")->check_args(export_args), kExitUsage);

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
