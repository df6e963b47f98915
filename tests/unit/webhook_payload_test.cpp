// SPDX-License-Identifier: GPL-3.0-or-later
#include "core/webhook_payload.h"

#include <gtest/gtest.h>

#include "server/webhook.h"

namespace mgdpr {
namespace {

TEST(WebhookPayload, BatchesOfSeveralTypesAndIds) {
  auto batch = parse_webhook(
      R"({"mautic.lead_channel_subscription_changed": [{"contact": {"id": 7}, "channel": "email",
          "new_status": "unsubscribed"}, {"contact": {"id": "8"}, "channel": "email",
          "new_status": "bounced"}], "mautic.lead_post_save_update": [{"contact": {"id": 9}}],
          "timestamp": "2025-01-01T00:00:00+00:00"})");
  ASSERT_TRUE(batch.ok()) << batch.error().message;
  ASSERT_EQ(batch->events.size(), 3u);
  int64_t sum = 0;
  for (const auto& event : batch->events) sum += event.contact_id.value_or(0);
  EXPECT_EQ(sum, 24);
  const auto change = read_subscription_change(batch->events[0]);
  ASSERT_TRUE(change.ok());
  EXPECT_EQ(change->new_status, "unsubscribed");
}

TEST(WebhookPayload, ErrorsSayWhatIsWrongWithoutQuotingValues) {
  auto not_json = parse_webhook(R"({"mautic.lead_channel_subscription_changed": [)");
  ASSERT_FALSE(not_json.ok());
  EXPECT_NE(not_json.error().message.find("not valid JSON"), std::string::npos);
  auto not_object = parse_webhook("[1, 2]");
  ASSERT_FALSE(not_object.ok());
  EXPECT_NE(not_object.error().message.find("must be a JSON object"), std::string::npos);
  auto not_list = parse_webhook(R"({"mautic.lead_post_save_new": {"contact": 1}})");
  ASSERT_FALSE(not_list.ok());
  EXPECT_NE(not_list.error().message.find("must be a list of events"), std::string::npos);

  auto batch = parse_webhook(
      R"({"mautic.lead_channel_subscription_changed": [{"contact": {"email": "x@example.org"},
          "channel": "email", "new_status": "unsubscribed"}]})");
  ASSERT_TRUE(batch.ok());
  const auto router = server::default_router();
  const auto valid = router.validate(*batch);
  ASSERT_FALSE(valid.ok());
  EXPECT_NE(valid.error().message.find("[0] has no contact.id"), std::string::npos)
      << valid.error().message;
  EXPECT_EQ(valid.error().message.find("x@example.org"), std::string::npos);
}

TEST(WebhookPayload, OnlyConfiguredReasonsAndChannelsCount) {
  Config config;
  config.reasons = {DncReason::kUnsubscribed, DncReason::kBounced};
  config.channels = {"email"};
  EXPECT_TRUE(configured_reason(config, {1, "email", "unsubscribed"}));
  EXPECT_TRUE(configured_reason(config, {1, "email", "bounced"}));
  EXPECT_FALSE(configured_reason(config, {1, "email", "manual"}));
  EXPECT_FALSE(configured_reason(config, {1, "email", "contactable"}));
  EXPECT_FALSE(configured_reason(config, {1, "sms", "unsubscribed"}));
}

TEST(WebhookPayload, DeepNestingIsRefusedWithoutRecursion) {
  // 100,000 nested arrays (200 KB, under the 4 MB default limit) once killed `serve`.
  const std::string bomb = R"({"mautic.lead_channel_subscription_changed": [{"contact": {"id": 7},)"
                           R"( "x": )" +
                           std::string(100'000, '[') + std::string(100'000, ']') + "}]}";
  auto batch = parse_webhook(bomb);
  ASSERT_FALSE(batch.ok());
  EXPECT_NE(batch.error().message.find("deeper than 512 levels"), std::string::npos)
      << batch.error().message;
  // Unbalanced, inside an event: the same.
  EXPECT_FALSE(parse_webhook("{\"t\": [" + std::string(100'000, '{')).ok());
}

TEST(WebhookPayload, ContactIdsOutsideSixtyFourBitsAreNoIds) {
  // 19 and 20 digits: once a signed overflow (undefined behaviour) while reading the id.
  for (const char* id : {"\"9999999999999999999\"", "\"99999999999999999999\"",
                         "18446744073709551615", "1e19", "-1", "1.5", "\"7 \""}) {
    auto batch = parse_webhook(
        fmt::format(R"({{"mautic.lead_channel_subscription_changed": [{{"contact": {{"id": {}}},)"
                    R"( "channel": "email", "new_status": "unsubscribed"}}]}})",
                    id));
    ASSERT_TRUE(batch.ok()) << id;
    ASSERT_EQ(batch->events.size(), 1u);
    const auto change = read_subscription_change(batch->events[0]);
    ASSERT_FALSE(change.ok()) << id;
    EXPECT_NE(change.error().message.find("has no contact.id"), std::string::npos);
  }
  // The largest id and a whole float (PHP's json_encode of 1111.0) are ids.
  for (const auto& [id, expected] :
       {std::pair<const char*, int64_t>{"\"9223372036854775807\"", INT64_MAX}, {"1111.0", 1111}}) {
    auto batch = parse_webhook(
        fmt::format(R"({{"mautic.lead_post_save_update": [{{"contact": {{"id": {}}}}}]}})", id));
    ASSERT_TRUE(batch.ok()) << id;
    EXPECT_EQ(batch->events.at(0).contact_id, expected) << id;
  }
}

TEST(WebhookPayload, TypeLabelsCannotForgeLogLines) {
  EXPECT_EQ(webhook_type_label("a\nb\"c`d"), "a?b?c?d");
  EXPECT_EQ(webhook_type_label(std::string(500, 'x')).size(), 80u);
}

}  // namespace
}  // namespace mgdpr
