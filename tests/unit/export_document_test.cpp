// SPDX-License-Identifier: GPL-3.0-or-later
#include "app/export_document.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace mgdpr::app {
namespace {

// A document as the engine's sink fills it, with hostile values.
ExportDocument sample() {
  ExportDocument document("2026-11-30 12:00:00");
  auto sink = document.sink();
  EXPECT_TRUE(sink(42, "profile",
                   {{"field", "label", "value"},
                    {{"email", "Email", "a@example.org"},
                     {"bio", "Bio <b>", "<script>alert('x')</script>\x1b[31m"}}})
                  .ok());
  EXPECT_TRUE(sink(42, "form_results_3_contact",
                   {{"submission_id", "message\"><img>"}, {{"7", std::nullopt}, {"8", "&"}}})
                  .ok());
  EXPECT_TRUE(sink(43, "email_stats", {{"id", "email_address"}, {{"9", "b@example.org"}}}).ok());
  mautic::ExportSummary summary;
  summary.contacts = {{.contact_id = 42, .processed = false, .rows = 4},
                      {.contact_id = 43, .processed = true, .rows = 1}};
  document.set_states(summary);
  return document;
}

TEST(ExportDocument, JsonFollowsTheDocumentedSchema) {
  const auto json = nlohmann::ordered_json::parse(sample().json());
  EXPECT_EQ(json["format"], "mautic-gdpr export");
  EXPECT_EQ(json["version"], 1);
  EXPECT_EQ(json["exported_at"], "2026-11-30T12:00:00Z");
  ASSERT_EQ(json["contacts"].size(), 2u);
  EXPECT_EQ(json["contacts"][0]["contact_id"], 42);
  EXPECT_EQ(json["contacts"][0]["state"], "live");
  EXPECT_EQ(json["contacts"][1]["state"], "processed");
  const auto& profile = json["contacts"][0]["sections"][0];
  EXPECT_EQ(profile["name"], "profile");
  EXPECT_EQ(profile["title"], "Your profile");
  EXPECT_EQ(profile["rows"][0]["value"], "a@example.org");
  const auto& answers = json["contacts"][0]["sections"][1];
  EXPECT_EQ(answers["title"], "Your answers to a form");
  EXPECT_TRUE(answers["rows"][0]["message\"><img>"].is_null());
  // A row's keys keep the table's column order.
  EXPECT_EQ(answers["rows"][0].begin().key(), "submission_id");
}

TEST(ExportDocument, HtmlEscapesEveryOutsideText) {
  const std::string html = sample().html();
  EXPECT_EQ(html.find("<script>"), std::string::npos);
  EXPECT_EQ(html.find("<img>"), std::string::npos);
  EXPECT_EQ(html.find("<b>"), std::string::npos);
  EXPECT_NE(html.find("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;"), std::string::npos);
  EXPECT_NE(html.find("Bio &lt;b&gt;"), std::string::npos);
  EXPECT_NE(html.find("Contact record 43"), std::string::npos);
  EXPECT_NE(html.find("was pseudonymized"), std::string::npos);
  // Self-contained: no script, nothing loaded from elsewhere.
  EXPECT_NE(html.find("default-src 'none'"), std::string::npos);
  EXPECT_EQ(html.find("<script"), std::string::npos);
  EXPECT_EQ(html.find("src="), std::string::npos);
}

TEST(ExportDocument, TextShowsControlCharactersEscaped) {
  const std::string text = sample().text();
  EXPECT_EQ(text.find('\x1b'), std::string::npos);
  EXPECT_NE(text.find("\\x1b[31m"), std::string::npos);
  EXPECT_NE(text.find("Email (email)"), std::string::npos);
  EXPECT_NE(text.find("contact 43 (processed"), std::string::npos);
}

TEST(ExportDocument, SectionsAreTitledForThePerson) {
  EXPECT_EQ(section_title("email_stats"), "Emails sent to you");
  EXPECT_EQ(section_title("form_results_12_x_y"), "Your answers to a form");
  EXPECT_EQ(section_title("some_future_table"), "some_future_table");
}

}  // namespace
}  // namespace mgdpr::app
