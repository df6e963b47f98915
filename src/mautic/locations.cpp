// SPDX-License-Identifier: GPL-3.0-or-later
#include "mautic/locations.h"

#include <fmt/format.h>

namespace mgdpr::mautic {

namespace {

using enum ColumnScrub;
using enum Link;
using enum Orphans;
using enum RowAction;

constexpr std::string_view kLead[] = {"lead"};
constexpr std::string_view kNote[] = {"note"};
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
constexpr ColumnRule kNotificationColumns[] = {{"message", kClear}};
constexpr ColumnRule kCompanyLogColumns[] = {{"action_name", kClear}};
constexpr ColumnRule kEmailCopiesColumns[] = {{"subject", kClear}, {"body", kClear},
                                              {"body_text", kClear}};

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
     .orphans = kLinkNulled,
     .why = "raw form answers, one column per form field: every column but submission_id and "
            "form_id is cleared; the row stays so submission counts hold"},
    {.name = "form_submissions",
     .columns = kFormSubmissionsColumns,
     .orphans = kLinkNulled,
     .why = "a submission is a statistic; its IP, tracking id and referer are personal"},
    {.name = "email_stats_devices",
     .link = kParentRow,
     .link_column = "stat_id",
     .parent = {.table = "email_stats"},
     .default_action = kDelete,
     .orphans = kLinkNulled,
     .why = "which device and IP opened an email: nothing statistical beyond the open in "
            "email_stats"},
    {.name = "email_stat_replies",
     .link = kParentRow,
     .link_column = "stat_id",
     .parent = {.table = "email_stats"},
     .columns = kEmailStatRepliesColumns,
     .orphans = kLinkNulled,
     .why = "a reply is a statistic; the Message-ID header names the sender's mail system",
     .watermark_column = "date_replied"},
    {.name = "email_copies",
     .link = kParentRow,
     .link_column = "id",
     .parent = {.table = "email_stats", .key = "copy_id", .null_column = "email_id"},
     .columns = kEmailCopiesColumns,
     .orphans = kLinkNulled,
     .why = "the text of one-off emails typed on the contact page (email_stats.copy_id with no "
            "email_id): free text about the person. Copies of template emails are the template "
            "before tokens, the same for every recipient, and stay",
     .watermark_column = "date_created"},
    {.name = "email_stats",
     .columns = kEmailStatsColumns,
     .orphans = kLinkNulled,
     .why = "sent/read/clicked stay countable; address, tokens, open details and tracking hash "
            "go"},
    {.name = "page_hits",
     .columns = kHitsColumns,
     .orphans = kLinkNulled,
     .why = "a page view is a statistic; where, from what and with which query string is "
            "personal"},
    {.name = "video_hits",
     .columns = kVideoHitsColumns,
     .orphans = kLinkNulled,
     .why = "a video view is a statistic; its visitor details are personal"},
    {.name = "asset_downloads",
     .columns = kAssetDownloadsColumns,
     .orphans = kLinkNulled,
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
     .orphans = kLinkNulled,
     .why = "an SMS sent is a statistic; tokens and details hold rendered personal values"},
    {.name = "push_notification_stats",
     .columns = kPushStatsColumns,
     .orphans = kLinkNulled,
     .why = "a push sent/clicked is a statistic; tokens and click details are personal"},
    {.name = "dynamic_content_stats",
     .columns = kDynamicStatsColumns,
     .orphans = kLinkNulled,
     .why = "a delivery is a statistic; tokens and details are personal"},
    {.name = "tweet_stats",
     .columns = kTweetStatsColumns,
     .orphans = kLinkNulled,
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
     .orphans = kIdKept,
     .why = "who changed what and when stays; old and new values and the request IP go, also "
            "from the row Mautic writes when it deletes a contact (its name or email)"},
    {.name = "audit_log_notes",
     .table = "audit_log",
     .link = kParentRow,
     .link_column = "object_id",
     .parent = {.table = "lead_notes"},
     .kind_column = "object",
     .kind_values = kNote,
     .columns = kAuditLogColumns,
     .orphans = kParentGone,
     .why = "the audit trail of a note: details copy the note's text, also after the note is "
            "deleted; who wrote it when stays, the text and the request IP go"},
    {.name = "contact_merge_records",
     .link_column = "contact_id",
     .columns = kMergeRecordsColumns,
     .why = "the merge stays; the merged-away contact's name or email goes"},
    {.name = "integration_entity",
     .link_column = "internal_entity_id",
     .kind_column = "internal_entity",
     .kind_values = kLead,
     .columns = kIntegrationEntityColumns,
     .orphans = kIdKept,
     .why = "the CRM link stays (so a sync does not recreate the person); cached internal data "
            "goes"},
    {.name = "sync_object_mapping",
     .link_column = "internal_object_id",
     .kind_column = "internal_object_name",
     .kind_values = kLead,
     .columns = kSyncMappingColumns,
     .orphans = kIdKept,
     .why = "the sync mapping stays; its stored field values go"},
    {.name = "sync_object_field_change_report",
     .link_column = "object_id",
     .kind_column = "object_type",
     .kind_values = kLeadClass,
     .default_action = kDelete,
     .orphans = kIdKept,
     .why = "queued field changes would push personal values to the CRM"},
    {.name = "lead_companies_change_log",
     .default_action = kDelete,
     .columns = kCompanyLogColumns,
     .why = "which company the person joined and when; action_name quotes the company's name. "
            "With the membership gone nothing statistical is left"},
    {.name = "companies_leads",
     .key_column = "",
     .default_action = kDelete,
     .why = "the person's company (and primary company): a company field the policy deletes "
            "would survive here. The company itself stays for its other contacts; write "
            "companies_leads = \"keep\" (and lead_companies_change_log) when the policy keeps "
            "company"},
    {.name = "lead_devices",
     .default_action = kDelete,
     .why = "device fingerprints: nothing statistical"},
    {.name = "lead_notes",
     .default_action = kDelete,
     .why = "free text about the person: nothing statistical"},
    {.name = "push_ids",
     .default_action = kDelete,
     .orphans = kLinkNulled,
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
     .link_column = "payload",
     .payload = Payload::kWebhookJson,
     .default_action = kDelete,
     .columns = kWebhookQueueColumns,
     .orphans = kLeftForDelivery,
     .why = "queued webhook payloads carry the whole contact record"},
    {.name = "messenger_messages",
     .link = kPayload,
     .link_column = "body",
     .payload = Payload::kMessengerEnvelope,
     .default_action = kDelete,
     .orphans = kIdKept,
     .why = "Mautic 5 with a doctrine:// messenger DSN: queued emails (address, name, tokens) and "
            "page hits (IP, user agent, query); the failed queue keeps them for ever. A message "
            "naming the contact (leadId) must not be sent or retried: it goes"},
    {.name = "notifications",
     .link = kPayload,
     .link_column = "message",
     .payload = Payload::kContactLinks,
     .default_action = kDelete,
     .columns = kNotificationColumns,
     .orphans = kIdKept,
     .why = "notices to Mautic users (a failed campaign action, a failed sync) quote the "
            "contact's name or email beside a link to its page; nothing is left of a notice "
            "without its text"},
    {.name = "webhook_logs",
     .link = kText,
     .link_column = "note",
     .columns = kWebhookLogsColumns,
     .orphans = kNotFindable,
     .why = "delivery notes can echo a payload; no contact id is stored, so notes that contain "
            "the contact's exact email address are cleared when the contact is processed"},
    {.name = "lead_ips_xref",
     .key_column = "",
     .default_action = kDelete,
     .why = "the contact's IPs: the links go; an ip_addresses row used by nobody else goes too, "
            "one shared with other contacts stays for them"},
};


