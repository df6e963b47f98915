// SPDX-License-Identifier: GPL-3.0-or-later
#include "server/service.h"

#include <httplib.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <pthread.h>
#include <signal.h>
#include <sys/stat.h>

#include <atomic>
#include <cstdlib>
#include <thread>
#include <tuple>

#include "app/export_document.h"
#include "app/secrets.h"
#include "app/session.h"
#include "core/json.h"
#include "core/normalize.h"
#include "server/auth.h"
#include "server/connections.h"
#include "server/log.h"
#include "server/metrics.h"
#include "server/pages.h"
#include "server/pool.h"
#include "server/stats.h"
#include "server/webhook.h"

namespace mgdpr::server {

namespace {

// The engine for one request, on its leased connection; `actor` signs its audit rows.
mautic::Engine engine_on(db::Connection& connection, const app::Session& shared,
                         std::string actor) {
  return mautic::Engine(connection, shared.config, shared.schema, shared.policy, shared.related,
                        *shared.keys, std::move(actor));
}

constexpr std::string_view kSessionCookie = "mgdpr_session";
constexpr std::string_view kLoginCookie = "mgdpr_login";
constexpr auto kSessionLifetime = std::chrono::hours(12);
constexpr int kChartDays = 30;
constexpr auto kNumbersTtl = std::chrono::seconds(10);
// How often a webhook re-checks that Mautic's schema is still the one the policy was resolved
// against (a new custom field or form must not be missed): a 2-5 ms query, so at most once a
// second under load.
constexpr auto kSchemaCheckEvery = std::chrono::seconds(1);
// The pages' forms (login, logout, lookup) are a few hundred bytes.
constexpr size_t kFormBodyBytes = 8 * 1024;

constexpr std::string_view kContentSecurityPolicy =
    "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'";

// One log line per request, written by the logger once the response is out; handlers add their
// details (never a value) here. Each request runs on one thread from start to end.
thread_local Clock::time_point t_started{};
thread_local std::string t_log_details;

void begin_request_log() {
  t_started = Clock::now();
  t_log_details.clear();
}

void add_log_detail(std::string_view key, std::string_view value) {
  t_log_details += fmt::format(" {}={}", key, log_value(value));
}
void add_log_detail(std::string_view key, int64_t value) {
  t_log_details += fmt::format(" {}={}", key, value);
}

std::string json_text(const nlohmann::json& json) {
  // Replace, not throw, should a message ever hold invalid UTF-8.
  return json.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

// The paths this server knows; any other path is logged as "other" (a path could carry
// anything a client typed).
std::string route_label(const std::string& path) {
  for (std::string_view known :
       {"/", "/mautic/webhook", "/login", "/logout", "/lookup", "/status", "/metrics", "/healthz",
        "/static/style.css", "/favicon.ico", "/export", "/erase", "/audit"}) {
    if (path == known) return path;
  }
  return "other";
}

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string url_decode(std::string_view text) {
  std::string decoded;
  decoded.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '+') {
      decoded += ' ';
    } else if (text[i] == '%' && i + 2 < text.size() && hex_digit(text[i + 1]) >= 0 &&
               hex_digit(text[i + 2]) >= 0) {
      decoded += char(hex_digit(text[i + 1]) * 16 + hex_digit(text[i + 2]));
      i += 2;
    } else {
      decoded += text[i];
    }
  }
  return decoded;
}

// An application/x-www-form-urlencoded body. Only the body is read, never the query string:
// a value must not travel in a URL.
std::map<std::string, std::string> parse_form(std::string_view body) {
  std::map<std::string, std::string> form;
  while (!body.empty()) {
    const size_t end = std::min(body.find('&'), body.size());
    const std::string_view pair = body.substr(0, end);
    const size_t equals = pair.find('=');
    if (equals != std::string_view::npos) {
      form.emplace(url_decode(pair.substr(0, equals)), url_decode(pair.substr(equals + 1)));
    }
    body.remove_prefix(std::min(end + 1, body.size()));
  }
  return form;
}

std::string form_value(const std::map<std::string, std::string>& form, const std::string& key) {
  auto found = form.find(key);
  return found == form.end() ? std::string() : found->second;
}

std::optional<std::string> cookie_value(const httplib::Request& request, std::string_view name) {
  const std::string header = request.get_header_value("Cookie");
  std::string_view rest = header;
  while (!rest.empty()) {
    const size_t end = std::min(rest.find(';'), rest.size());
    std::string_view pair = rest.substr(0, end);
    while (!pair.empty() && pair.front() == ' ') pair.remove_prefix(1);
    const size_t equals = pair.find('=');
    if (equals != std::string_view::npos && pair.substr(0, equals) == name) {
      return std::string(pair.substr(equals + 1));
    }
    rest.remove_prefix(std::min(end + 1, rest.size()));
  }
  return std::nullopt;
}

// How much body an address takes, and how the 413 answer names that limit.
struct BodyLimit {
  size_t bytes = 0;
  std::string_view name;
};

// A Content-Length header: its value, nothing when absent, or an error when it is no number.
Result<std::optional<uint64_t>> declared_length(const httplib::Request& request) {
  if (!request.has_header("Content-Length")) return std::optional<uint64_t>();
  auto length = decimal_int64(request.get_header_value("Content-Length"));
  if (!length) return make_error("the Content-Length header is not a number");
  return std::optional<uint64_t>(uint64_t(*length));
}

void redirect(httplib::Response& response, const std::string& location) {
  response.status = 303;
  response.set_header("Location", location);
}

void send_html(httplib::Response& response, int status, const std::string& html) {
  response.status = status;
  response.set_content(html, "text/html; charset=utf-8");
}

void send_json(httplib::Response& response, int status, const nlohmann::json& json) {
  response.status = status;
  response.set_content(json_text(json), "application/json");
}

// The webhook secret from [server] secret_file (first line) or secret_env.
Result<std::string> load_webhook_secret(const Config& config) {
  const ServerConfig& server = config.server;
  auto secret = app::load_secret(
      config, {server.secret_env, "server.secret_env", server.secret_file, "server.secret_file",
               "webhook secret Mautic shows for the webhook", "secret file"});
  if (!secret) return secret.error();
  if (!secret->has_value()) {
    return make_error(
        ErrorKind::kConfig,
        "{}: [server] has no webhook secret; Mautic signs every webhook with the secret shown "
        "in its webhook form, and unsigned requests are refused. Write secret_file = "
        "\"/etc/mautic-gdpr/webhook-secret\" (a file holding it) or secret_env = "
        "\"MAUTIC_WEBHOOK_SECRET\"",
        config.path);
  }
  if ((*secret)->empty()) {
    return make_error(
        ErrorKind::kConfig, "{}: the webhook secret is empty",
        config.where(server.secret_env.empty() ? "server.secret_file" : "server.secret_env"));
  }
  return std::move(**secret);
}

// Changes whenever a table or column of the database is added, dropped or altered.
Result<std::string> schema_fingerprint(db::Connection& connection) {
  auto rows = connection.query(
      "SELECT COUNT(*), COALESCE(SUM(CRC32(CONCAT_WS('.', TABLE_NAME, COLUMN_NAME, COLUMN_TYPE, "
      "IS_NULLABLE))), 0) FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE()",
      {});
  if (!rows) return rows.error();
  if (rows->rows.empty()) return std::string();
  return rows->rows[0][0].value_or("") + ":" + rows->rows[0][1].value_or("");
}

// Blocks the stop signals and SIGHUP in every thread (threads inherit the mask): one thread
// waits for them with sigwait, stops the server or reloads; SIGUSR1 wakes it when the server
// ended for another reason.
class StopSignals {
 public:
  StopSignals() {
    sigemptyset(&set_);
    sigaddset(&set_, SIGTERM);
    sigaddset(&set_, SIGINT);
    sigaddset(&set_, SIGUSR1);
    sigaddset(&set_, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &set_, nullptr);
    ::signal(SIGPIPE, SIG_IGN);  // a client that went away must not end the process
  }
  int wait() const {
    int signal = 0;
    sigwait(&set_, &signal);
    return signal;
  }

