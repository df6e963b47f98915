// SPDX-License-Identifier: GPL-3.0-or-later
#include "core/scrub.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "core/php_serialize.h"

namespace mgdpr {
namespace {

using namespace std::string_literals;

std::string scrub_php_ok(std::string_view input) {
  auto scrubbed = scrub_php_serialized(input);
  EXPECT_TRUE(scrubbed.ok()) << (scrubbed.ok() ? "" : scrubbed.error().message);
  if (!scrubbed.ok()) return "";
  EXPECT_TRUE(php::parse(*scrubbed).ok()) << *scrubbed;
  return *scrubbed;
}

std::string scrub_json_ok(std::string_view input) {
  auto scrubbed = scrub_json(input);
  EXPECT_TRUE(scrubbed.ok()) << (scrubbed.ok() ? "" : scrubbed.error().message);
  return scrubbed.ok() ? *scrubbed : "";
}

std::string nested_json_arrays(int depth) {
  return std::string(size_t(depth), '[') + std::string(size_t(depth), ']');
}

// s:<bytes>:"<bytes>"; spelled out independently of the code under test.
std::string php_string(std::string_view bytes) {
  return "s:" + std::to_string(bytes.size()) + ":\"" + std::string(bytes) + "\";";
}

// --- PHP serialize() -------------------------------------------------------------------------

TEST(ScrubPhp, BlanksStringsKeepsStructure) {
  const std::string input =
      R"(a:2:{s:6:"fields";a:1:{s:5:"email";a:2:{i:0;N;i:1;s:16:"jane@example.org";}})"
      R"(s:5:"count";i:3;})";
  EXPECT_EQ(scrub_php_ok(input),
            R"(a:2:{s:6:"fields";a:1:{s:5:"email";a:2:{i:0;N;i:1;s:0:"";}}s:5:"count";i:3;})");
}

TEST(ScrubPhp, MalformedInputIsAnErrorWithoutTheValue) {
  auto scrubbed = scrub_php_serialized("a:1:{s:5:\"email\";s:40:\"jane@example.org\";}");
  ASSERT_FALSE(scrubbed.ok());
  EXPECT_EQ(scrubbed.error().message.find("jane"), std::string::npos);
}

// PHP stores the query string ?jane.doe@example.org=&utm_source=x as these keys.
TEST(ScrubPhp, KeysThatCarryDataAreReplacedByFreshIntegers) {
  const std::string input =
      R"(a:4:{s:20:"jane_doe@example_org";s:0:"";s:10:"utm_source";s:4:"news";)"
      R"(i:0;s:1:"a";s:8:"Jane Doe";s:1:"x";})";
  // utm_source stays; the address and the name become the next free integers (0 is taken).
  EXPECT_EQ(scrub_php_ok(input),
            R"(a:4:{i:1;s:0:"";s:10:"utm_source";s:0:"";i:0;s:0:"";i:2;s:0:"";})");
}

TEST(ScrubPhp, NumbersThatCouldIdentifyAreCleared) {
  // A phone number as an integer, as an integer key and as a float; small numbers stay.
  EXPECT_EQ(scrub_php_ok("a:4:{s:5:\"phone\";i:4930123456;i:4930123456;s:1:\"x\";"
                         "s:5:\"score\";i:42;s:3:\"avg\";d:4930123456.5;}"),
            "a:4:{s:5:\"phone\";i:0;i:0;s:0:\"\";s:5:\"score\";i:42;s:3:\"avg\";d:0;}");
  EXPECT_EQ(scrub_php_ok("i:-1000000;"), "i:0;");
  EXPECT_EQ(scrub_php_ok("i:999999;"), "i:999999;");
  EXPECT_EQ(scrub_php_ok("d:1.5;"), "d:1.5;");
  EXPECT_EQ(scrub_php_ok("d:INF;"), "d:0;");
}

TEST(ScrubPhp, MauticTokenKeysAndPropertyNamesStay) {
  const std::string input = "a:2:{" + php_string("{contactfield=firstname}") + php_string("Jane") +
                            php_string("{unsubscribe_text}") + php_string("u") + "}";
  EXPECT_EQ(scrub_php_ok(input), "a:2:{" + php_string("{contactfield=firstname}") + php_string("") +
                                     php_string("{unsubscribe_text}") + php_string("") + "}");
  const std::string user = "O:4:\"User\":2:{s:11:\"\0User\0email\";s:1:\"a\";s:4:\"\0*\0n\";i:1;}"s;
  EXPECT_EQ(scrub_php_ok(user),
            "O:4:\"User\":2:{s:11:\"\0User\0email\";s:0:\"\";s:4:\"\0*\0n\";i:1;}"s);
  // A private property whose class part is not a class name is data.
  const std::string odd = "O:4:\"User\":1:{s:11:\"\0a@b.c\0name\";s:1:\"a\";}"s;
  EXPECT_EQ(scrub_php_ok(odd), "O:4:\"User\":1:{i:0;s:0:\"\";}");
}

TEST(ScrubPhp, DateObjectsKeepOnlyWhatPhpNeedsToRebuildThem) {
  // A DateTime carrying another property: the property goes, the date is cleared, the zone stays.
  const std::string date_time =
      R"(O:8:"DateTime":4:{s:4:"date";s:26:"1980-02-03 10:00:00.000000";s:13:"timezone_type";i:3;)"
      R"(s:8:"timezone";s:13:"Europe/Berlin";s:5:"email";s:16:"jane@example.org";})";
  EXPECT_EQ(scrub_php_ok(date_time),
            R"(O:8:"DateTime":3:{s:4:"date";s:26:"1970-01-01 00:00:00.000000";)"
            R"(s:13:"timezone_type";i:3;s:8:"timezone";s:13:"Europe/Berlin";})");
  // A DateTimeZone keeps its name: PHP 8.2 throws on an empty one.
  const std::string zone =
      R"(O:12:"DateTimeZone":2:{s:13:"timezone_type";i:1;s:8:"timezone";s:6:"+02:00";})";
  EXPECT_EQ(scrub_php_ok(zone), zone);
  // A zone name that is no zone name (data hidden there) becomes UTC.
  EXPECT_EQ(
      scrub_php_ok(
          R"(O:12:"DateTimeZone":2:{s:13:"timezone_type";i:3;s:8:"timezone";s:8:"jane doe";})"),
      R"(O:12:"DateTimeZone":2:{s:13:"timezone_type";i:3;s:8:"timezone";s:3:"UTC";})");
  // Subclasses (Carbon) are recognised by their properties.
  const std::string carbon =
      R"(O:13:"Carbon\Carbon":3:{s:4:"date";s:26:"2024-05-01 10:00:00.000000";)"
      R"(s:13:"timezone_type";i:2;s:8:"timezone";s:4:"CEST";})";
  EXPECT_EQ(scrub_php_ok(carbon),
            R"(O:13:"Carbon\Carbon":3:{s:4:"date";s:26:"1970-01-01 00:00:00.000000";)"
            R"(s:13:"timezone_type";i:2;s:8:"timezone";s:4:"CEST";})");
}

TEST(ScrubPhp, CustomPayloadsAreEmptied) {
  const std::string payload = R"(x:i:0;a:1:{s:5:"email";s:16:"jane@example.org";};m:a:0:{})";
  const std::string array_object =
      "C:11:\"ArrayObject\":" + std::to_string(payload.size()) + ":{" + payload + "}";
  ASSERT_TRUE(php::parse(array_object).ok());
  EXPECT_EQ(scrub_php_ok("a:1:{i:0;" + array_object + "}"), R"(a:1:{i:0;C:11:"ArrayObject":0:{}})");
}

TEST(ScrubPhp, ReferencesSurviveScalarEditsButNotReshaping) {
  EXPECT_EQ(scrub_php_ok(R"(a:2:{i:0;s:4:"Jane";i:1;R:2;})"), R"(a:2:{i:0;s:0:"";i:1;R:2;})");
  const std::string reshaped =
      R"(a:2:{i:0;O:8:"DateTime":4:{s:4:"date";s:26:"1980-02-03 10:00:00.000000";)"
      R"(s:13:"timezone_type";i:3;s:8:"timezone";s:3:"UTC";s:1:"x";a:1:{i:0;i:1;}}i:1;r:2;})";
  auto scrubbed = scrub_php_serialized(reshaped);
  ASSERT_FALSE(scrubbed.ok());
  EXPECT_NE(scrubbed.error().message.find("references"), std::string::npos);
}

TEST(ScrubPhp, LimitsAreErrorsNotCrashes) {
  std::string deep;
  for (int i = 0; i < 50'000; ++i) deep += "a:1:{i:0;";
  auto scrubbed = scrub_php_serialized(deep);
  ASSERT_FALSE(scrubbed.ok());
  EXPECT_NE(scrubbed.error().message.find("nesting deeper than 512"), std::string::npos);
  const std::string huge =
      "s:" + std::to_string(kMaxValueBytes) + ":\"" + std::string(kMaxValueBytes, 'x') + "\";";
  auto too_big = scrub_php_serialized(huge);
  ASSERT_FALSE(too_big.ok());
  EXPECT_NE(too_big.error().message.find("larger than"), std::string::npos);
}

TEST(ScrubKeys, StructuralKeysAreIdentifiersOrTokens) {
  for (std::string_view key : {"email", "utm_source", "open-details", "{contactfield=email}",
                               "{contactfield=firstname|there}", "field_123456", "a"}) {
    EXPECT_TRUE(is_structural_key(key)) << key;
  }
  for (std::string_view key : std::initializer_list<std::string_view>{
           "", "jane_doe@example_org", "Jane Doe", "4930123456", "tel_+4930123456", "x.y",
           "{jane doe}", "\xc3\xa9t\xc3\xa9", std::string_view("a\0b", 3)}) {
    EXPECT_FALSE(is_structural_key(key)) << key;
  }
  EXPECT_FALSE(is_structural_key(std::string(65, 'a')));
  EXPECT_TRUE(could_identify(int64_t{4930123456}));
  EXPECT_FALSE(could_identify(int64_t{999'999}));
  EXPECT_TRUE(could_identify(std::nan("")));
}

// --- JSON ------------------------------------------------------------------------------------

TEST(ScrubJson, BlanksStringValuesKeepsStructuralKeysAndSmallNumbers) {
  EXPECT_EQ(scrub_json_ok(R"({"line":5,"row":{"email":"jane@example.org","ok":true}})"),
            R"({"line":5,"row":{"email":"","ok":true}})");
  EXPECT_FALSE(scrub_json("{\"email\": \"jane@").ok());
}

TEST(ScrubJson, KeysAndLongNumbersThatCarryDataAreReplaced) {
  EXPECT_EQ(scrub_json_ok(R"({"jane@example.org":{"phone":4930123456,"n":2.5,"big":1e12},)"
                          R"("redacted_1":null,"Jane Doe":[49301234567890123456]})"),
            // Keys in byte order ("J" before "j"); a number beyond 64 bits is read as a float.
            R"({"redacted_1":null,"redacted_2":[0.0],"redacted_3":{"big":0.0,"n":2.5,"phone":0}})");
}

TEST(ScrubJson, DepthIsLimitedBeforeParsing) {
  EXPECT_TRUE(scrub_json(nested_json_arrays(kMaxNesting)).ok());
  // 50,000 nested brackets (the webhook_queue row that crashed every sweep): an error.
  auto scrubbed = scrub_json(nested_json_arrays(50'000));
  ASSERT_FALSE(scrubbed.ok());
  EXPECT_NE(scrubbed.error().message.find("deeper than 512 levels"), std::string::npos);
  // Unclosed: the same.
  EXPECT_FALSE(scrub_json(std::string(50'000, '[')).ok());
  // Brackets inside strings do not count.
  EXPECT_EQ(scrub_json_ok("[\"" + std::string(10'000, '[') + "\\\"\"]"), "[\"\"]");
}

// --- zlib ------------------------------------------------------------------------------------

TEST(Zlib, RoundTripsAndRejectsGarbage) {
  const std::string text(5000, 'x');
  auto back = zlib_decompress(zlib_compress(text));
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back, text);
  EXPECT_FALSE(zlib_decompress("not zlib at all").ok());
  EXPECT_FALSE(zlib_decompress("").ok());
  EXPECT_FALSE(zlib_decompress(zlib_compress(text).substr(0, 10)).ok());
}

TEST(Zlib, InflationIsBounded) {
  // A few kilobytes that inflate to more than the limit (the 398 KB payload that took a sweep
  // to 1.6 GB): refused once the limit is passed.
  const std::string bomb = zlib_compress(std::string(kMaxValueBytes + 1, '['));
  ASSERT_LT(bomb.size(), 64u * 1024);
  auto inflated = zlib_decompress(bomb);
  ASSERT_FALSE(inflated.ok());
  EXPECT_NE(inflated.error().message.find("inflates to more than"), std::string::npos);
  EXPECT_TRUE(zlib_decompress(zlib_compress(std::string(1000, 'a')), 1000).ok());
  EXPECT_FALSE(zlib_decompress(zlib_compress(std::string(1001, 'a')), 1000).ok());
  EXPECT_FALSE(scrub_compressed_json(bomb).ok());
}

TEST(Zlib, CompressedJsonIsScrubbedInPlace) {
  auto scrubbed = scrub_compressed_json(zlib_compress(R"({"contact":{"email":"jane@x.org"}})"));
  ASSERT_TRUE(scrubbed.ok());
  EXPECT_EQ(*zlib_decompress(*scrubbed), R"({"contact":{"email":""}})");
}

// --- webhook payloads in webhook_queue ---------------------------------------------------------

TEST(WebhookQueuePayload, FindsContactIdsUnderContactOrLead) {
  auto ids = contact_ids_in_payload(
      R"({"mautic.lead_post_save_update":[{"contact":{"id":38186,"fields":{}}},)"
      R"({"lead":{"id":"42"}},{"contact":{"id":1111.0}},{"contact":{"id":1.5}}],)"
      R"("other":{"id":7},"timestamp":"2026-01-01"})");
  ASSERT_TRUE(ids.ok());
  EXPECT_EQ(*ids, (std::set<int64_t>{42, 1111, 38186}));
  EXPECT_FALSE(contact_ids_in_payload("{").ok());
  // Ids beyond 64 bits are no ids (and no undefined behaviour).
  auto huge = contact_ids_in_payload(
      R"([{"contact":{"id":"99999999999999999999"}},{"contact":{"id":1e300}},)"
      R"({"lead":{"id":18446744073709551615}}])");
  ASSERT_TRUE(huge.ok());
  EXPECT_TRUE(huge->empty());
  auto deep = contact_ids_in_payload(nested_json_arrays(50'000));
  ASSERT_FALSE(deep.ok());
  EXPECT_NE(deep.error().message.find("deeper than"), std::string::npos);
}

// --- PHP's own unserialize() as the judge --------------------------------------------------------
//
// Mautic reads these columns with PHP's unserialize(). Every value PHP 8.2 accepts must still be
// accepted after scrubbing, with nothing personal left. PHP (Debian's php-cli, installed by
// scripts/install-deps.sh) writes most of the inputs itself.

namespace fs = std::filesystem;

// The values: query strings PHP turned into arrays, dates and zones of every kind, SPL
// containers, objects with data in their property names, references, long numbers.
constexpr std::string_view kPhpValues = R"php(<?php
parse_str('jane.doe@example.org=&utm_source=news&phone=4930123456&tel_4930123456=1', $query);
$values = [$query];
$values[] = ['fields' => ['email' => [null, 'jane@example.org'], 'mobile' => [4930123456, '+49 30 123456']]];
$values[] = new DateTime('1980-02-03 10:00:00', new DateTimeZone('Europe/Berlin'));
$values[] = new DateTimeImmutable('1980-02-03 10:00:00', new DateTimeZone('+02:00'));
$values[] = (new DateTime('1980-02-03 10:00 CEST'))->getTimezone();
$values[] = new DateTimeZone('America/Argentina/Buenos_Aires');
$values[] = ['date' => new DateTime('1980-02-03'), 'zone' => new DateTimeZone('Europe/Paris')];
$with_property = new DateTime('1980-02-03');
@$with_property->email = 'jane@example.org';
$values[] = $with_property;
$values[] = new ArrayObject(['jane@example.org' => 'Jane', 'phone' => 4930123456]);
$values[] = new ArrayIterator(['Jane Doe' => ['x' => 'jane@example.org']]);
$storage = new SplObjectStorage();
$storage[new DateTime('1980-02-03')] = 'jane@example.org';
$values[] = $storage;
$values[] = SplFixedArray::fromArray(['jane@example.org', 4930123456]);
$list = new SplDoublyLinkedList();
$list->push('jane@example.org');
$values[] = $list;
$queue = new SplQueue();
$queue->enqueue('Jane Doe');
$values[] = $queue;
$object = new stdClass();
$object->{'jane@example.org'} = 'Jane';
$object->{'4930123456'} = 4930123456;
$object->nested = (object) ['Jane Doe' => (object) ['tel' => '+4930123456']];
$values[] = $object;
$values[] = new Exception('jane@example.org', 4930123456);
$values[] = new DateInterval('P1DT2H');
$values[] = new DatePeriod(new DateTime('1980-02-03'), new DateInterval('P1D'), 2);
$values[] = [4930123456 => 'key is a phone number', 12 => 'small', -5000000 => 'negative'];
$values[] = [4930123456.0, 1.5, INF, -INF, NAN, 1.0E+25, -0.0];
$values[] = ['tokens' => ['{contactfield=firstname}' => 'Jane', '{contactfield=email}' => 'jane@example.org']];
$shared = new DateTime('1980-02-03');
$values[] = [$shared, $shared, 'x' => $shared];
$by_reference = ['x' => 'jane@example.org'];
$by_reference['y'] = &$by_reference['x'];
$values[] = $by_reference;
$twice = (object) ['email' => 'jane@example.org'];
$values[] = ['a' => $twice, 'b' => $twice, 'jane@example.org' => [$twice]];
$values[] = [$with_property, $with_property];
foreach ($values as $value) echo base64_encode(serialize($value)), "\n";
)php";

// Reads "original<TAB>rewritten" lines (base64); fails for each rewritten value PHP rejects
// although it accepted the original.
constexpr std::string_view kPhpJudge = R"php(<?php
function accepted(string $s): bool {
  try {
    $value = @unserialize($s);
    return $value !== false || $s === serialize(false);
  } catch (Throwable $e) {
    return false;
  }
}
$both = 0; $rejected = 0;
foreach (file($argv[1], FILE_IGNORE_NEW_LINES) as $n => $line) {
  [$original, $rewritten] = array_map('base64_decode', explode("\t", $line));
  if (!accepted($original)) continue;
  if (accepted($rewritten)) { $both++; } else { $rejected++; echo "rejected: line ", $n + 1, "\n"; }
}
echo "accepted=$both rejected=$rejected\n";
exit($rejected > 0 ? 1 : 0);
)php";

std::string base64(std::string_view bytes) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  size_t i = 0;
  for (; i + 2 < bytes.size(); i += 3) {
    const auto n = (uint32_t(uint8_t(bytes[i])) << 16) | (uint32_t(uint8_t(bytes[i + 1])) << 8) |
                   uint8_t(bytes[i + 2]);
    for (int shift : {18, 12, 6, 0}) out += kAlphabet[(n >> shift) & 63];
  }
  if (i < bytes.size()) {
    uint32_t n = uint32_t(uint8_t(bytes[i])) << 16;
    if (i + 1 < bytes.size()) n |= uint32_t(uint8_t(bytes[i + 1])) << 8;
    out += kAlphabet[(n >> 18) & 63];
    out += kAlphabet[(n >> 12) & 63];
    out += i + 1 < bytes.size() ? kAlphabet[(n >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

std::string base64_decode(std::string_view text) {
  std::string out;
  uint32_t buffer = 0;
  int bits = 0;
  for (char c : text) {
    int value = -1;
    if (c >= 'A' && c <= 'Z') value = c - 'A';
    if (c >= 'a' && c <= 'z') value = c - 'a' + 26;
    if (c >= '0' && c <= '9') value = c - '0' + 52;
    if (c == '+') value = 62;
    if (c == '/') value = 63;
    if (value < 0) continue;
    buffer = (buffer << 6) | uint32_t(value);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += char((buffer >> bits) & 0xff);
    }
  }
  return out;
}

// Runs `php -n script [argument]`; stdout and the exit code.
std::pair<int, std::string> run_php(const fs::path& script, const std::string& argument = "") {
  const std::string command = "php -n '" + script.string() + "'" +
                              (argument.empty() ? "" : " '" + argument + "'") + " 2>&1";
  FILE* pipe = ::popen(command.c_str(), "r");
  if (pipe == nullptr) return {-1, "popen failed"};
  std::string out;
  char buffer[4096];
  size_t n;
  while ((n = std::fread(buffer, 1, sizeof buffer, pipe)) > 0) out.append(buffer, n);
  const int status = ::pclose(pipe);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
}

TEST(ScrubPhpJudge, PhpStillReadsEveryRewrittenValue) {
  const fs::path dir =
      fs::temp_directory_path() / ("mgdpr-php-judge-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  std::ofstream(dir / "values.php") << kPhpValues;
  std::ofstream(dir / "judge.php") << kPhpJudge;
  const auto [made, generated] = run_php(dir / "values.php");
  ASSERT_EQ(made, 0) << "php-cli is needed (scripts/install-deps.sh installs it): " << generated;

  std::vector<std::string> inputs;
  std::istringstream lines(generated);
  for (std::string line; std::getline(lines, line);) inputs.push_back(base64_decode(line));
  ASSERT_GE(inputs.size(), 25u) << generated;
  // Forms PHP 8.2 reads but no longer writes: Serializable payloads (older Mautic rows).
  const std::string payload = R"(x:i:0;a:1:{s:5:"email";s:16:"jane@example.org";};m:a:0:{})";
  for (const char* name : {"ArrayObject", "ArrayIterator"}) {
    inputs.push_back("C:" + std::to_string(std::string_view(name).size()) + ":\"" + name +
                     "\":" + std::to_string(payload.size()) + ":{" + payload + "}");
  }
  inputs.push_back(R"(O:12:"DateTimeZone":3:{s:13:"timezone_type";i:3;s:8:"timezone";s:3:"UTC";)"
                   R"(s:5:"email";s:16:"jane@example.org";})");

  std::string pairs;
  int cleared = 0;
  for (const std::string& input : inputs) {
    auto scrubbed = scrub_php_serialized(input);
    // What the sweep writes when a value cannot be rewritten: an empty array.
    const std::string written = scrubbed.ok() ? *scrubbed : std::string(kEmptyPhpArray);
    if (!scrubbed.ok()) ++cleared;
    for (std::string_view personal : {"jane", "Jane", "4930123456", "123456", "1980"}) {
      EXPECT_EQ(written.find(personal), std::string::npos) << personal << " left in " << written;
    }
    pairs += base64(input) + "\t" + base64(written) + "\n";
  }
  EXPECT_LE(cleared, 2);  // only the values with references next to a dropped part
  std::ofstream(dir / "pairs.txt") << pairs;
  const auto [judged, verdict] = run_php(dir / "judge.php", (dir / "pairs.txt").string());
  EXPECT_EQ(judged, 0) << verdict;
  EXPECT_NE(verdict.find("accepted=" + std::to_string(inputs.size()) + " "), std::string::npos)
      << verdict;
  fs::remove_all(dir);
}

}  // namespace
}  // namespace mgdpr
