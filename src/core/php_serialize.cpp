// SPDX-License-Identifier: GPL-3.0-or-later
// The grammar follows php-src ext/standard/var_unserializer.re (what unserialize() accepts)
// and ext/standard/var.c (what serialize() writes).
#include "core/php_serialize.h"

#include <algorithm>
#include <cassert>
#include <charconv>
#include <cmath>
#include <limits>
#include <system_error>
#include <utility>

namespace mgdpr::php {

namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// PHP's zend_is_valid_class_name(): ASCII letters, digits, '_', '\\' and any byte >= 0x80.
bool is_valid_class_name(std::string_view name) {
  if (name.empty() || name.front() == '\\') return false;
  for (char c : name) {
    auto byte = static_cast<unsigned char>(c);
    bool valid = (byte >= 'a' && byte <= 'z') || (byte >= 'A' && byte <= 'Z') || is_digit(c) ||
                 c == '_' || c == '\\' || byte >= 0x80;
    if (!valid) return false;
  }
  return true;
}

// The float spellings unserialize() accepts after "d:": NAN, INF, -INF, or
// [+-]? (digits | digits? "." digits | digits "." digits?) ([eE] [+-]? digits)?
bool is_valid_float_lexeme(std::string_view lexeme) {
  if (lexeme == "NAN" || lexeme == "INF" || lexeme == "-INF") return true;
  std::size_t pos = 0;
  auto count_digits = [&] {
    std::size_t start = pos;
    while (pos < lexeme.size() && is_digit(lexeme[pos])) ++pos;
    return pos - start;
  };
  if (pos < lexeme.size() && (lexeme[pos] == '+' || lexeme[pos] == '-')) ++pos;
  std::size_t mantissa_digits = count_digits();
  if (pos < lexeme.size() && lexeme[pos] == '.') {
    ++pos;
    mantissa_digits += count_digits();
  }
  if (mantissa_digits == 0) return false;
  if (pos < lexeme.size() && (lexeme[pos] == 'e' || lexeme[pos] == 'E')) {
    ++pos;
    if (pos < lexeme.size() && (lexeme[pos] == '+' || lexeme[pos] == '-')) ++pos;
    if (count_digits() == 0) return false;
  }
  return pos == lexeme.size();
}

// php_gcvt() with serialize_precision = -1: the shortest round-trip digits, laid out
// plainly unless the decimal exponent is below -4 or above 17 ("1.0E+25", "1.0E-5").
std::string format_php_float(double value) {
  if (std::isnan(value)) return "NAN";
  if (std::isinf(value)) return value < 0 ? "-INF" : "INF";

  // to_chars gives the same shortest digits as PHP's zend_dtoa(mode 0), as "d.ddde+XX".
  char buffer[64];
  auto [end, error] = std::to_chars(buffer, buffer + sizeof buffer, std::fabs(value),
                                    std::chars_format::scientific);
  assert(error == std::errc());
  std::string_view scientific(buffer, static_cast<std::size_t>(end - buffer));
  std::size_t exponent_at = scientific.find('e');
  std::string digits;
  for (char c : scientific.substr(0, exponent_at)) {
    if (c != '.') digits += c;
  }
  int exponent = 0;
  std::string_view exponent_text = scientific.substr(exponent_at + 1);
  if (exponent_text.front() == '+') exponent_text.remove_prefix(1);
  std::from_chars(exponent_text.data(), exponent_text.data() + exponent_text.size(), exponent);
  // PHP's "decpt": the value is 0.DIGITS times 10^decimal_point.
  int decimal_point = exponent + 1;

  std::string out = std::signbit(value) ? "-" : "";
  constexpr int kPrecision = 17;
  if (decimal_point < -3 || decimal_point > kPrecision) {
    out += digits[0];
    out += '.';
    out += digits.size() > 1 ? digits.substr(1) : "0";
    out += exponent < 0 ? "E-" : "E+";
    out += std::to_string(std::abs(exponent));
  } else if (decimal_point <= 0) {
    out += "0.";
    out.append(static_cast<std::size_t>(-decimal_point), '0');
    out += digits;
  } else {
    auto integer_digits = static_cast<std::size_t>(decimal_point);
    if (digits.size() <= integer_digits) {
      out += digits;
      out.append(integer_digits - digits.size(), '0');
    } else {
      out += digits.substr(0, integer_digits);
      out += '.';
      out += digits.substr(integer_digits);
    }
  }
  return out;
}

double parse_php_float(std::string_view lexeme) {
  if (lexeme == "NAN") return std::numeric_limits<double>::quiet_NaN();
  if (lexeme == "INF") return std::numeric_limits<double>::infinity();
  if (lexeme == "-INF") return -std::numeric_limits<double>::infinity();
  bool negative = !lexeme.empty() && lexeme.front() == '-';
  if (!lexeme.empty() && (lexeme.front() == '+' || lexeme.front() == '-')) {
    lexeme.remove_prefix(1);
  }
  double magnitude = 0;
  auto [end, error] = std::from_chars(lexeme.data(), lexeme.data() + lexeme.size(), magnitude);
  if (error == std::errc::result_out_of_range) {
    // Like PHP's zend_strtod: overflow gives infinity, underflow gives zero.
    std::size_t exponent_at = lexeme.find_first_of("eE");
    bool tiny = exponent_at != std::string_view::npos && exponent_at + 1 < lexeme.size() &&
                lexeme[exponent_at + 1] == '-';
    magnitude = tiny ? 0.0 : std::numeric_limits<double>::infinity();
  }
  return negative ? -magnitude : magnitude;
}

void append_int(std::string& out, std::int64_t value) {
  char buffer[24];
  auto [end, error] = std::to_chars(buffer, buffer + sizeof buffer, value);
  assert(error == std::errc());
  out.append(buffer, end);
}

void append_quoted(std::string& out, std::string_view bytes) {
  append_int(out, static_cast<std::int64_t>(bytes.size()));
  out += ":\"";
  out += bytes;
  out += '"';
}

void append_key(std::string& out, const Key& key) {
  if (key.is_int()) {
    out += "i:";
    append_int(out, key.as_int());
    out += ';';
  } else {
    out += "s:";
    append_quoted(out, key.as_string());
    out += ';';
  }
}

// A recursive-descent reader over the byte string. Every error names the offset and the
// expectation only; no input byte ever reaches a message.
class Parser {
 public:
  explicit Parser(std::string_view input) : input_(input) {}

