// SPDX-License-Identifier: GPL-3.0-or-later
// `mautic-gdpr serve`: the real binary on loopback against a real MariaDB. Webhooks (signed,
// forged, truncated, huge, malformed, replayed, queue-mode batches), the pages behind login,
// rate limits, /metrics, /healthz, graceful SIGTERM, a schema change under a running server,
// TLS. The first tests need no server: the signature, body parsing, sessions, rate limits.
#include <arpa/inet.h>
#include <fcntl.h>
#include <httplib.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <fstream>
#include <future>
#include <mutex>
#include <nlohmann/json.hpp>
#include <regex>
#include <thread>

#include "app/secrets.h"
#include "core/hashing.h"
#include "core/normalize.h"
#include "server/auth.h"
#include "server/metrics.h"
#include "server/pages.h"
#include "server/webhook.h"
#include "test_database.h"

extern char** environ;

namespace mgdpr::testing {
namespace {

using namespace std::chrono_literals;
using server::Clock;

constexpr const char* kSecret = "mautic-webhook-secret";
constexpr const char* kPassword = "correct horse battery";

// ---------------------------------------------------------------------------------------------
// Without a server

TEST(ServeSignatureTest, MatchesMauticsBase64HmacSha256) {
  // Reference: printf '%s' BODY | openssl dgst -sha256 -hmac 'mautic-secret' -binary | base64
  const std::string body = R"({"mautic.lead_channel_subscription_changed":[]})";
  EXPECT_EQ(server::webhook_signature(body, "mautic-secret"),
            "1x4MXNe+TsL2fU+erHW+szOmj3j+PRVLsF3ESPFaEUA=");
  EXPECT_TRUE(server::signature_matches(
      body, "1x4MXNe+TsL2fU+erHW+szOmj3j+PRVLsF3ESPFaEUA=", "mautic-secret"));
  EXPECT_TRUE(server::signature_matches(
      body, " 1x4MXNe+TsL2fU+erHW+szOmj3j+PRVLsF3ESPFaEUA= ", "mautic-secret"));
  EXPECT_FALSE(server::signature_matches(
      body, "1x4MXNe+TsL2fU+erHW+szOmj3j+PRVLsF3ESPFaEUB=", "mautic-secret"));
  EXPECT_FALSE(server::signature_matches(
      body + " ", server::webhook_signature(body, "mautic-secret"), "mautic-secret"));
  EXPECT_FALSE(
      server::signature_matches(body, server::webhook_signature(body, "other"), "mautic-secret"));
  for (const char* bad :
       {"", "not base64 !", "AAAA", "1x4MXNe+TsL2fU+erHW+szOmj3j+PRVLsF3ESPFaEUA"}) {
    EXPECT_FALSE(server::signature_matches(body, bad, "mautic-secret")) << bad;
  }
}

TEST(ServeWebhookParseTest, BatchesOfSeveralTypesAndIds) {
  auto batch = server::parse_webhook(
      R"({"mautic.lead_channel_subscription_changed": [{"contact": {"id": 7}, "channel": "email",
          "new_status": "unsubscribed"}, {"contact": {"id": "8"}, "channel": "email",
          "new_status": "bounced"}], "mautic.lead_post_save_update": [{"contact": {"id": 9}}],
          "timestamp": "2025-01-01T00:00:00+00:00"})");
  ASSERT_TRUE(batch.ok()) << batch.error().message;
  ASSERT_EQ(batch->events.size(), 3u);
  int64_t sum = 0;
  for (const auto& event : batch->events) sum += event.contact_id.value_or(0);
  EXPECT_EQ(sum, 24);
  const auto change = server::read_subscription_change(batch->events[0]);
  ASSERT_TRUE(change.ok());
  EXPECT_EQ(change->new_status, "unsubscribed");
}

TEST(ServeWebhookParseTest, ErrorsSayWhatIsWrongWithoutQuotingValues) {
  auto not_json = server::parse_webhook(R"({"mautic.lead_channel_subscription_changed": [)");
  ASSERT_FALSE(not_json.ok());
  EXPECT_NE(not_json.error().message.find("not valid JSON"), std::string::npos);
  auto not_object = server::parse_webhook("[1, 2]");
  ASSERT_FALSE(not_object.ok());
  EXPECT_NE(not_object.error().message.find("must be a JSON object"), std::string::npos);
  auto not_list = server::parse_webhook(R"({"mautic.lead_post_save_new": {"contact": 1}})");
  ASSERT_FALSE(not_list.ok());
  EXPECT_NE(not_list.error().message.find("must be a list of events"), std::string::npos);

  auto batch = server::parse_webhook(
      R"({"mautic.lead_channel_subscription_changed": [{"contact": {"email": "x@example.org"},
          "channel": "email", "new_status": "unsubscribed"}]})");
  ASSERT_TRUE(batch.ok());
  const auto router = server::default_router();
  const auto valid = router.validate(*batch);
  ASSERT_FALSE(valid.ok());
  EXPECT_NE(valid.error().message.find("[0] has no contact.id"), std::string::npos)
      << valid.error().message;
  EXPECT_EQ(valid.error().message.find("x@example.org"), std::string::npos);
}

TEST(ServeWebhookParseTest, OnlyConfiguredReasonsAndChannelsCount) {
  Config config;
  config.reasons = {DncReason::kUnsubscribed, DncReason::kBounced};
  config.channels = {"email"};
  EXPECT_TRUE(server::configured_reason(config, {1, "email", "unsubscribed"}));
  EXPECT_TRUE(server::configured_reason(config, {1, "email", "bounced"}));
  EXPECT_FALSE(server::configured_reason(config, {1, "email", "manual"}));
  EXPECT_FALSE(server::configured_reason(config, {1, "email", "contactable"}));
  EXPECT_FALSE(server::configured_reason(config, {1, "sms", "unsubscribed"}));
}

TEST(ServeAuthTest, PasswordHashesVerify) {
  auto hash = server::hash_password(kPassword);
  ASSERT_TRUE(hash.ok());
  EXPECT_TRUE(hash->starts_with("$argon2id$"));
  EXPECT_TRUE(server::password_matches(*hash, kPassword));
  EXPECT_FALSE(server::password_matches(*hash, "correct horse batterY"));
  EXPECT_FALSE(server::password_matches("$argon2id$garbage", kPassword));
  server::Users users({{"alice", *hash}});
  EXPECT_TRUE(users.check("alice", kPassword));
  EXPECT_FALSE(users.check("bob", kPassword));
  EXPECT_FALSE(users.check("alice", ""));
}

