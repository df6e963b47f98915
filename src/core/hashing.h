// SPDX-License-Identifier: GPL-3.0-or-later
// Keyed one-way hashes: HMAC-SHA256 with a secret key that never enters the database.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace mgdpr {

inline constexpr size_t kMinKeyBytes = 32;
inline constexpr size_t kDigestHexLength = 64;

class HashKey {
 public:
  // Rejects keys shorter than kMinKeyBytes.
  static Result<HashKey> from_bytes(std::string_view bytes);

  // Lowercase hex HMAC-SHA256 of data.
  std::string hmac_hex(std::string_view data) const;

  // HMAC of a fixed label: identifies the key without revealing it. Stored in the database so
  // that a sweep or lookup with another key is refused.
  std::string fingerprint() const;

  // Wipes the key bytes, so that a freed key does not linger in memory.
  ~HashKey();
  HashKey(const HashKey&) = default;
  HashKey(HashKey&&) noexcept = default;
  HashKey& operator=(const HashKey&) = default;
  HashKey& operator=(HashKey&&) noexcept = default;

 private:
  explicit HashKey(std::string bytes) : bytes_(std::move(bytes)) {}
  std::string bytes_;
};

// The keys a database's digests are made with. The active key makes every new digest; older
// keys (after a rotation) stay for lookups and the re-import guard only, since a digest cannot
// be made again without the value it came from. `id` is the number the database knows a key
// by (gdpr_keys.id, recorded with each digest); 0 until a session has matched the ring with
// the database.
class KeyRing {
 public:
  struct Entry {
    HashKey key;
    std::string fingerprint;
    int64_t id = 0;
  };

  explicit KeyRing(HashKey active);
  // An older key; a key already in the ring is not added twice.
  void add_older(HashKey key);
  void set_id(size_t index, int64_t id) { entries_[index].id = id; }

  const Entry& active() const { return entries_.front(); }
  // The active key first, then the older ones in the order they were added.
  std::span<const Entry> entries() const { return entries_; }
  // The digest of a normalized value under every key, the active key's first.
  std::vector<std::string> digests(std::string_view normalized) const;

 private:
  std::vector<Entry> entries_;
};

// Lowercase hex HMAC-SHA256 with any key, even a short one. HashKey uses it after checking the
// key length; it is public so that the RFC 4231 vectors (short keys) can be tested.
std::string hmac_sha256_hex(std::string_view key, std::string_view data);

// Lowercase hex of arbitrary bytes.
std::string to_hex(std::string_view bytes);

// True when value has the exact shape of a stored digest (64 lowercase hex characters).
bool looks_like_digest(std::string_view value);

// The LeadEngine GDPR plugin's form: md5(salt + value + salt), lowercase hex.
std::string legacy_md5_hex(std::string_view salt, std::string_view value);

// SHA-256 of data, lowercase hex (for fingerprints of non-secret data such as the policy).
std::string sha256_hex(std::string_view data);

}  // namespace mgdpr
