// SPDX-License-Identifier: GPL-3.0-or-later
#include "server/webhook.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <sodium.h>

#include <algorithm>
#include <set>

#include "core/policy.h"
#include "mautic/guard.h"

namespace mgdpr::server {

namespace {

constexpr size_t kDigestBytes = 32;

std::string hmac_sha256_raw(std::string_view body, std::string_view secret) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
       reinterpret_cast<const unsigned char*>(body.data()), body.size(), digest, &length);
  return std::string(reinterpret_cast<const char*>(digest), length);
}

std::string_view trim_spaces(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

// An event type as messages name it: Mautic's own key, shortened so a body cannot flood a log.
std::string type_label(std::string_view type) {
  std::string label(type.substr(0, 80));
  for (char& c : label) {
    if (static_cast<unsigned char>(c) < 0x20 || c == '"' || c == '\\') c = '?';
  }
  return label;
}

std::optional<int64_t> integer_of(const nlohmann::json& value) {
  if (value.is_number_unsigned()) {
    const auto number = value.get<uint64_t>();
    if (number > uint64_t(INT64_MAX)) return std::nullopt;
    return int64_t(number);
  }
  if (value.is_number_integer()) return value.get<int64_t>();
  if (value.is_string()) {
    const auto& text = value.get_ref<const std::string&>();
    if (text.empty() || text.size() > 19) return std::nullopt;
    int64_t number = 0;
    for (char c : text) {
      if (c < '0' || c > '9') return std::nullopt;
      number = number * 10 + (c - '0');
    }
    return number;
  }
  return std::nullopt;
}

}  // namespace

std::string webhook_signature(std::string_view body, std::string_view secret) {
  const std::string digest = hmac_sha256_raw(body, secret);
  std::string encoded(4 * ((digest.size() + 2) / 3) + 1, '\0');
  const int length =
      EVP_EncodeBlock(reinterpret_cast<unsigned char*>(encoded.data()),
                      reinterpret_cast<const unsigned char*>(digest.data()), int(digest.size()));
  encoded.resize(size_t(length));
  return encoded;
}

bool signature_matches(std::string_view body, std::string_view header, std::string_view secret) {
  header = trim_spaces(header);
  unsigned char claimed[kDigestBytes + 1];
  size_t claimed_length = 0;
  if (header.empty() || header.size() > 64 ||
      sodium_base642bin(claimed, sizeof claimed, header.data(), header.size(), nullptr,
                        &claimed_length, nullptr, sodium_base64_VARIANT_ORIGINAL) != 0 ||
      claimed_length != kDigestBytes) {
    return false;
  }
  const std::string expected = hmac_sha256_raw(body, secret);
  return expected.size() == kDigestBytes &&
         CRYPTO_memcmp(expected.data(), claimed, kDigestBytes) == 0;
}

Result<WebhookBatch> parse_webhook(std::string_view body) {
  const auto document = nlohmann::json::parse(body.begin(), body.end(), nullptr, false);
  if (document.is_discarded()) {
    return make_error(
        "the body is not valid JSON (truncated or malformed); Mautic sends one "
        "JSON object per request");
  }
  if (!document.is_object()) {
    return make_error(
        "the body must be a JSON object with a list of events per event type, e.g. "
        "{{\"{}\": [...], \"timestamp\": \"...\"}}",
        kSubscriptionChanged);
  }
  WebhookBatch batch;
  for (const auto& [type, events] : document.items()) {
    if (type == "timestamp") continue;
    if (!events.is_array()) {
      return make_error("`{}` must be a list of events", type_label(type));
    }
    for (size_t index = 0; index < events.size(); ++index) {
      const auto& item = events[index];
      if (!item.is_object()) {
        return make_error("`{}`[{}] is not an event object", type_label(type), index);
      }
      WebhookEvent event;
      event.type = type;
      event.index = index;
      event.item = item;
      if (auto contact = item.find("contact"); contact != item.end() && contact->is_object()) {
        if (auto id = contact->find("id"); id != contact->end()) event.contact_id = integer_of(*id);
      }
      batch.events.push_back(std::move(event));
    }
  }
  return batch;
}