  Result<Value> parse_document() {
    auto value = parse_value(0);
    if (!value) return value.error();
    if (pos_ != input_.size()) return malformed("unexpected bytes after the end of the value");
    return value;
  }

 private:
  Error malformed(std::string_view expectation) const { return malformed_at(pos_, expectation); }
  static Error malformed_at(std::size_t offset, std::string_view expectation) {
    return make_error("serialized value is malformed at byte {}: {}", offset, expectation);
  }

  bool at_end() const { return pos_ >= input_.size(); }
  std::size_t remaining() const { return input_.size() - pos_; }

  // Consumes `expected` or fails with "expected 'c' <context>".
  Status expect(char expected, std::string_view context) {
    if (at_end() || input_[pos_] != expected) {
      return malformed(fmt::format("expected '{}' {}", expected, context));
    }
    ++pos_;
    return {};
  }

  // uiv: one or more decimal digits (leading zeros tolerated, like PHP).
  Result<std::uint64_t> parse_unsigned(std::string_view what) {
    std::size_t start = pos_;
    std::uint64_t value = 0;
    constexpr std::uint64_t kLimit = std::numeric_limits<std::int64_t>::max();
    while (!at_end() && is_digit(input_[pos_])) {
      auto digit = static_cast<std::uint64_t>(input_[pos_] - '0');
      if (value > (kLimit - digit) / 10) {
        return malformed_at(start, fmt::format("{} out of range", what));
      }
      value = value * 10 + digit;
      ++pos_;
    }
    if (pos_ == start) return malformed(fmt::format("expected digits for {}", what));
    return value;
  }

  // iv: an optional sign and digits, within the 64-bit range PHP uses.
  Result<std::int64_t> parse_signed() {
    std::size_t start = pos_;
    bool negative = false;
    if (!at_end() && (input_[pos_] == '+' || input_[pos_] == '-')) {
      negative = input_[pos_] == '-';
      ++pos_;
    }
    std::size_t digits_start = pos_;
    // Magnitudes up to 2^63 fit; -2^63 is the one value whose magnitude exceeds INT64_MAX.
    constexpr std::uint64_t kMaxMagnitude =
        static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()) + 1;
    std::uint64_t magnitude = 0;
    while (!at_end() && is_digit(input_[pos_])) {
      auto digit = static_cast<std::uint64_t>(input_[pos_] - '0');
      if (magnitude > (kMaxMagnitude - digit) / 10) {
        return malformed_at(start, "integer out of the 64-bit range");
      }
      magnitude = magnitude * 10 + digit;
      ++pos_;
    }
    if (pos_ == digits_start) return malformed("expected digits for an integer");
    if (!negative && magnitude == kMaxMagnitude) {
      return malformed_at(start, "integer out of the 64-bit range");
    }
    if (negative) return static_cast<std::int64_t>(0 - magnitude);  // wraps exactly to -2^63
    return static_cast<std::int64_t>(magnitude);
  }

