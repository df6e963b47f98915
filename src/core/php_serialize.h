// SPDX-License-Identifier: GPL-3.0-or-later
// PHP serialize() values: a reader, a writer and visitors for scrubbing personal data out of
// Mautic's serialized columns (audit_log.details, email_stats.tokens, page_hits.query, ...).
//
// The round trip is exact: serialize(parse(x)) == x byte for byte for everything PHP's
// serialize() writes. Non-canonical spellings that unserialize() also tolerates ("i:+5;",
// leading zeros in lengths and counts) are accepted and written back canonically.
//
// Typical use:
//   auto scrubbed = php::rewrite_strings(column, [](std::string& bytes, const php::Path& path) {
//     if (path.contains_name("email")) bytes.clear();
//   });
//   if (!scrubbed) ...;  // not a serialized value: the error names a byte offset, never the data
#pragma once

#include "core/limits.h"
#include "core/result.h"

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace mgdpr::php {

// Nesting limit for arrays and objects (core/limits.h); deeper input is rejected so hostile
// values cannot exhaust the stack. Every recursive function here is bounded by it.
inline constexpr int kMaxDepth = kMaxNesting;

// The kinds of serialized values, with the letter PHP writes for each.
enum class Type {
  kNull,             // N;
  kBool,             // b:1;
  kInt,              // i:42;
  kFloat,            // d:0.1;  (the original lexeme is kept)
  kString,           // s:5:"bytes";  (length in bytes)
  kArray,            // a:2:{key value key value}
  kObject,           // O:8:"DateTime":3:{properties}
  kCustomObject,     // C:11:"ArrayObject":21:{opaque payload}
  kEnum,             // E:11:"Suit:Hearts";
  kObjectReference,  // r:3;  (the same object as value slot 3)
  kReference,        // R:3;  (a PHP reference & to value slot 3)
};

std::string_view type_name(Type type);

// Any integer type but bool, so Key(0) and Key(index) mean integer keys.
template <typename T>
concept KeyIndex = std::integral<T> && !std::same_as<T, bool>;

// An array key or object property name: PHP allows integers and byte strings.
class Key {
 public:
  template <KeyIndex Index>
  Key(Index i) : key_(static_cast<std::int64_t>(i)) {}     // NOLINT(google-explicit-constructor)
  Key(std::string name) : key_(std::move(name)) {}         // NOLINT(google-explicit-constructor)
  Key(std::string_view name) : key_(std::string(name)) {}  // NOLINT(google-explicit-constructor)
  Key(const char* name) : key_(std::string(name)) {}       // NOLINT(google-explicit-constructor)

  bool is_int() const { return key_.index() == 0; }
  bool is_string() const { return key_.index() == 1; }
  std::int64_t as_int() const { return std::get<0>(key_); }           // precondition: is_int()
  const std::string& as_string() const { return std::get<1>(key_); }  // precondition: is_string()

  // The name without PHP's visibility prefix: "\0*\0email" (protected) and "\0User\0email"
  // (private) both give "email". Precondition: is_string().
  std::string_view name() const;

  // For logs and path strings: the decimal index or name().
  std::string to_string() const;

  friend bool operator==(const Key&, const Key&) = default;

 private:
  std::variant<std::int64_t, std::string> key_;
};

// Strips a mangled property name's "\0Class\0" or "\0*\0" prefix; other names pass unchanged.
std::string_view property_name(std::string_view mangled);

struct Entry;

// One serialized value. Build with the named factories, inspect with type() and the is_*()
// predicates; the as_*() accessors require the matching type (checked by assert).
class Value {
 public:
  Value() = default;  // N;

  static Value null();
  static Value boolean(bool value);
  static Value integer(std::int64_t value);
  // Formats like PHP's serialize() (serialize_precision = -1): 0.1, 1.0E+25, -0, INF, NAN.
  static Value floating(double value);
  // A float spelled exactly as given, e.g. "1.0E+25". Rejects what unserialize() would.
  static Result<Value> float_from_lexeme(std::string_view lexeme);
  static Value string(std::string bytes);
  static Value array();
  static Value array(std::vector<Entry> entries);
  // class_name must be a valid PHP class name; properties may use mangled names.
  static Value object(std::string class_name);
  static Value object(std::string class_name, std::vector<Entry> properties);
  static Value custom_object(std::string class_name, std::string payload);
  static Value enum_case(std::string enum_and_case);  // "Suit:Hearts"
  static Value object_reference(std::int64_t slot);   // r:slot;  (slot >= 1)
  static Value reference(std::int64_t slot);          // R:slot;  (slot >= 1)

  Type type() const { return type_; }
  bool is_null() const { return type_ == Type::kNull; }
  bool is_bool() const { return type_ == Type::kBool; }
  bool is_int() const { return type_ == Type::kInt; }
  bool is_float() const { return type_ == Type::kFloat; }
  bool is_string() const { return type_ == Type::kString; }
  bool is_array() const { return type_ == Type::kArray; }
  bool is_object() const { return type_ == Type::kObject; }
  bool is_custom_object() const { return type_ == Type::kCustomObject; }
  bool is_enum() const { return type_ == Type::kEnum; }
  bool is_reference() const { return type_ == Type::kObjectReference || type_ == Type::kReference; }
  // Arrays and objects: the values that have entries().
  bool has_entries() const { return is_array() || is_object(); }

  bool as_bool() const;
  std::int64_t as_int() const;
  double as_float() const;                  // INF, -INF and NAN included
  const std::string& float_lexeme() const;  // exactly as it will be written
  const std::string& as_string() const;     // raw bytes (often UTF-8, not guaranteed)
  std::string& as_string();                 // assign freely: the length is recomputed
  const std::string& class_name() const;    // objects and custom objects
  const std::string& enum_name() const;     // "Suit:Hearts"
  std::int64_t reference_slot() const;      // r: and R:

  // A custom object's payload, written back verbatim. It is often itself a serialize()
  // string: parse it, scrub it and assign the result to scrub inside it.
  const std::string& payload() const;
  std::string& payload();

  // Array elements or object properties, in their serialized order.
  const std::vector<Entry>& entries() const;
  std::vector<Entry>& entries();
  std::size_t size() const;  // number of entries; 0 for other types

  // The entry value under a string key (objects: compared by property_name()) or an integer
  // key; nullptr when absent or when this is not an array or object. With duplicate keys the
  // last one wins, as in PHP.
  const Value* find(std::string_view name) const;
  Value* find(std::string_view name);
  const Value* find(std::int64_t index) const;
  Value* find(std::int64_t index);

  // Appends an entry (no duplicate check). Precondition: has_entries().
  Value& append(Key key, Value value);

  friend bool operator==(const Value& left, const Value& right);

 private:
  Type type_ = Type::kNull;
  std::int64_t number_ = 0;     // bool, int, reference slot
  std::string text_;            // string bytes, float lexeme, class name, enum name
  std::string payload_;         // custom object payload
  std::vector<Entry> entries_;  // array elements, object properties
};

struct Entry {
  Key key;
  Value value;

  friend bool operator==(const Entry&, const Entry&) = default;
};

// Parses one complete serialized value; trailing bytes are an error. Error messages give the
// byte offset (0-based) and the expectation, never input bytes: the input is personal data.
Result<Value> parse(std::string_view input);

// PHP serialize() output for the value.
std::string serialize(const Value& value);
void serialize_to(const Value& value, std::string& out);

// One step of a path: the key taken and the array or object it was taken from.
struct PathStep {
  const Key* key;
  const Value* container;
};

// The keys from the root to a visited value; the root's path is empty. Only valid during
// the visitor call that received it.
class Path {
 public:
  std::span<const PathStep> steps() const { return steps_; }
  std::size_t depth() const { return steps_.size(); }
  bool empty() const { return steps_.empty(); }
  const Key* last_key() const { return steps_.empty() ? nullptr : steps_.back().key; }

  // True if any string key on the path has this name (property names compared without
  // their visibility prefix). Case-sensitive, like PHP keys.
  bool contains_name(std::string_view name) const;
  // The nearest string key above the value: "email" for fields.email.1; nullopt if none.
  std::optional<std::string_view> nearest_name() const;
  // The class of the innermost object holding the value, e.g. "DateTime"; nullopt if none.
  // Blanking a DateTime's "date" makes unserialize() fail, so visitors usually skip these.
  std::optional<std::string_view> enclosing_class() const;
  // "fields.email.1": for diagnostics and policy matching. Keys can be data themselves
  // (query-string names), so think twice before logging it.
  std::string to_string() const;

 private:
  friend struct PathWalker;
  std::vector<PathStep> steps_;
};

using ValueVisitor = std::function<void(Value& value, const Path& path)>;
using StringVisitor = std::function<void(std::string& bytes, const Path& path)>;

// Visits every value depth-first, parents before children, the root first. The visitor may
// replace the visited value (value = Value::null(), Value::string(""), ...); the walk then
// descends into the replacement. It must not modify anything else in the tree.
void for_each_value(Value& root, const ValueVisitor& visit);

// Visits every string VALUE: not keys, class names, enum names or custom payloads.
void for_each_string(Value& root, const StringVisitor& visit);

// parse, for_each_string, serialize: the whole scrub of one column value.
Result<std::string> rewrite_strings(std::string_view serialized, const StringVisitor& visit);

// True if the tree holds r: or R: back-references. These count value slots in document
// order, so replacing an array or object by a value with a different number of values inside
// shifts what later references point to. Replacing a scalar by a scalar (the usual scrub) is
// always safe.
bool contains_references(const Value& root);

}  // namespace mgdpr::php
