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
      outcome.unhandled.insert(outcome.unhandled.end(), report->unhandled.begin(),
                               report->unhandled.end());
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
      return make_error("`{}`[{}] names no contact id (contact.id)", webhook_type_label(event.type),
                        event.index);
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
    // A person who asked to be erased is processed whatever [trigger] says, as the sweep does.
    const auto on_request_ids = report->suppressed_on_request();
    const std::set<int64_t> returned(on_request_ids.begin(), on_request_ids.end());
    for (const bool on_request : {false, true}) {
      std::vector<int64_t> batch;
      for (int64_t id : suppressed) {
        if (returned.contains(id) == on_request) batch.push_back(id);
      }
      if (batch.empty()) continue;
      auto processed = context.engine.process_contacts(
          batch, "webhook", on_request ? mautic::Trigger::kRequest : mautic::Trigger::kConfigured);
      if (!processed) return processed.error();
      outcome.unhandled.insert(outcome.unhandled.end(), processed->unhandled.begin(),
                               processed->unhandled.end());
      outcome.processed.insert(outcome.processed.end(), processed->processed.begin(),
                               processed->processed.end());
    }
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
