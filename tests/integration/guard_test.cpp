// SPDX-License-Identifier: GPL-3.0-or-later
// The re-import guard end to end: a person who left comes back through an import, the API, an
// integration or a form, against a real MariaDB with the Mautic schema.
#include "mautic/guard.h"

#include <gtest/gtest.h>

#include <cctype>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "app/secrets.h"
#include "app/session.h"
#include "core/hashing.h"
#include "core/normalize.h"
#include "test_database.h"

namespace mgdpr::testing {
namespace {

// Under the default ContactSet (dnc_period 10) contact 10·k is unsubscribed, 10·k+1 bounced,
// 10·k+2 manual (not a trigger reason, so never processed); the others are contactable.
class ReimportGuard : public MauticTest {
 protected:
  std::string email_of(int64_t id) const { return synthetic_email(id, contact_set.seed); }

  // A contact Mautic created just now, with only an email address.
  void add_contact(int64_t id, const std::string& email) {
    exec(fmt::format("INSERT INTO {} (id, is_published, date_added, date_identified, points, "
                     "email, firstname) VALUES (?, 1, UTC_TIMESTAMP(), UTC_TIMESTAMP(), 0, ?, ?)",
                     quoted("leads")),
         {id, email, std::string("Returning")});
  }

  // What Mautic's import writes for each contact it creates (ImportModel::initEventLog).
  void add_import_entry(int64_t id) {
    exec(fmt::format("INSERT INTO {} (lead_id, bundle, object, action, object_id, date_added, "
                     "properties) VALUES (?, 'lead', 'import', 'inserted', 1, UTC_TIMESTAMP(), ?)",
                     quoted("lead_event_log")),
         {id, std::string(R"({"line": 2, "file": "list.csv"})")});
  }

  void add_form_submission(int64_t id) {
    exec(
        fmt::format("INSERT IGNORE INTO {} (id, is_published, name, alias, post_action) "
                    "VALUES (1, 1, 'Newsletter', 'newsletter', 'return')",
                    quoted("forms")));
    exec(fmt::format("INSERT INTO {} (form_id, lead_id, date_submitted, referer) "
                     "VALUES (1, ?, UTC_TIMESTAMP(), 'https://example.org/newsletter')",
                     quoted("form_submissions")),
         {id});
  }

  void add_integration_entry(int64_t id) {
    exec(
        fmt::format("INSERT INTO {} (date_added, integration, integration_entity, "
                    "integration_entity_id, internal_entity, internal_entity_id) "
                    "VALUES (UTC_TIMESTAMP(), 'Salesforce', 'Contact', '0035g00000XyZ', 'lead', ?)",
                    quoted("integration_entity")),
        {id});
  }

  // "reason/channel" of each do-not-contact row of a contact, in id order.
  std::vector<std::string> dnc_rows(int64_t id) {
    auto rows = connection->query(
        fmt::format("SELECT CONCAT(reason, '/', channel) FROM {} WHERE lead_id = ? ORDER BY id",
                    quoted("lead_donotcontact")),
        {id});
    EXPECT_TRUE(rows.ok());
    std::vector<std::string> lines;
    if (rows.ok()) {
      for (const auto& row : rows->rows) lines.push_back(row[0].value_or("NULL"));
    }
    return lines;
  }

  nlohmann::json sweep_json() {
    auto sweep = tool({"sweep", "--json"});
    EXPECT_EQ(sweep.exit_code, 0) << sweep.err;
    EXPECT_EQ(sweep.err, "");
    return sweep.exit_code == 0 ? nlohmann::json::parse(sweep.out) : nlohmann::json::object();
  }

