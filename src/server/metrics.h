// SPDX-License-Identifier: GPL-3.0-or-later
// What the running server counts (requests, events, contacts, lookups, logins, errors) and the
// database numbers shown beside them on the status page and at /metrics. Counts only: nothing
// here can hold a personal value.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/timestamps.h"
#include "mautic/engine.h"

namespace mgdpr::server {

struct ErrorEntry {
  std::string at;     // UTC, "YYYY-MM-DD HH:MM:SS"
  std::string where;  // "webhook", "lookup", "status", ...
  std::string message;
};

// The server's own counters since it started.
struct Counters {
  std::map<int, int64_t> webhook_requests_by_status;
  std::map<std::string, int64_t> webhook_events_by_type;
  int64_t webhook_contacts_processed = 0;
  int64_t webhook_contacts_not_pending = 0;
  std::optional<std::string> last_webhook_at;  // UTC, the last request with a valid signature
  int64_t lookups = 0;
  int64_t lookups_matched = 0;
  int64_t logins_ok = 0;
  int64_t logins_failed = 0;
  int64_t rate_limited_logins = 0;
  int64_t rate_limited_lookups = 0;
  int64_t connections_refused = 0;  // over [server] max_connections_per_client
  int64_t requests_timed_out = 0;   // not in within [server] read_timeout_seconds
  int64_t errors = 0;
  std::vector<ErrorEntry> recent_errors;  // newest first
  std::string started_at;
};

class Metrics {
 public:
  Metrics();
  void webhook_request(int status);
  void webhook_accepted(const std::map<std::string, int64_t>& events_by_type, int64_t processed,
                        int64_t not_pending);
  void lookup(bool matched);
  void login(bool ok);
  void rate_limited_login();
  void rate_limited_lookup();
  void connection_refused();
  void request_timed_out();
  // message must never hold a personal value (Result messages do not).
  void error(std::string_view where, std::string_view message);
  Counters snapshot();

 private:
  std::mutex mutex_;
  Counters counters_;
};

// Numbers read from the database for the status page and /metrics.
struct DatabaseNumbers {
  mautic::StatusReport status;  // processed by reason, pending, the sweeps' outcomes
  std::map<std::string, int64_t> processed_by_source;  // sweep, webhook
  struct Day {
    std::string date;  // YYYY-MM-DD (UTC)
    std::map<std::string, int64_t> by_reason;
  };
  std::vector<Day> last_days;  // oldest first, every day of the window (zeros included)
};

// The Prometheus text format (version 0.0.4) of both.
std::string prometheus_text(const Counters& counters, const std::optional<DatabaseNumbers>& numbers,
                            bool database_up);

}  // namespace mgdpr::server
