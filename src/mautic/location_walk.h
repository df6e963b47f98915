// SPDX-License-Identifier: GPL-3.0-or-later
// The one walk over the locations that apply to this database (a visitor, like leveldb's
// WriteBatch::Iterate): which locations are skipped (kept by the policy), which tables each
// covers (form results: one per form) and what kind of link ties its rows to a contact are
// decided here, once; every reader (scrub, late rows, IP unlinking, status, the benchmark's
// coverage check) implements the callbacks. A new Link kind adds a callback, and no reader
// compiles until it says what the new kind means.
#pragma once

#include <string>

#include "core/result.h"
#include "mautic/related_plan.h"

namespace mgdpr::mautic {

class LocationVisitor {
 public:
  virtual ~LocationVisitor() = default;
  // Rows tied to a contact by a column, directly or through a parent row: rows_of()
  // (location_rows.h) selects them.
  virtual Status linked(const LocationPlan& plan, const std::string& table) = 0;
  // Rows that name the contact only inside a queued payload (webhook_queue).
  virtual Status in_payload(const LocationPlan& plan, const std::string& table) = 0;
  // Rows tied by nothing but the contact's email address in free text (webhook_logs).
  virtual Status in_text(const LocationPlan& plan, const std::string& table) = 0;
};

// For readers to whom every table is alike (status, coverage checks): one callback.
class EveryTableVisitor : public LocationVisitor {
 public:
  virtual Status table(const LocationPlan& plan, const std::string& table) = 0;
  Status linked(const LocationPlan& plan, const std::string& name) final {
    return table(plan, name);
  }
  Status in_payload(const LocationPlan& plan, const std::string& name) final {
    return table(plan, name);
  }
  Status in_text(const LocationPlan& plan, const std::string& name) final {
    return table(plan, name);
  }
};

enum class KeptLocations {
  kSkip,   // readers that change or check rows: a location the policy keeps is not theirs
  kVisit,  // readers that list every location
};

// Calls the visitor for every table of every location in the plan, in the table's order
// (children before the rows they hang on). Stops at the first error, which is prefixed with
// the table's name.
Status walk_locations(const RelatedPlan& plan, LocationVisitor& visitor,
                      KeptLocations kept = KeptLocations::kSkip);

}  // namespace mgdpr::mautic
