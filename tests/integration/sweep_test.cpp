// SPDX-License-Identifier: GPL-3.0-or-later
// The core engine end to end: the real binary against a real MariaDB with the Mautic schema.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>

#include <chrono>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>

#include "app/secrets.h"
#include "core/hashing.h"
#include "core/normalize.h"
#include "test_database.h"
#include "testing/related_rows.h"

extern char** environ;

namespace mgdpr::testing {
namespace {

using Sweep = MauticTest;

// Columns the default test policy deletes (every personal column not hashed or kept).
const std::vector<std::string> kDeletedColumns = {
    "firstname", "lastname", "phone", "company", "preferred_profile_image", "social_cache",
    "internal", "last_active", "nickname", "emergency_phone", "favourite_colour", "interests",
    "bio", "shoe_size", "birthday", "newsletter_opt"};

int64_t count(db::Connection& connection, const std::string& sql) {
  return std::stoll(cell(connection, sql));
}

bool is_target(int64_t id, const ContactSet& set) {
  int reason = dnc_reason_for(id, set);
  return reason == 1 || reason == 2;  // the test config triggers on unsubscribed and bounced
}

TEST_P(Sweep, PseudonymizesExactlyTheConfiguredContacts) {
  const auto untouched_before = table_rows(
      *connection, table("leads"),
      fmt::format("id NOT IN (SELECT lead_id FROM {} WHERE reason IN (1, 2))",
                  quoted("lead_donotcontact")));
  const auto originals = table_rows(*connection, table("leads"));
  const auto key = load_key(config_path);

  auto sweep = tool({"sweep", "--json"});
  ASSERT_EQ(sweep.exit_code, 0) << sweep.err;
  auto summary = nlohmann::json::parse(sweep.out);
  int64_t targets = 0;
  for (int64_t id = 1; id <= contact_set.contacts; ++id) targets += is_target(id, contact_set);
  EXPECT_EQ(summary["processed"], targets);
  EXPECT_EQ(summary["rows_changed"]["leads"], targets);

  for (int64_t id = 1; id <= contact_set.contacts; ++id) {
    if (!is_target(id, contact_set)) continue;
    const std::string where = fmt::format("FROM {} WHERE id = {}", quoted("leads"), id);
    EXPECT_EQ(cell(*connection, "SELECT email " + where),
              key.hmac_hex(normalize(ValueKind::kEmail, synthetic_email(id, contact_set.seed))));
    EXPECT_EQ(cell(*connection, "SELECT work_email " + where),
              key.hmac_hex(synthetic_work_email(id)));
    EXPECT_EQ(cell(*connection, "SELECT mobile " + where),
              key.hmac_hex(normalize(ValueKind::kPhone, fmt::format("+49 170 {:07d}", id))));
    for (const auto& column : kDeletedColumns) {
      EXPECT_EQ(cell(*connection, fmt::format("SELECT {} {}", column, where)), "NULL")
          << column << " of contact " << id;
    }
    EXPECT_EQ(cell(*connection, "SELECT city " + where), fmt::format("City{}", id % 50));
    EXPECT_EQ(cell(*connection, "SELECT points " + where), std::to_string(id % 100));
    EXPECT_EQ(cell(*connection, "SELECT date_identified " + where), "2024-01-02 03:04:05");
    // The generated column follows the hashed email: no domain is left behind.
    EXPECT_EQ(cell(*connection, "SELECT generated_email_domain " + where).find("example"),
              std::string::npos);
    EXPECT_EQ(cell(*connection, fmt::format("SELECT COUNT(*) FROM {} WHERE lead_id = {} AND "
                                            "comments IS NULL",
                                            quoted("lead_donotcontact"), id)),
              "1");
  }
  // Not one original personal value of a processed contact is left anywhere in leads.
  const auto after = table_rows(*connection, table("leads"));
  std::string everything;
  for (const auto& row : after) everything += row;
  for (int64_t id = 1; id <= contact_set.contacts; ++id) {
    if (!is_target(id, contact_set)) continue;
    for (const std::string& value :
         {synthetic_email(id, contact_set.seed), synthetic_firstname(id), synthetic_phone(id),
          synthetic_work_email(id), fmt::format("Nick{}", id), fmt::format("Lastname{}", id)}) {
      EXPECT_EQ(everything.find("'" + value + "'"), std::string::npos) << "contact " << id;
    }
  }
  // Contacts not on DNC, and DNC reasons not configured, are byte-identical.
  EXPECT_EQ(untouched_before,
            table_rows(*connection, table("leads"),
                       fmt::format("id NOT IN (SELECT lead_id FROM {} WHERE reason IN (1, 2))",
                                   quoted("lead_donotcontact"))));
  EXPECT_EQ(count(*connection, fmt::format("SELECT COUNT(*) FROM {} WHERE reason = 3 AND "
                                           "comments LIKE 'bounce from %'",
                                           quoted("lead_donotcontact"))),
            contact_set.contacts / contact_set.dnc_period);
}

TEST_P(Sweep, SecondSweepChangesNothing) {
  ASSERT_EQ(tool({"sweep", "-q"}).exit_code, 0);
  const auto leads = table_rows(*connection, table("leads"));
  const auto hashes = table_rows(*connection, table("gdpr_hashes"));
  const auto records = table_rows(*connection, table("gdpr_contacts"));
  auto again = tool({"sweep", "--json"});
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_EQ(nlohmann::json::parse(again.out)["processed"], 0);
  EXPECT_EQ(leads, table_rows(*connection, table("leads")));
  EXPECT_EQ(hashes, table_rows(*connection, table("gdpr_hashes")));
  EXPECT_EQ(records, table_rows(*connection, table("gdpr_contacts")));
}

// The IP addresses the rows of contacts `which` link, in every table that links one.
std::set<std::string> linked_ips(db::Connection& connection, const std::string& prefix,
                                 const std::string& which) {
  std::set<std::string> ips;
  for (const char* table : {"lead_ips_xref", "email_stats", "page_hits", "form_submissions"}) {
    auto rows = connection.query(
        fmt::format("SELECT DISTINCT ip_id FROM {} WHERE ip_id IS NOT NULL AND lead_id IN ({})",
                    db::quote_identifier(prefix + table), which),
        {});
    EXPECT_TRUE(rows.ok());
    if (!rows.ok()) continue;
    for (const auto& row : rows->rows) ips.insert(row[0].value_or(""));
  }
  return ips;
}

int64_t connections_so_far(db::Connection& connection) {
  return std::stoll(cell(connection,
                         "SELECT VARIABLE_VALUE FROM "
                         "information_schema.GLOBAL_STATUS WHERE VARIABLE_NAME = "
                         "'CONNECTIONS'"));
}

// Batches processed side by side, on connections of their own, in small batches over related
// rows whose IP addresses are shared across batches and with contacts that stay: every
// contact is processed once, an IP goes exactly when no one else uses it, and verify finds
// nothing. (bench/run --smoke compares the data with the one-at-a-time naive path too.)
// The profile's new values are joined in from a scratch table with columns k, v0, v1, ...: a
// contact column of the same name (a custom field alias) and a NOT NULL column cleared to its
// default must not be confused with them.
TEST_P(Sweep, ProfileColumnsNamedLikeTheScratchColumnsAreRewritten) {
  exec(
      fmt::format("ALTER TABLE {} ADD k VARCHAR(191) NOT NULL DEFAULT 'none', "
                  "ADD v0 VARCHAR(191) NULL",
                  quoted("leads")));
  exec(fmt::format("UPDATE {} SET k = CONCAT('k-secret-', id), v0 = CONCAT('v-secret-', id)",
                   quoted("leads")));
  int64_t first_target = 0;
  for (int64_t id = 1; id <= contact_set.contacts && first_target == 0; ++id) {
    if (is_target(id, contact_set)) first_target = id;
  }
  // Nothing left to hash once normalized: cleared, to the column's default.
  exec(fmt::format("UPDATE {} SET k = '' WHERE id = ?", quoted("leads")), {first_target});
  write_config(std::string(kDefaultPolicy) + "k = \"hash\"\n");

  auto sweep = tool({"sweep", "-q"});
  ASSERT_EQ(sweep.exit_code, 0) << sweep.err;
  // One batch, one statement's timestamp: a failed batch would have gone contact by contact.
  EXPECT_EQ(
      value_of(fmt::format("SELECT COUNT(DISTINCT processed_at) FROM {}", quoted("gdpr_contacts"))),
      "1");
  const auto key = load_key(config_path);
  for (int64_t id = 1; id <= contact_set.contacts; ++id) {
    const std::string where = fmt::format("FROM {} WHERE id = {}", quoted("leads"), id);
    if (!is_target(id, contact_set)) {
      EXPECT_EQ(value_of("SELECT k " + where), fmt::format("k-secret-{}", id));
      EXPECT_EQ(value_of("SELECT v0 " + where), fmt::format("v-secret-{}", id));
      continue;
    }
    EXPECT_EQ(value_of("SELECT v0 " + where), "NULL") << "contact " << id;
    EXPECT_EQ(value_of("SELECT k " + where),
              id == first_target ? "none" : key.hmac_hex(fmt::format("k-secret-{}", id)))
        << "contact " << id;
    EXPECT_EQ(value_of("SELECT email " + where),
              key.hmac_hex(normalize(ValueKind::kEmail, synthetic_email(id, contact_set.seed))));
  }
  auto verified = tool({"verify"});
  EXPECT_EQ(verified.exit_code, 0) << verified.out << verified.err;
}

TEST_P(Sweep, WorkersSideBySideProcessEveryContactOnceAndDropOnlyUnusedIps) {
  RelatedSet related;
  related.contacts = contact_set.contacts;
  related.seed = contact_set.seed;
  ASSERT_TRUE(generate_related_rows(*connection, prefix(), related).ok());
  std::ofstream(config_path, std::ios::app) << "\n[sweep]\nbatch_size = 7\nworkers = 3\n";
  const std::string leaving =
      fmt::format("SELECT lead_id FROM {} WHERE reason IN (1, 2) AND channel = 'email'",
                  quoted("lead_donotcontact"));
  const auto ips_of_leaving = linked_ips(*connection, prefix(), leaving);
  const auto ips_of_staying =
      linked_ips(*connection, prefix(),
                 fmt::format("SELECT id FROM {} WHERE id NOT IN ({})", quoted("leads"), leaving));
  int64_t targets = 0;
  for (int64_t id = 1; id <= contact_set.contacts; ++id) targets += is_target(id, contact_set);
  ASSERT_GT(targets, 3 * 7) << "too few contacts for several batches per worker";

  const int64_t connections_before = connections_so_far(*connection);
  auto sweep = tool({"sweep", "--json"});
  ASSERT_EQ(sweep.exit_code, 0) << sweep.err;
  // The sweep's own connection and one per worker.
  EXPECT_GE(connections_so_far(*connection) - connections_before, 4);
  auto summary = nlohmann::json::parse(sweep.out);
  EXPECT_EQ(summary["processed"], targets);
  EXPECT_EQ(count(*connection, fmt::format("SELECT COUNT(*) FROM {}", quoted("gdpr_contacts"))),
            targets);

  int64_t dropped = 0;
  for (const auto& ip : ips_of_leaving) {
    const bool exists = count(*connection, fmt::format("SELECT COUNT(*) FROM {} WHERE id = {}",
                                                       quoted("ip_addresses"), ip)) == 1;
    if (ips_of_staying.contains(ip)) {
      EXPECT_TRUE(exists) << "IP " << ip << " went although a contact who stays uses it";
    } else {
      EXPECT_FALSE(exists) << "IP " << ip << " of processed contacts only is still there";
      dropped += !exists;
    }
  }
  EXPECT_GT(dropped, 0);
  EXPECT_EQ(summary["rows_changed"]["ip_addresses"], dropped);
  EXPECT_EQ(
      count(*connection, fmt::format("SELECT COUNT(*) FROM {}", quoted("gdpr_ip_candidates"))), 0);
  // The synthetic data has IPs nobody ever linked; the sweep after next drops those (an
  // unreferenced IP goes once it is a sweep old), and then nothing is left.
  ASSERT_EQ(tool({"sweep", "-q"}).exit_code, 0);
  auto verified = tool({"verify"});
  EXPECT_EQ(verified.exit_code, 0) << verified.out << verified.err;
}

// A sweep that ended after its batches committed and before it dropped their IPs (killed,
// connection lost) leaves the candidates; the next sweep, an idle one too, finishes: an IP
// nobody references goes, one still referenced stays, and the table is empty again.
TEST_P(Sweep, IpCandidatesLeftByAnInterruptedSweepGoWithTheNextOne) {
  ASSERT_EQ(tool({"sweep", "-q"}).exit_code, 0);
  const int64_t staying = 3;  // id % dnc_period == 3: contactable
  ASSERT_FALSE(is_target(staying, contact_set));
  exec(
      fmt::format("INSERT INTO {} (id, ip_address) VALUES (7001, '192.0.2.71'), "
                  "(7002, '192.0.2.72')",
                  quoted("ip_addresses")));
  exec(fmt::format("INSERT INTO {} (lead_id, ip_id) VALUES (?, 7002)", quoted("lead_ips_xref")),
       {staying});
  exec(fmt::format("INSERT INTO {} (id) VALUES (7001), (7002)", quoted("gdpr_ip_candidates")));

  auto idle = tool({"sweep", "--json"});
  ASSERT_EQ(idle.exit_code, 0) << idle.err;
  EXPECT_EQ(nlohmann::json::parse(idle.out)["processed"], 0);
  EXPECT_EQ(
      value_of(fmt::format("SELECT COUNT(*) FROM {} WHERE id = 7001", quoted("ip_addresses"))),
      "0");
  EXPECT_EQ(
      value_of(fmt::format("SELECT COUNT(*) FROM {} WHERE id = 7002", quoted("ip_addresses"))),
      "1");
  EXPECT_EQ(value_of(fmt::format("SELECT COUNT(*) FROM {}", quoted("gdpr_ip_candidates"))), "0");
}

TEST_P(Sweep, LaterDoNotContactEntriesAreFound) {
  ASSERT_EQ(tool({"sweep", "-q"}).exit_code, 0);
  // A new entry (contact 13 unsubscribes): the next sweep sees the table changed and scans.
  ASSERT_TRUE(connection
                  ->execute(fmt::format("INSERT INTO {} (lead_id, date_added, reason, channel) "
                                        "VALUES (13, UTC_TIMESTAMP(), 1, 'email')",
                                        quoted("lead_donotcontact")))
                  .ok());
  auto next = tool({"sweep", "--json"});
  ASSERT_EQ(next.exit_code, 0) << next.err;
  EXPECT_EQ(nlohmann::json::parse(next.out)["processed"], 1);
  // An entry edited in place (contact 12: manual -> bounced) keeps the table's shape; the
  // full pass (hourly, or --full-pass) finds it.
  ASSERT_TRUE(connection
                  ->execute(fmt::format("UPDATE {} SET reason = 2 WHERE lead_id = 12",
                                        quoted("lead_donotcontact")))
                  .ok());
  auto full = tool({"sweep", "--json", "--full-pass"});
  ASSERT_EQ(full.exit_code, 0) << full.err;
  EXPECT_EQ(nlohmann::json::parse(full.out)["processed"], 1);
  EXPECT_EQ(cell(*connection, fmt::format("SELECT reason FROM {} WHERE contact_id = 12",
                                          quoted("gdpr_contacts"))),
            "bounced");
}

TEST_P(Sweep, RecordsProofOfEveryProcessedContact) {
  ASSERT_EQ(tool({"sweep", "-q"}).exit_code, 0);
  // Contact 10 is unsubscribed, 11 bounced (dnc_period 10).
  EXPECT_EQ(cell(*connection, fmt::format("SELECT CONCAT(reason, '/', channel, '/', dnc_date, "
                                          "'/', source) FROM {} WHERE contact_id = 10",
                                          quoted("gdpr_contacts"))),
            "unsubscribed/email/2025-03-04 05:06:07/sweep");
  EXPECT_EQ(cell(*connection, fmt::format("SELECT reason FROM {} WHERE contact_id = 11",
                                          quoted("gdpr_contacts"))),
            "bounced");
  EXPECT_EQ(count(*connection,
                  fmt::format("SELECT COUNT(*) FROM {} WHERE contact_id = 12", quoted("gdpr_contacts"))),
            0);
  // The key's fingerprint is stored; the key itself is not.
  const auto key = load_key(config_path);
  EXPECT_EQ(cell(*connection, fmt::format("SELECT value FROM {} WHERE name = 'key_fingerprint'",
                                          quoted("gdpr_meta"))),
            key.fingerprint());
}

TEST_P(Sweep, LookupFindsExactlyTheRightContact) {
  ASSERT_EQ(tool({"sweep", "-q"}).exit_code, 0);
  // Contact 30: unsubscribed, with a mixed-case address; look it up with other case and spaces.
  const std::string email = synthetic_email(30, contact_set.seed);
  std::string shouted = "  " + email + " ";
  std::transform(shouted.begin(), shouted.end(), shouted.begin(), ::toupper);
  auto found = tool({"lookup", "--json", "--email", shouted});
  ASSERT_EQ(found.exit_code, 0) << found.err;
  auto json = nlohmann::json::parse(found.out);
  ASSERT_EQ(json["matches"].size(), 1u);
  EXPECT_EQ(json["matches"][0]["contact_id"], 30);
  EXPECT_EQ(json["matches"][0]["reason"], "unsubscribed");
  EXPECT_EQ(json["matches"][0]["channel"], "email");
  EXPECT_EQ(json["matches"][0]["kept"]["country"], "Germany");
  EXPECT_EQ(json["matches"][0]["kept"]["city"], "City30");
  EXPECT_FALSE(json["matches"][0]["processed_at"].is_null());

  // Another hashed field, and two fields that must both match.
  auto by_phone = tool({"lookup", "--json", "--field", "mobile=+49-170-0000031"});
  ASSERT_EQ(by_phone.exit_code, 0) << by_phone.err;
  EXPECT_EQ(nlohmann::json::parse(by_phone.out)["matches"][0]["contact_id"], 31);
  EXPECT_EQ(tool({"lookup", "--field", "mobile=+4917000000 31", "--field",
                  "work_email=work31@corp.example"})
                .exit_code,
            0);
  EXPECT_EQ(tool({"lookup", "--field", "mobile=+49 170 0000031", "--field",
                  "work_email=work30@corp.example"})
                .exit_code,
            1);

  // A contactable person and an unknown address are not found.
  auto contactable = tool({"lookup", "--email", synthetic_email(33, contact_set.seed)});
  EXPECT_EQ(contactable.exit_code, 1);
  EXPECT_NE(contactable.out.find("No processed contact"), std::string::npos);
  EXPECT_EQ(tool({"lookup", "--email", "nobody@example.org"}).exit_code, 1);
  // The address can come from stdin, out of the shell history.
  EXPECT_EQ(tool({"lookup", "--email", "-"}, email + "\n").exit_code, 0);

  // Every lookup is audited, without the value.
  const auto audit = table_rows(*connection, table("gdpr_audit"));
  EXPECT_EQ(audit.size(), 7u);
  for (const auto& row : audit) {
    EXPECT_EQ(row.find("@"), std::string::npos) << row;
    EXPECT_EQ(row.find("0000031"), std::string::npos) << row;
  }
  // A field that is not hashed cannot be looked up.
  auto not_hashed = tool({"lookup", "--field", "firstname=Firstname30"});
  EXPECT_EQ(not_hashed.exit_code, 64);
  EXPECT_NE(not_hashed.err.find("not hashed"), std::string::npos);
  EXPECT_EQ(not_hashed.err.find("Firstname30"), std::string::npos);
}

TEST_P(Sweep, WrongKeyIsRefused) {
  ASSERT_EQ(tool({"sweep", "-q"}).exit_code, 0);
  std::filesystem::remove(key_path);
  ASSERT_EQ(run_tool({"keygen", "--out", key_path.string()}).exit_code, 0);
  const auto leads = table_rows(*connection, table("leads"));
  auto sweep = tool({"sweep"});
  EXPECT_EQ(sweep.exit_code, 4);
  EXPECT_NE(sweep.err.find("not the key this database was processed with"), std::string::npos);
  EXPECT_EQ(tool({"lookup", "--email", synthetic_email(30, contact_set.seed)}).exit_code, 4);
  // check says so with the same exit code as every other command.
  EXPECT_EQ(tool({"check"}).exit_code, 4);
  EXPECT_EQ(leads, table_rows(*connection, table("leads")));
}

TEST_P(Sweep, KeyFileOthersCanReadIsRefused) {
  std::filesystem::permissions(key_path, std::filesystem::perms::group_read,
                               std::filesystem::perm_options::add);
  const auto leads = table_rows(*connection, table("leads"));
  auto sweep = tool({"sweep"});
  EXPECT_EQ(sweep.exit_code, 2);
  EXPECT_NE(sweep.err.find("chmod 600"), std::string::npos) << sweep.err;
  EXPECT_NE(sweep.err.find("config.toml:"), std::string::npos) << sweep.err;
  EXPECT_EQ(tool({"check"}).exit_code, 2);
  EXPECT_EQ(leads, table_rows(*connection, table("leads")));
  std::filesystem::remove(key_path);
  auto missing = tool({"sweep"});
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_NE(missing.err.find("mautic-gdpr keygen --out"), std::string::npos) << missing.err;
}

TEST_P(Sweep, SecondConcurrentSweepSaysSoAndStops) {
  // Hold the sweep's advisory lock from another session, as a running sweep would.
  auto other = connect_root(database);
  ASSERT_TRUE(other);
  const std::string lock = "mautic-gdpr-" + sha256_hex(database + '\n' + prefix()).substr(0, 40);
  ASSERT_EQ(other->query_value("SELECT GET_LOCK(?, 0)", {lock})->value_or(""), "1");
  auto sweep = tool({"sweep"});
  EXPECT_EQ(sweep.exit_code, 5);
  EXPECT_NE(sweep.err.find("another sweep is already running"), std::string::npos) << sweep.err;
  EXPECT_EQ(count(*connection, fmt::format("SELECT COUNT(*) FROM {}", quoted("gdpr_contacts"))),
            0);
  // From the timer (--quiet) an overlapping run is no error: nothing is printed at all.
  auto quiet = tool({"sweep", "--quiet"});
  EXPECT_EQ(quiet.exit_code, 5);
  EXPECT_EQ(quiet.out + quiet.err, "");
  other.reset();
  auto done = tool({"sweep", "-q"});
  EXPECT_EQ(done.exit_code, 0);
  EXPECT_EQ(done.out + done.err, "") << "--quiet prints only real errors";

  // Every outcome is recorded: the refused runs and the one that worked.
  auto status = nlohmann::json::parse(tool({"status", "--json"}).out);
  EXPECT_EQ(status["last_sweep"]["result"], "ok");
  EXPECT_EQ(status["last_successful_sweep"]["processed"], 200);
  EXPECT_EQ(status["sweep_overdue"], false);
  EXPECT_EQ(cell(*connection, fmt::format("SELECT GROUP_CONCAT(result, ':', "
                                          "COALESCE(error_class, '-') ORDER BY id) FROM {}",
                                          quoted("gdpr_sweep_runs"))),
            "busy:busy,busy:busy,ok:-");
}

TEST_P(Sweep, StatusNeedsNoHashKey) {
  ASSERT_EQ(tool({"sweep", "-q", "--limit", "30"}).exit_code, 0);
  // A monitoring user cannot read the key file: status still works, lookup does not.
  std::filesystem::remove(key_path);
  auto status = tool({"status", "--json"});
  ASSERT_EQ(status.exit_code, 0) << status.err;
  auto json = nlohmann::json::parse(status.out);
  EXPECT_EQ(json["processed"], 30);
  EXPECT_EQ(json["pending"], 170);
  // The synthetic DNC rows are from 2025-03-04: the oldest pending one is that old.
  EXPECT_EQ(json["oldest_pending_since"], "2025-03-04T05:06:07Z");
  EXPECT_GT(json["oldest_pending_age_seconds"].get<int64_t>(), 86400);
  auto text = tool({"status"});
  EXPECT_NE(text.out.find("last successful sweep: ok"), std::string::npos) << text.out;
  EXPECT_EQ(tool({"lookup", "--email", "x@example.org"}).exit_code, 2);
}

TEST_P(Sweep, PlanAndStatusWriteNothing) {
  const auto leads = table_rows(*connection, table("leads"));
  auto plan = tool({"plan", "--json"});
  ASSERT_EQ(plan.exit_code, 0) << plan.err;
  auto json = nlohmann::json::parse(plan.out);
  EXPECT_EQ(json["pending"], 200);
  bool saw_email = false;
  for (const auto& change : json["changes"]) {
    if (change["table"] == "leads" && change["column"] == "email") {
      EXPECT_EQ(change["action"], "hash");
      EXPECT_EQ(change["values"], 200);
      saw_email = true;
    }
  }
  EXPECT_TRUE(saw_email);
  auto status = tool({"status", "--json"});
  ASSERT_EQ(status.exit_code, 0) << status.err;
  EXPECT_EQ(nlohmann::json::parse(status.out)["pending"], 200);
  EXPECT_EQ(leads, table_rows(*connection, table("leads")));
  EXPECT_EQ(count(*connection,
                  fmt::format("SELECT COUNT(*) FROM information_schema.TABLES WHERE "
                              "TABLE_SCHEMA = DATABASE() AND TABLE_NAME LIKE '%gdpr%'")),
            0);

  ASSERT_EQ(tool({"sweep", "-q", "--limit", "50"}).exit_code, 0);
  auto later = nlohmann::json::parse(tool({"status", "--json"}).out);
  EXPECT_EQ(later["pending"], 150);
  EXPECT_EQ(later["processed"], 50);
  EXPECT_EQ(later["last_sweep"]["result"], "ok");
  EXPECT_EQ(later["last_successful_sweep"]["processed"], 50);
  EXPECT_TRUE(later["last_sweep"]["ended_at"].get<std::string>().ends_with("Z"));
}

TEST_P(Sweep, CheckNamesEveryConfigProblemWithItsLine) {
  auto good = tool({"check"});
  EXPECT_EQ(good.exit_code, 0) << good.err;
  EXPECT_NE(good.out.find("work_email"), std::string::npos);
  EXPECT_NE(good.out.find("hash"), std::string::npos);

  ASSERT_TRUE(add_custom_field(*connection, prefix(), {"short_code", "text", "VARCHAR(32)"}).ok());
  write_config(
      "[policy]\ndefault = \"delete\"\n\n[policy.fields]\nemial = \"hash\"\n"
      "shoe_size = \"hash\"\nshort_code = \"hash\"\n");
  auto bad = tool({"check"});
  EXPECT_EQ(bad.exit_code, 2);
  // The config's [policy.fields] starts at line 17 in write_config's layout.
  EXPECT_NE(bad.err.find("config.toml:18: `emial` is not a contact field"), std::string::npos)
      << bad.err;
  EXPECT_NE(bad.err.find("did you mean `email`?"), std::string::npos) << bad.err;
  EXPECT_NE(bad.err.find("config.toml:19: `shoe_size` is a number field"), std::string::npos)
      << bad.err;
  EXPECT_NE(bad.err.find("config.toml:20: column"), std::string::npos) << bad.err;
  EXPECT_NE(bad.err.find("varchar(32)"), std::string::npos) << bad.err;
  // Config errors never start a sweep.
  const auto leads = table_rows(*connection, table("leads"));
  EXPECT_EQ(tool({"sweep"}).exit_code, 2);
  EXPECT_EQ(leads, table_rows(*connection, table("leads")));
}

TEST_P(Sweep, WrongTablePrefixIsNamed) {
  std::string text = fmt::format(
      "[database]\nsocket = \"{}\"\nname = \"{}\"\nuser = \"root\"\ntable_prefix = \"zz_\"\n"
      "[hashing]\nkey_file = \"{}\"\n",
      test_socket(), database, key_path.string());
  std::ofstream(config_path) << text;
  auto check = tool({"check"});
  EXPECT_EQ(check.exit_code, 2);
  EXPECT_NE(check.err.find("no table `zz_leads`"), std::string::npos) << check.err;
  EXPECT_NE(check.err.find(fmt::format("table_prefix = \"{}\"", prefix())), std::string::npos)
      << check.err;
}

TEST_P(Sweep, LegacyPluginRecordsAreFound) {
  ASSERT_TRUE(add_custom_field(*connection, prefix(), {"email_hash", "text", "VARCHAR(191)"}).ok());
  // What the LeadEngine plugin left: md5(salt + value as typed + salt), email deleted.
  const std::string salt = "5f1e2d";
  const std::string typed = "Legacy.Person@Example.org";
  ASSERT_TRUE(connection
                  ->execute(fmt::format("UPDATE {} SET email = NULL, email_hash = ? WHERE id = 5",
                                        quoted("leads")),
                            {legacy_md5_hex(salt, typed)})
                  .ok());
  write_config(std::string(kDefaultPolicy) + "\n[legacy]\nmd5_salt = \"" + salt + "\"\n");
  ASSERT_EQ(tool({"check"}).exit_code, 0);
  for (const std::string& asked : {typed, std::string(" Legacy.Person@Example.org")}) {
    auto found = tool({"lookup", "--json", "--email", asked});
    ASSERT_EQ(found.exit_code, 0) << found.err;
    auto json = nlohmann::json::parse(found.out);
    ASSERT_EQ(json["matches"].size(), 1u);
    EXPECT_EQ(json["matches"][0]["contact_id"], 5);
    EXPECT_EQ(json["matches"][0]["processed_by"], "legacy plugin");
  }
  // The plugin hashed lowercased input too when the address was typed in lowercase.
  ASSERT_TRUE(connection
                  ->execute(fmt::format("UPDATE {} SET email_hash = ? WHERE id = 6",
                                        quoted("leads")),
                            {legacy_md5_hex(salt, "lower@example.org")})
                  .ok());
  EXPECT_EQ(tool({"lookup", "--email", "Lower@Example.org"}).exit_code, 0);
  EXPECT_EQ(tool({"lookup", "--email", "other@example.org"}).exit_code, 1);
  // The sweep keeps the plugin's hash column: deleting it would lose the old records.
  ASSERT_EQ(tool({"sweep", "-q"}).exit_code, 0);
  EXPECT_EQ(tool({"lookup", "--email", typed}).exit_code, 0);
}

INSTANTIATE_TEST_SUITE_P(Prefixes, Sweep, ::testing::Values("", "mt_"), prefix_name);

// A sweep of thousands of contacts killed with SIGKILL at some instant: every contact is fully
// processed or untouched, and the next sweep completes the work.
class KilledSweep : public MauticTest {
 protected:
  void SetUp() override {
    contact_set.contacts = 6000;
    contact_set.dnc_period = 3;  // ids ≡ 0 unsubscribed, ≡ 1 bounced, ≡ 2 manual
    contact_set.custom_fields = true;
    MauticTest::SetUp();
  }

