// SPDX-License-Identifier: GPL-3.0-or-later
// Mautic's webhooks: the signature check, the request body, and what each event type does.
//
// The body is read by core/webhook_payload.h (events, contact ids, limits); Mautic signs the raw
// body: header Webhook-Signature = base64(HMAC-SHA256(body, secret)).
//
// Every event of a request is validated before anything is changed; then each type's handler
// runs. A subscription change into a configured reason and channel goes to the same
// Engine::process_contacts as the sweep: there is no second code path.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "app/session.h"
#include "core/result.h"
#include "core/webhook_payload.h"
#include "db/connection.h"
#include "mautic/engine.h"

namespace mgdpr::server {

inline constexpr std::string_view kSignatureHeader = "Webhook-Signature";

// base64(HMAC-SHA256(body, secret)), as Mautic computes it.
std::string webhook_signature(std::string_view body, std::string_view secret);

// True when header is the signature of body under secret; compared in constant time.
bool signature_matches(std::string_view body, std::string_view header, std::string_view secret);

// What a request did, for the response body, the log line and the metrics.
struct WebhookOutcome {
  int64_t events = 0;
  std::map<std::string, int64_t> events_by_type;
  int64_t ignored = 0;             // events of a type no handler acts on, or changes not configured
  std::vector<int64_t> processed;  // contacts pseudonymized by this request
  std::vector<int64_t> not_pending;  // named by a configured change, but not pending: already
                                     // processed, deleted, or no do-not-contact row (yet)
  std::vector<mautic::UnhandledRow> unhandled;  // rows the processing could not handle, named
  // Named by a configured change and on do-not-contact, but within the grace period ([trigger]
  // grace): acknowledged now, processed by the first sweep after it (unless resubscribed).
  std::vector<int64_t> waiting;
};

// What the handlers of one request share: one pooled connection, the session's config, schema,
// policy and key (read-only, shared by all requests) and an engine over that connection.
struct HandlerContext {
  db::Connection& connection;
  const app::Session& session;
  mautic::Engine& engine;
};

struct EventHandler {
  // Checks one event before anything is changed; an error fails the whole request (400).
  std::function<Status(const WebhookEvent&)> validate;
  // Acts on every event of its type in the request, after all of them were validated.
  std::function<Status(HandlerContext&, std::span<const WebhookEvent* const>, WebhookOutcome&)> run;
};

// Event type -> handler. Types without a handler are acknowledged and ignored.
class WebhookRouter {
 public:
  void add(std::string type, EventHandler handler);
  bool handles(std::string_view type) const;

  // Every event of the batch through its handler's validate.
  Status validate(const WebhookBatch& batch) const;
  // Each type's handler on its events, in the order the types first appear. Counts first.
  Status run(const WebhookBatch& batch, HandlerContext& context, WebhookOutcome& outcome) const;

 private:
  std::map<std::string, EventHandler, std::less<>> handlers_;
};

// The handler for mautic.lead_channel_subscription_changed: the contacts whose new status is a
// configured reason on a configured channel go through Engine::process_contacts(ids,
// "webhook"), in batches of [sweep] batch_size; it re-checks each contact's do-not-contact
// state inside its transaction, so a repeated or late delivery changes nothing.
EventHandler subscription_change_handler();

// The router `serve` uses. The hook for more event types is here: e.g. the re-import guard
// adds mautic.lead_post_save_new / mautic.lead_post_save_update with a handler that calls
// mautic::Guard::check_contacts for the events' contact ids.
WebhookRouter default_router();

}  // namespace mgdpr::server