TEST(ServeAuthTest, SessionsEndWhenIdleOrTooOld) {
  server::SessionStore store(std::chrono::minutes(30), std::chrono::minutes(120));
  const auto start = Clock::now();
  const std::string id = store.create("alice", start);
  EXPECT_EQ(id.size(), 64u);
  ASSERT_TRUE(store.find(id, start + 29min));
  EXPECT_EQ(store.find(id, start + 58min)->user, "alice");  // refreshed at +29
  EXPECT_FALSE(store.find(id, start + 90min));              // idle for 32 minutes
  const std::string old = store.create("bob", start);
  for (auto at = start; at < start + 120min; at += 20min) ASSERT_TRUE(store.find(old, at));
  EXPECT_FALSE(store.find(old, start + 121min));  // the lifetime is over, however active
  EXPECT_FALSE(store.find("0000", start));
  const std::string ended = store.create("carol", start);
  store.end(ended);
  EXPECT_FALSE(store.find(ended, start));
}

TEST(ServeAuthTest, RateLimitIsASlidingWindowPerKey) {
  server::RateLimiter limiter(3, std::chrono::hours(1));
  const auto start = Clock::now();
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(limiter.allow("a", nullptr, start + i * 1min));
  std::chrono::seconds retry{0};
  EXPECT_FALSE(limiter.allow("a", &retry, start + 10min));
  EXPECT_EQ(retry, std::chrono::seconds(50 * 60));
  EXPECT_EQ(limiter.remaining("a", start + 10min), 0);
  EXPECT_TRUE(limiter.allow("b", nullptr, start + 10min));  // other keys are not affected
  EXPECT_TRUE(limiter.allow("a", nullptr, start + 60min));  // the first attempt left the window
  EXPECT_FALSE(limiter.allow("a", nullptr, start + 60min));
}

TEST(ServePagesTest, EscapesAndNeverRendersTheValue) {
  EXPECT_EQ(server::html_escape("<a href=\"x\">'&'</a>"),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;");
  server::LookupView view;
  view.fields = {{"email", "email"}};
  view.matches = std::vector<mautic::LookupMatch>{};
  const std::string page = server::lookup_page({"alice", "tok"}, view);
  EXPECT_NE(page.find("Not found"), std::string::npos);
  EXPECT_NE(page.find("name=\"csrf\" value=\"tok\""), std::string::npos);
  std::vector<server::DatabaseNumbers::Day> days = {{"2025-01-01", {{"bounced", 3}}},
                                                    {"2025-01-02", {}}};
  const std::string svg = server::processed_chart_svg(days);
  EXPECT_NE(svg.find("<svg"), std::string::npos);
  EXPECT_NE(svg.find("<title>2025-01-01: 3 bounced</title>"), std::string::npos);
}

// ---------------------------------------------------------------------------------------------
// The server process

// `mautic-gdpr serve` as a child process; its stderr (the log) is collected as it comes.
class ServerProcess {
 public:
  explicit ServerProcess(const std::filesystem::path& config) {
    int err[2];
    if (::pipe(err) != 0) return;
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_adddup2(&actions, err[1], 2);
    posix_spawn_file_actions_addclose(&actions, err[0]);
    posix_spawn_file_actions_addclose(&actions, err[1]);
    std::vector<std::string> args = {MGDPR_BINARY, "serve", "--config", config.string()};
    std::vector<char*> argv;
    for (auto& arg : args) argv.push_back(arg.data());
    argv.push_back(nullptr);
    if (posix_spawn(&pid_, MGDPR_BINARY, &actions, nullptr, argv.data(), environ) != 0) pid_ = 0;
    posix_spawn_file_actions_destroy(&actions);
    ::close(err[1]);
    reader_ = std::thread([this, fd = err[0]] {
      char buffer[4096];
      ssize_t n;
      while ((n = ::read(fd, buffer, sizeof buffer)) > 0) {
        std::lock_guard lock(mutex_);
        log_.append(buffer, size_t(n));
        changed_.notify_all();
      }
      ::close(fd);
      std::lock_guard lock(mutex_);
      closed_ = true;
      changed_.notify_all();
    });
  }

  ~ServerProcess() {
    if (pid_ > 0 && !exited_) {
      ::kill(pid_, SIGKILL);
      int status = 0;
      ::waitpid(pid_, &status, 0);
    }
    if (reader_.joinable()) reader_.join();
  }

  // Waits for the "listening" line; false when the process ended or took too long.
  bool wait_until_listening() {
    std::unique_lock lock(mutex_);
    const std::regex listening(R"(event=listening .*port=(\d+))");
    const bool found = changed_.wait_for(lock, 30s, [&] {
      std::smatch match;
      if (std::regex_search(log_, match, listening)) {
        port_ = std::stoi(match[1]);
        return true;
      }
      return closed_;
    });
    return found && port_ > 0;
  }

  // Waits until the log contains text.
  bool wait_for_log(const std::string& text, std::chrono::seconds timeout = 30s) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, timeout, [&] {
      return log_.find(text) != std::string::npos || closed_;
    }) && log_.find(text) != std::string::npos;
  }

  bool running() {
    if (exited_) return false;
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      exited_ = true;
      exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      return false;
    }
    return true;
  }

  void signal(int number) { ::kill(pid_, number); }

  // Sends SIGTERM and waits for the exit code.
  int stop() {
    if (!exited_) {
      ::kill(pid_, SIGTERM);
      int status = 0;
      ::waitpid(pid_, &status, 0);
      exited_ = true;
      exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    }
    if (reader_.joinable()) reader_.join();
    return exit_code_;
  }

  int port() const { return port_; }
  std::string log() {
    std::lock_guard lock(mutex_);
    return log_;
  }

 private:
  pid_t pid_ = 0;
  int port_ = 0;
  bool exited_ = false;
  int exit_code_ = -1;
  std::thread reader_;
  std::mutex mutex_;
  std::condition_variable changed_;
  std::string log_;
  bool closed_ = false;
};

