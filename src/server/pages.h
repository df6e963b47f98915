// SPDX-License-Identifier: GPL-3.0-or-later
// The pages for support staff, rendered on the server as plain HTML with one small stylesheet:
// no script, no build step, usable on a phone. Every text that did not come from this file is
// escaped. A looked-up value is never rendered back.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/html.h"
#include "mautic/engine.h"
#include "mautic/own_tables.h"
#include "server/metrics.h"

namespace mgdpr::server {

using ::mgdpr::html_escape;

// The stylesheet at /static/style.css.
std::string_view stylesheet();

// Who is logged in, for the header (logout form) of every page but the login page, and what
// the user may do with a person the lookup found ([server.roles]).
struct PageUser {
  std::string name;
  std::string csrf;
  bool may_export = false;
  bool may_erase = false;
};

std::string login_page(std::string_view csrf, std::string_view message);

// A hashed field the lookup form offers: alias and Mautic field type.
struct LookupField {
  std::string alias;
  std::string type;
};

struct LookupView {
  std::vector<LookupField> fields;
  std::string selected_field = "email";
  // Set after a lookup: the matches (empty: not found).
  std::optional<std::vector<mautic::LookupMatch>> matches;
  std::vector<int64_t> live;                  // contacts in Mautic, not processed
  std::map<std::string, std::string> labels;  // field alias -> Mautic's label
  std::string mautic_url;                     // contact ids link there when set
  std::string message;  // a problem to show instead (rate limit, empty value, ...)
  int lookups_left = 0;
  int lookups_per_hour = 0;
};

std::string lookup_page(const PageUser& user, const LookupView& view);

struct StatusView {
  std::optional<DatabaseNumbers> numbers;  // nullopt when the database could not be read
  std::string database_error;
  Counters counters;
  int sweep_interval_minutes = 10;  // [sweep] interval_minutes: the tile turns red after twice
  int64_t now = 0;                  // seconds since the epoch; 0: the current time
};

std::string status_page(const PageUser& user, const StatusView& view);

// Processed contacts per day and reason as a stacked bar chart (inline SVG).
std::string processed_chart_svg(const std::vector<DatabaseNumbers::Day>& days);

// Before an erasure: what would go, and the form that erases (POST /erase, confirm=yes).
std::string erase_confirm_page(const PageUser& user, const mautic::ErasureReport& preview,
                               std::string_view mautic_url);
// After an erasure, or when there was nothing left to erase.
std::string erase_done_page(const PageUser& user, const mautic::ErasureReport& report,
                            std::string_view mautic_url);

struct AuditView {
  std::vector<mautic::AuditEntry> entries;  // newest first
  std::optional<int64_t> contact;           // only this contact's rows
  std::optional<int64_t> older;             // the id to continue from ("older entries")
  std::string mautic_url;
  std::string message;  // a problem to show instead (the database is not available)
};

// Who looked up, exported and erased what and when (gdpr_audit; never a value).
std::string audit_page(const PageUser& user, const AuditView& view);

// A short page for errors (403, 404, 429, 500).
std::string message_page(std::string_view title, std::string_view message,
                         const std::optional<PageUser>& user);

}  // namespace mgdpr::server
