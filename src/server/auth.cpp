// SPDX-License-Identifier: GPL-3.0-or-later
#include "server/auth.h"

#include <sodium.h>

#include <algorithm>

#include "core/hashing.h"

namespace mgdpr::server {

namespace {

bool sodium_ready() {
  static const bool ready = sodium_init() >= 0;
  return ready;
}

}  // namespace

Result<std::string> hash_password(std::string_view password) {
  if (!sodium_ready()) return make_error("libsodium could not be initialised");
  char hash[crypto_pwhash_STRBYTES];
  if (crypto_pwhash_str(hash, password.data(), password.size(), crypto_pwhash_OPSLIMIT_INTERACTIVE,
                        crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0) {
    return make_error("hashing the password failed: not enough memory (Argon2id needs 64 MiB)");
  }
  return std::string(hash);
}

bool password_matches(std::string_view hash, std::string_view password) {
  if (!sodium_ready() || hash.size() >= crypto_pwhash_STRBYTES) return false;
  char terminated[crypto_pwhash_STRBYTES] = {};
  std::copy(hash.begin(), hash.end(), terminated);
  return crypto_pwhash_str_verify(terminated, password.data(), password.size()) == 0;
}

std::string random_token() {
  (void)sodium_ready();
  unsigned char bytes[32];
  randombytes_buf(bytes, sizeof bytes);
  return to_hex(std::string_view(reinterpret_cast<const char*>(bytes), sizeof bytes));
}

bool equal_in_constant_time(std::string_view a, std::string_view b) {
  if (a.size() != b.size() || a.empty()) return false;
  return sodium_memcmp(a.data(), b.data(), a.size()) == 0;
}

Users::Users(std::vector<WebUser> users) : users_(std::move(users)) {
  // A hash of a random password with the same cost as the real ones.
  auto decoy = hash_password(random_token());
  if (decoy) decoy_hash_ = std::move(*decoy);
}

bool Users::exists(std::string_view name) const {
  return std::any_of(users_.begin(), users_.end(),
                     [&](const WebUser& user) { return user.name == name; });
}

bool Users::check(std::string_view name, std::string_view password) const {
  for (const WebUser& user : users_) {
    if (user.name == name) return password_matches(user.password_hash, password);
  }
  (void)password_matches(decoy_hash_, password);
  return false;
}

SessionStore::SessionStore(std::chrono::minutes idle, std::chrono::minutes lifetime)
    : idle_(idle), lifetime_(lifetime) {}

std::string SessionStore::create(const std::string& user, Clock::time_point now) {
  std::lock_guard lock(mutex_);
  drop_expired(now);
  std::string id = random_token();
  sessions_[id] = WebSession{user, random_token(), now, now, {}};
  return id;
}

std::optional<WebSession> SessionStore::find(std::string_view id, Clock::time_point now) {
  std::lock_guard lock(mutex_);
  auto found = sessions_.find(id);
  if (found == sessions_.end()) return std::nullopt;
  WebSession& session = found->second;
  if (now - session.last_seen > idle_ || now - session.created > lifetime_) {
    sessions_.erase(found);
    return std::nullopt;
  }
  session.last_seen = now;
  return session;
}

void SessionStore::end(std::string_view id) {
  std::lock_guard lock(mutex_);
  if (auto found = sessions_.find(id); found != sessions_.end()) sessions_.erase(found);
}

void SessionStore::remember_found(std::string_view id, std::vector<int64_t> contacts) {
  std::lock_guard lock(mutex_);
  if (auto found = sessions_.find(id); found != sessions_.end()) {
    found->second.found = std::move(contacts);
  }
}

size_t SessionStore::size() {
  std::lock_guard lock(mutex_);
  return sessions_.size();
}

void SessionStore::drop_expired(Clock::time_point now) {
  std::erase_if(sessions_, [&](const auto& entry) {
    return now - entry.second.last_seen > idle_ || now - entry.second.created > lifetime_;
  });
}

RateLimiter::RateLimiter(int limit, std::chrono::seconds window)
    : limit_(std::max(1, limit)), window_(window) {}

bool RateLimiter::allow(const std::string& key, std::chrono::seconds* retry_after,
                        Clock::time_point now) {
  std::lock_guard lock(mutex_);
  forget_idle(now);
  auto& times = attempts_[key];
  while (!times.empty() && now - times.front() >= window_) times.pop_front();
  if (int(times.size()) >= limit_) {
    if (retry_after != nullptr) {
      *retry_after =
          std::max(std::chrono::seconds(1),
                   std::chrono::ceil<std::chrono::seconds>(times.front() + window_ - now));
    }
    return false;
  }
  times.push_back(now);
  return true;
}

int RateLimiter::remaining(const std::string& key, Clock::time_point now) {
  std::lock_guard lock(mutex_);
  auto found = attempts_.find(key);
  if (found == attempts_.end()) return limit_;
  const auto recent = std::count_if(found->second.begin(), found->second.end(),
                                    [&](Clock::time_point at) { return now - at < window_; });
  return std::max(0, limit_ - int(recent));
}

// Bounded memory under many clients: at most once a minute, keys with no attempt in the
// window go.
void RateLimiter::forget_idle(Clock::time_point now) {
  if (now - last_cleanup_ < std::chrono::minutes(1)) return;
  last_cleanup_ = now;
  std::erase_if(attempts_, [&](const auto& entry) {
    return entry.second.empty() || now - entry.second.back() >= window_;
  });
}

}  // namespace mgdpr::server