  // Each target contact is either processed (recorded, hashed, deleted) or untouched.
  void expect_consistent(const HashKey& key, int64_t* processed) {
    auto rows = connection->query(
        fmt::format("SELECT l.id, l.email, l.firstname, l.nickname, g.contact_id, "
                    "(SELECT COUNT(*) FROM {} h WHERE h.contact_id = l.id) FROM {} l "
                    "LEFT JOIN {} g ON g.contact_id = l.id",
                    quoted("gdpr_hashes"), quoted("leads"), quoted("gdpr_contacts")),
        {});
    ASSERT_TRUE(rows.ok()) << rows.error().message;
    *processed = 0;
    for (const auto& row : rows->rows) {
      int64_t id = std::stoll(*row[0]);
      bool recorded = row[4].has_value();
      if (recorded) {
        ++*processed;
        ASSERT_TRUE(is_target(id, contact_set)) << id;
        EXPECT_EQ(row[1].value_or(""),
                  key.hmac_hex(normalize(ValueKind::kEmail, synthetic_email(id, contact_set.seed))));
        EXPECT_FALSE(row[2].has_value());
        EXPECT_FALSE(row[3].has_value());
        EXPECT_EQ(row[5].value_or(""), "3");  // email, mobile, work_email
      } else {
        EXPECT_EQ(row[1].value_or(""), synthetic_email(id, contact_set.seed)) << id;
        EXPECT_EQ(row[2].value_or(""), synthetic_firstname(id)) << id;
        EXPECT_EQ(row[3].value_or(""), fmt::format("Nick{}", id)) << id;
        EXPECT_EQ(row[5].value_or(""), "0");
      }
    }
  }

