// SPDX-License-Identifier: GPL-3.0-or-later
#include "core/scrub.h"

#include <gtest/gtest.h>

#include "core/php_serialize.h"

namespace mgdpr {
namespace {

TEST(ScrubPhp, BlanksStringsKeepsStructureAndDateTime) {
  const std::string input =
      "a:2:{s:6:\"fields\";a:1:{s:5:\"email\";a:2:{i:0;N;i:1;s:16:\"jane@example.org\";}}"
      "s:9:\"dateAdded\";O:8:\"DateTime\":3:{s:4:\"date\";s:26:\"2024-05-01 10:00:00.000000\";"
      "s:13:\"timezone_type\";i:3;s:8:\"timezone\";s:3:\"UTC\";}}";
  auto scrubbed = scrub_php_serialized(input);
  ASSERT_TRUE(scrubbed.ok()) << scrubbed.error().message;
  EXPECT_EQ(scrubbed->find("jane"), std::string::npos);
  EXPECT_NE(scrubbed->find("s:5:\"email\";a:2:{i:0;N;i:1;s:0:\"\";}"), std::string::npos);
  EXPECT_NE(scrubbed->find("2024-05-01 10:00:00.000000"), std::string::npos);
  EXPECT_TRUE(php::parse(*scrubbed).ok());
}

TEST(ScrubPhp, MalformedInputIsAnErrorWithoutTheValue) {
  auto scrubbed = scrub_php_serialized("a:1:{s:5:\"email\";s:40:\"jane@example.org\";}");
  ASSERT_FALSE(scrubbed.ok());
  EXPECT_EQ(scrubbed.error().message.find("jane"), std::string::npos);
}

TEST(ScrubJson, BlanksStringValuesKeepsKeysAndNumbers) {
  auto scrubbed = scrub_json(R"({"line":5,"row":{"email":"jane@example.org","ok":true}})");
  ASSERT_TRUE(scrubbed.ok());
  EXPECT_EQ(*scrubbed, R"({"line":5,"row":{"email":"","ok":true}})");
  EXPECT_FALSE(scrub_json("{\"email\": \"jane@").ok());
}

TEST(Zlib, RoundTripsAndRejectsGarbage) {
  const std::string text(5000, 'x');
  auto back = zlib_decompress(zlib_compress(text));
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back, text);
  EXPECT_FALSE(zlib_decompress("not zlib at all").ok());
}

TEST(WebhookPayload, FindsContactIdsUnderContactOrLead) {
  auto ids = contact_ids_in_payload(
      R"({"mautic.lead_post_save_update":[{"contact":{"id":38186,"fields":{}}},)"
      R"({"lead":{"id":"42"}}],"other":{"id":7},"timestamp":"2026-01-01"})");
  ASSERT_TRUE(ids.ok());
  EXPECT_EQ(*ids, (std::set<int64_t>{38186, 42}));
  EXPECT_FALSE(contact_ids_in_payload("{").ok());
}

}  // namespace
}  // namespace mgdpr
