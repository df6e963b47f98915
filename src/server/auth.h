// SPDX-License-Identifier: GPL-3.0-or-later
// Who may use the pages: password hashes (libsodium Argon2id), page sessions held in memory,
// CSRF tokens, and sliding-window rate limits. Nothing here touches the network or database.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/config.h"
#include "core/result.h"

namespace mgdpr::server {

using Clock = std::chrono::steady_clock;

// An Argon2id hash string of the password (crypto_pwhash_str, libsodium's interactive limits:
// 64 MiB and about 0.1 s per check), what `mautic-gdpr passwd` prints.
Result<std::string> hash_password(std::string_view password);

// True when password matches the hash.
bool password_matches(std::string_view hash, std::string_view password);

// 32 random bytes, as 64 hex characters: session ids and CSRF tokens.
std::string random_token();

// Equality that takes the same time wherever the strings differ.
bool equal_in_constant_time(std::string_view a, std::string_view b);

// The users from [server.users]. Checking an unknown name costs as much as a known one, so
// the answer time does not tell which names exist.
class Users {
 public:
  explicit Users(std::vector<WebUser> users);
  bool empty() const { return users_.empty(); }
  bool exists(std::string_view name) const;
  bool check(std::string_view name, std::string_view password) const;

 private:
  std::vector<WebUser> users_;
  std::string decoy_hash_;
};

struct WebSession {
  std::string user;
  std::string csrf;  // the token every form of this session carries
  Clock::time_point created;
  Clock::time_point last_seen;
  // The contacts this session's last lookup found: the only ones its export and erase forms
  // may name (a contact id typed into a form reaches nobody the user did not look up).
  std::vector<int64_t> found;
};

// Page sessions by random id. A session ends after `idle` without a request, and in any case
// `lifetime` after login. Held in memory: a restart logs everyone out.
class SessionStore {
 public:
  SessionStore(std::chrono::minutes idle, std::chrono::minutes lifetime);

  // A new session for user; returns its id (the cookie value).
  std::string create(const std::string& user, Clock::time_point now = Clock::now());
  // The live session with this id (refreshing its idle timer), or nothing.
  std::optional<WebSession> find(std::string_view id, Clock::time_point now = Clock::now());
  void end(std::string_view id);
  // Records what the session's lookup found (replacing the previous lookup's contacts).
  void remember_found(std::string_view id, std::vector<int64_t> contacts);
  size_t size();

 private:
  void drop_expired(Clock::time_point now);
  std::mutex mutex_;
  std::map<std::string, WebSession, std::less<>> sessions_;
  std::chrono::minutes idle_;
  std::chrono::minutes lifetime_;
};

// At most `limit` attempts per key within any `window`. Keys are client addresses (logins) or
// user names (lookups); keys with no recent attempt are forgotten.
class RateLimiter {
 public:
  RateLimiter(int limit, std::chrono::seconds window);

  // Records an attempt and returns true, or returns false (recording nothing) when the key is
  // at its limit; then *retry_after says when the next attempt is allowed.
  bool allow(const std::string& key, std::chrono::seconds* retry_after = nullptr,
             Clock::time_point now = Clock::now());
  // Attempts the key has left in the current window.
  int remaining(const std::string& key, Clock::time_point now = Clock::now());

 private:
  void forget_idle(Clock::time_point now);
  std::mutex mutex_;
  std::map<std::string, std::deque<Clock::time_point>> attempts_;
  int limit_;
  std::chrono::seconds window_;
  Clock::time_point last_cleanup_{};
};

}  // namespace mgdpr::server
