// SPDX-License-Identifier: GPL-3.0-or-later
#include "testing/related_rows.h"

#include <algorithm>

#include "testing/synthetic_mautic.h"

namespace mgdpr::testing {

namespace {

// Statements are flushed at about this size: large enough that round trips do not matter,
// well under MariaDB's default max_allowed_packet (16 MiB).
constexpr size_t kFlushBytes = 2 * 1024 * 1024;

// splitmix64: a fast, well-mixed hash, so that row counts and choices are deterministic.
uint64_t mix(uint64_t value) {
  value += 0x9e3779b97f4a7c15ULL;
  value = (value ^ (value >> 30)) * 0xbf58476d1ce4e5b9ULL;
  value = (value ^ (value >> 27)) * 0x94d049bb133111ebULL;
  return value ^ (value >> 31);
}

uint64_t draw(uint64_t seed, int64_t id, uint64_t salt) {
  return mix(seed * 0x100000001b3ULL ^ mix(uint64_t(id) ^ (salt << 56)));
}

// 0..2*average rows, average `average`.
int64_t rows_for(uint64_t seed, int64_t id, uint64_t salt, int average) {
  if (average <= 0) return 0;
  return int64_t(draw(seed, id, salt) % uint64_t(2 * average + 1));
}

// PHP serialize() of a string: the length is in bytes.
std::string php_string(std::string_view value) {
  return fmt::format("s:{}:\"{}\";", value.size(), value);
}

// One table's multi-row INSERT, flushed whenever it grows past kFlushBytes.
class BulkInsert {
 public:
  BulkInsert(db::Connection& connection, std::string head)
      : connection_(connection), head_(std::move(head)) {}

  Status add(std::string_view tuple) {
    sql_ += sql_.empty() ? head_ + " VALUES " : ", ";
    sql_ += tuple;
    ++rows_;
    if (sql_.size() >= kFlushBytes) return flush();
    return {};
  }

  Status flush() {
    if (sql_.empty()) return {};
    auto done = connection_.execute(sql_);
    sql_.clear();
    if (!done) return done.error();
    return {};
  }

  int64_t rows() const { return rows_; }

