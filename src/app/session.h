// SPDX-License-Identifier: GPL-3.0-or-later
// Everything a command needs, opened in one place: the config, the secrets, the database
// connection, the live schema, the resolved policy and the engine. The CLI and the server both
// open a Session; neither knows how the pieces fit.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "core/config.h"
#include "core/hashing.h"
#include "core/result.h"
#include "db/connection.h"
#include "mautic/contact_policy.h"
#include "mautic/engine.h"
#include "mautic/related_scrubber.h"
#include "mautic/schema.h"

namespace mgdpr::app {

enum class Access {
  kMonitor,   // status: reads counts only; no hash key is read (a monitoring user has none),
              // so the session has no key and no engine
  kReadOnly,  // plan, lookup, guard: creates nothing, records no key
  kWrite,     // sweep, serve: creates the gdpr tables, records the key fingerprint
};

struct Session {
  Config config;
  std::unique_ptr<db::Connection> connection;
  mautic::Schema schema;
  mautic::ContactPolicy policy;
  mautic::RelatedPlan related;
  // The active key and the older ones of [hashing.keyring], matched with the database's keys;
  // not with Access::kMonitor.
  std::optional<KeyRing> keys;
  std::unique_ptr<mautic::Engine> engine;  // not with Access::kMonitor
};

// Who is acting, for the audit table: "cli:<os user>".
std::string cli_actor();

Result<std::unique_ptr<db::Connection>> connect(const Config& config);

// Loads the config, reads the keys (not for kMonitor), connects, reads the schema, resolves the
// policy, matches the keys with the database's, and (kWrite) creates or upgrades the gdpr
// tables and records a new key (the first one, or the new active key after a rotation).
Result<std::unique_ptr<Session>> open_session(const std::string& config_path, Access access,
                                              std::string actor);

// The same with a config and keys already loaded: `serve` opens a new session with them when
// Mautic's schema changes under it (a new custom field must not be missed by a webhook).
Result<std::unique_ptr<Session>> open_session(Config config, KeyRing keys, Access access,
                                              std::string actor);

}  // namespace mgdpr::app