 private:
  sigset_t set_;
};

class Service {
 public:
  Service(Config config, KeyRing keys, std::string secret, std::unique_ptr<app::Session> session,
          std::string fingerprint)
      : config_(std::move(config)),
        keys_(std::move(keys)),
        secret_(std::move(secret)),
        pool_(size_t(config_.server.threads), [this]() { return app::connect(config_); }),
        users_(std::make_shared<const Users>(config_.server.users)),
        sessions_(std::chrono::minutes(config_.server.session_minutes),
                  std::chrono::duration_cast<std::chrono::minutes>(kSessionLifetime)),
        login_limiter_(config_.server.login_attempts_per_hour, std::chrono::hours(1)),
        lookup_limiter_(config_.server.lookups_per_hour, std::chrono::hours(1)),
        router_(default_router()),
        schema_fingerprint_(std::move(fingerprint)),
        schema_checked_at_(Clock::now()) {
    adopt(std::move(session));
    secure_cookies_ = tls() || config_.server.behind_proxy;
  }

  Status listen_and_serve(const StopSignals& signals);

 private:
  bool tls() const { return !config_.server.tls_cert_file.empty(); }
  std::shared_ptr<const app::Session> session() {
    std::lock_guard lock(session_mutex_);
    return session_;
  }
  std::shared_ptr<const Users> users() {
    std::lock_guard lock(session_mutex_);
    return users_;
  }
  // SIGHUP: reads the config file again and takes its users and everything the session holds
  // (policy, trigger, related, guard); requests in flight finish with what they started with.
  void reload();
  void adopt(std::unique_ptr<app::Session> session);
  Result<std::shared_ptr<const app::Session>> session_for_webhook(db::Connection& connection);
  void install_routes(httplib::Server& http);
  std::optional<BodyLimit> body_limit_for(const std::string& path) const;
  std::string error_message(const httplib::Request& request, int status) const;
  // Answers a request whose body must not be read (too large, unsigned, not a kind this
  // address takes) before a byte of it is: nothing when it may be read.
  std::optional<int> refuse_before_body(const httplib::Request& request,
                                        httplib::Response& response);

  // Handlers. Those of POST routes get the body, read within its limit.
  void webhook(const httplib::Request& request, const std::string& body,
               httplib::Response& response);
  void login_form(const httplib::Request& request, httplib::Response& response);
  void login(const httplib::Request& request, const std::string& body, httplib::Response& response);
  void logout(const httplib::Request& request, const std::string& body,
              httplib::Response& response);
  void lookup_form(const httplib::Request& request, httplib::Response& response);
  void lookup(const httplib::Request& request, const std::string& body,
              httplib::Response& response);
  void status(const httplib::Request& request, httplib::Response& response);
  void export_person(const httplib::Request& request, const std::string& body,
                     httplib::Response& response);
  void erase_person(const httplib::Request& request, const std::string& body,
                    httplib::Response& response);
  void audit(const httplib::Request& request, httplib::Response& response);
  void metrics(const httplib::Request& request, httplib::Response& response);
  void healthz(const httplib::Request& request, httplib::Response& response);

  // Helpers of the pages.
  std::string client_of(const httplib::Request& request) const;
  std::string cookie(std::string_view name, std::string_view value, bool remove = false) const;
  // The page session of the request; redirects to /login (and returns nothing) without one.
  std::optional<std::pair<std::string, WebSession>> require_login(const httplib::Request& request,
                                                                  httplib::Response& response);
  void show_login(httplib::Response& response, int status, std::string_view message);
  LookupView lookup_view(const app::Session& session, const std::string& user);
  PageUser page_user(const WebSession& session) const;
  // An export or erase form: logged in, with the role, the session's token, and a contact the
  // session's last lookup found. Answers the request itself (and returns nothing) otherwise.
  struct PersonForm {
    PageUser user;
    int64_t contact_id = 0;
    std::map<std::string, std::string> form;
  };
  std::optional<PersonForm> person_form(const httplib::Request& request, const std::string& body,
                                        httplib::Response& response, Role role);
  // Counts one export or erasure of the user against [server] lookups_per_hour; answers 429 on
  // the page (and returns false) when the user is at the limit.
  bool within_limit(const PageUser& user, std::string_view what, httplib::Response& response);
  std::pair<std::optional<DatabaseNumbers>, std::string> database_numbers();

  Config config_;
  KeyRing keys_;
  std::string secret_;
  ConnectionPool pool_;
  std::shared_ptr<const Users> users_;  // replaced by a reload (SIGHUP)
  SessionStore sessions_;
  RateLimiter login_limiter_;
  RateLimiter lookup_limiter_;
  WebhookRouter router_;
  Metrics metrics_;
  bool secure_cookies_ = false;

  std::mutex session_mutex_;
  std::shared_ptr<const app::Session> session_;
  std::string schema_fingerprint_;
  Clock::time_point schema_checked_at_;
  std::mutex reload_mutex_;