 private:
  db::Connection& connection_;
  std::string head_;
  std::string sql_;
  int64_t rows_ = 0;
};

const char* const kCities[] = {"Berlin", "Paris", "Vienna", "Madrid", "Rome", "Lyon", "Graz"};
const char* const kAgents[] = {
    "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/126.0 Safari/537.36"};

std::string ip_text(int64_t ip_id) {
  return fmt::format("10.{}.{}.{}", (ip_id >> 16) & 255, (ip_id >> 8) & 255, ip_id & 255);
}

std::string date_text(uint64_t random) {
  return fmt::format("2024-{:02d}-{:02d} {:02d}:{:02d}:00", 1 + random % 12, 1 + (random >> 8) % 28,
                     (random >> 16) % 24, (random >> 24) % 60);
}

}  // namespace

std::string sql_literal(std::string_view value) {
  std::string quoted = "'";
  for (char c : value) {
    if (c == '\'' || c == '\\') quoted += '\\';
    quoted += c;
  }
  quoted += '\'';
  return quoted;
}

Result<RelatedCounts> generate_related_rows(db::Connection& connection, const std::string& prefix,
                                            const RelatedSet& set) {
  auto table = [&](std::string_view name) { return db::quote_identifier(prefix + std::string(name)); };
  // Synthetic, consistent data: skip the per-row foreign-key and unique checks while loading.
  MGDPR_TRY(connection.execute_script("SET SESSION foreign_key_checks = 0; "
                                      "SET SESSION unique_checks = 0"));
  auto form = connection.execute(fmt::format(
      "INSERT IGNORE INTO {} (id, is_published, name, alias, post_action) "
      "VALUES (1, 1, 'Contact form', 'contactform', 'message')",
      table("forms")));
  if (!form) return form.error();

  const int64_t ip_pool = std::max<int64_t>(1, int64_t(double(set.contacts) * set.ips_per_contact));
  BulkInsert ips(connection, fmt::format("INSERT INTO {} (id, ip_address, ip_details)",
                                         table("ip_addresses")));
  for (int64_t ip = 1; ip <= ip_pool; ++ip) {
    MGDPR_TRY(ips.add(fmt::format("({}, '{}', NULL)", ip, ip_text(ip))));
  }
  MGDPR_TRY(ips.flush());

  BulkInsert xref(connection, fmt::format("INSERT INTO {} (lead_id, ip_id)", table("lead_ips_xref")));
  BulkInsert stats(connection,
                   fmt::format("INSERT INTO {} (id, lead_id, ip_id, email_address, date_sent, "
                               "is_read, is_failed, viewed_in_browser, date_read, tracking_hash, "
                               "source, source_id, tokens, open_count, last_opened, open_details)",
                               table("email_stats")));
  BulkInsert hits(connection,
                  fmt::format("INSERT INTO {} (id, lead_id, ip_id, date_hit, country, city, isp, "
                              "code, referer, url, url_title, user_agent, remote_host, "
                              "page_language, browser_languages, tracking_id, query)",
                              table("page_hits")));
  BulkInsert submissions(
      connection, fmt::format("INSERT INTO {} (id, form_id, ip_id, lead_id, tracking_id, "
                              "date_submitted, referer)",
                              table("form_submissions")));
  BulkInsert results(connection,
                     fmt::format("INSERT INTO {} (submission_id, form_id, first_name, email)",
                                 table("form_results_1_contactform")));
  BulkInsert audit(connection,
                   fmt::format("INSERT INTO {} (user_id, user_name, bundle, object, object_id, "
                               "action, details, date_added, ip_address)",
                               table("audit_log")));

  int64_t stat_id = 0;
  int64_t hit_id = 0;
  int64_t submission_id = 0;
  for (int64_t contact = 1; contact <= set.contacts; ++contact) {
    const std::string email = synthetic_email(contact, set.seed);
    const std::string firstname = synthetic_firstname(contact);
    // One or two IPs from the shared pool: about half the pool is used by several contacts.
    const int64_t first_ip = int64_t(draw(set.seed, contact, 1) % uint64_t(ip_pool)) + 1;
    MGDPR_TRY(xref.add(fmt::format("({}, {})", contact, first_ip)));
    if (ip_pool > 1 && draw(set.seed, contact, 2) % 4 == 0) {
      MGDPR_TRY(xref.add(fmt::format("({}, {})", contact, first_ip % ip_pool + 1)));
    }
    const std::string ip = ip_text(first_ip);

    for (int64_t n = rows_for(set.seed, contact, 3, set.email_stats_per_contact); n > 0; --n) {
      ++stat_id;
      const uint64_t random = draw(set.seed, stat_id, 4);
      const bool read = random % 3 != 0;
      const std::string tokens = fmt::format("a:2:{{{}{}{}{}}}", php_string("{contactfield=firstname}"),
                                             php_string(firstname), php_string("{contactfield=email}"),
                                             php_string(email));
      const std::string details =
          read ? fmt::format("a:1:{{i:0;a:2:{{{}{}{}{}}}}}", php_string("datetime"),
                             php_string(date_text(random >> 3)), php_string("useragent"),
                             php_string(kAgents[random % 3]))
               : std::string("a:0:{}");
      MGDPR_TRY(stats.add(fmt::format(
          "({}, {}, {}, {}, '{}', {}, 0, 0, {}, '{:016x}{:016x}', 'campaign', {}, {}, {}, {}, {})",
          stat_id, contact, first_ip, sql_literal(email), date_text(random), read ? 1 : 0,
          read ? "'" + date_text(random >> 5) + "'" : "NULL", random, mix(random), 1 + random % 40,
          sql_literal(tokens), read ? 1 + int(random % 4) : 0,
          read ? "'" + date_text(random >> 5) + "'" : "NULL", sql_literal(details))));
    }

    for (int64_t n = rows_for(set.seed, contact, 5, set.page_hits_per_contact); n > 0; --n) {
      ++hit_id;
      const uint64_t random = draw(set.seed, hit_id, 6);
      const std::string query = fmt::format("a:2:{{{}{}{}{}}}", php_string("utm_source"),
                                            php_string("newsletter"), php_string("email"),
                                            php_string(email));
      MGDPR_TRY(hits.add(fmt::format(
          "({}, {}, {}, '{}', 'Germany', '{}', 'Example ISP', 200, "
          "'https://mail.example.net/', {}, 'Pricing', '{}', 'host-{}.example.net', 'de', "
          "'a:1:{{i:0;s:5:\"de-DE\";}}', '{:016x}', {})",
          hit_id, contact, first_ip, date_text(random), kCities[random % 7],
          sql_literal(fmt::format("https://www.example.com/pricing?email={}", email)),
          kAgents[random % 3], first_ip, mix(random), sql_literal(query))));
    }

    for (int64_t n = rows_for(set.seed, contact, 7, set.form_submissions_per_contact); n > 0; --n) {
      ++submission_id;
      const uint64_t random = draw(set.seed, submission_id, 8);
      MGDPR_TRY(submissions.add(fmt::format("({}, 1, {}, {}, '{:016x}', '{}', "
                                            "'https://www.example.com/contact')",
                                            submission_id, first_ip, contact, random,
                                            date_text(random))));
      MGDPR_TRY(results.add(fmt::format("({}, 1, {}, {})", submission_id, sql_literal(firstname),
                                        sql_literal(email))));
    }

    for (int64_t n = rows_for(set.seed, contact, 9, set.audit_entries_per_contact); n > 0; --n) {
      const uint64_t random = draw(set.seed, contact * 16 + n, 10);
      const std::string details = fmt::format(
          "a:1:{{{}a:2:{{i:0;{}i:1;{}}}}}", php_string("email"), php_string(""), php_string(email));
      MGDPR_TRY(audit.add(fmt::format("(1, 'admin', 'lead', 'lead', {}, 'update', {}, '{}', '{}')",
                                      contact, sql_literal(details), date_text(random), ip)));
    }
  }
  for (BulkInsert* insert : {&xref, &stats, &hits, &submissions, &results, &audit}) {
    MGDPR_TRY(insert->flush());
  }
  MGDPR_TRY(connection.execute_script("SET SESSION foreign_key_checks = 1; "
                                      "SET SESSION unique_checks = 1"));
  RelatedCounts counts;
  counts.ip_addresses = ip_pool;
  counts.lead_ips_xref = xref.rows();
  counts.email_stats = stats.rows();
  counts.page_hits = hits.rows();
  counts.form_submissions = submissions.rows();
  counts.form_results = results.rows();
  counts.audit_log = audit.rows();
  return counts;
}

}  // namespace mgdpr::testing
