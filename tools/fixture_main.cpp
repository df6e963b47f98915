// SPDX-License-Identifier: GPL-3.0-or-later
// mautic-gdpr-fixture: fills a database with a synthetic Mautic, for the demo and benchmarks.
// Not installed with the product; it never touches a database it did not create.
#include <CLI/CLI.hpp>

#include "testing/related_rows.h"
#include "testing/synthetic_mautic.h"

int main(int argc, char** argv) {
  CLI::App app{
      "Create a database holding a synthetic Mautic (schema fixture, custom fields of every "
      "type, contacts with personal values, do-not-contact entries). Deterministic by seed.",
      "mautic-gdpr-fixture"};
  std::string socket;
  std::string database;
  std::string prefix;
  std::string fixtures_dir = "tests/fixtures";
  std::string version = "5.1";
  mgdpr::testing::ContactSet set;
  bool related = false;
  app.add_option("--socket", socket, "MariaDB socket (connects as root)")->required();
  app.add_option("--database", database, "Database to create (must not exist)")->required();
  app.add_option("--prefix", prefix, "Mautic table prefix")->capture_default_str();
  app.add_option("--fixtures-dir", fixtures_dir, "Folder with the schema fixtures")
      ->capture_default_str();
  app.add_option("--schema", version, "Mautic schema: 5.1 or 4.4")
      ->check(CLI::IsMember({"5.1", "4.4"}))
      ->capture_default_str();
  app.add_option("--contacts", set.contacts, "Number of contacts")->capture_default_str();
  app.add_option("--dnc-period", set.dnc_period,
                 "Every Nth contact is unsubscribed, the next bounced, the next manual")
      ->capture_default_str();
  app.add_option("--seed", set.seed, "Seed of the synthetic values")->capture_default_str();
  app.add_flag("--related", related,
               "Also fill email_stats, page_hits, form submissions and results, IP addresses "
               "and audit_log at realistic ratios (as the benchmarks do)");
  CLI11_PARSE(app, argc, argv);

  mgdpr::db::ConnectParams params;
  params.socket = socket;
  params.user = "root";
  auto connection = mgdpr::db::Connection::open(params);
  if (!connection) {
    fmt::print(stderr, "error: {}\n", connection.error().message);
    return 1;
  }
  auto created = (*connection)
                     ->execute(fmt::format(
                         "CREATE DATABASE {} CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci",
                         mgdpr::db::quote_identifier(database)));
  if (!created) {
    fmt::print(stderr, "error: {}\n", created.error().message);
    return 1;
  }
  (void)(*connection)->execute(fmt::format("USE {}", mgdpr::db::quote_identifier(database)));
  auto filled = mgdpr::testing::create_synthetic_mautic(
      **connection, fixtures_dir,
      version == "5.1" ? mgdpr::testing::MauticSchemaVersion::k51
                       : mgdpr::testing::MauticSchemaVersion::k44,
      prefix, set);
  if (!filled) {
    fmt::print(stderr, "error: {}\n", filled.error().message);
    return 1;
  }
  fmt::print("Created database `{}` with a synthetic Mautic {} (prefix \"{}\"): {} contacts.\n",
             database, version, prefix, set.contacts);
  if (related) {
    mgdpr::testing::RelatedSet related_set;
    related_set.contacts = set.contacts;
    related_set.seed = set.seed;
    auto counts = mgdpr::testing::generate_related_rows(**connection, prefix, related_set);
    if (!counts) {
      fmt::print(stderr, "error: {}\n", counts.error().message);
      return 1;
    }
    fmt::print(
        "Related rows: {} email_stats, {} page_hits, {} form submissions, {} audit_log, "
        "{} IP addresses ({} links).\n",
        counts->email_stats, counts->page_hits, counts->form_submissions, counts->audit_log,
        counts->ip_addresses, counts->lead_ips_xref);
  }
  return 0;
}
