// SPDX-License-Identifier: GPL-3.0-or-later
#include "core/webhook_payload.h"

#include <algorithm>
#include <limits>
#include <utility>

#include "core/json.h"

namespace mgdpr {

std::string webhook_type_label(std::string_view type) {
  std::string label(type.substr(0, 80));
  for (char& c : label) {
    if (static_cast<unsigned char>(c) < 0x20 || c == '"' || c == '\\' || c == '`') c = '?';
  }
  return label;
}

Result<WebhookBatch> parse_webhook(std::string_view body) {
  // The size was limited by the HTTP layer before the body was read; depth is checked here.
  auto parsed = parse_json(body, {std::numeric_limits<std::size_t>::max(), kMaxNesting});
  if (!parsed) {
    return make_error(
        "the body is not usable: {}; Mautic sends one JSON object per request, nested a few "
        "levels",
        parsed.error().message);
  }
  nlohmann::json& document = *parsed;
  if (!document.is_object()) {
    return make_error(
        "the body must be a JSON object with a list of events per event type, e.g. "
        "{{\"{}\": [...], \"timestamp\": \"...\"}}",
        kSubscriptionChanged);
  }
  WebhookBatch batch;
  for (auto list = document.begin(); list != document.end(); ++list) {
    const std::string& type = list.key();
    if (type == "timestamp") continue;
    if (!list->is_array()) {
      return make_error("`{}` must be a list of events", webhook_type_label(type));
    }
    for (size_t index = 0; index < list->size(); ++index) {
      nlohmann::json& item = (*list)[index];
      if (!item.is_object()) {
        return make_error("`{}`[{}] is not an event object", webhook_type_label(type), index);
      }
      WebhookEvent event;
      event.type = type;
      event.index = index;
      if (auto contact = item.find("contact"); contact != item.end() && contact->is_object()) {
        if (auto id = contact->find("id"); id != contact->end()) {
          event.contact_id = json_whole_number(*id);
        }
      }
      event.item = std::move(item);
      batch.events.push_back(std::move(event));
    }
  }
  return batch;
}

Result<SubscriptionChange> read_subscription_change(const WebhookEvent& event) {
  const std::string where = fmt::format("`{}`[{}]", webhook_type_label(event.type), event.index);
  if (!event.contact_id || *event.contact_id <= 0) {
    return make_error("{} has no contact.id (a positive whole number)", where);
  }
  SubscriptionChange change;
  change.contact_id = *event.contact_id;
  for (auto [key, target] :
       {std::pair<const char*, std::string*>{"channel", &change.channel},
        std::pair<const char*, std::string*>{"new_status", &change.new_status}}) {
    auto found = event.item.find(key);
    if (found == event.item.end() || !found->is_string()) {
      return make_error("{} has no {} (a string)", where, key);
    }
    *target = found->get<std::string>();
  }
  return change;
}

std::optional<DncReason> configured_reason(const Config& config, const SubscriptionChange& change) {
  const auto reason = parse_reason(change.new_status);
  if (!reason) return std::nullopt;  // "contactable": a contact came back, nothing to do
  if (std::find(config.reasons.begin(), config.reasons.end(), *reason) == config.reasons.end()) {
    return std::nullopt;
  }
  if (std::find(config.channels.begin(), config.channels.end(), change.channel) ==
      config.channels.end()) {
    return std::nullopt;
  }
  return reason;
}

}  // namespace mgdpr
