// SPDX-License-Identifier: GPL-3.0-or-later
#include "core/php_array.h"

#include <gtest/gtest.h>

namespace mgdpr {
namespace {

TEST(PhpArray, ReadsLiteralsOfBothArraySyntaxes) {
  const std::string source = R"(<?php
// Mautic writes this file itself.
$parameters = array(
	'db_host' => "db.example.org",   # a comment
	'db_port' => 3306,
	'db_table_prefix' => NULL,
	'ratio' => -1.5e3,
	'enabled' => TRUE,
	'quoted' => 'it\'s a \\ back\slash',
	"escaped" => "tab\there \x41\101 \u{263A} \$x",
	/* a block
	   comment */
	'list' => ['a', 'b', 7 => 'c', 'd',],
);
)";
  auto value = read_php_array_assignment(source, "parameters", "local.php");
  ASSERT_TRUE(value.ok()) << value.error().message;
  EXPECT_EQ(value->kind, PhpValue::Kind::kArray);
  EXPECT_EQ(value->find("db_host")->text, "db.example.org");
  EXPECT_EQ(value->find("db_host")->line, 4);
  EXPECT_EQ(value->find("db_port")->kind, PhpValue::Kind::kInt);
  EXPECT_EQ(value->find("db_port")->text, "3306");
  EXPECT_EQ(value->find("db_table_prefix")->kind, PhpValue::Kind::kNull);
  EXPECT_EQ(value->find("ratio")->kind, PhpValue::Kind::kFloat);
  EXPECT_EQ(value->find("ratio")->text, "-1.5e3");
  EXPECT_EQ(value->find("enabled")->text, "true");
  EXPECT_EQ(value->find("quoted")->text, "it's a \\ back\\slash");
  EXPECT_EQ(value->find("escaped")->text, "tab\there AA \xE2\x98\xBA $x");
  const PhpValue* list = value->find("list");
  ASSERT_EQ(list->items.size(), 4u);
  EXPECT_EQ(list->items[0].key, "0");
  EXPECT_EQ(list->items[2].key, "7");
  EXPECT_EQ(list->items[3].key, "8");  // after 7, as PHP numbers them
  EXPECT_EQ(value->find("missing"), nullptr);
}

TEST(PhpArray, CodeIsKeptAsCodeWithItsLineNeverRun) {
  const std::string source =
      "<?php\n$parameters = [\n  'db_host' => getenv('DB_HOST') ?: 'localhost',\n"
      "  'db_name' => PREFIX.'_mautic',\n  'db_user' => \"$user\",\n"
      "  'db_port' => 3306,\n];\n";
  auto value = read_php_array_assignment(source, "parameters", "local.php");
  ASSERT_TRUE(value.ok()) << value.error().message;
  EXPECT_EQ(value->find("db_host")->kind, PhpValue::Kind::kCode);
  EXPECT_EQ(value->find("db_host")->line, 3);
  EXPECT_EQ(value->find("db_name")->kind, PhpValue::Kind::kCode);
  EXPECT_EQ(value->find("db_user")->kind, PhpValue::Kind::kCode);
  EXPECT_EQ(value->find("db_port")->text, "3306");  // what follows code is still read
}

TEST(PhpArray, BrokenArraysNameTheLineAndNeverQuoteAValue) {
  auto unterminated = read_php_array_assignment(
      "<?php\n$parameters = [\n  'db_password' => 'secret-value,\n];\n", "parameters", "local.php");
  ASSERT_FALSE(unterminated.ok());
  EXPECT_NE(unterminated.error().message.find("local.php:3:"), std::string::npos)
      << unterminated.error().message;
  EXPECT_EQ(unterminated.error().message.find("secret-value"), std::string::npos);

  auto unclosed = read_php_array_assignment("<?php\n$parameters = array(\n 'a' => 1,\n",
                                            "parameters", "local.php");
  ASSERT_FALSE(unclosed.ok());
  EXPECT_NE(unclosed.error().message.find("local.php:2: the array that starts here has no "
                                          "closing `)`"),
            std::string::npos)
      << unclosed.error().message;

  auto missing_comma = read_php_array_assignment("<?php\n$parameters = ['a' => 1\n 'b' => 2];\n",
                                                 "parameters", "local.php");
  ASSERT_FALSE(missing_comma.ok());
  EXPECT_NE(missing_comma.error().message.find("local.php:3: expected `,`"), std::string::npos)
      << missing_comma.error().message;

  auto absent = read_php_array_assignment("<?php\n$other = [];\n", "parameters", "local.php");
  ASSERT_FALSE(absent.ok());
  EXPECT_NE(absent.error().message.find("no `$parameters = [...]`"), std::string::npos);

  auto not_literal =
      read_php_array_assignment("<?php\n$parameters = load();\n", "parameters", "local.php");
  ASSERT_FALSE(not_literal.ok());
  EXPECT_NE(not_literal.error().message.find("local.php:2:"), std::string::npos);
}

TEST(PhpArray, OddEscapesStayAsTyped) {
  auto value = read_php_array_assignment(
      "<?php $parameters = ['a' => \"\\u{zz} \\u{110000} \\u{} \\q \\x\"];", "parameters", "x.php");
  ASSERT_TRUE(value.ok()) << value.error().message;
  EXPECT_EQ(value->find("a")->text, "\\u{zz} \\u{110000} \\u{} \\q \\x");
}

TEST(PhpArray, TextBeforeTheOpeningTagIsNotCode) {
  auto value = read_php_array_assignment(
      "$parameters = ['a' => 1];\n<?php $parameters = ['b' => 2];", "parameters", "x.php");
  ASSERT_TRUE(value.ok()) << value.error().message;
  EXPECT_NE(value->find("b"), nullptr);
}

}  // namespace
}  // namespace mgdpr
