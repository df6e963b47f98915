// SPDX-License-Identifier: GPL-3.0-or-later
// The location table (locations.h) as it applies to this database and this config: for every
// location the action ([related] overrides) and the tables this Mautic has for it. Pure: built
// from a Config and a Schema, no I/O.
#pragma once

#include <string>
#include <vector>

#include "core/config.h"
#include "mautic/locations.h"
#include "mautic/schema.h"

namespace mgdpr::mautic {

// One location as it applies to this database.
struct LocationPlan {
  const Location* location = nullptr;
  RowAction action = RowAction::kScrub;
  std::string origin;               // "default" or the config line
  std::vector<std::string> tables;  // existing tables (unprefixed); several for form results
};

struct RelatedPlan {
  std::vector<LocationPlan> locations;  // the ones that exist here
  std::vector<std::string> missing;     // location names whose table this Mautic lacks
  std::vector<std::string> problems;    // `file:line: problem; fix`
};

// Resolves [related] overrides against the table and the live schema.
RelatedPlan build_related_plan(const Config& config, const Schema& schema);

}  // namespace mgdpr::mautic
