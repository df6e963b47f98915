// SPDX-License-Identifier: GPL-3.0-or-later
#include "core/php_array.h"

#include <cctype>
#include <optional>

namespace mgdpr {

namespace {

bool is_name_start(char c) {
  return std::isalpha(static_cast<unsigned char>(c)) != 0 || c == '_' ||
         static_cast<unsigned char>(c) >= 0x80;
}
bool is_name_char(char c) { return is_name_start(c) || std::isdigit(static_cast<unsigned char>(c)); }

bool equals_ignoring_case(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

void append_utf8(std::string& out, unsigned long code) {
  if (code < 0x80) {
    out += char(code);
  } else if (code < 0x800) {
    out += char(0xC0 | (code >> 6));
    out += char(0x80 | (code & 0x3F));
  } else if (code < 0x10000) {
    out += char(0xE0 | (code >> 12));
    out += char(0x80 | ((code >> 6) & 0x3F));
    out += char(0x80 | (code & 0x3F));
  } else {
    out += char(0xF0 | (code >> 18));
    out += char(0x80 | ((code >> 12) & 0x3F));
    out += char(0x80 | ((code >> 6) & 0x3F));
    out += char(0x80 | (code & 0x3F));
  }
}

struct Token {
  enum class Type { kEnd, kString, kCodeString, kNumber, kName, kVariable, kPunct };
  Type type = Type::kEnd;
  std::string text;  // the string's value, the number, name or punctuation
  int line = 0;
};

// Splits PHP source into the few tokens an array literal is made of. Values are never put into
// error messages: a config file holds passwords.
class Lexer {
 public:
  Lexer(std::string_view source, std::string_view path) : source_(source), path_(path) {}

  Result<Token> next() {
    skip_space_and_comments();
    Token token;
    token.line = line_;
    if (at_ >= source_.size()) return token;
    const char c = source_[at_];
    if (c == '\'' || c == '"') return read_string(c);
    if (std::isdigit(static_cast<unsigned char>(c)) ||
        (c == '.' && at_ + 1 < source_.size() &&
         std::isdigit(static_cast<unsigned char>(source_[at_ + 1])))) {
      token.type = Token::Type::kNumber;
      while (at_ < source_.size() && (std::isalnum(static_cast<unsigned char>(source_[at_])) ||
                                      source_[at_] == '.' || source_[at_] == '_')) {
        token.text += source_[at_++];
      }
      return token;
    }
    if (c == '$' || is_name_start(c)) {
      token.type = c == '$' ? Token::Type::kVariable : Token::Type::kName;
      if (c == '$') ++at_;
      while (at_ < source_.size() && (is_name_char(source_[at_]) || source_[at_] == '\\')) {
        token.text += source_[at_++];
      }
      return token;
    }
    token.type = Token::Type::kPunct;
    for (std::string_view two : {"=>", "::", "??", "?:", "->", "<<"}) {
      if (source_.substr(at_, 2) == two) {
        token.text = std::string(two);
        at_ += 2;
        return token;
      }
    }
    token.text = std::string(1, c);
    ++at_;
    return token;
  }

  // Skips to just after `<?php` (or `<?`); the text before it is output, not code.
  void skip_to_code() {
    const size_t open = source_.find("<?");
    if (open == std::string_view::npos) {
      at_ = source_.size();
      return;
    }
    advance_to(open + 2);
    if (source_.substr(at_, 3) == "php") at_ += 3;
  }

  Error error(int line, std::string_view what) const {
    return make_error(ErrorKind::kConfig, "{}:{}: {}", path_, line, what);
  }

 private:
  void advance_to(size_t target) {
    for (; at_ < target && at_ < source_.size(); ++at_) {
      if (source_[at_] == '\n') ++line_;
    }
  }

  void skip_space_and_comments() {
    while (at_ < source_.size()) {
      const char c = source_[at_];
      if (std::isspace(static_cast<unsigned char>(c))) {
        advance_to(at_ + 1);
      } else if (c == '#' || source_.substr(at_, 2) == "//") {
        const size_t end = source_.find('\n', at_);
        advance_to(end == std::string_view::npos ? source_.size() : end);
      } else if (source_.substr(at_, 2) == "/*") {
        const size_t end = source_.find("*/", at_ + 2);
        advance_to(end == std::string_view::npos ? source_.size() : end + 2);
      } else {
        return;
      }
    }
  }

  Result<Token> read_string(char quote) {
    Token token;
    token.type = Token::Type::kString;
    token.line = line_;
    size_t i = at_ + 1;
    for (; i < source_.size() && source_[i] != quote; ++i) {
      const char c = source_[i];
      if (c == '\\' && i + 1 < source_.size()) {
        const char escaped = source_[++i];
        if (quote == '\'') {
          if (escaped != '\\' && escaped != '\'') token.text += '\\';
          token.text += escaped;
          continue;
        }
        switch (escaped) {
          case 'n': token.text += '\n'; break;
          case 't': token.text += '\t'; break;
          case 'r': token.text += '\r'; break;
          case 'v': token.text += '\v'; break;
          case 'f': token.text += '\f'; break;
          case 'e': token.text += '\x1b'; break;
          case '\\': case '$': case '"': token.text += escaped; break;
          case 'x': {
            std::string hex;
            while (hex.size() < 2 && i + 1 < source_.size() &&
                   std::isxdigit(static_cast<unsigned char>(source_[i + 1]))) {
              hex += source_[++i];
            }
            if (hex.empty()) {
              token.text += "\\x";
            } else {
              token.text += char(std::stoul(hex, nullptr, 16));
            }
            break;
          }
          case 'u': {
            // \u{1F600}: at most six hex digits, at most U+10FFFF; anything else stays as typed.
            const size_t close = source_.find('}', i);
            const std::string_view digits =
                close == std::string_view::npos || close < i + 2
                    ? std::string_view()
                    : source_.substr(i + 2, close - i - 2);
            const bool valid =
                i + 1 < source_.size() && source_[i + 1] == '{' && !digits.empty() &&
                digits.size() <= 6 &&
                digits.find_first_not_of("0123456789abcdefABCDEF") == std::string_view::npos;
            const unsigned long code = valid ? std::stoul(std::string(digits), nullptr, 16) : 0;
            if (valid && code <= 0x10FFFF) {
              append_utf8(token.text, code);
              i = close;
            } else {
              token.text += "\\u";
            }
            break;
          }
          default:
            if (escaped >= '0' && escaped <= '7') {
              std::string octal(1, escaped);
              while (octal.size() < 3 && i + 1 < source_.size() && source_[i + 1] >= '0' &&
                     source_[i + 1] <= '7') {
                octal += source_[++i];
              }
              token.text += char(std::stoul(octal, nullptr, 8));
            } else {
              token.text += '\\';
              token.text += escaped;
            }
        }
        continue;
      }
      // "$name" and "{$name}" interpolate a variable: that is code, not a literal.
      if (quote == '"' && c == '$' && i + 1 < source_.size() &&
          (is_name_start(source_[i + 1]) || source_[i + 1] == '{')) {
        token.type = Token::Type::kCodeString;
      }
      token.text += c;
    }
    if (i >= source_.size()) {
      return error(token.line, "a string starts here and never ends (a missing closing quote)");
    }
    advance_to(i + 1);
    return token;
  }

  std::string_view source_;
  std::string_view path_;
  size_t at_ = 0;
  int line_ = 1;
};

class Parser {
 public:
  Parser(std::string_view source, std::string_view path) : lexer_(source, path), path_(path) {}

  Result<PhpValue> assignment(std::string_view variable) {
    lexer_.skip_to_code();
    MGDPR_TRY(advance());
    while (current_.type != Token::Type::kEnd) {
      if (current_.type == Token::Type::kVariable && current_.text == variable) {
        const int line = current_.line;
        MGDPR_TRY(advance());
        if (!is_punct("=")) continue;  // e.g. $parameters['x'] = ...: not the literal
        MGDPR_TRY(advance());
        if (!starts_array()) {
          return lexer_.error(line, fmt::format("${} is not assigned an array literal; "
                                                "mautic-gdpr reads only literal values",
                                                variable));
        }
        MGDPR_ASSIGN_OR_RETURN(PhpValue value, array());
        return value;
      }
      MGDPR_TRY(advance());
    }
    return make_error(ErrorKind::kConfig, "{}: no `${} = [...]` (or array(...)) in the file",
                      path_, variable);
  }

 private:
  Status advance() {
    MGDPR_ASSIGN_OR_RETURN(current_, lexer_.next());
    return {};
  }
  bool is_punct(std::string_view text) const {
    return current_.type == Token::Type::kPunct && current_.text == text;
  }
  bool starts_array() const {
    return is_punct("[") ||
           (current_.type == Token::Type::kName && equals_ignoring_case(current_.text, "array"));
  }

  // At `[` or `array`: reads up to and including the closing bracket.
  Result<PhpValue> array() {
    PhpValue value;
    value.kind = PhpValue::Kind::kArray;
    value.line = current_.line;
    std::string close = "]";
    if (current_.type == Token::Type::kName) {
      MGDPR_TRY(advance());
      if (!is_punct("(")) return lexer_.error(value.line, "`array` without `(`");
      close = ")";
    }
    MGDPR_TRY(advance());
    int64_t next_index = 0;
    while (!is_punct(close)) {
      if (current_.type == Token::Type::kEnd) {
        return lexer_.error(value.line, fmt::format("the array that starts here has no closing "
                                                    "`{}`",
                                                    close));
      }
      const int element_line = current_.line;
      MGDPR_ASSIGN_OR_RETURN(PhpValue first, element_value(close));
      std::string key;
      if (is_punct("=>")) {
        if (first.kind != PhpValue::Kind::kString && first.kind != PhpValue::Kind::kInt) {
          return lexer_.error(element_line, "an array key that is not a quoted string or a "
                                            "number; mautic-gdpr reads only literal keys");
        }
        key = first.text;
        MGDPR_TRY(advance());
        MGDPR_ASSIGN_OR_RETURN(first, element_value(close));
        if (auto index = parse_int(key)) next_index = std::max(next_index, *index + 1);
      } else {
        key = std::to_string(next_index++);
      }
      value.items.push_back({std::move(key), std::move(first)});
      if (is_punct(",")) {
        MGDPR_TRY(advance());
      } else if (!is_punct(close)) {
        return lexer_.error(current_.line, fmt::format("expected `,` or `{}` in the array that "
                                                       "starts at line {}",
                                                       close, value.line));
      }
    }
    MGDPR_TRY(advance());
    return value;
  }

  static std::optional<int64_t> parse_int(std::string_view text) {
    if (text.empty() || text.size() > 18) return std::nullopt;
    size_t start = text.front() == '-' ? 1 : 0;
    if (start == text.size()) return std::nullopt;
    for (size_t i = start; i < text.size(); ++i) {
      if (!std::isdigit(static_cast<unsigned char>(text[i]))) return std::nullopt;
    }
    return std::stoll(std::string(text));
  }

  // One value (or key) inside an array: a literal or a nested array, ending before `,`, `=>`
  // or the closing bracket; anything longer is code, skipped to that point.
  Result<PhpValue> element_value(std::string_view close) {
    PhpValue value;
    value.line = current_.line;
    if (starts_array()) {
      MGDPR_ASSIGN_OR_RETURN(value, array());
    } else {
      bool literal = true;
      bool negative = false;
      if (is_punct("-") || is_punct("+")) {
        negative = current_.text == "-";
        MGDPR_TRY(advance());
      }
      switch (current_.type) {
        case Token::Type::kString:
          value.kind = PhpValue::Kind::kString;
          value.text = current_.text;
          literal = !negative;
          break;
        case Token::Type::kNumber: {
          const std::string& number = current_.text;
          const bool decimal = number.find_first_not_of("0123456789_") == std::string::npos;
          const bool floating =
              !decimal && number.find_first_not_of("0123456789._eE") == std::string::npos &&
              number.find_first_of(".eE") != std::string::npos;
          value.kind = decimal ? PhpValue::Kind::kInt : PhpValue::Kind::kFloat;
          literal = decimal || floating;
          for (char c : number) {
            if (c != '_') value.text += c;
          }
          if (negative) value.text = "-" + value.text;
          break;
        }
        case Token::Type::kName:
          if (equals_ignoring_case(current_.text, "null")) {
            value.kind = PhpValue::Kind::kNull;
          } else if (equals_ignoring_case(current_.text, "true") ||
                     equals_ignoring_case(current_.text, "false")) {
            value.kind = PhpValue::Kind::kBool;
            value.text = equals_ignoring_case(current_.text, "true") ? "true" : "false";
          } else {
            literal = false;
          }
          literal = literal && !negative;
          break;
        default:
          literal = false;
      }
      if (literal) MGDPR_TRY(advance());
      // A literal must stand alone: 'a'.'b', 1 + 2 or FOO ?: 'x' are code.
      if (!literal || !(is_punct(",") || is_punct("=>") || is_punct(close))) {
        value.kind = PhpValue::Kind::kCode;
        value.text.clear();
        MGDPR_TRY(skip_code(close));
      }
    }
    return value;
  }

  // Skips an expression up to the `,`, `=>` or closing bracket that ends it.
  Status skip_code(std::string_view close) {
    int depth = 0;
    const int start = current_.line;
    while (true) {
      if (current_.type == Token::Type::kEnd) {
        return lexer_.error(start, "the value that starts here never ends");
      }
      if (current_.type == Token::Type::kPunct) {
        const std::string& p = current_.text;
        if (depth == 0 && (p == "," || p == "=>" || p == close)) return {};
        if (p == "(" || p == "[" || p == "{") ++depth;
        if (p == ")" || p == "]" || p == "}") {
          if (depth == 0) {
            return lexer_.error(current_.line, fmt::format("an unexpected `{}`", p));
          }
          --depth;
        }
        if (p == ";" && depth == 0) {
          return lexer_.error(current_.line, "the statement ends inside an array");
        }
      }
      MGDPR_TRY(advance());
    }
  }

  Lexer lexer_;
  std::string_view path_;
  Token current_;
};

}  // namespace

const PhpValue* PhpValue::find(std::string_view key) const {
  for (const auto& [name, value] : items) {
    if (name == key) return &value;
  }
  return nullptr;
}

Result<PhpValue> read_php_array_assignment(std::string_view source, std::string_view variable,
                                           std::string_view path) {
  return Parser(source, path).assignment(variable);
}

}  // namespace mgdpr
