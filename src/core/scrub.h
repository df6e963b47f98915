// SPDX-License-Identifier: GPL-3.0-or-later
// Scrubbing structured column values: PHP-serialized values, JSON documents and zlib-compressed
// JSON payloads are parsed, everything that cannot be proven clean is cleared, and the result
// is written back in the same format, so Mautic can still read it.
//
// The rule, for PHP and JSON alike:
// - every string value is blanked;
// - a number that could identify someone (7 or more digits: a phone number, an id, a
//   timestamp) becomes 0; smaller numbers, booleans and nulls stay (counts, flags);
// - keys are values too: a key is kept only when it names structure (an identifier of
//   letters, digits, `_` and `-`, or a Mautic token such as `{contactfield=email}`, at most
//   64 bytes, no run of 7 digits); any other key (PHP turns `?jane.doe@example.org` into the
//   key `jane_doe@example_org`) is replaced by a fresh one: the next free integer in PHP,
//   `redacted_N` in JSON;
// - PHP objects keep what PHP needs to rebuild them: the class, and for the date classes
//   (anything with a `timezone_type`: DateTime, DateTimeImmutable, Carbon, DateTimeZone) only
//   `date` (set to 1970-01-01 00:00:00), `timezone_type` and a well-formed `timezone` name;
//   a `C:` custom payload (ArrayObject, SplObjectStorage, ...) is emptied, which PHP reads as
//   an empty object of that class.
// A value that cannot be parsed, is beyond a limit (core/limits.h), or holds PHP references
// (r:, R:) next to a part that had to be dropped is an error: the caller clears the whole value
// and names the row. Error messages never quote the value.
#pragma once

#include <cstddef>
#include <cstdint>
#include <set>
#include <string>
#include <string_view>

#include "core/limits.h"
#include "core/result.h"

namespace mgdpr {

// What a serialized column holds once cleared when it cannot be NULL: every serialized column
// of Mautic is Doctrine's `array` type, which fails on an empty string but reads this.
inline constexpr std::string_view kEmptyPhpArray = "a:0:{}";

Result<std::string> scrub_php_serialized(std::string_view serialized);

Result<std::string> scrub_json(std::string_view json);

// Inflates zlib data; more than max_bytes of output is an error (a small payload can expand a
// thousandfold), reported before that much is held.
Result<std::string> zlib_decompress(std::string_view compressed,
                                    std::size_t max_bytes = kMaxValueBytes);
std::string zlib_compress(std::string_view data);

// Inflates, scrubs the JSON and compresses again: webhook_queue.payload_compressed.
Result<std::string> scrub_compressed_json(std::string_view compressed);

// Contact ids a Mautic webhook payload carries: the "id" of every object found under a
// "contact" or "lead" key, at any depth; an id may be a number, a numeric string or a whole
// float (1111.0).
Result<std::set<int64_t>> contact_ids_in_payload(std::string_view json);

// True when a key names structure rather than carrying data (see the rule above).
bool is_structural_key(std::string_view key);

// True when a number is long enough to identify someone (7 or more digits).
bool could_identify(int64_t number);
bool could_identify(double number);

}  // namespace mgdpr
