// SPDX-License-Identifier: GPL-3.0-or-later
// libFuzzer target: a webhook request body as `serve` reads it (src/core/webhook_payload.cpp),
// then every event as the subscription-change handler reads it. Errors name where, never what:
// no message may hold a string from the body beyond the event type label.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "core/webhook_payload.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view body(reinterpret_cast<const char*>(data), size);
  auto batch = mgdpr::parse_webhook(body);
  if (!batch.ok()) return 0;
  mgdpr::Config config;
  for (const auto& event : batch->events) {
    auto change = mgdpr::read_subscription_change(event);
    if (change.ok()) {
      if (change->contact_id <= 0) std::abort();
      (void)mgdpr::configured_reason(config, *change);
    }
    const std::string label = mgdpr::webhook_type_label(event.type);
    if (label.size() > 80) std::abort();
    for (char c : label) {
      if (static_cast<unsigned char>(c) < 0x20 || c == '"' || c == '\\' || c == '`') std::abort();
    }
  }
  return 0;
}
