// SPDX-License-Identifier: GPL-3.0-or-later
// "Leave nothing personal behind": a unique marker in every location Mautic keeps a contact's
// data, for processed and unprocessed contacts alike; after a sweep a full mariadb-dump holds no
// marker of a processed contact and every marker of an unprocessed one.
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <map>
#include <regex>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "core/php_serialize.h"
#include "core/scrub.h"
#include "test_database.h"

namespace mgdpr::testing {
namespace {

using db::Param;

// A PHP serialize() string literal, with its length in bytes.
std::string php_string(const std::string& value) {
  return fmt::format("s:{}:\"{}\";", value.size(), value);
}

// A queued page hit as Symfony's doctrine transport stores it: addslashes(serialize($envelope)).
std::string messenger_body(int64_t contact, const std::string& marker) {
  using php::Entry;
  using php::Value;
  const std::string envelope = "Symfony\\Component\\Messenger\\Envelope";
  const std::string hit = "Mautic\\MessengerBundle\\Message\\PageHitNotification";
  auto mangled = [](const std::string& owner, const char* name) {
    return std::string(1, '\0') + owner + std::string(1, '\0') + name;
  };
  const std::string serialized = php::serialize(Value::object(
      envelope,
      {Entry{mangled(envelope, "stamps"), Value::array()},
       Entry{mangled(envelope, "message"),
             Value::object(hit, {Entry{mangled(hit, "hitId"), Value::integer(1)},
                                 Entry{mangled(hit, "request"),
                                       Value::string("User-Agent: " + marker)},
                                 Entry{mangled(hit, "leadId"), Value::integer(contact)}})}}));
  std::string body;
  for (char c : serialized) {
    if (c == '\0') {
      body += "\\0";
      continue;
    }
    if (c == '\'' || c == '"' || c == '\\') body += '\\';
    body += c;
  }
  return body;
}

// The Custom-Objects-like plugin table the config declares (its values hang on items, items
// are linked to contacts), and the plugin column of leads no lead_fields row describes.
constexpr const char* kDeclaredPlugin =
    "\n[[related.extra]]\ntable = \"custom_field_value_text\"\nlink_column = \"custom_item_id\"\n"
    "parent = \"custom_item_xref_contact\"\nparent_key = \"custom_item_id\"\n"
    "parent_contact_column = \"contact_id\"\ncolumns = { value = \"clear\", meta = \"json\" }\n";

class Related : public MauticTest {
 protected:
  // Inserts a row about `contact` into every location; every personal value is a marker that
  // starts with `tag` (e.g. "MKP10a"), so the dump can be searched for it.
  std::vector<std::string> seed(int64_t contact, const std::string& tag, int64_t row_id,
                                const std::string& when = "2025-05-05 05:05:05") {
    std::vector<std::string> markers;
    auto m = [&](const std::string& what) {
      markers.push_back(tag + what);
      return tag + what;
    };
    auto exec = [&](const std::string& sql, std::vector<Param> params) {
      auto done = connection->execute(sql, params);
      ASSERT_TRUE(done.ok()) << sql << ": " << done.error().message;
    };
    const auto T = [&](const std::string& name) { return quoted(name); };
    const int64_t id = row_id;
    // An IP only this contact uses, with geo details.
    const std::string own_ip = fmt::format("203.0.{}.{}", contact % 250, row_id % 250);
    markers.push_back(own_ip);
    exec(fmt::format("INSERT INTO {} (id, ip_address, ip_details) VALUES (?, ?, ?)",
                     T("ip_addresses")),
         {id, own_ip, "a:1:{s:4:\"city\";" + php_string(m("ipcity")) + "}"});
    exec(fmt::format("INSERT INTO {} (lead_id, ip_id) VALUES (?, ?)", T("lead_ips_xref")),
         {contact, id});
    exec(fmt::format("INSERT INTO {} (id, lead_id, ip_id, email_address, date_sent, is_read, "
                     "is_failed, viewed_in_browser, tracking_hash, tokens, open_details) VALUES "
                     "(?, ?, ?, ?, ?, 1, 0, 0, ?, ?, ?)",
                     T("email_stats")),
         {id, contact, id, m("stataddr@example.org"), when, m("trackhash"),
          "a:1:{s:16:\"{contactfield=a}\";" + php_string(m("token")) + "}",
          "a:1:{i:0;a:2:{s:8:\"datetime\";s:19:\"2025-05-05 05:05:05\";s:9:\"useragent\";" +
              php_string(m("agent")) + "}}"});
    exec(fmt::format("INSERT INTO {} (id, stat_id, ip_id, date_opened) VALUES (?, ?, ?, ?)",
                     T("email_stats_devices")),
         {id, id, id, when});
    exec(fmt::format("INSERT INTO {} (id, stat_id, date_replied, message_id) VALUES (?, ?, ?, ?)",
                     T("email_stat_replies")),
         {fmt::format("00000000-0000-4000-8000-{:012d}", id), id, when, m("msgid@mail.example")});
    exec(fmt::format("INSERT INTO {} (id, lead_id, ip_id, date_hit, code, tracking_id, url, "
                     "referer, user_agent, remote_host, city, query) VALUES "
                     "(?, ?, ?, ?, 200, ?, ?, ?, ?, ?, ?, ?)",
                     T("page_hits")),
         {id, contact, id, when, m("pagetrack"), m("pageurl"), m("pageref"), m("pageagent"),
          m("pagehost"), m("pagecity"),
          "a:1:{s:5:\"email\";" + php_string(m("query@example.org")) + "}"});
    exec(fmt::format("INSERT INTO {} (id, lead_id, ip_id, date_hit, code, guid, url, "
                     "user_agent) VALUES (?, ?, ?, ?, 200, ?, ?, ?)",
                     T("video_hits")),
         {id, contact, id, when, m("videoguid"), m("videourl"), m("videoagent")});
    exec(fmt::format("INSERT INTO {} (id, lead_id, ip_id, date_download, code, tracking_id, "
                     "referer) VALUES (?, ?, ?, ?, 200, ?, ?)",
                     T("asset_downloads")),
         {id, contact, id, when, m("assettrack"), m("assetref")});
    exec(fmt::format("INSERT INTO {} (id, form_id, lead_id, ip_id, tracking_id, date_submitted, "
                     "referer) VALUES (?, 1, ?, ?, ?, ?, ?)",
                     T("form_submissions")),
         {id, contact, id, m("formtrack"), when, m("formref")});
    exec(fmt::format("INSERT INTO {} (submission_id, form_id, first_name, email) VALUES "
                     "(?, 1, ?, ?)",
                     T("form_results_1_contactform")),
         {id, m("answername"), m("answer@example.org")});
    exec(fmt::format("INSERT INTO {} (id, form_id, lead_id, ip_id, date_submitted, referer) "
                     "VALUES (?, 2, ?, ?, ?, '')",
                     T("form_submissions")),
         {id + 1, contact, id, when});
    exec(fmt::format("INSERT INTO {} (submission_id, form_id, message) VALUES (?, 2, ?)",
                     T("form_results_2_feedback")),
         {id + 1, m("feedback")});
    exec(fmt::format("INSERT INTO {} (id, event_id, lead_id, ip_id, rotation, is_scheduled, "
                     "system_triggered, metadata) VALUES (?, 1, ?, ?, ?, 0, 0, ?)",
                     T("campaign_lead_event_log")),
         {id, contact, id, id, "a:1:{s:6:\"errors\";" + php_string(m("campaignerr")) + "}"});
    exec(fmt::format("INSERT INTO {} (log_id, date_added, reason) VALUES (?, ?, ?)",
                     T("campaign_lead_event_failed_log")),
         {id, when, m("failreason")});
    exec(fmt::format("INSERT INTO {} (id, lead_id, is_published, text) VALUES (?, ?, 1, ?)",
                     T("lead_notes")),
         {id, contact, m("note")});
    exec(fmt::format("INSERT INTO {} (id, lead_id, date_added, device, client_info, "
                     "tracking_id) VALUES (?, ?, ?, ?, ?, ?)",
                     T("lead_devices")),
         {id, contact, when, m("device"), "a:1:{s:4:\"name\";" + php_string(m("client")) + "}",
          m("devicetrack")});
    exec(fmt::format("INSERT INTO {} (id, lead_id, date_added, query, referer, url, user_agent, "
                     "remote_host, utm_source) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'newsletter')",
                     T("lead_utmtags")),
         {id, contact, when, "a:1:{s:1:\"q\";" + php_string(m("utmquery")) + "}", m("utmref"),
          m("utmurl"), m("utmagent"), m("utmhost")});
    exec(fmt::format("INSERT INTO {} (id, lead_id, bundle, object, action, date_added, "
                     "properties) VALUES (?, ?, 'lead', 'import', 'inserted', ?, ?)",
                     T("lead_event_log")),
         {id, contact, when,
          nlohmann::json({{"line", 5}, {"row", {{"email", m("imported@example.org")}}}}).dump()});
    const std::string details =
        "a:2:{s:6:\"fields\";a:1:{s:5:\"email\";a:2:{i:0;N;i:1;" + php_string(m("audit@x.org")) +
        "}}s:9:\"dateAdded\";O:8:\"DateTime\":3:{s:4:\"date\";s:26:\"2024-05-01 10:00:00.000000\";"
        "s:13:\"timezone_type\";i:3;s:8:\"timezone\";s:3:\"UTC\";}}";
    const std::string audit_ip = fmt::format("192.0.2.{}", row_id % 250);
    markers.push_back(audit_ip);
    exec(fmt::format("INSERT INTO {} (id, user_id, user_name, bundle, object, object_id, action, "
                     "details, date_added, ip_address) VALUES (?, 1, 'admin', 'lead', 'lead', ?, "
                     "'update', ?, ?, ?)",
                     T("audit_log")),
         {id, contact, details, when, audit_ip});
    // A note's audit trail copies its text (object 'note', object_id the note).
    exec(fmt::format("INSERT INTO {} (id, user_id, user_name, bundle, object, object_id, action, "
                     "details, date_added, ip_address) VALUES (?, 1, 'admin', 'lead', 'note', ?, "
                     "'create', ?, ?, '192.0.2.1')",
                     T("audit_log")),
         {id + 1, id, "a:1:{s:4:\"text\";a:2:{i:0;N;i:1;" + php_string(m("notetrail")) + "}}",
          when});
    exec(fmt::format("INSERT INTO {} (id, user_id, type, header, message, date_added, is_read) "
                     "VALUES (?, 1, 'error', 'Campaign / Send', ?, ?, 0)",
                     T("notifications")),
         {id,
          fmt::format("Campaign action failed for <a href=\"/s/contacts/view/{}\" "
                      "data-toggle=\"ajax\">{}</a>",
                      contact, m("notified@example.org")),
          when});
    if (schema_version == MauticSchemaVersion::k51) {  // Symfony's table, without the prefix
      exec(fmt::format("INSERT INTO {} (id, body, headers, queue_name, created_at, available_at) "
                       "VALUES (?, ?, '[]', 'failed', ?, ?)",
                       db::quote_identifier("messenger_messages")),
           {id, messenger_body(contact, m("queuedhit")), when, when});
    }
    exec(fmt::format("INSERT INTO {} (id, lead_id, type, event_name, action_name, company_id, "
                     "date_added) VALUES (?, ?, 'form', 'Identify Company', ?, 1, ?)",
                     T("lead_companies_change_log")),
         {id, contact, "Lead added to the company, " + m("companyname"), when});
    exec(fmt::format("INSERT INTO {} (company_id, lead_id, date_added, is_primary) VALUES "
                     "(?, ?, ?, 1)",
                     T("companies_leads")),
         {id, contact, when});
    // A one-off email typed on the contact's page: its copy has no template (email_id NULL).
    if (schema_version == MauticSchemaVersion::k51) {
      exec(fmt::format("INSERT INTO {} (id, date_created, subject, body, body_text) VALUES "
                       "(?, ?, ?, ?, ?)",
                       T("email_copies")),
           {fmt::format("oneoff{}", id), when, m("copysubject"), m("copybody"), m("copytext")});
    } else {  // body_text arrived with 5.0
      exec(fmt::format("INSERT INTO {} (id, date_created, subject, body) VALUES (?, ?, ?, ?)",
                       T("email_copies")),
           {fmt::format("oneoff{}", id), when, m("copysubject"), m("copybody")});
    }
    exec(fmt::format("INSERT INTO {} (id, lead_id, copy_id, email_address, date_sent, is_read, "
                     "is_failed, viewed_in_browser) VALUES (?, ?, ?, ?, ?, 0, 0, 0)",
                     T("email_stats")),
         {id + 2, contact, fmt::format("oneoff{}", id), m("oneoff@example.org"), when});
    exec(fmt::format("INSERT INTO {} (id, lead_id, copy_id, email_address, date_sent, is_read, "
                     "is_failed, viewed_in_browser, email_id) VALUES (?, ?, 'template1', ?, ?, "
                     "0, 0, 0, 1)",
                     T("email_stats")),
         {id + 3, contact, m("templated@example.org"), when});
    exec(fmt::format("INSERT INTO {} (id, custom_item_id, contact_id, date_added) VALUES "
                     "(?, ?, ?, ?)",
                     T("custom_item_xref_contact")),
         {id, id, contact, when});
    exec(fmt::format("INSERT INTO {} (id, custom_field_id, custom_item_id, value, meta) VALUES "
                     "(?, 1, ?, ?, ?)",
                     T("custom_field_value_text")),
         {id, id, m("customvalue"), nlohmann::json({{"label", m("custommeta")}}).dump()});
    exec(fmt::format("INSERT INTO {} (id, contact_id, date_added, merged_id, name) VALUES "
                     "(?, ?, ?, 99, ?)",
                     T("contact_merge_records")),
         {id, contact, when, m("mergedname")});
    exec(
        fmt::format("INSERT INTO {} (id, lead_id, push_id, enabled, mobile) VALUES (?, ?, ?, 1, 0)",
                    T("push_ids")),
        {id, contact, m("pushtoken")});
    exec(fmt::format("INSERT INTO {} (id, lead_id, ip_id, date_sent, tracking_hash, tokens, "
                     "details) VALUES (?, ?, ?, ?, ?, ?, ?)",
                     T("sms_message_stats")),
         {id, contact, id, when, m("smstrack"), "a:1:{s:1:\"t\";" + php_string(m("smstoken")) + "}",
          nlohmann::json({{"sent", m("smsdetail")}}).dump()});
    exec(fmt::format("INSERT INTO {} (id, lead_id, ip_id, date_sent, is_clicked, tokens, "
                     "click_details) VALUES (?, ?, ?, ?, 0, ?, ?)",
                     T("push_notification_stats")),
         {id, contact, id, when, "a:1:{s:1:\"t\";" + php_string(m("pushtok")) + "}",
          "a:1:{s:1:\"c\";" + php_string(m("pushclick")) + "}"});
    exec(fmt::format("INSERT INTO {} (id, lead_id, date_sent, tokens, sent_details) VALUES "
                     "(?, ?, ?, ?, ?)",
                     T("dynamic_content_stats")),
         {id, contact, when, "a:1:{s:1:\"t\";" + php_string(m("dyntoken")) + "}",
          "a:1:{s:1:\"d\";" + php_string(m("dyndetail")) + "}"});
    exec(fmt::format("INSERT INTO {} (id, lead_id, date_added, slot) VALUES (?, ?, ?, ?)",
                     T("dynamic_content_lead_data")),
         {id, contact, when, m("slot")});
    exec(fmt::format("INSERT INTO {} (id, lead_id, channel, channel_id, priority, max_attempts, "
                     "attempts, success, status, options) VALUES (?, ?, 'email', 1, 1, 3, 0, 0, "
                     "'pending', ?)",
                     T("message_queue")),
         {id, contact, "a:1:{s:1:\"o\";" + php_string(m("queueopt")) + "}"});
    exec(fmt::format("INSERT INTO {} (id, date_added, integration, internal_entity, "
                     "internal_entity_id, internal) VALUES (?, ?, 'Salesforce', 'lead', ?, ?)",
                     T("integration_entity")),
         {id, when, contact, "a:1:{s:1:\"i\";" + php_string(m("crminternal")) + "}"});
    exec(fmt::format("INSERT INTO {} (id, date_created, integration, internal_object_name, "
                     "internal_object_id, integration_object_name, integration_object_id, "
                     "last_sync_date, internal_storage, is_deleted) VALUES (?, ?, 'Hubspot', "
                     "'lead', ?, 'contact', 'crm-1', ?, ?, 0)",
                     T("sync_object_mapping")),
         {id, when, contact, when, nlohmann::json({{"email", m("syncstore")}}).dump()});
    exec(fmt::format("INSERT INTO {} (id, integration, object_id, object_type, modified_at, "
                     "column_name, column_type, column_value) VALUES (?, 'Hubspot', ?, ?, ?, "
                     "'email', 'string', ?)",
                     T("sync_object_field_change_report")),
         {id, contact, std::string("Mautic\\LeadBundle\\Entity\\Lead"), when, m("syncchange")});
    const std::string payload =
        nlohmann::json(
            {{"mautic.lead_post_save_update",
              {{{"contact",
                 {{"id", contact},
                  {"fields", {{"core", {{"email", {{"value", tag + "queued@x.org"}}}}}}}}}}}}})
            .dump();
    if (schema_version == MauticSchemaVersion::k51) {
      exec(fmt::format("INSERT INTO {} (id, webhook_id, event_id, date_added, payload, "
                       "payload_compressed) VALUES (?, 1, 1, ?, NULL, ?)",
                       T("webhook_queue")),
           {id, when, zlib_compress(payload)});
    } else {  // Mautic 4.4 queues the payload uncompressed
      exec(fmt::format("INSERT INTO {} (id, webhook_id, event_id, date_added, payload) VALUES "
                       "(?, 1, 1, ?, ?)",
                       T("webhook_queue")),
           {id, when, payload});
    }
    exec(fmt::format("INSERT INTO {} (id, webhook_id, status_code, note) VALUES (?, 1, '500', ?)",
                     T("webhook_logs")),
         {id, "echo: " + synthetic_email(contact, contact_set.seed)});
    exec(fmt::format("INSERT INTO {} (id, lead_id, handle, response_details) VALUES (?, ?, ?, ?)",
                     T("tweet_stats")),
         {id, contact, m("twitterhandle"), nlohmann::json({{"r", m("tweetresp")}}).dump()});
    exec(fmt::format("INSERT INTO {} (id, lead_id, ip_id, type, event_name, action_name, delta, "
                     "date_added) VALUES (?, ?, ?, 'action', 'open', 'open', 1, ?)",
                     T("lead_points_change_log")),
         {id, contact, id, when});
    exec(fmt::format("INSERT INTO {} (stage_id, lead_id, ip_id, date_fired) VALUES (?, ?, ?, ?)",
                     T("stage_lead_action_log")),
         {id, contact, id, when});
    // The DNC comment (bounce text) is the profile engine's; it carries the address too.
    markers.push_back(synthetic_email(contact, contact_set.seed));
    return markers;
  }

