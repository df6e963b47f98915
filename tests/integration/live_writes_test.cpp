// SPDX-License-Identifier: GPL-3.0-or-later
// A live Mautic keeps writing while and after we sweep: a second connection writes what Mautic,
// its plugins and CRM syncs write about contacts (late opens updating old rows, page hits, form
// posts, audit rows, profile saves with same-second and older timestamps, updates without
// date_modified, IP links, queued webhooks, notes, lead events, delivery notes) while a sweep
// processes them. After one more plain sweep a full dump holds none of the writer's markers
// for processed contacts, every marker for the others, and `verify` exits 0: once without and
// once with the change queue (`queue install`), where that plain sweep checks only what the
// triggers queued.
//
// CI runs it at a small size. A larger run (README, "Reliability"):
//   MGDPR_LIVE_CONTACTS=50000 MGDPR_TEST_SOCKET=... build/integration_tests \
//     --gtest_filter='*LiveWrites*'
#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <random>
#include <set>
#include <sstream>
#include <thread>

#include "core/hashing.h"
#include "core/scrub.h"
#include "test_database.h"
#include "testing/related_rows.h"

namespace mgdpr::testing {
namespace {

using db::Param;

int64_t live_contacts() {
  const char* size = std::getenv("MGDPR_LIVE_CONTACTS");
  return size != nullptr ? std::max<int64_t>(300, std::atoll(size)) : 600;
}

std::string php_string(const std::string& value) {
  return fmt::format("s:{}:\"{}\";", value.size(), value);
}

class LiveWrites : public MauticTest {
 protected:
  void SetUp() override {
    contact_set.contacts = live_contacts();
    contact_set.dnc_period = 4;  // by id % 4: unsubscribed, bounced, manual, contactable
    MauticTest::SetUp();
    RelatedSet related;
    related.contacts = contact_set.contacts;
    related.seed = contact_set.seed;
    ASSERT_TRUE(generate_related_rows(*connection, prefix(), related).ok());
    for (int64_t id = 1; id <= contact_set.contacts; ++id) {
      const int reason = dnc_reason_for(id, contact_set);
      if (reason == 1 || reason == 2) {
        leaving.push_back(id);  // unsubscribed or bounced: processed by the sweep
      } else if (reason == 0) {
        staying.push_back(id);  // contactable: everything written about them stays
      }
    }
  }

