// SPDX-License-Identifier: GPL-3.0-or-later
#include "core/policy.h"

namespace mgdpr {

std::string_view action_name(Action action) {
  switch (action) {
    case Action::kDelete: return "delete";
    case Action::kHash: return "hash";
    case Action::kKeep: return "keep";
    case Action::kGeneralize: return "generalize";
  }
  return "?";
}

std::optional<Action> parse_action(std::string_view name) {
  if (name == "delete") return Action::kDelete;
  if (name == "hash") return Action::kHash;
  if (name == "keep") return Action::kKeep;
  return std::nullopt;
}

std::string_view reason_name(DncReason reason) {
  switch (reason) {
    case DncReason::kUnsubscribed: return "unsubscribed";
    case DncReason::kBounced: return "bounced";
    case DncReason::kManual: return "manual";
  }
  return "?";
}

std::optional<DncReason> parse_reason(std::string_view name) {
  if (name == "unsubscribed") return DncReason::kUnsubscribed;
  if (name == "bounced") return DncReason::kBounced;
  if (name == "manual") return DncReason::kManual;
  return std::nullopt;
}

std::optional<DncReason> reason_from_code(long long code) {
  if (code >= 1 && code <= 3) return static_cast<DncReason>(code);
  return std::nullopt;
}

}  // namespace mgdpr
