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

constexpr std::string_view kFormResultsMeta[] = {"submission_id", "form_id"};

// The table. Order matters: rows that hang on others come first (form results before their
// submissions, per-open devices before email_stats and lead_devices).
constexpr Location kLocations[] = {
    {.name = "form_results",
     .tables = Tables::kPerForm,
     .link = kParentRow,
     .link_column = "submission_id",
     .parent = {.table = "form_submissions"},
     .key_column = "submission_id",
     .every_column_but = kFormResultsMeta,
     .why = "raw form answers, one column per form field: every column but submission_id and "
            "form_id is cleared; the row stays so submission counts hold"},
    {.name = "form_submissions",
     .columns = kFormSubmissionsColumns,
     .why = "a submission is a statistic; its IP, tracking id and referer are personal"},
    {.name = "email_stats_devices",
     .link = kParentRow,
     .link_column = "stat_id",
     .parent = {.table = "email_stats"},
     .default_action = kDelete,
     .why = "which device and IP opened an email: nothing statistical beyond the open in "
            "email_stats"},
    {.name = "email_stat_replies",
     .link = kParentRow,
     .link_column = "stat_id",
     .parent = {.table = "email_stats"},
     .columns = kEmailStatRepliesColumns,
     .why = "a reply is a statistic; the Message-ID header names the sender's mail system",
     .watermark_column = "date_replied"},
    {.name = "email_stats",
     .columns = kEmailStatsColumns,
     .why = "sent/read/clicked stay countable; address, tokens, open details and tracking hash "
            "go"},
    {.name = "page_hits",
     .columns = kHitsColumns,
     .why = "a page view is a statistic; where, from what and with which query string is "
            "personal"},
    {.name = "video_hits",
     .columns = kVideoHitsColumns,
     .why = "a video view is a statistic; its visitor details are personal"},
    {.name = "asset_downloads",
     .columns = kAssetDownloadsColumns,
     .why = "a download is a statistic; referer, tracking id and UTM values are personal"},
    {.name = "campaign_lead_event_failed_log",
     .link = kParentRow,
     .link_column = "log_id",
     .parent = {.table = "campaign_lead_event_log"},
     .key_column = "log_id",
     .columns = kCampaignFailedColumns,
     .why = "the failure stays countable; its free-text reason can quote values"},
    {.name = "campaign_lead_event_log",
     .columns = kCampaignLogColumns,
     .why = "campaign progress is a statistic; metadata holds channel results and errors"},
    {.name = "sms_message_stats",
     .columns = kSmsStatsColumns,
     .why = "an SMS sent is a statistic; tokens and details hold rendered personal values"},
    {.name = "push_notification_stats",
     .columns = kPushStatsColumns,
     .why = "a push sent/clicked is a statistic; tokens and click details are personal"},
    {.name = "dynamic_content_stats",
     .columns = kDynamicStatsColumns,
     .why = "a delivery is a statistic; tokens and details are personal"},
    {.name = "tweet_stats",
     .columns = kTweetStatsColumns,
     .why = "a tweet sent is a statistic; the Twitter handle is personal"},
    {.name = "lead_points_change_log",
     .why = "score history is a statistic; only its IP is personal"},
    {.name = "stage_lead_action_log",
     .why = "stage history is a statistic; only its IP is personal"},
    {.name = "point_lead_action_log",
     .key_column = "point_id",
     .why = "point actions are statistics; only their IP is personal"},
    {.name = "point_lead_event_log",
     .key_column = "event_id",
     .why = "point triggers are statistics; only their IP is personal"},
    {.name = "lead_event_log",
     .columns = kEventLogColumns,
     .why = "the event (e.g. an import) stays; its properties hold the imported values"},
    {.name = "lead_utmtags",
     .columns = kUtmTagsColumns,
     .why = "UTM attribution stays; query, URLs, user agent and host are personal"},
    {.name = "audit_log",
     .link_column = "object_id",
     .kind_column = "object",
     .kind_values = kLead,
     .columns = kAuditLogColumns,
     .why = "who changed what and when stays; old and new values and the request IP go"},
    {.name = "contact_merge_records",
     .link_column = "contact_id",
     .columns = kMergeRecordsColumns,
     .why = "the merge stays; the merged-away contact's name or email goes"},
    {.name = "integration_entity",
     .link_column = "internal_entity_id",
     .kind_column = "internal_entity",
     .kind_values = kLead,
     .columns = kIntegrationEntityColumns,
     .why = "the CRM link stays (so a sync does not recreate the person); cached internal data "
            "goes"},
    {.name = "sync_object_mapping",
     .link_column = "internal_object_id",
     .kind_column = "internal_object_name",
     .kind_values = kLead,
     .columns = kSyncMappingColumns,
     .why = "the sync mapping stays; its stored field values go"},
    {.name = "sync_object_field_change_report",
     .link_column = "object_id",
     .kind_column = "object_type",
     .kind_values = kLeadClass,
     .default_action = kDelete,
     .why = "queued field changes would push personal values to the CRM"},
    {.name = "lead_devices",
     .default_action = kDelete,
     .why = "device fingerprints: nothing statistical"},
    {.name = "lead_notes",
     .default_action = kDelete,
     .why = "free text about the person: nothing statistical"},
    {.name = "push_ids",
     .default_action = kDelete,
     .why = "device push tokens: nothing statistical, and no push may reach the person again"},
    {.name = "dynamic_content_lead_data",
     .default_action = kDelete,
     .why = "per-contact content slots: nothing statistical"},
    {.name = "message_queue",
     .default_action = kDelete,
     .why = "queued messages must not reach the person; their options hold personal values"},
    {.name = "plugin_citrix_events",
     .columns = kCitrixColumns,
     .why = "Mautic 4.4 only: webinar attendance stays, the email goes"},
    {.name = "webhook_queue",
     .link = kPayload,
     .link_column = "",
     .default_action = kDelete,
     .columns = kWebhookQueueColumns,
     .why = "queued webhook payloads carry the whole contact record"},
    {.name = "webhook_logs",
     .link = kText,
     .link_column = "note",
     .columns = kWebhookLogsColumns,
     .why = "delivery notes can echo a payload; no contact id is stored, so notes that contain "
            "the contact's exact email address are cleared when the contact is processed"},
    {.name = "lead_ips_xref",
     .key_column = "",
     .default_action = kDelete,
     .why = "the contact's IPs: the links go; an ip_addresses row used by nobody else goes too, "
            "one shared with other contacts stays for them"},
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
      case kColumn: link = fmt::format("`{}`", location.link_column); break;
      case kParentRow:
        link = fmt::format("`{}` → {}", location.link_column, location.parent.table);
        break;
      case kPayload: link = "contact id inside the payload"; break;
      case kText: link = "the contact's exact email in the text"; break;
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
    if (!location.every_column_but.empty()) columns = "every answer column";
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
