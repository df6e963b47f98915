// SPDX-License-Identifier: GPL-3.0-or-later
#include "mautic/related_plan.h"

#include <fmt/format.h>

#include "mautic/location_rows.h"

namespace mgdpr::mautic {

RelatedPlan build_related_plan(const Config& config, const Schema& schema) {
  RelatedPlan plan;
  std::vector<std::string> names;
  for (const auto& location : pii_locations()) names.emplace_back(location.name);
  for (const auto& [name, action_word] : config.related) {
    const std::string where = config.where("related." + name);
    const Location* location = find_location(name);
    if (location == nullptr) {
      auto suggestion = did_you_mean(name, names);
      plan.problems.push_back(
          fmt::format("{}: `{}` is not a location mautic-gdpr knows; {}", where, name,
                      suggestion ? fmt::format("did you mean `{}`?", *suggestion)
                                 : "run `mautic-gdpr check` to list them"));
      continue;
    }
    auto action = parse_row_action(action_word);
    if (!action) {
      // The word itself is not repeated: a value typed in the wrong place may be anything.
      plan.problems.push_back(fmt::format(
          "{}: the action of a location is \"scrub\", \"delete\" or \"keep\"; write {} = "
          "\"scrub\", \"delete\" or \"keep\"",
          where, name));
      continue;
    }
    if (*action == RowAction::kScrub && location->columns.empty() &&
        location->every_column_but.empty() && schema.column(location->named_table(), "ip_id") == nullptr) {
      plan.problems.push_back(fmt::format(
          "{}: `{}` has nothing statistical to keep, so it cannot be scrubbed; write {} = "
          "\"delete\" or \"keep\"",
          where, name, name));
    }
  }

  for (const auto& location : pii_locations()) {
    LocationPlan entry;
    entry.location = &location;
    entry.action = location.default_action;
    entry.origin = "default";
    if (auto configured = config.related.find(std::string(location.name));
        configured != config.related.end()) {
      if (auto action = parse_row_action(configured->second)) {
        entry.action = *action;
        entry.origin = config.where("related." + std::string(location.name));
      }
    }
    entry.tables = tables_of(location, schema);
    // A location with a table per form applies even before the first form exists.
    if (entry.tables.empty() && location.tables == Tables::kNamed) {
      plan.missing.emplace_back(location.name);
      continue;
    }
    plan.locations.push_back(std::move(entry));
  }
  return plan;
}

}  // namespace mgdpr::mautic
