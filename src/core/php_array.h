// SPDX-License-Identifier: GPL-3.0-or-later
// A reader for the PHP array literals of a configuration file such as Mautic's local.php:
//
//   <?php
//   $parameters = array(            // or [ ... ]
//       'db_host' => 'localhost',
//       'db_port' => 3306,
//       'db_table_prefix' => null,
//   );
//
// Nothing is executed: strings ('single', "double" without variables), integers, floats,
// true/false/null and nested arrays are read as values. Anything else in a value position
// (getenv('X'), a constant, 'a'.'b', "$interpolated") is kept as a kCode value with its line,
// so the caller can say which line holds a value it cannot use; a construct that breaks the
// array itself (an unterminated string, a missing bracket) is an error naming the line.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace mgdpr {

struct PhpArrayItem;

struct PhpValue {
  enum class Kind { kNull, kBool, kInt, kFloat, kString, kArray, kCode };
  Kind kind = Kind::kNull;
  std::string text;  // kString: the value; kInt, kFloat: the literal; kBool: "true"/"false"
  // kArray, in file order. Not a vector of std::pair: a pair of a type still being defined
  // does not compile with clang (the fuzz build).
  std::vector<PhpArrayItem> items;
  int line = 0;      // where the value starts (1-based)

  // The element with this key, or nullptr (kArray only).
  const PhpValue* find(std::string_view key) const;
  // The value as text where PHP would print it as text (string, int, float, bool); "" for null.
  bool is_scalar() const { return kind != Kind::kArray && kind != Kind::kCode; }
};

struct PhpArrayItem {
  std::string key;
  PhpValue value;
};

// Finds `$<variable> = <array literal>;` in the PHP source and reads the array. `path` names
// the file in errors ("local.php:12: ...").
Result<PhpValue> read_php_array_assignment(std::string_view source, std::string_view variable,
                                           std::string_view path);

}  // namespace mgdpr
