// SPDX-License-Identifier: GPL-3.0-or-later
#include "mautic/content_ids.h"

#include <gtest/gtest.h>

#include "core/php_serialize.h"

namespace mgdpr::mautic {
namespace {

using Ids = std::set<int64_t>;

TEST(ContentIds, LinksToContactPages) {
  // CampaignBundle NotificationHelper: the contact's primary identifier inside its link.
  EXPECT_EQ(contact_ids_in_links("Campaign action failed for <a href=\"/s/contacts/view/42\" "
                                 "data-toggle=\"ajax\">Jane Doe</a>"),
            Ids{42});
  EXPECT_EQ(contact_ids_in_links("<a href=\"https://m.example/index.php/s/contacts/view/7\">a</a>, "
                                 "<a href='/mautic/s/contacts/view/8?tab=x'>b</a>"),
            (Ids{7, 8}));
  EXPECT_EQ(contact_ids_in_links("/s/contacts/view/"), Ids{});
  EXPECT_EQ(contact_ids_in_links("/s/contacts/view/12abc /s/contacts/view/0"), Ids{});
  EXPECT_EQ(contact_ids_in_links("/s/companies/view/5"), Ids{});
}

// PHP's addslashes(), as Symfony's PhpSerializer applies it to serialize($envelope).
std::string add_slashes(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (c == '\0') {
      out += "\\0";
      continue;
    }
    if (c == '\'' || c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out;
}

std::string envelope_with(php::Value message) {
  using php::Entry;
  using php::Value;
  const std::string envelope = "Symfony\\Component\\Messenger\\Envelope";
  return php::serialize(Value::object(
      envelope,
      {Entry{std::string("\0") + envelope + std::string("\0stamps", 7), Value::array()},
       Entry{std::string("\0") + envelope + std::string("\0message", 8), std::move(message)}}));
}

TEST(ContentIds, MessengerPageHitNamesItsContact) {
  using php::Entry;
  using php::Value;
  const std::string hit = "Mautic\\MessengerBundle\\Message\\PageHitNotification";
  auto property = [&](const char* name) {
    return std::string("\0", 1) + hit + std::string("\0", 1) + name;
  };
  const std::string body = add_slashes(envelope_with(
      Value::object(hit, {Entry{property("hitId"), Value::integer(5)},
                          Entry{property("request"), Value::string("ua: \"Mozilla\"")},
                          Entry{property("leadId"), Value::integer(42)}})));
  EXPECT_NE(body.find("\\0"), std::string::npos);
  EXPECT_EQ(*contact_ids_in_messenger_body(body), Ids{42});
}

TEST(ContentIds, MessengerEmailNamesEveryRecipient) {
  using php::Entry;
  using php::Value;
  // MauticMessage::__serialize: [metadata keyed by address, leadIdHash, the parent's data].
  Value metadata = Value::array(
      {Entry{"a@example.org",
             Value::array({Entry{"name", Value::string("A")}, Entry{"leadId", Value::integer(3)}})},
       Entry{"b@example.org", Value::array({Entry{"leadId", Value::string("4")}})}});
  const std::string body = add_slashes(envelope_with(Value::object(
      "Mautic\\EmailBundle\\Mailer\\Message\\MauticMessage",
      {Entry{0, std::move(metadata)}, Entry{1, Value::null()}, Entry{2, Value::array()}})));
  EXPECT_EQ(*contact_ids_in_messenger_body(body), (Ids{3, 4}));
  EXPECT_FALSE(contact_ids_in_messenger_body("a:1:{").ok());
}

}  // namespace
}  // namespace mgdpr::mautic