  // <length>:"<bytes>"  — shared by strings, class names and enum names.
  Result<std::string> parse_counted_bytes(std::string_view what) {
    auto length = parse_unsigned(fmt::format("{} length", what));
    if (!length) return length.error();
    MGDPR_TRY(expect(':', fmt::format("after {} length", what)));
    MGDPR_TRY(expect('"', fmt::format("to open the {}", what)));
    if (*length > remaining()) {
      return malformed(
          fmt::format("{} length {} exceeds the remaining {} bytes", what, *length, remaining()));
    }
    std::string bytes(input_.substr(pos_, *length));
    pos_ += *length;
    MGDPR_TRY(
        expect('"', fmt::format("after {} {} bytes (declared length wrong?)", *length, what)));
    return bytes;
  }

  Result<Key> parse_key() {
    if (remaining() >= 2 && input_[pos_ + 1] == ':') {
      if (input_[pos_] == 'i') {
        pos_ += 2;
        auto index = parse_signed();
        if (!index) return index.error();
        MGDPR_TRY(expect(';', "after integer key"));
        return Key(*index);
      }
      if (input_[pos_] == 's') {
        pos_ += 2;
        auto name = parse_counted_bytes("string key");
        if (!name) return name.error();
        MGDPR_TRY(expect(';', "after string key"));
        return Key(std::move(*name));
      }
    }
    if (!at_end() && input_[pos_] == '}') {
      return malformed("expected another key: fewer elements than the declared count");
    }
    return malformed("expected an array key (i: or s:)");
  }

  // <count>:{ key value ... }  for arrays and objects; `depth` is the container's own level.
  Result<std::vector<Entry>> parse_entries(int depth, std::string_view container) {
    std::size_t count_at = pos_;
    auto count = parse_unsigned(fmt::format("{} element count", container));
    if (!count) return count.error();
    MGDPR_TRY(expect(':', fmt::format("after {} element count", container)));
    MGDPR_TRY(expect('{', fmt::format("to open the {}", container)));
    if (depth > kMaxDepth) {
      return malformed_at(count_at, fmt::format("nesting deeper than {} levels", kMaxDepth));
    }
    // Each entry needs at least 6 bytes ("i:0;N;"), so a larger count is a lie; checking
    // first keeps a forged count from driving any allocation.
    if (*count > remaining() / 6) {
      return malformed_at(count_at,
                          fmt::format("{} element count exceeds what the input holds", container));
    }
    std::vector<Entry> entries;
    // A count the input can hold may still be forged: reserve little, grow with what parses.
    entries.reserve(static_cast<std::size_t>(std::min<std::uint64_t>(*count, 64)));
    for (std::uint64_t i = 0; i < *count; ++i) {
      auto key = parse_key();
      if (!key) return key.error();
      auto value = parse_value(depth);
      if (!value) return value.error();
      entries.push_back(Entry{std::move(*key), std::move(*value)});
    }
    MGDPR_TRY(
        expect('}', fmt::format("to close the {} (declared {} elements)", container, *count)));
    return entries;
  }

  Result<std::int64_t> parse_slot(std::string_view what) {
    std::size_t slot_at = pos_;
    auto slot = parse_unsigned(what);
    if (!slot) return slot.error();
    if (*slot == 0) return malformed_at(slot_at, fmt::format("{} 0 does not exist", what));
    MGDPR_TRY(expect(';', fmt::format("after {}", what)));
    return static_cast<std::int64_t>(*slot);
  }