// Mautic's tables that are not a location, each with the reason (grouped by reason; the
// generated documentation prints one line per group). Discovery (discovery.h) reports any
// other table that references contacts or looks personal.
constexpr std::string_view kProfile = "the profile: `[policy]` and the fixed columns above";
constexpr std::string_view kNothingPersonal =
    "a contact's memberships, scores and preferences: links and numbers, nothing personal";
constexpr std::string_view kStaff =
    "Mautic's users (staff), their API clients and sign-in data, not contacts";
constexpr std::string_view kContent =
    "what the marketing team builds (emails, pages, forms, campaigns, segments, ...), not "
    "about one contact";
constexpr std::string_view kMachinery = "Mautic's own machinery: settings, caches, migrations";
constexpr std::string_view kShared =
    "shared by every contact that uses them: companies (company data, not the person's; the "
    "link is `companies_leads`) and IP addresses (one goes when no row uses it any more)";
constexpr std::string_view kStaffText =
    "staff-facing records with no contact link that may quote values someone typed: import "
    "file names, report settings, a segment's filters, an export's filter (removed after the "
    "export)";

constexpr LeftAlone kLeftAlone[] = {
    {"leads", kProfile},
    {"lead_fields", kProfile},
    {"lead_donotcontact", "kept as a second safety; its comments (bounce text) are cleared"},
    {"campaign_leads", kNothingPersonal},
    {"lead_lists_leads", kNothingPersonal},
    {"lead_categories", kNothingPersonal},
    {"lead_tags_xref", kNothingPersonal},
    {"lead_frequencyrules", kNothingPersonal},
    {"lead_stages_change_log", kNothingPersonal},
    {"focus_stats", kNothingPersonal},
    {"monitoring_leads", kNothingPersonal},
    {"point_group_contact_score", kNothingPersonal},
    {"companies", kShared},
    {"ip_addresses", kShared},
    {"users", kStaff},
    {"roles", kStaff},
    {"permissions", kStaff},
    {"user_tokens", kStaff},
    {"saml_id_entry", kStaff},
    {"oauth2_accesstokens", kStaff},
    {"oauth2_authcodes", kStaff},
    {"oauth2_clients", kStaff},
    {"oauth2_refreshtokens", kStaff},
    {"oauth2_user_client_xref", kStaff},
    {"imports", kStaffText},
    {"reports", kStaffText},
    {"reports_schedulers", kStaffText},
    {"lead_lists", kStaffText},
    {"contact_export_scheduler", kStaffText},
    {"emails", kContent},
    {"email_list_xref", kContent},
    {"email_list_excluded", kContent},
    {"email_assets_xref", kContent},
    {"pages", kContent},
    {"page_redirects", kContent},
    {"assets", kContent},
    {"forms", kContent},
    {"form_fields", kContent},
    {"form_actions", kContent},
    {"campaigns", kContent},
    {"campaign_events", kContent},
    {"campaign_form_xref", kContent},
    {"campaign_leadlist_xref", kContent},
    {"campaign_summary", kContent},
    {"categories", kContent},
    {"channel_url_trackables", kContent},
    {"dynamic_content", kContent},
    {"focus", kContent},
    {"lead_tags", kContent},
    {"messages", kContent},
    {"message_channels", kContent},
    {"monitoring", kContent},
    {"monitor_post_count", kContent},
    {"points", kContent},
    {"point_groups", kContent},
    {"point_triggers", kContent},
    {"point_trigger_events", kContent},
    {"push_notifications", kContent},
    {"push_notification_list_xref", kContent},
    {"sms_messages", kContent},
    {"sms_message_list_xref", kContent},
    {"stages", kContent},
    {"tweets", kContent},
    {"webhooks", kContent},
    {"webhook_events", kContent},
    {"widgets", kContent},
    {"plugins", kMachinery},
    {"plugin_integration_settings", kMachinery},
    {"plugin_crm_pipedrive_owners", kStaff},
    {"bundle_grapesjsbuilder", kMachinery},
    {"cache_items", kMachinery},
    {"migrations", kMachinery},
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

std::string_view orphans_description(Orphans orphans) {
  switch (orphans) {
    case kDeletedWithContact: return "deleted with it (foreign key)";
    case kLinkNulled: return "link (or the parent's) set to NULL: found by it";
    case kIdKept: return "id kept: found through Mautic's audit of the delete; hourly if indexed";
    case kParentGone: return "found by their parent row being gone";
    case kLeftForDelivery: return "left for delivery (the delete event)";
    case kNotFindable: return "cannot be found";
  }
  return "?";
}

std::string locations_markdown() {
  std::string text =
      "| location | reached through | default | personal columns | after Mautic deletes the "
      "contact | why |\n"
      "|---|---|---|---|---|---|\n";
  for (const auto& location : kLocations) {
    std::string link;
    switch (location.link) {
      case kColumn: link = fmt::format("`{}`", location.link_column); break;
      case kParentRow:
        link = fmt::format("`{}` → {}{}", location.link_column, location.parent.table,
                           location.parent.key == "id"
                               ? std::string()
                               : fmt::format(".{}", location.parent.key));
        if (!location.parent.null_column.empty()) {
          link += fmt::format(" with no {}", location.parent.null_column);
        }
        break;
      case kPayload:
        switch (location.payload) {
          case Payload::kNone:
          case Payload::kWebhookJson: link = "contact id inside the payload"; break;
          case Payload::kMessengerEnvelope: link = "leadId inside the queued message"; break;
          case Payload::kContactLinks: link = "links to the contact's page in the text"; break;
        }
        break;
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
    if (!location.table.empty()) link = fmt::format("`{}`.{}", location.table, link);
    text += fmt::format("| `{}` | {} | {} | {} | {} | {} |\n", location.name, link,
                        row_action_name(location.default_action), columns,
                        orphans_description(location.orphans), location.why);
  }
  text +=
      "\nMautic's other tables, left alone on purpose (`check` reports any other table that "
      "references contacts or looks personal):\n\n"
      "| tables | why |\n|---|---|\n";
  std::string_view group;
  std::string tables;
  auto flush = [&] {
    if (!tables.empty()) text += fmt::format("| {} | {} |\n", tables, group);
    tables.clear();
  };
  for (const auto& left : kLeftAlone) {
    if (left.why != group) flush();
    group = left.why;
    tables += fmt::format("{}`{}`", tables.empty() ? "" : ", ", left.table);
  }
  flush();
  return text;
}

std::span<const LeftAlone> left_alone_tables() { return kLeftAlone; }

const LeftAlone* find_left_alone(std::string_view unprefixed) {
  for (const auto& left : kLeftAlone) {
    if (left.table == unprefixed) return &left;
  }
  return nullptr;
}

const Location* find_location(std::string_view name) {
  for (const auto& location : kLocations) {
    if (location.name == name) return &location;
  }
  return nullptr;
}

}  // namespace mgdpr::mautic