  // `sweep --batch-size 20` in the background, its stderr to `err_path`.
  pid_t spawn_sweep(const std::string& err_path) {
    std::vector<std::string> args = {MGDPR_BINARY, "sweep", "--batch-size", "20", "--config",
                                     config_path.string()};
    std::vector<char*> argv;
    for (auto& arg : args) argv.push_back(arg.data());
    argv.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&actions, 2, err_path.c_str(),
                                     O_WRONLY | O_CREAT | O_TRUNC, 0600);
    pid_t pid = 0;
    if (posix_spawn(&pid, MGDPR_BINARY, &actions, nullptr, argv.data(), environ) != 0) pid = 0;
    posix_spawn_file_actions_destroy(&actions);
    return pid;
  }

  // Waits (at most 60 s) until `contacts` are recorded: some batches committed, others not.
  void wait_until_recorded(int64_t contacts) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (std::chrono::steady_clock::now() < deadline) {
      auto value = connection->query_value(
          "SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND "
          "TABLE_NAME = ?",
          {table("gdpr_contacts")});
      if (value.ok() && value->value_or("0") == "1" &&
          count(*connection, fmt::format("SELECT COUNT(*) FROM {}", quoted("gdpr_contacts"))) >=
              contacts) {
        return;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
  }

  // After the interruption: some contacts processed, the rest untouched; the next sweep
  // processes exactly the rest.
  void expect_half_done_then_completed(const HashKey& key) {
    int64_t processed = 0;
    expect_consistent(key, &processed);
    EXPECT_GE(processed, 200);
    EXPECT_LT(processed, 4000);
    auto resumed = tool({"sweep", "--json"});
    ASSERT_EQ(resumed.exit_code, 0) << resumed.err;
    EXPECT_EQ(nlohmann::json::parse(resumed.out)["processed"], 4000 - processed);
    expect_consistent(key, &processed);
    EXPECT_EQ(processed, 4000);
  }
};

TEST_P(KilledSweep, NextSweepCompletesTheWork) {
  const auto key = load_key(config_path);
  const pid_t pid = spawn_sweep("/dev/null");
  ASSERT_GT(pid, 0);
  // Kill it once some batches have committed and others have not.
  wait_until_recorded(200);
  ::kill(pid, SIGKILL);
  int status = 0;
  ::waitpid(pid, &status, 0);
  ASSERT_TRUE(WIFSIGNALED(status)) << "the sweep finished before it could be killed";
  expect_half_done_then_completed(key);
}

// The database server goes away under a running sweep (a restart, a failover, an admin's KILL):
// the sweep's connection is killed once some batches have committed. The sweep stops with a
// database error (exit 3) that says so; every contact is fully processed or untouched, and the
// next sweep completes the work.
TEST_P(KilledSweep, ConnectionLostMidSweepLosesNothing) {
  const auto key = load_key(config_path);
  const std::string err_path = (dir / "sweep.err").string();
  const pid_t pid = spawn_sweep(err_path);
  ASSERT_GT(pid, 0);
  wait_until_recorded(200);
  // Every connection to this test's database but ours: the sweep's.
  auto others = connection->query(
      "SELECT ID FROM information_schema.PROCESSLIST WHERE DB = DATABASE() AND ID <> "
      "CONNECTION_ID()",
      {});
  ASSERT_TRUE(others.ok());
  int killed = 0;
  for (const auto& row : others->rows) {
    killed += connection->execute(fmt::format("KILL CONNECTION {}", row[0].value_or("0"))).ok();
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  ASSERT_GT(killed, 0) << "the sweep finished before its connection could be killed";
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 3);
  std::ifstream err_file(err_path);
  const std::string err((std::istreambuf_iterator<char>(err_file)), {});
  EXPECT_NE(err.find("mautic-gdpr: error:"), std::string::npos) << err;
  expect_half_done_then_completed(key);
  EXPECT_EQ(tool({"verify"}).exit_code, 0);
}

INSTANTIATE_TEST_SUITE_P(Prefixes, KilledSweep, ::testing::Values("", "mt_"), prefix_name);

}  // namespace
}  // namespace mgdpr::testing
