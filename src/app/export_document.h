// SPDX-License-Identifier: GPL-3.0-or-later
// The export of a person (GDPR Art. 15) as a document: filled section by section by the
// engine's sink (mautic/person_requests.h) and rendered for its reader. The CLI (`export`) and
// the pages' download render the same document.
//
// JSON (`export --json`), version 1:
//   {"format": "mautic-gdpr export", "version": 1,
//    "exported_at": "2026-11-30T12:00:00Z",
//    "contacts": [{"contact_id": 42, "state": "live" | "processed",
//                  "sections": [{"name": "profile", "title": "Your profile",
//                                "rows": [{"field": "email", "label": "Email",
//                                          "value": "..."}, ...]},
//                               {"name": "email_stats", "title": "Emails sent to you",
//                                "rows": [{"id": "7", "email_address": "...", ...}]}, ...]}]}
// Every value is a string as the database holds it, or null; a row's keys are its columns in
// the table's order. Section names and what they hold: mautic/person_requests.h.
//
// HTML (`export --html FILE`): one self-contained page for the person it is about: a title
// and a sentence per section, its rows as tables; every value escaped, no script, nothing
// loaded from elsewhere. Text (the default): for a terminal, control characters shown escaped.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "db/connection.h"
#include "mautic/person_requests.h"

namespace mgdpr::app {

struct ExportSection {
  std::string name;
  db::Rows rows;
};

struct ContactExport {
  int64_t contact_id = 0;
  bool processed = false;
  std::vector<ExportSection> sections;
};

class ExportDocument {
 public:
  // exported_at: UTC, "YYYY-MM-DD HH:MM:SS".
  explicit ExportDocument(std::string exported_at);

  // The sink that fills the document (a contact's sections arrive together, in order).
  mautic::ExportSink sink();
  // The engine's summary: whether each contact was processed.
  void set_states(const mautic::ExportSummary& summary);

  const std::vector<ContactExport>& contacts() const { return contacts_; }
  const std::string& exported_at() const { return exported_at_; }

  std::string json() const;
  std::string html() const;
  std::string text() const;

 private:
  std::string exported_at_;
  std::vector<ContactExport> contacts_;
};

// What a section is, in the words of the person it is about: "Emails sent to you".
std::string section_title(const std::string& name);

// The current time in UTC as "YYYY-MM-DD HH:MM:SS".
std::string utc_now();

}  // namespace mgdpr::app