  std::mutex numbers_mutex_;
  std::optional<DatabaseNumbers> numbers_;
  std::string numbers_error_;
  Clock::time_point numbers_at_{};
};

// The session's config, schema, policy and key are shared read-only by every request; its
// connection joins the pool and its engine goes (each request builds its own).
void Service::adopt(std::unique_ptr<app::Session> session) {
  session->engine.reset();
  pool_.add(std::move(session->connection));
  std::lock_guard lock(session_mutex_);
  session_ = std::shared_ptr<const app::Session>(std::move(session));
}

Result<std::shared_ptr<const app::Session>> Service::session_for_webhook(
    db::Connection& connection) {
  {
    std::lock_guard lock(session_mutex_);
    if (Clock::now() - schema_checked_at_ < kSchemaCheckEvery) return session_;
  }
  std::lock_guard reload_lock(reload_mutex_);
  {
    // Another request may have checked while this one waited for the lock.
    std::lock_guard lock(session_mutex_);
    if (Clock::now() - schema_checked_at_ < kSchemaCheckEvery) return session_;
  }
  auto fingerprint = schema_fingerprint(connection);
  if (!fingerprint) return fingerprint.error();
  {
    std::lock_guard lock(session_mutex_);
    schema_checked_at_ = Clock::now();
    if (*fingerprint == schema_fingerprint_) return session_;
  }
  auto reopened = app::open_session(config_, keys_, app::Access::kWrite, "serve");
  if (!reopened) return reopened.error();
  LogLine("schema_changed").add("action", "policy resolved again").info();
  adopt(std::move(*reopened));
  std::lock_guard lock(session_mutex_);
  schema_fingerprint_ = *fingerprint;
  return session_;
}

std::string Service::client_of(const httplib::Request& request) const {
  // Behind a proxy every request comes from it, and it names the client in X-Real-IP; from
  // anyone else that header is whatever they like, and ignored.
  const auto peer = parse_ip_address(request.remote_addr);
  if (!peer) return request.remote_addr;
  if (in_any_range(*peer, config_.server.trusted_proxies)) {
    if (auto real = parse_ip_address(request.get_header_value("X-Real-IP"))) {
      return real->to_string();
    }
  }
  return peer->to_string();
}

std::string Service::cookie(std::string_view name, std::string_view value, bool remove) const {
  return fmt::format("{}={}; Path=/; HttpOnly; SameSite=Strict{}{}", name, value,
                     secure_cookies_ ? "; Secure" : "", remove ? "; Max-Age=0" : "");
}

std::optional<std::pair<std::string, WebSession>> Service::require_login(
    const httplib::Request& request, httplib::Response& response) {
  if (auto id = cookie_value(request, kSessionCookie)) {
    if (auto session = sessions_.find(*id)) {
      add_log_detail("user", session->user);
      return std::make_pair(*id, *session);
    }
  }
  redirect(response, "/login");
  return std::nullopt;
}

void Service::show_login(httplib::Response& response, int status, std::string_view message) {
  // Login CSRF: the form carries the same random token as a cookie only this site can set.
  const std::string token = random_token();
  response.set_header("Set-Cookie", cookie(kLoginCookie, token));
  send_html(response, status,
            login_page(token, users()->empty() && message.empty()
                                  ? "No users are configured: add them under [server.users] "
                                    "(mautic-gdpr passwd --user NAME prints the line)."
                                  : message));
}

void Service::webhook(const httplib::Request& request, const std::string& body,
                      httplib::Response& response) {
  auto answer = [&](int status, const nlohmann::json& json) {
    metrics_.webhook_request(status);
    send_json(response, status, json);
  };
  // A request without a signature was answered before its body was read (refuse_before_body).
  const std::string signature = request.get_header_value(std::string(kSignatureHeader));
  if (!signature_matches(body, signature, secret_)) {
    add_log_detail("problem", "wrong signature");
    return answer(401, {{"error",
                         "the Webhook-Signature does not match the body: the secret in "
                         "[server] must be the one Mautic shows for this webhook"}});
  }
  auto batch = parse_webhook(body);
  if (!batch) {
    add_log_detail("problem", batch.error().message);
    return answer(400, {{"error", batch.error().message}});
  }
  if (auto valid = router_.validate(*batch); !valid) {
    add_log_detail("problem", valid.error().message);
    return answer(400, {{"error", valid.error().message}});
  }

  auto failed = [&](const Error& error) {
    metrics_.error("webhook", error.message);
    add_log_detail("problem", error.message);
    answer(503, {{"error", error.message + "; the next sweep will process these contacts"}});
  };
  auto lease = pool_.acquire();
  if (!lease) return failed(lease.error());
  auto session = session_for_webhook(**lease);
  if (!session) {
    lease->discard();
    return failed(session.error());
  }
  const app::Session& shared = **session;
  mautic::Engine engine = engine_on(**lease, shared, "webhook");
  HandlerContext context{**lease, shared, engine};
  WebhookOutcome outcome;
  if (auto ran = router_.run(*batch, context, outcome); !ran) {
    if (ran.error().kind == ErrorKind::kDatabase) lease->discard();
    // Batches before the failing one stay committed (they are complete); report those too.
    add_log_detail("processed", int64_t(outcome.processed.size()));
    return failed(ran.error());
  }
  metrics_.webhook_accepted(outcome.events_by_type, int64_t(outcome.processed.size()),
                            int64_t(outcome.not_pending.size()));
  // Rows the processing could not handle (recorded in gdpr_unhandled, counted in /metrics).
  for (const auto& row : outcome.unhandled) {
    LogLine("unhandled")
        .add("table", row.table)
        .add("key", row.key)
        .add("outcome", row.outcome)
        .add("problem", row.problem)
        .warn();
  }
  add_log_detail("events", outcome.events);
  add_log_detail("processed", int64_t(outcome.processed.size()));
  add_log_detail("not_pending", int64_t(outcome.not_pending.size()));
  add_log_detail("waiting", int64_t(outcome.waiting.size()));
  add_log_detail("ignored", outcome.ignored);
  answer(200, {{"events", outcome.events},
               {"processed", outcome.processed},
               {"not_pending", outcome.not_pending},
               {"waiting", outcome.waiting},
               {"ignored", outcome.ignored}});
}

void Service::login_form(const httplib::Request& request, httplib::Response& response) {
  if (auto id = cookie_value(request, kSessionCookie); id && sessions_.find(*id)) {
    return redirect(response, "/lookup");
  }
  show_login(response, 200, "");
}

void Service::login(const httplib::Request& request, const std::string& body,
                    httplib::Response& response) {
  std::chrono::seconds retry_after{0};
  if (!login_limiter_.allow("login:" + client_of(request), &retry_after)) {
    metrics_.rate_limited_login();
    add_log_detail("problem", "login rate limit");
    response.set_header("Retry-After", std::to_string(retry_after.count()));
    return show_login(
        response, 429,
        fmt::format("Too many login attempts from your address ([server] "
                    "login_attempts_per_hour = {}). Try again in {} minute(s).",
                    config_.server.login_attempts_per_hour, (retry_after.count() + 59) / 60));
  }
  const auto form = parse_form(body);
  const auto expected = cookie_value(request, kLoginCookie);
  if (!expected || !equal_in_constant_time(form_value(form, "csrf"), *expected)) {
    add_log_detail("problem", "login form token");
    return show_login(response, 403, "The login form expired. Please log in again.");
  }
  const std::string user = form_value(form, "user");
  const auto known = users();
  if (!known->check(user, form_value(form, "password"))) {
    metrics_.login(false);
    // A name that is no user may be anything someone typed: it is not logged.
    add_log_detail("user", known->exists(user) ? user : "unknown");
    add_log_detail("problem", "wrong user name or password");
    return show_login(response, 401, "Wrong user name or password.");
  }
  metrics_.login(true);
  add_log_detail("user", user);
  const std::string id = sessions_.create(user);
  response.set_header("Set-Cookie", cookie(kSessionCookie, id));
  response.set_header("Set-Cookie", cookie(kLoginCookie, "", true));
  redirect(response, "/lookup");
}

void Service::logout(const httplib::Request& request, const std::string& body,
                     httplib::Response& response) {
  auto login = require_login(request, response);
  if (!login) return;
  const auto form = parse_form(body);
  if (!equal_in_constant_time(form_value(form, "csrf"), login->second.csrf)) {
    return send_html(response, 403,
                     message_page("Not logged out", "The form expired; reload the page.",
                                  page_user(login->second)));
  }
  sessions_.end(login->first);
  response.set_header("Set-Cookie", cookie(kSessionCookie, "", true));
  redirect(response, "/login");
}

LookupView Service::lookup_view(const app::Session& session, const std::string& user) {
  LookupView view;
  for (const mautic::ColumnPlan* plan : session.policy.with_action(Action::kHash)) {
    if (plan->field_type.empty()) continue;
    view.fields.push_back({plan->column, plan->field_type});
  }
  if (!view.fields.empty() &&
      std::none_of(view.fields.begin(), view.fields.end(),
                   [](const LookupField& field) { return field.alias == "email"; })) {
    view.selected_field = view.fields.front().alias;
  }
  view.lookups_per_hour = config_.server.lookups_per_hour;
  view.lookups_left = lookup_limiter_.remaining("lookup:" + user);
  view.mautic_url = config_.server.mautic_url;
  for (const auto& field : session.schema.contact_fields()) {
    view.labels[field.alias] = session.schema.field_label(field.alias);
  }
  return view;
}

PageUser Service::page_user(const WebSession& session) const {
  return {session.user, session.csrf, config_.server.may(session.user, Role::kExport),
          config_.server.may(session.user, Role::kErase)};
}

void Service::lookup_form(const httplib::Request& request, httplib::Response& response) {
  auto login = require_login(request, response);
  if (!login) return;
  const PageUser user = page_user(login->second);
  send_html(response, 200, lookup_page(user, lookup_view(*session(), user.name)));
}

void Service::lookup(const httplib::Request& request, const std::string& body,
                     httplib::Response& response) {
  auto login = require_login(request, response);
  if (!login) return;
  const PageUser user = page_user(login->second);
  const auto form = parse_form(body);
  if (!equal_in_constant_time(form_value(form, "csrf"), user.csrf)) {
    add_log_detail("problem", "form token");
    return send_html(response, 403,
                     message_page("Form expired",
                                  "The form expired or did not come from this page; reload "
                                  "the lookup page and try again.",
                                  user));
  }
  const auto shared = session();
  LookupView view = lookup_view(*shared, user.name);
  const std::string field = form_value(form, "field");
  const std::string value = form_value(form, "value");
  const bool known_field =
      std::any_of(view.fields.begin(), view.fields.end(),
                  [&](const LookupField& offered) { return offered.alias == field; });
  if (!known_field) {
    view.message = "Choose one of the fields in the list.";
    return send_html(response, 400, lookup_page(user, view));
  }
  view.selected_field = field;
  add_log_detail("field", field);
  if (trim(value).empty()) {
    view.message = "Enter the exact value to look up.";
    return send_html(response, 400, lookup_page(user, view));
  }
  std::chrono::seconds retry_after{0};
  if (!lookup_limiter_.allow("lookup:" + user.name, &retry_after)) {
    metrics_.rate_limited_lookup();
    add_log_detail("problem", "lookup rate limit");
    response.set_header("Retry-After", std::to_string(retry_after.count()));
    view.lookups_left = 0;
    view.message = fmt::format(
        "You have made {} lookups in the last hour, the limit ([server] lookups_per_hour). "
        "Try again in {} minute(s).",
        config_.server.lookups_per_hour, (retry_after.count() + 59) / 60);
    return send_html(response, 429, lookup_page(user, view));
  }
  view.lookups_left = lookup_limiter_.remaining("lookup:" + user.name);

  auto lease = pool_.acquire();
  if (!lease) {
    metrics_.error("lookup", lease.error().message);
    view.message = "The database is not available: " + lease.error().message;
    return send_html(response, 503, lookup_page(user, view));
  }
  // The engine writes the audit row with this actor: who looked up, which field, how many
  // matches (never the value).
  mautic::Engine engine = engine_on(**lease, *shared, "web:" + user.name);
  auto matches = engine.lookup({{field, value}});
  if (!matches) {
    if (matches.error().kind == ErrorKind::kDatabase) lease->discard();
    metrics_.error("lookup", matches.error().message);
    add_log_detail("problem", matches.error().message);
    view.message = "The lookup failed: " + matches.error().message;
    return send_html(response, 500, lookup_page(user, view));
  }
  metrics_.lookup(!matches->processed.empty());
  add_log_detail("matches", int64_t(matches->processed.size()));
  add_log_detail("live", int64_t(matches->live.size()));
  // The contacts an export or erase form of this session may name from now on.
  std::vector<int64_t> found = matches->live;
  for (const auto& match : matches->processed) found.push_back(match.contact_id);
  sessions_.remember_found(login->first, std::move(found));
  view.live = std::move(matches->live);
  view.matches = std::move(matches->processed);
  send_html(response, 200, lookup_page(user, view));
}

std::optional<Service::PersonForm> Service::person_form(const httplib::Request& request,
                                                        const std::string& body,
                                                        httplib::Response& response, Role role) {
  auto login = require_login(request, response);
  if (!login) return std::nullopt;
  PersonForm person{page_user(login->second), 0, parse_form(body)};
  const std::string_view what = role_name(role);
  if (!config_.server.may(person.user.name, role)) {
    add_log_detail("problem", fmt::format("no {} role", what));
    send_html(response, 403,
              message_page("Not allowed",
                           fmt::format("Your account may not {} a person's data; an "
                                       "administrator grants it under [server.roles], e.g. "
                                       "{} = [\"lookup\", \"{}\"].",
                                       what, person.user.name, what),
                           person.user));
    return std::nullopt;
  }
  if (!equal_in_constant_time(form_value(person.form, "csrf"), person.user.csrf)) {
    add_log_detail("problem", "form token");
    send_html(response, 403,
              message_page("Form expired",
                           "The form expired or did not come from this page; look the person "
                           "up again.",
                           person.user));
    return std::nullopt;
  }
  const std::string id = form_value(person.form, "contact_id");
  const bool digits =
      !id.empty() && id.size() < 19 &&
      std::all_of(id.begin(), id.end(), [](char c) { return c >= '0' && c <= '9'; });
  if (digits) person.contact_id = std::stoll(id);
  const auto& found = login->second.found;
  if (!digits || std::find(found.begin(), found.end(), person.contact_id) == found.end()) {
    add_log_detail("problem", "contact not looked up");
    send_html(response, 403,
              message_page("Look the person up first",
                           fmt::format("An {} acts on a contact your last lookup found; look the "
                                       "person up again.",
                                       what),
                           person.user));
    return std::nullopt;
  }
  add_log_detail("contact", person.contact_id);
  return person;
}

bool Service::within_limit(const PageUser& user, std::string_view what,
                           httplib::Response& response) {
  std::chrono::seconds retry_after{0};
  if (lookup_limiter_.allow(fmt::format("{}:{}", what, user.name), &retry_after)) return true;
  add_log_detail("problem", fmt::format("{} rate limit", what));
  response.set_header("Retry-After", std::to_string(retry_after.count()));
  send_html(response, 429,
            message_page(
                "Too many requests",
                fmt::format("You have made {} {}s in the last hour, the limit ([server] "
                            "lookups_per_hour). Try again in {} minute(s).",
                            config_.server.lookups_per_hour, what, (retry_after.count() + 59) / 60),
                user));
  return false;
}

// The people the pages name an export or erasure by: the contact a lookup found.
constexpr std::string_view kNamedOnThePage = "a lookup on the page";

void Service::export_person(const httplib::Request& request, const std::string& body,
                            httplib::Response& response) {
  auto person = person_form(request, body, response, Role::kExport);
  if (!person || !within_limit(person->user, "export", response)) return;
  auto lease = pool_.acquire();
  if (!lease) {
    metrics_.error("export", lease.error().message);
    return send_html(response, 503,
                     message_page("Database not available", lease.error().message, person->user));
  }
  const auto shared = session();
  mautic::Engine engine = engine_on(**lease, *shared, "web:" + person->user.name);
  app::ExportDocument document(app::utc_now());
  const int64_t ids[] = {person->contact_id};
  auto summary = engine.export_contacts(ids, kNamedOnThePage, document.sink());
  if (!summary) {
    if (summary.error().kind == ErrorKind::kDatabase) lease->discard();
    metrics_.error("export", summary.error().message);
    add_log_detail("problem", summary.error().message);
    return send_html(response, 500,
                     message_page("Export failed", summary.error().message, person->user));
  }
  document.set_states(*summary);
  add_log_detail("rows", summary->contacts.empty() ? 0 : summary->contacts[0].rows);
  const bool json = form_value(person->form, "format") == "json";
  response.set_header("Content-Disposition",
                      fmt::format("attachment; filename=\"mautic-contact-{}-export.{}\"",
                                  person->contact_id, json ? "json" : "html"));
  response.set_content(json ? document.json() : document.html(),
                       json ? "application/json; charset=utf-8" : "text/html; charset=utf-8");
}

void Service::erase_person(const httplib::Request& request, const std::string& body,
                           httplib::Response& response) {
  auto person = person_form(request, body, response, Role::kErase);
  if (!person) return;
  // The first POST shows what would go; only the confirmation form erases.
  const bool confirmed = form_value(person->form, "confirm") == "yes";
  if (confirmed && !within_limit(person->user, "erasure", response)) return;
  auto lease = pool_.acquire();
  if (!lease) {
    metrics_.error("erase", lease.error().message);
    return send_html(response, 503,
                     message_page("Database not available", lease.error().message, person->user));
  }
  const auto shared = session();
  mautic::Engine engine = engine_on(**lease, *shared, "web:" + person->user.name);
  auto report = engine.erase_contact(person->contact_id, kNamedOnThePage, !confirmed);
  if (!report) {
    if (report.error().kind == ErrorKind::kDatabase) lease->discard();
    metrics_.error("erase", report.error().message);
    add_log_detail("problem", report.error().message);
    return send_html(response, 500,
                     message_page("Erasure failed",
                                  report.error().message + "; nothing was changed", person->user));
  }
  add_log_detail("erased", confirmed && !report->processed_before ? 1 : 0);
  send_html(response, 200,
            confirmed ? erase_done_page(person->user, *report, config_.server.mautic_url)
                      : erase_confirm_page(person->user, *report, config_.server.mautic_url));
}

void Service::audit(const httplib::Request& request, httplib::Response& response) {
  auto login = require_login(request, response);
  if (!login) return;
  AuditView view;
  view.mautic_url = config_.server.mautic_url;
  // Only ids travel in this URL (a contact's, an audit row's), never a value.
  auto number = [&](const char* name) -> std::optional<int64_t> {
    const std::string text = request.get_param_value(name);
    if (text.empty() || text.size() > 18 ||
        !std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; })) {
      return std::nullopt;
    }
    return std::stoll(text);
  };
  view.contact = number("contact");
  const auto before = number("before");
  constexpr int kPage = 100;
  auto lease = pool_.acquire();
  if (!lease) {
    view.message = "The database is not available: " + lease.error().message;
    return send_html(response, 503, audit_page(page_user(login->second), view));
  }
  const auto shared = session();
  auto entries = mautic::read_audit(**lease, shared->schema, before, view.contact, kPage);
  if (!entries) {
    if (entries.error().kind == ErrorKind::kDatabase) lease->discard();
    view.message = "The audit table could not be read: " + entries.error().message;
    return send_html(response, 500, audit_page(page_user(login->second), view));
  }
  view.entries = std::move(*entries);
  if (view.entries.size() == size_t(kPage)) view.older = view.entries.back().id;
  send_html(response, 200, audit_page(page_user(login->second), view));
}

