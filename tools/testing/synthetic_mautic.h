// SPDX-License-Identifier: GPL-3.0-or-later
// Synthetic Mautic data, deterministic by seed: the schema fixture under any prefix, custom
// fields of every type, contacts with personal values, and do-not-contact entries. Shared by
// the integration tests, the demo and the benchmarks.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/result.h"
#include "db/connection.h"

namespace mgdpr::testing {

enum class MauticSchemaVersion { k51, k44 };

// The fixture DDL (tests/fixtures/mautic-<version>-schema.sql) with {prefix} filled in.
Result<std::string> schema_sql(const std::string& fixtures_dir, MauticSchemaVersion version,
                               const std::string& prefix);

// Loads the schema fixture into the connection's (empty) database.
Status load_mautic_schema(db::Connection& connection, const std::string& fixtures_dir,
                          MauticSchemaVersion version, const std::string& prefix);

struct CustomField {
  std::string alias;
  std::string type;         // Mautic field type
  std::string column_type;  // the column Mautic 5.1 creates for it
};

// One custom field of each interesting type (text, email, tel, select, multiselect, textarea,
// number, date, boolean).
const std::vector<CustomField>& standard_custom_fields();

// Adds the column to {prefix}leads and the row to {prefix}lead_fields, as Mautic does.
Status add_custom_field(db::Connection& connection, const std::string& prefix,
                        const CustomField& field);

struct ContactSet {
  int64_t contacts = 1000;
  // Every `period`-th contact gets a DNC entry by its position: 0 unsubscribed, 1 bounced,
  // 2 manual; the rest are contactable.
  int64_t dnc_period = 10;
  bool custom_fields = true;  // fill the standard custom fields
  uint64_t seed = 1;
};

// Inserts contacts 1..n with personal values derived from their id and the seed.
Status generate_contacts(db::Connection& connection, const std::string& prefix,
                         const ContactSet& set);

// A whole synthetic Mautic in the connection's empty database: schema, the standard custom
// fields (when set.custom_fields), contacts and do-not-contact entries.
Status create_synthetic_mautic(db::Connection& connection, const std::string& fixtures_dir,
                               MauticSchemaVersion version, const std::string& prefix,
                               const ContactSet& set);

// The values generate_contacts wrote, so tests can look for them and look them up.
std::string synthetic_email(int64_t id, uint64_t seed);  // mixed case for some ids
std::string synthetic_phone(int64_t id);
std::string synthetic_firstname(int64_t id);
std::string synthetic_work_email(int64_t id);

// DNC reason code for a contact under a ContactSet (0 when contactable).
int dnc_reason_for(int64_t id, const ContactSet& set);

}  // namespace mgdpr::testing
