// SPDX-License-Identifier: GPL-3.0-or-later
#include "server/pages.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <set>

namespace mgdpr::server {

namespace {

constexpr std::string_view kStylesheet = R"css(
:root {
  --ink: #1d2733; --muted: #5b6675; --line: #d8dee6; --paper: #ffffff; --back: #f3f5f8;
  --accent: #2563a8; --good: #1e7a46; --good-back: #e8f5ee; --warn: #9a5b00;
  --warn-back: #fff4e0; --bad: #b42318; --bad-back: #fdecea;
}
* { box-sizing: border-box; }
html { -webkit-text-size-adjust: 100%; }
body {
  margin: 0; background: var(--back); color: var(--ink);
  font: 16px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif;
}
header {
  display: flex; flex-wrap: wrap; align-items: center; gap: .5rem 1.25rem;
  padding: .75rem 1rem; background: var(--ink); color: #fff;
}
header .brand { font-weight: 700; letter-spacing: .02em; margin-right: auto; }
header nav { display: flex; gap: 1rem; }
header a { color: #fff; text-decoration: none; opacity: .85; }
header a[aria-current] { opacity: 1; border-bottom: 2px solid #fff; }
header form { margin: 0; }
header button {
  background: none; border: 1px solid rgba(255,255,255,.5); color: #fff; border-radius: 4px;
  padding: .2rem .6rem; font: inherit; font-size: .9rem; cursor: pointer;
}
main { max-width: 50rem; margin: 0 auto; padding: 1.25rem 1rem 3rem; }
h1 { font-size: 1.5rem; margin: .25rem 0 .5rem; }
h2 { font-size: 1.15rem; margin: 0 0 .5rem; }
p.hint, .muted { color: var(--muted); font-size: .95rem; }
.card {
  background: var(--paper); border: 1px solid var(--line); border-radius: 8px;
  padding: 1rem 1.1rem; margin: 1rem 0;
}
form.card label { display: block; font-weight: 600; margin: .5rem 0 .25rem; }
input, select {
  width: 100%; font: inherit; padding: .55rem .65rem; border: 1px solid #b9c3cf;
  border-radius: 6px; background: #fff; color: var(--ink);
}
input:focus, select:focus { outline: 2px solid var(--accent); outline-offset: 1px; }
button.primary {
  margin-top: 1rem; width: 100%; padding: .65rem 1rem; font: inherit; font-weight: 600;
  color: #fff; background: var(--accent); border: 0; border-radius: 6px; cursor: pointer;
}
@media (min-width: 36rem) { button.primary { width: auto; } }
.result { border-left: 5px solid var(--line); }
.result.found { border-left-color: var(--good); background: var(--good-back); }
.result.not-found { border-left-color: var(--warn); background: var(--warn-back); }
.notice { border-left: 5px solid var(--bad); background: var(--bad-back); }
dl {
  display: grid; grid-template-columns: minmax(8rem, max-content) 1fr; gap: .3rem 1rem; margin: 0;
}
dt { color: var(--muted); }
dd { margin: 0; overflow-wrap: anywhere; }
h3 {
  font-size: .8rem; text-transform: uppercase; letter-spacing: .06em; color: var(--muted);
  margin: .9rem 0 .3rem;
}
@media (max-width: 30rem) {
  dl { grid-template-columns: 1fr; gap: 0; }
  dt { font-size: .85rem; margin-top: .45rem; }
}
.record + .record { border-top: 1px solid var(--line); margin-top: .8rem; padding-top: .8rem; }
.tiles { display: grid; grid-template-columns: repeat(auto-fit, minmax(9.5rem, 1fr)); gap: .75rem; }
.tile {
  background: var(--paper); border: 1px solid var(--line); border-radius: 8px; padding: .7rem .9rem;
  min-width: 0;
}
.tile .number {
  font-size: clamp(1.1rem, 5vw, 1.45rem); font-weight: 700; line-height: 1.25;
  overflow-wrap: anywhere;
}
.tile.bad { border-color: var(--bad); background: var(--bad-back); }
.tile.bad .number { color: var(--bad); }
.tile.warn { border-color: var(--warn); background: var(--warn-back); }
.tile .label { color: var(--muted); font-size: .9rem; }
.tile .detail { font-size: .85rem; color: var(--muted); }
table { width: 100%; border-collapse: collapse; font-size: .92rem; }
th, td {
  text-align: left; padding: .35rem .5rem; border-bottom: 1px solid var(--line);
  vertical-align: top;
}
th { color: var(--muted); font-weight: 600; }
.chart svg { width: 100%; max-width: 40rem; height: auto; display: block; }
.legend { display: flex; flex-wrap: wrap; gap: .4rem 1rem; font-size: .9rem; margin-top: .4rem; }
.legend span::before {
  content: ""; display: inline-block; width: .8rem; height: .8rem; border-radius: 2px;
  margin-right: .35rem; vertical-align: -.05rem; background: var(--swatch);
}
.swatch-unsubscribed { --swatch: #2563a8; }
.swatch-bounced { --swatch: #d97706; }
.swatch-manual { --swatch: #7c8aa0; }
.swatch-other { --swatch: #a855f7; }
.login { max-width: 24rem; margin: 2rem auto; }
.result.live { border-left-color: var(--accent); }
form.inline { display: flex; flex-wrap: wrap; align-items: center; gap: .5rem .75rem; margin: .75rem 0 0; }
form.inline label { font-weight: 600; }
form.inline select, form.inline input { width: auto; }
button.action, button.danger {
  padding: .45rem .9rem; font: inherit; font-weight: 600; border-radius: 6px; cursor: pointer;
}
button.action { color: #fff; background: var(--accent); border: 0; }
button.danger { color: var(--bad); background: #fff; border: 1px solid var(--bad); }
button.danger.primary { color: #fff; background: var(--bad); }
.actions { display: flex; flex-wrap: wrap; gap: .5rem 1rem; align-items: flex-start; }
td.detail { overflow-wrap: anywhere; }
.table-scroll { overflow-x: auto; }
)css";

// Bar colours per reason; the legend's CSS classes use the same ones.
std::string_view reason_colour(std::string_view reason) {
  if (reason == "unsubscribed") return "#2563a8";
  if (reason == "bounced") return "#d97706";
  if (reason == "manual") return "#7c8aa0";
  return "#a855f7";
}

std::string_view reason_class(std::string_view reason) {
  if (reason == "unsubscribed" || reason == "bounced" || reason == "manual") return reason;
  return "other";
}

std::string layout(std::string_view title, std::string_view active, std::string_view body,
                   const std::optional<PageUser>& user) {
  std::string header = "<header><span class=\"brand\">mautic-gdpr</span>";
  if (user) {
    auto link = [&](std::string_view href, std::string_view label) {
      return fmt::format("<a href=\"{}\"{}>{}</a>", href,
                         href == active ? " aria-current=\"page\"" : "", label);
    };
    header += "<nav>" + link("/lookup", "Lookup") + link("/status", "Status") +
              link("/audit", "Audit") + "</nav>";
    header += fmt::format(
        "<form method=\"post\" action=\"/logout\"><input type=\"hidden\" name=\"csrf\" "
        "value=\"{}\"><button type=\"submit\">Log out ({})</button></form>",
        html_escape(user->csrf), html_escape(user->name));
  }
  header += "</header>";
  return fmt::format(
      "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
      "<meta name=\"robots\" content=\"noindex\">"
      "<title>{} · mautic-gdpr</title><link rel=\"stylesheet\" href=\"/static/style.css\">"
      "</head><body>{}<main>{}</main></body></html>\n",
      html_escape(title), header, body);
}

std::string or_dash(const std::optional<std::string>& value) {
  return value && !value->empty() ? html_escape(*value) : "—";
}

// "2025-01-02 03:04:05.123456" -> "2025-01-02 03:04:05 UTC"
std::string utc(const std::optional<std::string>& value) {
  if (!value || value->empty()) return "—";
  return html_escape(value->substr(0, 19)) + " UTC";
}

int64_t epoch_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// "just now", "12 min ago", "3 h ago", "2 days ago" for a UTC time text.
std::string age(const std::optional<std::string>& when, std::string_view otherwise, int64_t now) {
  if (!when) return std::string(otherwise);
  const auto then = utc_epoch_seconds(*when);
  if (!then) return html_escape(when->substr(0, 16));
  const int64_t seconds = now - *then;
  if (seconds < 60) return "just now";
  return duration_text(seconds) + " ago";
}

// A contact id, as a link into Mautic when [server] mautic_url is set.
std::string contact_link(int64_t id, std::string_view mautic_url) {
  if (mautic_url.empty()) return std::to_string(id);
  return fmt::format("<a href=\"{}/s/contacts/view/{}\" rel=\"noreferrer\">{}</a>",
                     html_escape(mautic_url), id, id);
}

// The forms a user with the roles gets for a contact the lookup found: POST bodies only, the
// session's token, and the contact's id (which the server checks against the lookup).
std::string person_actions(const PageUser& user, int64_t id, bool live) {
  std::string forms;
  if (user.may_export) {
    forms += fmt::format(
        "<form class=\"inline\" method=\"post\" action=\"/export\">"
        "<input type=\"hidden\" name=\"csrf\" value=\"{0}\">"
        "<input type=\"hidden\" name=\"contact_id\" value=\"{1}\">"
        "<label for=\"format-{1}\">Export as</label>"
        "<select id=\"format-{1}\" name=\"format\"><option value=\"html\">a page for the "
        "person (HTML)</option><option value=\"json\">JSON</option></select>"
        "<button class=\"action\" type=\"submit\">Download export</button></form>",
        html_escape(user.csrf), id);
  }
  if (user.may_erase && live) {
    forms += fmt::format(
        "<form class=\"inline\" method=\"post\" action=\"/erase\">"
        "<input type=\"hidden\" name=\"csrf\" value=\"{}\">"
        "<input type=\"hidden\" name=\"contact_id\" value=\"{}\">"
        "<button class=\"danger\" type=\"submit\">Erase…</button></form>",
        html_escape(user.csrf), id);
  }
  return forms.empty() ? "" : "<div class=\"actions\">" + forms + "</div>";
}

std::string label_of(const LookupView& view, const std::string& column) {
  auto found = view.labels.find(column);
  return found != view.labels.end() ? found->second : column;
}

std::string match_html(const mautic::LookupMatch& match, const LookupView& view,
                       const PageUser& user) {
  std::string rows;
  auto row = [&rows](std::string_view term, const std::string& detail) {
    rows += fmt::format("<dt>{}</dt><dd>{}</dd>", term, detail);
  };
  std::string kept;
  for (const auto& [column, value] : match.kept) {
    const auto generalized = match.generalized.find(column);
    kept += fmt::format("<dt>{}</dt><dd>{}{}</dd>", html_escape(label_of(view, column)),
                        or_dash(value),
                        generalized == match.generalized.end()
                            ? ""
                            : fmt::format(" <span class=\"muted\">(generalized: {})</span>",
                                          html_escape(generalized->second)));
  }
  row("Contact id", contact_link(match.contact_id, view.mautic_url));
  row("Processed",
      utc(match.processed_at) + (match.processed_by == "mautic-gdpr"
                                     ? ""
                                     : " (by the " + html_escape(match.processed_by) + ")"));
  row("Why", fmt::format("{} (channel {}){}", or_dash(match.reason), or_dash(match.channel),
                         match.source == "request" ? ", on an erasure request" : ""));
  row("On do-not-contact since", utc(match.dnc_date));
  if (match.returned_at) row("Came back", utc(match.returned_at) + " (by choice)");
  std::string html = "<div class=\"record\"><dl>" + rows + "</dl>";
  if (!kept.empty()) html += "<h3>Values kept by the policy</h3><dl>" + kept + "</dl>";
  return html + person_actions(user, match.contact_id, false) + "</div>";
}

// "Email (email), Mobile (mobile)" for the profile items with this action.
std::string fields_with(const mautic::ErasureReport& report, std::string_view action) {
  std::string fields;
  for (const mautic::ErasureItem* item : report.profile_with(action)) {
    fields += (fields.empty() ? "" : ", ") + html_escape(item->label);
  }
  return fields;
}

// What an erasure changes (or would), as a table.
std::string erasure_table(const mautic::ErasureReport& report) {
  std::string rows;
  if (!report.channels_added.empty()) {
    std::string channels;
    for (const auto& channel : report.channels_added) {
      channels += (channels.empty() ? "" : ", ") + html_escape(channel);
    }
    rows += fmt::format("<tr><td>Do not contact</td><td>put on it for {} (manual, comment "
                        "&quot;{}&quot;)</td></tr>",
                        channels, html_escape(report.comment));
  }
  for (auto [action, words] : {std::pair{"hash", "replaced by keyed hashes"},
                               {"delete", "deleted"},
                               {"keep", "kept (the policy keeps them)"}}) {
    const std::string fields = fields_with(report, action);
    if (!fields.empty()) rows += fmt::format("<tr><td>Profile: {}</td><td>{}</td></tr>", words, fields);
  }
  for (const auto& item : report.items) {
    if (item.place == "profile") continue;
    rows += fmt::format("<tr><td>{}</td><td>{} row{}: {}</td></tr>", html_escape(item.place),
                        item.count, item.count == 1 ? "" : "s",
                        html_escape(mautic::describe_row_action(item.action)));
  }
  return "<div class=\"table-scroll\"><table><tr><th>where</th><th>what</th></tr>" + rows +
         "</table></div>";
}

}  // namespace

std::string_view stylesheet() { return kStylesheet; }

std::string login_page(std::string_view csrf, std::string_view message) {
  std::string body = "<div class=\"login\"><h1>Log in</h1>";
  body +=
      "<p class=\"hint\">The lookup page for support staff. Ask the administrator for an "
      "account.</p>";
  if (!message.empty()) {
    body += fmt::format("<div class=\"card notice\" role=\"alert\">{}</div>", html_escape(message));
  }
  body += fmt::format(
      "<form class=\"card\" method=\"post\" action=\"/login\">"
      "<input type=\"hidden\" name=\"csrf\" value=\"{}\">"
      "<label for=\"user\">User name</label>"
      "<input id=\"user\" name=\"user\" autocomplete=\"username\" autocapitalize=\"off\" "
      "spellcheck=\"false\" required autofocus>"
      "<label for=\"password\">Password</label>"
      "<input id=\"password\" name=\"password\" type=\"password\" "
      "autocomplete=\"current-password\" required>"
      "<button class=\"primary\" type=\"submit\">Log in</button></form></div>",
      html_escape(csrf));
  return layout("Log in", "/login", body, std::nullopt);
}

std::string lookup_page(const PageUser& user, const LookupView& view) {
  std::string options;
  for (const auto& field : view.fields) {
    options +=
        fmt::format("<option value=\"{0}\"{1}>{0} ({2})</option>", html_escape(field.alias),
                    field.alias == view.selected_field ? " selected" : "", html_escape(field.type));
  }
  std::string body = "<h1>Look up a person</h1>";
  body +=
      "<p class=\"hint\">Enter a value exactly as the person gave it, e.g. the email address "
      "named in an official request. It is compared by its keyed hash and is not stored, "
      "logged or shown again. Every lookup is recorded with your user name.</p>";
  body += fmt::format(
      "<form class=\"card\" method=\"post\" action=\"/lookup\" autocomplete=\"off\">"
      "<input type=\"hidden\" name=\"csrf\" value=\"{}\">"
      "<label for=\"field\">Field</label><select id=\"field\" name=\"field\">{}</select>"
      "<label for=\"value\">Exact value</label>"
      "<input id=\"value\" name=\"value\" type=\"text\" required autofocus autocapitalize=\"off\" "
      "spellcheck=\"false\" autocomplete=\"off\">"
      "<button class=\"primary\" type=\"submit\">Look up</button></form>",
      html_escape(user.csrf), options);
  if (!view.message.empty()) {
    body += fmt::format("<div class=\"card notice\" role=\"alert\">{}</div>",
                        html_escape(view.message));
  } else if (view.matches) {
    const auto field = html_escape(view.selected_field);
    if (view.matches->empty() && view.live.empty()) {
      body += fmt::format(
          "<section class=\"card result not-found\" aria-live=\"polite\"><h2>Not found</h2>"
          "<p>Neither a processed record nor a contact in Mautic matches this {}. The person "
          "may never have been in Mautic, or gave a different value (check it letter by "
          "letter).</p></section>",
          field);
    }
    if (!view.matches->empty()) {
      body += fmt::format(
          "<section class=\"card result found\" aria-live=\"polite\"><h2>Processed: {} "
          "record{} match{} this {}</h2>",
          view.matches->size(), view.matches->size() == 1 ? "" : "s",
          view.matches->size() == 1 ? "es" : "", field);
      for (const auto& match : *view.matches) body += match_html(match, view, user);
      body += "</section>";
    }
    if (!view.live.empty()) {
      body += fmt::format(
          "<section class=\"card result live\" aria-live=\"polite\"><h2>In Mautic: {} live "
          "contact{} match{} this {}</h2><p>Not processed: what Mautic stores about this "
          "person is there in clear.</p>",
          view.live.size(), view.live.size() == 1 ? "" : "s", view.live.size() == 1 ? "es" : "",
          field);
      for (int64_t id : view.live) {
        body += fmt::format("<div class=\"record\"><dl><dt>Contact id</dt><dd>{}</dd></dl>{}</div>",
                            contact_link(id, view.mautic_url), person_actions(user, id, true));
      }
      if (!user.may_export && !user.may_erase) {
        body += "<p class=\"muted\">An export or an erasure of this person is done by a user "
                "with the export or erase role.</p>";
      }
      body += "</section>";
    }
  }
  body += fmt::format("<p class=\"muted\">{} of {} lookups left in this hour.</p>",
                      std::max(0, view.lookups_left), view.lookups_per_hour);
  return layout("Lookup", "/lookup", body, user);
}

std::string processed_chart_svg(const std::vector<DatabaseNumbers::Day>& days) {
  // About as wide as a phone's screen, so the labels keep their size there (~12 px).
  constexpr double kWidth = 360, kHeight = 200, kLeft = 36, kRight = 6, kTop = 10, kBottom = 26;
  const double plot_width = kWidth - kLeft - kRight;
  const double plot_height = kHeight - kTop - kBottom;
  int64_t highest = 0;
  std::set<std::string> reasons;
  for (const auto& day : days) {
    int64_t total = 0;
    for (const auto& [reason, count] : day.by_reason) {
      total += count;
      reasons.insert(reason);
    }
    highest = std::max(highest, total);
  }
  // Four grid steps of a round size (1, 2, 5, 10, 20, 50, ...) that reach the highest day.
  int64_t grid_step = 1;
  for (int64_t power = 1; grid_step * 4 < highest; power *= 10) {
    for (int64_t factor : {1, 2, 5}) {
      grid_step = factor * power;
      if (grid_step * 4 >= highest) break;
    }
  }
  const int64_t top = grid_step * 4;
  std::string svg = fmt::format(
      "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {} {}\" role=\"img\" "
      "aria-label=\"Processed contacts per day and reason, last {} days\" "
      "font-family=\"system-ui, sans-serif\" font-size=\"13\">",
      kWidth, kHeight, days.size());
  for (int tick = 0; tick <= 4; ++tick) {
    const double y = kTop + plot_height * (1.0 - tick / 4.0);
    const int64_t value = grid_step * tick;
    svg += fmt::format(
        "<line x1=\"{}\" x2=\"{}\" y1=\"{:.1f}\" y2=\"{:.1f}\" stroke=\"#d8dee6\"/>"
        "<text x=\"{}\" y=\"{:.1f}\" text-anchor=\"end\" fill=\"#5b6675\">{}</text>",
        kLeft, kWidth - kRight, y, y, kLeft - 6, y + 4, value);
  }
  const double slot = days.empty() ? plot_width : plot_width / double(days.size());
  const double bar = std::max(1.0, slot * 0.72);
  for (size_t i = 0; i < days.size(); ++i) {
    const auto& day = days[i];
    const double x = kLeft + slot * double(i) + (slot - bar) / 2;
    double y = kTop + plot_height;
    for (const auto& reason : reasons) {
      auto found = day.by_reason.find(reason);
      if (found == day.by_reason.end() || found->second == 0) continue;
      const double height = plot_height * double(found->second) / double(top);
      y -= height;
      svg += fmt::format(
          "<rect x=\"{:.1f}\" y=\"{:.1f}\" width=\"{:.1f}\" height=\"{:.1f}\" fill=\"{}\">"
          "<title>{}: {} {}</title></rect>",
          x, y, bar, height, reason_colour(reason), html_escape(day.date), found->second,
          html_escape(reason));
    }
    // A date under every seventh bar, counted from the newest day.
    // The newest one ends at its bar's right edge, so it is not cut off by the chart's edge.
    if ((days.size() - 1 - i) % 7 == 0 && day.date.size() >= 10) {
      const bool newest = i + 1 == days.size();
      svg += fmt::format(
          "<text x=\"{:.1f}\" y=\"{}\" text-anchor=\"{}\" fill=\"#5b6675\">{}</text>",
          newest ? x + bar : x + bar / 2, kHeight - 8, newest ? "end" : "middle",
          html_escape(day.date.substr(5)));
    }
  }
  svg += fmt::format("<line x1=\"{}\" x2=\"{}\" y1=\"{:.1f}\" y2=\"{:.1f}\" stroke=\"#8a96a6\"/>",
                     kLeft, kWidth - kRight, kTop + plot_height, kTop + plot_height);
  svg += "</svg>";
  return svg;
}

std::string status_page(const PageUser& user, const StatusView& view) {
  std::string body = "<h1>Status</h1>";
  const Counters& counters = view.counters;
  auto tile = [](std::string_view state, std::string_view label, const std::string& number,
                 const std::string& detail) {
    return fmt::format(
        "<div class=\"tile{}{}\"><div class=\"label\">{}</div><div class=\"number\">{}</div>"
        "<div class=\"detail\">{}</div></div>",
        state.empty() ? "" : " ", state, label, number, detail);
  };
  body += "<div class=\"tiles\">";
  const int64_t now = view.now != 0 ? view.now : epoch_now();
  if (view.numbers) {
    const mautic::StatusReport& status = view.numbers->status;
    int64_t total = 0;
    std::string reasons;
    for (const auto& [reason, count] : status.processed_by_reason) {
      total += count;
      reasons += fmt::format("{}{} {}", reasons.empty() ? "" : ", ", count, html_escape(reason));
    }
    std::string sources;
    for (const auto& [source, count] : view.numbers->processed_by_source) {
      sources += fmt::format("{}{} by {}", sources.empty() ? "" : ", ", count, html_escape(source));
    }
    body += tile("", "Processed contacts", std::to_string(total),
                 reasons.empty() ? "none yet" : reasons + (sources.empty() ? "" : "; " + sources));
    body += tile("", "Pending", std::to_string(status.pending),
                 status.oldest_pending_age_seconds
                     ? "the oldest waits for " + duration_text(*status.oldest_pending_age_seconds)
                     : "waiting for a webhook or the next sweep");
    body += tile("", "In grace period", std::to_string(status.waiting),
                 status.waiting > 0
                     ? "on do-not-contact, processed after [trigger] grace; the next is due " +
                           utc(status.next_due_at)
                     : "none waiting out [trigger] grace");
    // Red when no sweep succeeded for twice the timer's interval: the safety net is down.
    const auto& success = status.last_successful_sweep;
    const auto ended = success && success->ended_at ? utc_epoch_seconds(*success->ended_at)
                                                    : std::nullopt;
    const bool stale = !ended || now - *ended > 2 * 60 * int64_t(view.sweep_interval_minutes);
    body += tile(stale ? "bad" : "", "Last successful sweep",
                 ended ? age(success->ended_at, "never", now) : "none",
                 ended ? fmt::format("{} contacts in {:.1f} s; expected every {} min",
                                     success->processed, success->seconds.value_or(0),
                                     view.sweep_interval_minutes)
                       : fmt::format("none recorded; the sweep should run every {} min",
                                     view.sweep_interval_minutes));
    if (const auto& last = status.last_sweep; last && last->result != "ok") {
      const std::string started = "started " + age(last->started_at, "never", now);
      body += tile(last->result == "running" ? "" : "warn", "Last sweep",
                   html_escape(last->result),
                   last->error_class ? html_escape(*last->error_class) + " error; " + started
                                     : started);
    }
  }
  body += tile("", "Last webhook", age(counters.last_webhook_at, "none", now),
               counters.last_webhook_at ? utc(counters.last_webhook_at)
                                        : "since this server started " + utc(counters.started_at));
  body += tile("", "Errors", std::to_string(counters.errors),
               "since this server started " + utc(counters.started_at));
  body += "</div>";

  if (!view.numbers) {
    body += fmt::format(
        "<div class=\"card notice\" role=\"alert\">The database could not be "
        "read: {}</div>",
        html_escape(view.database_error));
  } else {
    body += fmt::format(
        "<section class=\"card chart\"><h2>Processed per day (last {} days, "
        "UTC)</h2>{}",
        view.numbers->last_days.size(), processed_chart_svg(view.numbers->last_days));
    std::set<std::string> reasons;
    for (const auto& day : view.numbers->last_days) {
      for (const auto& [reason, count] : day.by_reason) reasons.insert(reason);
    }
    for (const auto& [reason, count] : view.numbers->status.processed_by_reason) {
      reasons.insert(reason);
    }
    body += "<div class=\"legend\">";
    for (const auto& reason : reasons) {
      body += fmt::format("<span class=\"swatch-{}\">{}</span>", reason_class(reason),
                          html_escape(reason));
    }
    body += "</div></section>";
  }

  body += "<section class=\"card\"><h2>Webhook</h2><table><tr><th>requests</th><th>count</th></tr>";
  if (counters.webhook_requests_by_status.empty()) {
    body += "<tr><td colspan=\"2\" class=\"muted\">none since this server started</td></tr>";
  }
  for (const auto& [status, count] : counters.webhook_requests_by_status) {
    body += fmt::format("<tr><td>HTTP {}</td><td>{}</td></tr>", status, count);
  }
  body += fmt::format(
      "<tr><td>contacts processed within the request</td><td>{}</td></tr>"
      "<tr><td>named but not pending (already processed, or no do-not-contact row yet)</td>"
      "<td>{}</td></tr></table></section>",
      counters.webhook_contacts_processed, counters.webhook_contacts_not_pending);

  body += "<section class=\"card\"><h2>Recent errors</h2>";
  if (counters.recent_errors.empty()) {
    body += "<p class=\"muted\">None since this server started.</p>";
  } else {
    body += "<table><tr><th>when (UTC)</th><th>where</th><th>what</th></tr>";
    for (const auto& entry : counters.recent_errors) {
      body += fmt::format("<tr><td>{}</td><td>{}</td><td>{}</td></tr>", html_escape(entry.at),
                          html_escape(entry.where), html_escape(entry.message));
    }
    body += "</table>";
  }
  body += "</section>";
  body +=
      "<p class=\"muted\">The same numbers for monitoring: <code>/metrics</code> "
      "(Prometheus) and <code>/healthz</code>.</p>";
  return layout("Status", "/status", body, user);
}

std::string erase_confirm_page(const PageUser& user, const mautic::ErasureReport& preview,
                               std::string_view mautic_url) {
  const std::string contact = contact_link(preview.contact_id, mautic_url);
  if (preview.processed_before) {
    return layout("Nothing to erase", "/lookup",
                  fmt::format("<h1>Nothing to erase</h1><div class=\"card\">Contact {} was "
                              "processed on {} UTC; nothing personal is left to erase. A lookup "
                              "shows its record.</div><p><a href=\"/lookup\">Back to the "
                              "lookup</a></p>",
                              contact, html_escape(*preview.processed_before)),
                  user);
  }
  std::string body = fmt::format(
      "<h1>Erase contact {}?</h1><div class=\"card notice\" role=\"alert\">This cannot be "
      "undone. The contact is put on do-not-contact and its personal data is deleted or "
      "replaced by keyed hashes now, as the policy says, in Mautic's tables too. The record "
      "that stays lets a lookup prove the erasure, and keeps the address from being imported "
      "again.</div><section class=\"card\"><h2>What goes</h2>{}",
      contact, erasure_table(preview));
  if (!preview.email_hashed) {
    body += "<p class=\"muted\">The policy does not hash email: no lookup will find this "
            "record afterwards.</p>";
  }
  body += fmt::format(
      "</section><form class=\"card\" method=\"post\" action=\"/erase\">"
      "<input type=\"hidden\" name=\"csrf\" value=\"{}\">"
      "<input type=\"hidden\" name=\"contact_id\" value=\"{}\">"
      "<input type=\"hidden\" name=\"confirm\" value=\"yes\">"
      "<div class=\"actions\"><button class=\"danger primary\" type=\"submit\">Erase contact "
      "{} now</button><a href=\"/lookup\">Cancel</a></div></form>",
      html_escape(user.csrf), preview.contact_id, preview.contact_id);
  return layout("Erase contact", "/lookup", body, user);
}

std::string erase_done_page(const PageUser& user, const mautic::ErasureReport& report,
                            std::string_view mautic_url) {
  if (report.processed_before) return erase_confirm_page(user, report, mautic_url);
  std::string changed;
  for (const auto& [table, rows] : report.rows_changed) {
    if (rows == 0) continue;
    changed += fmt::format("{}{} {}", changed.empty() ? "" : ", ", html_escape(table), rows);
  }
  std::string body = fmt::format(
      "<h1>Contact {} was erased</h1><section class=\"card result found\" "
      "aria-live=\"polite\"><h2>Erased on request</h2>{}<p>Rows changed: {}.</p>",
      contact_link(report.contact_id, mautic_url), erasure_table(report),
      changed.empty() ? "none" : changed);
  body += report.email_hashed
              ? "<p>A lookup of the address finds the record (when, and that it was a request); "
                "if the address is imported again, it is put back on do-not-contact and erased "
                "again.</p>"
              : "<p class=\"muted\">The policy does not hash email: no lookup will find this "
                "record.</p>";
  body += "</section><p><a href=\"/lookup\">Back to the lookup</a> · <a href=\"/audit\">"
          "Audit</a></p>";
  return layout("Erased", "/lookup", body, user);
}

std::string audit_page(const PageUser& user, const AuditView& view) {
  std::string body =
      "<h1>Audit</h1><p class=\"hint\">Every lookup, export and erasure on the pages and the "
      "command line, and every re-import guard event: who, when and what, newest first. No "
      "value a person gave is ever recorded.</p>";
  body += fmt::format(
      "<form class=\"card inline\" method=\"get\" action=\"/audit\">"
      "<label for=\"contact\">Contact id</label><input id=\"contact\" name=\"contact\" "
      "inputmode=\"numeric\" pattern=\"[0-9]*\" value=\"{}\">"
      "<button class=\"action\" type=\"submit\">Show its history</button>{}</form>",
      view.contact ? std::to_string(*view.contact) : "",
      view.contact ? "<a href=\"/audit\">All entries</a>" : "");
  if (!view.message.empty()) {
    body += fmt::format("<div class=\"card notice\" role=\"alert\">{}</div>",
                        html_escape(view.message));
    return layout("Audit", "/audit", body, user);
  }
  body += "<section class=\"card\"><div class=\"table-scroll\"><table><tr><th>when (UTC)</th>"
          "<th>who</th><th>what</th><th>contact</th><th>detail</th><th>matches</th></tr>";
  if (view.entries.empty()) {
    body += "<tr><td colspan=\"6\" class=\"muted\">No entries.</td></tr>";
  }
  for (const auto& entry : view.entries) {
    body += fmt::format(
        "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td class=\"detail\">{}</td>"
        "<td>{}</td></tr>",
        html_escape(entry.at), html_escape(entry.actor), html_escape(entry.action),
        entry.contact_id ? fmt::format("{} <a href=\"/audit?contact={}\" title=\"this contact's "
                                       "history\">history</a>",
                                       contact_link(*entry.contact_id, view.mautic_url),
                                       *entry.contact_id)
                         : "—",
        html_escape(entry.detail), entry.matches ? std::to_string(*entry.matches) : "—");
  }
  body += "</table></div>";
  if (view.older) {
    body += fmt::format("<p><a href=\"/audit?before={}{}\">Older entries</a></p>", *view.older,
                        view.contact ? fmt::format("&amp;contact={}", *view.contact) : "");
  }
  body += "</section>";
  return layout("Audit", "/audit", body, user);
}

std::string message_page(std::string_view title, std::string_view message,
                         const std::optional<PageUser>& user) {
  const std::string body = fmt::format(
      "<h1>{}</h1><div class=\"card notice\" role=\"alert\">{}</div>"
      "<p><a href=\"/lookup\">Back to the lookup</a></p>",
      html_escape(title), html_escape(message));
  return layout(title, "", body, user);
}

}  // namespace mgdpr::server
