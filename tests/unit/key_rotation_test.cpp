// SPDX-License-Identifier: GPL-3.0-or-later
#include "core/key_rotation.h"

#include <gtest/gtest.h>

namespace mgdpr {
namespace {

constexpr std::string_view kOld =
    "3f2a9c1b4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f8";

Config loaded_config(std::string_view text) {
  auto config = parse_config(text, "config.toml");
  EXPECT_TRUE(config.ok()) << config.error().message;
  return config.ok() ? *config : Config{};
}

std::string rotated(std::string_view text) {
  auto result =
      config_with_rotated_key(text, loaded_config(text), "/k/new.key", kOld, "/k/old.key");
  EXPECT_TRUE(result.ok()) << result.error().message;
  return result.ok() ? *result : std::string();
}

TEST(KeyRotationTest, ChangesTheKeyLineAndAddsTheKeyringKeepingEverythingElse) {
  const std::string text =
      "# my config\n[database]\nname = \"mautic\"  # the shop\n\n[hashing]\n"
      "key_file = \"/k/old.key\"   # made in 2025\n\n[policy.fields]\nemail = \"hash\"\n";
  EXPECT_EQ(rotated(text),
            "# my config\n[database]\nname = \"mautic\"  # the shop\n\n[hashing]\n"
            "key_file = \"/k/new.key\"   # made in 2025\n\n[policy.fields]\nemail = \"hash\"\n"
            "\n[hashing.keyring]\n3f2a9c1b4d5e6f70 = \"/k/old.key\"\n");
}

TEST(KeyRotationTest, AnExistingKeyringGetsTheLineBelowItsHeader) {
  const std::string text =
      "[hashing]\nkey_file = '/k/old.key'\n\n[hashing.keyring]\n"
      "aaaaaaaaaaaaaaaa = \"/k/older.key\"\n\n[sweep]\nbatch_size = 100\n";
  const std::string result = rotated(text);
  EXPECT_EQ(result,
            "[hashing]\nkey_file = \"/k/new.key\"\n\n[hashing.keyring]\n"
            "3f2a9c1b4d5e6f70 = \"/k/old.key\"\naaaaaaaaaaaaaaaa = \"/k/older.key\"\n\n"
            "[sweep]\nbatch_size = 100\n");
  EXPECT_EQ(loaded_config(result).keyring.size(), 2u);
}

TEST(KeyRotationTest, AKeyFileNotWrittenIsAdded) {
  EXPECT_EQ(rotated("[hashing]\n[sweep]\nbatch_size = 100"),
            "[hashing]\nkey_file = \"/k/new.key\"\n[sweep]\nbatch_size = 100\n"
            "\n[hashing.keyring]\n3f2a9c1b4d5e6f70 = \"/k/old.key\"\n");
  const Config config = loaded_config(rotated("[sweep]\nbatch_size = 100\n"));
  EXPECT_EQ(config.key_file, "/k/new.key");
  EXPECT_EQ(config.sweep.batch_size, 100);
}

TEST(KeyRotationTest, PathsAreQuotedAsTomlStrings) {
  auto result = config_with_rotated_key("[hashing]\nkey_file = \"/k/old.key\"\n",
                                        loaded_config("[hashing]\nkey_file = \"/k/old.key\"\n"),
                                        "/k/a \"b\"\\c.key", kOld, "/k/old.key");
  ASSERT_TRUE(result.ok()) << result.error().message;
  EXPECT_EQ(loaded_config(*result).key_file, "/k/a \"b\"\\c.key");
}

TEST(KeyRotationTest, ATextThatCannotBeChangedSafelyIsRefused) {
  // key_file in an inline table: the keyring section cannot be added after it.
  const std::string inline_table = "hashing = { key_file = \"/k/old.key\" }\n";
  auto result = config_with_rotated_key(inline_table, loaded_config(inline_table), "/k/new.key",
                                        kOld, "/k/old.key");
  EXPECT_FALSE(result.ok());
}

}  // namespace
}  // namespace mgdpr