  // One write of the kind `kind` about `contact`; its personal values carry `marker`.
  Result<uint64_t> write(db::Connection& c, int kind, int64_t contact, const std::string& marker) {
    auto T = [&](const std::string& name) { return quoted(name); };
    switch (kind % 13) {
      case 0:  // a late open of an old email: the existing row is updated in place
        return c.execute(fmt::format("UPDATE {} SET is_read = 1, open_count = open_count + 1, "
                                     "last_opened = UTC_TIMESTAMP(), open_details = ? WHERE "
                                     "lead_id = ? ORDER BY id LIMIT 1",
                                     T("email_stats")),
                         {"a:1:{i:0;a:2:{s:8:\"datetime\";s:19:\"2026-11-30 10:00:00\";"
                          "s:9:\"useragent\";" +
                              php_string(marker + "agent") + "}}",
                          contact});
      case 1:  // a page hit
        return c.execute(fmt::format("INSERT INTO {} (lead_id, date_hit, code, tracking_id, url, "
                                     "user_agent, query) VALUES (?, UTC_TIMESTAMP(), 200, ?, ?, "
                                     "?, ?)",
                                     T("page_hits")),
                         {contact, marker + "track", "https://example.org/?m=" + marker + "url",
                          marker + "ua", "a:1:{s:1:\"m\";" + php_string(marker + "query") + "}"});
      case 2: {  // a form post: the submission and its answers
        MGDPR_TRY(c.execute(fmt::format("INSERT INTO {} (form_id, lead_id, date_submitted, "
                                        "referer) VALUES (1, ?, UTC_TIMESTAMP(), ?)",
                                        T("form_submissions")),
                            {contact, marker + "referer"}));
        return c.execute(fmt::format("INSERT INTO {} (submission_id, form_id, first_name, email) "
                                     "VALUES (LAST_INSERT_ID(), 1, ?, ?)",
                                     T("form_results_1_contactform")),
                         {marker + "answer", marker + "answer@example.org"});
      }
      case 3:  // an audit row of a profile change
        return c.execute(fmt::format("INSERT INTO {} (user_id, user_name, bundle, object, "
                                     "object_id, action, details, date_added, ip_address) VALUES "
                                     "(1, 'admin', 'lead', 'lead', ?, 'update', ?, "
                                     "UTC_TIMESTAMP(), ?)",
                                     T("audit_log")),
                         {contact,
                          "a:1:{s:6:\"fields\";a:1:{s:9:\"firstname\";a:2:{i:0;N;i:1;" +
                              php_string(marker + "audit") + "}}}",
                          marker + "auditip"});
      case 4:  // a CRM sync saves the profile within the second of our processing
        return c.execute(fmt::format("UPDATE {} SET firstname = ?, email = ?, date_modified = "
                                     "UTC_TIMESTAMP() WHERE id = ?",
                                     T("leads")),
                         {marker + "first", marker + "mail@example.org", contact});
      case 5:  // a save that waited for our lock carries an older PHP timestamp
        return c.execute(fmt::format("UPDATE {} SET lastname = ?, date_modified = "
                                     "UTC_TIMESTAMP() - INTERVAL 1 HOUR WHERE id = ?",
                                     T("leads")),
                         {marker + "last", contact});
      case 6:  // a plugin writes without touching date_modified
        return c.execute(
            fmt::format("UPDATE {} SET position = ?, mobile = ? WHERE id = ?", T("leads")),
            {marker + "position", "+49" + std::to_string(100000 + contact), contact});
      case 7: {  // a new IP with its geo details, linked to the contact
        MGDPR_TRY(c.execute(
            fmt::format("INSERT INTO {} (ip_address, ip_details) VALUES (?, ?)", T("ip_addresses")),
            {marker + "ip", "a:1:{s:4:\"city\";" + php_string(marker + "geo") + "}"}));
        return c.execute(fmt::format("INSERT INTO {} (lead_id, ip_id) VALUES (?, LAST_INSERT_ID())",
                                     T("lead_ips_xref")),
                         {contact});
      }
      case 8: {  // a queued webhook (queue mode), compressed as Mautic 5 stores it
        const std::string payload =
            nlohmann::json({{"mautic.lead_post_save_update",
                             {{{"contact", {{"id", contact}, {"firstname", marker + "hook"}}}}}}})
                .dump();
        return c.execute(fmt::format("INSERT INTO {} (webhook_id, event_id, date_added, "
                                     "payload_compressed) VALUES (1, 1, UTC_TIMESTAMP(), ?)",
                                     T("webhook_queue")),
                         {zlib_compress(payload)});
      }
      case 9:  // a note by a user
        return c.execute(fmt::format("INSERT INTO {} (lead_id, is_published, text) VALUES "
                                     "(?, 1, ?)",
                                     T("lead_notes")),
                         {contact, marker + "note"});
      case 10:  // a lead event (an import updating the contact)
        return c.execute(
            fmt::format("INSERT INTO {} (lead_id, bundle, object, action, "
                        "date_added, properties) VALUES (?, 'lead', 'import', "
                        "'updated', UTC_TIMESTAMP(), ?)",
                        T("lead_event_log")),
            {contact, nlohmann::json({{"row", {{"city", marker + "import"}}}}).dump()});
      case 11:  // a new email sent before the address was hashed
        return c.execute(fmt::format("INSERT INTO {} (lead_id, email_address, date_sent, is_read, "
                                     "is_failed, viewed_in_browser, tokens) VALUES (?, ?, "
                                     "UTC_TIMESTAMP(), 0, 0, 0, ?)",
                                     T("email_stats")),
                         {contact, marker + "sent@example.org",
                          "a:1:{s:16:\"{contactfield=a}\";" + php_string(marker + "token") + "}"});
      default:  // a webhook delivery note echoing the contact's address
        return c.execute(fmt::format("INSERT INTO {} (webhook_id, status_code, note) VALUES "
                                     "(1, '500', ?)",
                                     T("webhook_logs")),
                         {"echo " + marker});
    }
  }

  // The address Mautic would echo in a delivery note: the profile's, as it is now.
  std::optional<std::string> current_email(db::Connection& c, int64_t contact) {
    auto email =
        c.query_value(fmt::format("SELECT email FROM {} WHERE id = ?", quoted("leads")), {contact});
    if (!email || !email->has_value() || looks_like_digest(**email)) return std::nullopt;
    return **email;
  }

  std::string dump() {
    const std::string path = (dir / "dump.sql").string();
    const std::string command =
        fmt::format("mariadb-dump --socket='{}' -uroot --skip-extended-insert '{}' > '{}'",
                    test_socket(), database, path);
    EXPECT_EQ(std::system(command.c_str()), 0) << command;
    std::ifstream in(path, std::ios::binary);
    std::ostringstream content;
    content << in.rdbuf();
    return content.str();
  }

  // Queued payloads are compressed: the dump cannot show their text.
  std::string queued_payloads() {
    std::string text;
    auto rows = connection->query(
        fmt::format("SELECT payload_compressed FROM {}", quoted("webhook_queue")), {});
    EXPECT_TRUE(rows.ok());
    for (const auto& row : rows->rows) {
      if (!row[0]) continue;
      auto inflated = zlib_decompress(*row[0]);
      if (inflated) text += *inflated + "\n";
    }
    return text;
  }

  // With the change queue installed, the second (plain) sweep checks only the queued contacts
  // and the tables no trigger covers; the result must be the same.
  void writer_against_sweep(bool with_queue);

