// SPDX-License-Identifier: GPL-3.0-or-later
// The webhook load check: how many unsubscribe events `mautic-gdpr serve` takes per second, and
// how long Mautic waits for each answer (the answer comes after the commit, so request to
// answer is request to commit). Not a timed test: a program run by hand, e.g.
//
//   bash scripts/mariadb-local.sh start /tmp/load-db
//   build/webhook_load --socket /tmp/load-db/mysqld.sock --events 4000 --concurrency 4
//
// It creates a synthetic Mautic in a new database on that server (dropped at the end), puts
// `--events` contacts on do-not-contact as Mautic does before it sends the webhook, starts the
// real `mautic-gdpr serve` on a free loopback port, and sends one signed
// lead_channel_subscription_changed event per contact (or `--batch` per request, queue mode)
// from `--concurrency` keep-alive connections. Then it sends them all again (replays: nothing
// left to do) and reports both phases: events/s and p50/p90/p99/max latency.
#include <fcntl.h>
#include <httplib.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>
#include <thread>

#include "app/secrets.h"
#include "server/webhook.h"
#include "testing/synthetic_mautic.h"

extern char** environ;

namespace {

using Clock = std::chrono::steady_clock;

struct Phase {
  std::string name;
  int64_t events = 0;
  int64_t requests = 0;
  int64_t failures = 0;  // answers other than 200
  double seconds = 0;
  std::vector<double> latencies_ms;
};

double percentile(std::vector<double> values, double p) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  const size_t index = std::min(values.size() - 1, size_t(p / 100.0 * double(values.size())));
  return values[index];
}

std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// Requests of `batch` events each, contacts first..first+count-1.
std::vector<std::string> make_bodies(const nlohmann::json& example, int64_t first, int64_t count,
                                     int batch) {
  std::vector<std::string> bodies;
  for (int64_t start = 0; start < count; start += batch) {
    nlohmann::json items = nlohmann::json::array();
    for (int64_t id = first + start; id < first + std::min<int64_t>(count, start + batch); ++id) {
      nlohmann::json item = example;
      item["contact"]["id"] = id;
      item["channel"] = "email";
      item["old_status"] = "contactable";
      item["new_status"] = "unsubscribed";
      items.push_back(std::move(item));
    }
    bodies.push_back(nlohmann::json{{std::string(mgdpr::kSubscriptionChanged), items},
                                    {"timestamp", "2025-06-01T12:00:00+00:00"}}
                         .dump());
  }
  return bodies;
}

Phase send_all(const std::string& name, const std::vector<std::string>& bodies, int batch, int port,
               int concurrency, const std::string& secret) {
  Phase phase;
  phase.name = name;
  std::vector<std::string> signatures;
  for (const auto& body : bodies)
    signatures.push_back(mgdpr::server::webhook_signature(body, secret));
  std::atomic<size_t> next{0};
  std::atomic<int64_t> failures{0};
  std::vector<std::vector<double>> latencies(static_cast<size_t>(concurrency));
  const auto started = Clock::now();
  std::vector<std::thread> clients;
  for (int c = 0; c < concurrency; ++c) {
    clients.emplace_back([&, c] {
      httplib::Client client("127.0.0.1", port);
      client.set_keep_alive(true);
      client.set_tcp_nodelay(true);  // as curl (Mautic's HTTP client) does
      client.set_read_timeout(120, 0);
      for (size_t i = next++; i < bodies.size(); i = next++) {
        const auto sent = Clock::now();
        auto response = client.Post("/mautic/webhook", {{"Webhook-Signature", signatures[i]}},
                                    bodies[i], "application/json");
        latencies[size_t(c)].push_back(
            std::chrono::duration<double, std::milli>(Clock::now() - sent).count());
        if (!response || response->status != 200) ++failures;
      }
    });
  }
  for (auto& client : clients) client.join();
  phase.seconds = std::chrono::duration<double>(Clock::now() - started).count();
  for (auto& part : latencies) {
    phase.latencies_ms.insert(phase.latencies_ms.end(), part.begin(), part.end());
  }
  phase.requests = int64_t(bodies.size());
  phase.events = phase.requests * batch;
  phase.failures = failures;
  return phase;
}

