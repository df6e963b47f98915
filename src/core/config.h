// SPDX-License-Identifier: GPL-3.0-or-later
// The TOML configuration: parsed from text (no file access here) into plain structs.
// Parsing is table-driven: every known key is one row with its type, default and help, so
// unknown keys get a did-you-mean and every error reads `file:line: what is wrong; the fix`.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/address.h"
#include "core/duration.h"
#include "core/generalize.h"
#include "core/policy.h"
#include "core/result.h"

namespace mgdpr {

inline constexpr std::string_view kDefaultConfigPath = "/etc/mautic-gdpr/config.toml";

struct DatabaseConfig {
  std::string host = "127.0.0.1";
  int port = 3306;
  std::string socket;  // wins over host/port when set
  std::string name = "mautic";
  std::string user = "mautic";
  std::string password_env;   // name of an environment variable holding the password
  std::string password_file;  // or a file holding it (first line)
  std::string table_prefix;
  // How long a statement waits for a row Mautic holds locked before the server rolls the
  // transaction back (innodb_lock_wait_timeout of mautic-gdpr's own sessions); the work is then
  // run again. Short, so a webhook answers before Mautic's 15 s timeout.
  int lock_wait_seconds = 10;
};

struct FieldRule {
  std::string alias;  // Mautic's lead_fields.alias
  Action action = Action::kDelete;
  std::optional<Generalizer> generalizer;  // set when action is kGeneralize
};

// An older hash key kept for lookups and the re-import guard after a rotation
// ([hashing.keyring]: fingerprint = "file"). New digests are always made with key_file.
struct KeyringEntry {
  std::string fingerprint;  // the start of the key's fingerprint, lowercase hex
  std::string file;
};

// A span of time per do-not-contact reason: `grace = "7d"` for every reason, or
// `grace.bounced = "3d"` (and `grace.default = ...` for the reasons not named).
struct ReasonDurations {
  std::optional<Duration> fallback;  // every reason not named
  // nullopt: never (only [retention] forget_after accepts "never")
  std::map<DncReason, std::optional<Duration>> by_reason;

  std::optional<Duration> for_reason(DncReason reason) const;
  // True when no reason has a (non-zero) span.
  bool none() const;
};

struct LegacyConfig {
  std::string md5_salt;                  // the LeadEngine GDPR plugin's salt (hex string)
  std::string md5_field = "email_hash";  // the hidden contact field it wrote the MD5 into
};

struct SweepConfig {
  int batch_size = 500;
  // Batches processed side by side, each on its own connection (1: one at a time).
  int workers = 2;
  // How often the timer (or cron) runs the sweep; `status` and the status page call the sweep
  // late after twice this without a successful one.
  int interval_minutes = 10;
};

// Where a new contact came from, as the re-import guard reads it from Mautic's own tables.
enum class ContactOrigin {
  kForm,         // a form submission: the person's own act, a fresh opt-in
  kImport,       // a CSV import
  kIntegration,  // a CRM or other integration sync
  kApi,          // anything else: the REST API, or a Mautic user
};

std::string_view origin_name(ContactOrigin origin);
std::optional<ContactOrigin> parse_origin(std::string_view name);

struct GuardConfig {
  bool enabled = true;
  // Origins whose contacts are put on do-not-contact; the others are only reported.
  std::vector<ContactOrigin> origins = {ContactOrigin::kImport, ContactOrigin::kApi,
                                        ContactOrigin::kIntegration};
  // Hashed fields to compare; empty (not written): email, when the policy hashes it.
  std::vector<std::string> fields;
  // Reasons of the processed records that suppress; nullopt (not written): [trigger] reasons.
  std::optional<std::vector<DncReason>> reasons;
};

// [[related.extra]]: a table a plugin (or a Mautic version we have not seen) adds, declared by
// the admin. Words are checked here; names against the live schema (build_related_plan).
struct ExtraColumn {
  std::string name;
  std::string kind;  // "clear", "php-serialized" or "json"
  int line = 0;
};
struct ExtraLocationConfig {
  int line = 0;               // of its [[related.extra]] header
  std::string name{};         // the key it goes by (watermarks, messages); default: table
  std::string table{};        // unprefixed
  std::string link_column{};  // holds the contact id, or with `parent` the parent row's key
  std::string parent{};       // optional: the table whose row holds the contact
  std::string parent_key = "id";
  std::string parent_contact_column = "lead_id";
  std::string action = "scrub";  // "scrub" or "delete"
  std::vector<ExtraColumn> columns{};
  std::string why{};
  std::map<std::string, int, std::less<>> lines{};  // key -> line
  // "path:line" of a key, or of the header when the key was not written.
  std::string where(const std::string& path, std::string_view key) const;
};

// [orphans]: rows a contact leaves behind when Mautic deletes it.
struct OrphansConfig {
  bool scrub = true;  // action = "scrub": each row gets its location's action; "keep": left
};

// A user of the lookup and status pages: a name and a libsodium Argon2id hash of the password
// (`mautic-gdpr passwd` prints one), never the password itself.
struct WebUser {
  std::string name;
  std::string password_hash;
};

// What a user of the pages may do with a person ([server.roles]). Everyone logged in sees the
// status and the audit pages.
enum class Role {
  kLookup,  // look a person up
  kExport,  // download everything stored about a person the lookup found
  kErase,   // erase a person the lookup found, after a confirmation
};

std::string_view role_name(Role role);
std::optional<Role> parse_role(std::string_view name);

// [server]: `mautic-gdpr serve`, the webhook receiver and the pages for support staff.
struct ServerConfig {
  std::string listen_host = "127.0.0.1";
  int listen_port = 8470;   // 0: any free port (the log line at start names it)
  std::string secret_file;  // the webhook secret Mautic signs with: a file (first line),
  std::string secret_env;   // or the name of an environment variable holding it
  int64_t max_body_bytes = 4 * 1024 * 1024;  // larger webhook requests get 413
  int threads = 8;            // requests served at once; each holds one database connection
  std::string tls_cert_file;  // PEM; both set: HTTPS, neither: plain HTTP (loopback or proxy)
  std::string tls_key_file;
  bool behind_proxy = false;  // a reverse proxy with HTTPS in front: cookies marked Secure
  // Addresses whose X-Real-IP header names the client (the proxy); from anyone else it is
  // ignored. Their connections are not counted per client (the proxy carries many).
  std::vector<AddressRange> trusted_proxies;
  // Connections one client address (an IPv6 /64) may hold at once; 0: threads - 2 (at least 1:
  // a browser opens up to 6). More get 503 at once, so slow clients cannot take every thread.
  int max_connections_per_client = 0;
  // A request's headers and body must arrive within this many seconds of its first byte.
  int read_timeout_seconds = 10;
  int session_minutes = 60;          // a page session ends after this long without a request
  int login_attempts_per_hour = 20;  // per client address
  int lookups_per_hour = 60;         // per user: an exact-value lookup is no enumeration oracle
  std::vector<WebUser> users;        // [server.users], in file order
  // [server.roles]: user -> roles. A user not listed may look people up only, as before roles
  // existed: exporting and erasing are granted explicitly.
  std::map<std::string, std::vector<Role>> roles;
  // Mautic's address (e.g. https://mautic.example.org, no trailing slash): contact ids on the
  // pages become links to <mautic_url>/s/contacts/view/<id>. Empty: plain ids.
  std::string mautic_url;