  // `depth` counts the arrays and objects enclosing this value.
  Result<Value> parse_value(int depth) {
    if (at_end()) return malformed("expected a value, found the end of the input");
    std::size_t start = pos_;
    char letter = input_[pos_];
    if (letter == 'N') {
      ++pos_;
      MGDPR_TRY(expect(';', "after N"));
      return Value::null();
    }
    if (remaining() < 2 || input_[pos_ + 1] != ':') {
      return malformed("expected a type letter (N, b, i, d, s, a, O, C, E, r, R) and ':'");
    }
    pos_ += 2;
    switch (letter) {
      case 'b': {
        if (at_end() || (input_[pos_] != '0' && input_[pos_] != '1')) {
          return malformed("expected 0 or 1 for a boolean");
        }
        bool truth = input_[pos_] == '1';
        ++pos_;
        MGDPR_TRY(expect(';', "after boolean"));
        return Value::boolean(truth);
      }
      case 'i': {
        auto number = parse_signed();
        if (!number) return number.error();
        MGDPR_TRY(expect(';', "after integer"));
        return Value::integer(*number);
      }
      case 'd': {
        std::size_t end = input_.find(';', pos_);
        if (end == std::string_view::npos) end = input_.size();
        auto lexeme = Value::float_from_lexeme(input_.substr(pos_, end - pos_));
        if (!lexeme) return malformed("expected a float (digits, INF, -INF or NAN) and ';'");
        pos_ = end;
        MGDPR_TRY(expect(';', "after float"));
        return lexeme;
      }
      case 's': {
        auto bytes = parse_counted_bytes("string");
        if (!bytes) return bytes.error();
        MGDPR_TRY(expect(';', "after string"));
        return Value::string(std::move(*bytes));
      }
      case 'a': {
        auto entries = parse_entries(depth + 1, "array");
        if (!entries) return entries.error();
        return Value::array(std::move(*entries));
      }
      case 'O':
      case 'C': {
        std::size_t name_at = pos_;
        auto class_name = parse_counted_bytes("class name");
        if (!class_name) return class_name.error();
        if (!is_valid_class_name(*class_name)) return malformed_at(name_at, "invalid class name");
        MGDPR_TRY(expect(':', "after class name"));
        if (letter == 'O') {
          auto properties = parse_entries(depth + 1, "object");
          if (!properties) return properties.error();
          return Value::object(std::move(*class_name), std::move(*properties));
        }
        auto payload = parse_counted_payload();
        if (!payload) return payload.error();
        return Value::custom_object(std::move(*class_name), std::move(*payload));
      }
      case 'E': {
        std::size_t name_at = pos_;
        auto name = parse_counted_bytes("enum name");
        if (!name) return name.error();
        std::size_t colon = name->find(':');
        if (colon == std::string::npos ||
            !is_valid_class_name(std::string_view(*name).substr(0, colon))) {
          return malformed_at(name_at, "expected an enum name of the form Class:Case");
        }
        MGDPR_TRY(expect(';', "after enum name"));
        return Value::enum_case(std::move(*name));
      }
      case 'r':
      case 'R': {
        auto slot = parse_slot(letter == 'r' ? "object reference" : "reference");
        if (!slot) return slot.error();
        return letter == 'r' ? Value::object_reference(*slot) : Value::reference(*slot);
      }
      default:
        pos_ = start;
        return malformed("expected a type letter (N, b, i, d, s, a, O, C, E, r, R) and ':'");
    }
  }

  // C:<len>:"Class":<payload length>:{<payload bytes>}
  Result<std::string> parse_counted_payload() {
    auto length = parse_unsigned("custom object payload length");
    if (!length) return length.error();
    MGDPR_TRY(expect(':', "after custom object payload length"));
    MGDPR_TRY(expect('{', "to open the custom object payload"));
    if (*length > remaining()) {
      return malformed(fmt::format("custom object payload length {} exceeds the remaining {} bytes",
                                   *length, remaining()));
    }
    std::string payload(input_.substr(pos_, *length));
    pos_ += *length;
    MGDPR_TRY(expect('}', "after the custom object payload (declared length wrong?)"));
    return payload;
  }

  std::string_view input_;
  std::size_t pos_ = 0;
};

}  // namespace

std::string_view type_name(Type type) {
  switch (type) {
    case Type::kNull: return "null";
    case Type::kBool: return "bool";
    case Type::kInt: return "int";
    case Type::kFloat: return "float";
    case Type::kString: return "string";
    case Type::kArray: return "array";
    case Type::kObject: return "object";
    case Type::kCustomObject: return "custom object";
    case Type::kEnum: return "enum";
    case Type::kObjectReference: return "object reference";
    case Type::kReference: return "reference";
  }
  return "unknown";
}