void print_phase(const Phase& phase) {
  fmt::print("{:<34} {:>7} {:>7} {:>9.0f} {:>8.1f} {:>8.1f} {:>8.1f} {:>8.1f} {:>6}\n", phase.name,
             phase.events, phase.requests, double(phase.events) / phase.seconds,
             percentile(phase.latencies_ms, 50), percentile(phase.latencies_ms, 90),
             percentile(phase.latencies_ms, 99), percentile(phase.latencies_ms, 100),
             phase.failures);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "Load check of `mautic-gdpr serve`: signed webhook events on loopback; events/s "
      "and p50/p99 latency from request to commit.",
      "webhook_load"};
  std::string socket;
  int64_t contacts = 20000;
  int64_t events = 4000;
  int concurrency = 4;
  int batch = 1;
  int threads = 8;
  app.add_option("--socket", socket, "MariaDB socket of a test server (connects as root)")
      ->required();
  app.add_option("--contacts", contacts, "Contacts in the synthetic Mautic")->capture_default_str();
  app.add_option("--events", events, "Subscription changes to send (distinct contacts)")
      ->capture_default_str();
  app.add_option("--concurrency", concurrency, "Client connections sending at once")
      ->capture_default_str();
  app.add_option("--batch", batch, "Events per request (Mautic's queue mode sends several)")
      ->capture_default_str();
  app.add_option("--threads", threads, "[server] threads of the server")->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  events = std::min(events, contacts);
  batch = std::max(1, batch);

  using namespace mgdpr;
  db::ConnectParams params;
  params.socket = socket;
  params.user = "root";
  auto root = db::Connection::open(params);
  if (!root) {
    fmt::print(stderr, "webhook_load: {}\n", root.error().message);
    return 1;
  }
  const std::string database = fmt::format("mgdpr_load_{}", ::getpid());
  const auto dir = std::filesystem::temp_directory_path() / database;
  std::filesystem::create_directories(dir);
  pid_t server = 0;
  auto cleanup = [&] {
    if (server > 0) {
      ::kill(server, SIGTERM);
      int status = 0;
      ::waitpid(server, &status, 0);
    }
    (void)(*root)->execute(
        fmt::format("DROP DATABASE IF EXISTS {}", db::quote_identifier(database)));
    std::filesystem::remove_all(dir);
  };
  auto fail = [&](const std::string& message) {
    fmt::print(stderr, "webhook_load: {}\n", message);
    cleanup();
    return 1;
  };

  fmt::print("Synthetic Mautic 5.1 with {} contacts in `{}`...\n", contacts, database);
  if (auto created = (*root)->execute(
          fmt::format("CREATE DATABASE {} CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci",
                      db::quote_identifier(database)));
      !created) {
    return fail(created.error().message);
  }
  (void)(*root)->execute(fmt::format("USE {}", db::quote_identifier(database)));
  testing::ContactSet set;
  set.contacts = contacts;
  set.dnc_period = 0;  // everyone contactable; the events below put them on do-not-contact
  const std::string fixtures = std::string(MGDPR_SOURCE_DIR) + "/tests/fixtures";
  if (auto made = testing::create_synthetic_mautic(**root, fixtures,
                                                   testing::MauticSchemaVersion::k51, "", set);
      !made) {
    return fail(made.error().message);
  }
  // What Mautic does before it sends the webhook: the do-not-contact row.
  if (auto dnc = (*root)->execute(
          "INSERT INTO lead_donotcontact (lead_id, date_added, reason, channel, comments) "
          "SELECT id, UTC_TIMESTAMP(), 1, 'email', 'User unsubscribed.' FROM leads WHERE id <= ?",
          {events});
      !dnc) {
    return fail(dnc.error().message);
  }

  if (auto key = app::write_new_key((dir / "hmac.key").string()); !key) {
    return fail(key.error().message);
  }
  const std::string secret = "load-check-secret";
  std::ofstream(dir / "secret") << secret << "\n";
  std::filesystem::permissions(
      dir / "secret", std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  std::ofstream(dir / "config.toml") << fmt::format(
      "[database]\nsocket = \"{}\"\nname = \"{}\"\nuser = \"root\"\n\n[hashing]\nkey_file = "
      "\"{}\"\n\n[policy]\ndefault = \"delete\"\n\n[policy.fields]\nemail = \"hash\"\nmobile = "
      "\"hash\"\ncountry = \"keep\"\ncity = \"keep\"\n\n[server]\nlisten = \"127.0.0.1:0\"\n"
      "secret_file = \"{}\"\nthreads = {}\nmax_body_bytes = 67108864\n",
      socket, database, (dir / "hmac.key").string(), (dir / "secret").string(), threads);

  // The server, its log in a file; the port comes from its "listening" line.
  const std::string log_path = (dir / "serve.log").string();
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 2, log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                   0600);
  std::vector<std::string> args = {MGDPR_BINARY, "serve", "--config",
                                   (dir / "config.toml").string()};
  std::vector<char*> argv_list;
  for (auto& arg : args) argv_list.push_back(arg.data());
  argv_list.push_back(nullptr);
  if (posix_spawn(&server, MGDPR_BINARY, &actions, nullptr, argv_list.data(), environ) != 0) {
    server = 0;
    return fail("cannot start " + std::string(MGDPR_BINARY));
  }
  posix_spawn_file_actions_destroy(&actions);
  int port = 0;
  const std::regex listening(R"(event=listening .*port=(\d+))");
  for (int i = 0; i < 300 && port == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    std::smatch match;
    const std::string log = read_text(log_path);
    if (std::regex_search(log, match, listening)) port = std::stoi(match[1]);
  }
  if (port == 0) return fail("serve did not start:\n" + read_text(log_path));

  const auto example =
      nlohmann::json::parse(
          read_text(fixtures + "/webhook-payloads/lead_channel_subscription_changed.json"))
          .at(0);
  const auto bodies = make_bodies(example, 1, events, batch);
  fmt::print("serve on 127.0.0.1:{} ({} threads); {} events, {} per request, {} connections\n\n",
             port, threads, events, batch, concurrency);
  const Phase first =
      send_all("new unsubscribes (processed)", bodies, batch, port, concurrency, secret);
  const Phase replay =
      send_all("replays (nothing left to do)", bodies, batch, port, concurrency, secret);

  auto processed =
      (*root)->query_value("SELECT COUNT(*) FROM gdpr_contacts WHERE source = 'webhook'", {});
  const int64_t recorded = processed.ok() ? db::cell_to_int(*processed).value_or(-1) : -1;

  fmt::print("{:<34} {:>7} {:>7} {:>9} {:>8} {:>8} {:>8} {:>8} {:>6}\n", "phase", "events", "reqs",
             "events/s", "p50 ms", "p90 ms", "p99 ms", "max ms", "non200");
  print_phase(first);
  print_phase(replay);
  fmt::print("\ncontacts recorded as processed by the webhook: {} of {}\n", recorded, events);
  const bool good = recorded == events && first.failures == 0 && replay.failures == 0;
  cleanup();
  server = 0;
  if (!good) {
    fmt::print(stderr, "webhook_load: some events were not processed (see above)\n");
    return 1;
  }
  return 0;
}
