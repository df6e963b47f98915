// SPDX-License-Identifier: GPL-3.0-or-later
#include "core/csv.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace mgdpr {
namespace {

std::vector<CsvRecord> parsed(std::string_view text, char delimiter = ',') {
  auto records = parse_csv(text, delimiter);
  EXPECT_TRUE(records.ok()) << records.error().message;
  return records.ok() ? *records : std::vector<CsvRecord>{};
}

using Fields = std::vector<std::string>;

TEST(CsvTest, PlainRecordsWithTheirLines) {
  const auto records = parsed("email,firstname\na@example.org,Ann\nb@example.org,Bob\n");
  ASSERT_EQ(records.size(), 3u);
  EXPECT_EQ(records[0].fields, (Fields{"email", "firstname"}));
  EXPECT_EQ(records[1].fields, (Fields{"a@example.org", "Ann"}));
  EXPECT_EQ(records[2].fields, (Fields{"b@example.org", "Bob"}));
  EXPECT_EQ(records[0].line, 1);
  EXPECT_EQ(records[1].line, 2);
  EXPECT_EQ(records[2].line, 3);
  EXPECT_EQ(records[1].raw, "a@example.org,Ann\n");
}

TEST(CsvTest, QuotedFieldsHoldDelimitersQuotesAndLineBreaks) {
  const std::string text =
      "email,note\n\"a@example.org\",\"one, two\"\n\"b@example.org\",\"said \"\"hi\"\"\nand "
      "left\"\n"
      "c@example.org,last\n";
  const auto records = parsed(text);
  ASSERT_EQ(records.size(), 4u);
  EXPECT_EQ(records[1].fields, (Fields{"a@example.org", "one, two"}));
  EXPECT_EQ(records[2].fields, (Fields{"b@example.org", "said \"hi\"\nand left"}));
  // The record after a two-line record starts on line 5 of the file.
  EXPECT_EQ(records[2].line, 3);
  EXPECT_EQ(records[3].line, 5);
  EXPECT_EQ(records[3].fields, (Fields{"c@example.org", "last"}));
  // The raw bytes of all records give back the file.
  std::string joined;
  for (const auto& record : records) joined += record.raw;
  EXPECT_EQ(joined, text);
}

TEST(CsvTest, CrLfAndLoneCrEndRecords) {
  const auto records = parsed("email\r\na@example.org\rb@example.org\r\n\"x\r\ny\"\r\n");
  ASSERT_EQ(records.size(), 4u);
  EXPECT_EQ(records[1].fields, Fields{"a@example.org"});
  EXPECT_EQ(records[2].fields, Fields{"b@example.org"});
  EXPECT_EQ(records[2].line, 3);
  EXPECT_EQ(records[3].fields, Fields{"x\r\ny"});
  EXPECT_EQ(records[3].line, 4);
  EXPECT_EQ(records[1].raw, "a@example.org\r");
  EXPECT_EQ(records[3].raw, "\"x\r\ny\"\r\n");
}

TEST(CsvTest, LastRecordWithoutLineBreakAndEmptyFields) {
  const auto records = parsed("a,,c\n,\nlast,");
  ASSERT_EQ(records.size(), 3u);
  EXPECT_EQ(records[0].fields, (Fields{"a", "", "c"}));
  EXPECT_EQ(records[1].fields, (Fields{"", ""}));
  EXPECT_EQ(records[2].fields, (Fields{"last", ""}));
  EXPECT_EQ(records[2].raw, "last,");
}

TEST(CsvTest, BlankLinesAreRecordsMarkedBlank) {
  const auto records = parsed("email\n\na@example.org\n");
  ASSERT_EQ(records.size(), 3u);
  EXPECT_TRUE(records[1].blank());
  EXPECT_FALSE(records[2].blank());
  EXPECT_EQ(records[2].line, 3);
}

TEST(CsvTest, OtherDelimiter) {
  const auto records = parsed("email;name\n\"a;b@example.org\";x,y\n", ';');
  ASSERT_EQ(records.size(), 2u);
  EXPECT_EQ(records[1].fields, (Fields{"a;b@example.org", "x,y"}));
}

TEST(CsvTest, StrayQuotesAreKeptAsWritten) {
  const auto records = parsed("ab\"c,\"quoted\"tail\n");
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0].fields, (Fields{"ab\"c", "quotedtail"}));
}

TEST(CsvTest, UnclosedQuoteNamesItsLineNotItsContent) {
  auto records = parse_csv("email\nok@example.org\n\"secret@example.org,\nmore\n");
  ASSERT_FALSE(records.ok());
  EXPECT_NE(records.error().message.find("line 3"), std::string::npos) << records.error().message;
  EXPECT_EQ(records.error().message.find("secret"), std::string::npos);
}

TEST(CsvTest, ByteOrderMarkIsSkippedButKeptInRaw) {
  const std::string text = "\xEF\xBB\xBF\"Email\",name\nA@example.org,x\n";
  const auto records = parsed(text);
  ASSERT_EQ(records.size(), 2u);
  EXPECT_EQ(records[0].fields, (Fields{"Email", "name"}));
  EXPECT_EQ(records[0].raw, "\xEF\xBB\xBF\"Email\",name\n");
  EXPECT_EQ(find_csv_column(records[0], "email"), 0u);
}

TEST(CsvTest, FindColumnIgnoresCaseAndSpaces) {
  const auto records = parsed("First Name, EMAIL ,mobile\n");
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(find_csv_column(records[0], "email"), 1u);
  EXPECT_EQ(find_csv_column(records[0], "Mobile"), 2u);
  EXPECT_FALSE(find_csv_column(records[0], "phone").has_value());
}

TEST(CsvTest, EmptyTextHasNoRecords) {
  EXPECT_TRUE(parsed("").empty());
  EXPECT_TRUE(parsed("\xEF\xBB\xBF").empty());
}

TEST(CsvTest, QuoteOrLineBreakCannotBeTheDelimiter) {
  EXPECT_FALSE(parse_csv("a", '"').ok());
  EXPECT_FALSE(parse_csv("a", '\n').ok());
}

}  // namespace
}  // namespace mgdpr
