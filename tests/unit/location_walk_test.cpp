// SPDX-License-Identifier: GPL-3.0-or-later
#include "mautic/location_walk.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace mgdpr::mautic {
namespace {

// Records which callback saw which table.
class Recorder : public LocationVisitor {
 public:
  Status linked(const LocationPlan&, const std::string& table) override {
    seen.push_back("linked:" + table);
    return {};
  }
  Status in_payload(const LocationPlan&, const std::string& table) override {
    seen.push_back("payload:" + table);
    return {};
  }
  Status in_text(const LocationPlan&, const std::string& table) override {
    seen.push_back("text:" + table);
    if (table == fail_at) return make_error("statement failed");
    return {};
  }
  std::vector<std::string> seen;
  std::string fail_at;
};

RelatedPlan plan_of(std::initializer_list<std::pair<const char*, RowAction>> entries,
                    std::vector<std::string> form_tables = {}) {
  RelatedPlan plan;
  for (const auto& [name, action] : entries) {
    LocationPlan entry{.location = find_location(name), .action = action, .origin = "default"};
    entry.tables =
        std::string_view(name) == "form_results" ? form_tables : std::vector<std::string>{name};
    plan.locations.push_back(entry);
  }
  return plan;
}

TEST(LocationWalk, EachLinkKindReachesItsCallbackInTableOrder) {
  auto plan = plan_of({{"form_results", RowAction::kScrub},
                       {"email_stats_devices", RowAction::kDelete},
                       {"page_hits", RowAction::kScrub},
                       {"webhook_queue", RowAction::kDelete},
                       {"webhook_logs", RowAction::kScrub}},
                      {"form_results_1_a", "form_results_2_b"});
  Recorder recorder;
  ASSERT_TRUE(walk_locations(plan, recorder).ok());
  EXPECT_EQ(recorder.seen,
            (std::vector<std::string>{"linked:form_results_1_a", "linked:form_results_2_b",
                                      "linked:email_stats_devices", "linked:page_hits",
                                      "payload:webhook_queue", "text:webhook_logs"}));
}

TEST(LocationWalk, KeptLocationsAreSkippedUnlessListed) {
  auto plan = plan_of({{"page_hits", RowAction::kKeep}, {"lead_notes", RowAction::kDelete}});
  Recorder changing;
  ASSERT_TRUE(walk_locations(plan, changing).ok());
  EXPECT_EQ(changing.seen, std::vector<std::string>{"linked:lead_notes"});
  Recorder listing;
  ASSERT_TRUE(walk_locations(plan, listing, KeptLocations::kVisit).ok());
  EXPECT_EQ(listing.seen, (std::vector<std::string>{"linked:page_hits", "linked:lead_notes"}));
}

TEST(LocationWalk, AnErrorStopsTheWalkAndNamesTheTable) {
  auto plan = plan_of({{"webhook_logs", RowAction::kScrub}, {"lead_notes", RowAction::kDelete}});
  Recorder recorder;
  recorder.fail_at = "webhook_logs";
  auto walked = walk_locations(plan, recorder);
  ASSERT_FALSE(walked.ok());
  EXPECT_EQ(walked.error().message, "webhook_logs: statement failed");
  EXPECT_EQ(recorder.seen, std::vector<std::string>{"text:webhook_logs"});
}

}  // namespace
}  // namespace mgdpr::mautic
