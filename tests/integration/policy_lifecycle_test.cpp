// SPDX-License-Identifier: GPL-3.0-or-later
// Issue 17 end to end, with the real binary on a real MariaDB: generalized values, a grace
// period before processing, an end to keeping (forget_after), and key rotation. Time is not
// waited for: do-not-contact rows and processed records are backdated instead.
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>

#include "core/hashing.h"
#include "core/normalize.h"
#include "test_database.h"
#include "testing/related_rows.h"

namespace mgdpr::testing {
namespace {

// Under the default ContactSet (dnc_period 10) contact 10·k is unsubscribed, 10·k+1 bounced,
// 10·k+2 manual (never processed by the test trigger); the others are contactable.
class Lifecycle : public MauticTest {
 protected:
  void SetUp() override {
    contact_set.contacts = 100;
    MauticTest::SetUp();
  }

  std::string email_of(int64_t id) const { return synthetic_email(id, contact_set.seed); }

  nlohmann::json run_json(std::vector<std::string> args) {
    args.push_back("--json");
    auto result = tool(args);
    EXPECT_EQ(result.exit_code, 0) << result.err;
    if (result.exit_code != 0) return nlohmann::json::object();
    return nlohmann::json::parse(result.out);
  }

  std::string leads_column(int64_t id, const std::string& column) {
    return value_of(fmt::format("SELECT {} FROM {} WHERE id = ?", db::quote_identifier(column),
                                quoted("leads")),
                    {id});
  }

  // A do-not-contact entry as Mautic writes it, dated `ago` before now ("0 SECOND": now).
  void dnc(int64_t id, int reason, const std::string& ago) {
    exec(fmt::format("INSERT INTO {} (lead_id, date_added, reason, channel) VALUES "
                     "(?, UTC_TIMESTAMP() - INTERVAL {}, ?, 'email')",
                     quoted("lead_donotcontact"), ago),
         {id, int64_t(reason)});
  }

  bool processed(int64_t id) {
    return value_of(
               fmt::format("SELECT COUNT(*) FROM {} WHERE contact_id = ?", quoted("gdpr_contacts")),
               {id}) == "1";
  }