  std::vector<int64_t> leaving;
  std::vector<int64_t> staying;
};

void LiveWrites::writer_against_sweep(bool with_queue) {
  if (with_queue) {
    auto installed = tool({"queue", "install"});
    ASSERT_EQ(installed.exit_code, 0) << installed.out << installed.err;
  }
  auto writer = connect_root(database);
  ASSERT_TRUE(writer);
  // Webhooks and their events are parents this test does not need.
  ASSERT_TRUE(writer->execute("SET SESSION foreign_key_checks = 0").ok());

  std::atomic<bool> sweeping{true};
  std::vector<std::string> gone;  // markers of contacts that leave
  std::vector<std::string> kept;  // markers of contacts that stay
  std::map<std::pair<int64_t, int>, std::string> last_in_place;
  std::set<int> succeeded_kinds;
  std::set<int64_t> email_changed;  // contacts whose address the writer changed
  std::set<int64_t> echoed;         // contacts whose address a delivery note echoes
  int64_t writes = 0;
  int64_t failed = 0;
  std::thread write_loop([&] {
    std::mt19937_64 random(7);
    // Writes while the sweep runs, at least a minimum number, and a hundred more after it.
    int64_t after_sweep = 0;
    for (int64_t n = 0; sweeping || n < 600 || after_sweep < 100; ++n) {
      if (!sweeping) ++after_sweep;
      const bool leaves = random() % 4 != 0;
      const auto& pool = leaves ? leaving : staying;
      const int64_t contact = pool[random() % pool.size()];
      const int kind = int(random() % 13);
      std::string marker = fmt::format("{}{}x{}k", leaves ? "LWv" : "LKv", n, kind);
      // A delivery note carries the contact's address, not a marker. The address is the one
      // the contact has when it is processed: a note echoing an address the contact no longer
      // had by then, which nothing else records, cannot be tied to anyone (ARCHITECTURE.md).
      if (kind == 12) {
        if (email_changed.contains(contact)) continue;
        auto email = current_email(*writer, contact);
        if (!email) continue;  // already a digest: the note would name no one
        marker = *email;
        echoed.insert(contact);
      }
      if (kind == 4 && echoed.contains(contact)) continue;
      if (kind == 4) email_changed.insert(contact);
      auto done = write(*writer, kind, contact, marker);
      ++writes;
      if (!done) {
        ++failed;  // a lock wait against the sweep: Mautic would retry or lose the write
        continue;
      }
      if (*done == 0) continue;  // a late open of a contact that was never sent an email
      succeeded_kinds.insert(kind);
      if (leaves) {
        gone.push_back(marker);
      } else if (kind == 0 || kind == 4 || kind == 5 || kind == 6) {
        last_in_place[{contact, kind}] = marker;  // a later write of the kind overwrites it
      } else {
        kept.push_back(marker);
      }
    }
  });
  auto first = tool({"sweep", "--json", "--batch-size", "20"});
  sweeping = false;
  write_loop.join();
  for (const auto& [where, marker] : last_in_place) kept.push_back(marker);
  ASSERT_EQ(first.exit_code, 0) << first.err;
  EXPECT_GT(writes - failed, 500);
  EXPECT_EQ(succeeded_kinds.size(), 13u) << "every kind of write was tried successfully";

  // One more plain sweep: the first one ran the hourly full pass, this one does not.
  auto second = tool({"sweep", "--json"});
  ASSERT_EQ(second.exit_code, 0) << second.err;
  const auto report = nlohmann::json::parse(second.out);
  EXPECT_EQ(report["processed"], 0);
  EXPECT_FALSE(report["repaired"].empty()) << "the writer's late writes were repaired";
  EXPECT_EQ(report["queue"]["used"], with_queue) << second.out;

  const std::string after = dump() + queued_payloads();
  int64_t left = 0;
  for (const auto& marker : gone) {
    const size_t at = after.find(marker);
    if (at != std::string::npos && ++left <= 10) {
      const size_t line = after.rfind('\n', at) + 1;
      ADD_FAILURE() << "left behind: " << marker << " in "
                    << after.substr(line, std::min<size_t>(300, after.find('\n', at) - line));
    }
  }
  EXPECT_EQ(left, 0) << "of " << gone.size() << " markers of contacts that left";
  for (const auto& marker : kept) {
    EXPECT_NE(after.find(marker), std::string::npos) << "lost: " << marker;
  }
  auto verified = tool({"verify", "--json"});
  EXPECT_EQ(verified.exit_code, 0) << verified.out << verified.err;

  // Nothing is left to repair: a third sweep changes nothing and says so.
  auto third = nlohmann::json::parse(tool({"sweep", "--json", "--full-pass"}).out);
  EXPECT_TRUE(third["repaired"].empty()) << third.dump();
  EXPECT_TRUE(third["rows_changed"].empty()) << third.dump();
}

TEST_P(LiveWrites, ConcurrentWriterLeavesNothingAfterOneMorePlainSweep) {
  writer_against_sweep(false);
}

TEST_P(LiveWrites, ConcurrentWriterLeavesNothingAfterOneMorePlainSweepWithTheQueue) {
  writer_against_sweep(true);
}

INSTANTIATE_TEST_SUITE_P(Prefixes, LiveWrites, ::testing::Values("", "mt_"), prefix_name);

}  // namespace
}  // namespace mgdpr::testing
