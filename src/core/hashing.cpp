// SPDX-License-Identifier: GPL-3.0-or-later
#include "core/hashing.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <cstdio>
#include <cstdlib>

namespace mgdpr {
namespace {

// OpenSSL fails here only when it cannot allocate or the digest is disabled (MD5 in FIPS-only
// mode). The signatures promise a digest, and an empty or wrong one would silently corrupt
// data, so stopping is the only safe answer.
[[noreturn]] void openssl_failed(const char* what) {
  std::fprintf(stderr, "mautic-gdpr: OpenSSL could not compute %s; stopping\n", what);
  std::abort();
}

std::string digest_hex(const EVP_MD* algorithm, const char* name, std::string_view data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  if (algorithm == nullptr ||
      EVP_Digest(data.data(), data.size(), digest, &length, algorithm, nullptr) != 1) {
    openssl_failed(name);
  }
  return to_hex(std::string_view(reinterpret_cast<const char*>(digest), length));
}

}  // namespace

std::string hmac_sha256_hex(std::string_view key, std::string_view data) {
  // OpenSSL reads a null key pointer as "reuse the previous key", so an empty key gets a
  // valid pointer with length 0.
  static const unsigned char kNoKey = 0;
  const void* key_bytes = key.empty() ? static_cast<const void*>(&kNoKey) : key.data();
  static const unsigned char kNoData = 0;
  const unsigned char* data_bytes =
      data.empty() ? &kNoData : reinterpret_cast<const unsigned char*>(data.data());
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  if (HMAC(EVP_sha256(), key_bytes, static_cast<int>(key.size()), data_bytes, data.size(), mac,
           &length) == nullptr) {
    openssl_failed("HMAC-SHA256");
  }
  return to_hex(std::string_view(reinterpret_cast<const char*>(mac), length));
}

Result<HashKey> HashKey::from_bytes(std::string_view bytes) {
  if (bytes.size() < kMinKeyBytes) {
    return Error{
        fmt::format("the key is {} bytes; a key needs at least {} random bytes: create one with "
                    "`mautic-gdpr keygen --out PATH`",
                    bytes.size(), kMinKeyBytes)};
  }
  return HashKey(std::string(bytes));
}

HashKey::~HashKey() { OPENSSL_cleanse(bytes_.data(), bytes_.size()); }

std::string HashKey::hmac_hex(std::string_view data) const { return hmac_sha256_hex(bytes_, data); }

std::string HashKey::fingerprint() const { return hmac_hex("mautic-gdpr key fingerprint v1"); }

KeyRing::KeyRing(HashKey active) {
  std::string fingerprint = active.fingerprint();
  entries_.push_back({std::move(active), std::move(fingerprint), 0});
}

void KeyRing::add_older(HashKey key) {
  std::string fingerprint = key.fingerprint();
  for (const Entry& entry : entries_) {
    if (entry.fingerprint == fingerprint) return;
  }
  entries_.push_back({std::move(key), std::move(fingerprint), 0});
}

std::vector<std::string> KeyRing::digests(std::string_view normalized) const {
  std::vector<std::string> digests;
  digests.reserve(entries_.size());
  for (const Entry& entry : entries_) digests.push_back(entry.key.hmac_hex(normalized));
  return digests;
}

std::string to_hex(std::string_view bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string hex;
  hex.reserve(bytes.size() * 2);
  for (char c : bytes) {
    const auto byte = static_cast<unsigned char>(c);
    hex.push_back(kDigits[byte >> 4]);
    hex.push_back(kDigits[byte & 0x0f]);
  }
  return hex;
}

bool looks_like_digest(std::string_view value) {
  if (value.size() != kDigestHexLength) return false;
  for (char c : value) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

std::string legacy_md5_hex(std::string_view salt, std::string_view value) {
  std::string salted;
  salted.reserve(salt.size() * 2 + value.size());
  salted.append(salt).append(value).append(salt);
  return digest_hex(EVP_md5(), "MD5", salted);
}

std::string sha256_hex(std::string_view data) { return digest_hex(EVP_sha256(), "SHA-256", data); }

}  // namespace mgdpr