std::pair<std::optional<DatabaseNumbers>, std::string> Service::database_numbers() {
  std::lock_guard lock(numbers_mutex_);
  if (numbers_at_ != Clock::time_point{} && Clock::now() - numbers_at_ < kNumbersTtl) {
    return {numbers_, numbers_error_};
  }
  numbers_.reset();
  numbers_error_.clear();
  auto lease = pool_.acquire();
  if (!lease) {
    numbers_error_ = lease.error().message;
  } else {
    auto numbers = read_database_numbers(**lease, *session(), kChartDays);
    if (numbers) {
      numbers_ = std::move(*numbers);
    } else {
      if (numbers.error().kind == ErrorKind::kDatabase) lease->discard();
      numbers_error_ = numbers.error().message;
      metrics_.error("status", numbers_error_);
    }
  }
  numbers_at_ = Clock::now();
  return {numbers_, numbers_error_};
}

void Service::status(const httplib::Request& request, httplib::Response& response) {
  auto login = require_login(request, response);
  if (!login) return;
  StatusView view;
  std::tie(view.numbers, view.database_error) = database_numbers();
  view.counters = metrics_.snapshot();
  view.sweep_interval_minutes = session()->config.sweep.interval_minutes;
  send_html(response, 200, status_page(page_user(login->second), view));
}

