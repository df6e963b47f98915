// SPDX-License-Identifier: GPL-3.0-or-later
#include "app/export_document.h"

#include <fmt/chrono.h>
#include <fmt/format.h>

#include <chrono>
#include <nlohmann/json.hpp>

#include "core/html.h"
#include "mautic/location_rows.h"

namespace mgdpr::app {

namespace {

// How a section is introduced to the person it is about. Sections not listed (a location
// added later) show their table name.
struct SectionText {
  std::string_view name;
  std::string_view title;
  std::string_view about;
};

constexpr SectionText kSectionTexts[] = {
    {"contact", "Your record", "When your record was created and last active, and its score."},
    {"profile", "Your profile", "The values stored about you, by field."},
    {"processing", "Pseudonymization",
     "When and why your personal data was deleted or replaced by a one-way code. Only what "
     "is listed in this file was kept."},
    {"do_not_contact", "Do not contact", "Entries that stop messages from being sent to you."},
    {"segments", "Segments", "Lists you belong to."},
    {"campaigns", "Campaigns", "Campaigns you take part in."},
    {"tags", "Tags", "Tags on your record."},
    {"companies", "Companies", "Companies your record is linked to."},
    {"categories", "Categories", "Subjects you chose to hear about."},
    {"form_results", "Your answers to a form", "What you entered in a form, field by field."},
    {"form_submissions", "Forms you sent", "When you sent a form, and from which page."},
    {"email_stats_devices", "Devices you opened emails on", "Which device opened an email."},
    {"email_stat_replies", "Your replies to emails", "Replies received from you."},
    {"email_stats", "Emails sent to you",
     "Each email sent to you: when, whether it was opened, and the values filled into it."},
    {"page_hits", "Web pages you visited", "Each visit: the page, when, and from where."},
    {"video_hits", "Videos you watched", "Each video view."},
    {"asset_downloads", "Files you downloaded", "Each download."},
    {"campaign_lead_event_failed_log", "Campaign steps that failed", "Why a step failed."},
    {"campaign_lead_event_log", "Campaign steps", "Each step of a campaign done for you."},
    {"sms_message_stats", "Text messages sent to you", "Each text message."},
    {"push_notification_stats", "Push notifications sent to you", "Each push notification."},
    {"dynamic_content_stats", "Personalized content shown to you", "Each time it was shown."},
    {"tweet_stats", "Tweets sent to you", "Each tweet."},
    {"lead_points_change_log", "Changes of your score", "Each change and its cause."},
    {"stage_lead_action_log", "Changes of your stage", "Each change."},
    {"point_lead_action_log", "Points for your actions", "Each action that gave points."},
    {"point_lead_event_log", "Points for events", "Each event that gave points."},
    {"lead_event_log", "Events on your record", "E.g. an import that created or changed it."},
    {"lead_utmtags", "Campaign links you followed", "The tracking values of each link (UTM)."},
    {"audit_log", "Changes to your record", "Who changed what, and when."},
    {"contact_merge_records", "Records merged into yours", "Earlier records of you, merged."},
    {"integration_entity", "Links to other systems", "Your record in other systems (a CRM)."},
    {"sync_object_mapping", "Synchronisation with other systems", "How your record is synced."},
    {"sync_object_field_change_report", "Changes waiting for other systems",
     "Values waiting to be sent to another system."},
    {"lead_devices", "Your devices", "Devices seen with your record."},
    {"lead_notes", "Notes about you", "Notes staff wrote on your record."},
    {"push_ids", "Push registrations", "Devices registered for push notifications."},
    {"dynamic_content_lead_data", "Personalized content", "Content slots set for you."},
    {"message_queue", "Messages waiting to be sent", "Messages queued for you."},
    {"plugin_citrix_events", "Webinars and meetings", "Events you registered for or attended."},
    {"webhook_queue", "Notifications waiting for other systems",
     "Messages about you queued for delivery to another system."},
    {"webhook_logs", "Delivery notes that mention you", "Notes that contain your address."},
    {"lead_ips_xref", "Your IP addresses", "The addresses your visits came from."},
    {"ip_addresses", "IP addresses", "The addresses linked to your data, with their location."},
};

const SectionText* text_of(const std::string& name) {
  std::string_view key = name;
  // form_results_3_contact is one of the per-form tables of the location form_results.
  if (const mautic::Location* location = mautic::location_of_table(name)) key = location->name;
  for (const auto& text : kSectionTexts) {
    if (text.name == key) return &text;
  }
  return nullptr;
}

// For a terminal: control characters (an escape sequence stored in a value) shown as \xNN.
std::string printable(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (unsigned char c : text) {
    if (c < 0x20 || c == 0x7f) {
      out += fmt::format("\\x{:02x}", c);
    } else {
      out += char(c);
    }
  }
  return out;
}

constexpr std::string_view kExportStyle = R"css(
body { margin: 0; background: #f3f5f8; color: #1d2733;
  font: 16px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif; }
main { max-width: 60rem; margin: 0 auto; padding: 1.5rem 1rem 3rem; }
h1 { font-size: 1.6rem; margin: 0 0 .5rem; }
h2 { font-size: 1.3rem; margin: 2rem 0 .5rem; }
h3 { font-size: 1.05rem; margin: 0 0 .2rem; }
p { margin: .3rem 0; }
.muted { color: #5b6675; font-size: .95rem; }
section { background: #fff; border: 1px solid #d8dee6; border-radius: 8px;
  padding: .9rem 1rem; margin: .9rem 0; overflow-x: auto; }
table { border-collapse: collapse; font-size: .9rem; width: 100%; }
th, td { text-align: left; padding: .3rem .5rem; border-bottom: 1px solid #d8dee6;
  vertical-align: top; }
th { color: #5b6675; font-weight: 600; white-space: nowrap; }
td { overflow-wrap: anywhere; white-space: pre-wrap; }
td.empty { color: #9aa4b2; }
@media print { body { background: #fff; } section { break-inside: avoid; } }
)css";

std::string html_cell(const db::Cell& cell) {
  if (!cell) return "<td class=\"empty\">—</td>";
  return "<td>" + html_escape(*cell) + "</td>";
}

std::string html_section(const ExportSection& section) {
  const SectionText* text = text_of(section.name);
  const bool named = text != nullptr && text->name == section.name;
  std::string html =
      fmt::format("<section><h3>{}</h3><p class=\"muted\">{}{}({} {})</p>",
                  html_escape(text != nullptr ? text->title : section.name),
                  text != nullptr ? html_escape(text->about) + " " : std::string(),
                  named ? std::string() : "Stored in " + html_escape(section.name) + " ",
                  section.rows.size(), section.rows.size() == 1 ? "entry" : "entries");
  if (section.name == "profile") {
    // Field by field, under the label Mautic shows.
    html += "<table><tr><th>Field</th><th>Value</th></tr>";
    for (const auto& row : section.rows.rows) {
      html += fmt::format("<tr><th scope=\"row\">{}</th>{}</tr>", html_escape(row[1].value_or("")),
                          html_cell(row[2]));
    }
    return html + "</table></section>";
  }
  if (section.rows.size() == 1) {
    // One row reads better as a list of its columns.
    html += "<table>";
    for (size_t c = 0; c < section.rows.columns.size(); ++c) {
      html += fmt::format("<tr><th scope=\"row\">{}</th>{}</tr>",
                          html_escape(section.rows.columns[c]), html_cell(section.rows.rows[0][c]));
    }
    return html + "</table></section>";
  }
  html += "<table><tr>";
  for (const auto& column : section.rows.columns) html += "<th>" + html_escape(column) + "</th>";
  html += "</tr>";
  for (const auto& row : section.rows.rows) {
    html += "<tr>";
    for (const auto& cell : row) html += html_cell(cell);
    html += "</tr>";
  }
  return html + "</table></section>";
}

}  // namespace

std::string section_title(const std::string& name) {
  const SectionText* text = text_of(name);
  return text != nullptr ? std::string(text->title) : name;
}

std::string utc_now() {
  return fmt::format("{:%Y-%m-%d %H:%M:%S}",
                     std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now()));
}

ExportDocument::ExportDocument(std::string exported_at) : exported_at_(std::move(exported_at)) {}

mautic::ExportSink ExportDocument::sink() {
  return [this](int64_t contact_id, const std::string& section, const db::Rows& rows) -> Status {
    if (contacts_.empty() || contacts_.back().contact_id != contact_id) {
      contacts_.push_back({.contact_id = contact_id, .processed = false, .sections = {}});
    }
    contacts_.back().sections.push_back({section, rows});
    return {};
  };
}

void ExportDocument::set_states(const mautic::ExportSummary& summary) {
  for (auto& contact : contacts_) {
    for (const auto& exported : summary.contacts) {
      if (exported.contact_id == contact.contact_id) contact.processed = exported.processed;
    }
  }
}

std::string ExportDocument::json() const {
  using Json = nlohmann::ordered_json;
  Json contacts = Json::array();
  for (const auto& contact : contacts_) {
    Json sections = Json::array();
    for (const auto& section : contact.sections) {
      Json rows = Json::array();
      for (const auto& row : section.rows.rows) {
        Json object = Json::object();
        for (size_t c = 0; c < section.rows.columns.size(); ++c) {
          object[section.rows.columns[c]] = row[c] ? Json(*row[c]) : Json(nullptr);
        }
        rows.push_back(std::move(object));
      }
      sections.push_back(
          {{"name", section.name}, {"title", section_title(section.name)}, {"rows", rows}});
    }
    contacts.push_back({{"contact_id", contact.contact_id},
                        {"state", contact.processed ? "processed" : "live"},
                        {"sections", sections}});
  }
  Json document = {
      {"format", "mautic-gdpr export"},
      {"version", 1},
      {"exported_at", exported_at_.substr(0, 10) + "T" + exported_at_.substr(11) + "Z"},
      {"contacts", contacts}};
  // A value that is not UTF-8 (a binary column) is replaced, never a reason to fail.
  return document.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

std::string ExportDocument::html() const {
  std::string body = fmt::format(
      "<h1>Personal data export</h1>"
      "<p>This file lists everything our marketing system (Mautic) stores about you, as it was "
      "on {} UTC. It was made on your request under Article 15 of the GDPR.</p>",
      html_escape(exported_at_));
  if (contacts_.size() > 1) {
    body +=
        fmt::format("<p>You have {} contact records; each is listed below.</p>", contacts_.size());
  }
  for (const auto& contact : contacts_) {
    body += fmt::format("<h2>Contact record {}</h2>", contact.contact_id);
    body += contact.processed
                ? "<p class=\"muted\">This record was pseudonymized: your personal data was "
                  "deleted or replaced by a one-way code. What is listed here is what was "
                  "kept.</p>"
                : "<p class=\"muted\">Your data as it is stored.</p>";
    for (const auto& section : contact.sections) body += html_section(section);
  }
  return fmt::format(
      "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
      "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
      "style-src 'unsafe-inline'\">"
      "<title>Personal data export</title><style>{}</style></head><body><main>{}</main>"
      "</body></html>\n",
      kExportStyle, body);
}

std::string ExportDocument::text() const {
  std::string out;
  for (const auto& contact : contacts_) {
    out += fmt::format("contact {} ({}), exported {} UTC\n", contact.contact_id,
                       contact.processed ? "processed: what was kept" : "live", exported_at_);
    for (const auto& section : contact.sections) {
      out += fmt::format("\n{} [{}]: {} row{}\n", section_title(section.name), section.name,
                         section.rows.size(), section.rows.size() == 1 ? "" : "s");
      if (section.name == "profile") {
        for (const auto& row : section.rows.rows) {
          out += fmt::format("  {:<28} {}\n",
                             printable(row[1].value_or("") + " (" + row[0].value_or("") + ")"),
                             printable(row[2].value_or("")));
        }
        continue;
      }
      for (const auto& row : section.rows.rows) {
        std::string line;
        for (size_t c = 0; c < section.rows.columns.size(); ++c) {
          if (!row[c]) continue;
          line += fmt::format("{}{}={}", line.empty() ? "" : "  ", section.rows.columns[c],
                              printable(*row[c]));
        }
        out += "  - " + line + "\n";
      }
    }
    out += "\n";
  }
  return out;
}

}  // namespace mgdpr::app
