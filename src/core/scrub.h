// SPDX-License-Identifier: GPL-3.0-or-later
// Scrubbing structured column values: PHP-serialized arrays, JSON documents and zlib-compressed
// JSON payloads are parsed, every string value is blanked, and the result is written back in
// the same format, so Mautic can still read it. Keys, numbers, booleans and the structure stay
// (they are what statistics and the audit trail need); the values are what is personal.
#pragma once

#include <cstdint>
#include <set>
#include <string>
#include <string_view>

#include "core/result.h"

namespace mgdpr {

// Blanks every string value of a PHP serialize() value, except the internals of DateTime
// objects (an empty date makes PHP's unserialize() fail; a timestamp is not personal).
Result<std::string> scrub_php_serialized(std::string_view serialized);

// Blanks every string value of a JSON document; keys stay.
Result<std::string> scrub_json(std::string_view json);

Result<std::string> zlib_decompress(std::string_view compressed);
std::string zlib_compress(std::string_view data);

// Contact ids a Mautic webhook payload carries: the "id" of every object found under a
// "contact" or "lead" key, at any depth.
Result<std::set<int64_t>> contact_ids_in_payload(std::string_view json);

}  // namespace mgdpr