  std::vector<int64_t> targets() const {
    std::vector<int64_t> ids;
    for (int64_t id = 1; id <= contact_set.contacts; ++id) {
      if (id % 10 == 0 || id % 10 == 1) ids.push_back(id);
    }
    return ids;
  }
};

// ---------------------------------------------------------------------------------------------
// Generalizing actions

TEST_P(Lifecycle, GeneralizedValuesAfterASweepAndTheSameOnARepeat) {
  // A date field Mautic keeps in a text column (an old custom field): values can be malformed.
  ASSERT_TRUE(add_custom_field(*connection, prefix(), {"anniversary", "date", "VARCHAR(64)"}).ok());
  exec(
      fmt::format("UPDATE {} SET zipcode = CONCAT('10', LPAD(id, 3, '0')), anniversary = "
                  "'2001-07-08'",
                  quoted("leads")));
  exec(
      fmt::format("UPDATE {} SET work_email = 'not-an-address', zipcode = '', anniversary = "
                  "'08/07/2001' WHERE id = 20",
                  quoted("leads")));
  const std::string untouched = fmt::format("id % 10 NOT IN (0, 1)");
  const auto others_before = table_rows(*connection, table("leads"), untouched);

  // A generalizer on a field type it does not fit is refused, at its line, with what fits.
  write_config(std::string(kDefaultPolicy) +
               "birthday = \"prefix:2\"\nshoe_size = \"domain\"\nnewsletter_opt = \"bucket:2\"\n");
  auto refused = tool({"check"});
  EXPECT_EQ(refused.exit_code, 2) << refused.out;
  auto expect_refusal = [&](const std::string& field, const std::string& message) {
    const std::string line =
        fmt::format("{}:{}: `{}` is {}", config_path.string(), config_line(field), field, message);
    EXPECT_NE(refused.err.find(line), std::string::npos) << line << "\n" << refused.err;
  };
  expect_refusal("birthday",
                 "a date field and prefix:2 applies to text, textarea, tel, url and lookup "
                 "fields; for a date field write birthday = \"year\" or \"month\"");
  expect_refusal("shoe_size",
                 "a number field and domain applies to email fields; for a number field write "
                 "shoe_size = \"bucket:N\"");
  expect_refusal("newsletter_opt",
                 "a boolean field and bucket:2 applies to number fields; no generalizer fits a "
                 "boolean field");

  write_config(
      "[policy]\ndefault = \"delete\"\n\n[policy.fields]\nemail = \"hash\"\nmobile = \"hash\"\n"
      "city = \"keep\"\nwork_email = \"domain\"\nbirthday = \"year\"\nlast_active = \"month\"\n"
      "shoe_size = \"bucket:5\"\nzipcode = \"prefix:2\"\nnickname = \"prefix:3\"\n"
      "anniversary = \"year\"\n");
  auto check = tool({"check"});
  ASSERT_EQ(check.exit_code, 0) << check.err;
  EXPECT_TRUE(std::regex_search(check.out, std::regex(R"(\n  birthday +date +date +year +policy)")))
      << check.out;
  EXPECT_TRUE(
      std::regex_search(check.out, std::regex(R"(\n  zipcode +text +varchar\(191\) +prefix:2 )")))
      << check.out;
  auto plan = run_json({"plan"});
  bool planned = false;
  for (const auto& change : plan["changes"]) {
    if (change["column"] == "shoe_size") {
      EXPECT_EQ(change["action"], "bucket:5");
      EXPECT_EQ(change["values"], targets().size());
      planned = true;
    }
  }
  EXPECT_TRUE(planned) << plan.dump();

  auto sweep = run_json({"sweep"});
  EXPECT_EQ(sweep["processed"], targets().size());
  for (int64_t id : targets()) {
    SCOPED_TRACE(fmt::format("contact {}", id));
    EXPECT_EQ(leads_column(id, "birthday"), "1980-01-01");
    EXPECT_EQ(leads_column(id, "last_active"), "2024-06-01 00:00:00");
    EXPECT_EQ(leads_column(id, "shoe_size"), std::to_string((36 + id % 12) / 5 * 5));
    EXPECT_EQ(leads_column(id, "nickname"), "Nic");
    EXPECT_EQ(leads_column(id, "city"), fmt::format("City{}", id % 50));
    EXPECT_EQ(leads_column(id, "firstname"), "NULL");
    if (id == 20) {
      EXPECT_EQ(leads_column(id, "work_email"), "NULL");   // malformed: never kept whole
      EXPECT_EQ(leads_column(id, "zipcode"), "NULL");      // empty
      EXPECT_EQ(leads_column(id, "anniversary"), "NULL");  // not a date
    } else {
      EXPECT_EQ(leads_column(id, "work_email"), "corp.example");
      EXPECT_EQ(leads_column(id, "zipcode"), "10");
      EXPECT_EQ(leads_column(id, "anniversary"), "2001-01-01");
    }
  }
  EXPECT_EQ(others_before, table_rows(*connection, table("leads"), untouched));

  // Mautic saves contact 10 again (a new work address); the sweep repairs the profile: the
  // new value is generalized, the generalized ones stay exactly as they were.
  const auto eleven = table_rows(*connection, table("leads"), "id = 11");
  exec(
      fmt::format("UPDATE {} SET work_email = 'Jane@Other.ORG', date_modified = "
                  "UTC_TIMESTAMP() + INTERVAL 1 MINUTE WHERE id = 10",
                  quoted("leads")));
  auto repaired = run_json({"sweep"});
  EXPECT_EQ(repaired["repaired"]["leads"], 1) << repaired.dump();
  EXPECT_EQ(leads_column(10, "work_email"), "other.org");
  EXPECT_EQ(leads_column(10, "birthday"), "1980-01-01");
  EXPECT_EQ(leads_column(10, "last_active"), "2024-06-01 00:00:00");
  EXPECT_EQ(leads_column(10, "shoe_size"), "45");
  EXPECT_EQ(leads_column(10, "zipcode"), "10");
  EXPECT_EQ(leads_column(10, "nickname"), "Nic");
  EXPECT_EQ(eleven, table_rows(*connection, table("leads"), "id = 11"));
  // Generalized values are clean by content: verify agrees, and a sweep repairs nothing.
  auto verified = tool({"verify"});
  EXPECT_EQ(verified.exit_code, 0) << verified.out << verified.err;
  const auto again = run_json({"sweep"});
  for (const auto& [table, rows] : again["repaired"].items()) {
    EXPECT_EQ(rows, 0) << table << ": " << again.dump();
  }

  // lookup shows generalized values among the kept ones, and says how they were generalized.
  auto found = run_json({"lookup", "--email", email_of(10)});
  ASSERT_EQ(found["matches"].size(), 1u) << found.dump();
  EXPECT_EQ(found["matches"][0]["kept"]["birthday"], "1980-01-01");
  EXPECT_EQ(found["matches"][0]["kept"]["zipcode"], "10");
  EXPECT_EQ(found["matches"][0]["kept"]["city"], "City10");
  EXPECT_EQ(found["matches"][0]["generalized"]["birthday"], "year");
  EXPECT_EQ(found["matches"][0]["generalized"]["shoe_size"], "bucket:5");
  EXPECT_FALSE(found["matches"][0]["generalized"].contains("city"));
  auto text = tool({"lookup", "--email", email_of(10)});
  EXPECT_NE(text.out.find("1980-01-01 (generalized: year)"), std::string::npos) << text.out;
}

// ---------------------------------------------------------------------------------------------
// Grace period, through the sweep (the webhook: serve_test.cpp)

TEST_P(Lifecycle, GracePeriodIsHonouredAndAResubscribeInsideItLeavesTheContactUntouched) {
  write_config("grace.default = \"7d\"\ngrace.bounced = \"3d\"\n\n" + std::string(kDefaultPolicy));
  dnc(13, 1, "0 SECOND");  // unsubscribed just now: waits 7 days
  dnc(14, 1, "8 DAY");     // unsubscribed 8 days ago: due
  dnc(15, 2, "4 DAY");     // bounced 4 days ago: due after 3
  dnc(16, 1, "1 HOUR");    // unsubscribed, and resubscribes below, inside the 7 days
  dnc(17, 2, "1 DAY");     // bounced yesterday: waits 3 days
  const auto waiting_rows = table_rows(*connection, table("leads"), "id IN (13, 16, 17)");

  auto first = run_json({"sweep"});
  EXPECT_EQ(first["processed"], targets().size() + 2);
  EXPECT_EQ(first["waiting"], 3);
  EXPECT_TRUE(processed(14));
  EXPECT_TRUE(processed(15));
  EXPECT_EQ(waiting_rows, table_rows(*connection, table("leads"), "id IN (13, 16, 17)"));
  auto status = run_json({"status"});
  EXPECT_EQ(status["pending"], 0);
  EXPECT_EQ(status["waiting"], 3);
  EXPECT_FALSE(status["next_due_at"].is_null());
  EXPECT_EQ(run_json({"plan"})["waiting"], 3);

  // A week passes for contact 13 (the do-not-contact table keeps its shape): the next sweep,
  // not a full pass, notices that the entry came out of its grace period.
  exec(
      fmt::format("UPDATE {} SET date_added = UTC_TIMESTAMP() - INTERVAL 8 DAY WHERE lead_id = "
                  "13",
                  quoted("lead_donotcontact")));
  auto second = run_json({"sweep"});
  EXPECT_EQ(second["processed"], 1);
  EXPECT_TRUE(processed(13));
  EXPECT_NE(leads_column(13, "email"), email_of(13));

  // Contact 16 resubscribes inside the period (Mautic deletes the entry): never touched.
  exec(fmt::format("DELETE FROM {} WHERE lead_id = 16", quoted("lead_donotcontact")));
  auto third = run_json({"sweep", "--full-pass"});
  EXPECT_EQ(third["processed"], 0);
  EXPECT_FALSE(processed(16));
  EXPECT_FALSE(processed(17));
  EXPECT_EQ(table_rows(*connection, table("leads"), "id IN (16, 17)"),
            std::vector<std::string>({waiting_rows[1], waiting_rows[2]}));
  EXPECT_EQ(run_json({"status"})["waiting"], 1);  // 17, until its 3 days are over
}

// ---------------------------------------------------------------------------------------------
// forget_after

TEST_P(Lifecycle, ForgetAfterDeletesExactlyTheRecordsPastTheHorizon) {
  RelatedSet related;
  related.contacts = contact_set.contacts;
  ASSERT_TRUE(generate_related_rows(*connection, prefix(), related).ok());
  // A kept location: kept while the record lives, scrubbed when it is forgotten.
  for (int64_t id : {10, 20, 30}) {
    exec(fmt::format("INSERT INTO {} (date_hit, code, lead_id, url, remote_host, tracking_id) "
                     "VALUES ('2025-01-01 00:00:00', 200, ?, ?, '198.51.100.7', 'trk')",
                     quoted("page_hits")),
         {id, fmt::format("https://example.org/?email=person{}", id)});
  }
  write_config(std::string(kDefaultPolicy) +
               "\n[related]\npage_hits = \"keep\"\n\n[retention]\nforget_after.default = \"5y\"\n"
               "forget_after.bounced = \"10y\"\n");
  ASSERT_EQ(run_json({"sweep"})["processed"], targets().size());

  // 10 and 20 (unsubscribed) were processed six years ago; 11 (bounced) too, but bounced
  // records are kept ten years; 30 four years ago.
  auto backdate = [&](int64_t id, const std::string& ago) {
    exec(fmt::format("UPDATE {} SET processed_at = UTC_TIMESTAMP(6) - INTERVAL {} WHERE "
                     "contact_id = ?",
                     quoted("gdpr_contacts"), ago),
         {id});
  };
  backdate(10, "6 YEAR");
  backdate(20, "6 YEAR");
  backdate(11, "6 YEAR");
  backdate(30, "4 YEAR");
  // 40 came back by choice (Mautic removed its entry): its record ends, the contact stays.
  backdate(40, "6 YEAR");
  exec(fmt::format("DELETE FROM {} WHERE lead_id = 40", quoted("lead_donotcontact")));
  const auto forty = table_rows(*connection, table("leads"), "id = 40");
  const std::string rest = "contact_id NOT IN (10, 20, 40)";
  const auto records = table_rows(*connection, table("gdpr_contacts"), rest);
  const auto digests = table_rows(*connection, table("gdpr_hashes"), rest);
  const auto leads = table_rows(*connection, table("leads"), "id NOT IN (10, 20, 40)");
  const std::string stats_of_forgotten =
      value_of(fmt::format("SELECT GROUP_CONCAT(id ORDER BY id) FROM {} WHERE lead_id IN (10, 20)",
                           quoted("email_stats")));
  const std::string hits_of_forgotten =
      value_of(fmt::format("SELECT GROUP_CONCAT(id ORDER BY id) FROM {} WHERE lead_id IN (10, 20)",
                           quoted("page_hits")));
  EXPECT_EQ(run_json({"plan"})["records_to_forget"], 3);

  auto sweep = run_json({"sweep"});
  EXPECT_EQ(sweep["forget"]["forgotten"], 3) << sweep.dump();
  EXPECT_EQ(sweep["forget"]["by_reason"]["unsubscribed"], 3);
  EXPECT_EQ(forty, table_rows(*connection, table("leads"), "id = 40"));
  EXPECT_EQ(
      value_of(fmt::format("SELECT COUNT(*) FROM {} WHERE contact_id = 40", quoted("gdpr_hashes"))),
      "0");

  // Exactly those two: profile, do-not-contact entry, record and digests gone; the rest as it was.
  EXPECT_EQ(value_of(fmt::format("SELECT COUNT(*) FROM {} WHERE id IN (10, 20)", quoted("leads"))),
            "0");
  EXPECT_EQ(value_of(fmt::format("SELECT COUNT(*) FROM {} WHERE lead_id IN (10, 20)",
                                 quoted("lead_donotcontact"))),
            "0");
  EXPECT_EQ(value_of(fmt::format("SELECT COUNT(*) FROM {} WHERE contact_id IN (10, 20)",
                                 quoted("gdpr_hashes"))),
            "0");
  EXPECT_EQ(records, table_rows(*connection, table("gdpr_contacts"), rest));
  EXPECT_EQ(int64_t(table_rows(*connection, table("gdpr_contacts")).size()),
            int64_t(targets().size()) - 3);
  EXPECT_EQ(digests, table_rows(*connection, table("gdpr_hashes"), rest));
  EXPECT_EQ(leads, table_rows(*connection, table("leads"), "id NOT IN (10, 20, 40)"));
  // The rows Mautic keeps after deleting a contact stay, unlinked, with nothing personal.
  ASSERT_NE(hits_of_forgotten, "NULL");
  EXPECT_EQ(
      value_of(fmt::format("SELECT COUNT(*) FROM {} WHERE FIND_IN_SET(id, ?) AND lead_id "
                           "IS NULL AND url IS NULL AND remote_host IS NULL",
                           quoted("page_hits")),
               {hits_of_forgotten}),
      std::to_string(std::count(hits_of_forgotten.begin(), hits_of_forgotten.end(), ',') + 1));
  EXPECT_EQ(value_of(fmt::format("SELECT COUNT(*) FROM {} WHERE lead_id = 30 AND url IS NOT NULL",
                                 quoted("page_hits"))),
            "1");  // still kept for a living record
  if (stats_of_forgotten != "NULL") {
    EXPECT_EQ(value_of(fmt::format("SELECT COUNT(*) FROM {} WHERE FIND_IN_SET(id, ?) AND (lead_id "
                                   "IS NOT NULL OR email_address LIKE '%@%')",
                                   quoted("email_stats")),
                       {stats_of_forgotten}),
              "0");
  }
  // The audit trail keeps a count for the day, and no id.
  EXPECT_EQ(value_of(fmt::format("SELECT CONCAT(matches, '|', detail) FROM {} WHERE action = "
                                 "'forget'",
                                 quoted("gdpr_audit"))),
            "3|records of reason unsubscribed past [retention] forget_after deleted completely");
  EXPECT_EQ(tool({"lookup", "--email", email_of(10)}).exit_code, 1);
  EXPECT_EQ(tool({"lookup", "--email", email_of(11)}).exit_code, 0);
  EXPECT_EQ(run_json({"sweep"})["forget"]["forgotten"], 0);
}

// ---------------------------------------------------------------------------------------------
// Key rotation

TEST_P(Lifecycle, AfterARotationContactsHashedWithEitherKeyAreFoundAndGuarded) {
  ASSERT_EQ(tool({"sweep", "-q"}).exit_code, 0);
  // The tables as the previous version left them (one key, no key per digest): it keeps working.
  exec(fmt::format("DROP TABLE {}", quoted("gdpr_keys")));
  exec(fmt::format("ALTER TABLE {} DROP COLUMN key_id", quoted("gdpr_hashes")));
  // Version 6: the one before version 7 added gdpr_keys and gdpr_hashes.key_id.
  exec(fmt::format("UPDATE {} SET value = '6' WHERE name = 'schema_version'", quoted("gdpr_meta")));
  const std::string old_key = key_path.string();
  const std::string new_key = (dir / "hmac-2.key").string();

  auto rotated = tool({"keygen", "--rotate", "--out", new_key});
  ASSERT_EQ(rotated.exit_code, 0) << rotated.err;
  std::ifstream config_in(config_path);
  const std::string config_text(std::istreambuf_iterator<char>(config_in), {});
  EXPECT_NE(config_text.find(fmt::format("key_file = \"{}\"", new_key)), std::string::npos);
  EXPECT_NE(config_text.find("[hashing.keyring]\n"), std::string::npos) << config_text;
  EXPECT_NE(config_text.find(fmt::format("= \"{}\"", old_key)), std::string::npos);
  EXPECT_EQ(tool({"keygen", "--rotate", "--out", new_key}).exit_code,
            64);  // never overwrites a file

  // Before any sweep records the new key, a lookup already finds the old records.
  EXPECT_EQ(tool({"lookup", "--email", email_of(10)}).exit_code, 0);

  dnc(13, 1, "0 SECOND");
  auto sweep = run_json({"sweep"});  // upgrades the tables and records the rotation
  EXPECT_EQ(sweep["processed"], 1);
  EXPECT_EQ(value_of(fmt::format("SELECT GROUP_CONCAT(DISTINCT key_id) FROM {} WHERE contact_id "
                                 "<> 13",
                                 quoted("gdpr_hashes"))),
            "1");
  EXPECT_EQ(value_of(fmt::format("SELECT GROUP_CONCAT(DISTINCT key_id) FROM {} WHERE contact_id = "
                                 "13",
                                 quoted("gdpr_hashes"))),
            "2");
  auto status = run_json({"status"});
  ASSERT_EQ(status["keys"].size(), 2u) << status.dump();
  EXPECT_EQ(status["keys"][0]["records"], targets().size());
  EXPECT_FALSE(status["keys"][0]["active"]);
  EXPECT_FALSE(status["keys"][0]["retired_at"].is_null());
  EXPECT_EQ(status["keys"][1]["records"], 1);
  EXPECT_TRUE(status["keys"][1]["active"]);

  for (int64_t id : {10, 13}) {
    auto found = run_json({"lookup", "--email", email_of(id)});
    ASSERT_EQ(found["matches"].size(), 1u) << id;
    EXPECT_EQ(found["matches"][0]["contact_id"], id);
  }

  // Both come back through an import: the guard recognises either key's digests.
  for (auto [id, email] : {std::pair<int64_t, std::string>{2001, email_of(10)},
                           std::pair<int64_t, std::string>{2002, email_of(13)}}) {
    exec(fmt::format("INSERT INTO {} (id, is_published, date_added, date_identified, points, "
                     "email) VALUES (?, 1, UTC_TIMESTAMP(), UTC_TIMESTAMP(), 0, ?)",
                     quoted("leads")),
         {id, email});
    exec(fmt::format("INSERT INTO {} (lead_id, bundle, object, action, object_id, date_added) "
                     "VALUES (?, 'lead', 'import', 'inserted', 1, UTC_TIMESTAMP())",
                     quoted("lead_event_log")),
         {id});
  }
  auto guarded = run_json({"sweep"});
  EXPECT_EQ(guarded["guard"]["suppressed"], 2) << guarded.dump();
  EXPECT_TRUE(processed(2001));
  EXPECT_TRUE(processed(2002));

  // The retired key as the active one, or a ring without the old key, is refused.
  const size_t ring = config_text.find("\n[hashing.keyring]\n");
  const std::string without_ring =
      config_text.substr(0, ring) + config_text.substr(config_text.find('\n', ring + 19));
  auto write = [&](const std::string& text) { std::ofstream(config_path) << text; };
  std::string stale = without_ring;
  stale.replace(stale.find(new_key), new_key.size(), old_key);
  write(stale);
  auto retired = tool({"sweep"});
  EXPECT_EQ(retired.exit_code, 4);
  EXPECT_NE(retired.err.find("was retired on"), std::string::npos) << retired.err;
  write(without_ring);
  auto missing = tool({"lookup", "--email", email_of(10)});
  EXPECT_EQ(missing.exit_code, 4) << missing.err;
  EXPECT_NE(missing.err.find("list it under [hashing.keyring]"), std::string::npos) << missing.err;
  write(config_text);
  EXPECT_EQ(tool({"lookup", "--email", email_of(13)}).exit_code, 0);
}

INSTANTIATE_TEST_SUITE_P(Prefixes, Lifecycle, ::testing::Values("", "mt_"), prefix_name);

}  // namespace
}  // namespace mgdpr::testing
