// SPDX-License-Identifier: GPL-3.0-or-later
#include "server/pages.h"

#include <gtest/gtest.h>

#include "server/metrics.h"

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

TEST(LookupPage, ButtonsFollowTheRoles) {
  LookupView view;
  view.fields = {{"email", "email"}};
  view.matches = std::vector<mautic::LookupMatch>{};
  view.live = {42};
  const std::string lookup_only = lookup_page({"bob", "tok"}, view);
  EXPECT_NE(lookup_only.find("In Mautic: 1 live contact matches"), std::string::npos);
  EXPECT_EQ(lookup_only.find("action=\"/export\""), std::string::npos);
  EXPECT_EQ(lookup_only.find("action=\"/erase\""), std::string::npos);
  const std::string exporter = lookup_page({"alice", "tok", true, false}, view);
  EXPECT_NE(exporter.find("action=\"/export\""), std::string::npos);
  EXPECT_EQ(exporter.find("action=\"/erase\""), std::string::npos);
  view.mautic_url = "https://m.example.org\"><script>";
  const std::string everything = lookup_page({"alice", "tok", true, true}, view);
  EXPECT_NE(everything.find("action=\"/erase\""), std::string::npos);
  EXPECT_EQ(everything.find("<script>"), std::string::npos);
  EXPECT_NE(everything.find("https://m.example.org&quot;&gt;&lt;script&gt;/s/contacts/view/42"),
            std::string::npos);
}

TEST(LookupPage, KeptValuesUnderMauticsLabels) {
  LookupView view;
  view.fields = {{"email", "email"}};
  mautic::LookupMatch match;
  match.contact_id = 7;
  match.source = "request";
  match.kept = {{"city", "Berlin"}, {"custom_x", std::nullopt}};
  view.matches = std::vector<mautic::LookupMatch>{match};
  view.labels = {{"city", "City <of residence>"}};
  const std::string page = lookup_page({"alice", "tok", true, true}, view);
  EXPECT_NE(page.find("<dt>City &lt;of residence&gt;</dt><dd>Berlin</dd>"), std::string::npos);
  EXPECT_NE(page.find("<dt>custom_x</dt>"), std::string::npos);  // no label: the alias
  EXPECT_NE(page.find("on an erasure request"), std::string::npos);
  // A processed record can be exported, never erased again.
  EXPECT_NE(page.find("action=\"/export\""), std::string::npos);
  EXPECT_EQ(page.find("action=\"/erase\""), std::string::npos);
}

TEST(ErasePages, TheConfirmationErasesOnlyWithConfirmYes) {
  mautic::ErasureReport preview;
  preview.contact_id = 42;
  preview.dry_run = true;
  preview.comment = "mautic-gdpr: erasure request of 2026-11-30";
  preview.channels_added = {"email"};
  preview.items = {{"profile", "email", "Email", "hash", 1}, {"email_stats", "", "", "scrub", 3}};
  preview.email_hashed = true;
  const std::string page = erase_confirm_page({"alice", "tok", true, true}, preview, "");
  EXPECT_NE(page.find("<h1>Erase contact 42?</h1>"), std::string::npos);
  EXPECT_NE(page.find("name=\"confirm\" value=\"yes\""), std::string::npos);
  EXPECT_NE(page.find("name=\"csrf\" value=\"tok\""), std::string::npos);
  EXPECT_NE(page.find("3 rows: personal columns cleared"), std::string::npos);
  EXPECT_NE(page.find("Profile: replaced by keyed hashes</td><td>Email"), std::string::npos);

  preview.processed_before = "2026-01-02 03:04:05";
  const std::string done = erase_confirm_page({"alice", "tok", true, true}, preview, "");
  EXPECT_NE(done.find("Nothing to erase"), std::string::npos);
  EXPECT_EQ(done.find("confirm"), std::string::npos);
}

TEST(AuditPage, EntriesWithHistoryLinksAndPaging) {
  AuditView view;
  view.mautic_url = "https://m.example.org";
  view.entries = {
      {12, "2026-11-30 10:00:00", "web:<bob>", "erase", "by a lookup on the page", 1, 42},
      {11, "2026-11-30 09:59:00", "cli:root", "lookup", "fields: email", 1, std::nullopt}};
  view.older = 11;
  const std::string page = audit_page({"alice", "tok"}, view);
  EXPECT_NE(page.find("web:&lt;bob&gt;"), std::string::npos);
  EXPECT_NE(page.find("href=\"https://m.example.org/s/contacts/view/42\""), std::string::npos);
  EXPECT_NE(page.find("href=\"/audit?contact=42\""), std::string::npos);
  EXPECT_NE(page.find("href=\"/audit?before=11\""), std::string::npos);
  view.contact = 42;
  EXPECT_NE(audit_page({"alice", "tok"}, view).find("href=\"/audit?before=11&amp;contact=42\""),
            std::string::npos);
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
