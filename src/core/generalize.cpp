// SPDX-License-Identifier: GPL-3.0-or-later
#include "core/generalize.h"

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cmath>
#include <vector>

#include "core/normalize.h"

namespace mgdpr {
namespace {

struct Spec {
  Generalization kind;
  std::string_view word;
  bool takes_n;
  int64_t max_n;
  std::string_view n_means;     // "the number of characters to keep"
  std::string_view example;     // a config line, "{key}" = the field
  std::span<const std::string_view> types;
};

constexpr std::string_view kDateTypes[] = {"date", "datetime"};
// Free text, where the first characters are a coarser value of the same kind (a zip code's
// region, a phone number's area code). List fields (select, country, ...) are coarse already
// and html starts with markup, so they are not among them.
constexpr std::string_view kTextTypes[] = {"text", "textarea", "tel", "url", "lookup"};
constexpr std::string_view kNumberTypes[] = {"number"};
constexpr std::string_view kEmailTypes[] = {"email"};

constexpr int64_t kMaxPrefix = 1000;
// Doubles hold every integer up to 2^53 exactly; beyond it a bucket is no longer exact (and
// no contact field holds such numbers), so those values are treated as malformed.
constexpr double kLargestExactInteger = 9007199254740992.0;

const Spec kSpecs[] = {
    {Generalization::kYear, "year", false, 0, "", "{key} = \"year\"", kDateTypes},
    {Generalization::kMonth, "month", false, 0, "", "{key} = \"month\"", kDateTypes},
    {Generalization::kPrefix, "prefix", true, kMaxPrefix, "the number of characters to keep",
     "{key} = \"prefix:2\"", kTextTypes},
    {Generalization::kBucket, "bucket", true, 1'000'000'000'000'000, "the width of a bucket",
     "{key} = \"bucket:10\"", kNumberTypes},
    {Generalization::kDomain, "domain", false, 0, "", "{key} = \"domain\"", kEmailTypes},
};

const Spec& spec_of(Generalization kind) {
  for (const Spec& spec : kSpecs) {
    if (spec.kind == kind) return spec;
  }
  return kSpecs[0];
}

std::string example_for(const Spec& spec, std::string_view key) {
  std::string text(spec.example);
  text.replace(text.find("{key}"), 5, key);
  return text;
}

// The length of the UTF-8 sequence starting at text[at], or 0 when it is not valid UTF-8
// (overlong forms, surrogates and code points above U+10FFFF included).
size_t utf8_sequence_length(std::string_view text, size_t at) {
  const auto byte = [&](size_t i) { return static_cast<unsigned char>(text[i]); };
  const unsigned char first = byte(at);
  if (first < 0x80) return 1;
  size_t length = 0;
  uint32_t code = 0;
  uint32_t minimum = 0;
  if ((first & 0xE0) == 0xC0) {
    length = 2, code = first & 0x1F, minimum = 0x80;
  } else if ((first & 0xF0) == 0xE0) {
    length = 3, code = first & 0x0F, minimum = 0x800;
  } else if ((first & 0xF8) == 0xF0) {
    length = 4, code = first & 0x07, minimum = 0x10000;
  } else {
    return 0;
  }
  if (at + length > text.size()) return 0;
  for (size_t i = 1; i < length; ++i) {
    if ((byte(at + i) & 0xC0) != 0x80) return 0;
    code = (code << 6) | (byte(at + i) & 0x3F);
  }
  if (code < minimum || code > 0x10FFFF || (code >= 0xD800 && code <= 0xDFFF)) return 0;
  return length;
}

// The first n characters (code points) of valid UTF-8 text; nullopt when it is not UTF-8.
std::optional<std::string> first_characters(std::string_view text, int64_t n) {
  size_t at = 0;
  size_t cut = std::string_view::npos;
  int64_t characters = 0;
  while (at < text.size()) {
    const size_t length = utf8_sequence_length(text, at);
    if (length == 0) return std::nullopt;  // the whole value is checked, not only the prefix
    if (characters == n && cut == std::string_view::npos) cut = at;
    ++characters;
    at += length;
  }
  return std::string(text.substr(0, cut));
}

// "YYYY-MM-DD" with an optional time ("HH:MM:SS", after a space or T, with an optional
// fraction), as MariaDB returns DATE and DATETIME values. Checked as a calendar date and a
// clock time; MariaDB's zero dates ("0000-00-00") are malformed.
struct DateValue {
  std::chrono::year_month_day date;
  bool has_time = false;
};

std::optional<int> digits_at(std::string_view text, size_t at, size_t count) {
  if (at + count > text.size()) return std::nullopt;
  int number = 0;
  for (size_t i = at; i < at + count; ++i) {
    if (text[i] < '0' || text[i] > '9') return std::nullopt;
    number = number * 10 + (text[i] - '0');
  }
  return number;
}

std::optional<DateValue> parse_date(std::string_view text) {
  if (text.size() < 10 || text[4] != '-' || text[7] != '-') return std::nullopt;
  const auto year = digits_at(text, 0, 4);
  const auto month = digits_at(text, 5, 2);
  const auto day = digits_at(text, 8, 2);
  if (!year || !month || !day || *year == 0) return std::nullopt;
  DateValue value;
  value.date = std::chrono::year_month_day(std::chrono::year(*year),
                                           std::chrono::month(unsigned(*month)),
                                           std::chrono::day(unsigned(*day)));
  if (!value.date.ok()) return std::nullopt;
  if (text.size() == 10) return value;
  // The time part: " HH:MM:SS" or "THH:MM:SS", then optionally ".digits".
  if (text.size() < 19 || (text[10] != ' ' && text[10] != 'T') || text[13] != ':' ||
      text[16] != ':') {
    return std::nullopt;
  }
  const auto hours = digits_at(text, 11, 2);
  const auto minutes = digits_at(text, 14, 2);
  const auto seconds = digits_at(text, 17, 2);
  if (!hours || !minutes || !seconds || *hours > 23 || *minutes > 59 || *seconds > 59) {
    return std::nullopt;
  }
  if (text.size() > 19) {
    if (text[19] != '.' || text.size() == 20 || !digits_at(text, 20, text.size() - 20)) {
      return std::nullopt;
    }
  }
  value.has_time = true;
  return value;
}

std::optional<std::string> generalize_date(Generalization kind, std::string_view text) {
  const auto value = parse_date(text);
  if (!value) return std::nullopt;
  const unsigned month = kind == Generalization::kYear ? 1 : unsigned(value->date.month());
  return fmt::format("{:04}-{:02}-01{}", int(value->date.year()), month,
                     value->has_time ? " 00:00:00" : "");
}

std::optional<std::string> generalize_number(std::string_view text, int64_t width) {
  if (!text.empty() && text.front() == '+') text.remove_prefix(1);
  double number = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), number);
  if (error != std::errc() || end != text.data() + text.size() || !std::isfinite(number) ||
      std::fabs(number) >= kLargestExactInteger) {
    return std::nullopt;
  }
  auto bucket = static_cast<int64_t>(std::floor(number / double(width)));
  // The division rounds: make sure the bucket's start is not above the number.
  if (static_cast<long double>(bucket) * width > number) --bucket;
  return std::to_string(bucket * width);
}