  bool may(std::string_view user, Role role) const;
};

struct Config {
  std::string path;  // where it was read from, for messages

  DatabaseConfig database;
  std::string key_file = "/etc/mautic-gdpr/hmac.key";
  std::vector<DncReason> reasons = {DncReason::kUnsubscribed, DncReason::kBounced};
  std::vector<std::string> channels = {"email"};
  // [trigger] grace: a contact is pending only once its do-not-contact entry is this old.
  ReasonDurations grace;
  // [retention] forget_after: a processed record this old is deleted completely; none: never.
  ReasonDurations forget_after;
  std::vector<KeyringEntry> keyring;  // [hashing.keyring], in file order
  Action default_action = Action::kDelete;
  std::vector<FieldRule> fields;  // [policy.fields], in file order
  std::optional<LegacyConfig> legacy;
  SweepConfig sweep;
  GuardConfig guard;
  ServerConfig server;
  // [related]: location name -> action word, validated against the location table later.
  std::map<std::string, std::string> related;
  std::vector<ExtraLocationConfig> related_extra;  // in file order
  OrphansConfig orphans;
  // [discovery] ignore: tables (unprefixed) an admin reviewed: not reported by discovery.
  std::vector<std::string> discovery_ignore;

  // Line of a dotted key ("policy.fields.email", "hashing.key_file") or of a section
  // ("policy.fields"); 0 when the key was not written in the file.
  int line_of(std::string_view dotted_key) const;
  // "path:line" for a key, or "path" when the key was not written.
  std::string where(std::string_view dotted_key) const;

  // The action for a field alias: its rule, or the default.
  Action action_for(std::string_view alias) const;
  // The rule written for a field alias, or nullptr.
  const FieldRule* rule_for(std::string_view alias) const;

  std::map<std::string, int, std::less<>> key_lines;
};

// Parses TOML text. On failure the error holds one line per problem found, each
// `path:line: what is wrong; what to write instead`.
Result<Config> parse_config(std::string_view toml_text, std::string_view path);

// A commented example config, the one `mautic-gdpr init-config` prints and the README shows.
std::string example_config();
// The same with another [database] section (`init-config --from-mautic`).
std::string example_config(std::string_view database_section);
// The [database] section that holds these settings, as TOML.
std::string database_section_toml(const DatabaseConfig& database);

// Levenshtein-based suggestion: the candidate closest to word, if it is close enough.
std::optional<std::string> did_you_mean(std::string_view word,
                                        const std::vector<std::string>& candidates);

}  // namespace mgdpr
