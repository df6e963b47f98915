// SPDX-License-Identifier: GPL-3.0-or-later
// Secrets come from files or environment variables named in the config, never from the
// command line. Key files that others can read are refused.
#pragma once

#include <string>

#include "core/config.h"
#include "core/hashing.h"
#include "core/result.h"

namespace mgdpr::app {

// Reads the config file and parses it.
Result<Config> load_config_file(const std::string& path);

// The hash key from [hashing] key_file: hex text (as keygen writes it) or raw bytes, at least
// 32 bytes, in a regular file no one but the owner can read.
Result<HashKey> load_hash_key(const Config& config);

// The active key (key_file) and the older ones of [hashing.keyring], each checked the same way
// and against the fingerprint its line names.
Result<KeyRing> load_key_ring(const Config& config);

// Where the config says a secret is: an environment variable or a file (keys as in
// Config::where, e.g. "server.secret_env").
struct SecretSource {
  const std::string& env;
  std::string_view env_key;
  const std::string& file;
  std::string_view file_key;
  std::string_view what;       // "database password", in "export it with the ..."
  std::string_view file_kind;  // "password file", in "the ... `path` can be read by everyone"
};
// The secret from its environment variable, or the first line of its file, which no one but
// the owner may read; nullopt when the config names neither.
Result<std::optional<std::string>> load_secret(const Config& config, const SecretSource& source);
// The database password from password_env or password_file ("" when neither is set).
Result<std::string> load_database_password(const Config& config);

// Creates `path` with `content` and `mode` (whatever the umask), never over an existing file:
// then the error says so and adds `if_exists` ("replacing a key makes ..."). A file that could
// not be written completely is removed again.
Status write_new_file(const std::string& path, std::string_view content, unsigned mode,
                      std::string_view if_exists);

// Writes a new random key as hex text with mode 0600. Refuses to overwrite an existing file:
// losing a key makes every earlier hash unfindable.
Status write_new_key(const std::string& path);

struct KeyRotation {
  std::string new_fingerprint;
  std::string old_fingerprint;
  std::string old_key_file;
};

// `keygen --rotate`: checks the config and its keys, writes a new key to new_key_path (never
// over a file), and rewrites the config file (atomically, same mode and owner) so that
// key_file names the new key and the old one is listed under [hashing.keyring]. The database
// learns of the new key on the next sweep or serve start (mautic::match_key_ring).
Result<KeyRotation> rotate_key(const std::string& config_path, const std::string& new_key_path);

}  // namespace mgdpr::app
