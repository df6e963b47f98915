// SPDX-License-Identifier: GPL-3.0-or-later
#include "core/json.h"

#include <algorithm>
#include <charconv>
#include <cmath>

namespace mgdpr {

int json_nesting_depth(std::string_view text, int stop_above) {
  int depth = 0;
  int deepest = 0;
  bool in_string = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (c == '\\') {
        ++i;  // the escaped character, whatever it is
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    switch (c) {
      case '"':
        in_string = true;
        break;
      case '[':
      case '{':
        deepest = std::max(deepest, ++depth);
        if (deepest > stop_above) return deepest;
        break;
      case ']':
      case '}':
        if (depth > 0) --depth;
        break;
      default:
        break;
    }
  }
  return deepest;
}

Result<nlohmann::json> parse_json(std::string_view text, const JsonLimits& limits) {
  if (text.size() > limits.max_bytes) {
    return make_error("the JSON value is larger than {} bytes", limits.max_bytes);
  }
  if (json_nesting_depth(text, limits.max_depth) > limits.max_depth) {
    return make_error("the JSON value nests arrays and objects deeper than {} levels",
                      limits.max_depth);
  }
  auto document = nlohmann::json::parse(text.begin(), text.end(), nullptr, false);
  if (document.is_discarded()) return make_error("the value is not valid JSON");
  return document;
}

std::optional<int64_t> decimal_int64(std::string_view text) {
  if (text.empty()) return std::nullopt;
  int64_t number = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), number);
  if (error != std::errc() || end != text.data() + text.size() || text.front() == '-') {
    return std::nullopt;
  }
  return number;
}

std::optional<int64_t> json_whole_number(const nlohmann::json& value) {
  if (value.is_number_unsigned()) {
    const auto number = value.get<uint64_t>();
    if (number > uint64_t(INT64_MAX)) return std::nullopt;
    return int64_t(number);
  }
  if (value.is_number_integer()) return value.get<int64_t>();
  if (value.is_number_float()) {
    const double number = value.get<double>();
    // 2^63 is the first double outside the range; the cast below is defined only inside it.
    if (!std::isfinite(number) || number != std::trunc(number) || number < -0x1p63 ||
        number >= 0x1p63) {
      return std::nullopt;
    }
    return static_cast<int64_t>(number);
  }
  if (value.is_string()) return decimal_int64(value.get_ref<const std::string&>());
  return std::nullopt;
}

}  // namespace mgdpr
