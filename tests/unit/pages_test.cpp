// SPDX-License-Identifier: GPL-3.0-or-later
#include "server/pages.h"

#include "server/metrics.h"

#include <gtest/gtest.h>

namespace mgdpr::server {
namespace {

constexpr int64_t kNow = 1'767'225'600;  // 2026-01-01 00:00:00 UTC

StatusView view_with_success(std::optional<std::string> ended_at) {
  StatusView view;
  view.now = kNow;
  view.sweep_interval_minutes = 10;
  DatabaseNumbers numbers;
  numbers.status.pending = 3;
  numbers.status.oldest_pending_age_seconds = 5400;
  if (ended_at) {
    mautic::SweepRun run{"2025-12-31 23:40:00", ended_at, 12, "ok", std::nullopt, 1.5};
    numbers.status.last_sweep = run;
    numbers.status.last_successful_sweep = run;
  }
  view.numbers = numbers;
  return view;
}

TEST(StatusPage, TheSweepTileTurnsRedAfterTwiceTheInterval) {
  const std::string fresh = status_page({"alice", "tok"}, view_with_success("2025-12-31 23:45:00"));
  EXPECT_EQ(fresh.find("tile bad"), std::string::npos);
  EXPECT_NE(fresh.find("15 min ago"), std::string::npos);
  EXPECT_NE(fresh.find("the oldest waits for 1 h 30 min"), std::string::npos);

  const std::string stale = status_page({"alice", "tok"}, view_with_success("2025-12-31 23:39:00"));
  EXPECT_NE(stale.find("<div class=\"tile bad\"><div class=\"label\">Last successful sweep"),
            std::string::npos)
      << stale;
  const std::string never = status_page({"alice", "tok"}, view_with_success(std::nullopt));
  EXPECT_NE(never.find("tile bad"), std::string::npos);
  EXPECT_NE(never.find("none recorded"), std::string::npos);
}

TEST(StatusPage, AFailedLastSweepIsShownWithItsErrorClass) {
  StatusView view = view_with_success("2025-12-31 23:50:00");
  view.numbers->status.last_sweep =
      mautic::SweepRun{"2025-12-31 23:58:00", "2025-12-31 23:58:01", 0, "failed", "database", 1.0};
  const std::string page = status_page({"alice", "tok"}, view);
  EXPECT_NE(page.find("tile warn"), std::string::npos);
  EXPECT_NE(page.find("database error; started 2 min ago"), std::string::npos) << page;
}

TEST(StatusPage, TheChartIsDrawnForAPhoneWidth) {
  std::vector<DatabaseNumbers::Day> days(30, {"2025-12-01", {{"unsubscribed", 2}}});
  const std::string svg = processed_chart_svg(days);
  EXPECT_NE(svg.find("viewBox=\"0 0 360 200\""), std::string::npos);
  EXPECT_NE(svg.find("font-size=\"13\""), std::string::npos);
}

TEST(LookupPage, GeneralizedValuesAreShownAmongTheKeptOnes) {
  mautic::LookupMatch match;
  match.contact_id = 10;
  match.processed_by = "mautic-gdpr";
  match.reason = "unsubscribed";
  match.channel = "email";
  match.kept = {{"birthday", "1980-01-01"}, {"city", "Berlin"}};
  match.generalized = {{"birthday", "year"}};
  LookupView view;
  view.fields = {{"email", "email"}};
  view.matches = std::vector<mautic::LookupMatch>{match};
  const std::string page = lookup_page({"alice", "tok"}, view);
  EXPECT_NE(page.find("<h3>Values kept by the policy</h3>"), std::string::npos) << page;
  EXPECT_NE(page.find("<dt>birthday</dt><dd>1980-01-01 <span class=\"muted\">(generalized: "
                      "year)</span></dd>"),
            std::string::npos)
      << page;
  EXPECT_NE(page.find("<dt>city</dt><dd>Berlin</dd>"), std::string::npos) << page;
}

TEST(StatusPage, ContactsWaitingOutTheirGraceAreShown) {
  StatusView view = view_with_success("2025-12-31 23:50:00");
  view.numbers->status.waiting = 3;
  view.numbers->status.next_due_at = "2026-01-07 10:00:00";
  const std::string page = status_page({"alice", "tok"}, view);
  EXPECT_NE(page.find("In grace period</div><div class=\"number\">3</div>"), std::string::npos)
      << page;
  EXPECT_NE(page.find("the next is due 2026-01-07 10:00:00 UTC"), std::string::npos) << page;
  view.numbers->status.waiting = 0;
  EXPECT_NE(status_page({"alice", "tok"}, view).find("none waiting out [trigger] grace"),
            std::string::npos);
  EXPECT_NE(prometheus_text({}, view.numbers, true).find("\nmgdpr_contacts_waiting 0\n"),
            std::string::npos);
}

}  // namespace
}  // namespace mgdpr::server
