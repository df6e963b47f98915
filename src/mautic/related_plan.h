// SPDX-License-Identifier: GPL-3.0-or-later
// The location table (locations.h) as it applies to this database and this config: for every
// location the action ([related] overrides) and the tables this Mautic has for it. Pure: built
// from a Config and a Schema, no I/O.
#pragma once

#include <memory>
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
  bool declared = false;            // from [[related.extra]]; origin is its header's line
};

// A location declared under [[related.extra]]: owns the names its Location views, so it lives
// as long as a plan that points at it (shared: plans are copied).
struct DeclaredLocation {
  std::string name, table, link_column, parent, parent_key, parent_contact_column, key_column,
      why;
  std::string origin;  // "config.toml:12", its [[related.extra]] header
  std::vector<std::string> column_names;
  std::vector<ColumnRule> rules;
  Location location;
};

struct RelatedPlan {
  std::vector<LocationPlan> locations;  // the ones that exist here (declared ones first)
  std::vector<std::string> missing;     // location names whose table this Mautic lacks
  std::vector<std::string> problems;    // `file:line: problem; fix`
  std::vector<std::shared_ptr<const DeclaredLocation>> declared;
};

// Resolves [related] overrides and [[related.extra]] declarations against the table and the
// live schema.
RelatedPlan build_related_plan(const Config& config, const Schema& schema);

}  // namespace mgdpr::mautic
