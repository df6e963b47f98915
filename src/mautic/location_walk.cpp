// SPDX-License-Identifier: GPL-3.0-or-later
#include "mautic/location_walk.h"

namespace mgdpr::mautic {

Status walk_locations(const RelatedPlan& plan, LocationVisitor& visitor, KeptLocations kept) {
  for (const LocationPlan& location : plan.locations) {
    if (location.action == RowAction::kKeep && kept == KeptLocations::kSkip) continue;
    for (const std::string& table : location.tables) {
      switch (location.location->link) {
        case Link::kColumn:
        case Link::kParentRow:
          MGDPR_TRY_CONTEXT(visitor.linked(location, table), "{}", table);
          break;
        case Link::kPayload:
          MGDPR_TRY_CONTEXT(visitor.in_payload(location, table), "{}", table);
          break;
        case Link::kText:
          MGDPR_TRY_CONTEXT(visitor.in_text(location, table), "{}", table);
          break;
      }
    }
  }
  return {};
}

}  // namespace mgdpr::mautic