// A host name as the part after an address's @: at least two labels of letters, digits and
// hyphens (or UTF-8, for international names), none starting or ending with a hyphen.
bool is_domain(std::string_view text) {
  if (text.empty() || text.size() > 253) return false;
  size_t labels = 0;
  size_t start = 0;
  while (true) {
    const size_t dot = text.find('.', start);
    const std::string_view label =
        text.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start);
    if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-') {
      return false;
    }
    for (size_t i = 0; i < label.size();) {
      const char c = label[i];
      if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-') {
        ++i;
        continue;
      }
      const size_t length = utf8_sequence_length(label, i);
      if (length < 2) return false;  // ASCII punctuation, white space, or not UTF-8
      i += length;
    }
    ++labels;
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  return labels >= 2;
}

std::optional<std::string> generalize_email(std::string_view text) {
  const size_t at = text.rfind('@');
  // A value without an @ is kept only when it already is a domain (a generalized value seen
  // again); anything else is no address and goes.
  std::string domain(at == std::string_view::npos ? text : text.substr(at + 1));
  if (!is_domain(domain)) return std::nullopt;
  return normalize(ValueKind::kEmail, domain);  // ASCII letters lowercased
}

}  // namespace

std::string Generalizer::name() const {
  const Spec& spec = spec_of(kind);
  return spec.takes_n ? fmt::format("{}:{}", spec.word, n) : std::string(spec.word);
}

