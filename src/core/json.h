// SPDX-License-Identifier: GPL-3.0-or-later
// The one way mautic-gdpr reads JSON (column values, webhook bodies): nlohmann::json without
// exceptions, behind a size and nesting check. nlohmann's parser is iterative, but copying,
// dumping and walking a document recurse once per level, so depth is refused before parsing.
#pragma once

#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string_view>

#include "core/limits.h"
#include "core/result.h"

namespace mgdpr {

struct JsonLimits {
  std::size_t max_bytes = kMaxValueBytes;
  int max_depth = kMaxNesting;
};

// Parses one JSON document. Errors say what is wrong ("not valid JSON", "nests deeper than
// 512 levels", "larger than N bytes") and never quote the input: it is personal data.
Result<nlohmann::json> parse_json(std::string_view text, const JsonLimits& limits = {});

// The deepest nesting of arrays and objects in text, counted without parsing (strings and their
// escapes are skipped); stops counting once it passes `stop_above`.
int json_nesting_depth(std::string_view text, int stop_above = kMaxNesting);

// A whole number as Mautic writes ids: 42, "42" or 42.0 (PHP's json_encode of a float id).
// Nothing for fractions, other text, or values outside the signed 64-bit range.
std::optional<int64_t> json_whole_number(const nlohmann::json& value);

// A decimal string of digits only ("0042" too) within the signed 64-bit range.
std::optional<int64_t> decimal_int64(std::string_view text);

}  // namespace mgdpr
