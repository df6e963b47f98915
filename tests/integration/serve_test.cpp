// SPDX-License-Identifier: GPL-3.0-or-later
// `mautic-gdpr serve`: the real binary on loopback against a real MariaDB. Webhooks (signed,
// forged, truncated, huge, malformed, replayed, queue-mode batches), the pages behind login,
// rate limits, /metrics, /healthz, graceful SIGTERM, a schema change under a running server,
// TLS. The first tests need no server: the signature, body parsing, sessions, rate limits.
#include <arpa/inet.h>
#include <fcntl.h>
#include <httplib.h>
#include <netinet/in.h>
#include <poll.h>
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
#include <optional>
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
  pid_t pid() const { return pid_; }
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
    if (HasFailure() && process) ADD_FAILURE() << "server log:\n" << process->log();
    process.reset();
    MauticTest::TearDown();
  }

  static constexpr const char* kConnectionLimits =
      "threads = 4\nmax_connections_per_client = 4\nread_timeout_seconds = 3\n";

  // The test policy plus [server]; `extra` goes into [server] (before the users), `trigger`
  // into [trigger].
  void write_server_config(const std::string& extra,
                           const std::string& connection_limits = kConnectionLimits,
                           const std::string& trigger = "") {
    write_config(fmt::format(
        "{}{}\n[server]\nlisten = \"127.0.0.1:0\"\nsecret_file = \"{}\"\nmax_body_bytes = 65536\n"
        "{}login_attempts_per_hour = 6\nlookups_per_hour = 5\n{}\n"
        "[server.users]\nalice = \"{}\"\n",
        trigger, kDefaultPolicy, secret_path.string(), connection_limits, extra, password_hash));
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

  // Logs in (as alice unless told); returns the session cookie ("" on failure).
  std::string log_in(const std::string& user = "alice") {
    auto form = client->Get("/login");
    if (!form || form->status != 200) return "";
    const std::string login_cookie = cookie_value_of(set_cookies(form)["mgdpr_login"]);
    auto posted = client->Post("/login", {{"Cookie", "mgdpr_login=" + login_cookie}},
                               "csrf=" + csrf_in(form->body) + "&user=" + user +
                                   "&password=" + httplib::detail::encode_query_param(kPassword),
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

  // Another connection holding a contact's row lock, as a Mautic request or a sweep's batch
  // does; `holder.transaction->commit()` lets go.
  struct RowHolder {
    std::unique_ptr<db::Connection> connection;
    std::optional<db::Transaction> transaction;
  };
  void hold_row_of(int64_t contact, RowHolder& holder) {
    holder.connection = connect_root(database);
    ASSERT_TRUE(holder.connection);
    auto begun = db::Transaction::begin(*holder.connection);
    ASSERT_TRUE(begun.ok());
    holder.transaction.emplace(std::move(*begun));
    ASSERT_TRUE(
        holder.connection
            ->query(fmt::format("SELECT id FROM {} WHERE id = ? FOR UPDATE", quoted("leads")),
                    {contact})
            .ok());
  }

  // True once some transaction waits for a row lock (within 30 s).
  bool a_transaction_waits_for_a_lock() {
    for (int i = 0; i < 300; ++i) {
      if (cell(*connection,
               "SELECT COUNT(*) FROM information_schema.INNODB_TRX WHERE trx_state = "
               "'LOCK WAIT'") != "0") {
        return true;
      }
      std::this_thread::sleep_for(100ms);
    }
    return false;
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
      post_signed(request_body({{std::string(kSubscriptionChanged),
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
  write_server_config("", kConnectionLimits, "grace = \"7d\"\n");
  ASSERT_NO_FATAL_FAILURE(start_server());
  const auto before = table_rows(*connection, table("leads"), "id IN (33, 34)");
  auto change = [&](int64_t contact, const std::string& status) {
    auto response = post_signed(request_body(
        {{std::string(kSubscriptionChanged), {subscription_change(contact, "email", status)}}}));
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
  ASSERT_TRUE(
      connection
          ->execute(fmt::format("DELETE FROM {} WHERE lead_id = 34", quoted("lead_donotcontact")))
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
  const std::string body = request_body(
      {{std::string(kSubscriptionChanged), {subscription_change(10, "email", "unsubscribed")}}});
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
  std::string huge = request_body(
      {{std::string(kSubscriptionChanged), {subscription_change(10, "email", "unsubscribed")}}});
  huge.insert(huge.size() - 1, ",\"padding\":\"" + std::string(1 << 20, 'x') + "\"");
  expect_status(post_signed(huge), 413, "max_body_bytes", "huge body");
  // Signed, but malformed: not JSON, not an object, an event without a contact id. The last
  // batch also holds a valid event: nothing of a request is done unless all of it is valid.
  expect_status(post_signed(body.substr(0, body.size() - 2)), 400, "not valid JSON", "malformed");
  expect_status(post_signed("[1, 2, 3]"), 400, "must be a JSON object", "array");
  auto without_id = subscription_change(11, "email", "bounced");
  without_id["contact"].erase("id");
  expect_status(
      post_signed(request_body({{std::string(kSubscriptionChanged),
                                 {subscription_change(10, "email", "unsubscribed"), without_id}}})),
      400, "[1] has no contact.id", "event without contact id");

  // A body that ends early on the wire: Content-Length promises more than arrives. A client
  // that stalls gets 408 once [server] read_timeout_seconds (3 here) pass since its first byte;
  // one that closes its side gets 400 at once.
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
      EXPECT_EQ(answer.rfind("HTTP/1.1 400", 0), 0u) << answer;
      EXPECT_NE(answer.find("truncated or malformed"), std::string::npos) << answer;
    } else {
      EXPECT_EQ(answer.rfind("HTTP/1.1 408", 0), 0u) << answer;
      EXPECT_NE(answer.find("read_timeout_seconds (3 s)"), std::string::npos) << answer;
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
  const std::string body = request_body(
      {{std::string(kSubscriptionChanged), {subscription_change(10, "email", "unsubscribed")}}});
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
  auto response = post_signed(request_body({{std::string(kContactCreated), {event}}}));
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
  auto again = post_signed(request_body({{std::string(kContactCreated), {event}}}));
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
       {std::string(kSubscriptionChanged),
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
  ASSERT_EQ(post_signed(request_body({{std::string(kSubscriptionChanged),
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
  ASSERT_EQ(found->status, 200) << found->body << process->log();
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

// Roles: a lookup-only user sees a live contact but neither button and is refused by the
// forms; a user with export and erase downloads the export and erases after a confirmation,
// only for a contact their own lookup found; the audit page shows who did what, never a value.
TEST_P(Serve, RolesExportEraseAndTheAuditPage) {
  write_config(
      fmt::format("{}\n[server]\nlisten = \"127.0.0.1:0\"\nsecret_file = \"{}\"\nthreads = 4\n"
                  "lookups_per_hour = 5\nmautic_url = \"https://mautic.example.org/\"\n\n"
                  "[server.users]\nalice = \"{}\"\nbob = \"{}\"\n\n[server.roles]\n"
                  "alice = [\"lookup\", \"export\", \"erase\"]\n",
                  kDefaultPolicy, secret_path.string(), password_hash, password_hash));
  ASSERT_NO_FATAL_FAILURE(start_server());
  const int64_t contact = 33;  // contactable: live
  const std::string email = synthetic_email(contact, contact_set.seed);
  auto form = [&](const std::string& session, const std::string& path, const std::string& body) {
    return client->Post(path, {{"Cookie", "mgdpr_session=" + session}}, body,
                        "application/x-www-form-urlencoded");
  };

  const std::string bob = log_in("bob");
  ASSERT_FALSE(bob.empty());
  const std::string bob_csrf =
      csrf_in(client->Get("/lookup", {{"Cookie", "mgdpr_session=" + bob}})->body);
  auto seen = post_lookup(bob, bob_csrf, "email", email);
  ASSERT_EQ(seen->status, 200);
  EXPECT_NE(seen->body.find("In Mautic: 1 live contact matches"), std::string::npos) << seen->body;
  EXPECT_EQ(seen->body.find("action=\"/export\""), std::string::npos);
  EXPECT_EQ(seen->body.find("action=\"/erase\""), std::string::npos);
  const std::string contact_form = fmt::format("&contact_id={}", contact);
  auto refused = form(bob, "/export", "csrf=" + bob_csrf + contact_form + "&format=html");
  EXPECT_EQ(refused->status, 403);
  EXPECT_NE(refused->body.find("may not export"), std::string::npos);
  EXPECT_EQ(form(bob, "/erase", "csrf=" + bob_csrf + contact_form + "&confirm=yes")->status, 403);

  const std::string alice = log_in();
  ASSERT_FALSE(alice.empty());
  const std::string csrf =
      csrf_in(client->Get("/lookup", {{"Cookie", "mgdpr_session=" + alice}})->body);
  // Only a contact this session's lookup found can be named.
  auto unlooked = form(alice, "/export", "csrf=" + csrf + contact_form + "&format=html");
  EXPECT_EQ(unlooked->status, 403);
  EXPECT_NE(unlooked->body.find("Look the person up first"), std::string::npos);
  auto found = post_lookup(alice, csrf, "email", email);
  ASSERT_EQ(found->status, 200);
  EXPECT_NE(found->body.find("action=\"/export\""), std::string::npos);
  EXPECT_NE(found->body.find("action=\"/erase\""), std::string::npos);
  EXPECT_NE(found->body.find("href=\"https://mautic.example.org/s/contacts/view/33\""),
            std::string::npos);
  EXPECT_EQ(found->body.find(email), std::string::npos);

  auto html = form(alice, "/export", "csrf=" + csrf + contact_form + "&format=html");
  ASSERT_EQ(html->status, 200) << html->body;
  EXPECT_EQ(html->get_header_value("Content-Disposition"),
            "attachment; filename=\"mautic-contact-33-export.html\"");
  EXPECT_EQ(html->get_header_value("Cache-Control"), "no-store");
  EXPECT_NE(html->body.find("Personal data export"), std::string::npos);
  EXPECT_NE(html->body.find(email), std::string::npos);
  auto json = form(alice, "/export", "csrf=" + csrf + contact_form + "&format=json");
  ASSERT_EQ(json->status, 200);
  const auto exported = nlohmann::json::parse(json->body);
  EXPECT_EQ(exported["contacts"][0]["contact_id"], contact);
  EXPECT_EQ(exported["contacts"][0]["state"], "live");
  EXPECT_EQ(form(alice, "/export", "csrf=" + std::string(64, '0') + contact_form)->status, 403);

  // Erase: the first form only shows what would go; the confirmation erases.
  auto confirm = form(alice, "/erase", "csrf=" + csrf + contact_form);
  ASSERT_EQ(confirm->status, 200) << confirm->body;
  EXPECT_NE(confirm->body.find("Erase contact"), std::string::npos);
  EXPECT_NE(confirm->body.find("name=\"confirm\" value=\"yes\""), std::string::npos);
  EXPECT_EQ(processed_count(), 0);
  auto erased = form(alice, "/erase", "csrf=" + csrf + contact_form + "&confirm=yes");
  ASSERT_EQ(erased->status, 200) << erased->body;
  EXPECT_NE(erased->body.find("was erased"), std::string::npos);
  EXPECT_EQ(cell(*connection, fmt::format("SELECT CONCAT(reason, '/', source) FROM {} WHERE "
                                          "contact_id = {}",
                                          quoted("gdpr_contacts"), contact)),
            "manual/request");
  auto proof = post_lookup(alice, csrf, "email", email);
  EXPECT_NE(proof->body.find("Processed: 1 record"), std::string::npos);
  EXPECT_NE(proof->body.find("on an erasure request"), std::string::npos);

  // lookups_per_hour = 5 bounds exports too: two were made, three more, then 429.
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(form(alice, "/export", "csrf=" + csrf + contact_form + "&format=json")->status, 200);
  }
  EXPECT_EQ(form(alice, "/export", "csrf=" + csrf + contact_form + "&format=json")->status, 429);

  auto audit = client->Get("/audit", {{"Cookie", "mgdpr_session=" + bob}});
  ASSERT_EQ(audit->status, 200) << audit->body;
  for (const char* expected : {"web:alice", "web:bob", ">export<", ">erase<", ">erase-dry-run<",
                               ">lookup<", "view/33\""}) {
    EXPECT_NE(audit->body.find(expected), std::string::npos) << expected;
  }
  EXPECT_EQ(audit->body.find('@'), std::string::npos);
  auto history = client->Get("/audit?contact=33", {{"Cookie", "mgdpr_session=" + alice}});
  ASSERT_EQ(history->status, 200);
  EXPECT_EQ(history->body.find(">lookup<"), std::string::npos);  // lookups name no contact
  EXPECT_NE(history->body.find(">erase<"), std::string::npos);
  EXPECT_EQ(client->Get("/audit")->status, 303);  // no session

  EXPECT_EQ(process->stop(), 0);
  EXPECT_EQ(process->log().find('@'), std::string::npos) << process->log();
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
    const std::string body = request_body(
        {{std::string(kSubscriptionChanged), {subscription_change(10, "email", "unsubscribed")}}});
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
      "csrf=" + csrf_in(form->body) +
          "&user=bob&password=" + httplib::detail::encode_query_param("bob's long password"),
      "application/x-www-form-urlencoded");
  ASSERT_TRUE(posted);
  EXPECT_EQ(posted->status, 303) << posted->body;
  auto response = post_signed(request_body(
      {{std::string(kSubscriptionChanged), {subscription_change(10, "email", "unsubscribed")}}}));
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
  auto response = post_signed(request_body(
      {{std::string(kSubscriptionChanged), {subscription_change(10, "email", "unsubscribed")}}}));
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
  const std::string body = request_body(
      {{std::string(kSubscriptionChanged), {subscription_change(10, "email", "unsubscribed")}}});
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

// ---------------------------------------------------------------------------------------------
// Hostile and broken HTTP: run once (the table prefix plays no part).

// One TCP connection to the server from a chosen loopback address: Linux answers all of 127/8
// on lo, so 127.0.0.2 is another client as far as the server can tell.
class RawClient {
 public:
  RawClient(int port, const char* source = "127.0.0.1") {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in local{};
    local.sin_family = AF_INET;
    ::inet_pton(AF_INET, source, &local.sin_addr);
    if (::bind(fd_, reinterpret_cast<sockaddr*>(&local), sizeof local) != 0) return;
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(uint16_t(port));
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0;
  }
  ~RawClient() { ::close(fd_); }
  RawClient(const RawClient&) = delete;
  RawClient& operator=(const RawClient&) = delete;

  bool connected() const { return connected_; }

  // Sends everything or stops at the first error (the server closed): the bytes sent.
  size_t send(std::string_view data) {
    size_t sent = 0;
    while (sent < data.size()) {
      const ssize_t n = ::send(fd_, data.data() + sent, data.size() - sent, MSG_NOSIGNAL);
      if (n <= 0) break;
      sent += size_t(n);
    }
    return sent;
  }

  // Reads until the server closes, a whole response (head and Content-Length body) arrived,
  // or patience runs out.
  std::string response(std::chrono::milliseconds patience = 10s) {
    std::string data;
    const auto deadline = std::chrono::steady_clock::now() + patience;
    char buffer[8192];
    while (!complete(data)) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) break;
      pollfd entry{fd_, POLLIN, 0};
      if (::poll(&entry, 1, int(left.count())) <= 0) break;
      const ssize_t n = ::recv(fd_, buffer, sizeof buffer, 0);
      if (n <= 0) break;
      data.append(buffer, size_t(n));
    }
    return data;
  }

 private:
  static bool complete(const std::string& data) {
    const size_t head_end = data.find("\r\n\r\n");
    if (head_end == std::string::npos) return false;
    std::smatch match;
    const std::string head = data.substr(0, head_end);
    if (!std::regex_search(head, match, std::regex("Content-Length: (\\d+)", std::regex::icase))) {
      return true;
    }
    return data.size() >= head_end + 4 + std::stoul(match[1]);
  }

  int fd_ = -1;
  bool connected_ = false;
};

std::string status_line(const std::string& response) {
  return response.substr(0, response.find("\r\n"));
}

// The body in chunks of `size`, as Transfer-Encoding: chunked sends it.
std::string chunked(std::string_view body, size_t size) {
  std::string out;
  for (size_t at = 0; at < body.size(); at += size) {
    const std::string_view chunk = body.substr(at, size);
    out += fmt::format("{:x}\r\n", chunk.size());
    out += chunk;
    out += "\r\n";
  }
  return out + "0\r\n\r\n";
}

int64_t peak_memory_kib(pid_t pid) {
  std::ifstream status(fmt::format("/proc/{}/status", pid));
  for (std::string line; std::getline(status, line);) {
    if (line.rfind("VmHWM:", 0) == 0) return std::stoll(line.substr(6));
  }
  return -1;
}

class ServeAbuse : public Serve {};

TEST_P(ServeAbuse, BodyLimitsHoldHoweverTheBodyArrives) {
  ASSERT_NO_FATAL_FAILURE(start_server());
  const auto before = snapshot();
  const int port = process->port();
  std::string body = request_body(
      {{std::string(kSubscriptionChanged), {subscription_change(10, "email", "unsubscribed")}}});
  body.insert(body.size() - 1, ",\"padding\":\"" + std::string(200'000, 'x') + "\"");
  const std::string signature = server::webhook_signature(body, kSecret);
  const std::string head =
      "POST /mautic/webhook HTTP/1.1\r\nHost: 127.0.0.1\r\n"
      "Content-Type: application/json\r\n";

  // Signed, 200 KB, chunked (no Content-Length to check up front): refused once the body
  // passes max_body_bytes, with that limit in the answer.
  {
    RawClient raw(port);
    raw.send(head + "Webhook-Signature: " + signature + "\r\nTransfer-Encoding: chunked\r\n\r\n" +
             chunked(body, 8192));
    const std::string answer = raw.response();
    EXPECT_EQ(status_line(answer), "HTTP/1.1 413 Payload Too Large") << answer;
    EXPECT_NE(answer.find("[server] max_body_bytes (65536 bytes)"), std::string::npos) << answer;
  }
  // Unsigned and chunked: answered 401 after the head and one chunk, before the rest is sent;
  // the rest is not read (the connection closes long before 64 MB got through).
  {
    RawClient raw(port);
    raw.send(head + "Transfer-Encoding: chunked\r\n\r\n" + fmt::format("{:x}\r\n", 8192) +
             std::string(8192, 'x') + "\r\n");
    const std::string answer = raw.response(5s);
    EXPECT_EQ(status_line(answer), "HTTP/1.1 401 Unauthorized") << answer;
    EXPECT_NE(answer.find("missing Webhook-Signature"), std::string::npos) << answer;
    EXPECT_NE(answer.find("Connection: close"), std::string::npos) << answer;
    const std::string megabyte =
        fmt::format("{:x}\r\n", 1 << 20) + std::string(1 << 20, 'x') + "\r\n";
    size_t sent = 0;
    for (int i = 0; i < 64; ++i) {
      const size_t now = raw.send(megabyte);
      sent += now;
      if (now < megabyte.size()) break;
    }
    EXPECT_LT(sent, size_t(64) << 20);
  }
  // A declared length: refused from the head alone, signed or not.
  for (const bool signed_request : {false, true}) {
    RawClient raw(port);
    raw.send(head + (signed_request ? "Webhook-Signature: " + signature + "\r\n" : "") +
             "Content-Length: 300000000\r\n\r\n");
    const std::string answer = raw.response(5s);
    EXPECT_EQ(status_line(answer), "HTTP/1.1 413 Payload Too Large") << answer;
  }
  // Expect: 100-continue: the same answer instead of "100 Continue", before the body.
  {
    RawClient raw(port);
    raw.send(head + "Webhook-Signature: " + signature +
             "\r\nContent-Length: 10000000\r\nExpect: 100-continue\r\n\r\n");
    const std::string answer = raw.response(5s);
    EXPECT_EQ(status_line(answer), "HTTP/1.1 413 Payload Too Large") << answer;
  }
  // A compressed body (a small zip can inflate past any limit): 415.
  {
    RawClient raw(port);
    raw.send(head + "Webhook-Signature: " + signature +
             "\r\nContent-Encoding: gzip\r\nContent-Length: 10\r\n\r\n0123456789");
    EXPECT_EQ(status_line(raw.response(5s)), "HTTP/1.1 415 Unsupported Media Type");
  }
  // A body to an address that takes none: 404 without reading it; a chunk size beyond any
  // number: refused.
  {
    RawClient raw(port);
    raw.send("POST /anything HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n" +
             fmt::format("{:x}\r\n", 1 << 20));
    EXPECT_EQ(status_line(raw.response(5s)), "HTTP/1.1 404 Not Found");
    RawClient huge_chunk(port);
    huge_chunk.send(head + "Webhook-Signature: " + signature +
                    "\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffffff\r\nxx");
    const std::string refused = status_line(huge_chunk.response(5s));
    EXPECT_TRUE(refused == "HTTP/1.1 400 Bad Request" ||
                refused == "HTTP/1.1 413 Payload Too Large")
        << refused;
  }
  // A contact id of 19 digits: no overflow, just a bad event.
  {
    auto event = subscription_change(10, "email", "unsubscribed");
    event["contact"]["id"] = "9999999999999999999";
    auto answer = post_signed(request_body({{std::string(kSubscriptionChanged), {event}}}));
    ASSERT_TRUE(answer);
    EXPECT_EQ(answer->status, 400);
    EXPECT_NE(answer->body.find("has no contact.id"), std::string::npos) << answer->body;
  }
  // 100,000 nested arrays, signed and under the limit: 400, and the server lives on.
  {
    const std::string deep = "{\"mautic.lead_post_save_new\": [{\"contact\": {\"id\": 1}, \"x\": " +
                             std::string(30'000, '[') + std::string(30'000, ']') + "}]}";
    auto answer = post_signed(deep);
    ASSERT_TRUE(answer);
    EXPECT_EQ(answer->status, 400);
    EXPECT_NE(answer->body.find("deeper than 512 levels"), std::string::npos) << answer->body;
  }

  EXPECT_EQ(before, snapshot());
  // Nothing of the 64 MB was held: the server's peak memory stays small.
  EXPECT_LT(peak_memory_kib(process->pid()), 100 * 1024);
  auto good = post_signed(request_body(
      {{std::string(kSubscriptionChanged), {subscription_change(10, "email", "unsubscribed")}}}));
  ASSERT_TRUE(good);
  EXPECT_EQ(good->status, 200) << good->body;
  EXPECT_EQ(process->stop(), 0);
}

TEST_P(ServeAbuse, EachLimitIsQuotedWhereItApplies) {
  ASSERT_NO_FATAL_FAILURE(start_server());
  auto form = client->Get("/login");
  ASSERT_TRUE(form);
  // An 8 KB login form: the form limit, not the webhook's.
  auto big_form = client->Post("/login", "csrf=x&user=alice&password=" + std::string(9000, 'p'),
                               "application/x-www-form-urlencoded");
  ASSERT_TRUE(big_form);
  EXPECT_EQ(big_form->status, 413);
  EXPECT_NE(big_form->body.find("the limit for a form (8192 bytes)"), std::string::npos)
      << big_form->body;
  EXPECT_EQ(big_form->body.find("65536"), std::string::npos) << big_form->body;
  EXPECT_EQ(big_form->body.find("pppp"), std::string::npos);
  std::string body = request_body(
      {{std::string(kSubscriptionChanged), {subscription_change(10, "email", "unsubscribed")}}});
  body.insert(body.size() - 1, ",\"padding\":\"" + std::string(70'000, 'x') + "\"");
  auto big_hook = post_signed(body);
  ASSERT_TRUE(big_hook);
  EXPECT_EQ(big_hook->status, 413);
  EXPECT_NE(big_hook->body.find("[server] max_body_bytes (65536 bytes)"), std::string::npos)
      << big_hook->body;
}

TEST_P(ServeAbuse, SlowClientsCannotStarveThePool) {
  write_server_config("",
                      "threads = 4\nmax_connections_per_client = 2\nread_timeout_seconds = 4\n");
  ASSERT_NO_FATAL_FAILURE(start_server());
  const int port = process->port();
  const std::string slow_head = "POST /mautic/webhook HTTP/1.1\r\nHost: x\r\nContent-Type: ";
  // Two connections from 127.0.0.2 that stop in the middle of their head hold their threads,
  // until the read deadline; a third from the same address waits a second for a slot, and is
  // refused.
  std::vector<std::unique_ptr<RawClient>> slow;
  for (int i = 0; i < 2; ++i) {
    slow.push_back(std::make_unique<RawClient>(port, "127.0.0.2"));
    ASSERT_TRUE(slow.back()->connected());
    slow.back()->send(slow_head);
  }
  std::this_thread::sleep_for(300ms);  // both are being read now
  RawClient third(port, "127.0.0.2");
  const std::string refused = third.response(5s);
  EXPECT_EQ(status_line(refused), "HTTP/1.1 503 Service Unavailable") << refused;
  EXPECT_NE(refused.find("max_connections_per_client"), std::string::npos) << refused;
  // Everyone else is served meanwhile: the health check and Mautic's webhook.
  auto health = client->Get("/healthz");
  ASSERT_TRUE(health);
  EXPECT_EQ(health->status, 200);
  auto hook = post_signed(request_body(
      {{std::string(kSubscriptionChanged), {subscription_change(10, "email", "unsubscribed")}}}));
  ASSERT_TRUE(hook);
  EXPECT_EQ(hook->status, 200);
  // ... before the stalled ones were let go: they are still waiting for an answer.
  for (auto& connection : slow) EXPECT_EQ(connection->response(0ms), "");
  // They get 408 once read_timeout_seconds (4) have passed since their first byte.
  for (auto& connection : slow) {
    const std::string answer = connection->response(10s);
    EXPECT_EQ(status_line(answer), "HTTP/1.1 408 Request Timeout") << answer;
    EXPECT_NE(answer.find("read_timeout_seconds (4 s)"), std::string::npos) << answer;
  }
  // A client that sends one byte every 300 ms (each read alone is quick) is cut off as well.
  RawClient trickle(port, "127.0.0.3");
  const std::string head =
      "POST /mautic/webhook HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Padding: " + std::string(100, 'p');
  const auto trickle_start = std::chrono::steady_clock::now();
  for (char byte : head) {
    if (trickle.send(std::string_view(&byte, 1)) != 1) break;
    std::this_thread::sleep_for(300ms);
    if (std::chrono::steady_clock::now() - trickle_start > 15s) break;
  }
  // Cut off after 4 s and the 2 s in which the server drains what still comes.
  EXPECT_LT(std::chrono::steady_clock::now() - trickle_start, 10s);
  EXPECT_EQ(status_line(trickle.response(2s)), "HTTP/1.1 408 Request Timeout");

  auto metrics = client->Get("/metrics");
  ASSERT_TRUE(metrics);
  EXPECT_NE(metrics->body.find("mgdpr_connections_refused_total 1\n"), std::string::npos)
      << metrics->body;
  EXPECT_NE(metrics->body.find("mgdpr_requests_timed_out_total 3\n"), std::string::npos)
      << metrics->body;
  EXPECT_EQ(process->stop(), 0);
  for (const char* client_address : {"127.0.0.2", "127.0.0.3"}) {
    EXPECT_EQ(process->log().find(client_address), std::string::npos) << "a client is logged";
  }
}

TEST_P(ServeAbuse, XRealIpIsBelievedOnlyFromTrustedProxies) {
  write_server_config("behind_proxy = true\ntrusted_proxies = [\"127.0.0.2\"]\n");
  ASSERT_NO_FATAL_FAILURE(start_server());
  auto form = client->Get("/login");
  ASSERT_TRUE(form);
  const std::string cookie = "mgdpr_login=" + cookie_value_of(set_cookies(form)["mgdpr_login"]);
  const std::string form_body = "csrf=" + csrf_in(form->body) + "&user=alice&password=guess";
  auto attempt = [&](const char* source, const std::string& real_ip) {
    RawClient raw(process->port(), source);
    raw.send(fmt::format(
        "POST /login HTTP/1.1\r\nHost: x\r\nConnection: close\r\nCookie: {}\r\n{}"
        "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n{}",
        cookie, real_ip.empty() ? "" : "X-Real-IP: " + real_ip + "\r\n", form_body.size(),
        form_body));
    return status_line(raw.response());
  };
  // login_attempts_per_hour = 6. A direct client that names another address in every attempt
  // still counts as itself.
  for (int i = 0; i < 6; ++i) {
    EXPECT_EQ(attempt("127.0.0.1", fmt::format("198.51.100.{}", i)), "HTTP/1.1 401 Unauthorized");
  }
  EXPECT_EQ(attempt("127.0.0.1", "198.51.100.99"), "HTTP/1.1 429 Too Many Requests");
  // The proxy names its clients: each has its own limit. A value that is no address is ignored
  // (the proxy's own address counts).
  for (int i = 0; i < 6; ++i) {
    EXPECT_EQ(attempt("127.0.0.2", "192.0.2.1"), "HTTP/1.1 401 Unauthorized");
  }
  EXPECT_EQ(attempt("127.0.0.2", "192.0.2.1"), "HTTP/1.1 429 Too Many Requests");
  EXPECT_EQ(attempt("127.0.0.2", "192.0.2.2"), "HTTP/1.1 401 Unauthorized");
  EXPECT_EQ(attempt("127.0.0.2", "not an address"), "HTTP/1.1 401 Unauthorized");
  EXPECT_EQ(process->stop(), 0);
}

TEST_P(ServeAbuse, HealthzNamesNothingAboutTheDatabase) {
  ASSERT_NO_FATAL_FAILURE(start_server());
  auto healthy = client->Get("/healthz");
  ASSERT_TRUE(healthy);
  EXPECT_EQ(healthy->status, 200);
  // Cut the server's database connections: its next check fails.
  auto ids = connection->query(
      "SELECT ID FROM information_schema.PROCESSLIST WHERE DB = ? AND ID <> CONNECTION_ID()",
      {database});
  ASSERT_TRUE(ids.ok());
  ASSERT_FALSE(ids->rows.empty());
  for (const auto& row : ids->rows) (void)connection->execute("KILL " + *row[0]);
  auto sick = client->Get("/healthz");
  ASSERT_TRUE(sick);
  EXPECT_EQ(sick->status, 503);
  EXPECT_EQ(sick->body, "database unreachable\n");
  // The details are in the log, for the admin.
  EXPECT_TRUE(process->wait_for_log("path=/healthz status=503", 5s)) << process->log();
  EXPECT_EQ(client->Get("/healthz")->status, 200);  // a new connection
  EXPECT_EQ(process->stop(), 0);
}

INSTANTIATE_TEST_SUITE_P(NoPrefix, ServeAbuse, ::testing::Values(""), prefix_name);

// The row lock that serializes a webhook and a sweep reaching the same contact: while another
// connection holds the contact's row (a sweep in its batch), the webhook waits; the other
// records the contact and commits; the webhook then finds it processed. One record, answer 200.
class ServeConcurrency : public Serve {};

TEST_P(ServeConcurrency, AWebhookWaitsForTheRowLockAndFindsTheContactDone) {
  ASSERT_NO_FATAL_FAILURE(start_server());
  const int64_t contact = 33;
  mautic_unsubscribes(contact);
  RowHolder sweep;
  ASSERT_NO_FATAL_FAILURE(hold_row_of(contact, sweep));

  auto answer = std::async(std::launch::async, [&] {
    return post_signed(request_body({{std::string(kSubscriptionChanged),
                                      {subscription_change(contact, "email", "unsubscribed")}}}));
  });
  // The webhook's transaction waits for the lock ...
  ASSERT_TRUE(a_transaction_waits_for_a_lock())
      << "the webhook never waited for the contact's row lock";
  EXPECT_EQ(answer.wait_for(0s), std::future_status::timeout);
  // ... while the other records the contact, as a sweep would, and commits.
  ASSERT_TRUE(sweep.connection
                  ->execute(fmt::format("INSERT INTO {} (contact_id, processed_at, reason, "
                                        "channel, policy_fingerprint, source) VALUES (?, "
                                        "UTC_TIMESTAMP(6), 'unsubscribed', 'email', ?, 'sweep')",
                                        quoted("gdpr_contacts")),
                            {contact, std::string(64, '0')})
                  .ok());
  ASSERT_TRUE(sweep.transaction->commit().ok());

  const auto response = answer.get();
  ASSERT_TRUE(response) << httplib::to_string(response.error());
  EXPECT_EQ(response->status, 200) << response->body;
  const auto json = nlohmann::json::parse(response->body);
  EXPECT_EQ(json["processed"], nlohmann::json::array());
  EXPECT_EQ(json["not_pending"], nlohmann::json::array({contact}));
  EXPECT_EQ(cell(*connection, fmt::format("SELECT GROUP_CONCAT(source) FROM {} WHERE "
                                          "contact_id = {}",
                                          quoted("gdpr_contacts"), contact)),
            "sweep");
  EXPECT_EQ(process->stop(), 0);
}

INSTANTIATE_TEST_SUITE_P(NoPrefix, ServeConcurrency, ::testing::Values(""), prefix_name);

// serve killed with SIGKILL in the middle of a webhook that names 12 pending contacts: the
// chunks committed before stay, the one in flight is rolled back whole, and the next sweep
// completes the work.
class ServeKilled : public Serve {};

TEST_P(ServeKilled, AWebhookKilledMidwayLosesNothing) {
  // Chunks of 5 contacts, each its own transaction.
  std::ofstream(config_path, std::ios::app) << "\n[sweep]\nbatch_size = 5\n";
  ASSERT_NO_FATAL_FAILURE(start_server());
  std::vector<nlohmann::json> changes;
  std::vector<int64_t> targets;
  // 12 contacts (Mautic's example event is a whole contact: 12 fit in max_body_bytes).
  for (int64_t id = 1; id <= contact_set.contacts && targets.size() < 12; ++id) {
    const int reason = dnc_reason_for(id, contact_set);
    if (reason != 1 && reason != 2) continue;
    targets.push_back(id);
    changes.push_back(subscription_change(id, "email", reason == 1 ? "unsubscribed" : "bounced"));
  }
  ASSERT_EQ(targets.size(), 12u);
  // Mautic holds the last contact's row: the webhook's last chunk waits for it.
  RowHolder mautic;
  ASSERT_NO_FATAL_FAILURE(hold_row_of(targets.back(), mautic));
  auto answer = std::async(std::launch::async, [&] {
    return post_signed(request_body({{std::string(kSubscriptionChanged), changes}}));
  });
  if (!a_transaction_waits_for_a_lock()) {
    const auto response = answer.get();
    FAIL() << "the webhook never reached the locked contact: "
           << (response ? response->body : httplib::to_string(response.error()));
  }
  process->signal(SIGKILL);
  EXPECT_FALSE(answer.get()) << "a killed server cannot answer";
  ASSERT_TRUE(mautic.transaction->commit().ok());

  // Every contact is fully processed or untouched.
  const auto key = load_key(config_path);
  int64_t processed = 0;
  for (int64_t id : targets) {
    const bool recorded =
        cell(*connection, fmt::format("SELECT COUNT(*) FROM {} WHERE contact_id = {}",
                                      quoted("gdpr_contacts"), id)) == "1";
    const std::string email =
        cell(*connection, fmt::format("SELECT email FROM {} WHERE id = {}", quoted("leads"), id));
    const std::string firstname = cell(
        *connection, fmt::format("SELECT firstname FROM {} WHERE id = {}", quoted("leads"), id));
    if (recorded) {
      ++processed;
      EXPECT_EQ(email,
                key.hmac_hex(normalize(ValueKind::kEmail, synthetic_email(id, contact_set.seed))))
          << id;
      EXPECT_EQ(firstname, "NULL") << id;
    } else {
      EXPECT_EQ(email, synthetic_email(id, contact_set.seed)) << id;
      EXPECT_EQ(firstname, synthetic_firstname(id)) << id;
    }
  }
  EXPECT_GT(processed, 0);
  EXPECT_LT(processed, int64_t(targets.size()));
  auto sweep = tool({"sweep", "--json"});
  ASSERT_EQ(sweep.exit_code, 0) << sweep.err;
  int64_t pending = 0;
  for (int64_t id = 1; id <= contact_set.contacts; ++id) {
    const int reason = dnc_reason_for(id, contact_set);
    pending += reason == 1 || reason == 2;
  }
  EXPECT_EQ(nlohmann::json::parse(sweep.out)["processed"], pending - processed);
  EXPECT_EQ(tool({"verify"}).exit_code, 0);
}

INSTANTIATE_TEST_SUITE_P(NoPrefix, ServeKilled, ::testing::Values(""), prefix_name);

}  // namespace
}  // namespace mgdpr::testing
