// SPDX-License-Identifier: GPL-3.0-or-later
#include "mautic/locations.h"

#include <fmt/format.h>

namespace mgdpr::mautic {

namespace {

using enum ColumnScrub;
using enum Link;
using enum RowAction;

constexpr std::string_view kLead[] = {"lead"};
constexpr std::string_view kLeadClass[] = {"Mautic\\LeadBundle\\Entity\\Lead", "lead"};

constexpr ColumnRule kEmailStatRepliesColumns[] = {{"message_id", kClear}};
constexpr ColumnRule kEmailStatsColumns[] = {{"email_address", kClear}, {"tokens", kPhpSerialized},
                                      {"open_details", kPhpSerialized},
                                      {"tracking_hash", kClear}};
constexpr ColumnRule kHitsColumns[] = {
    {"country", kClear},    {"region", kClear},       {"city", kClear},
    {"isp", kClear},        {"organization", kClear}, {"referer", kClear},
    {"url", kClear},        {"url_title", kClear},    {"user_agent", kClear},
    {"remote_host", kClear}, {"page_language", kClear}, {"browser_languages", kPhpSerialized},
    {"tracking_id", kClear}, {"query", kPhpSerialized}};
constexpr ColumnRule kVideoHitsColumns[] = {
    {"country", kClear},     {"region", kClear},     {"city", kClear},
    {"isp", kClear},         {"organization", kClear}, {"referer", kClear},
    {"url", kClear},         {"user_agent", kClear}, {"remote_host", kClear},
    {"guid", kClear},        {"page_language", kClear}, {"browser_languages", kPhpSerialized},
    {"query", kPhpSerialized}};
constexpr ColumnRule kAssetDownloadsColumns[] = {
    {"referer", kClear},     {"tracking_id", kClear}, {"utm_campaign", kClear},
    {"utm_content", kClear}, {"utm_medium", kClear},  {"utm_source", kClear},
    {"utm_term", kClear}};
constexpr ColumnRule kFormSubmissionsColumns[] = {{"tracking_id", kClear}, {"referer", kClear}};
constexpr ColumnRule kUtmTagsColumns[] = {{"query", kPhpSerialized}, {"referer", kClear},
                                   {"url", kClear},           {"user_agent", kClear},
                                   {"remote_host", kClear}};
constexpr ColumnRule kEventLogColumns[] = {{"properties", kJson}};
constexpr ColumnRule kCampaignLogColumns[] = {{"metadata", kPhpSerialized}};
constexpr ColumnRule kCampaignFailedColumns[] = {{"reason", kClear}};
constexpr ColumnRule kMergeRecordsColumns[] = {{"name", kClear}};
constexpr ColumnRule kSmsStatsColumns[] = {{"tokens", kPhpSerialized}, {"details", kJson},
                                    {"tracking_hash", kClear}};
constexpr ColumnRule kPushStatsColumns[] = {{"tokens", kPhpSerialized},
                                     {"click_details", kPhpSerialized},
                                     {"tracking_hash", kClear}};
constexpr ColumnRule kDynamicStatsColumns[] = {{"tokens", kPhpSerialized},
                                        {"sent_details", kPhpSerialized}};
constexpr ColumnRule kIntegrationEntityColumns[] = {{"internal", kPhpSerialized}};
constexpr ColumnRule kSyncMappingColumns[] = {{"internal_storage", kJson}};
constexpr ColumnRule kAuditLogColumns[] = {{"details", kPhpSerialized}, {"ip_address", kClear}};
constexpr ColumnRule kTweetStatsColumns[] = {{"handle", kClear}, {"response_details", kJson}};
constexpr ColumnRule kWebhookQueueColumns[] = {{"payload", kJson},
                                        {"payload_compressed", kCompressedJson}};
constexpr ColumnRule kWebhookLogsColumns[] = {{"note", kClear}};
constexpr ColumnRule kCitrixColumns[] = {{"email", kClear}};

// The table. Order matters: rows that hang on others come first (form results before their
// submissions, per-open devices before email_stats and lead_devices).
constexpr Location kLocations[] = {
    {"form_results", kFormSubmission, "submission_id", "", {}, "submission_id", kScrub, {},
     "raw form answers, one column per form field: every column but submission_id and form_id "
     "is cleared; the row stays so submission counts hold"},
    {"form_submissions", kContactColumn, "lead_id", "", {}, "id", kScrub, kFormSubmissionsColumns,
     "a submission is a statistic; its IP, tracking id and referer are personal"},
    {"email_stats_devices", kEmailStat, "stat_id", "", {}, "id", kDelete, {},
     "which device and IP opened an email: nothing statistical beyond the open in email_stats"},
    {"email_stat_replies", kEmailStat, "stat_id", "", {}, "id", kScrub, kEmailStatRepliesColumns,
     "a reply is a statistic; the Message-ID header names the sender's mail system",
     "date_replied"},
    {"email_stats", kContactColumn, "lead_id", "", {}, "id", kScrub, kEmailStatsColumns,
     "sent/read/clicked stay countable; address, tokens, open details and tracking hash go"},
    {"page_hits", kContactColumn, "lead_id", "", {}, "id", kScrub, kHitsColumns,
     "a page view is a statistic; where, from what and with which query string is personal"},
    {"video_hits", kContactColumn, "lead_id", "", {}, "id", kScrub, kVideoHitsColumns,
     "a video view is a statistic; its visitor details are personal"},
    {"asset_downloads", kContactColumn, "lead_id", "", {}, "id", kScrub, kAssetDownloadsColumns,
     "a download is a statistic; referer, tracking id and UTM values are personal"},
    {"campaign_lead_event_failed_log", kCampaignLog, "log_id", "", {}, "log_id", kScrub,
     kCampaignFailedColumns, "the failure stays countable; its free-text reason can quote values"},
    {"campaign_lead_event_log", kContactColumn, "lead_id", "", {}, "id", kScrub, kCampaignLogColumns,
     "campaign progress is a statistic; metadata holds channel results and errors"},
    {"sms_message_stats", kContactColumn, "lead_id", "", {}, "id", kScrub, kSmsStatsColumns,
     "an SMS sent is a statistic; tokens and details hold rendered personal values"},
    {"push_notification_stats", kContactColumn, "lead_id", "", {}, "id", kScrub, kPushStatsColumns,
     "a push sent/clicked is a statistic; tokens and click details are personal"},
    {"dynamic_content_stats", kContactColumn, "lead_id", "", {}, "id", kScrub, kDynamicStatsColumns,
     "a delivery is a statistic; tokens and details are personal"},
    {"tweet_stats", kContactColumn, "lead_id", "", {}, "id", kScrub, kTweetStatsColumns,
     "a tweet sent is a statistic; the Twitter handle is personal"},
    {"lead_points_change_log", kContactColumn, "lead_id", "", {}, "id", kScrub, {},
     "score history is a statistic; only its IP is personal"},
    {"stage_lead_action_log", kContactColumn, "lead_id", "", {}, "id", kScrub, {},
     "stage history is a statistic; only its IP is personal"},
    {"point_lead_action_log", kContactColumn, "lead_id", "", {}, "point_id", kScrub, {},
     "point actions are statistics; only their IP is personal"},
    {"point_lead_event_log", kContactColumn, "lead_id", "", {}, "event_id", kScrub, {},
     "point triggers are statistics; only their IP is personal"},
    {"lead_event_log", kContactColumn, "lead_id", "", {}, "id", kScrub, kEventLogColumns,
     "the event (e.g. an import) stays; its properties hold the imported values"},
    {"lead_utmtags", kContactColumn, "lead_id", "", {}, "id", kScrub, kUtmTagsColumns,
     "UTM attribution stays; query, URLs, user agent and host are personal"},
    {"audit_log", kContactColumn, "object_id", "object", kLead, "id", kScrub, kAuditLogColumns,
     "who changed what and when stays; old and new values and the request IP go"},
    {"contact_merge_records", kContactColumn, "contact_id", "", {}, "id", kScrub, kMergeRecordsColumns,
     "the merge stays; the merged-away contact's name or email goes"},
    {"integration_entity", kContactColumn, "internal_entity_id", "internal_entity", kLead, "id",
     kScrub, kIntegrationEntityColumns, "the CRM link stays (so a sync does not recreate the person); "
     "cached internal data goes"},
    {"sync_object_mapping", kContactColumn, "internal_object_id", "internal_object_name", kLead,
     "id", kScrub, kSyncMappingColumns, "the sync mapping stays; its stored field values go"},
    {"sync_object_field_change_report", kContactColumn, "object_id", "object_type", kLeadClass,
     "id", kDelete, {}, "queued field changes would push personal values to the CRM"},
    {"lead_devices", kContactColumn, "lead_id", "", {}, "id", kDelete, {},
     "device fingerprints: nothing statistical"},
    {"lead_notes", kContactColumn, "lead_id", "", {}, "id", kDelete, {},
     "free text about the person: nothing statistical"},
    {"push_ids", kContactColumn, "lead_id", "", {}, "id", kDelete, {},
     "device push tokens: nothing statistical, and no push may reach the person again"},
    {"dynamic_content_lead_data", kContactColumn, "lead_id", "", {}, "id", kDelete, {},
     "per-contact content slots: nothing statistical"},
    {"message_queue", kContactColumn, "lead_id", "", {}, "id", kDelete, {},
     "queued messages must not reach the person; their options hold personal values"},
    {"plugin_citrix_events", kContactColumn, "lead_id", "", {}, "id", kScrub, kCitrixColumns,
     "Mautic 4.4 only: webinar attendance stays, the email goes"},
    {"webhook_queue", kWebhookPayload, "", "", {}, "id", kDelete, kWebhookQueueColumns,
     "queued webhook payloads carry the whole contact record"},
    {"webhook_logs", kNoLink, "note", "", {}, "id", kScrub, kWebhookLogsColumns,
     "delivery notes can echo a payload; no contact id is stored, so notes that contain the "
     "contact's exact email address are cleared when the contact is processed"},
    {"lead_ips_xref", kContactColumn, "lead_id", "", {}, "", kDelete, {},
     "the contact's IPs: the links go; an ip_addresses row used by nobody else goes too, one "
     "shared with other contacts stays for them"},
};

}  // namespace

std::string_view row_action_name(RowAction action) {
  switch (action) {
    case kScrub: return "scrub";
    case kDelete: return "delete";
    case kKeep: return "keep";
  }
  return "?";
}

std::optional<RowAction> parse_row_action(std::string_view name) {
  if (name == "scrub") return kScrub;
  if (name == "delete") return kDelete;
  if (name == "keep") return kKeep;
  return std::nullopt;
}

std::span<const Location> pii_locations() { return kLocations; }

std::string locations_markdown() {
  std::string text =
      "| location | reached through | default | personal columns | why |\n"
      "|---|---|---|---|---|\n";
  for (const auto& location : kLocations) {
    std::string link;
    switch (location.link) {
      case kContactColumn: link = fmt::format("`{}`", location.link_column); break;
      case kEmailStat: link = "`stat_id` → email_stats"; break;
      case kCampaignLog: link = "`log_id` → campaign_lead_event_log"; break;
      case kFormSubmission: link = "`submission_id` → form_submissions"; break;
      case kWebhookPayload: link = "contact id inside the payload"; break;
      case kNoLink: link = "the contact's exact email in the text"; break;
    }
    if (!location.kind_column.empty()) {
      link += fmt::format(" where `{}` = '{}'", location.kind_column, location.kind_values[0]);
    }
    std::string columns;
    for (const auto& rule : location.columns) {
      constexpr std::string_view kSuffix[] = {"", " (serialized)", " (JSON)", " (zlib JSON)"};
      columns += fmt::format("{}`{}`{}", columns.empty() ? "" : ", ", rule.column,
                             kSuffix[static_cast<int>(rule.scrub)]);
    }
    if (location.name == kFormResultsLocation) columns = "every answer column";
    if (columns.empty()) columns = "-";
    text += fmt::format("| `{}` | {} | {} | {} | {} |\n", location.name, link,
                        row_action_name(location.default_action), columns, location.why);
  }
  return text;
}

const Location* find_location(std::string_view name) {
  for (const auto& location : kLocations) {
    if (location.name == name) return &location;
  }
  return nullptr;
}

}  // namespace mgdpr::mautic