  void SetUp() override {
    MauticTest::SetUp();
    write_config(std::string(kDefaultPolicy) + kDeclaredPlugin);
    // A per-form results table, plugins' tables (one declared, one not), a plugin's column of
    // leads with no lead_fields row, and Mautic 6's uuid.
    for (const std::string& ddl : {
             fmt::format("CREATE TABLE {} (submission_id INT NOT NULL, form_id INT NOT NULL, "
                         "message LONGTEXT DEFAULT NULL, PRIMARY KEY(submission_id)) DEFAULT "
                         "CHARACTER SET utf8mb4",
                         quoted("form_results_2_feedback")),
             fmt::format("CREATE TABLE {} (id INT AUTO_INCREMENT NOT NULL, custom_item_id INT "
                         "NOT NULL, contact_id BIGINT UNSIGNED NOT NULL, date_added DATETIME, "
                         "PRIMARY KEY(id), CONSTRAINT {} FOREIGN KEY (contact_id) REFERENCES {} "
                         "(id) ON DELETE CASCADE) DEFAULT CHARACTER SET utf8mb4",
                         quoted("custom_item_xref_contact"), quoted("fk_co_contact"),
                         quoted("leads")),
             fmt::format("CREATE TABLE {} (id INT AUTO_INCREMENT NOT NULL, custom_field_id INT "
                         "NOT NULL, custom_item_id INT NOT NULL, value LONGTEXT, meta LONGTEXT, "
                         "PRIMARY KEY(id), INDEX (custom_item_id)) DEFAULT CHARACTER SET utf8mb4",
                         quoted("custom_field_value_text")),
             fmt::format("CREATE TABLE {} (id INT AUTO_INCREMENT NOT NULL, lead_id BIGINT "
                         "UNSIGNED DEFAULT NULL, respondent_email VARCHAR(191), answer TEXT, "
                         "PRIMARY KEY(id), CONSTRAINT {} FOREIGN KEY (lead_id) REFERENCES {} (id) "
                         "ON DELETE SET NULL) DEFAULT CHARACTER SET utf8mb4",
                         quoted("plugin_survey_answers"), quoted("fk_survey_lead"),
                         quoted("leads")),
             fmt::format("ALTER TABLE {} ADD plugin_note VARCHAR(191) DEFAULT NULL, ADD uuid "
                         "CHAR(36) DEFAULT NULL",
                         quoted("leads")),
             fmt::format("UPDATE {} SET uuid = CONCAT('00000000-0000-4000-8000-', LPAD(id, 12, "
                         "'0'))",
                         quoted("leads")),
             fmt::format("INSERT INTO {} (id, date_created, subject, body) VALUES ('template1', "
                         "'2025-01-01', 'Hello', 'Hello {{contactfield=firstname}}')",
                         quoted("email_copies"))}) {
      ASSERT_TRUE(connection->execute(ddl).ok()) << ddl;
    }
    // Parent rows (forms, events, webhooks) are not what this test is about.
    ASSERT_TRUE(connection->execute("SET SESSION foreign_key_checks = 0").ok());
    // Contact 10 is unsubscribed, 11 bounced: processed. 13 contactable, 12 manual: not. 14
    // is contactable until Mautic deletes it.
    for (auto [contact, row] : {std::pair{10, 100}, {11, 110}, {13, 130}, {12, 120}, {14, 140}}) {
      auto markers = seed(contact, fmt::format("MK{}x", contact), row);
      // The plugin's column of leads (the profile is seeded once, not by late rows).
      markers.push_back(fmt::format("MK{}xpluginnote", contact));
      ASSERT_TRUE(connection
                      ->execute(fmt::format("UPDATE {} SET plugin_note = ? WHERE id = ?",
                                            quoted("leads")),
                                {markers.back(), int64_t(contact)})
                      .ok());
      auto& list = (contact == 10 || contact == 11) ? processed_markers
                   : contact == 14                  ? deleted_markers
                                                    : kept_markers;
      list.insert(list.end(), markers.begin(), markers.end());
      markers_of[contact] = std::move(markers);
    }
    // One IP shared by processed contact 10 and unprocessed contact 13.
    ASSERT_TRUE(connection
                    ->execute(fmt::format("INSERT INTO {} (id, ip_address) VALUES (900, "
                                          "'198.51.100.77')",
                                          quoted("ip_addresses")))
                    .ok());
    ASSERT_TRUE(connection
                    ->execute(fmt::format("INSERT INTO {} (lead_id, ip_id) VALUES (10, 900), "
                                          "(13, 900)",
                                          quoted("lead_ips_xref")))
                    .ok());
    kept_markers.push_back("198.51.100.77");
  }