std::string_view property_name(std::string_view mangled) {
  // "\0Class\0name" (private) and "\0*\0name" (protected); public names have no prefix.
  if (mangled.size() < 2 || mangled.front() != '\0') return mangled;
  std::size_t second_nul = mangled.find('\0', 1);
  if (second_nul == std::string_view::npos) return mangled;
  return mangled.substr(second_nul + 1);
}

std::string_view Key::name() const { return property_name(as_string()); }

std::string Key::to_string() const {
  return is_int() ? std::to_string(as_int()) : std::string(name());
}

// --- Value -----------------------------------------------------------------------------------

Value Value::null() { return Value(); }

Value Value::boolean(bool value) {
  Value result;
  result.type_ = Type::kBool;
  result.number_ = value ? 1 : 0;
  return result;
}

Value Value::integer(std::int64_t value) {
  Value result;
  result.type_ = Type::kInt;
  result.number_ = value;
  return result;
}

Value Value::floating(double value) {
  Value result;
  result.type_ = Type::kFloat;
  result.text_ = format_php_float(value);
  return result;
}

Result<Value> Value::float_from_lexeme(std::string_view lexeme) {
  if (!is_valid_float_lexeme(lexeme)) return make_error("not a PHP float lexeme");
  Value result;
  result.type_ = Type::kFloat;
  result.text_ = std::string(lexeme);
  return result;
}

Value Value::string(std::string bytes) {
  Value result;
  result.type_ = Type::kString;
  result.text_ = std::move(bytes);
  return result;
}

Value Value::array() { return array({}); }

Value Value::array(std::vector<Entry> entries) {
  Value result;
  result.type_ = Type::kArray;
  result.entries_ = std::move(entries);
  return result;
}

Value Value::object(std::string class_name) { return object(std::move(class_name), {}); }

Value Value::object(std::string class_name, std::vector<Entry> properties) {
  Value result;
  result.type_ = Type::kObject;
  result.text_ = std::move(class_name);
  result.entries_ = std::move(properties);
  return result;
}

Value Value::custom_object(std::string class_name, std::string payload) {
  Value result;
  result.type_ = Type::kCustomObject;
  result.text_ = std::move(class_name);
  result.payload_ = std::move(payload);
  return result;
}

Value Value::enum_case(std::string enum_and_case) {
  Value result;
  result.type_ = Type::kEnum;
  result.text_ = std::move(enum_and_case);
  return result;
}

Value Value::object_reference(std::int64_t slot) {
  Value result;
  result.type_ = Type::kObjectReference;
  result.number_ = slot;
  return result;
}

Value Value::reference(std::int64_t slot) {
  Value result;
  result.type_ = Type::kReference;
  result.number_ = slot;
  return result;
}

bool Value::as_bool() const {
  assert(is_bool());
  return number_ != 0;
}

std::int64_t Value::as_int() const {
  assert(is_int());
  return number_;
}

double Value::as_float() const {
  assert(is_float());
  return parse_php_float(text_);
}

const std::string& Value::float_lexeme() const {
  assert(is_float());
  return text_;
}

const std::string& Value::as_string() const {
  assert(is_string());
  return text_;
}

std::string& Value::as_string() {
  assert(is_string());
  return text_;
}

const std::string& Value::class_name() const {
  assert(is_object() || is_custom_object());
  return text_;
}

const std::string& Value::enum_name() const {
  assert(is_enum());
  return text_;
}

std::int64_t Value::reference_slot() const {
  assert(is_reference());
  return number_;
}

const std::string& Value::payload() const {
  assert(is_custom_object());
  return payload_;
}

std::string& Value::payload() {
  assert(is_custom_object());
  return payload_;
}

const std::vector<Entry>& Value::entries() const { return entries_; }

std::vector<Entry>& Value::entries() {
  assert(has_entries());
  return entries_;
}

std::size_t Value::size() const { return entries_.size(); }

const Value* Value::find(std::string_view name) const {
  if (!has_entries()) return nullptr;
  const Value* found = nullptr;
  for (const Entry& entry : entries_) {
    if (!entry.key.is_string()) continue;
    std::string_view key = is_object() ? entry.key.name() : std::string_view(entry.key.as_string());
    if (key == name) found = &entry.value;
  }
  return found;
}

Value* Value::find(std::string_view name) {
  return const_cast<Value*>(std::as_const(*this).find(name));
}

const Value* Value::find(std::int64_t index) const {
  if (!has_entries()) return nullptr;
  const Value* found = nullptr;
  for (const Entry& entry : entries_) {
    if (entry.key.is_int() && entry.key.as_int() == index) found = &entry.value;
  }
  return found;
}

