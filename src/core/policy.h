// SPDX-License-Identifier: GPL-3.0-or-later
// The vocabulary of a policy: what happens to a value, and why a contact left.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace mgdpr {

// What a sweep does with one personal value.
enum class Action {
  kDelete,  // set to NULL
  kHash,    // replace by the keyed one-way hash of the normalized value
  kKeep,    // leave as it is (non-personal statistics)
  kGeneralize,  // replace by a coarser value (core/generalize.h: year, prefix:N, ...)
};

std::string_view action_name(Action action);
std::optional<Action> parse_action(std::string_view name);

// Mautic's DoNotContact reasons, with the numbers Mautic stores in lead_donotcontact.reason.
enum class DncReason {
  kUnsubscribed = 1,
  kBounced = 2,
  kManual = 3,
};

std::string_view reason_name(DncReason reason);
std::optional<DncReason> parse_reason(std::string_view name);
std::optional<DncReason> reason_from_code(long long code);

}  // namespace mgdpr