void Service::metrics(const httplib::Request&, httplib::Response& response) {
  auto [numbers, error] = database_numbers();
  response.set_content(prometheus_text(metrics_.snapshot(), numbers, numbers.has_value()),
                       "text/plain; version=0.0.4; charset=utf-8");
}

void Service::healthz(const httplib::Request&, httplib::Response& response) {
  auto lease = pool_.acquire(std::chrono::seconds(5));
  Status checked = lease ? Status() : Status(lease.error());
  if (lease) {
    auto answer = (*lease)->query_value("SELECT 1");
    if (!answer) {
      lease->discard();
      checked = answer.error();
    }
  }
  if (!checked) {
    // The details (socket, user, database) go to the log, not to whoever asks.
    add_log_detail("problem", checked.error().message);
    response.status = 503;
    response.set_content("database unreachable\n", "text/plain; charset=utf-8");
    return;
  }
  response.set_content("ok\n", "text/plain; charset=utf-8");
}

std::optional<BodyLimit> Service::body_limit_for(const std::string& path) const {
  if (path == "/mautic/webhook") {
    return BodyLimit{size_t(config_.server.max_body_bytes), "[server] max_body_bytes"};
  }
  if (path == "/login" || path == "/logout" || path == "/lookup" || path == "/export" ||
      path == "/erase") {
    return BodyLimit{kFormBodyBytes, "the limit for a form"};
  }
  return std::nullopt;
}

