// SPDX-License-Identifier: GPL-3.0-or-later
#include "mautic/discovery.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>

#include "mautic/location_rows.h"
#include "mautic/own_tables.h"

namespace mgdpr::mautic {

namespace {

std::string lowered(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return char(std::tolower(c)); });
  return out;
}

std::vector<std::string> words_of(const std::string& name) {
  std::vector<std::string> words;
  size_t start = 0;
  while (start <= name.size()) {
    size_t end = name.find('_', start);
    if (end == std::string::npos) end = name.size();
    if (end > start) words.push_back(name.substr(start, end - start));
    start = end + 1;
  }
  return words;
}

// Column names that hold a contact id: Mautic's own spellings and their usual variants.
bool names_a_contact(const std::string& name) {
  static constexpr std::string_view kNames[] = {
      "lead_id", "contact_id", "leadid",         "contactid",
      "lead",    "contact",    "mautic_lead_id", "mautic_contact_id"};
  return std::find(std::begin(kNames), std::end(kNames), name) != std::end(kNames) ||
         name.ends_with("_lead_id") || name.ends_with("_contact_id");
}

// Column names people's data goes by: a part of the name ("work_email", "billing_city") or a
// whole word of it ("name", "ip").
bool looks_personal(const std::string& name) {
  static constexpr std::string_view kParts[] = {
      "email",    "e_mail",    "phone",      "mobile",     "fax",       "firstname", "lastname",
      "fullname", "username",  "address",    "street",     "zipcode",   "postcode",  "postal",
      "birth",    "ipaddress", "ip_address", "user_agent", "useragent", "twitter",   "facebook",
      "linkedin", "instagram", "skype",      "iban",       "passport"};
  static constexpr std::string_view kWords[] = {"name", "ip",  "city", "zip",    "agent",
                                                "ua",   "dob", "ssn",  "handle", "gender"};
  if (std::any_of(std::begin(kParts), std::end(kParts),
                  [&](std::string_view part) { return name.find(part) != std::string::npos; })) {
    return true;
  }
  const auto words = words_of(name);
  return std::any_of(words.begin(), words.end(), [](const std::string& word) {
    return std::find(std::begin(kWords), std::end(kWords), word) != std::end(kWords);
  });
}

std::string kind_of(const ColumnInfo& column) {
  if (column.data_type == "json" || column.comment.find("DC2Type:json") != std::string::npos) {
    return "json";
  }
  if (column.is_structured()) return "php-serialized";
  return "clear";
}

bool covered(const std::string& table, const RelatedPlan& plan, const Config& config) {
  if (location_of_table(table) != nullptr || find_left_alone(table) != nullptr ||
      is_own_table(table)) {
    return true;
  }
  if (std::find(config.discovery_ignore.begin(), config.discovery_ignore.end(), table) !=
      config.discovery_ignore.end()) {
    return true;
  }
  // A declared table, or the parent table it names (which the admin has looked at too).
  return std::any_of(plan.locations.begin(), plan.locations.end(), [&](const LocationPlan& entry) {
    return entry.declared &&
           (entry.location->named_table() == table ||
            (entry.location->link == Link::kParentRow && entry.location->parent.table == table));
  });
}

std::string config_block(const DiscoveredTable& found) {
  std::string columns;
  for (size_t i = 0; i < found.personal_columns.size(); ++i) {
    columns += fmt::format("{}{} = \"{}\"", columns.empty() ? "" : ", ", found.personal_columns[i],
                           found.kinds[i]);
  }
  if (found.contact_columns.empty()) {
    return fmt::format(
        "# No column of {0} names a contact. If its rows are a person's, declare it with the\n"
        "# column that ties them to one (link_column, or parent for a row that holds it):\n"
        "#   [[related.extra]]\n#   table = \"{0}\"\n#   link_column = \"...\"\n"
        "#   columns = {{ {1} }}\n"
        "# Reviewed and nothing personal: add it to\n[discovery]\nignore = [\"{0}\"]\n",
        found.table, columns);
  }
  std::string block = fmt::format("[[related.extra]]\ntable = \"{}\"\nlink_column = \"{}\"\n",
                                  found.table, found.contact_columns.front());
  if (columns.empty()) {
    return block +
           "action = \"delete\"   # no personal column recognised; to keep the rows, list them:\n"
           "                     # action = \"scrub\" and columns = { note = \"clear\" }\n";
  }
  return block + fmt::format(
                     "action = \"scrub\"    # or \"delete\": nothing statistical to keep\n"
                     "columns = {{ {} }}   # kinds: clear, php-serialized, json\n",
                     columns);
}

}  // namespace

std::string DiscoveredTable::summary() const {
  std::string text = fmt::format("table `{}`", table);
  auto list = [](const std::vector<std::string>& names) {
    std::string joined;
    for (const auto& name : names) joined += (joined.empty() ? "" : ", ") + name;
    return joined;
  };
  if (!contact_columns.empty())
    text += fmt::format(" references contacts ({})", list(contact_columns));
  if (!personal_columns.empty()) {
    text += fmt::format("{} looks personal ({})", contact_columns.empty() ? "" : " and",
                        list(personal_columns));
  }
  return text + "; no location covers it";
}

DiscoveryReport discover(const Schema& schema, const RelatedPlan& plan, const Config& config) {
  DiscoveryReport report;
  for (const std::string& table : schema.tables()) {
    if (covered(table, plan, config)) continue;
    const auto* columns = schema.columns(table);
    if (columns == nullptr) continue;
    DiscoveredTable found{.table = table};
    for (const ColumnInfo& column : *columns) {
      const std::string name = lowered(column.name);
      const ForeignKey* key = schema.foreign_key(table, column.name);
      if ((key != nullptr && key->referenced_table == "leads") ||
          (key == nullptr && names_a_contact(name))) {
        // A foreign key to leads is certain: it goes first, as the suggested link.
        auto at = key != nullptr ? found.contact_columns.begin() : found.contact_columns.end();
        found.contact_columns.insert(at, column.name);
        continue;
      }
      if (looks_personal(name) || column.is_structured()) {
        found.personal_columns.push_back(column.name);
        found.kinds.push_back(kind_of(column));
      }
    }
    if (found.contact_columns.empty() && found.personal_columns.empty()) continue;
    found.config_block = config_block(found);
    report.tables.push_back(std::move(found));
  }
  return report;
}

}  // namespace mgdpr::mautic
