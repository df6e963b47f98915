// SPDX-License-Identifier: GPL-3.0-or-later
#include "testing/synthetic_mautic.h"

#include <fstream>
#include <sstream>

namespace mgdpr::testing {

namespace {

constexpr int64_t kRowsPerInsert = 500;

std::string replace_all(std::string text, std::string_view from, std::string_view to) {
  size_t at = 0;
  while ((at = text.find(from, at)) != std::string::npos) {
    text.replace(at, from.size(), to);
    at += to.size();
  }
  return text;
}

const char* const kCountries[] = {"Germany", "France", "Austria", "Spain", "Italy"};
const char* const kColours[] = {"red", "green", "blue"};

}  // namespace

Result<std::string> schema_sql(const std::string& fixtures_dir, MauticSchemaVersion version,
                               const std::string& prefix) {
  const std::string path = fixtures_dir + (version == MauticSchemaVersion::k51
                                               ? "/mautic-5.1-schema.sql"
                                               : "/mautic-4.4-schema.sql");
  std::ifstream in(path);
  if (!in) return make_error("cannot read the schema fixture `{}`", path);
  std::ostringstream content;
  content << in.rdbuf();
  return replace_all(content.str(), "{prefix}", prefix);
}

Status load_mautic_schema(db::Connection& connection, const std::string& fixtures_dir,
                          MauticSchemaVersion version, const std::string& prefix) {
  auto sql = schema_sql(fixtures_dir, version, prefix);
  if (!sql) return sql.error();
  return connection.execute_script(*sql);
}

const std::vector<CustomField>& standard_custom_fields() {
  static const std::vector<CustomField> kFields = {
      {"nickname", "text", "VARCHAR(64)"},
      {"work_email", "email", "VARCHAR(64)"},
      {"emergency_phone", "tel", "VARCHAR(191)"},
      {"favourite_colour", "select", "VARCHAR(64)"},
      {"interests", "multiselect", "TEXT"},
      {"bio", "textarea", "LONGTEXT"},
      {"shoe_size", "number", "DOUBLE PRECISION"},
      {"birthday", "date", "DATE"},
      {"newsletter_opt", "boolean", "TINYINT(1)"},
  };
  return kFields;
}

Status add_custom_field(db::Connection& connection, const std::string& prefix,
                        const CustomField& field) {
  auto altered = connection.execute(fmt::format("ALTER TABLE {} ADD {} {} DEFAULT NULL",
                                                db::quote_identifier(prefix + "leads"),
                                                db::quote_identifier(field.alias),
                                                field.column_type));
  if (!altered) return altered.error();
  // Mautic 4.4's lead_fields has no char_length_limit column.
  auto has_limit = connection.query(
      fmt::format("SHOW COLUMNS FROM {} LIKE 'char_length_limit'",
                  db::quote_identifier(prefix + "lead_fields")));
  if (!has_limit) return has_limit.error();
  const bool limit = !has_limit->empty();
  auto inserted = connection.execute(
      fmt::format("INSERT INTO {} (is_published, label, alias, type, field_group, is_required, "
                  "is_fixed, is_visible, is_short_visible, is_listable, is_publicly_updatable, "
                  "is_unique_identifer, {}field_order, object, properties) "
                  "VALUES (1, ?, ?, ?, 'core', 0, 0, 1, 0, 1, 0, 0, {}100, 'lead', 'a:0:{{}}')",
                  db::quote_identifier(prefix + "lead_fields"), limit ? "char_length_limit, " : "",
                  limit ? "64, " : ""),
      {field.alias, field.alias, field.type});
  if (!inserted) return inserted.error();
  return {};
}

std::string synthetic_email(int64_t id, uint64_t seed) {
  // Every third address has capitals, so lookups must normalize.
  if (id % 3 == 0) return fmt::format("Person.{}.S{}@Example.ORG", id, seed);
  return fmt::format("person.{}.s{}@example.org", id, seed);
}
std::string synthetic_phone(int64_t id) { return fmt::format("+49 30 {:07d}", id); }
std::string synthetic_firstname(int64_t id) { return fmt::format("Firstname{}", id); }
std::string synthetic_work_email(int64_t id) { return fmt::format("work{}@corp.example", id); }

int dnc_reason_for(int64_t id, const ContactSet& set) {
  if (set.dnc_period <= 0) return 0;
  switch (id % set.dnc_period) {
    case 0: return 1;
    case 1: return 2;
    case 2: return 3;
    default: return 0;
  }
}

Status generate_contacts(db::Connection& connection, const std::string& prefix,
                         const ContactSet& set) {
  const std::string leads = db::quote_identifier(prefix + "leads");
  const std::string dnc = db::quote_identifier(prefix + "lead_donotcontact");
  std::string columns =
      "id, is_published, date_added, date_identified, points, firstname, lastname, email, "
      "phone, mobile, city, country, company, preferred_profile_image, social_cache, internal, "
      "last_active";
  size_t per_row = 17;
  if (set.custom_fields) {
    columns +=
        ", nickname, work_email, emergency_phone, favourite_colour, interests, bio, shoe_size, "
        "birthday, newsletter_opt";
    per_row += 9;
  }
  for (int64_t first = 1; first <= set.contacts; first += kRowsPerInsert) {
    const int64_t last = std::min(set.contacts, first + kRowsPerInsert - 1);
    std::vector<db::Param> params;
    std::vector<db::Param> dnc_params;
    std::string tuples;
    std::string dnc_tuples;
    for (int64_t id = first; id <= last; ++id) {
      tuples += (tuples.empty() ? "(" : ", (") + db::placeholders(per_row) + ")";
      params.insert(params.end(),
                    {id, int64_t(1), std::string("2024-01-02 03:04:05"),
                     std::string("2024-01-02 03:04:05"), int64_t(id % 100),
                     synthetic_firstname(id), fmt::format("Lastname{}", id),
                     synthetic_email(id, set.seed), synthetic_phone(id),
                     fmt::format("+49 170 {:07d}", id), fmt::format("City{}", id % 50),
                     std::string(kCountries[id % 5]), fmt::format("Company {}", id % 100),
                     fmt::format("https://www.gravatar.com/avatar/{:032x}", id),
                     std::string("a:1:{s:7:\"twitter\";s:6:\"handle\";}"),
                     std::string("a:0:{}"), std::string("2024-06-01 12:00:00")});
      if (set.custom_fields) {
        params.insert(params.end(),
                      {fmt::format("Nick{}", id), synthetic_work_email(id),
                       fmt::format("0049 (0)89 {:06d}", id), std::string(kColours[id % 3]),
                       std::string("sailing|chess"), fmt::format("Biography of person {}", id),
                       fmt::format("{}", 36 + id % 12), std::string("1980-02-03"),
                       int64_t(id % 2)});
      }
      if (int reason = dnc_reason_for(id, set); reason != 0) {
        dnc_tuples += dnc_tuples.empty() ? "(?, ?, ?, 'email', ?)" : ", (?, ?, ?, 'email', ?)";
        dnc_params.insert(dnc_params.end(),
                          {id, std::string("2025-03-04 05:06:07"), int64_t(reason),
                           fmt::format("bounce from {}", synthetic_email(id, set.seed))});
      }
    }
    auto inserted = connection.execute(
        fmt::format("INSERT INTO {} ({}) VALUES {}", leads, columns, tuples), params);
    if (!inserted) return inserted.error();
    if (!dnc_tuples.empty()) {
      auto dnc_inserted = connection.execute(
          fmt::format("INSERT INTO {} (lead_id, date_added, reason, channel, comments) VALUES {}",
                      dnc, dnc_tuples),
          dnc_params);
      if (!dnc_inserted) return dnc_inserted.error();
    }
  }
  return {};
}

Status create_synthetic_mautic(db::Connection& connection, const std::string& fixtures_dir,
                               MauticSchemaVersion version, const std::string& prefix,
                               const ContactSet& set) {
  MGDPR_TRY(load_mautic_schema(connection, fixtures_dir, version, prefix));
  if (set.custom_fields) {
    for (const auto& field : standard_custom_fields()) {
      MGDPR_TRY(add_custom_field(connection, prefix, field));
    }
  }
  return generate_contacts(connection, prefix, set);
}

}  // namespace mgdpr::testing