Result<SubscriptionChange> read_subscription_change(const WebhookEvent& event) {
  const std::string where = fmt::format("`{}`[{}]", type_label(event.type), event.index);
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

void WebhookRouter::add(std::string type, EventHandler handler) {
  handlers_[std::move(type)] = std::move(handler);
}

bool WebhookRouter::handles(std::string_view type) const { return handlers_.contains(type); }

Status WebhookRouter::validate(const WebhookBatch& batch) const {
  for (const auto& event : batch.events) {
    auto handler = handlers_.find(event.type);
    if (handler == handlers_.end() || !handler->second.validate) continue;
    MGDPR_TRY(handler->second.validate(event));
  }
  return {};
}

Status WebhookRouter::run(const WebhookBatch& batch, HandlerContext& context,
                          WebhookOutcome& outcome) const {
  std::vector<std::string> order;
  std::map<std::string, std::vector<const WebhookEvent*>> by_type;
  for (const auto& event : batch.events) {
    auto& list = by_type[event.type];
    if (list.empty()) order.push_back(event.type);
    list.push_back(&event);
  }
  outcome.events += int64_t(batch.events.size());
  for (const auto& [type, events] : by_type) outcome.events_by_type[type] += int64_t(events.size());
  for (const auto& type : order) {
    const auto& events = by_type[type];
    auto handler = handlers_.find(type);
    if (handler == handlers_.end()) {
      outcome.ignored += int64_t(events.size());
      continue;
    }
    MGDPR_TRY(handler->second.run(context, events, outcome));
  }
  return {};
}

EventHandler subscription_change_handler() {
  EventHandler handler;
  handler.validate = [](const WebhookEvent& event) -> Status {
    auto change = read_subscription_change(event);
    if (!change) return change.error();
    return {};
  };
  handler.run = [](HandlerContext& context, std::span<const WebhookEvent* const> events,
                   WebhookOutcome& outcome) -> Status {
    std::set<int64_t> wanted;
    for (const WebhookEvent* event : events) {
      auto change = read_subscription_change(*event);
      if (!change) return change.error();
      if (configured_reason(context.session.config, *change)) {
        wanted.insert(change->contact_id);
      } else {
        ++outcome.ignored;
      }
    }
    const std::vector<int64_t> ids(wanted.begin(), wanted.end());
    const size_t batch_size = size_t(std::max(1, context.session.config.sweep.batch_size));
    for (size_t start = 0; start < ids.size(); start += batch_size) {
      const std::span<const int64_t> chunk(ids.data() + start,
                                           std::min(batch_size, ids.size() - start));
      auto report = context.engine.process_contacts(chunk, "webhook");
      if (!report) return report.error();
      const std::set<int64_t> done(report->processed.begin(), report->processed.end());
      const std::set<int64_t> waiting(report->waiting.begin(), report->waiting.end());
      for (int64_t id : chunk) {
        (done.contains(id)      ? outcome.processed
         : waiting.contains(id) ? outcome.waiting
                                : outcome.not_pending)
            .push_back(id);
      }
    }
    return {};
  };
  return handler;
}

// Mautic's contact create/update events: the re-import guard for the contacts they name, then
// the engine for those it put back on do-not-contact. The same two calls as a sweep's guard
// pass and processing, for these contacts only.
EventHandler reimport_guard_handler() {
  EventHandler handler;
  handler.validate = [](const WebhookEvent& event) -> Status {
    if (!event.contact_id) {
      return make_error("{} event {} names no contact id (contact.id)", event.type, event.index);
    }
    return {};
  };
  handler.run = [](HandlerContext& context, std::span<const WebhookEvent* const> events,
                   WebhookOutcome& outcome) -> Status {
    std::set<int64_t> named;
    for (const WebhookEvent* event : events) named.insert(*event->contact_id);
    const std::vector<int64_t> ids(named.begin(), named.end());
    mautic::Guard guard(context.connection, context.session.config, context.session.schema,
                        context.session.policy, *context.session.keys, "webhook");
    auto report = guard.check_contacts(ids);
    if (!report) return report.error();
    std::vector<int64_t> suppressed;
    for (const auto& event : report->events) {
      if (event.suppressed) suppressed.push_back(event.contact_id);
    }
    outcome.ignored += int64_t(events.size() - suppressed.size());
    if (suppressed.empty()) return {};
    auto processed = context.engine.process_contacts(suppressed, "webhook");
    if (!processed) return processed.error();
    outcome.processed.insert(outcome.processed.end(), processed->processed.begin(),
                             processed->processed.end());
    return {};
  };
  return handler;
}

WebhookRouter default_router() {
  WebhookRouter router;
  router.add(std::string(kSubscriptionChanged), subscription_change_handler());
  router.add(std::string(kContactCreated), reimport_guard_handler());
  router.add(std::string(kContactUpdated), reimport_guard_handler());
  return router;
}

}  // namespace mgdpr::server
