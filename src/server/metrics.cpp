// SPDX-License-Identifier: GPL-3.0-or-later
#include "server/metrics.h"

#include <fmt/chrono.h>
#include <fmt/format.h>

#include <cstdio>
#include <ctime>

#include "core/version.h"

namespace mgdpr::server {

namespace {

constexpr size_t kRecentErrors = 20;

// A label value in the Prometheus text format.
std::string label(std::string_view value) {
  std::string escaped;
  for (char c : value) {
    if (c == '\\' || c == '"') escaped += '\\';
    if (c == '\n') {
      escaped += "\\n";
      continue;
    }
    escaped += c;
  }
  return escaped;
}

void family(std::string& out, std::string_view name, std::string_view type, std::string_view help) {
  out += fmt::format("# HELP {} {}\n# TYPE {} {}\n", name, help, name, type);
}

}  // namespace

Metrics::Metrics() { counters_.started_at = utc_now_text(); }

void Metrics::webhook_request(int status) {
  std::lock_guard lock(mutex_);
  ++counters_.webhook_requests_by_status[status];
}

void Metrics::webhook_accepted(const std::map<std::string, int64_t>& events_by_type,
                               int64_t processed, int64_t not_pending) {
  std::lock_guard lock(mutex_);
  for (const auto& [type, count] : events_by_type) {
    counters_.webhook_events_by_type[type.substr(0, 80)] += count;
  }
  counters_.webhook_contacts_processed += processed;
  counters_.webhook_contacts_not_pending += not_pending;
  counters_.last_webhook_at = utc_now_text();
}

void Metrics::lookup(bool matched) {
  std::lock_guard lock(mutex_);
  ++counters_.lookups;
  if (matched) ++counters_.lookups_matched;
}

void Metrics::login(bool ok) {
  std::lock_guard lock(mutex_);
  ++(ok ? counters_.logins_ok : counters_.logins_failed);
}

void Metrics::rate_limited_login() {
  std::lock_guard lock(mutex_);
  ++counters_.rate_limited_logins;
}

void Metrics::rate_limited_lookup() {
  std::lock_guard lock(mutex_);
  ++counters_.rate_limited_lookups;
}

void Metrics::connection_refused() {
  std::lock_guard lock(mutex_);
  ++counters_.connections_refused;
}

void Metrics::request_timed_out() {
  std::lock_guard lock(mutex_);
  ++counters_.requests_timed_out;
}

void Metrics::error(std::string_view where, std::string_view message) {
  std::lock_guard lock(mutex_);
  ++counters_.errors;
  auto& recent = counters_.recent_errors;
  recent.insert(recent.begin(), ErrorEntry{utc_now_text(), std::string(where),
                                           std::string(message.substr(0, 500))});
  if (recent.size() > kRecentErrors) recent.resize(kRecentErrors);
}

Counters Metrics::snapshot() {
  std::lock_guard lock(mutex_);
  return counters_;
}

std::string prometheus_text(const Counters& counters, const std::optional<DatabaseNumbers>& numbers,
                            bool database_up) {
  std::string out;
  family(out, "mgdpr_up", "gauge", "1 when the database answered the last check");
  out += fmt::format("mgdpr_up {}\n", database_up ? 1 : 0);
  family(out, "mgdpr_build_info", "gauge", "The running mautic-gdpr's version (always 1)");
  out += fmt::format("mgdpr_build_info{{version=\"{}\"}} 1\n", label(kVersion));
  if (numbers) {
    const mautic::StatusReport& status = numbers->status;
    family(out, "mgdpr_contacts_processed", "gauge",
           "Contacts pseudonymized so far, by the do-not-contact reason recorded");
    for (const auto& [reason, count] : status.processed_by_reason) {
      out += fmt::format("mgdpr_contacts_processed{{reason=\"{}\"}} {}\n", label(reason), count);
    }
    family(out, "mgdpr_contacts_processed_by_source", "gauge",
           "Contacts pseudonymized so far, by what processed them (sweep or webhook)");
    for (const auto& [source, count] : numbers->processed_by_source) {
      out += fmt::format("mgdpr_contacts_processed_by_source{{source=\"{}\"}} {}\n", label(source),
                         count);
    }
    family(out, "mgdpr_unhandled_rows", "gauge",
           "Rows a sweep or webhook could not handle as the location table says, by table and "
           "outcome (cleared: its value could not be rewritten; left: whose it is cannot be "
           "told, or the contact failed alone); `mautic-gdpr status` names them");
    for (const auto& [where, count] : numbers->status.unhandled.by_table_and_outcome) {
      out += fmt::format("mgdpr_unhandled_rows{{table=\"{}\",outcome=\"{}\"}} {}\n",
                         label(where.first), label(where.second), count);
    }
    family(out, "mgdpr_contacts_pending", "gauge",
           "Contacts on do-not-contact for a configured reason and channel, not processed yet");
    out += fmt::format("mgdpr_contacts_pending {}\n", status.pending);
    family(out, "mgdpr_oldest_pending_age_seconds", "gauge",
           "How long the oldest pending contact has been on do-not-contact (0: none pending)");
    out += fmt::format("mgdpr_oldest_pending_age_seconds {}\n",
                       status.oldest_pending_age_seconds.value_or(0));
    family(out, "mgdpr_contacts_waiting", "gauge",
           "Contacts on do-not-contact for a configured reason and channel whose entry is still "
           "within its grace period ([trigger] grace)");
    out += fmt::format("mgdpr_contacts_waiting {}\n", status.waiting);
    if (status.last_sweep) {
      if (auto seconds = utc_epoch_seconds(status.last_sweep->started_at)) {
        family(out, "mgdpr_last_sweep_timestamp_seconds", "gauge",
               "When the last sweep started, whatever its result");
        out += fmt::format("mgdpr_last_sweep_timestamp_seconds {}\n", *seconds);
      }
    }
    if (const auto& success = status.last_successful_sweep; success && success->ended_at) {
      family(out, "mgdpr_last_sweep_success_timestamp_seconds", "gauge",
             "When the last successful sweep ended; alert when it is older than twice the timer "
             "interval");
      out += fmt::format("mgdpr_last_sweep_success_timestamp_seconds {}\n",
                         utc_epoch_seconds(*success->ended_at).value_or(0));
      family(out, "mgdpr_sweep_duration_seconds", "gauge",
             "How long the last successful sweep took");
      out += fmt::format("mgdpr_sweep_duration_seconds {:.3f}\n", success->seconds.value_or(0));
    }
  }
  family(out, "mgdpr_webhook_requests_total", "counter", "Webhook requests, by HTTP status");
  for (const auto& [status, count] : counters.webhook_requests_by_status) {
    out += fmt::format("mgdpr_webhook_requests_total{{status=\"{}\"}} {}\n", status, count);
  }
  family(out, "mgdpr_webhook_events_total", "counter",
         "Events in signed webhook requests, by Mautic event type");
  for (const auto& [type, count] : counters.webhook_events_by_type) {
    out += fmt::format("mgdpr_webhook_events_total{{type=\"{}\"}} {}\n", label(type), count);
  }
  family(out, "mgdpr_webhook_contacts_processed_total", "counter",
         "Contacts pseudonymized within a webhook request");
  out += fmt::format("mgdpr_webhook_contacts_processed_total {}\n",
                     counters.webhook_contacts_processed);
  family(out, "mgdpr_webhook_contacts_not_pending_total", "counter",
         "Contacts a subscription change named that were not pending (already processed, or no "
         "do-not-contact row yet: the sweep is the safety net)");
  out += fmt::format("mgdpr_webhook_contacts_not_pending_total {}\n",
                     counters.webhook_contacts_not_pending);
  if (counters.last_webhook_at) {
    if (auto seconds = utc_epoch_seconds(*counters.last_webhook_at)) {
      family(out, "mgdpr_last_webhook_timestamp_seconds", "gauge",
             "When the last signed webhook request arrived");
      out += fmt::format("mgdpr_last_webhook_timestamp_seconds {}\n", *seconds);
    }
  }
  family(out, "mgdpr_lookups_total", "counter", "Lookups on the page, by whether one matched");
  out += fmt::format("mgdpr_lookups_total{{matched=\"true\"}} {}\n", counters.lookups_matched);
  out += fmt::format("mgdpr_lookups_total{{matched=\"false\"}} {}\n",
                     counters.lookups - counters.lookups_matched);
  family(out, "mgdpr_logins_total", "counter", "Login attempts, by result");
  out += fmt::format("mgdpr_logins_total{{result=\"ok\"}} {}\n", counters.logins_ok);
  out += fmt::format("mgdpr_logins_total{{result=\"failed\"}} {}\n", counters.logins_failed);
  family(out, "mgdpr_rate_limited_total", "counter", "Requests refused by a rate limit");
  out +=
      fmt::format("mgdpr_rate_limited_total{{kind=\"login\"}} {}\n", counters.rate_limited_logins);
  out += fmt::format("mgdpr_rate_limited_total{{kind=\"lookup\"}} {}\n",
                     counters.rate_limited_lookups);
  family(out, "mgdpr_connections_refused_total", "counter",
         "Connections refused at once: their client held [server] max_connections_per_client");
  out += fmt::format("mgdpr_connections_refused_total {}\n", counters.connections_refused);
  family(out, "mgdpr_requests_timed_out_total", "counter",
         "Requests that did not arrive within [server] read_timeout_seconds (answered 408)");
  out += fmt::format("mgdpr_requests_timed_out_total {}\n", counters.requests_timed_out);
  family(out, "mgdpr_errors_total", "counter", "Errors while serving requests");
  out += fmt::format("mgdpr_errors_total {}\n", counters.errors);
  return out;
}

}  // namespace mgdpr::server