std::optional<int> Service::refuse_before_body(const httplib::Request& request,
                                               httplib::Response& response) {
  const auto limit = body_limit_for(request.path);
  const auto length = declared_length(request);
  const std::string encoding = request.get_header_value("Content-Encoding");
  int status = 0;
  if (!limit) {
    status = 404;
  } else if (!length) {
    status = 400;
  } else if ((!encoding.empty() && encoding != "identity") || request.is_multipart_form_data()) {
    status = 415;
  } else if (*length && **length > limit->bytes) {
    status = 413;
  } else if (request.path == "/mautic/webhook" &&
             request.get_header_value(std::string(kSignatureHeader)).empty()) {
    status = 401;  // nothing unsigned is read, however large
  }
  if (status == 0) return std::nullopt;
  // The body stays unread on the connection, so it cannot carry another request.
  close_after_response();
  response.status = status;
  return status;
}

std::string Service::error_message(const httplib::Request& request, int status) const {
  switch (status) {
    case 413: {
      const auto limit = body_limit_for(request.path);
      if (!limit) return "this address takes no request body";
      return fmt::format("the request body is larger than {} ({} bytes); nothing was changed",
                         limit->name, limit->bytes);
    }
    case 431:
      return fmt::format("the request line and headers are larger than {} bytes",
                         kMaxRequestHeadBytes);
    case 408:
      return fmt::format(
          "the request did not arrive within [server] read_timeout_seconds ({} s); nothing was "
          "changed",
          config_.server.read_timeout_seconds);
    case 415:
      return "the body must come as it is: no Content-Encoding, no multipart form; nothing was "
             "changed";
    case 401:
      return "missing Webhook-Signature header: the request is not from Mautic, or the webhook "
             "has no secret";
    case 400:
      return "the request could not be read (truncated or malformed); nothing was changed";
    case 404:
      return "no such page";
    default:
      return fmt::format("HTTP {}", status);
  }
}

