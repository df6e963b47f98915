// SPDX-License-Identifier: GPL-3.0-or-later
#include "core/generalize.h"

#include <gtest/gtest.h>

#include <set>

namespace mgdpr {
namespace {

Generalizer generalizer_of(std::string_view word) {
  auto generalizer = parse_generalizer(word, "field");
  EXPECT_TRUE(generalizer.ok()) << word;
  return generalizer.ok() ? *generalizer : Generalizer{};
}

std::optional<std::string> general(std::string_view word, std::string_view value) {
  return generalize(generalizer_of(word), value);
}

// Every generalizer on a typical value of every Mautic field type it accepts (as MariaDB
// returns that type's column), and what comes out. The refusals are the complement, below.
struct Case {
  std::string_view generalizer;
  std::string_view field_type;
  std::string_view value;
  std::optional<std::string> expected;
};

const Case kAcceptedCases[] = {
    {"year", "date", "1980-02-03", "1980-01-01"},
    {"year", "datetime", "2024-05-06 07:08:09", "2024-01-01 00:00:00"},
    {"month", "date", "1980-02-03", "1980-02-01"},
    {"month", "datetime", "2024-05-06 07:08:09", "2024-05-01 00:00:00"},
    {"prefix:3", "text", "10115", "101"},
    {"prefix:4", "textarea", "Lives near the harbour", "Live"},
    {"prefix:5", "tel", "+49 30 1234567", "+49 3"},
    {"prefix:12", "url", "https://example.org/jane", "https://exam"},
    {"prefix:2", "lookup", "Bavaria", "Ba"},
    {"bucket:10", "number", "37", "30"},
    {"domain", "email", "Jane.Doe@Example.ORG", "example.org"},
};

TEST(GeneralizeTest, EveryGeneralizerOnEveryFieldTypeItAccepts) {
  std::set<std::pair<std::string, std::string>> covered;
  for (const Case& c : kAcceptedCases) {
    const Generalizer generalizer = generalizer_of(c.generalizer);
    EXPECT_TRUE(accepts_field_type(generalizer.kind, c.field_type))
        << c.generalizer << " on " << c.field_type;
    EXPECT_EQ(generalize(generalizer, c.value), c.expected) << c.generalizer << " " << c.value;
    covered.emplace(std::string(c.generalizer.substr(0, c.generalizer.find(':'))),
                    std::string(c.field_type));
  }
  // The table above names every accepted pair: nothing accepted goes untested.
  for (std::string_view word : {"year", "month", "prefix:1", "bucket:1", "domain"}) {
    const Generalizer generalizer = generalizer_of(word);
    for (std::string_view type : mautic_field_types()) {
      if (!accepts_field_type(generalizer.kind, type)) continue;
      EXPECT_TRUE(
          covered.contains({std::string(word.substr(0, word.find(':'))), std::string(type)}))
          << word << " accepts " << type << " but no case covers it";
    }
  }
}

TEST(GeneralizeTest, EveryOtherFieldTypeIsRefusedWithWhatFitsInstead) {
  const std::map<std::string_view, std::set<std::string_view>> accepted = {
      {"year", {"date", "datetime"}},
      {"month", {"date", "datetime"}},
      {"prefix:1", {"text", "textarea", "tel", "url", "lookup"}},
      {"bucket:1", {"number"}},
      {"domain", {"email"}},
  };
  EXPECT_EQ(mautic_field_types().size(), 18u);
  for (const auto& [word, types] : accepted) {
    const Generalizer generalizer = generalizer_of(word);
    for (std::string_view type : mautic_field_types()) {
      EXPECT_EQ(accepts_field_type(generalizer.kind, type), types.contains(type))
          << word << " on " << type;
    }
    EXPECT_FALSE(accepts_field_type(generalizer.kind, "")) << word;
    EXPECT_FALSE(accepts_field_type(generalizer.kind, "Date")) << word;  // types are exact
  }
  EXPECT_EQ(generalizers_for_field_type("date"), "\"year\" or \"month\"");
  EXPECT_EQ(generalizers_for_field_type("email"), "\"domain\"");
  EXPECT_EQ(generalizers_for_field_type("number"), "\"bucket:N\"");
  EXPECT_EQ(generalizers_for_field_type("tel"), "\"prefix:N\"");
  for (std::string_view type : {"boolean", "select", "multiselect", "country", "region", "locale",
                                "timezone", "time", "html"}) {
    EXPECT_EQ(generalizers_for_field_type(type), "") << type;
  }
  EXPECT_EQ(accepted_field_types(Generalization::kYear), "date and datetime fields");
  EXPECT_EQ(accepted_field_types(Generalization::kPrefix),
            "text, textarea, tel, url and lookup fields");
  EXPECT_EQ(accepted_field_types(Generalization::kDomain), "email fields");
}

TEST(GeneralizeTest, EmptyAndBlankValuesBecomeNull) {
  for (std::string_view word : {"year", "month", "prefix:3", "bucket:10", "domain"}) {
    EXPECT_EQ(general(word, ""), std::nullopt) << word;
    EXPECT_EQ(general(word, " \t\r\n"), std::nullopt) << word;
  }
}

TEST(GeneralizeTest, DatesKeepTheirFormAndMalformedOnesGo) {
  EXPECT_EQ(general("year", " 1980-12-31 "), "1980-01-01");
  EXPECT_EQ(general("month", "2024-02-29"), "2024-02-01");  // a leap day is a date
  EXPECT_EQ(general("year", "2024-05-06 07:08:09.123456"), "2024-01-01 00:00:00");
  EXPECT_EQ(general("month", "2024-05-06T07:08:09"), "2024-05-01 00:00:00");
  for (std::string_view malformed :
       {"0000-00-00", "0000-00-00 00:00:00", "1980-00-00", "1980-02-30", "2023-02-29", "1980-13-01",
        "03/02/1980", "1980-2-3", "1980-02-03x", "1980-02-03 25:00:00", "1980-02-03 10:61:00",
        "1980-02-03 10:00", "1980-02-03 10:00:00.", "80-02-03", "born 1980", "1980"}) {
    EXPECT_EQ(general("year", malformed), std::nullopt) << malformed;
    EXPECT_EQ(general("month", malformed), std::nullopt) << malformed;
  }
}

TEST(GeneralizeTest, PrefixCountsCharactersNotBytes) {
  EXPECT_EQ(general("prefix:2", "Österreich"), "Ös");
  EXPECT_EQ(general("prefix:1", "日本語"), "日");
  EXPECT_EQ(general("prefix:3", "  10115  "), "101");  // trimmed first
  EXPECT_EQ(general("prefix:3", "10"), "10");          // shorter values say no more than N
  EXPECT_EQ(general("prefix:3", "101"), "101");
  // Not UTF-8 (a cut sequence, an overlong form, a surrogate): malformed, never kept.
  for (std::string_view malformed : {"ab\xC3", "\xFF\xFE", "a\xC0\xAF", "\xED\xA0\x80x"}) {
    EXPECT_EQ(general("prefix:5", malformed), std::nullopt);
    EXPECT_EQ(general("prefix:1", malformed), std::nullopt);
  }
}

TEST(GeneralizeTest, BucketsRoundDown) {
  EXPECT_EQ(general("bucket:10", "30"), "30");
  EXPECT_EQ(general("bucket:10", "39.99"), "30");
  EXPECT_EQ(general("bucket:10", "0"), "0");
  EXPECT_EQ(general("bucket:10", "9"), "0");
  EXPECT_EQ(general("bucket:10", "-3"), "-10");
  EXPECT_EQ(general("bucket:10", "-0"), "0");
  EXPECT_EQ(general("bucket:5", "+12"), "10");
  EXPECT_EQ(general("bucket:1", "37.5"), "37");
  EXPECT_EQ(general("bucket:1000", "1e4"), "10000");
  EXPECT_EQ(general("bucket:7", "9007199254740000"), "9007199254739994");
  for (std::string_view malformed : {"abc", "12,5", "1 000", "nan", "inf", "-inf", "1e300",
                                     "9007199254740992", "0x10", "12abc", "--1"}) {
    EXPECT_EQ(general("bucket:10", malformed), std::nullopt) << malformed;
  }
}

TEST(GeneralizeTest, DomainIsThePartAfterTheLastAt) {
  EXPECT_EQ(general("domain", "\"a@b\"@Mail.Example.org"), "mail.example.org");
  EXPECT_EQ(general("domain", "jane@bücher.de"), "bücher.de");
  EXPECT_EQ(general("domain", "@example.org"), "example.org");
  EXPECT_EQ(general("domain", "example.org"), "example.org");  // generalized before
  for (std::string_view malformed :
       {"jane", "jane@", "jane@localhost", "jane@[192.0.2.1]", "jane@exa mple.org",
        "jane@example..org", "jane@-example.org", "jane@example.org.", "jane@exam_ple.org",
        "john.smith@", "jane@example.org\xFF", "not an address at all"}) {
    EXPECT_EQ(general("domain", malformed), std::nullopt) << malformed;
  }
}

TEST(GeneralizeTest, EveryGeneralizerIsIdempotent) {
  const std::pair<std::string_view, std::vector<std::string_view>> samples[] = {
      {"year", {"1980-02-03", "2024-05-06 07:08:09", "1999-12-31 23:59:59.5", "1980-01-01"}},
      {"month", {"1980-02-03", "2024-05-06T07:08:09", "2024-02-29"}},
      {"prefix:3", {"10115", "Österreich", "ab", "日本語テキスト", " x "}},
      {"bucket:10", {"37", "-3", "39.99", "0", "1e4", "12345678901"}},
      {"bucket:7", {"100", "-100", "9007199254740000"}},
      {"domain", {"Jane@Example.ORG", "x@y@Sub.Example.co.uk", "bücher.de"}},
  };
  for (const auto& [word, values] : samples) {
    for (std::string_view value : values) {
      const auto once = general(word, value);
      ASSERT_TRUE(once.has_value()) << word << " " << value;
      EXPECT_EQ(general(word, *once), once) << word << " " << value;
    }
  }
}

TEST(GeneralizeTest, ConfigWordsParseOrSayWhatToWrite) {
  EXPECT_EQ(generalizer_of("year"), (Generalizer{Generalization::kYear, 0}));
  EXPECT_EQ(generalizer_of("prefix:3"), (Generalizer{Generalization::kPrefix, 3}));
  EXPECT_EQ(generalizer_of("bucket:10").name(), "bucket:10");
  EXPECT_EQ(generalizer_of("domain").name(), "domain");
  for (std::string_view word : {"year", "month", "domain", "prefix", "prefix:x", "prefix3",
                                "bucket:0", "year:2", "domain:1"}) {
    EXPECT_TRUE(names_generalizer(word)) << word;
  }
  for (std::string_view word : {"hash", "delete", "keep", "yaer", "yearly", "domains", ""}) {
    EXPECT_FALSE(names_generalizer(word)) << word;
  }
  auto missing = parse_generalizer("prefix", "zipcode");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().message,
            "prefix needs the number of characters to keep; write e.g. zipcode = \"prefix:2\"");
  for (std::string_view wrong :
       {"prefix:0", "prefix:abc", "prefix:1001", "prefix:", "prefix3", "prefix:-2", "prefix:2.5"}) {
    auto error = parse_generalizer(wrong, "zipcode");
    ASSERT_FALSE(error.ok()) << wrong;
    EXPECT_NE(error.error().message.find("whole number from 1 to 1000"), std::string::npos)
        << error.error().message;
  }
  auto bucket = parse_generalizer("bucket", "age");
  ASSERT_FALSE(bucket.ok());
  EXPECT_NE(bucket.error().message.find("age = \"bucket:10\""), std::string::npos);
  auto year = parse_generalizer("year:2", "birthday");
  ASSERT_FALSE(year.ok());
  EXPECT_EQ(year.error().message, "year takes no number; write birthday = \"year\"");
}

}  // namespace
}  // namespace mgdpr
