// SPDX-License-Identifier: GPL-3.0-or-later
// `export` and `erase`, the requests that name a person (GDPR Art. 15 access, Art. 17 erasure).
// The engine finds the contacts and reads or processes them (and audits); here the arguments
// name the person, the answer is printed, and the export's files are written (mode 0600, never
// over an existing file). Nothing here prints a value except the export itself.
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <iostream>

#include <CLI/CLI.hpp>

#include "app/export_document.h"
#include "app/secrets.h"
#include "app/session.h"
#include "cli/commands_internal.h"

namespace mgdpr::cli {

namespace {

constexpr std::string_view kNeverOverwrite =
    "mautic-gdpr never overwrites a file; remove it or choose another path";

// The contacts the arguments name.
struct Named {
  std::vector<int64_t> ids;   // every match, processed or live, in id order
  std::vector<int64_t> live;  // of those, the ones not processed yet
  std::string by;             // for the audit, never a value: "email", "contact id", ...
};

Result<Named> resolve(const CommandArgs& args, mautic::Engine& engine) {
  Named named;
  auto criteria = *lookup_criteria(args);
  if (criteria.empty()) {
    named.ids = {*args.contact_id};
    named.by = "contact id";
    return named;
  }
  // `--email -` keeps the address out of shell history: it is read from stdin.
  if (args.email == "-") std::getline(std::cin, criteria.front().value);
  std::vector<std::string> aliases;
  for (const auto& criterion : criteria) aliases.push_back(criterion.alias);
  named.by = db::join(aliases, " and ");
  MGDPR_ASSIGN_OR_RETURN(auto found, engine.find_person(criteria));
  if (found.live.size() > mautic::kMaxContactsOfAPerson) {
    return make_error(
        ErrorKind::kUsage,
        "more than {} contacts match these values, which is not one person; add another "
        "--field ALIAS=VALUE, or name the contact with --contact-id",
        mautic::kMaxContactsOfAPerson);
  }
  named.live = found.live;
  named.ids = found.live;
  for (const auto& match : found.processed) named.ids.push_back(match.contact_id);
  std::sort(named.ids.begin(), named.ids.end());
  named.ids.erase(std::unique(named.ids.begin(), named.ids.end()), named.ids.end());
  if (args.contact_id) {
    // Both given: the one of the matches the request means.
    const int64_t wanted = *args.contact_id;
    const bool matches = std::find(named.ids.begin(), named.ids.end(), wanted) != named.ids.end();
    const bool live = std::find(named.live.begin(), named.live.end(), wanted) != named.live.end();
    named.ids = matches ? std::vector<int64_t>{wanted} : std::vector<int64_t>{};
    named.live = live ? std::vector<int64_t>{wanted} : std::vector<int64_t>{};
    named.by += " and contact id";
  }
  return named;
}

std::optional<int> check_person_args(const CommandArgs& args) {
  auto criteria = lookup_criteria(args);
  if (!criteria) {
    return usage_error("--field takes ALIAS=VALUE, e.g. --field mobile=+4930123", args.json);
  }
  if (criteria->empty() && !args.contact_id) {
    return usage_error("name the person: --email ADDRESS, --field ALIAS=VALUE or --contact-id N",
                       args.json);
  }
  return std::nullopt;
}

// How export and erase name the person.
void person_options(CLI::App& command, CommandArgs& args, std::string_view about_stdin) {
  command.add_option(
      "--email", args.email,
      fmt::format("The person's email address; `-` reads it from stdin {}", about_stdin));
  command.add_option("--field", args.fields,
                     "ALIAS=VALUE of any contact field; repeat it: all must match");
  command
      .add_option("--contact-id", args.contact_id,
                  "The contact's id (alone, or to pick one of several matches)")
      ->check(CLI::PositiveNumber);
}

std::string ids_text(const std::vector<int64_t>& ids) {
  std::vector<std::string> parts;
  for (int64_t id : ids) parts.push_back(std::to_string(id));
  return db::join(parts, ", ");
}

// "Email (email), Mobile (mobile)" for the profile items with this action.
std::string fields_with(const mautic::ErasureReport& report, std::string_view action) {
  std::vector<std::string> fields;
  for (const mautic::ErasureItem* item : report.profile_with(action)) {
    fields.push_back(item->label == item->field
                         ? item->field
                         : fmt::format("{} ({})", item->label, item->field));
  }
  return db::join(fields, ", ");
}

void print_erasure(const mautic::ErasureReport& report) {
  if (report.processed_before) {
    fmt::print(
        "contact {} was processed on {} UTC; nothing is left to erase (`mautic-gdpr lookup` "
        "shows the record).\n",
        report.contact_id, *report.processed_before);
    return;
  }
  fmt::print("contact {}: {}\n", report.contact_id,
             report.dry_run ? "what an erasure would change (dry run: nothing was changed)"
                            : "erased on request");
  if (!report.channels_added.empty()) {
    fmt::print("  {:<32} {} on do-not-contact (manual) for {}, comment \"{}\"\n", "do-not-contact",
               report.dry_run ? "would be put" : "put", db::join(report.channels_added, ", "),
               report.comment);
  }
  for (std::string_view action : {"hash", "delete", "keep"}) {
    const std::string fields = fields_with(report, action);
    if (fields.empty()) continue;
    fmt::print("  {:<32} {}: {}\n", "profile",
               action == "hash"     ? "replaced by keyed hashes"
               : action == "delete" ? "deleted"
                                    : "kept (the policy keeps them)",
               fields);
  }
  for (const auto& item : report.items) {
    if (item.place == "profile") continue;
    fmt::print("  {:<32} {:>6} row{}  {}\n", item.place, item.count, item.count == 1 ? " " : "s",
               mautic::describe_row_action(item.action));
  }
  if (!report.dry_run) {
    std::string changed;
    for (const auto& [table, rows] : report.rows_changed) {
      if (rows > 0) changed += fmt::format("{}{} {}", changed.empty() ? "" : ", ", table, rows);
    }
    fmt::print("  rows changed: {}\n", changed.empty() ? "none" : changed);
  }
  if (!report.email_hashed) {
    fmt::print(
        "warning: the policy does not hash email, so no lookup will find this record and the "
        "re-import guard cannot recognise the address; write email = \"hash\" under "
        "[policy.fields]\n");
  } else if (!report.dry_run) {
    fmt::print(
        "`mautic-gdpr lookup --email ADDRESS` finds the record (when and why, on request); an "
        "import of the address again is put back on do-not-contact and erased.\n");
  }
}

nlohmann::json erasure_json(const mautic::ErasureReport& report) {
  nlohmann::json items = nlohmann::json::array();
  for (const auto& item : report.items) {
    // field and label name a profile field; null for a table's rows.
    const bool field = !item.field.empty();
    items.push_back({{"place", item.place},
                     {"action", item.action},
                     {"count", item.count},
                     {"field", field ? nlohmann::json(item.field) : nlohmann::json(nullptr)},
                     {"label", field ? nlohmann::json(item.label) : nlohmann::json(nullptr)}});
  }
  return {{"contact_id", report.contact_id},
          {"dry_run", report.dry_run},
          {"processed_before", time_json(report.processed_before)},
          {"do_not_contact", {{"channels", report.channels_added}, {"comment", report.comment}}},
          {"items", items},
          {"rows_changed", report.rows_changed},
          {"email_hashed", report.email_hashed}};
}

// One line from the terminal.
std::optional<std::string> ask(const std::string& question) {
  fmt::print(stderr, "{}", question);
  std::fflush(stderr);
  std::string answer;
  if (!std::getline(std::cin, answer)) return std::nullopt;
  return answer;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// export

void export_options(CLI::App& command, CommandArgs& args) {
  person_options(command, args, "(out of shell history)");
  command.add_option("--html", args.html,
                     "Also write the export as one HTML page for the person to FILE (mode 0600, "
                     "never overwrites)");
  command.add_option("--out", args.out,
                     "Write the text or JSON to FILE instead of stdout (mode 0600, never "
                     "overwrites)");
  command.footer(
      "Examples:\n"
      "  mautic-gdpr export --email someone@example.org --html someone.html\n"
      "  mautic-gdpr export --email - --json --out someone.json   # the address from stdin\n"
      "--json: the export as JSON (docs/json.md, \"export\").\n"
      "Exit code 0 when a contact was exported, 1 when none matches. Every export is written to\n"
      "the audit table (how the person was named, which contacts, how many rows; no value).");
}

std::optional<int> check_export_args(const CommandArgs& args) {
  if (auto stop = check_person_args(args)) return stop;
  if (args.html && args.out && *args.html == *args.out) {
    return usage_error("--html and --out name the same file; give each its own", args.json);
  }
  // Checked before any work: an export is never written over an existing file.
  if (auto refused = refuse_existing_file(args.html, "--html", args.json)) return refused;
  return refuse_existing_file(args.out, "--out", args.json);
}

int run_export(CommandContext& context) {
  const CommandArgs& args = context.args;
  mautic::Engine& engine = *context.session->engine;
  auto named = resolve(args, engine);
  if (!named) return fail(args, named.error());
  app::ExportDocument document(app::utc_now());
  auto summary = engine.export_contacts(named->ids, named->by, document.sink());
  if (!summary) return fail(args, summary.error());
  if (summary->contacts.empty()) {
    if (args.json) {
      fmt::print("{}", document.json());  // "contacts": []
    } else {
      fmt::print(stderr, "No contact matches; nothing was exported (the request is audited).\n");
    }
    return kExitNoMatch;
  }
  document.set_states(*summary);
  const std::string data = args.json ? document.json() : document.text();
  if (args.html) {
    if (auto written = app::write_new_file(*args.html, document.html(), 0600, kNeverOverwrite); !written) {
      return fail(args, written.error());
    }
  }
  if (args.out) {
    if (auto written = app::write_new_file(*args.out, data, 0600, kNeverOverwrite); !written) {
      return fail(args, written.error());
    }
  } else if (args.json || !args.html) {
    fmt::print("{}", data);
  }
  if (args.json) return kExitOk;  // nothing on stderr: the document says it all
  for (const auto& contact : summary->contacts) {
    fmt::print(stderr, "exported contact {} ({}): {} rows\n", contact.contact_id,
               contact.processed ? "processed" : "live", contact.rows);
  }
  for (const auto& path : {args.html, args.out}) {
    if (path) fmt::print(stderr, "wrote {} (mode 0600)\n", *path);
  }
  return kExitOk;
}

// ---------------------------------------------------------------------------------------------
// erase

void erase_options(CLI::App& command, CommandArgs& args) {
  person_options(command, args, "(then --yes is needed)");
  command.add_flag("--dry-run", args.dry_run, "Show what would go; change nothing");
  command.add_flag("--yes", args.yes, "Do not ask before erasing (for scripts)");
  command.footer(
      "The contact is put on do-not-contact (reason manual, comment \"mautic-gdpr: erasure\n"
      "request of DATE\") and processed with the policy at once, in one transaction, whatever\n"
      "[trigger] says; gdpr_contacts.source is `request`. The keyed hash stays, so `lookup`\n"
      "proves the request was honoured and the re-import guard keeps the address out.\n"
      "Several contacts match: their ids are listed, choose one with --contact-id.\n"
      "Exit code 0 when erased (or already processed), 1 when nothing matches, 64 when the\n"
      "request names several contacts or is not confirmed.");
}

std::optional<int> check_erase_args(const CommandArgs& args) { return check_person_args(args); }

int run_erase(CommandContext& context) {
  const CommandArgs& args = context.args;
  mautic::Engine& engine = *context.session->engine;
  auto named = resolve(args, engine);
  if (!named) return fail(args, named.error());
  if (named->ids.empty()) {
    if (auto audited = engine.audit(args.dry_run ? "erase-dry-run" : "erase",
                                    fmt::format("by {}: no contact matches", named->by), 0);
        !audited) {
      return fail(args, audited.error());
    }
    if (args.json) {
      print_json({{"contacts", nlohmann::json::array()}});
    } else {
      fmt::print(stderr, "No contact matches; nothing was erased.\n");
    }
    return kExitNoMatch;
  }
  if (named->live.size() > 1) {
    return usage_error(fmt::format("{} contacts match: {}; erase them one at a time with "
                                   "--contact-id ID (`mautic-gdpr export --contact-id ID` shows "
                                   "each)",
                                   named->live.size(), ids_text(named->live)),
                       args.json);
  }
  // The live contact; with none, the processed records (each reports that it is done).
  const std::vector<int64_t> targets = named->live.empty() ? named->ids : named->live;
  nlohmann::json reports = nlohmann::json::array();
  for (int64_t target : targets) {
    if (!args.dry_run && !args.yes) {
      if (::isatty(STDIN_FILENO) == 0 || args.json) {
        return usage_error("erase asks before it erases and there is no terminal to ask on (or "
                           "--json was given); add --yes (see first what would go with "
                           "--dry-run)",
                           args.json);
      }
      auto preview = engine.erase_contact(target, named->by, /*dry_run=*/true);
      if (!preview) return fail(args, preview.error());
      print_erasure(*preview);
      if (!preview->processed_before) {
        auto answer = ask(fmt::format(
            "Erase contact {} now? This cannot be undone. Type the contact id to confirm: ",
            target));
        if (!answer || *answer != std::to_string(target)) {
          fmt::print(stderr, "Not confirmed; nothing was erased.\n");
          return kExitUsage;
        }
      }
    }
    auto report = engine.erase_contact(target, named->by, args.dry_run);
    if (!report) return fail(args, report.error());
    if (args.json) {
      reports.push_back(erasure_json(*report));
    } else {
      print_erasure(*report);
    }
  }
  if (args.json) print_json({{"contacts", reports}});
  return kExitOk;
}

}  // namespace mgdpr::cli
