// SPDX-License-Identifier: GPL-3.0-or-later
// The body of a Mautic webhook request, read without any I/O (the service in src/server checks
// the signature and acts on the events).
//
// A request body is one JSON object with a list of events per event type (queue mode sends
// several events, and several types, in one request) and a "timestamp":
//   {"mautic.lead_channel_subscription_changed": [{"contact": {"id": 7, ...}, "channel":
//    "email", "old_status": "contactable", "new_status": "unsubscribed"}], "timestamp": "..."}
// The body is refused when it nests deeper than kMaxNesting (core/limits.h); the size is
// limited before it is read ([server] max_body_bytes).
#pragma once

#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/config.h"
#include "core/policy.h"
#include "core/result.h"

namespace mgdpr {

inline constexpr std::string_view kSubscriptionChanged = "mautic.lead_channel_subscription_changed";
// Contact created / saved: the re-import guard checks the contacts they name.
inline constexpr std::string_view kContactCreated = "mautic.lead_post_save_new";
inline constexpr std::string_view kContactUpdated = "mautic.lead_post_save_update";

struct WebhookEvent {
  std::string type;  // e.g. "mautic.lead_channel_subscription_changed"
  size_t index = 0;  // position in its type's list, for messages
  nlohmann::json item;
  // item.contact.id: a number, a numeric string or a whole float (1111.0), within 64 bits.
  std::optional<int64_t> contact_id;
};

struct WebhookBatch {
  std::vector<WebhookEvent> events;
};

// Parses a request body. The error says what is wrong and where, never quoting a value.
Result<WebhookBatch> parse_webhook(std::string_view body);

// An event type as messages name it: Mautic's own key, shortened and with control characters
// and quotes replaced, so a body cannot flood or forge a log line.
std::string webhook_type_label(std::string_view type);

// A subscription change as Mautic describes it.
struct SubscriptionChange {
  int64_t contact_id = 0;
  std::string channel;
  std::string new_status;  // contactable, unsubscribed, bounced, manual
};

Result<SubscriptionChange> read_subscription_change(const WebhookEvent& event);

// The do-not-contact reason a new status means, when the config acts on it for that channel.
std::optional<DncReason> configured_reason(const Config& config, const SubscriptionChange& change);

}  // namespace mgdpr