std::string read_text(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// A subscription change as Mautic sends it, from Mautic's own example payload.
nlohmann::json subscription_change(int64_t contact_id, const std::string& channel,
                                   const std::string& new_status) {
  auto items = nlohmann::json::parse(
      read_text(fixtures_dir() + "/webhook-payloads/lead_channel_subscription_changed.json"));
  nlohmann::json item = items.at(0);
  item["contact"]["id"] = contact_id;
  item["channel"] = channel;
  item["old_status"] = "contactable";
  item["new_status"] = new_status;
  return item;
}

nlohmann::json example_event(const std::string& name) {
  return nlohmann::json::parse(read_text(fixtures_dir() + "/webhook-payloads/" + name + ".json"))
      .at(0);
}

std::string request_body(
    const std::vector<std::pair<std::string, std::vector<nlohmann::json>>>& lists) {
  nlohmann::json body = nlohmann::json::object();
  for (const auto& [type, items] : lists) body[type] = items;
  body["timestamp"] = "2025-06-01T12:00:00+00:00";
  return body.dump();
}

// The cookies a response sets, name -> the whole Set-Cookie header.
std::map<std::string, std::string> set_cookies(const httplib::Result& result) {
  std::map<std::string, std::string> cookies;
  const size_t count = result->get_header_value_count("Set-Cookie");
  for (size_t i = 0; i < count; ++i) {
    const std::string header = result->get_header_value("Set-Cookie", i);
    cookies[header.substr(0, header.find('='))] = header;
  }
  return cookies;
}

std::string cookie_value_of(const std::string& set_cookie) {
  const size_t start = set_cookie.find('=') + 1;
  return set_cookie.substr(start, set_cookie.find(';') - start);
}

std::string csrf_in(const std::string& html) {
  std::smatch match;
  const std::regex token(R"re(name="csrf" value="([0-9a-f]{64})")re");
  return std::regex_search(html, match, token) ? std::string(match[1]) : std::string();
}

std::string cell(db::Connection& connection, const std::string& sql) {
  auto value = connection.query_value(sql, {});
  EXPECT_TRUE(value.ok()) << (value.ok() ? "" : value.error().message);
  return value.ok() && value->has_value() ? **value : "NULL";
}

class Serve : public MauticTest {
 protected:
  void SetUp() override {
    contact_set.contacts = 200;
    MauticTest::SetUp();
    if (HasFatalFailure()) return;
    secret_path = dir / "webhook-secret";
    std::ofstream(secret_path) << kSecret << "\n";
    std::filesystem::permissions(
        secret_path, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
    auto hash = server::hash_password(kPassword);
    ASSERT_TRUE(hash.ok());
    password_hash = *hash;
    write_server_config("");
  }

  void TearDown() override {
    process.reset();
    MauticTest::TearDown();
  }

  // The test policy plus [server]; `extra` goes into [server] (before the users), `trigger`
  // into [trigger].
  void write_server_config(const std::string& extra, const std::string& trigger = "") {
    write_config(fmt::format(
        "{}{}\n[server]\nlisten = \"127.0.0.1:0\"\nsecret_file = \"{}\"\nmax_body_bytes = 65536\n"
        "threads = 4\nlogin_attempts_per_hour = 6\nlookups_per_hour = 5\n{}\n"
        "[server.users]\nalice = \"{}\"\n",
        trigger, kDefaultPolicy, secret_path.string(), extra, password_hash));
  }

  void start_server() {
    process = std::make_unique<ServerProcess>(config_path);
    ASSERT_TRUE(process->wait_until_listening()) << process->log();
    client = std::make_unique<httplib::Client>("127.0.0.1", process->port());
    client->set_read_timeout(60, 0);
  }

  httplib::Result post_webhook(const std::string& body, std::optional<std::string> signature) {
    httplib::Headers headers = {{"X-Origin-Base-URL", "https://mautic.example.org"}};
    if (signature) headers.emplace("Webhook-Signature", *signature);
    return client->Post("/mautic/webhook", headers, body, "application/json");
  }
  httplib::Result post_signed(const std::string& body) {
    return post_webhook(body, server::webhook_signature(body, kSecret));
  }

  // What a webhook may change: the contacts, the proof, the lookup index.
  std::vector<std::vector<std::string>> snapshot() {
    return {table_rows(*connection, table("leads")),
            table_rows(*connection, table("gdpr_contacts")),
            table_rows(*connection, table("gdpr_hashes")),
            table_rows(*connection, table("lead_donotcontact"))};
  }

  int64_t processed_count() {
    return std::stoll(
        cell(*connection, fmt::format("SELECT COUNT(*) FROM {}", quoted("gdpr_contacts"))));
  }

  // Mautic writes the do-not-contact row itself before it sends the webhook.
  void mautic_unsubscribes(int64_t contact_id) {
    ASSERT_TRUE(connection
                    ->execute(fmt::format("INSERT INTO {} (lead_id, date_added, reason, channel, "
                                          "comments) VALUES (?, UTC_TIMESTAMP(), 1, 'email', "
                                          "'User unsubscribed.')",
                                          quoted("lead_donotcontact")),
                              {contact_id})
                    .ok());
  }

  // Logs in as alice; returns the session cookie ("" on failure).
  std::string log_in() {
    auto form = client->Get("/login");
    if (!form || form->status != 200) return "";
    const std::string login_cookie = cookie_value_of(set_cookies(form)["mgdpr_login"]);
    auto posted = client->Post("/login", {{"Cookie", "mgdpr_login=" + login_cookie}},
                               "csrf=" + csrf_in(form->body) + "&user=alice&password=" +
                                   httplib::detail::encode_query_param(kPassword),
                               "application/x-www-form-urlencoded");
    if (!posted || posted->status != 303) return "";
    return cookie_value_of(set_cookies(posted)["mgdpr_session"]);
  }

  httplib::Result post_lookup(const std::string& session, const std::string& csrf,
                              const std::string& field, const std::string& value) {
    return client->Post(
        "/lookup", {{"Cookie", "mgdpr_session=" + session}},
        "csrf=" + csrf + "&field=" + field + "&value=" + httplib::detail::encode_query_param(value),
        "application/x-www-form-urlencoded");
  }

  std::filesystem::path secret_path;
  std::string password_hash;
  std::unique_ptr<ServerProcess> process;
  std::unique_ptr<httplib::Client> client;
};

TEST_P(Serve, SignedSubscriptionChangeProcessesTheContactWithinTheRequest) {
  ASSERT_NO_FATAL_FAILURE(start_server());
  const int64_t contact = 33;  // contactable until now
  ASSERT_EQ(dnc_reason_for(contact, contact_set), 0);
  const auto others = table_rows(*connection, table("leads"), fmt::format("id <> {}", contact));
  mautic_unsubscribes(contact);

  auto response =
      post_signed(request_body({{std::string(server::kSubscriptionChanged),
                                 {subscription_change(contact, "email", "unsubscribed")}}}));
  ASSERT_TRUE(response) << httplib::to_string(response.error());
  ASSERT_EQ(response->status, 200) << response->body;
  const auto answer = nlohmann::json::parse(response->body);
  EXPECT_EQ(answer["processed"], nlohmann::json::array({contact}));
  EXPECT_EQ(answer["events"], 1);

  // Done when the answer arrives: the contact is pseudonymized and recorded as by the webhook.
  const auto config = app::load_config_file(config_path.string());
  const auto key = app::load_hash_key(*config);
  ASSERT_TRUE(key.ok());
  const std::string where = fmt::format("FROM {} WHERE id = {}", quoted("leads"), contact);
  EXPECT_EQ(
      cell(*connection, "SELECT email " + where),
      key->hmac_hex(normalize(ValueKind::kEmail, synthetic_email(contact, contact_set.seed))));
  EXPECT_EQ(cell(*connection, "SELECT firstname " + where), "NULL");
  EXPECT_EQ(cell(*connection, "SELECT city " + where), "City33");
  EXPECT_EQ(cell(*connection, fmt::format("SELECT CONCAT(reason, '/', channel, '/', source) FROM "
                                          "{} WHERE contact_id = {}",
                                          quoted("gdpr_contacts"), contact)),
            "unsubscribed/email/webhook");
  EXPECT_EQ(processed_count(), 1);  // the other pending contacts wait for the sweep
  EXPECT_EQ(others, table_rows(*connection, table("leads"), fmt::format("id <> {}", contact)));

  EXPECT_EQ(process->stop(), 0);
  const std::string log = process->log();
  EXPECT_NE(log.find("path=/mautic/webhook status=200"), std::string::npos) << log;
  EXPECT_NE(log.find("processed=1"), std::string::npos) << log;
  EXPECT_EQ(log.find(synthetic_email(contact, contact_set.seed)), std::string::npos) << log;
  EXPECT_EQ(log.find('@'), std::string::npos) << log;
}

TEST_P(Serve, GracePeriodIsAcknowledgedAtOnceAndEndsInTheFirstSweepAfterIt) {
  write_server_config("", "grace = \"7d\"\n");
  ASSERT_NO_FATAL_FAILURE(start_server());
  const auto before = table_rows(*connection, table("leads"), "id IN (33, 34)");
  auto change = [&](int64_t contact, const std::string& status) {
    auto response = post_signed(request_body(
        {{std::string(server::kSubscriptionChanged), {subscription_change(contact, "email", status)}}}));
    EXPECT_TRUE(response && response->status == 200) << (response ? response->body : "");
    return response ? nlohmann::json::parse(response->body) : nlohmann::json::object();
  };
  // 33 unsubscribes: acknowledged at once, left alone while its entry is within the 7 days.
  mautic_unsubscribes(33);
  auto answer = change(33, "unsubscribed");
  EXPECT_EQ(answer["waiting"], nlohmann::json::array({33}));
  EXPECT_EQ(answer["processed"], nlohmann::json::array());
  // 34 unsubscribes by mistake and resubscribes a minute later (Mautic deletes the entry).
  mautic_unsubscribes(34);
  EXPECT_EQ(change(34, "unsubscribed")["waiting"], nlohmann::json::array({34}));
  ASSERT_TRUE(connection
                  ->execute(fmt::format("DELETE FROM {} WHERE lead_id = 34",
                                        quoted("lead_donotcontact")))
                  .ok());
  EXPECT_EQ(change(34, "contactable")["ignored"], 1);
  EXPECT_EQ(processed_count(), 0);
  EXPECT_EQ(before, table_rows(*connection, table("leads"), "id IN (33, 34)"));

  // The week passes for 33: the first sweep after it processes 33; 34 is never touched.
  ASSERT_TRUE(connection
                  ->execute(fmt::format("UPDATE {} SET date_added = UTC_TIMESTAMP() - INTERVAL 8 "
                                        "DAY WHERE lead_id = 33",
                                        quoted("lead_donotcontact")))
                  .ok());
  auto sweep = tool({"sweep", "-q"});
  ASSERT_EQ(sweep.exit_code, 0) << sweep.err;
  EXPECT_EQ(cell(*connection, fmt::format("SELECT source FROM {} WHERE contact_id = 33",
                                          quoted("gdpr_contacts"))),
            "sweep");
  EXPECT_EQ(cell(*connection, fmt::format("SELECT COUNT(*) FROM {} WHERE contact_id = 34",
                                          quoted("gdpr_contacts"))),
            "0");
  EXPECT_EQ(before[1], table_rows(*connection, table("leads"), "id = 34").at(0));
  EXPECT_EQ(change(33, "unsubscribed")["not_pending"], nlohmann::json::array({33}));
}

TEST_P(Serve, ForgedTruncatedHugeAndMalformedRequestsChangeNothing) {
  ASSERT_NO_FATAL_FAILURE(start_server());
  const auto before = snapshot();
  const std::string body = request_body({{std::string(server::kSubscriptionChanged),
                                          {subscription_change(10, "email", "unsubscribed")}}});
  auto expect_status = [&](const httplib::Result& response, int status, const std::string& text,
                           const char* what) {
    ASSERT_TRUE(response) << what << ": " << httplib::to_string(response.error());
    EXPECT_EQ(response->status, status) << what << ": " << response->body;
    EXPECT_NE(response->body.find(text), std::string::npos) << what << ": " << response->body;
  };

  expect_status(post_webhook(body, std::nullopt), 401, "missing Webhook-Signature", "unsigned");
  expect_status(post_webhook(body, server::webhook_signature(body, "another secret")), 401,
                "does not match", "wrong secret");
  expect_status(post_webhook(body, "bm90IGEgc2lnbmF0dXJl"), 401, "does not match", "garbage");
  // Cut short: the signature was made over the whole body.
  expect_status(
      post_webhook(body.substr(0, body.size() / 2), server::webhook_signature(body, kSecret)), 401,
      "does not match", "truncated body");
  // A huge body, signed correctly: refused by size before anything is read into JSON.
  std::string huge = request_body({{std::string(server::kSubscriptionChanged),
                                    {subscription_change(10, "email", "unsubscribed")}}});
  huge.insert(huge.size() - 1, ",\"padding\":\"" + std::string(1 << 20, 'x') + "\"");
  expect_status(post_signed(huge), 413, "max_body_bytes", "huge body");
  // Signed, but malformed: not JSON, not an object, an event without a contact id. The last
  // batch also holds a valid event: nothing of a request is done unless all of it is valid.
  expect_status(post_signed(body.substr(0, body.size() - 2)), 400, "not valid JSON", "malformed");
  expect_status(post_signed("[1, 2, 3]"), 400, "must be a JSON object", "array");
  auto without_id = subscription_change(11, "email", "bounced");
  without_id["contact"].erase("id");
  expect_status(
      post_signed(request_body({{std::string(server::kSubscriptionChanged),
                                 {subscription_change(10, "email", "unsubscribed"), without_id}}})),
      400, "[1] has no contact.id", "event without contact id");

  // A body that ends early on the wire: Content-Length promises more than arrives. A client
  // that stalls gets 400 once the read times out (5 s); one that closes gets no answer at all.
  for (const bool close_early : {false, true}) {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(uint16_t(process->port()));
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
    timeval patience{30, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &patience, sizeof patience);
    const std::string request = fmt::format(
        "POST /mautic/webhook HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
        "Content-Type: application/json\r\nWebhook-Signature: {}\r\nContent-Length: {}\r\n\r\n"
        "{}",
        server::webhook_signature(body, kSecret), body.size(), body.substr(0, body.size() / 2));
    ASSERT_EQ(::send(fd, request.data(), request.size(), MSG_NOSIGNAL), ssize_t(request.size()));
    if (close_early) ::shutdown(fd, SHUT_WR);
    std::string answer;
    char buffer[4096];
    ssize_t n;
    while ((n = ::recv(fd, buffer, sizeof buffer, 0)) > 0) answer.append(buffer, size_t(n));
    ::close(fd);
    if (close_early) {
      EXPECT_EQ(answer, "") << "closed early";
    } else {
      EXPECT_EQ(answer.rfind("HTTP/1.1 400", 0), 0u) << answer;
      EXPECT_NE(answer.find("truncated or malformed"), std::string::npos) << answer;
    }
  }

  EXPECT_EQ(before, snapshot());
  EXPECT_EQ(processed_count(), 0);
  // The server still works, and a good request is processed.
  auto good = post_signed(body);
  ASSERT_TRUE(good);
  EXPECT_EQ(good->status, 200) << good->body;
  EXPECT_EQ(processed_count(), 1);
  EXPECT_EQ(process->stop(), 0);
  EXPECT_EQ(process->log().find(synthetic_email(10, contact_set.seed)), std::string::npos);
}

TEST_P(Serve, ReplayedEventChangesNothing) {
  ASSERT_NO_FATAL_FAILURE(start_server());
  const std::string body = request_body({{std::string(server::kSubscriptionChanged),
                                          {subscription_change(10, "email", "unsubscribed")}}});
  auto first = post_signed(body);
  ASSERT_TRUE(first);
  ASSERT_EQ(first->status, 200) << first->body;
  EXPECT_EQ(nlohmann::json::parse(first->body)["processed"], nlohmann::json::array({10}));
  const auto after_first = snapshot();
  for (int replay = 0; replay < 2; ++replay) {
    auto again = post_signed(body);
    ASSERT_TRUE(again);
    ASSERT_EQ(again->status, 200) << again->body;
    const auto answer = nlohmann::json::parse(again->body);
    EXPECT_EQ(answer["processed"], nlohmann::json::array());
    EXPECT_EQ(answer["not_pending"], nlohmann::json::array({10}));
    EXPECT_EQ(after_first, snapshot());
  }
  // A sweep afterwards does not process it again either.
  ASSERT_EQ(tool({"sweep", "-q"}).exit_code, 0);
  EXPECT_EQ(cell(*connection, fmt::format("SELECT source FROM {} WHERE contact_id = 10",
                                          quoted("gdpr_contacts"))),
            "webhook");
}

TEST_P(Serve, ReturningAddressIsSuppressedWhenMauticSavesTheNewContact) {
  ASSERT_EQ(tool({"sweep", "-q"}).exit_code, 0);  // contact 10 (unsubscribed) is processed
  ASSERT_NO_FATAL_FAILURE(start_server());
  // An import brings contact 10's address back as a new contact 2001.
  ASSERT_TRUE(connection
                  ->execute(fmt::format("INSERT INTO {} (id, is_published, date_added, "
                                        "date_identified, points, email, firstname) VALUES "
                                        "(2001, 1, UTC_TIMESTAMP(), UTC_TIMESTAMP(), 0, ?, "
                                        "'Returning')",
                                        quoted("leads")),
                            {synthetic_email(10, contact_set.seed)})
                  .ok());
  ASSERT_TRUE(connection
                  ->execute(fmt::format("INSERT INTO {} (lead_id, bundle, object, action, "
                                        "object_id, date_added, properties) VALUES (2001, "
                                        "'lead', 'import', 'inserted', 1, UTC_TIMESTAMP(), '{{}}')",
                                        quoted("lead_event_log")))
                  .ok());
  nlohmann::json event = {{"contact", {{"id", 2001}}}, {"timestamp", "2026-01-01T00:00:00+00:00"}};
  auto response = post_signed(request_body({{std::string(server::kContactCreated), {event}}}));
  ASSERT_TRUE(response);
  ASSERT_EQ(response->status, 200) << response->body;
  EXPECT_EQ(nlohmann::json::parse(response->body)["processed"], nlohmann::json::array({2001}));
  EXPECT_EQ(cell(*connection, fmt::format("SELECT CONCAT(reason, '/', source) FROM {} WHERE "
                                          "contact_id = 2001",
                                          quoted("gdpr_contacts"))),
            "unsubscribed/webhook");
  EXPECT_EQ(cell(*connection, fmt::format("SELECT reason FROM {} WHERE lead_id = 2001",
                                          quoted("lead_donotcontact"))),
            "1");
  // The same event again changes nothing.
  const auto before = snapshot();
  auto again = post_signed(request_body({{std::string(server::kContactCreated), {event}}}));
  ASSERT_TRUE(again);
  EXPECT_EQ(again->status, 200);
  EXPECT_EQ(before, snapshot());
}

TEST_P(Serve, QueueModeBatchWithMixedEvents) {
  ASSERT_NO_FATAL_FAILURE(start_server());
  // 10 unsubscribed and 11 bounced (both pending), 12 manual (not a configured reason),
  // 20 back to contactable, 21 unsubscribed from sms (not a configured channel; 21 is pending
  // for a bounce but this request does not name it for email), 34 with no do-not-contact row.
  const std::vector<int64_t> untouched = {12, 20, 21, 34};
  std::string untouched_list;
  for (int64_t id : untouched)
    untouched_list += (untouched_list.empty() ? "" : ",") + std::to_string(id);
  const auto untouched_before =
      table_rows(*connection, table("leads"), "id IN (" + untouched_list + ")");
  const std::string body = request_body(
      {{"mautic.lead_post_save_update", {example_event("lead_post_save_update")}},
       {std::string(server::kSubscriptionChanged),
        {subscription_change(10, "email", "unsubscribed"),
         subscription_change(11, "email", "bounced"), subscription_change(12, "email", "manual"),
         subscription_change(20, "email", "contactable"),
         subscription_change(21, "sms", "unsubscribed"),
         subscription_change(34, "email", "unsubscribed"),
         subscription_change(10, "email", "unsubscribed")}},
       {"mautic.lead_points_change", {example_event("lead_points_change")}},
       {"mautic.lead_post_delete", {example_event("lead_post_delete")}}});
  auto response = post_signed(body);
  ASSERT_TRUE(response);
  ASSERT_EQ(response->status, 200) << response->body;
  const auto answer = nlohmann::json::parse(response->body);
  EXPECT_EQ(answer["events"], 10);
  EXPECT_EQ(answer["processed"], nlohmann::json::array({10, 11}));
  EXPECT_EQ(answer["not_pending"], nlohmann::json::array({34}));
  EXPECT_EQ(answer["ignored"], 6);  // 3 other types, manual, contactable, sms

  EXPECT_EQ(cell(*connection, fmt::format("SELECT GROUP_CONCAT(contact_id, ':', reason, ':', "
                                          "source ORDER BY contact_id) FROM {}",
                                          quoted("gdpr_contacts"))),
            "10:unsubscribed:webhook,11:bounced:webhook");
  EXPECT_EQ(untouched_before,
            table_rows(*connection, table("leads"), "id IN (" + untouched_list + ")"));

  // A contact named before Mautic's do-not-contact row exists is left to the sweep.
  mautic_unsubscribes(34);
  ASSERT_EQ(tool({"sweep", "-q"}).exit_code, 0);
  EXPECT_EQ(cell(*connection, fmt::format("SELECT source FROM {} WHERE contact_id = 34",
                                          quoted("gdpr_contacts"))),
            "sweep");

  auto metrics = client->Get("/metrics");
  ASSERT_TRUE(metrics);
  EXPECT_NE(metrics->body.find("mgdpr_webhook_contacts_processed_total 2"), std::string::npos)
      << metrics->body;
  EXPECT_NE(metrics->body.find("mgdpr_webhook_events_total{type=\"mautic.lead_points_change\"} 1"),
            std::string::npos);
  // The sweep's outcome and the build, for alerts.
  for (const char* family :
       {"mgdpr_last_sweep_success_timestamp_seconds ", "mgdpr_sweep_duration_seconds ",
        "mgdpr_oldest_pending_age_seconds ", "mgdpr_build_info{version=\""}) {
    EXPECT_NE(metrics->body.find(family), std::string::npos) << family << "\n" << metrics->body;
  }
}

TEST_P(Serve, PagesNeedALoginAndLookupsAreAuditedWithTheUser) {
  ASSERT_NO_FATAL_FAILURE(start_server());
  ASSERT_EQ(post_signed(request_body({{std::string(server::kSubscriptionChanged),
                                       {subscription_change(10, "email", "unsubscribed")}}}))
                ->status,
            200);
  const std::string email = synthetic_email(10, contact_set.seed);

  // No session: every page sends the browser to the login, and nothing is looked up.
  for (const char* path : {"/lookup", "/status", "/"}) {
    auto page = client->Get(path);
    ASSERT_TRUE(page);
    EXPECT_EQ(page->status, 303) << path;
    EXPECT_EQ(page->get_header_value("Location"), std::string(path) == "/" ? "/lookup" : "/login");
  }
  auto anonymous = post_lookup("forged", "x", "email", email);
  ASSERT_TRUE(anonymous);
  EXPECT_EQ(anonymous->status, 303);

  // The login form's token must come back with the form; a wrong password is refused.
  auto form = client->Get("/login");
  ASSERT_TRUE(form);
  auto login_cookie = set_cookies(form)["mgdpr_login"];
  EXPECT_NE(login_cookie.find("HttpOnly"), std::string::npos);
  EXPECT_NE(login_cookie.find("SameSite=Strict"), std::string::npos);
  auto no_token =
      client->Post("/login", "user=alice&password=x", "application/x-www-form-urlencoded");
  EXPECT_EQ(no_token->status, 403);
  auto wrong = client->Post("/login", {{"Cookie", "mgdpr_login=" + cookie_value_of(login_cookie)}},
                            "csrf=" + csrf_in(form->body) + "&user=alice&password=wrong",
                            "application/x-www-form-urlencoded");
  EXPECT_EQ(wrong->status, 401);
  EXPECT_NE(wrong->body.find("Wrong user name or password"), std::string::npos);

  const std::string session = log_in();
  ASSERT_FALSE(session.empty()) << process->log();
  auto lookup_form = client->Get("/lookup", {{"Cookie", "mgdpr_session=" + session}});
  ASSERT_EQ(lookup_form->status, 200);
  EXPECT_EQ(lookup_form->get_header_value("Cache-Control"), "no-store");
  EXPECT_NE(lookup_form->get_header_value("Content-Security-Policy").find("default-src 'none'"),
            std::string::npos);
  const std::string csrf = csrf_in(lookup_form->body);
  ASSERT_FALSE(csrf.empty());

  // A processed contact, typed with other case: when, why and the kept values; never the value.
  std::string shouted = email;
  std::transform(shouted.begin(), shouted.end(), shouted.begin(), ::toupper);
  auto found = post_lookup(session, csrf, "email", shouted);
  ASSERT_EQ(found->status, 200);
  EXPECT_NE(found->body.find("Processed: 1 record"), std::string::npos) << found->body;
  EXPECT_NE(found->body.find("unsubscribed (channel email)"), std::string::npos);
  EXPECT_NE(found->body.find("City10"), std::string::npos);
  EXPECT_EQ(found->body.find(email), std::string::npos);
  EXPECT_EQ(found->body.find(shouted), std::string::npos);
  auto unknown = post_lookup(session, csrf, "email", "nobody@example.org");
  EXPECT_EQ(unknown->status, 200);
  EXPECT_NE(unknown->body.find("Not found"), std::string::npos);
  auto by_phone = post_lookup(session, csrf, "mobile", "+49 170 0000010");
  EXPECT_NE(by_phone->body.find("Processed: 1 record"), std::string::npos);
  // A form without this session's token, or a field that is not hashed, is refused.
  EXPECT_EQ(post_lookup(session, std::string(64, '0'), "email", email)->status, 403);
  EXPECT_EQ(post_lookup(session, csrf, "firstname", "Firstname10")->status, 400);

  // Audited with the web user, never the value.
  const auto audit = table_rows(*connection, table("gdpr_audit"));
  ASSERT_EQ(audit.size(), 3u);
  for (const auto& row : audit) {
    EXPECT_NE(row.find("'web:alice'"), std::string::npos) << row;
    EXPECT_EQ(row.find('@'), std::string::npos) << row;
  }

  // lookups_per_hour = 5: three were made; two more, then 429.
  EXPECT_EQ(post_lookup(session, csrf, "email", "a@example.org")->status, 200);
  EXPECT_EQ(post_lookup(session, csrf, "email", "b@example.org")->status, 200);
  auto limited = post_lookup(session, csrf, "email", email);
  EXPECT_EQ(limited->status, 429);
  EXPECT_NE(limited->body.find("lookups_per_hour"), std::string::npos);
  EXPECT_EQ(table_rows(*connection, table("gdpr_audit")).size(), 5u);

  auto status = client->Get("/status", {{"Cookie", "mgdpr_session=" + session}});
  ASSERT_EQ(status->status, 200);
  EXPECT_NE(status->body.find("<svg"), std::string::npos);
  EXPECT_NE(status->body.find("Pending"), std::string::npos);
  auto metrics = client->Get("/metrics");
  EXPECT_NE(metrics->body.find("mgdpr_contacts_processed{reason=\"unsubscribed\"} 1"),
            std::string::npos)
      << metrics->body;
  EXPECT_NE(metrics->body.find("mgdpr_contacts_pending 39"), std::string::npos) << metrics->body;
  EXPECT_NE(metrics->body.find("mgdpr_rate_limited_total{kind=\"lookup\"} 1"), std::string::npos);
  auto health = client->Get("/healthz");
  EXPECT_EQ(health->status, 200);

  // Logging out ends the session.
  auto out = client->Post("/logout", {{"Cookie", "mgdpr_session=" + session}}, "csrf=" + csrf,
                          "application/x-www-form-urlencoded");
  EXPECT_EQ(out->status, 303);
  EXPECT_EQ(client->Get("/lookup", {{"Cookie", "mgdpr_session=" + session}})->status, 303);

  EXPECT_EQ(process->stop(), 0);
  const std::string log = process->log();
  EXPECT_EQ(log.find('@'), std::string::npos) << log;
  EXPECT_EQ(log.find("0000010"), std::string::npos) << log;
  EXPECT_EQ(log.find(kPassword), std::string::npos) << log;
  EXPECT_EQ(log.find(session), std::string::npos) << log;
  EXPECT_NE(log.find("user=alice field=email matches=1"), std::string::npos) << log;
}

TEST_P(Serve, LoginAttemptsAreRateLimitedPerClient) {
  ASSERT_NO_FATAL_FAILURE(start_server());
  auto form = client->Get("/login");
  const std::string cookie = "mgdpr_login=" + cookie_value_of(set_cookies(form)["mgdpr_login"]);
  const std::string token = csrf_in(form->body);
  for (int attempt = 0; attempt < 6; ++attempt) {
    auto wrong =
        client->Post("/login", {{"Cookie", cookie}},
                     "csrf=" + token + "&user=alice&password=guess" + std::to_string(attempt),
                     "application/x-www-form-urlencoded");
    EXPECT_EQ(wrong->status, 401) << attempt;
  }
  // The limit (6 per hour) holds even for the right password.
  auto right = client->Post(
      "/login", {{"Cookie", cookie}},
      "csrf=" + token + "&user=alice&password=" + httplib::detail::encode_query_param(kPassword),
      "application/x-www-form-urlencoded");
  EXPECT_EQ(right->status, 429);
  EXPECT_FALSE(right->get_header_value("Retry-After").empty());
  EXPECT_TRUE(set_cookies(right).count("mgdpr_session") == 0);
}

TEST_P(Serve, SigtermLetsTheRequestInFlightFinish) {
  ASSERT_NO_FATAL_FAILURE(start_server());
  // Another session holds contact 10's row: the webhook's transaction waits for it.
  auto other = connect_root(database);
  ASSERT_TRUE(other);
  ASSERT_TRUE(other->begin().ok());
  ASSERT_TRUE(
      other->query(fmt::format("SELECT id FROM {} WHERE id = 10 FOR UPDATE", quoted("leads")), {})
          .ok());
  auto in_flight = std::async(std::launch::async, [&] {
    httplib::Client second("127.0.0.1", process->port());
    second.set_read_timeout(60, 0);
    const std::string body = request_body({{std::string(server::kSubscriptionChanged),
                                            {subscription_change(10, "email", "unsubscribed")}}});
    auto response = second.Post("/mautic/webhook",
                                {{"Webhook-Signature", server::webhook_signature(body, kSecret)}},
                                body, "application/json");
    return response ? response->status : -1;
  });
  // Wait until the request is blocked on the row lock.
  bool waiting = false;
  for (int i = 0; i < 1200 && !waiting; ++i) {  // up to 30 s on a loaded machine
    std::this_thread::sleep_for(25ms);
    waiting = cell(*connection, "SELECT COUNT(*) FROM information_schema.INNODB_LOCK_WAITS") != "0";
  }
  ASSERT_TRUE(waiting) << process->log();

  process->signal(SIGTERM);
  ASSERT_TRUE(process->wait_for_log("event=stopping"));
  std::this_thread::sleep_for(300ms);
  EXPECT_TRUE(process->running()) << "stopped before the request in flight was answered";
  ASSERT_TRUE(other->commit().ok());
  EXPECT_EQ(in_flight.get(), 200);
  EXPECT_EQ(process->stop(), 0);
  EXPECT_EQ(processed_count(), 1);
  EXPECT_NE(process->log().find("event=stopped"), std::string::npos);
}

TEST_P(Serve, SighupReloadsUsersAndPolicyWithoutDroppingRequests) {
  ASSERT_NO_FATAL_FAILURE(start_server());
  // Requests keep coming while the server reloads: none may fail.
  std::atomic<bool> reloading{true};
  std::atomic<int> answered{0};
  std::atomic<int> failed{0};
  std::thread load([&] {
    httplib::Client other("127.0.0.1", process->port());
    while (reloading.load()) {
      auto health = other.Get("/healthz");
      (health && health->status == 200 ? answered : failed)++;
    }
  });
  // A second user, and city no longer kept.
  auto bob = server::hash_password("bob's long password");
  ASSERT_TRUE(bob.ok());
  const std::string policy = std::string(kDefaultPolicy);
  std::string changed = policy;
  changed.replace(changed.find("city = \"keep\""), 13, "city = \"delete\"");
  write_config(fmt::format(
      "{}\n[server]\nlisten = \"127.0.0.1:0\"\nsecret_file = \"{}\"\nmax_body_bytes = 65536\n"
      "threads = 4\nlogin_attempts_per_hour = 6\nlookups_per_hour = 5\n\n"
      "[server.users]\nalice = \"{}\"\nbob = \"{}\"\n",
      changed, secret_path.string(), password_hash, *bob));
  process->signal(SIGHUP);
  ASSERT_TRUE(process->wait_for_log("event=reloaded")) << process->log();
  std::this_thread::sleep_for(200ms);
  reloading = false;
  load.join();
  EXPECT_TRUE(process->running());
  EXPECT_GT(answered.load(), 0);
  EXPECT_EQ(failed.load(), 0);

  // bob can log in now; a webhook applies the new policy.
  auto form = client->Get("/login");
  auto posted = client->Post(
      "/login", {{"Cookie", "mgdpr_login=" + cookie_value_of(set_cookies(form)["mgdpr_login"])}},
      "csrf=" + csrf_in(form->body) + "&user=bob&password=" +
          httplib::detail::encode_query_param("bob's long password"),
      "application/x-www-form-urlencoded");
  ASSERT_TRUE(posted);
  EXPECT_EQ(posted->status, 303) << posted->body;
  auto response = post_signed(request_body({{std::string(server::kSubscriptionChanged),
                                             {subscription_change(10, "email", "unsubscribed")}}}));
  ASSERT_TRUE(response);
  ASSERT_EQ(response->status, 200) << response->body;
  EXPECT_EQ(cell(*connection, fmt::format("SELECT city FROM {} WHERE id = 10", quoted("leads"))),
            "NULL");

  // A broken config is refused; the running one stays.
  std::ofstream(config_path, std::ios::app) << "\n[policy]\ndefault = \"shred\"\n";
  process->signal(SIGHUP);
  ASSERT_TRUE(process->wait_for_log("event=reload_failed")) << process->log();
  EXPECT_EQ(client->Get("/healthz")->status, 200);
  EXPECT_EQ(process->stop(), 0);
}

TEST_P(Serve, NewCustomFieldIsPseudonymizedByTheRunningServer) {
  ASSERT_NO_FATAL_FAILURE(start_server());
  // Mautic gains a field after the server started; the webhook must not miss it.
  ASSERT_TRUE(add_custom_field(*connection, prefix(), {"hobby", "text", "VARCHAR(191)"}).ok());
  ASSERT_TRUE(connection
                  ->execute(fmt::format("UPDATE {} SET hobby = 'chess with Anna' WHERE id = 10",
                                        quoted("leads")))
                  .ok());
  std::this_thread::sleep_for(1100ms);  // the schema is re-checked at most once a second
  auto response = post_signed(request_body({{std::string(server::kSubscriptionChanged),
                                             {subscription_change(10, "email", "unsubscribed")}}}));
  ASSERT_TRUE(response);
  ASSERT_EQ(response->status, 200) << response->body;
  EXPECT_EQ(cell(*connection, fmt::format("SELECT hobby FROM {} WHERE id = 10", quoted("leads"))),
            "NULL");
  EXPECT_TRUE(process->wait_for_log("event=schema_changed", 1s));
}

TEST_P(Serve, StartupProblemsAreNamed) {
  // No webhook secret.
  write_config(std::string(kDefaultPolicy) + "\n[server]\nlisten = \"127.0.0.1:0\"\n");
  auto no_secret = tool({"serve"});
  EXPECT_EQ(no_secret.exit_code, 2);
  EXPECT_NE(no_secret.err.find("has no webhook secret"), std::string::npos) << no_secret.err;
  // A secret file everyone can read.
  write_server_config("");
  std::filesystem::permissions(secret_path, std::filesystem::perms::others_read,
                               std::filesystem::perm_options::add);
  auto readable = tool({"serve"});
  EXPECT_EQ(readable.exit_code, 2);
  EXPECT_NE(readable.err.find("chmod o-rwx"), std::string::npos) << readable.err;
  std::filesystem::permissions(secret_path, std::filesystem::perms::others_read,
                               std::filesystem::perm_options::remove);
  // The secret from an environment variable that is not set.
  write_config(
      fmt::format("{}\n[server]\nlisten = \"127.0.0.1:0\"\nsecret_env = "
                  "\"MGDPR_TEST_UNSET_SECRET\"\n",
                  kDefaultPolicy));
  auto unset = tool({"serve"});
  EXPECT_EQ(unset.exit_code, 2);
  EXPECT_NE(unset.err.find("MGDPR_TEST_UNSET_SECRET is not set"), std::string::npos) << unset.err;
  // A port that is taken.
  write_server_config("");
  ASSERT_NO_FATAL_FAILURE(start_server());
  write_config(fmt::format("{}\n[server]\nlisten = \"127.0.0.1:{}\"\nsecret_file = \"{}\"\n",
                           kDefaultPolicy, process->port(), secret_path.string()));
  // (A second server must fail, not hang: it runs under a watch that kills it.)
  ServerProcess second(config_path);
  EXPECT_TRUE(second.wait_for_log("cannot listen on 127.0.0.1:", 20s)) << second.log();
  EXPECT_EQ(second.stop(), 2);
}

TEST_P(Serve, TlsServesSecureCookies) {
  const auto cert = dir / "cert.pem";
  const auto key = dir / "key.pem";
  const std::string command = fmt::format(
      "openssl req -x509 -newkey rsa:2048 -nodes -keyout '{}' -out '{}' -days 1 "
      "-subj /CN=127.0.0.1 >/dev/null 2>&1",
      key.string(), cert.string());
  ASSERT_EQ(std::system(command.c_str()), 0) << "openssl could not make a test certificate";
  write_server_config(
      fmt::format("tls_cert_file = \"{}\"\ntls_key_file = \"{}\"\n", cert.string(), key.string()));
  process = std::make_unique<ServerProcess>(config_path);
  ASSERT_TRUE(process->wait_until_listening()) << process->log();
  EXPECT_NE(process->log().find("tls=true"), std::string::npos);
  httplib::SSLClient secure("127.0.0.1", process->port());
  secure.enable_server_certificate_verification(false);
  auto form = secure.Get("/login");
  ASSERT_TRUE(form) << httplib::to_string(form.error());
  EXPECT_EQ(form->status, 200);
  EXPECT_NE(set_cookies(form)["mgdpr_login"].find("; Secure"), std::string::npos);
  EXPECT_FALSE(form->get_header_value("Strict-Transport-Security").empty());
  const std::string body = request_body({{std::string(server::kSubscriptionChanged),
                                          {subscription_change(10, "email", "unsubscribed")}}});
  auto hook = secure.Post("/mautic/webhook",
                          {{"Webhook-Signature", server::webhook_signature(body, kSecret)}}, body,
                          "application/json");
  ASSERT_TRUE(hook);
  EXPECT_EQ(hook->status, 200);
  // Plain HTTP to the TLS port gets nowhere.
  httplib::Client plain("127.0.0.1", process->port());
  auto refused = plain.Get("/healthz");
  EXPECT_TRUE(!refused || refused->status != 200);
  EXPECT_EQ(process->stop(), 0);
}

INSTANTIATE_TEST_SUITE_P(Prefixes, Serve, ::testing::Values("", "mt_"), prefix_name);

}  // namespace
}  // namespace mgdpr::testing
