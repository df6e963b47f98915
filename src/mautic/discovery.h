// SPDX-License-Identifier: GPL-3.0-or-later
// What the location table does not know: tables of the live database that reference contacts
// (a foreign key to leads, a lead_id- or contact_id-like column) or look personal (email-, ip-,
// name-, phone-, user-agent-like column names, serialized or JSON values), and that no location,
// no declared [[related.extra]], no entry of the left-alone list and no [discovery] ignore
// covers: a plugin's tables, or a Mautic version we have not seen. Pure: it reads a Schema, and
// the edges (`check`, the full pass's warnings) render the report.
#pragma once

#include <string>
#include <vector>

#include "core/config.h"
#include "mautic/related_plan.h"
#include "mautic/schema.h"

namespace mgdpr::mautic {

struct DiscoveredTable {
  std::string table{};                          // unprefixed
  std::vector<std::string> contact_columns{};   // reference contacts; the first is the likeliest
  std::vector<std::string> personal_columns{};  // look personal, with the kind to clear them
  std::vector<std::string> kinds{};             // per personal column: clear, php-serialized, json
  // A block to paste into the config: a [[related.extra]] when a column ties rows to contacts,
  // otherwise the [discovery] ignore line for a table reviewed as not personal.
  std::string config_block{};
  std::string summary() const;  // one line: what was found, for warnings
};

struct DiscoveryReport {
  std::vector<DiscoveredTable> tables;
};

DiscoveryReport discover(const Schema& schema, const RelatedPlan& plan, const Config& config);

}  // namespace mgdpr::mautic
