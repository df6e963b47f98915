// SPDX-License-Identifier: GPL-3.0-or-later
#include "statement_profile.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <fstream>
#include <map>

namespace mgdpr::bench {
namespace {

bool word_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }

// Quoted strings, hex and numeric literals as ?; whitespace runs as one space.
std::string without_literals(std::string_view sql) {
  std::string out;
  for (size_t i = 0; i < sql.size();) {
    const char c = sql[i];
    if (c == '\'' || c == '"') {
      for (++i; i < sql.size(); ++i) {
        if (sql[i] == '\\') {
          ++i;
        } else if (sql[i] == c) {
          if (i + 1 < sql.size() && sql[i + 1] == c) {
            ++i;
          } else {
            break;
          }
        }
      }
      ++i;
      out += '?';
    } else if (std::isdigit(static_cast<unsigned char>(c)) && (out.empty() || !word_char(out.back()))) {
      while (i < sql.size() && (word_char(sql[i]) || sql[i] == '.')) ++i;
      out += '?';
    } else if (std::isspace(static_cast<unsigned char>(c))) {
      while (i < sql.size() && std::isspace(static_cast<unsigned char>(sql[i]))) ++i;
      if (!out.empty() && out.back() != ' ') out += ' ';
    } else {
      out += c;
      ++i;
    }
  }
  while (!out.empty() && (out.back() == ' ' || out.back() == ';')) out.pop_back();
  return out;
}

// Skips `\s*,\s*` at i; returns the position after it, or npos.
size_t after_comma(std::string_view s, size_t i) {
  while (i < s.size() && s[i] == ' ') ++i;
  if (i >= s.size() || s[i] != ',') return std::string_view::npos;
  ++i;
  while (i < s.size() && s[i] == ' ') ++i;
  return i;
}

// "?, ?, ?" as "?..." and "(a), (a), (a)" as "(a),...".
std::string folded(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size();) {
    if (s[i] == '?') {
      size_t end = i + 1;
      bool repeated = false;
      for (size_t next; (next = after_comma(s, end)) != std::string_view::npos && next < s.size() &&
                        s[next] == '?';) {
        end = next + 1;
        repeated = true;
      }
      out += repeated ? "?..." : "?";
      i = end;
    } else if (s[i] == '(') {
      const size_t close = s.find(')', i);
      if (close == std::string_view::npos) {
        out += s.substr(i);
        break;
      }
      const std::string_view tuple = s.substr(i, close + 1 - i);
      size_t end = close + 1;
      bool repeated = false;
      for (size_t next; (next = after_comma(s, end)) != std::string_view::npos &&
                        s.substr(next, tuple.size()) == tuple;) {
        end = next + tuple.size();
        repeated = true;
      }
      if (repeated) {
        out += folded(tuple.substr(1, tuple.size() - 2)).insert(0, "(") + "),...";
        i = end;
      } else {
        out += '(';
        ++i;
      }
    } else {
      out += s[i++];
    }
  }
  return out;
}

}  // namespace

std::string statement_shape(std::string_view statement) {
  // Literals first, so that tuples of different values fold alike.
  std::string shape = folded(without_literals(statement));
  if (shape.size() > 160) shape = shape.substr(0, 157) + "...";
  return shape;
}

std::vector<StatementShape> read_slow_log(const std::string& path) {
  std::map<std::string, StatementShape> by_shape;
  std::ifstream in(path);
  double seconds = -1;
  std::string statement;
  auto flush = [&] {
    if (seconds >= 0 && !statement.empty()) {
      auto& entry = by_shape[statement_shape(statement)];
      entry.count += 1;
      entry.seconds += seconds;
    }
    statement.clear();
  };
  for (std::string line; std::getline(in, line);) {
    if (line.starts_with("# Query_time:")) {
      flush();
      seconds = std::strtod(line.c_str() + 13, nullptr);
    } else if (line.starts_with("#")) {
      continue;
    } else if (line.starts_with("SET timestamp=") || line.starts_with("use ")) {
      continue;
    } else if (seconds >= 0) {
      statement += (statement.empty() ? "" : " ") + line;
    }
  }
  flush();
  std::vector<StatementShape> shapes;
  for (auto& [shape, entry] : by_shape) {
    entry.shape = shape;
    shapes.push_back(std::move(entry));
  }
  std::sort(shapes.begin(), shapes.end(),
            [](const auto& a, const auto& b) { return a.seconds > b.seconds; });
  return shapes;
}

StatementProfile::StatementProfile(db::Connection& root, std::string path,
                                   std::vector<db::Connection*> open)
    : root_(root), path_(std::move(path)), open_(std::move(open)) {
  std::remove(path_.c_str());
  for (const char* sql : {"SET GLOBAL slow_query_log = 0", "SET GLOBAL long_query_time = 0",
                          "SET GLOBAL log_slow_admin_statements = 1"}) {
    (void)root_.execute(sql);
  }
  (void)root_.execute("SET GLOBAL slow_query_log_file = ?", {path_});
  // An open connection copied the log switch at connect (MariaDB's session log_slow_query).
  for (auto* connection : open_) {
    (void)connection->execute("SET SESSION long_query_time = 0");
    (void)connection->execute("SET SESSION log_slow_query = 1");
  }
  (void)root_.execute("SET GLOBAL slow_query_log = 1");
  // The root connection's own statements stay out (its session value was read at connect).
}

std::vector<StatementShape> StatementProfile::finish() {
  (void)root_.execute("SET GLOBAL slow_query_log = 0");
  (void)root_.execute("SET GLOBAL long_query_time = 10");
  for (auto* connection : open_) (void)connection->execute("SET SESSION long_query_time = 10");
  return read_slow_log(path_);
}

std::string profile_table(const std::string& title, const std::vector<StatementShape>& shapes,
                          double wall_seconds, size_t limit) {
  int64_t statements = 0;
  double server_seconds = 0;
  for (const auto& shape : shapes) {
    statements += shape.count;
    server_seconds += shape.seconds;
  }
  std::string out = fmt::format(
      "\n{}: {} statements, {:.2f} s in the server of {:.2f} s wall ({} shapes; top {})\n\n"
      "| statement (literals as ?) | count | server s | share of wall |\n|---|---|---|---|\n",
      title, statements, server_seconds, wall_seconds, shapes.size(),
      std::min(limit, shapes.size()));
  for (size_t i = 0; i < shapes.size() && i < limit; ++i) {
    std::string shape = shapes[i].shape;
    std::replace(shape.begin(), shape.end(), '|', '/');
    std::erase(shape, '`');
    out += fmt::format("| `{}` | {} | {:.3f} | {:.1f} % |\n", shape, shapes[i].count,
                       shapes[i].seconds,
                       wall_seconds > 0 ? 100.0 * shapes[i].seconds / wall_seconds : 0.0);
  }
  return out;
}

}  // namespace mgdpr::bench