void Service::install_routes(httplib::Server& http) {
  using Request = httplib::Request;
  using Response = httplib::Response;
  auto bind = [this](void (Service::*handler)(const Request&, Response&)) {
    return [this, handler](const Request& request, Response& response) {
      (this->*handler)(request, response);
    };
  };
  // A POST route reads its body itself, within its limit, however it arrives (with a length or
  // chunked): nothing beyond the limit is held, and nothing is read when the head already says
  // no (too large, unsigned, compressed).
  using BodyHandler = void (Service::*)(const Request&, const std::string&, Response&);
  auto post = [this, &http](const std::string& path, BodyHandler handler) {
    http.Post(path, [this, handler](const Request& request, Response& response,
                                    const httplib::ContentReader& reader) {
      if (refuse_before_body(request, response)) return;
      const size_t limit = body_limit_for(request.path)->bytes;
      std::string body;
      bool too_large = false;
      const bool complete = reader([&](const char* data, size_t length) {
        too_large = too_large || body.size() + length > limit;
        if (!too_large) body.append(data, length);
        return !too_large;
      });
      if (!complete || too_large) {
        close_after_response();
        response.status = too_large || request_over_budget() ? 413
                          : request_timed_out()              ? 408
                                                             : 400;
        return;
      }
      (this->*handler)(request, body, response);
    });
  };
  post("/mautic/webhook", &Service::webhook);
  post("/login", &Service::login);
  post("/logout", &Service::logout);
  post("/lookup", &Service::lookup);
  post("/export", &Service::export_person);
  post("/erase", &Service::erase_person);
  // Any other address with a body: answered without reading it.
  const auto no_body_here = [this](const Request& request, Response& response,
                                   const httplib::ContentReader&) {
    refuse_before_body(request, response);
  };
  http.Post(".*", no_body_here);
  http.Put(".*", no_body_here);
  http.Patch(".*", no_body_here);
  http.Delete(".*", no_body_here);
  // curl and others ask before they send a large body: the same early answers, before it comes.
  http.set_expect_100_continue_handler([this](const Request& request, Response& response) {
    begin_request_log();
    return refuse_before_body(request, response).value_or(100);
  });
  http.Get("/mautic/webhook", [](const Request&, Response& response) {
    response.status = 405;
    response.set_header("Allow", "POST");
    response.set_content("Mautic's webhook: POST only\n", "text/plain; charset=utf-8");
  });
  http.Get("/", [](const Request&, Response& response) { redirect(response, "/lookup"); });
  http.Get("/login", bind(&Service::login_form));
  http.Get("/lookup", bind(&Service::lookup_form));
  http.Get("/status", bind(&Service::status));
  http.Get("/audit", bind(&Service::audit));
  http.Get("/metrics", bind(&Service::metrics));
  http.Get("/healthz", bind(&Service::healthz));
  http.Get("/favicon.ico", [](const Request&, Response& response) { response.status = 204; });
  http.Get("/static/style.css", [](const Request&, Response& response) {
    response.set_header("Cache-Control", "public, max-age=3600");
    response.set_content(std::string(stylesheet()), "text/css; charset=utf-8");
  });

  http.set_pre_routing_handler([](const Request&, Response&) {
    begin_request_log();
    return httplib::Server::HandlerResponse::Unhandled;
  });
  const bool tls_on = tls();
  http.set_post_routing_handler([tls_on](const Request&, Response& response) {
    if (closing_after_response()) {
      response.headers.erase("Keep-Alive");
      response.headers.erase("Connection");
      response.set_header("Connection", "close");
    }
    response.set_header("Content-Security-Policy", std::string(kContentSecurityPolicy));
    response.set_header("X-Content-Type-Options", "nosniff");
    response.set_header("X-Frame-Options", "DENY");
    response.set_header("Referrer-Policy", "no-referrer");
    if (!response.has_header("Cache-Control")) response.set_header("Cache-Control", "no-store");
    if (tls_on) response.set_header("Strict-Transport-Security", "max-age=31536000");
  });
  // Statuses set without a body (by refuse_before_body, the body reader, or httplib itself: 400
  // for a head that cannot be parsed, 404) get a readable one that names the limit involved.
  http.set_error_handler(
      httplib::Server::HandlerWithResponse([this](const Request& request, Response& response) {
        if (!response.body.empty() || response.status == 303) {
          return httplib::Server::HandlerResponse::Unhandled;
        }
        if (response.status == 400 && request_timed_out()) response.status = 408;
        if (response.status == 400 && request_over_budget()) response.status = 431;
        // What follows a request that could not be read is not a request.
        if (response.status == 400 || response.status == 408 || response.status == 431) {
          close_after_response();
        }
        if (response.status == 408) metrics_.request_timed_out();
        const std::string message = error_message(request, response.status);
        if (request.path == "/mautic/webhook") {
          if (request.method == "POST") metrics_.webhook_request(response.status);
          send_json(response, response.status, {{"error", message}});
        } else {
          response.set_content(message + "\n", "text/plain; charset=utf-8");
        }
        add_log_detail("problem", message.substr(0, message.find(';')));
        return httplib::Server::HandlerResponse::Handled;
      }));
  http.set_exception_handler([this](const Request&, Response& response, std::exception_ptr error) {
    std::string what = "unknown exception";
    try {
      if (error) std::rethrow_exception(error);
    } catch (const std::exception& exception) {
      what = exception.what();
    } catch (...) {
    }
    metrics_.error("server", what);
    response.status = 500;
    response.set_content("internal error\n", "text/plain; charset=utf-8");
  });
  http.set_logger([](const Request& request, const Response& response) {
    LogLine line("request");
    line.add("method", request.method).add("path", route_label(request.path));
    line.add("status", response.status);
    if (t_started != Clock::time_point{}) {
      line.add("ms", std::chrono::duration<double, std::milli>(Clock::now() - t_started).count());
    }
    line.append(t_log_details);
    if (response.status >= 500) {
      line.error();
    } else if (response.status >= 400) {
      line.warn();
    } else {
      line.info();
    }
    t_started = Clock::time_point{};
    t_log_details.clear();
  });
}

// Settings that only a restart applies: the connections, the listening socket and the secrets
// are set up once.
std::vector<std::string> restart_only_changes(const Config& running, const Config& fresh) {
  std::vector<std::string> changed;
  const DatabaseConfig& a = running.database;
  const DatabaseConfig& b = fresh.database;
  if (std::tie(a.host, a.port, a.socket, a.name, a.user, a.password_env, a.password_file,
               a.table_prefix) != std::tie(b.host, b.port, b.socket, b.name, b.user, b.password_env,
                                           b.password_file, b.table_prefix)) {
    changed.emplace_back("[database]");
  }
  const ServerConfig& x = running.server;
  const ServerConfig& y = fresh.server;
  if (std::tie(x.listen_host, x.listen_port, x.secret_file, x.secret_env, x.max_body_bytes,
               x.threads, x.tls_cert_file, x.tls_key_file, x.behind_proxy, x.session_minutes,
               x.login_attempts_per_hour, x.lookups_per_hour) !=
      std::tie(y.listen_host, y.listen_port, y.secret_file, y.secret_env, y.max_body_bytes,
               y.threads, y.tls_cert_file, y.tls_key_file, y.behind_proxy, y.session_minutes,
               y.login_attempts_per_hour, y.lookups_per_hour)) {
    changed.emplace_back("[server] (other than users)");
  }
  return changed;
}

void Service::reload() {
  auto refused = [this](const Error& error) {
    metrics_.error("reload", error.message);
    LogLine("reload_failed")
        .add("problem", error.message)
        .add("note", "the running configuration stays")
        .error();
  };
  auto fresh = app::load_config_file(config_.path);
  if (!fresh) return refused(fresh.error());
  const auto restart = restart_only_changes(config_, *fresh);
  auto users = std::make_shared<const Users>(fresh->server.users);
  // The keys again too: after `keygen --rotate`, a reload hashes with the new active key.
  auto keys = app::load_key_ring(*fresh);
  if (!keys) return refused(keys.error());
  std::lock_guard reload_lock(reload_mutex_);
  auto reopened = app::open_session(*fresh, *keys, app::Access::kWrite, "serve");
  if (!reopened) return refused(reopened.error());
  keys_ = std::move(*keys);  // under reload_mutex_, like every reader of keys_
  adopt(std::move(*reopened));
  {
    std::lock_guard lock(session_mutex_);
    users_ = std::move(users);
  }
  LogLine line("reloaded");
  line.add("users", fresh->server.users.size());
  if (!restart.empty()) line.add("restart_needed_for", db::join(restart, ", "));
  line.info();
}

