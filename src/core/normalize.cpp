// SPDX-License-Identifier: GPL-3.0-or-later
#include "core/normalize.h"

namespace mgdpr {
namespace {

bool is_ascii_space(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
}

bool is_ascii_digit(char c) { return c >= '0' && c <= '9'; }

// Only ASCII letters change: bytes of UTF-8 sequences are >= 0x80 and pass through untouched,
// so the result does not depend on the locale.
char ascii_lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

std::string normalize_email(std::string_view value) {
  std::string result(trim(value));
  for (char& c : result) c = ascii_lower(c);
  return result;
}

// "+49 (0)30 123-45" -> "+4903012345". A value without any digit carries no number at all
// and normalizes to "" (not "+").
std::string normalize_phone(std::string_view value) {
  const std::string_view trimmed = trim(value);
  std::string digits;
  for (char c : trimmed) {
    if (is_ascii_digit(c)) digits.push_back(c);
  }
  if (digits.empty()) return {};
  if (!trimmed.empty() && trimmed.front() == '+') return "+" + digits;
  return digits;
}

}  // namespace

ValueKind value_kind_for_field_type(std::string_view mautic_type) {
  if (mautic_type == "email") return ValueKind::kEmail;
  if (mautic_type == "tel") return ValueKind::kPhone;
  return ValueKind::kText;
}

std::string normalize(ValueKind kind, std::string_view value) {
  switch (kind) {
    case ValueKind::kEmail: return normalize_email(value);
    case ValueKind::kPhone: return normalize_phone(value);
    case ValueKind::kText: return std::string(trim(value));
  }
  return std::string(trim(value));
}

std::string_view trim(std::string_view value) {
  while (!value.empty() && is_ascii_space(value.front())) value.remove_prefix(1);
  while (!value.empty() && is_ascii_space(value.back())) value.remove_suffix(1);
  return value;
}

}  // namespace mgdpr