  std::string dump() {
    const std::string path = (dir / "dump.sql").string();
    std::string command =
        fmt::format("mariadb-dump --socket='{}' -uroot --skip-extended-insert '{}' > '{}'",
                    test_socket(), database, path);
    EXPECT_EQ(std::system(command.c_str()), 0) << command;
    std::ifstream in(path, std::ios::binary);
    std::ostringstream content;
    content << in.rdbuf();
    return content.str();
  }

  int64_t rows_in(const std::string& table) {
    auto value = connection->query_value(fmt::format("SELECT COUNT(*) FROM {}", quoted(table)));
    return value.ok() ? db::cell_to_int(*value).value_or(-1) : -1;
  }

  // Mautic deletes contact 14 (UI or API): foreign keys cascade or set NULL as in its schema,
  // and its LeadSubscriber writes the delete to the audit log with the contact's name. Returns
  // the one marker of 14's that nothing left can tie to it: its address in a webhook delivery
  // note (ARCHITECTURE.md: cannot be found); every other place can.
  std::string delete_contact_14_as_mautic_does() {
    EXPECT_TRUE(connection->execute("SET SESSION foreign_key_checks = 1").ok());
    EXPECT_TRUE(connection
                    ->execute(fmt::format("INSERT INTO {} (user_id, user_name, bundle, object, "
                                          "object_id, action, details, date_added, ip_address) "
                                          "VALUES (1, 'admin', 'lead', 'lead', 14, 'delete', ?, "
                                          "'2025-07-07 07:07:07', '192.0.2.250')",
                                          quoted("audit_log")),
                              {"a:1:{s:4:\"name\";" + php_string("MK14xdeletedname") + "}"})
                    .ok());
    deleted_markers.push_back("MK14xdeletedname");
    auto deleted = connection->execute(fmt::format("DELETE FROM {} WHERE id = 14", quoted("leads")));
    EXPECT_TRUE(deleted.ok()) << deleted.error().message;
    std::string unfindable = synthetic_email(14, contact_set.seed);
    std::erase(deleted_markers, unfindable);
    return unfindable;
  }

