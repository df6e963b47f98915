// SPDX-License-Identifier: GPL-3.0-or-later
#include "app/session.h"

#include <pwd.h>
#include <unistd.h>

#include "app/secrets.h"
#include "mautic/own_tables.h"

namespace mgdpr::app {

std::string cli_actor() {
  const passwd* user = ::getpwuid(::geteuid());
  return "cli:" + std::string(user != nullptr ? user->pw_name : std::to_string(::geteuid()));
}

Result<std::unique_ptr<db::Connection>> connect(const Config& config) {
  auto password = load_database_password(config);
  if (!password) return password.error();
  db::ConnectParams params;
  params.host = config.database.host;
  params.port = static_cast<unsigned>(config.database.port);
  params.socket = config.database.socket;
  params.user = config.database.user;
  params.password = *password;
  params.database = config.database.name;
  params.lock_wait_seconds = static_cast<unsigned>(config.database.lock_wait_seconds);
  return db::Connection::open(params);
}

namespace {
Result<std::unique_ptr<Session>> open_with(Config config, std::optional<KeyRing> keys,
                                           Access access, std::string actor);
}  // namespace

Result<std::unique_ptr<Session>> open_session(const std::string& config_path, Access access,
                                              std::string actor) {
  auto config = load_config_file(config_path);
  if (!config) return config.error();
  if (access == Access::kMonitor) {
    return open_with(std::move(*config), std::nullopt, access, std::move(actor));
  }
  // The keys come before the database: a readable key file is refused before anything else.
  auto keys = load_key_ring(*config);
  if (!keys) return keys.error();
  return open_session(std::move(*config), std::move(*keys), access, std::move(actor));
}

Result<std::unique_ptr<Session>> open_session(Config config, KeyRing keys, Access access,
                                              std::string actor) {
  return open_with(std::move(config), std::optional<KeyRing>(std::move(keys)), access,
                   std::move(actor));
}

namespace {

Result<std::unique_ptr<Session>> open_with(Config config, std::optional<KeyRing> keys,
                                           Access access, std::string actor) {
  auto session = std::make_unique<Session>();
  session->config = std::move(config);
  session->keys = std::move(keys);

  auto connection = connect(session->config);
  if (!connection) return connection.error();
  session->connection = std::move(*connection);

  auto schema = mautic::load_schema(*session->connection, session->config.database.table_prefix);
  if (!schema) return schema.error();
  if (access == Access::kWrite) {
    MGDPR_TRY(mautic::ensure_own_tables(*session->connection, *schema));
    schema = mautic::load_schema(*session->connection, session->config.database.table_prefix);
    if (!schema) return schema.error();
  }
  session->schema = std::move(*schema);

  auto policy = mautic::resolve_contact_policy(session->config, session->schema);
  if (!policy) return policy.error();
  session->policy = std::move(*policy);

  session->related = mautic::build_related_plan(session->config, session->schema);
  if (!session->related.problems.empty()) {
    std::string joined;
    for (const auto& problem : session->related.problems) {
      joined += (joined.empty() ? "" : "\n") + problem;
    }
    return Error{joined, ErrorKind::kConfig};
  }

  if (!session->keys) return session;  // Access::kMonitor: counts only
  MGDPR_TRY(mautic::match_key_ring(*session->connection, session->schema, *session->keys,
                                   access == Access::kWrite));

  session->engine = std::make_unique<mautic::Engine>(
      *session->connection, session->config, session->schema, session->policy, session->related,
      *session->keys, std::move(actor), [&config = session->config] { return connect(config); });
  return session;
}

}  // namespace

}  // namespace mgdpr::app