bool names_generalizer(std::string_view word) {
  for (const Spec& spec : kSpecs) {
    if (word == spec.word ||
        (word.starts_with(spec.word) && word.size() > spec.word.size() &&
         (spec.takes_n || word[spec.word.size()] == ':'))) {
      return true;
    }
  }
  return false;
}

Result<Generalizer> parse_generalizer(std::string_view word, std::string_view key) {
  for (const Spec& spec : kSpecs) {
    if (!word.starts_with(spec.word)) continue;
    const std::string_view rest = word.substr(spec.word.size());
    if (!spec.takes_n) {
      if (rest.empty()) return Generalizer{spec.kind, 0};
      return make_error("{} takes no number; write {}", spec.word, example_for(spec, key));
    }
    if (rest.empty()) {
      return make_error("{} needs {}; write e.g. {}", spec.word, spec.n_means,
                        example_for(spec, key));
    }
    int64_t n = 0;
    const std::string_view digits = rest.substr(1);
    const auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), n);
    if (rest.front() != ':' || digits.empty() || error != std::errc() ||
        end != digits.data() + digits.size() || n < 1 || n > spec.max_n) {
      return make_error("{}:N needs N, {}, as a whole number from 1 to {}; write e.g. {}",
                        spec.word, spec.n_means, spec.max_n, example_for(spec, key));
    }
    return Generalizer{spec.kind, n};
  }
  return make_error("`{}` is not a generalizer; the generalizers are year, month, prefix:N, "
                    "bucket:N, domain",
                    word);
}

std::span<const std::string_view> mautic_field_types() {
  static constexpr std::string_view kTypes[] = {
      "text",     "textarea", "multiselect", "select", "boolean", "lookup",
      "date",     "datetime", "time",        "timezone", "email", "html",
      "number",   "tel",      "url",         "country",  "region", "locale"};
  return kTypes;
}

bool accepts_field_type(Generalization kind, std::string_view mautic_type) {
  const auto types = spec_of(kind).types;
  return std::find(types.begin(), types.end(), mautic_type) != types.end();
}

std::string accepted_field_types(Generalization kind) {
  const auto types = spec_of(kind).types;
  std::string text;
  for (size_t i = 0; i < types.size(); ++i) {
    if (i > 0) text += i + 1 == types.size() ? " and " : ", ";
    text += types[i];
  }
  return text + " fields";
}

std::string generalizers_for_field_type(std::string_view mautic_type) {
  std::vector<std::string> words;
  for (const Spec& spec : kSpecs) {
    if (!accepts_field_type(spec.kind, mautic_type)) continue;
    words.push_back(fmt::format("\"{}{}\"", spec.word, spec.takes_n ? ":N" : ""));
  }
  std::string text;
  for (size_t i = 0; i < words.size(); ++i) text += (i == 0 ? "" : " or ") + words[i];
  return text;
}

std::optional<std::string> generalize(const Generalizer& generalizer, std::string_view value) {
  const std::string_view text = trim(value);
  if (text.empty()) return std::nullopt;
  switch (generalizer.kind) {
    case Generalization::kYear:
    case Generalization::kMonth:
      return generalize_date(generalizer.kind, text);
    case Generalization::kPrefix:
      return first_characters(text, generalizer.n);
    case Generalization::kBucket:
      return generalize_number(text, generalizer.n);
    case Generalization::kDomain:
      return generalize_email(text);
  }
  return std::nullopt;
}

}  // namespace mgdpr
