// SPDX-License-Identifier: GPL-3.0-or-later
#include "core/normalize.h"

#include <gtest/gtest.h>

namespace mgdpr {
namespace {

TEST(TrimTest, RemovesAsciiWhiteSpaceAtBothEnds) {
  EXPECT_EQ(trim(" \t\r\n\v\fjane doe \t\r\n\v\f"), "jane doe");
  EXPECT_EQ(trim("inner  space"), "inner  space");
  EXPECT_EQ(trim(""), "");
  EXPECT_EQ(trim(" \t\n "), "");
}

TEST(TrimTest, KeepsNonAsciiSpace) {
  // U+00A0 (no-break space) is not ASCII white space and stays.
  EXPECT_EQ(trim("\xC2\xA0x\xC2\xA0"), "\xC2\xA0x\xC2\xA0");
}

TEST(ValueKindTest, ChosenFromMauticFieldType) {
  EXPECT_EQ(value_kind_for_field_type("email"), ValueKind::kEmail);
  EXPECT_EQ(value_kind_for_field_type("tel"), ValueKind::kPhone);
  EXPECT_EQ(value_kind_for_field_type("text"), ValueKind::kText);
  EXPECT_EQ(value_kind_for_field_type("textarea"), ValueKind::kText);
  EXPECT_EQ(value_kind_for_field_type("url"), ValueKind::kText);
  EXPECT_EQ(value_kind_for_field_type(""), ValueKind::kText);
  EXPECT_EQ(value_kind_for_field_type("Email"), ValueKind::kText);
}

TEST(NormalizeEmailTest, TrimsAndLowercasesAscii) {
  EXPECT_EQ(normalize(ValueKind::kEmail, "  Jane.Doe@Example.COM \n"), "jane.doe@example.com");
  EXPECT_EQ(normalize(ValueKind::kEmail, "jane@example.com"), "jane@example.com");
  EXPECT_EQ(normalize(ValueKind::kEmail, ""), "");
}

TEST(NormalizeEmailTest, LeavesNonAsciiBytesAlone) {
  // "ÄNNE@Example.com": the UTF-8 bytes of Ä are not touched, the ASCII letters are lowered.
  EXPECT_EQ(normalize(ValueKind::kEmail, "\xC3\x84NNE@Example.com"), "\xC3\x84nne@example.com");
}

TEST(NormalizePhoneTest, KeepsLeadingPlusAndDigits) {
  EXPECT_EQ(normalize(ValueKind::kPhone, " +49 (0)30 123-45 "), "+4903012345");
  EXPECT_EQ(normalize(ValueKind::kPhone, "030 / 123 45"), "03012345");
  EXPECT_EQ(normalize(ValueKind::kPhone, "\t+1.555.0100"), "+15550100");
}

TEST(NormalizePhoneTest, PlusCountsOnlyAsFirstCharacter) {
  EXPECT_EQ(normalize(ValueKind::kPhone, "0049+30"), "004930");
  EXPECT_EQ(normalize(ValueKind::kPhone, "(+49) 30"), "4930");
}

TEST(NormalizePhoneTest, NoDigitsGivesEmpty) {
  EXPECT_EQ(normalize(ValueKind::kPhone, ""), "");
  EXPECT_EQ(normalize(ValueKind::kPhone, " + "), "");
  EXPECT_EQ(normalize(ValueKind::kPhone, "n/a"), "");
}

TEST(NormalizeTextTest, OnlyTrims) {
  EXPECT_EQ(normalize(ValueKind::kText, "  Jane Doe\r\n"), "Jane Doe");
  EXPECT_EQ(normalize(ValueKind::kText, "MiXeD"), "MiXeD");
}

TEST(NormalizeTest, SameValueWhateverTheSpellingForEmail) {
  EXPECT_EQ(normalize(ValueKind::kEmail, "JANE@example.com"),
            normalize(ValueKind::kEmail, " jane@EXAMPLE.com "));
}

}  // namespace
}  // namespace mgdpr
