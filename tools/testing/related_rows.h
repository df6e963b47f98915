// SPDX-License-Identifier: GPL-3.0-or-later
// Synthetic rows outside the contact profile, at realistic ratios per contact: email_stats,
// page_hits, form submissions with their results, IP addresses shared across contacts and
// audit_log entries. Deterministic by seed; written with large multi-row INSERTs over the text
// protocol so that a million contacts load in minutes (benchmarks), and small sets in
// milliseconds (tests).
#pragma once

#include <cstdint>
#include <string>

#include "core/result.h"
#include "db/connection.h"

namespace mgdpr::testing {

struct RelatedSet {
  int64_t contacts = 1000;  // contacts 1..n must exist already (generate_contacts)
  uint64_t seed = 1;        // the ContactSet's seed: addresses in the rows match the profiles
  // Averages per contact; each contact gets 0..2*average rows, by a hash of its id.
  int email_stats_per_contact = 5;
  int page_hits_per_contact = 3;
  int form_submissions_per_contact = 1;
  int audit_entries_per_contact = 1;
  // Distinct IP addresses per contact: fewer than one, so that many IPs are shared.
  double ips_per_contact = 0.5;
};

struct RelatedCounts {
  int64_t ip_addresses = 0;
  int64_t lead_ips_xref = 0;
  int64_t email_stats = 0;
  int64_t page_hits = 0;
  int64_t form_submissions = 0;
  int64_t form_results = 0;
  int64_t audit_log = 0;
};

// Fills the related tables of a synthetic Mautic (schema loaded, contacts generated). Creates
// form 1 ("contactform", results in {prefix}form_results_1_contactform) when missing.
Result<RelatedCounts> generate_related_rows(db::Connection& connection, const std::string& prefix,
                                            const RelatedSet& set);

// A single-quoted SQL string literal (backslash and quote escaped), for the text-protocol bulk
// loads of synthetic data only; product code binds values instead.
std::string sql_literal(std::string_view value);

}  // namespace mgdpr::testing
