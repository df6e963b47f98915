// SPDX-License-Identifier: GPL-3.0-or-later
// Structured logs for `serve`: one line per event on stderr,
//   ts=2025-01-02T03:04:05.678Z level=info event=webhook status=200 events=3 processed=1 ms=12
// Only non-personal values go in: ids, counts, statuses, durations, staff user names and error
// messages from Result (which never carry a value). Never a contact's value, never an address.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace mgdpr::server {

// Sends spdlog's default logger to stderr with the key=value pattern above (UTC).
void init_logging();

class LogLine {
 public:
  explicit LogLine(std::string_view event);
  LogLine& add(std::string_view key, std::string_view value);
  LogLine& add(std::string_view key, const char* value) {
    return add(key, std::string_view(value));
  }
  LogLine& add(std::string_view key, const std::string& value) {
    return add(key, std::string_view(value));
  }
  LogLine& add(std::string_view key, int64_t value);
  LogLine& add(std::string_view key, int value) { return add(key, int64_t(value)); }
  LogLine& add(std::string_view key, size_t value) { return add(key, int64_t(value)); }
  LogLine& add(std::string_view key, double value);
  LogLine& add(std::string_view key, bool value) { return add(key, value ? "true" : "false"); }
  // Pairs already formatted as ` key=value ...` (from log_value).
  LogLine& append(std::string_view pairs) {
    text_ += pairs;
    return *this;
  }

  void info() const;
  void warn() const;
  void error() const;

  const std::string& text() const { return text_; }

 private:
  std::string text_;
};

// A value as a log token: bare when it is a plain word, else double-quoted, with quotes and
// backslashes escaped and line breaks written as \n (one event stays one line).
std::string log_value(std::string_view value);

}  // namespace mgdpr::server