Status Service::listen_and_serve(const StopSignals& signals) {
  TlsContext tls_context;
  if (tls()) {
    auto loaded = load_tls_context(config_.server.tls_cert_file, config_.server.tls_key_file);
    if (!loaded) {
      return make_error(ErrorKind::kConfig,
                        "{}: cannot load the TLS certificate `{}` or its key `{}` (PEM files, "
                        "the key matching the certificate, readable by this user)",
                        config_.where("server.tls_cert_file"), config_.server.tls_cert_file,
                        config_.server.tls_key_file);
    }
    tls_context = std::move(*loaded);
  }
  const int threads = config_.server.threads;
  ConnectionLimits limits;
  limits.read_timeout = std::chrono::seconds(config_.server.read_timeout_seconds);
  limits.max_request_bytes =
      kMaxRequestHeadBytes + std::max(size_t(config_.server.max_body_bytes), kFormBodyBytes);
  limits.per_client = config_.server.max_connections_per_client > 0
                          ? config_.server.max_connections_per_client
                          : std::max(1, threads - 2);
  limits.trusted_proxies = config_.server.trusted_proxies;
  limits.linger_bytes = limits.max_request_bytes;
  ConnectionEvents events;
  events.refused = [this] {
    metrics_.connection_refused();
    LogLine("refused").add("problem", "too many connections from one client address").warn();
  };
  events.timed_out = [this] {
    metrics_.request_timed_out();
    LogLine("request").add("status", 408).add("problem", "no request line in time").warn();
  };
  auto http = std::make_unique<GuardedServer>(limits, std::move(tls_context), std::move(events));
  http->new_task_queue = [threads] { return new httplib::ThreadPool(size_t(threads)); };
  // A backstop only: every route with a body reads it itself, within its own limit.
  http->set_payload_max_length(limits.max_request_bytes);
  // Headers and body go out in separate writes: without this, Nagle's algorithm and the
  // client's delayed ACK add some 40 ms to every answer.
  http->set_tcp_nodelay(true);
  // httplib's default adds SO_REUSEPORT, which would let a second `serve` share the port
  // silently; only SO_REUSEADDR (a quick restart) is wanted.
  http->set_socket_options([](socket_t socket) {
    int yes = 1;
    ::setsockopt(socket, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
  });
  install_routes(*http);

  const std::string& host = config_.server.listen_host;
  int port = config_.server.listen_port;
  if (port == 0) {
    port = http->bind_to_any_port(host);
  } else if (!http->bind_to_port(host, port)) {
    port = -1;
  }
  if (port <= 0) {
    return make_error(ErrorKind::kConfig,
                      "{}: cannot listen on {}:{} (in use by another program, or not an address "
                      "of this machine)",
                      config_.where("server.listen"), host, config_.server.listen_port);
  }
  LogLine("listening")
      .add("address", host.find(':') != std::string::npos ? fmt::format("[{}]:{}", host, port)
                                                          : fmt::format("{}:{}", host, port))
      .add("port", port)
      .add("tls", tls())
      .add("threads", config_.server.threads)
      .add("users", config_.server.users.size())
      .info();
  if (users()->empty()) {
    LogLine("no_users")
        .add("hint", "add [server.users] (mautic-gdpr passwd --user NAME) to use the pages")
        .warn();
  }

  std::atomic<bool> stopping{false};
  const pthread_t main_thread = pthread_self();
  std::thread listener([&] {
    http->listen_after_bind();
    // Ended without a signal (e.g. the socket failed): wake the waiting main thread.
    if (!stopping.exchange(true)) pthread_kill(main_thread, SIGUSR1);
  });
  // stop() only works once the server runs; a signal arriving before stays pending meanwhile.
  while (!http->is_running() && !stopping.load()) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  int signal = signals.wait();
  while (signal == SIGHUP) {
    reload();
    signal = signals.wait();
  }
  const bool by_signal = !stopping.exchange(true);
  if (by_signal) {
    LogLine("stopping")
        .add("signal", signal == SIGTERM  ? "SIGTERM"
                       : signal == SIGINT ? "SIGINT"
                                          : "other")
        .add("note", "no new connections; requests in flight finish")
        .info();
    http->stop();
  }
  listener.join();
  pool_.close_idle();
  if (!by_signal) {
    return make_error("the server stopped listening on {}:{} unexpectedly", host, port);
  }
  LogLine("stopped").info();
  return {};
}

}  // namespace

std::vector<Error> check_server_config(const Config& config) {
  std::vector<Error> problems;
  if (auto secret = load_webhook_secret(config); !secret) problems.push_back(secret.error());
  const ServerConfig& server = config.server;
  if (!server.tls_cert_file.empty()) {
    struct stat info {};
    if (::stat(server.tls_key_file.c_str(), &info) == 0 && (info.st_mode & 007) != 0) {
      problems.push_back(make_error(ErrorKind::kConfig,
                                    "{}: the TLS key `{}` can be read by everyone (mode {:04o}); "
                                    "run `chmod 600 {}`",
                                    config.where("server.tls_key_file"), server.tls_key_file,
                                    info.st_mode & 07777, server.tls_key_file));
    }
    std::unique_ptr<SSL_CTX, decltype(&SSL_CTX_free)> context(SSL_CTX_new(TLS_server_method()),
                                                              SSL_CTX_free);
    if (SSL_CTX_use_certificate_chain_file(context.get(), server.tls_cert_file.c_str()) != 1) {
      problems.push_back(make_error(ErrorKind::kConfig,
                                    "{}: cannot read the certificate `{}` (a PEM file readable "
                                    "by this user)",
                                    config.where("server.tls_cert_file"), server.tls_cert_file));
    } else if (SSL_CTX_use_PrivateKey_file(context.get(), server.tls_key_file.c_str(),
                                           SSL_FILETYPE_PEM) != 1) {
      problems.push_back(make_error(ErrorKind::kConfig,
                                    "{}: cannot read the TLS key `{}` (a PEM file readable by "
                                    "this user, without a passphrase)",
                                    config.where("server.tls_key_file"), server.tls_key_file));
    } else if (SSL_CTX_check_private_key(context.get()) != 1) {
      problems.push_back(make_error(
          ErrorKind::kConfig, "{}: the TLS key `{}` does not belong to the certificate `{}`",
          config.where("server.tls_key_file"), server.tls_key_file, server.tls_cert_file));
    } else if (X509* cert = SSL_CTX_get0_certificate(context.get());
               cert != nullptr && X509_cmp_current_time(X509_get0_notAfter(cert)) < 0) {
      problems.push_back(make_error(ErrorKind::kConfig,
                                    "{}: the certificate `{}` has expired; renew it",
                                    config.where("server.tls_cert_file"), server.tls_cert_file));
    }
  }
  if (server.users.empty()) {
    problems.push_back(make_error(ErrorKind::kConfig,
                                  "{}: [server.users] is empty, so nobody can log in to /lookup "
                                  "and /status; add a line printed by `mautic-gdpr passwd --user "
                                  "NAME`",
                                  config.where("server")));
  }
  return problems;
}

Status serve(Config config) {
  StopSignals signals;  // before any thread starts
  init_logging();
  auto keys = app::load_key_ring(config);
  if (!keys) return keys.error();
  auto secret = load_webhook_secret(config);
  if (!secret) return secret.error();
  // The first connection also initialises the MariaDB client library, before other threads.
  auto session = app::open_session(config, *keys, app::Access::kWrite, "serve");
  if (!session) return session.error();
  auto fingerprint = schema_fingerprint(*(*session)->connection);
  if (!fingerprint) return fingerprint.error();
  Service service(std::move(config), std::move(*keys), std::move(*secret), std::move(*session),
                  std::move(*fingerprint));
  return service.listen_and_serve(signals);
}

}  // namespace mgdpr::server
