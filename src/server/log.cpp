// SPDX-License-Identifier: GPL-3.0-or-later
#include "server/log.h"

#include <fmt/format.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

namespace mgdpr::server {

void init_logging() {
  auto logger = spdlog::stderr_logger_mt("mautic-gdpr");
  logger->set_pattern("ts=%Y-%m-%dT%H:%M:%S.%eZ level=%l %v", spdlog::pattern_time_type::utc);
  logger->set_level(spdlog::level::info);
  logger->flush_on(spdlog::level::info);
  spdlog::set_default_logger(logger);
}

std::string log_value(std::string_view value) {
  const bool bare = !value.empty() && value.find_first_of(" \"\\=\t\r\n") == std::string_view::npos;
  if (bare) return std::string(value);
  std::string quoted = "\"";
  for (char c : value) {
    switch (c) {
      case '"':
        quoted += "\\\"";
        break;
      case '\\':
        quoted += "\\\\";
        break;
      case '\n':
        quoted += "\\n";
        break;
      case '\r':
        quoted += "\\r";
        break;
      case '\t':
        quoted += "\\t";
        break;
      default:
        quoted += c;
    }
  }
  quoted += '"';
  return quoted;
}

LogLine::LogLine(std::string_view event) : text_("event=" + log_value(event)) {}

LogLine& LogLine::add(std::string_view key, std::string_view value) {
  text_ += fmt::format(" {}={}", key, log_value(value));
  return *this;
}

LogLine& LogLine::add(std::string_view key, int64_t value) {
  text_ += fmt::format(" {}={}", key, value);
  return *this;
}

LogLine& LogLine::add(std::string_view key, double value) {
  text_ += fmt::format(" {}={:.1f}", key, value);
  return *this;
}

void LogLine::info() const { spdlog::info("{}", text_); }
void LogLine::warn() const { spdlog::warn("{}", text_); }
void LogLine::error() const { spdlog::error("{}", text_); }

}  // namespace mgdpr::server