  std::vector<std::string> processed_markers;
  std::vector<std::string> kept_markers;
  std::map<int64_t, std::vector<std::string>> markers_of;  // each seeded contact's own
  std::vector<std::string> deleted_markers;  // contact 14's
};

// Statistical rows whose default action is scrub: their counts must not change.
const std::vector<std::string> kScrubbedTables = {"email_stats",
                                                  "email_stat_replies",
                                                  "page_hits",
                                                  "video_hits",
                                                  "asset_downloads",
                                                  "form_submissions",
                                                  "form_results_1_contactform",
                                                  "form_results_2_feedback",
                                                  "campaign_lead_event_log",
                                                  "campaign_lead_event_failed_log",
                                                  "lead_utmtags",
                                                  "lead_event_log",
                                                  "audit_log",
                                                  "contact_merge_records",
                                                  "sms_message_stats",
                                                  "push_notification_stats",
                                                  "dynamic_content_stats",
                                                  "integration_entity",
                                                  "sync_object_mapping",
                                                  "tweet_stats",
                                                  "lead_points_change_log",
                                                  "stage_lead_action_log",
                                                  "webhook_logs",
                                                  "email_copies",
                                                  "custom_field_value_text"};

TEST_P(Related, SweepLeavesNothingOfProcessedContactsInTheDump) {
  std::map<std::string, int64_t> counts;
  for (const auto& table : kScrubbedTables) counts[table] = rows_in(table);
  std::string before = dump();
  for (const auto& marker : processed_markers) {
    ASSERT_NE(before.find(marker), std::string::npos) << "seeding missed " << marker;
  }

  // `check` lists the plugin's column of leads and Mautic 6's uuid with what a sweep does, and
  // reports the undeclared plugin table with a block to paste (the declared one is covered).
  auto check = tool({"check"});
  ASSERT_EQ(check.exit_code, 0) << check.out << check.err;
  EXPECT_TRUE(std::regex_search(check.out, std::regex("plugin_note +- +varchar\\(191\\) +delete "
                                                      " policy.default \\(no lead_fields row\\)")))
      << check.out;
  EXPECT_TRUE(std::regex_search(check.out, std::regex("uuid +- +char\\(36\\) +keep +kept: an "
                                                      "identifier")))
      << check.out;
  EXPECT_NE(check.out.find("warning: table `plugin_survey_answers` references contacts (lead_id) "
                           "and looks personal (respondent_email)"),
            std::string::npos)
      << check.out;
  EXPECT_NE(check.out.find("[[related.extra]]\ntable = \"plugin_survey_answers\"\nlink_column = "
                           "\"lead_id\"\naction = \"scrub\""),
            std::string::npos);
  EXPECT_EQ(check.out.find("table `custom_field_value_text`"), std::string::npos);
  EXPECT_NE(check.out.find("custom_field_value_text          scrub   declared in the config "
                           "[declared at"),
            std::string::npos)
      << check.out;

  auto sweep = tool({"sweep", "--json"});
  ASSERT_EQ(sweep.exit_code, 0) << sweep.err;
  std::string after = dump();
  for (const auto& marker : processed_markers) {
    EXPECT_EQ(after.find(marker), std::string::npos) << "left behind: " << marker;
  }
  for (const auto& marker : kept_markers) {
    EXPECT_NE(after.find(marker), std::string::npos) << "lost: " << marker;
  }
  for (const auto& marker : deleted_markers) {
    EXPECT_NE(after.find(marker), std::string::npos) << "lost before its delete: " << marker;
  }
  for (const auto& table : kScrubbedTables) EXPECT_EQ(rows_in(table), counts[table]) << table;
  // Company links go, the template's copy and Mautic 6's identifier stay.
  auto count_of = [&](const std::string& sql) {
    return connection->query_value(sql)->value_or("?");
  };
  EXPECT_EQ(count_of(fmt::format("SELECT COUNT(*) FROM {} WHERE lead_id IN (10, 11)",
                                 quoted("companies_leads"))),
            "0");
  EXPECT_EQ(count_of(fmt::format("SELECT COUNT(*) FROM {} WHERE lead_id IN (10, 11)",
                                 quoted("lead_companies_change_log"))),
            "0");
  EXPECT_EQ(count_of(fmt::format("SELECT body FROM {} WHERE id = 'template1'", quoted("email_copies"))),
            "Hello {contactfield=firstname}");
  EXPECT_EQ(count_of(fmt::format("SELECT uuid FROM {} WHERE id = 10", quoted("leads"))),
            "00000000-0000-4000-8000-000000000010");

  // Structured values were rewritten, not broken.
  auto details = connection->query(
      fmt::format("SELECT details FROM {} WHERE object_id IN (10, 11)", quoted("audit_log")), {});
  ASSERT_TRUE(details.ok());
  for (const auto& row : details->rows) {
    auto parsed = php::parse(*row[0]);
    ASSERT_TRUE(parsed.ok()) << parsed.error().message;
    EXPECT_NE(row[0]->find("DateTime"), std::string::npos);
  }
  auto json_rows = connection->query(
      fmt::format("SELECT properties FROM {} WHERE lead_id IN (10, 11) UNION ALL SELECT "
                  "internal_storage FROM {} WHERE internal_object_id IN (10, 11)",
                  quoted("lead_event_log"), quoted("sync_object_mapping")),
      {});
  ASSERT_TRUE(json_rows.ok());
  EXPECT_EQ(json_rows->size(), 4u);
  for (const auto& row : json_rows->rows) {
    EXPECT_FALSE(nlohmann::json::parse(*row[0], nullptr, false).is_discarded()) << *row[0];
  }
  // Queued webhooks about processed contacts are gone (their payloads are compressed, so the
  // dump cannot show it); those about others stay, still readable.
  auto queued = connection->query(
      fmt::format("SELECT {} FROM {} ORDER BY id",
                  schema_version == MauticSchemaVersion::k51 ? "payload_compressed" : "payload",
                  quoted("webhook_queue")),
      {});
  ASSERT_TRUE(queued.ok());
  ASSERT_EQ(queued->size(), 3u);  // contacts 12, 13 and 14
  for (const auto& row : queued->rows) {
    auto text = schema_version == MauticSchemaVersion::k51 ? zlib_decompress(*row[0])
                                                           : Result<std::string>(*row[0]);
    ASSERT_TRUE(text.ok());
    EXPECT_EQ(text->find("MK10x"), std::string::npos);
    EXPECT_EQ(text->find("MK11x"), std::string::npos);
    EXPECT_NE(text->find("queued@x.org"), std::string::npos);
  }
  // The shared IP stays for contact 13 but is no longer linked to contact 10.
  EXPECT_EQ(rows_in("lead_ips_xref"), 4);  // the own IPs of 12, 13 and 14, and the shared one
  auto unlinked = connection->query_value(
      fmt::format("SELECT COUNT(*) FROM {} WHERE lead_id IN (10, 11)", quoted("lead_ips_xref")));
  EXPECT_EQ(unlinked->value_or(""), "0");

  // Rows Mautic writes later about a processed contact are cleaned by the next sweep.
  ASSERT_TRUE(connection->execute("SET SESSION foreign_key_checks = 0").ok());
  std::vector<std::string> late;
  for (auto [contact, row] : {std::pair{10, 200}, {11, 210}}) {
    auto markers = seed(contact, fmt::format("LATE{}x", contact), row, "2025-06-06 06:06:06");
    late.insert(late.end(), markers.begin(), markers.end());
  }
  std::vector<std::string> late_kept = seed(13, "LATE13x", 230, "2025-06-06 06:06:06");
  ASSERT_EQ(tool({"sweep", "-q"}).exit_code, 0);
  after = dump();
  for (const auto& marker : late) {
    EXPECT_EQ(after.find(marker), std::string::npos) << "late row left behind: " << marker;
  }
  for (const auto& marker : late_kept) {
    EXPECT_NE(after.find(marker), std::string::npos) << "lost: " << marker;
  }
  auto status = nlohmann::json::parse(tool({"status", "--json"}).out);
  EXPECT_FALSE(status["locations_cleaned_at"]["email_stats"].is_null());

  // Mautic saves new values into a processed profile (e.g. a form the tracked visitor sends):
  // the next full pass pseudonymizes them again, leaving digests as they are.
  const std::string new_email = "Returned.Person@Example.org";
  ASSERT_TRUE(connection
                  ->execute(fmt::format("UPDATE {} SET firstname = 'LATEfirstname', email = ?, "
                                        "date_modified = UTC_TIMESTAMP() + INTERVAL 1 SECOND "
                                        "WHERE id = 10",
                                        quoted("leads")),
                            {new_email})
                  .ok());
  const std::string mobile_digest =
      connection->query_value(fmt::format("SELECT mobile FROM {} WHERE id = 10", quoted("leads")))
          ->value_or("");

  const std::string unfindable = delete_contact_14_as_mautic_does();
  auto full = tool({"sweep", "--json", "--full-pass"});
  ASSERT_EQ(full.exit_code, 0) << full.err;
  // Every full pass warns about the plugin table no location covers.
  const auto warnings = nlohmann::json::parse(full.out)["warnings"];
  ASSERT_EQ(warnings.size(), 1u) << full.out;
  EXPECT_NE(warnings[0].get<std::string>().find("plugin_survey_answers"), std::string::npos);
  after = dump();
  for (const auto& marker : deleted_markers) {
    EXPECT_EQ(after.find(marker), std::string::npos) << "left of a deleted contact: " << marker;
  }
  EXPECT_NE(after.find(unfindable), std::string::npos);
  for (const auto& marker : late) {
    EXPECT_EQ(after.find(marker), std::string::npos) << "left after the full pass: " << marker;
  }
  EXPECT_EQ(after.find("LATEfirstname"), std::string::npos);
  EXPECT_EQ(after.find("Returned.Person"), std::string::npos);
  EXPECT_EQ(
      connection->query_value(fmt::format("SELECT mobile FROM {} WHERE id = 10", quoted("leads")))
          ->value_or(""),
      mobile_digest);
  auto found = tool({"lookup", "--json", "--email", new_email});
  ASSERT_EQ(found.exit_code, 0) << found.err;
  EXPECT_EQ(nlohmann::json::parse(found.out)["matches"][0]["contact_id"], 10);
}

// [orphans] action = "keep": what Mautic leaves of a contact it deletes stays as Mautic left it,
// in the sweep that reads its journal of deletes and in the full pass alike.
TEST_P(Related, OrphansKeptWhenConfiguredSo) {
  write_config(std::string(kDefaultPolicy) + kDeclaredPlugin + "\n[orphans]\naction = \"keep\"\n");
  ASSERT_EQ(tool({"sweep", "-q"}).exit_code, 0);
  delete_contact_14_as_mautic_does();
  ASSERT_EQ(tool({"sweep", "-q"}).exit_code, 0);
  ASSERT_EQ(tool({"sweep", "-q", "--full-pass"}).exit_code, 0);
  const std::string after = dump();
  for (const std::string marker : {"MK14xstataddr", "MK14xdeletedname"}) {
    EXPECT_NE(after.find(marker), std::string::npos) << "kept as configured: " << marker;
  }
  EXPECT_EQ(after.find("MK10xstataddr"), std::string::npos) << "a processed contact's row";
}

// A location the admin kept and later switches back to its default: the next sweep finds every
// processed contact's old rows there by content and repairs them, in batches (ids here lie far
// apart), and says so.
TEST_P(Related, LocationSwitchedFromKeepCatchesUpOnOldRows) {
  write_config(std::string(kDefaultPolicy) + "\n[related]\nemail_stats = \"keep\"\n");
  ASSERT_EQ(tool({"sweep", "-q"}).exit_code, 0);
  ASSERT_TRUE(connection->execute("SET SESSION foreign_key_checks = 0").ok());
  for (int64_t id : {int64_t{45000}, int64_t{90000}}) {
    ASSERT_TRUE(
        connection
            ->execute(fmt::format("INSERT INTO {} (id, lead_id, email_address, date_sent, "
                                  "is_read, is_failed, viewed_in_browser, tokens) VALUES "
                                  "(?, 10, ?, '2025-05-05', 0, 0, 0, ?)",
                                  quoted("email_stats")),
                      {id, fmt::format("KEPT{}x@example.org", id),
                       "a:1:{s:1:\"t\";" + php_string(fmt::format("KEPT{}token", id)) + "}"})
            .ok());
  }
  std::string kept = dump();
  for (const std::string marker : {"MK10xstataddr", "MK10xtoken", "KEPT45000x", "KEPT90000token"}) {
    ASSERT_NE(kept.find(marker), std::string::npos) << "kept as configured: " << marker;
  }
  auto verified = tool({"verify"});
  EXPECT_EQ(verified.exit_code, 0) << "a kept location is not checked: " << verified.out;

  write_config(kDefaultPolicy);
  verified = tool({"verify", "--json"});
  EXPECT_EQ(verified.exit_code, 1);
  auto report = nlohmann::json::parse(verified.out);
  ASSERT_EQ(report["violations"].size(), 1u) << verified.out;
  EXPECT_EQ(report["violations"][0]["table"], "email_stats");
  // Contacts 10 and 11 (three rows each: a sent email, a one-off one, a template's), and the
  // two rows of 10 added.
  EXPECT_EQ(report["violations"][0]["rows"], 8);
  auto sweep = tool({"sweep", "--json"});
  ASSERT_EQ(sweep.exit_code, 0) << sweep.err;
  EXPECT_EQ(nlohmann::json::parse(sweep.out)["repaired"]["email_stats"], 8) << sweep.out;
  std::string after = dump();
  for (const std::string marker :
       {"MK10xstataddr", "MK10xtoken", "MK11xtrackhash", "KEPT45000x", "KEPT90000token"}) {
    EXPECT_EQ(after.find(marker), std::string::npos) << "left behind: " << marker;
  }
  EXPECT_NE(after.find("MK13xstataddr"), std::string::npos) << "an unprocessed contact's row";
  EXPECT_EQ(rows_in("email_stats"), 17);  // scrubbed, not deleted
  EXPECT_EQ(tool({"verify"}).exit_code, 0);
}

// The two requests a person sends besides unsubscribing, one after the other. Access: the
// export of a live person holds their marker from every location (payloads decompressed, notes
// found by the address) and nothing of anyone else; a processed person's export says when and
// why, and holds none of what processing cleared. Erasure: afterwards a full dump holds none of
// the person's markers, `lookup` finds the record (on request), and the address imported again
// is caught by the re-import guard and erased again.
TEST_P(Related, AccessAndErasureRequestsOfOnePerson) {
  const std::string email = synthetic_email(13, contact_set.seed);
  const auto json_path = dir / "export-13.json";
  const auto html_path = dir / "export-13.html";
  auto exported = tool({"export", "--email", email, "--json", "--out", json_path.string(),
                        "--html", html_path.string()});
  ASSERT_EQ(exported.exit_code, 0) << exported.err;
  EXPECT_EQ(exported.out + exported.err, "");  // --json: the document is the file
  for (const auto& path : {json_path, html_path}) {
    EXPECT_EQ(std::filesystem::status(path).permissions() & std::filesystem::perms::all,
              std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  }
  std::ifstream json_in(json_path), html_in(html_path);
  const std::string json_text((std::istreambuf_iterator<char>(json_in)), {});
  const std::string html((std::istreambuf_iterator<char>(html_in)), {});
  auto expected = markers_of[13];
  expected.insert(expected.end(), {"198.51.100.77", "MK13xqueued@x.org", "echo: " + email});
  for (const auto& marker : expected) {
    EXPECT_NE(json_text.find(marker), std::string::npos) << "export lacks " << marker;
    EXPECT_NE(html.find(marker), std::string::npos) << "HTML lacks " << marker;
  }
  for (int64_t other : {10, 11, 12}) {
    for (const auto& marker : markers_of[other]) {
      EXPECT_EQ(json_text.find(marker), std::string::npos) << "another person's " << marker;
      EXPECT_EQ(html.find(marker), std::string::npos) << "another person's " << marker;
    }
  }
  const auto json = nlohmann::json::parse(json_text);
  ASSERT_EQ(json["contacts"].size(), 1u);
  EXPECT_EQ(json["contacts"][0]["state"], "live");
  std::set<std::string> sections;
  for (const auto& section : json["contacts"][0]["sections"]) sections.insert(section["name"]);
  for (const char* name : {"contact", "profile", "email_stats", "form_results_1_contactform",
                           "webhook_queue", "webhook_logs", "audit_log", "ip_addresses"}) {
    EXPECT_TRUE(sections.contains(name)) << name;
  }
  EXPECT_EQ(json["contacts"][0]["sections"][1]["rows"][0]["label"], "First Name");

  // Never over an existing file; the value is in no audit row.
  auto again = tool({"export", "--email", email, "--out", json_path.string()});
  EXPECT_EQ(again.exit_code, 64);
  EXPECT_NE(again.err.find("never overwrites"), std::string::npos) << again.err;
  auto audit = connection->query(
      fmt::format("SELECT detail, contact_id FROM {} WHERE action = 'export'", quoted("gdpr_audit")));
  ASSERT_TRUE(audit.ok());
  ASSERT_EQ(audit->size(), 1u);
  EXPECT_EQ(audit->rows[0][0]->find('@'), std::string::npos) << *audit->rows[0][0];
  EXPECT_EQ(audit->rows[0][1], std::optional<std::string>("13"));

  // Processed: what was kept, when and why; none of what processing cleared.
  ASSERT_EQ(tool({"sweep", "-q"}).exit_code, 0);
  auto processed = tool({"export", "--email", synthetic_email(10, contact_set.seed), "--json"});
  ASSERT_EQ(processed.exit_code, 0) << processed.err;
  const auto record = nlohmann::json::parse(processed.out)["contacts"][0];
  EXPECT_EQ(record["state"], "processed");
  bool explained = false;
  for (const auto& section : record["sections"]) {
    if (section["name"] != "processing") continue;
    EXPECT_EQ(section["rows"][0]["reason"], "unsubscribed");
    EXPECT_EQ(section["rows"][0]["processed_by"], "sweep");
    explained = true;
  }
  EXPECT_TRUE(explained) << processed.out;
  for (const auto& marker : markers_of[10]) {
    EXPECT_EQ(processed.out.find(marker), std::string::npos) << "left in the export: " << marker;
  }
  EXPECT_EQ(tool({"export", "--email", "nobody@example.org"}).exit_code, 1);

  // --- Erasure ---
  const auto before = table_rows(*connection, table("leads"), "id = 13");
  auto dry = tool({"erase", "--email", email, "--dry-run", "--json"});
  ASSERT_EQ(dry.exit_code, 0) << dry.err;
  const auto plan = nlohmann::json::parse(dry.out)["contacts"][0];
  EXPECT_TRUE(plan["dry_run"]);
  EXPECT_EQ(plan["do_not_contact"]["channels"], nlohmann::json::array({"email"}));
  bool stats = false;
  for (const auto& item : plan["items"]) {
    stats = stats || (item["place"] == "email_stats" && item["action"] == "scrub");
  }
  EXPECT_TRUE(stats) << dry.out;
  // Without --yes and without a terminal to ask on, nothing happens.
  EXPECT_EQ(tool({"erase", "--email", email}).exit_code, 64);
  EXPECT_EQ(before, table_rows(*connection, table("leads"), "id = 13"));

  auto erased = tool({"erase", "--email", email, "--yes"});
  ASSERT_EQ(erased.exit_code, 0) << erased.err;
  EXPECT_NE(erased.out.find("erased on request"), std::string::npos) << erased.out;
  const std::string after = dump();
  for (const auto& marker : markers_of[13]) {
    EXPECT_EQ(after.find(marker), std::string::npos) << "left behind: " << marker;
  }
  for (const auto& marker : markers_of[12]) {
    EXPECT_NE(after.find(marker), std::string::npos) << "lost: " << marker;
  }
  EXPECT_EQ(connection
                ->query_value(fmt::format("SELECT CONCAT(reason, '/', source) FROM {} WHERE "
                                          "contact_id = 13",
                                          quoted("gdpr_contacts")))
                ->value_or(""),
            "manual/request");
  EXPECT_EQ(connection
                ->query_value(fmt::format("SELECT CONCAT(reason, '|', comments) FROM {} WHERE "
                                          "lead_id = 13",
                                          quoted("lead_donotcontact")))
                ->value_or("")
                .substr(0, 36),
            "3|mautic-gdpr: erasure request of 20");

  auto found = tool({"lookup", "--json", "--email", email});
  ASSERT_EQ(found.exit_code, 0) << found.err;
  const auto match = nlohmann::json::parse(found.out)["matches"][0];
  EXPECT_EQ(match["contact_id"], 13);
  EXPECT_EQ(match["source"], "request");
  // A second request finds nothing left to erase.
  auto twice = tool({"erase", "--email", email, "--yes"});
  EXPECT_EQ(twice.exit_code, 0);
  EXPECT_NE(twice.out.find("nothing is left to erase"), std::string::npos) << twice.out;

  // The address comes back with an import: the guard puts it on do-not-contact and the same
  // sweep erases it again, although [trigger] does not count manual entries.
  ASSERT_TRUE(connection
                  ->execute(fmt::format("INSERT INTO {} (id, is_published, date_added, "
                                        "date_identified, points, email, firstname) VALUES "
                                        "(5013, 1, UTC_TIMESTAMP(), UTC_TIMESTAMP(), 0, ?, "
                                        "'MKBACKfirstname')",
                                        quoted("leads")),
                            {email})
                  .ok());
  ASSERT_TRUE(connection
                  ->execute(fmt::format("INSERT INTO {} (lead_id, bundle, object, action, "
                                        "object_id, date_added, properties) VALUES (5013, "
                                        "'lead', 'import', 'inserted', 1, UTC_TIMESTAMP(), '{{}}')",
                                        quoted("lead_event_log")))
                  .ok());
  auto sweep = tool({"sweep", "--json"});
  ASSERT_EQ(sweep.exit_code, 0) << sweep.err;
  const auto guard = nlohmann::json::parse(sweep.out)["guard"];
  ASSERT_EQ(guard["events"].size(), 1u) << sweep.out;
  EXPECT_EQ(guard["events"][0]["contact_id"], 5013);
  EXPECT_EQ(guard["events"][0]["action"], "suppressed");
  EXPECT_EQ(connection
                ->query_value(fmt::format("SELECT source FROM {} WHERE contact_id = 5013",
                                          quoted("gdpr_contacts")))
                ->value_or(""),
            "request");
  EXPECT_EQ(dump().find("MKBACKfirstname"), std::string::npos);

  for (const auto& row : table_rows(*connection, table("gdpr_audit"))) {
    EXPECT_EQ(row.find('@'), std::string::npos) << row;
  }
  EXPECT_EQ(connection
                ->query_value(fmt::format("SELECT COUNT(*) FROM {} WHERE action = 'erase' AND "
                                          "contact_id = 13",
                                          quoted("gdpr_audit")))
                ->value_or(""),
            "2");
}

INSTANTIATE_TEST_SUITE_P(Prefixes, Related, ::testing::Values("", "mt_"), prefix_name);

// Mautic 4.4 (and databases upgraded from it): ip_id NOT NULL in page_hits, video_hits,
// asset_downloads, form_submissions and lead_points_change_log, and IP foreign keys that
// refuse deletes. The same guarantees hold.
class Related44 : public Related {
 protected:
  void SetUp() override {
    schema_version = MauticSchemaVersion::k44;
    Related::SetUp();
  }
};

TEST_P(Related44, SweepLeavesNothingOnMautic44) {
  auto sweep = tool({"sweep", "--json"});
  ASSERT_EQ(sweep.exit_code, 0) << sweep.err;
  const std::string after = dump();
  for (const auto& marker : processed_markers) {
    EXPECT_EQ(after.find(marker), std::string::npos) << "left behind: " << marker;
  }
  for (const auto& marker : kept_markers) {
    EXPECT_NE(after.find(marker), std::string::npos) << "lost: " << marker;
  }
  // The NOT NULL ip_id rows point at the anonymous placeholder address now.
  auto placeholder = connection->query_value(fmt::format(
      "SELECT DISTINCT i.ip_address FROM {} h JOIN {} i ON i.id = h.ip_id WHERE h.lead_id = 10",
      quoted("page_hits"), quoted("ip_addresses")));
  ASSERT_TRUE(placeholder.ok());
  EXPECT_EQ(placeholder->value_or(""), "0.0.0.0");
  EXPECT_EQ(rows_in("page_hits"), 5);

  // A contact Mautic deletes leaves nothing behind here either (NOT NULL ip_id, RESTRICT).
  const std::string unfindable = delete_contact_14_as_mautic_does();
  auto full = tool({"sweep", "-q", "--full-pass"});
  ASSERT_EQ(full.exit_code, 0) << full.err;
  const std::string cleaned = dump();
  for (const auto& marker : deleted_markers) {
    EXPECT_EQ(cleaned.find(marker), std::string::npos) << "left of a deleted contact: " << marker;
  }
  EXPECT_NE(cleaned.find(unfindable), std::string::npos);
}

INSTANTIATE_TEST_SUITE_P(Prefixes, Related44, ::testing::Values("", "mt_"), prefix_name);

}  // namespace
}  // namespace mgdpr::testing