  // No clear address, nor a recognisable piece of one, in the audit table or a DNC comment.
  void expect_no_address_stored() {
    for (const auto& row : table_rows(*connection, table("gdpr_audit"))) {
      EXPECT_EQ(row.find('@'), std::string::npos) << row;
      EXPECT_EQ(row.find("erson."), std::string::npos) << row;
    }
    for (const auto& row :
         table_rows(*connection, table("lead_donotcontact"), "comments LIKE 'mautic-gdpr%'")) {
      EXPECT_EQ(row.find('@'), std::string::npos) << row;
      EXPECT_EQ(row.find("erson."), std::string::npos) << row;
    }
  }

  HashKey key() {
    auto config = app::load_config_file(config_path.string());
    EXPECT_TRUE(config.ok());
    auto loaded = app::load_hash_key(*config);
    EXPECT_TRUE(loaded.ok());
    return std::move(*loaded);
  }
};

TEST_P(ReimportGuard, ReturningContactsFromImportApiAndIntegrationsAreSuppressed) {
  ASSERT_EQ(tool({"sweep", "-q"}).exit_code, 0);

  // 2001: the unsubscribed contact 10's address re-imported, in other case and with spaces.
  std::string shouted = email_of(10);
  for (char& c : shouted) c = char(std::toupper(static_cast<unsigned char>(c)));
  add_contact(2001, "  " + shouted + " ");
  add_import_entry(2001);
  add_contact(2002, email_of(11));  // bounced, re-imported
  add_import_entry(2002);
  add_contact(2003, email_of(30));  // unsubscribed, back through a CRM sync
  add_integration_entry(2003);
  add_contact(2004, email_of(40));  // unsubscribed, back through the API (no other trace)
  add_contact(2005, email_of(12));  // manual: not a trigger reason, never processed
  add_import_entry(2005);
  add_contact(2006, email_of(33));  // never left
  add_import_entry(2006);

  auto summary = sweep_json();
  const auto& guard = summary["guard"];
  EXPECT_EQ(guard["checked"], 6);
  EXPECT_EQ(guard["suppressed"], 4);
  EXPECT_EQ(guard["reported"], 0);
  std::map<int64_t, std::string> origins;
  for (const auto& event : guard["events"]) {
    origins[event["contact_id"].get<int64_t>()] = event["origin"].get<std::string>();
    EXPECT_EQ(event["action"], "suppressed");
  }
  EXPECT_EQ(origins,
            (std::map<int64_t, std::string>{
                {2001, "import"}, {2002, "import"}, {2003, "integration"}, {2004, "api"}}));

  // Same channel, same reason as the original: bounced stays bounced.
  EXPECT_EQ(dnc_rows(2001), std::vector<std::string>{"1/email"});
  EXPECT_EQ(dnc_rows(2002), std::vector<std::string>{"2/email"});
  EXPECT_EQ(dnc_rows(2003), std::vector<std::string>{"1/email"});
  EXPECT_EQ(dnc_rows(2004), std::vector<std::string>{"1/email"});
  EXPECT_TRUE(dnc_rows(2005).empty());
  EXPECT_TRUE(dnc_rows(2006).empty());

  // By design the same sweep then pseudonymizes them: it is the same person who left, so the
  // returning contact hashes to the original's digest and a lookup finds both records.
  EXPECT_EQ(summary["processed"], 4);
  const auto k = key();
  EXPECT_EQ(value_of(fmt::format("SELECT email FROM {} WHERE id = 2001", quoted("leads"))),
            k.hmac_hex(normalize(ValueKind::kEmail, email_of(10))));
  EXPECT_EQ(value_of(fmt::format("SELECT reason FROM {} WHERE contact_id = 2002",
                                 quoted("gdpr_contacts"))),
            "bounced");
  EXPECT_EQ(value_of(fmt::format("SELECT email FROM {} WHERE id = 2006", quoted("leads"))),
            email_of(33));
  auto lookup = tool({"lookup", "--json", "--email", email_of(10)});
  ASSERT_EQ(lookup.exit_code, 0) << lookup.err;
  EXPECT_EQ(nlohmann::json::parse(lookup.out)["matches"].size(), 2u);

  EXPECT_EQ(value_of(fmt::format("SELECT COUNT(*) FROM {} WHERE action = 'guard-suppress'",
                                 quoted("gdpr_audit"))),
            "4");
  EXPECT_NE(value_of(fmt::format("SELECT detail FROM {} WHERE detail LIKE 'contact 2002 %'",
                                 quoted("gdpr_audit")))
                .find("(bounced, channel email, by email)"),
            std::string::npos);
  expect_no_address_stored();

  // A second sweep finds nothing new and adds no second do-not-contact row.
  const auto audit = table_rows(*connection, table("gdpr_audit"));
  auto again = sweep_json();
  EXPECT_EQ(again["guard"]["suppressed"], 0);
  EXPECT_EQ(again["processed"], 0);
  for (int64_t id : {2001, 2002, 2003, 2004}) EXPECT_EQ(dnc_rows(id).size(), 1u) << id;
  EXPECT_EQ(audit, table_rows(*connection, table("gdpr_audit")));
}

TEST_P(ReimportGuard, FormSubmissionIsAFreshOptInAndOnlyReportedOnce) {
  ASSERT_EQ(tool({"sweep", "-q"}).exit_code, 0);
  add_contact(2001, email_of(20));  // unsubscribed, signs up again on a form
  add_form_submission(2001);
  add_contact(2002, email_of(50));  // unsubscribed, imported, then fills in a form
  add_import_entry(2002);
  add_form_submission(2002);

  auto sweep = tool({"sweep"});
  ASSERT_EQ(sweep.exit_code, 0) << sweep.err;
  EXPECT_NE(sweep.out.find("guard: contact 2001 (form) matches a record processed on "),
            std::string::npos)
      << sweep.out;
  EXPECT_NE(sweep.out.find("left contactable"), std::string::npos) << sweep.out;
  EXPECT_NE(sweep.out.find("0 put back on do-not-contact, 2 reported"), std::string::npos)
      << sweep.out;
  EXPECT_EQ(sweep.out.find('@'), std::string::npos) << sweep.out;
  for (int64_t id : {2001, 2002}) {
    EXPECT_TRUE(dnc_rows(id).empty()) << id;
    EXPECT_EQ(value_of(fmt::format("SELECT COUNT(*) FROM {} WHERE contact_id = ?",
                                   quoted("gdpr_contacts")),
                       {id}),
              "0");
  }
  EXPECT_EQ(value_of(fmt::format("SELECT email FROM {} WHERE id = 2001", quoted("leads"))),
            email_of(20));
  EXPECT_EQ(value_of(fmt::format("SELECT COUNT(*) FROM {} WHERE action = 'guard-report'",
                                 quoted("gdpr_audit"))),
            "2");
  expect_no_address_stored();

  // The contacts are still inside the re-check window, but are reported only once; --quiet
  // stays silent when the guard has nothing new.
  auto quiet = tool({"sweep", "-q"});
  ASSERT_EQ(quiet.exit_code, 0) << quiet.err;
  EXPECT_EQ(quiet.out, "");
  EXPECT_EQ(value_of(fmt::format("SELECT COUNT(*) FROM {} WHERE action = 'guard-report'",
                                 quoted("gdpr_audit"))),
            "2");

  // With forms guarded too, a new form contact is suppressed; the one reported stays alone.
  write_config(std::string(kDefaultPolicy) +
               "\n[guard]\norigins = [\"import\", \"api\", \"integration\", \"form\"]\n");
  add_contact(2003, email_of(60));
  add_form_submission(2003);
  auto guarded = sweep_json();
  EXPECT_EQ(guarded["guard"]["suppressed"], 1);
  EXPECT_EQ(guarded["guard"]["reported"], 0);
  EXPECT_EQ(dnc_rows(2003), std::vector<std::string>{"1/email"});
  EXPECT_TRUE(dnc_rows(2001).empty());
}

// The webhook service's path: one contact id, the same code as the sweep's pass.
TEST_P(ReimportGuard, SingleContactCheckWritesACommentWithoutPersonalData) {
  ASSERT_EQ(tool({"sweep", "-q"}).exit_code, 0);
  add_contact(2001, email_of(11));
  add_import_entry(2001);

  auto session = app::open_session(config_path.string(), app::Access::kWrite, "test");
  ASSERT_TRUE(session.ok()) << session.error().message;
  mautic::Guard guard(*(*session)->connection, (*session)->config, (*session)->schema,
                      (*session)->policy, *(*session)->keys, "test");
  const int64_t ids[] = {2001, 15, 10};  // 15 never left; 10 is the processed original
  auto report = guard.check_contacts(ids);
  ASSERT_TRUE(report.ok()) << report.error().message;
  EXPECT_EQ(report->checked, 2);
  EXPECT_EQ(report->suppressed, 1);
  ASSERT_EQ(report->events.size(), 1u);
  EXPECT_EQ(report->events[0].contact_id, 2001);
  EXPECT_EQ(report->events[0].origin, ContactOrigin::kImport);

  const std::string processed_on = value_of(fmt::format(
      "SELECT DATE(processed_at) FROM {} WHERE contact_id = 11", quoted("gdpr_contacts")));
  EXPECT_EQ(value_of(fmt::format("SELECT CONCAT(reason, '|', channel, '|', comments) FROM {} "
                                 "WHERE lead_id = 2001",
                                 quoted("lead_donotcontact"))),
            "2|email|mautic-gdpr: matches a record processed on " + processed_on + " (bounced)");
  expect_no_address_stored();

  // Acting once per contact: a second event for it changes nothing.
  auto second = guard.check_contacts(ids);
  ASSERT_TRUE(second.ok()) << second.error().message;
  EXPECT_EQ(second->suppressed + second->reported, 0);
  EXPECT_EQ(dnc_rows(2001).size(), 1u);
}

TEST_P(ReimportGuard, CsvCheckNamesLinesAndWritesTheFileWithoutThem) {
  ASSERT_EQ(tool({"sweep", "-q"}).exit_code, 0);
  const std::filesystem::path csv = dir / "contacts.csv";
  const std::filesystem::path filtered = dir / "filtered.csv";
  const std::string header = "firstname,\"Email\",note\r\n";
  const std::string kept_1 = "Ann,new.person@example.org,first\r\n";
  // A quoted address with spaces and other case, and a note over two lines.
  const std::string unsubscribed = fmt::format("Bob,\" {} \",\"two\r\nlines, quoted\"\r\n",
                                               normalize(ValueKind::kEmail, email_of(10)));
  const std::string bounced = fmt::format("Carl,{},x\r\n", email_of(11));
  const std::string kept_2 = fmt::format("Dora,{},never left\r\n", email_of(33));
  const std::string kept_3 = fmt::format("\r\nEve,{},manual\r\n", email_of(12));
  const std::string last_unsubscribed =
      fmt::format("Finn,{},\"last, no line break\"", email_of(90));
  std::ofstream(csv, std::ios::binary)
      << header << kept_1 << unsubscribed << bounced << kept_2 << kept_3 << last_unsubscribed;

  auto check = tool({"guard", "--check-file", csv.string(), "--out", filtered.string(), "--json"});
  ASSERT_EQ(check.exit_code, 0) << check.err;
  EXPECT_EQ(check.out.find('@'), std::string::npos) << check.out;
  auto json = nlohmann::json::parse(check.out);
  EXPECT_EQ(json["rows"], 6);
  EXPECT_EQ(json["written"], 3);
  EXPECT_EQ(json["columns"], nlohmann::json::array({"email"}));
  ASSERT_EQ(json["matches"].size(), 3u);
  EXPECT_EQ(json["matches"][0]["line"], 3);
  EXPECT_EQ(json["matches"][0]["reason"], "unsubscribed");
  EXPECT_EQ(json["matches"][1]["line"], 5);  // the record above spans lines 3 and 4
  EXPECT_EQ(json["matches"][1]["reason"], "bounced");
  EXPECT_EQ(json["matches"][2]["line"], 9);  // after a blank line 7 and line 8
  EXPECT_EQ(json["matches"][2]["channel"], "email");

  std::ostringstream written;
  written << std::ifstream(filtered, std::ios::binary).rdbuf();
  EXPECT_EQ(written.str(), header + kept_1 + kept_2 + kept_3);
  EXPECT_EQ(std::filesystem::status(filtered).permissions() & std::filesystem::perms::all,
            std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);

  // The text form says the same by line number; the audit records the check, no file name.
  auto text = tool({"guard", "--check-file", csv.string()});
  EXPECT_EQ(text.exit_code, 0) << text.err;
  EXPECT_NE(text.out.find("line 5: matches a record processed on "), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("3 of 6 row(s) match"), std::string::npos) << text.out;
  EXPECT_EQ(text.out.find('@'), std::string::npos) << text.out;
  EXPECT_EQ(value_of(fmt::format("SELECT COUNT(*) FROM {} WHERE action = 'guard-check' AND "
                                 "matches = 3 AND detail NOT LIKE '%contacts.csv%'",
                                 quoted("gdpr_audit"))),
            "2");
  expect_no_address_stored();

  // Never over an existing file; a clean file exits 1; no email column is an error.
  auto again = tool({"guard", "--check-file", csv.string(), "--out", filtered.string()});
  EXPECT_EQ(again.exit_code, 64);
  EXPECT_NE(again.err.find("never overwrites"), std::string::npos) << again.err;
  std::ofstream(dir / "clean.csv") << "email\n" << email_of(33) << "\n";
  EXPECT_EQ(tool({"guard", "--check-file", (dir / "clean.csv").string()}).exit_code, 1);
  std::ofstream(dir / "no-header.csv") << email_of(10) << ",x\n";
  auto headless = tool({"guard", "--check-file", (dir / "no-header.csv").string()});
  EXPECT_EQ(headless.exit_code, 64);
  EXPECT_NE(headless.err.find("named email"), std::string::npos) << headless.err;
  EXPECT_EQ(headless.err.find('@'), std::string::npos) << headless.err;
  // An empty file is unusable input, like a wrong argument; with --json the error is JSON.
  std::ofstream(dir / "empty.csv") << "";
  auto empty = tool({"guard", "--check-file", (dir / "empty.csv").string(), "--json"});
  EXPECT_EQ(empty.exit_code, 64);
  EXPECT_EQ(nlohmann::json::parse(empty.out)["error"]["kind"], "usage") << empty.out;
}

TEST_P(ReimportGuard, FieldThatIsNotHashedIsAConfigError) {
  write_config(std::string(kDefaultPolicy) + "\n[guard]\nfields = [\"email\", \"firstname\"]\n");
  auto check = tool({"check"});
  EXPECT_EQ(check.exit_code, 2);
  // write_config's layout puts [guard] fields on line 25.
  EXPECT_NE(check.err.find("config.toml:25: [guard] fields names `firstname`, which the policy "
                           "does not hash"),
            std::string::npos)
      << check.err;
  const auto leads = table_rows(*connection, table("leads"));
  EXPECT_EQ(tool({"sweep"}).exit_code, 2);
  EXPECT_EQ(leads, table_rows(*connection, table("leads")));

  write_config(std::string(kDefaultPolicy) + "\n[guard]\nenabled = false\n");
  auto off = tool({"check"});
  EXPECT_EQ(off.exit_code, 0) << off.err;
  EXPECT_NE(off.out.find("Re-import guard ([guard]): off"), std::string::npos) << off.out;
}

INSTANTIATE_TEST_SUITE_P(Prefixes, ReimportGuard, ::testing::Values("", "mt_"), prefix_name);

}  // namespace
}  // namespace mgdpr::testing
