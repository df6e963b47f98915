// SPDX-License-Identifier: GPL-3.0-or-later
#include "core/hashing.h"

#include <gtest/gtest.h>

#include <string>

namespace mgdpr {
namespace {

std::string repeated(char byte, size_t count) { return std::string(count, byte); }

// RFC 4231, HMAC-SHA-256 test cases (case 5 truncates the output and is left out).
TEST(HmacSha256Test, Rfc4231Case1) {
  EXPECT_EQ(hmac_sha256_hex(repeated('\x0b', 20), "Hi There"),
            "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
}

TEST(HmacSha256Test, Rfc4231Case2ShortKey) {
  EXPECT_EQ(hmac_sha256_hex("Jefe", "what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

TEST(HmacSha256Test, Rfc4231Case3) {
  EXPECT_EQ(hmac_sha256_hex(repeated('\xaa', 20), repeated('\xdd', 50)),
            "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe");
}

TEST(HmacSha256Test, Rfc4231Case4) {
  std::string key;
  for (char byte = 1; byte <= 25; ++byte) key.push_back(byte);
  EXPECT_EQ(hmac_sha256_hex(key, repeated('\xcd', 50)),
            "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b");
}

TEST(HmacSha256Test, Rfc4231Case6KeyLargerThanBlock) {
  EXPECT_EQ(hmac_sha256_hex(repeated('\xaa', 131),
                            "Test Using Larger Than Block-Size Key - Hash Key First"),
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
}

TEST(HmacSha256Test, Rfc4231Case7KeyAndDataLargerThanBlock) {
  EXPECT_EQ(hmac_sha256_hex(repeated('\xaa', 131),
                            "This is a test using a larger than block-size key and a larger "
                            "than block-size data. The key needs to be hashed before being "
                            "used by the HMAC algorithm."),
            "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2");
}

TEST(HmacSha256Test, EmptyKeyAndData) {
  EXPECT_EQ(hmac_sha256_hex("", ""),
            "b613679a0814d9ec772f95d778c35fc5ff1697c493715653c6c712144292c5ad");
}

TEST(HashKeyTest, RejectsShortKeyWithHowToMakeOne) {
  auto key = HashKey::from_bytes(repeated('k', 31));
  ASSERT_FALSE(key.ok());
  EXPECT_EQ(key.error().message,
            "the key is 31 bytes; a key needs at least 32 random bytes: create one with "
            "`mautic-gdpr keygen --out PATH`");
  EXPECT_FALSE(HashKey::from_bytes("").ok());
}

TEST(HashKeyTest, AcceptsThirtyTwoBytes) {
  auto key = HashKey::from_bytes(repeated('k', 32));
  ASSERT_TRUE(key.ok()) << key.error().message;
}

TEST(HashKeyTest, HmacHexIsHmacSha256WithTheKey) {
  // RFC 4231 cases 6 and 7 have keys long enough for a HashKey.
  auto key = HashKey::from_bytes(repeated('\xaa', 131));
  ASSERT_TRUE(key.ok());
  EXPECT_EQ(key->hmac_hex("Test Using Larger Than Block-Size Key - Hash Key First"),
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
}

TEST(HashKeyTest, FingerprintIsHmacOfFixedLabel) {
  auto key = HashKey::from_bytes(repeated('k', 32));
  ASSERT_TRUE(key.ok());
  // python3: hmac.new(b'k' * 32, b'mautic-gdpr key fingerprint v1', hashlib.sha256)
  EXPECT_EQ(key->fingerprint(), "00818f62b65e9ab36a3ac854665be40dfb5a4d08bf182f06623f812f58512229");
  EXPECT_EQ(key->fingerprint(), key->hmac_hex("mautic-gdpr key fingerprint v1"));
  EXPECT_TRUE(looks_like_digest(key->fingerprint()));
}

TEST(HashKeyTest, DifferentKeysDifferentFingerprints) {
  auto first = HashKey::from_bytes(repeated('k', 32));
  auto second = HashKey::from_bytes(repeated('l', 32));
  ASSERT_TRUE(first.ok() && second.ok());
  EXPECT_NE(first->fingerprint(), second->fingerprint());
  EXPECT_NE(first->hmac_hex("jane@example.com"), second->hmac_hex("jane@example.com"));
}

TEST(HashKeyTest, CopiesAndMovesHashTheSame) {
  auto key = HashKey::from_bytes(repeated('k', 40));
  ASSERT_TRUE(key.ok());
  const std::string expected = key->hmac_hex("x");
  HashKey copy = *key;
  HashKey moved = std::move(copy);
  EXPECT_EQ(moved.hmac_hex("x"), expected);
}

TEST(ToHexTest, LowercaseTwoDigitsPerByte) {
  EXPECT_EQ(to_hex(""), "");
  EXPECT_EQ(to_hex(std::string("\x00\x01\x7f\x80\xff", 5)), "00017f80ff");
  EXPECT_EQ(to_hex("AZ"), "415a");
}

TEST(LooksLikeDigestTest, ExactlySixtyFourLowercaseHex) {
  const std::string digest = "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7";
  EXPECT_TRUE(looks_like_digest(digest));
  EXPECT_TRUE(looks_like_digest(std::string(64, '0')));
  EXPECT_FALSE(looks_like_digest(digest.substr(1)));
  EXPECT_FALSE(looks_like_digest(digest + "0"));
  EXPECT_FALSE(looks_like_digest(""));
  std::string upper = digest;
  upper[0] = 'B';
  EXPECT_FALSE(looks_like_digest(upper));
  std::string not_hex = digest;
  not_hex[63] = 'g';
  EXPECT_FALSE(looks_like_digest(not_hex));
  EXPECT_FALSE(looks_like_digest("jane@example.com"));
}

TEST(Md5Test, KnownDigests) {
  // With an empty salt the legacy form is plain md5(value).
  EXPECT_EQ(legacy_md5_hex("", ""), "d41d8cd98f00b204e9800998ecf8427e");
  EXPECT_EQ(legacy_md5_hex("", "abc"), "900150983cd24fb0d6963f7d28e17f72");
  EXPECT_EQ(legacy_md5_hex("", "The quick brown fox jumps over the lazy dog"),
            "9e107d9d372bb6826bd81d3542a419d6");
}

TEST(Md5Test, LegacyFormIsSaltValueSalt) {
  // python3: hashlib.md5(b'5f2bsalt' + b'jane@example.com' + b'5f2bsalt')
  EXPECT_EQ(legacy_md5_hex("5f2bsalt", "jane@example.com"), "5f033e6f55f871c8c237c1d13a59bcb4");
  EXPECT_EQ(legacy_md5_hex("ab", "c"), legacy_md5_hex("", "abcab"));
  EXPECT_NE(legacy_md5_hex("ab", "c"), legacy_md5_hex("", "abc"));
}

TEST(Sha256Test, KnownDigests) {
  EXPECT_EQ(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(sha256_hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

TEST(KeyRingTest, ActiveKeyFirstOlderKeysOnceEach) {
  auto first = HashKey::from_bytes(repeated('k', 32));
  auto second = HashKey::from_bytes(repeated('l', 32));
  auto third = HashKey::from_bytes(repeated('m', 32));
  ASSERT_TRUE(first.ok() && second.ok() && third.ok());
  KeyRing ring(*third);
  ring.add_older(*second);
  ring.add_older(*first);
  ring.add_older(*second);  // listed twice: one entry
  ring.add_older(*third);   // the active key is no older key
  ASSERT_EQ(ring.entries().size(), 3u);
  EXPECT_EQ(ring.active().fingerprint, third->fingerprint());
  EXPECT_EQ(ring.entries()[1].fingerprint, second->fingerprint());
  EXPECT_EQ(ring.entries()[2].fingerprint, first->fingerprint());
  EXPECT_EQ(ring.active().id, 0);  // unknown until matched with a database
  ring.set_id(2, 1);
  EXPECT_EQ(ring.entries()[2].id, 1);

  const auto digests = ring.digests("jane@example.com");
  ASSERT_EQ(digests.size(), 3u);
  EXPECT_EQ(digests[0], third->hmac_hex("jane@example.com"));
  EXPECT_EQ(digests[1], second->hmac_hex("jane@example.com"));
  EXPECT_EQ(digests[2], first->hmac_hex("jane@example.com"));
}

}  // namespace
}  // namespace mgdpr