Value* Value::find(std::int64_t index) {
  return const_cast<Value*>(std::as_const(*this).find(index));
}

Value& Value::append(Key key, Value value) {
  assert(has_entries());
  entries_.push_back(Entry{std::move(key), std::move(value)});
  return entries_.back().value;
}

bool operator==(const Value& left, const Value& right) {
  return left.type_ == right.type_ && left.number_ == right.number_ && left.text_ == right.text_ &&
         left.payload_ == right.payload_ && left.entries_ == right.entries_;
}

// --- parse / serialize -----------------------------------------------------------------------

Result<Value> parse(std::string_view input) { return Parser(input).parse_document(); }

void serialize_to(const Value& value, std::string& out) {
  switch (value.type()) {
    case Type::kNull: out += "N;"; return;
    case Type::kBool: out += value.as_bool() ? "b:1;" : "b:0;"; return;
    case Type::kInt:
      out += "i:";
      append_int(out, value.as_int());
      out += ';';
      return;
    case Type::kFloat:
      out += "d:";
      out += value.float_lexeme();
      out += ';';
      return;
    case Type::kString:
      out += "s:";
      append_quoted(out, value.as_string());
      out += ';';
      return;
    case Type::kArray:
    case Type::kObject:
      if (value.is_array()) {
        out += "a:";
      } else {
        out += "O:";
        append_quoted(out, value.class_name());
        out += ':';
      }
      append_int(out, static_cast<std::int64_t>(value.size()));
      out += ":{";
      for (const Entry& entry : value.entries()) {
        append_key(out, entry.key);
        serialize_to(entry.value, out);
      }
      out += '}';
      return;
    case Type::kCustomObject:
      out += "C:";
      append_quoted(out, value.class_name());
      out += ':';
      append_int(out, static_cast<std::int64_t>(value.payload().size()));
      out += ":{";
      out += value.payload();
      out += '}';
      return;
    case Type::kEnum:
      out += "E:";
      append_quoted(out, value.enum_name());
      out += ';';
      return;
    case Type::kObjectReference:
    case Type::kReference:
      out += value.type() == Type::kObjectReference ? "r:" : "R:";
      append_int(out, value.reference_slot());
      out += ';';
      return;
  }
}

std::string serialize(const Value& value) {
  std::string out;
  serialize_to(value, out);
  return out;
}

// --- paths and visitors ----------------------------------------------------------------------

bool Path::contains_name(std::string_view name) const {
  for (const PathStep& step : steps_) {
    if (step.key->is_string() && step.key->name() == name) return true;
  }
  return false;
}

std::optional<std::string_view> Path::nearest_name() const {
  for (auto step = steps_.rbegin(); step != steps_.rend(); ++step) {
    if (step->key->is_string()) return step->key->name();
  }
  return std::nullopt;
}

std::optional<std::string_view> Path::enclosing_class() const {
  for (auto step = steps_.rbegin(); step != steps_.rend(); ++step) {
    if (step->container->is_object()) return std::string_view(step->container->class_name());
  }
  return std::nullopt;
}

std::string Path::to_string() const {
  std::string out;
  for (const PathStep& step : steps_) {
    if (!out.empty()) out += '.';
    out += step.key->to_string();
  }
  return out;
}

struct PathWalker {
  const ValueVisitor& visit;
  Path path;

  void walk(Value& value) {
    visit(value, path);
    if (!value.has_entries()) return;
    for (Entry& entry : value.entries()) {
      path.steps_.push_back(PathStep{&entry.key, &value});
      walk(entry.value);
      path.steps_.pop_back();
    }
  }
};

void for_each_value(Value& root, const ValueVisitor& visit) {
  PathWalker walker{visit, {}};
  walker.walk(root);
}

void for_each_string(Value& root, const StringVisitor& visit) {
  for_each_value(root, [&visit](Value& value, const Path& path) {
    if (value.is_string()) visit(value.as_string(), path);
  });
}

Result<std::string> rewrite_strings(std::string_view serialized, const StringVisitor& visit) {
  auto value = parse(serialized);
  if (!value) return value.error();
  for_each_string(*value, visit);
  return serialize(*value);
}

bool contains_references(const Value& root) {
  if (root.is_reference()) return true;
  for (const Entry& entry : root.entries()) {
    if (contains_references(entry.value)) return true;
  }
  return false;
}

}  // namespace mgdpr::php
