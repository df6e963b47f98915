// SPDX-License-Identifier: GPL-3.0-or-later
// Table-driven parsing, modelled on ccache's config: each section is a table of known keys
// (name, type, example, setter). The walker checks names and types for every key alike, the
// setters check values, and a few per-section checks relate keys to each other. Every
// problem is collected, so one run shows all of them.
#include "core/config.h"

#include <fmt/format.h>
#include <toml++/toml.h>

#include <algorithm>
#include <cstdint>
#include <span>
#include <utility>

namespace mgdpr {
namespace {

// ---------------------------------------------------------------------------------------------
// Collecting problems

struct Problem {
  int line;
  std::string message;
};

class Problems {
 public:
  explicit Problems(std::string_view path) : path_(path.empty() ? "<config>" : path) {}

  // message reads "what is wrong; what to write instead". Line breaks (from quoted keys or
  // toml++ descriptions) are escaped so that every problem stays one line.
  void add(int line, std::string message) {
    std::string one_line;
    for (char c : message) {
      if (c == '\n') {
        one_line += "\\n";
      } else if (c == '\r') {
        one_line += "\\r";
      } else {
        one_line += c;
      }
    }
    problems_.push_back({line, std::move(one_line)});
  }
  bool empty() const { return problems_.empty(); }

  // One line per problem, in the order of the file.
  std::string joined() {
    std::stable_sort(problems_.begin(), problems_.end(),
                     [](const Problem& a, const Problem& b) { return a.line < b.line; });
    std::string text;
    for (const Problem& problem : problems_) {
      if (!text.empty()) text += '\n';
      text += problem.line > 0 ? fmt::format("{}:{}: ", path_, problem.line) : path_ + ": ";
      text += problem.message;
    }
    return text;
  }

 private:
  std::string path_;
  std::vector<Problem> problems_;
};

// ---------------------------------------------------------------------------------------------
// The tables of known keys

enum class ValueType { kString, kWholeNumber, kBoolean, kStringList, kTable, kTableList, kAny };

// What a setter gets besides the value: where it is and where to report.
struct KeyContext {
  Config& config;
  Problems& problems;
  std::string_view key;  // "port", or the alias in [policy.fields]
  int line;
};

using Setter = void (*)(const toml::node& value, KeyContext& context);

struct SectionSpec;

// No message quotes a value unless it is a word of a known vocabulary (an action, a reason):
// people paste secrets and personal data into the wrong key ([policy.fields] password =
// "hunter2"), so a value that is wrong is described, never shown.
struct KeySpec {
  std::string_view name;
  ValueType type;
  // A correct line, offered in fixes; "{key}" stands for the key's own name.
  std::string_view example;
  Setter apply;
  bool suggest = true;  // offered by did-you-mean (not for keys that are always refused)
  // For kTable keys the spec of the nested table; for kTableList keys ([[section.key]]) the
  // spec of each of its tables.
  const SectionSpec* subsection = nullptr;
};

// A per-section check of keys against each other, run after the keys of the section.
using SectionCheck = void (*)(const toml::table& table, int section_line, KeyContext& context);

struct SectionSpec {
  std::string_view name;  // dotted: "database", "policy.fields"
  std::span<const KeySpec> keys;
  // Sections whose key names are data ([related], [policy.fields]): every key uses this spec.
  const KeySpec* any_key = nullptr;
  // The section was written at all (once per table of a [[list]]), at this line.
  void (*on_present)(Config& config, int line) = nullptr;
  SectionCheck check = nullptr;
};

// ---------------------------------------------------------------------------------------------
// Small helpers for setters

std::string_view string_of(const toml::node& value) { return *value.value<std::string_view>(); }
int64_t integer_of(const toml::node& value) { return *value.value<int64_t>(); }

bool is_identifier(std::string_view text) {
  if (text.empty()) return false;
  return std::all_of(text.begin(), text.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
  });
}

bool is_hex(std::string_view text) {
  if (text.empty()) return false;
  return std::all_of(text.begin(), text.end(), [](char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
  });
}

// A key as messages show it: plain names in backticks; anything else is described, since a
// quoted key can hold whatever was pasted there.
bool is_plain_name(std::string_view name) {
  return !name.empty() && name.size() <= 64 && std::all_of(name.begin(), name.end(), [](char c) {
           return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '_' || c == '-' || c == '.';
         });
}

std::string shown_key(std::string_view name, std::string_view open = "`",
                      std::string_view close = "`") {
  return is_plain_name(name) ? fmt::format("{}{}{}", open, name, close)
                             : std::string("(a name that is not plain, not shown)");
}

std::string replace_key(std::string_view example, std::string_view key) {
  std::string text(example);
  const std::string_view placeholder = "{key}";
  for (size_t at = text.find(placeholder); at != std::string::npos;
       at = text.find(placeholder, at + key.size())) {
    text.replace(at, placeholder.size(), key);
  }
  return text;
}

std::string joined_names(const std::vector<std::string>& names) {
  std::string text;
  for (const std::string& name : names) {
    if (!text.empty()) text += ", ";
    text += name;
  }
  return text;
}

int line_of_node(const toml::node& node) { return static_cast<int>(node.source().begin.line); }

int line_of_key(const toml::key& key, const toml::node& node) {
  const int line = static_cast<int>(key.source().begin.line);
  return line > 0 ? line : line_of_node(node);
}

// Ranges are checked on the 64-bit TOML value, before narrowing to int.
bool in_range(const toml::node& value, KeyContext& context, int64_t low, int64_t high,
              std::string_view example) {
  const int64_t number = integer_of(value);
  if (number >= low && number <= high) return true;
  context.problems.add(context.line, fmt::format("{} is out of range; write a number from "
                                                 "{} to {}, e.g. {}",
                                                 context.key, low, high, example));
  return false;
}

void set_nonempty_string(const toml::node& value, KeyContext& context, std::string& target,
                         std::string_view example) {
  const std::string_view text = string_of(value);
  if (text.empty()) {
    context.problems.add(context.line,
                         fmt::format("{} is empty; write e.g. {}", context.key, example));
    return;
  }
  target = std::string(text);
}

// The name of the environment variable that holds a secret (password_env, secret_env). A value
// that is no variable name is not quoted back: people paste the secret itself there.
void set_variable_name(const toml::node& value, KeyContext& context, std::string& target,
                       std::string_view example_name, std::string_view secret) {
  const std::string_view name = string_of(value);
  const bool starts_with_digit = !name.empty() && name.front() >= '0' && name.front() <= '9';
  if (!is_identifier(name) || starts_with_digit) {
    context.problems.add(
        context.line,
        fmt::format("{} must be the name of an environment variable (letters, digits and _), "
                    "not the {} itself; write e.g. {} = \"{}\" and put the {} into that variable",
                    context.key, secret, context.key, example_name, secret));
    return;
  }
  target = std::string(name);
}

// A list of strings, each element checked by parse_one; reports at the element's own line.
template <typename T, typename Parse>
std::vector<T> parse_list(const toml::node& value, KeyContext& context, std::string_view example,
                          std::string_view purpose, Parse parse_one) {
  const toml::array& list = *value.as_array();
  std::vector<T> items;
  if (list.empty()) {
    context.problems.add(context.line, fmt::format("{} is empty, so {}; list at least one, e.g. {}",
                                                   context.key, purpose, example));
    return items;
  }
  for (const toml::node& element : list) {
    const int line = line_of_node(element) > 0 ? line_of_node(element) : context.line;
    std::optional<T> item = parse_one(string_of(element), line);
    if (item && std::find(items.begin(), items.end(), *item) == items.end()) {
      items.push_back(std::move(*item));
    }
  }
  return items;
}

// field_actions: the words of [policy.fields], where the generalizers are actions too.
std::optional<Action> parse_action_or_report(std::string_view word, KeyContext& context,
                                             std::string_view subject, bool field_actions) {
  if (auto action = parse_action(word)) return action;
  std::vector<std::string> names = {"delete", "hash", "keep"};
  std::string_view listed = "delete, hash, keep";
  if (field_actions) {
    names.insert(names.end(), {"year", "month", "prefix:N", "bucket:N", "domain"});
    listed = "delete, hash, keep, year, month, prefix:N, bucket:N, domain";
  }
  std::string fix;
  if (auto suggestion = did_you_mean(word, names)) {
    fix = fmt::format("did you mean {} = \"{}\"? The actions are {}", context.key, *suggestion,
                      listed);
  } else {
    fix = fmt::format("write one of {}, e.g. {} = \"hash\"", listed, context.key);
  }
  context.problems.add(context.line,
                       fmt::format("unknown action {} (the value is not shown); {}", subject, fix));
  return std::nullopt;
}

// ---------------------------------------------------------------------------------------------
// [database]

constexpr std::string_view kPasswordRefusal =
    "a password in the config file is not accepted; write password_env = "
    "\"MAUTIC_DB_PASSWORD\" or password_file = \"/etc/mautic-gdpr/db-password\"";

const KeySpec kDatabaseKeys[] = {
    {"host", ValueType::kString, "host = \"127.0.0.1\"",
     [](const toml::node& value, KeyContext& context) {
       set_nonempty_string(value, context, context.config.database.host, "host = \"127.0.0.1\"");
     }},
    {"port", ValueType::kWholeNumber, "port = 3306",
     [](const toml::node& value, KeyContext& context) {
       if (in_range(value, context, 1, 65535, "port = 3306")) {
         context.config.database.port = static_cast<int>(integer_of(value));
       }
     }},
    {"socket", ValueType::kString, "socket = \"/run/mysqld/mysqld.sock\"",
     [](const toml::node& value, KeyContext& context) {
       context.config.database.socket = std::string(string_of(value));
     }},
    {"name", ValueType::kString, "name = \"mautic\"",
     [](const toml::node& value, KeyContext& context) {
       set_nonempty_string(value, context, context.config.database.name, "name = \"mautic\"");
     }},
    {"user", ValueType::kString, "user = \"mautic\"",
     [](const toml::node& value, KeyContext& context) {
       set_nonempty_string(value, context, context.config.database.user, "user = \"mautic\"");
     }},
    {"password_env", ValueType::kString, "password_env = \"MAUTIC_DB_PASSWORD\"",
     [](const toml::node& value, KeyContext& context) {
       set_variable_name(value, context, context.config.database.password_env, "MAUTIC_DB_PASSWORD",
                         "password");
     }},
    {"password_file", ValueType::kString, "password_file = \"/etc/mautic-gdpr/db-password\"",
     [](const toml::node& value, KeyContext& context) {
       set_nonempty_string(value, context, context.config.database.password_file,
                           "password_file = \"/etc/mautic-gdpr/db-password\"");
     }},
    {"table_prefix", ValueType::kString, "table_prefix = \"mautic_\"",
     [](const toml::node& value, KeyContext& context) {
       const std::string_view prefix = string_of(value);
       if (!prefix.empty() && !is_identifier(prefix)) {
         context.problems.add(
             context.line,
             "table_prefix contains characters other than letters, digits and _ (the value "
             "is not shown); write the prefix of your Mautic tables, e.g. table_prefix = "
             "\"mautic_\" (or \"\" for none)");
         return;
       }
       context.config.database.table_prefix = std::string(prefix);
     }},
    {"lock_wait_seconds", ValueType::kWholeNumber, "lock_wait_seconds = 10",
     [](const toml::node& value, KeyContext& context) {
       if (in_range(value, context, 1, 3600, "lock_wait_seconds = 10")) {
         context.config.database.lock_wait_seconds = static_cast<int>(integer_of(value));
       }
     }},
    {"password", ValueType::kAny, kPasswordRefusal,
     [](const toml::node&, KeyContext& context) {
       context.problems.add(context.line, std::string(kPasswordRefusal));
     },
     false},
};

void check_database(const toml::table& table, int, KeyContext& context) {
  const toml::node* env = table.get("password_env");
  const toml::node* file = table.get("password_file");
  if (env == nullptr || file == nullptr) return;
  const int env_line = context.config.line_of("database.password_env");
  const int file_line = context.config.line_of("database.password_file");
  context.problems.add(
      std::max(env_line, file_line),
      fmt::format("both password_env (line {}) and password_file (line {}) are set; remove one "
                  "of them: keep password_env to read the password from the environment, or "
                  "password_file to read it from a file",
                  env_line, file_line));
}

// ---------------------------------------------------------------------------------------------
// [hashing]

// [hashing.keyring]: older keys after a rotation, each under the start of its fingerprint
// (`mautic-gdpr keygen --rotate` writes these lines; `status` and `check` show fingerprints).
constexpr size_t kMinFingerprintPrefix = 16;

const KeySpec kKeyringEntry = {
    "", ValueType::kString, "{key} = \"/etc/mautic-gdpr/hmac-2025.key\"",
    [](const toml::node& value, KeyContext& context) {
      const std::string_view fingerprint = context.key;
      if (!is_hex(fingerprint) || fingerprint.size() < kMinFingerprintPrefix ||
          fingerprint.size() > 64) {
        context.problems.add(
            context.line,
            fmt::format("{:?} is not a key fingerprint; write the first {} or more hex digits of "
                        "the old key's fingerprint, then its file, e.g. 3f2a9c1b4d5e6f70 = "
                        "\"/etc/mautic-gdpr/hmac-2025.key\" (`mautic-gdpr keygen --rotate` "
                        "writes this line)",
                        fingerprint, kMinFingerprintPrefix));
        return;
      }
      std::string file;
      set_nonempty_string(value, context, file,
                          "3f2a9c1b4d5e6f70 = \"/etc/mautic-gdpr/hmac-2025.key\"");
      if (file.empty()) return;
      std::string lower(fingerprint);
      for (char& c : lower) c = (c >= 'A' && c <= 'F') ? char(c - 'A' + 'a') : c;
      context.config.key_lines["hashing.keyring." + lower] = context.line;
      context.config.keyring.push_back({std::move(lower), std::move(file)});
    }};

const SectionSpec kKeyringSection = {"hashing.keyring", {}, &kKeyringEntry};

const KeySpec kHashingKeys[] = {
    {"key_file", ValueType::kString, "key_file = \"/etc/mautic-gdpr/hmac.key\"",
     [](const toml::node& value, KeyContext& context) {
       set_nonempty_string(value, context, context.config.key_file,
                           "key_file = \"/etc/mautic-gdpr/hmac.key\" (made by `mautic-gdpr "
                           "keygen --out PATH`)");
     }},
    {"keyring", ValueType::kTable,
     "[hashing.keyring] on its own line, followed by lines like 3f2a9c1b4d5e6f70 = "
     "\"/etc/mautic-gdpr/hmac-2025.key\"",
     nullptr, true, &kKeyringSection},
};

// ---------------------------------------------------------------------------------------------
// Spans of time per do-not-contact reason: [trigger] grace, [retention] forget_after

std::string_view node_description(const toml::node& node);

// `key = "7d"` for every reason, or per reason: `key.bounced = "3d"`, with `key.default` for
// the reasons not named. allow_never: "never" is a value ([retention] only).
void set_reason_durations(const toml::node& value, KeyContext& context, ReasonDurations& target,
                          std::string_view section, bool allow_never, std::string_view example) {
  auto read_one = [&](const toml::node& node, std::string_view name,
                      int line) -> std::optional<std::optional<Duration>> {
    if (!node.is_string()) {
      context.problems.add(line, fmt::format("{} is {}; write a span of time in double quotes, "
                                             "e.g. {}",
                                             name, node_description(node), example));
      return std::nullopt;
    }
    const std::string_view text = string_of(node);
    if (allow_never && text == "never") return std::optional<Duration>();
    auto duration = parse_duration(text, example);
    if (!duration) {
      context.problems.add(line, fmt::format("{}: {}", name, duration.error().message));
      return std::nullopt;
    }
    return std::optional<Duration>(*duration);
  };
  if (!value.is_table()) {
    if (auto read = read_one(value, context.key, context.line)) target.fallback = *read;
    return;
  }
  const std::vector<std::string> names = {"default", "unsubscribed", "bounced", "manual"};
  for (const auto& [key, node] : *value.as_table()) {
    const std::string_view name = key.str();
    const int line = line_of_key(key, node);
    const std::string dotted = fmt::format("{}.{}", context.key, name);
    context.config.key_lines[fmt::format("{}.{}", section, dotted)] = line;
    const auto reason = parse_reason(name);
    if (!reason && name != "default") {
      const auto suggestion = did_you_mean(name, names);
      context.problems.add(
          line, fmt::format("{} names no do-not-contact reason; {}", dotted,
                            suggestion ? fmt::format("did you mean {}.{}?", context.key,
                                                     *suggestion)
                                       : fmt::format("write {}.unsubscribed, {}.bounced, "
                                                     "{}.manual or {}.default",
                                                     context.key, context.key, context.key,
                                                     context.key)));
      continue;
    }
    const auto read = read_one(node, dotted, line);
    if (!read) continue;
    if (reason) {
      target.by_reason[*reason] = *read;
    } else {
      target.fallback = *read;
    }
  }
}

// ---------------------------------------------------------------------------------------------
// [trigger]

std::optional<DncReason> reason_or_report(std::string_view word, int line, KeyContext& context) {
  if (auto reason = parse_reason(word)) return reason;
  const std::vector<std::string> names = {"unsubscribed", "bounced", "manual"};
  std::string fix = "write any of unsubscribed, bounced, manual";
  if (auto suggestion = did_you_mean(word, names)) {
    fix = fmt::format("did you mean \"{}\"? The reasons are unsubscribed, bounced, manual",
                      *suggestion);
  }
  context.problems.add(line, fmt::format("unknown reason (the value is not shown); {}", fix));
  return std::nullopt;
}

const KeySpec kTriggerKeys[] = {
    {"reasons", ValueType::kStringList, "reasons = [\"unsubscribed\", \"bounced\"]",
     [](const toml::node& value, KeyContext& context) {
       context.config.reasons = parse_list<DncReason>(
           value, context, "reasons = [\"unsubscribed\", \"bounced\"]",
           "no contact would ever be pseudonymized",
           [&](std::string_view word, int line) { return reason_or_report(word, line, context); });
     }},
    {"channels", ValueType::kStringList, "channels = [\"email\"]",
     [](const toml::node& value, KeyContext& context) {
       context.config.channels = parse_list<std::string>(
           value, context, "channels = [\"email\"]", "no contact would ever be pseudonymized",
           [&](std::string_view word, int line) -> std::optional<std::string> {
             if (is_identifier(word)) return std::string(word);
             context.problems.add(
                 line, "a channel is not a Mautic channel name (letters, digits and _ only; the "
                       "value is not shown); write e.g. channels = [\"email\"]");
             return std::nullopt;
           });
     }},
    // A string for every reason, or a table per reason: kAny, the setter tells them apart.
    {"grace", ValueType::kAny, "grace = \"7d\"",
     [](const toml::node& value, KeyContext& context) {
       set_reason_durations(value, context, context.config.grace, "trigger", false,
                            "grace = \"7d\"");
     }},
};

// ---------------------------------------------------------------------------------------------
// [retention]

const KeySpec kRetentionKeys[] = {
    {"forget_after", ValueType::kAny, "forget_after = \"5y\"",
     [](const toml::node& value, KeyContext& context) {
       set_reason_durations(value, context, context.config.forget_after, "retention", true,
                            "forget_after = \"5y\"");
     }},
};

// A record forgotten the moment it is made would leave no proof at all.
void check_retention(const toml::table&, int section_line, KeyContext& context) {
  const ReasonDurations& forget = context.config.forget_after;
  auto refuse_zero = [&](const std::optional<Duration>& duration, std::string_view dotted) {
    if (!duration || !duration->is_zero()) return;
    const int line = context.config.line_of(fmt::format("retention.{}", dotted));
    context.problems.add(line > 0 ? line : section_line,
                         fmt::format("{} = \"0\" would delete every record the moment it is "
                                     "made; write a span such as \"5y\", or \"never\"",
                                     dotted));
  };
  refuse_zero(forget.fallback, forget.by_reason.empty() ? "forget_after" : "forget_after.default");
  for (const auto& [reason, duration] : forget.by_reason) {
    refuse_zero(duration, fmt::format("forget_after.{}", reason_name(reason)));
  }
}

// ---------------------------------------------------------------------------------------------
// [policy] and [policy.fields]

const KeySpec kFieldRule = {
    "", ValueType::kString, "{key} = \"hash\"", [](const toml::node& value, KeyContext& context) {
      if (!is_identifier(context.key)) {
        context.problems.add(
            context.line,
            fmt::format("{} is not a Mautic field alias (only letters, digits and _); write "
                        "the alias as Mautic shows it under Custom Fields, e.g. firstname = "
                        "\"delete\"",
                        shown_key(context.key)));
        return;
      }
      const std::string_view word = string_of(value);
      if (names_generalizer(word)) {
        // Which field types it fits is checked later, against the live lead_fields.
        auto generalizer = parse_generalizer(word, context.key);
        if (!generalizer) {
          context.problems.add(context.line, generalizer.error().message);
          return;
        }
        context.config.fields.push_back(
            {std::string(context.key), Action::kGeneralize, *generalizer});
        return;
      }
      const std::string subject = fmt::format("for field {}", context.key);
      if (auto action = parse_action_or_report(word, context, subject, true)) {
        context.config.fields.push_back({std::string(context.key), *action, std::nullopt});
      }
    }};

const SectionSpec kPolicyFieldsSection = {"policy.fields", {}, &kFieldRule};

const KeySpec kPolicyKeys[] = {
    {"default", ValueType::kString, "default = \"delete\"",
     [](const toml::node& value, KeyContext& context) {
       const std::string_view word = string_of(value);
       if (names_generalizer(word)) {
         context.problems.add(
             context.line,
             fmt::format("{:?} generalizes one field at a time and cannot be the default; write "
                         "it under [policy.fields] for the fields it fits, e.g. birthday = "
                         "\"year\", and keep default = \"delete\", \"hash\" or \"keep\"",
                         word));
         return;
       }
       if (auto action = parse_action_or_report(word, context, "in default", false)) {
         context.config.default_action = *action;
       }
     }},
    {"fields", ValueType::kTable,
     "[policy.fields] on its own line, followed by lines like email = \"hash\"", nullptr, true,
     &kPolicyFieldsSection},
};

// ---------------------------------------------------------------------------------------------
// [legacy]

const KeySpec kLegacyKeys[] = {
    {"md5_salt", ValueType::kString, "md5_salt = \"<the plugin's salt>\"",
     [](const toml::node& value, KeyContext& context) {
       if (!is_hex(string_of(value))) {
         context.problems.add(
             context.line,
             "md5_salt is not a hex string (only the digits 0-9 and letters a-f; the value "
             "is not shown, it is secret); copy the salt exactly from the LeadEngine GDPR "
             "plugin's settings, e.g. md5_salt = \"5f2b...\"");
         return;
       }
       context.config.legacy->md5_salt = std::string(string_of(value));
     }},
    {"md5_field", ValueType::kString, "md5_field = \"email_hash\"",
     [](const toml::node& value, KeyContext& context) {
       const std::string_view alias = string_of(value);
       if (!is_identifier(alias)) {
         context.problems.add(
             context.line,
             "md5_field is not a Mautic field alias (only letters, digits and _; the value is "
             "not shown); write e.g. md5_field = \"email_hash\"");
         return;
       }
       context.config.legacy->md5_field = std::string(alias);
     }},
};

void check_legacy(const toml::table& table, int section_line, KeyContext& context) {
  if (table.contains("md5_salt")) return;
  context.problems.add(section_line,
                       "[legacy] has no md5_salt; add md5_salt = \"<the LeadEngine GDPR "
                       "plugin's salt>\", or remove the [legacy] section");
}

// ---------------------------------------------------------------------------------------------
// [sweep]

const KeySpec kSweepKeys[] = {
    {"batch_size", ValueType::kWholeNumber, "batch_size = 500",
     [](const toml::node& value, KeyContext& context) {
       if (in_range(value, context, 1, 10000, "batch_size = 500")) {
         context.config.sweep.batch_size = static_cast<int>(integer_of(value));
       }
     }},
    {"workers", ValueType::kWholeNumber, "workers = 2",
     [](const toml::node& value, KeyContext& context) {
       if (in_range(value, context, 1, 8, "workers = 2")) {
         context.config.sweep.workers = static_cast<int>(integer_of(value));
       }
     }},
    {"interval_minutes", ValueType::kWholeNumber, "interval_minutes = 10",
     [](const toml::node& value, KeyContext& context) {
       if (in_range(value, context, 1, 10080, "interval_minutes = 10")) {
         context.config.sweep.interval_minutes = static_cast<int>(integer_of(value));
       }
     }},
};

// ---------------------------------------------------------------------------------------------
// [guard]: the re-import guard. Field names are checked later, against the resolved policy.

constexpr std::string_view kOriginsExample = "origins = [\"import\", \"api\", \"integration\"]";

const KeySpec kGuardKeys[] = {
    {"enabled", ValueType::kBoolean, "enabled = true",
     [](const toml::node& value, KeyContext& context) {
       context.config.guard.enabled = *value.value<bool>();
     }},
    {"origins", ValueType::kStringList, kOriginsExample,
     [](const toml::node& value, KeyContext& context) {
       // An empty list is allowed: every match is then only reported.
       if (value.as_array()->empty()) {
         context.config.guard.origins.clear();
         return;
       }
       context.config.guard.origins = parse_list<ContactOrigin>(
           value, context, kOriginsExample, "",
           [&](std::string_view word, int line) -> std::optional<ContactOrigin> {
             if (auto origin = parse_origin(word)) return origin;
             const std::vector<std::string> names = {"import", "api", "integration", "form"};
             std::string fix = "write any of import, api, integration, form";
             if (auto suggestion = did_you_mean(word, names)) {
               fix = fmt::format(
                   "did you mean \"{}\"? The origins are import, api, integration, form",
                   *suggestion);
             }
             context.problems.add(
                 line, fmt::format("unknown origin (the value is not shown); {}", fix));
             return std::nullopt;
           });
     }},
    {"fields", ValueType::kStringList, "fields = [\"email\"]",
     [](const toml::node& value, KeyContext& context) {
       context.config.guard.fields = parse_list<std::string>(
           value, context, "fields = [\"email\"]",
           "the guard would compare nothing (write enabled = false to turn it off)",
           [&](std::string_view word, int line) -> std::optional<std::string> {
             if (is_identifier(word)) return std::string(word);
             context.problems.add(
                 line, "a field is not a Mautic field alias (only letters, digits and _; the "
                       "value is not shown); write e.g. fields = [\"email\"]");
             return std::nullopt;
           });
     }},
    {"reasons", ValueType::kStringList, "reasons = [\"unsubscribed\", \"bounced\"]",
     [](const toml::node& value, KeyContext& context) {
       context.config.guard.reasons = parse_list<DncReason>(
           value, context, "reasons = [\"unsubscribed\", \"bounced\"]",
           "no returning contact would ever be suppressed (write enabled = false to turn the "
           "guard off)",
           [&](std::string_view word, int line) { return reason_or_report(word, line, context); });
     }},
};

// ---------------------------------------------------------------------------------------------
// [related]: location names are checked later, against the live location table.

const KeySpec kRelatedLocation = {
    "", ValueType::kString, "{key} = \"delete\"", [](const toml::node& value, KeyContext& context) {
      context.config.related[std::string(context.key)] = std::string(string_of(value));
    }};

// [[related.extra]]: one table a plugin adds. Every setter writes the entry begun at its header.
ExtraLocationConfig& current_extra(KeyContext& context) {
  ExtraLocationConfig& extra = context.config.related_extra.back();
  extra.lines[std::string(context.key)] = context.line;
  return extra;
}

// A table or column name: checked against the live schema later, so only its shape here.
void set_extra_name(const toml::node& value, KeyContext& context, std::string ExtraLocationConfig::*field) {
  const std::string_view name = string_of(value);
  if (!is_identifier(name)) {
    context.problems.add(context.line,
                         fmt::format("{} {:?} is not a table or column name (letters, digits and "
                                     "_ only); write the name without the table prefix, e.g. "
                                     "{} = \"plugin_values\"",
                                     context.key, name, context.key));
    return;
  }
  current_extra(context).*field = std::string(name);
}

const KeySpec kExtraColumn = {
    "", ValueType::kString, "{key} = \"clear\"", [](const toml::node& value, KeyContext& context) {
      const std::string_view kind = string_of(value);
      const std::vector<std::string> kinds = {"clear", "php-serialized", "json"};
      if (std::find(kinds.begin(), kinds.end(), kind) == kinds.end()) {
        auto suggestion = did_you_mean(kind, kinds);
        context.problems.add(
            context.line,
            fmt::format("column `{}` has the kind {:?}; {} (clear: NULL or ''; php-serialized "
                        "and json: every string value blanked, the structure kept)",
                        context.key, kind,
                        suggestion ? fmt::format("did you mean {} = \"{}\"?", context.key,
                                                 *suggestion)
                                   : fmt::format("write {} = \"clear\", \"php-serialized\" or "
                                                 "\"json\"",
                                                 context.key)));
        return;
      }
      ExtraLocationConfig& extra = context.config.related_extra.back();
      extra.columns.push_back({std::string(context.key), std::string(kind), context.line});
    }};

const SectionSpec kExtraColumnsSection = {"related.extra.columns", {}, &kExtraColumn};

const KeySpec kExtraKeys[] = {
    {"table", ValueType::kString, "table = \"plugin_values\"",
     [](const toml::node& value, KeyContext& context) {
       set_extra_name(value, context, &ExtraLocationConfig::table);
     }},
    {"link_column", ValueType::kString, "link_column = \"lead_id\"",
     [](const toml::node& value, KeyContext& context) {
       set_extra_name(value, context, &ExtraLocationConfig::link_column);
     }},
    {"name", ValueType::kString, "name = \"plugin_values\"",
     [](const toml::node& value, KeyContext& context) {
       set_extra_name(value, context, &ExtraLocationConfig::name);
     }},
    {"parent", ValueType::kString, "parent = \"plugin_items_contacts\"",
     [](const toml::node& value, KeyContext& context) {
       set_extra_name(value, context, &ExtraLocationConfig::parent);
     }},
    {"parent_key", ValueType::kString, "parent_key = \"id\"",
     [](const toml::node& value, KeyContext& context) {
       set_extra_name(value, context, &ExtraLocationConfig::parent_key);
     }},
    {"parent_contact_column", ValueType::kString, "parent_contact_column = \"lead_id\"",
     [](const toml::node& value, KeyContext& context) {
       set_extra_name(value, context, &ExtraLocationConfig::parent_contact_column);
     }},
    {"action", ValueType::kString, "action = \"scrub\"",
     [](const toml::node& value, KeyContext& context) {
       const std::string_view word = string_of(value);
       if (word != "scrub" && word != "delete") {
         context.problems.add(context.line,
                              "the action of a declared table is \"scrub\" (clear its columns, "
                              "keep the row) or \"delete\"; write action = \"scrub\"");
         return;
       }
       current_extra(context).action = std::string(word);
     }},
    {"columns", ValueType::kTable,
     "columns = { note = \"clear\", data = \"json\" }", nullptr, true, &kExtraColumnsSection},
    {"why", ValueType::kString, "why = \"survey answers of the person\"",
     [](const toml::node& value, KeyContext& context) {
       current_extra(context).why = std::string(string_of(value));
     }},
};

void check_extra(const toml::table& table, int section_line, KeyContext& context) {
  for (std::string_view required : {"table", "link_column"}) {
    if (table.contains(required)) continue;
    context.problems.add(section_line,
                         fmt::format("[[related.extra]] has no {}; every declared table needs "
                                     "table = \"...\" and link_column = \"...\" (the column "
                                     "holding the contact id)",
                                     required));
  }
}

const SectionSpec kRelatedExtraSection = {
    "related.extra", kExtraKeys, nullptr,
    [](Config& config, int line) { config.related_extra.push_back({.line = line}); },
    check_extra};

const KeySpec kRelatedKeys[] = {
    {"extra", ValueType::kTableList,
     "[[related.extra]] on its own line, followed by table = \"...\", link_column = \"...\", "
     "columns = { ... }",
     nullptr, true, &kRelatedExtraSection},
};

// ---------------------------------------------------------------------------------------------
// [discovery]: tables an admin reviewed and found to hold nothing personal.

const KeySpec kDiscoveryKeys[] = {
    {"ignore", ValueType::kStringList, "ignore = [\"plugin_settings\"]",
     [](const toml::node& value, KeyContext& context) {
       context.config.discovery_ignore = parse_list<std::string>(
           value, context, "ignore = [\"plugin_settings\"]", "nothing is ignored",
           [&](std::string_view word, int line) -> std::optional<std::string> {
             if (is_identifier(word)) return std::string(word);
             context.problems.add(line, fmt::format("{:?} is not a table name (letters, digits "
                                                    "and _, without the prefix)",
                                                    word));
             return std::nullopt;
           });
     }},
};

// ---------------------------------------------------------------------------------------------
// [orphans]: what happens to the rows of contacts Mautic deleted.

const KeySpec kOrphansKeys[] = {
    {"action", ValueType::kString, "action = \"scrub\"",
     [](const toml::node& value, KeyContext& context) {
       const std::string_view word = string_of(value);
       if (word == "scrub" || word == "keep") {
         context.config.orphans.scrub = word == "scrub";
         return;
       }
       context.problems.add(context.line,
                            "the action for rows of deleted contacts is \"scrub\" (each row "
                            "gets its location's action, like a processed contact's) or "
                            "\"keep\"; write action = \"scrub\"");
     }},
};

// ---------------------------------------------------------------------------------------------
// [server] and [server.users]: `mautic-gdpr serve`

constexpr std::string_view kSecretRefusal =
    "a webhook secret in the config file is not accepted; write secret_file = "
    "\"/etc/mautic-gdpr/webhook-secret\" or secret_env = \"MAUTIC_WEBHOOK_SECRET\"";

// "host:port" or "[v6 address]:port"; port 0 means any free port.
bool parse_listen(std::string_view text, std::string& host, int& port) {
  const size_t colon = text.rfind(':');
  if (colon == std::string_view::npos || colon == 0 || colon + 1 == text.size()) return false;
  std::string_view host_part = text.substr(0, colon);
  const std::string_view port_part = text.substr(colon + 1);
  if (host_part.front() == '[') {
    if (host_part.size() < 3 || host_part.back() != ']') return false;
    host_part = host_part.substr(1, host_part.size() - 2);
  } else if (host_part.find(':') != std::string_view::npos) {
    return false;  // an IPv6 address needs brackets
  }
  int number = 0;
  for (char c : port_part) {
    if (c < '0' || c > '9' || number > 65535) return false;
    number = number * 10 + (c - '0');
  }
  if (number > 65535) return false;
  const bool host_ok = std::all_of(host_part.begin(), host_part.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '-' || c == ':';
  });
  if (!host_ok) return false;
  host = std::string(host_part);
  port = number;
  return true;
}

// The value is never quoted: a password pasted in place of its hash must not reach a message.
const KeySpec kWebUser = {
    "", ValueType::kString, "{key} = \"$argon2id$v=19$m=65536,t=2,p=1$...\"",
    [](const toml::node& value, KeyContext& context) {
      const std::string_view name = context.key;
      const bool name_ok =
          !name.empty() && name.size() <= 64 && std::all_of(name.begin(), name.end(), [](char c) {
            return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                   c == '_' || c == '.' || c == '-';
          });
      if (!name_ok) {
        context.problems.add(
            context.line,
            fmt::format("{} is not a user name (letters, digits, _ . - and at most 64 "
                        "characters); write e.g. alice = \"<hash from mautic-gdpr passwd>\"",
                        shown_key(name)));
        return;
      }
      const std::string_view hash = string_of(value);
      const bool looks_like_hash =
          (hash.starts_with("$argon2id$") || hash.starts_with("$argon2i$")) && hash.size() < 128 &&
          hash.find_first_of(" \t\r\n") == std::string_view::npos;
      if (!looks_like_hash) {
        context.problems.add(
            context.line,
            fmt::format("the value for user `{}` is not an Argon2 password hash (the value is "
                        "not shown); run `mautic-gdpr passwd --user {}` and paste the line it "
                        "prints",
                        name, name));
        return;
      }
      context.config.server.users.push_back({std::string(name), std::string(hash)});
    }};

const SectionSpec kServerUsersSection = {"server.users", {}, &kWebUser};

// [server.roles]: alice = ["lookup", "export"]. The user is checked against [server.users] in
// check_server, when both sections are read.
const KeySpec kUserRoles = {
    "", ValueType::kStringList, "{key} = [\"lookup\", \"export\"]",
    [](const toml::node& value, KeyContext& context) {
      const std::string example = fmt::format("{} = [\"lookup\", \"export\"]", context.key);
      auto roles = parse_list<Role>(
          value, context, example, "the user could do nothing with a person (remove the user "
          "from [server.users] to lock them out)",
          [&](std::string_view word, int line) -> std::optional<Role> {
            if (auto role = parse_role(word)) return role;
            const std::vector<std::string> names = {"lookup", "export", "erase"};
            auto suggestion = did_you_mean(word, names);
            context.problems.add(
                line, fmt::format("unknown role {:?}; {}", word,
                                  suggestion ? fmt::format("did you mean \"{}\"? The roles are "
                                                           "lookup, export, erase",
                                                           *suggestion)
                                             : std::string("write any of lookup, export, erase")));
            return std::nullopt;
          });
      if (roles.empty()) return;
      if (std::find(roles.begin(), roles.end(), Role::kLookup) == roles.end()) {
        context.problems.add(
            context.line,
            fmt::format("`export` and `erase` act on a person found by a lookup, so {} needs "
                        "\"lookup\" too; write {} = [\"lookup\", ...]",
                        context.key, context.key));
        return;
      }
      context.config.server.roles[std::string(context.key)] = std::move(roles);
    }};

const SectionSpec kServerRolesSection = {"server.roles", {}, &kUserRoles};

const KeySpec kServerKeys[] = {
    {"listen", ValueType::kString, "listen = \"127.0.0.1:8470\"",
     [](const toml::node& value, KeyContext& context) {
       ServerConfig& server = context.config.server;
       if (!parse_listen(string_of(value), server.listen_host, server.listen_port)) {
         context.problems.add(
             context.line,
             "listen is not HOST:PORT (the value is not shown); write e.g. listen = "
             "\"127.0.0.1:8470\" (\"[::1]:8470\" for IPv6, port 0 for any free port)");
       }
     }},
    {"secret_file", ValueType::kString, "secret_file = \"/etc/mautic-gdpr/webhook-secret\"",
     [](const toml::node& value, KeyContext& context) {
       set_nonempty_string(value, context, context.config.server.secret_file,
                           "secret_file = \"/etc/mautic-gdpr/webhook-secret\"");
     }},
    {"secret_env", ValueType::kString, "secret_env = \"MAUTIC_WEBHOOK_SECRET\"",
     [](const toml::node& value, KeyContext& context) {
       set_variable_name(value, context, context.config.server.secret_env, "MAUTIC_WEBHOOK_SECRET",
                         "secret");
     }},
    {"max_body_bytes", ValueType::kWholeNumber, "max_body_bytes = 4194304",
     [](const toml::node& value, KeyContext& context) {
       if (in_range(value, context, 1024, int64_t(1) << 30, "max_body_bytes = 4194304")) {
         context.config.server.max_body_bytes = integer_of(value);
       }
     }},
    {"threads", ValueType::kWholeNumber, "threads = 8",
     [](const toml::node& value, KeyContext& context) {
       if (in_range(value, context, 1, 256, "threads = 8")) {
         context.config.server.threads = static_cast<int>(integer_of(value));
       }
     }},
    {"tls_cert_file", ValueType::kString, "tls_cert_file = \"/etc/mautic-gdpr/tls/cert.pem\"",
     [](const toml::node& value, KeyContext& context) {
       set_nonempty_string(value, context, context.config.server.tls_cert_file,
                           "tls_cert_file = \"/etc/mautic-gdpr/tls/cert.pem\"");
     }},
    {"tls_key_file", ValueType::kString, "tls_key_file = \"/etc/mautic-gdpr/tls/key.pem\"",
     [](const toml::node& value, KeyContext& context) {
       set_nonempty_string(value, context, context.config.server.tls_key_file,
                           "tls_key_file = \"/etc/mautic-gdpr/tls/key.pem\"");
     }},
    {"behind_proxy", ValueType::kBoolean, "behind_proxy = true",
     [](const toml::node& value, KeyContext& context) {
       context.config.server.behind_proxy = *value.value<bool>();
     }},
    {"trusted_proxies", ValueType::kStringList, "trusted_proxies = [\"127.0.0.1\"]",
     [](const toml::node& value, KeyContext& context) {
       context.config.server.trusted_proxies = parse_list<AddressRange>(
           value, context, "trusted_proxies = [\"127.0.0.1\"]",
           "no proxy would be believed (remove the key instead)",
           [&](std::string_view text, int line) -> std::optional<AddressRange> {
             if (auto range = parse_address_range(text)) return range;
             context.problems.add(line,
                                  "an entry of trusted_proxies is not an IP address or range "
                                  "(the value is not shown); write the proxy's address, e.g. "
                                  "trusted_proxies = [\"127.0.0.1\", \"10.0.0.0/8\"]");
             return std::nullopt;
           });
     }},
    {"max_connections_per_client", ValueType::kWholeNumber, "max_connections_per_client = 4",
     [](const toml::node& value, KeyContext& context) {
       if (in_range(value, context, 1, 256, "max_connections_per_client = 4")) {
         context.config.server.max_connections_per_client = static_cast<int>(integer_of(value));
       }
     }},
    {"read_timeout_seconds", ValueType::kWholeNumber, "read_timeout_seconds = 10",
     [](const toml::node& value, KeyContext& context) {
       if (in_range(value, context, 1, 600, "read_timeout_seconds = 10")) {
         context.config.server.read_timeout_seconds = static_cast<int>(integer_of(value));
       }
     }},
    {"session_minutes", ValueType::kWholeNumber, "session_minutes = 60",
     [](const toml::node& value, KeyContext& context) {
       if (in_range(value, context, 1, 24 * 60, "session_minutes = 60")) {
         context.config.server.session_minutes = static_cast<int>(integer_of(value));
       }
     }},
    {"login_attempts_per_hour", ValueType::kWholeNumber, "login_attempts_per_hour = 20",
     [](const toml::node& value, KeyContext& context) {
       if (in_range(value, context, 1, 10000, "login_attempts_per_hour = 20")) {
         context.config.server.login_attempts_per_hour = static_cast<int>(integer_of(value));
       }
     }},
    {"lookups_per_hour", ValueType::kWholeNumber, "lookups_per_hour = 60",
     [](const toml::node& value, KeyContext& context) {
       if (in_range(value, context, 1, 100000, "lookups_per_hour = 60")) {
         context.config.server.lookups_per_hour = static_cast<int>(integer_of(value));
       }
     }},
    {"users", ValueType::kTable,
     "[server.users] on its own line, followed by lines like alice = \"<hash from mautic-gdpr "
     "passwd>\"",
     nullptr, true, &kServerUsersSection},
    {"roles", ValueType::kTable,
     "[server.roles] on its own line, followed by lines like alice = [\"lookup\", \"export\", "
     "\"erase\"]",
     nullptr, true, &kServerRolesSection},
    {"mautic_url", ValueType::kString, "mautic_url = \"https://mautic.example.org\"",
     [](const toml::node& value, KeyContext& context) {
       std::string_view url = string_of(value);
       while (url.ends_with('/')) url.remove_suffix(1);
       const bool web = url.starts_with("https://") || url.starts_with("http://");
       const bool plain = std::none_of(url.begin(), url.end(), [](char c) {
         return c <= ' ' || c == '"' || c == '\'' || c == '<' || c == '>' || c == '\\';
       });
       if (!web || !plain || url.find("://") + 3 == url.size()) {
         context.problems.add(
             context.line,
             "mautic_url is not a web address; write Mautic's address as you open it in a "
             "browser, e.g. mautic_url = \"https://mautic.example.org\"");
         return;
       }
       context.config.server.mautic_url = std::string(url);
     }},
    {"secret", ValueType::kAny, kSecretRefusal,
     [](const toml::node&, KeyContext& context) {
       context.problems.add(context.line, std::string(kSecretRefusal));
     },
     false},
};

void check_server(const toml::table& table, int, KeyContext& context) {
  // Roles of someone who cannot log in are a typo, or a user removed without their roles.
  std::vector<std::string> names;
  for (const WebUser& user : context.config.server.users) names.push_back(user.name);
  for (const auto& [name, roles] : context.config.server.roles) {
    if (std::find(names.begin(), names.end(), name) != names.end()) continue;
    auto suggestion = did_you_mean(name, names);
    context.problems.add(
        context.config.line_of("server.roles." + name),
        fmt::format("[server.roles] names `{}`, who is not in [server.users]; {}", name,
                    suggestion ? fmt::format("did you mean `{}`?", *suggestion)
                               : fmt::format("add {} = \"<hash from mautic-gdpr passwd --user "
                                             "{}>\" under [server.users], or remove this line",
                                             name, name)));
  }
  if (table.contains("secret_file") && table.contains("secret_env")) {
    const int env_line = context.config.line_of("server.secret_env");
    const int file_line = context.config.line_of("server.secret_file");
    context.problems.add(
        std::max(env_line, file_line),
        fmt::format("both secret_env (line {}) and secret_file (line {}) are set; remove one of "
                    "them",
                    env_line, file_line));
  }
  if (context.config.server.behind_proxy && !table.contains("trusted_proxies")) {
    context.problems.add(context.config.line_of("server.behind_proxy"),
                         "behind_proxy = true needs the proxy's address, so that its X-Real-IP "
                         "header is believed and no one else's; write e.g. trusted_proxies = "
                         "[\"127.0.0.1\"] (nginx on this machine)");
  }
  const ServerConfig& server = context.config.server;
  if (server.max_connections_per_client > server.threads) {
    context.problems.add(context.config.line_of("server.max_connections_per_client"),
                         "max_connections_per_client is more than threads, so one client could "
                         "hold every thread; write a number below threads, or leave it out "
                         "(threads - 2)");
  }
  if (table.contains("tls_cert_file") != table.contains("tls_key_file")) {
    const bool has_cert = table.contains("tls_cert_file");
    context.problems.add(
        context.config.line_of(has_cert ? "server.tls_cert_file" : "server.tls_key_file"),
        fmt::format("{} is set without {}; HTTPS needs both, e.g. {}",
                    has_cert ? "tls_cert_file" : "tls_key_file",
                    has_cert ? "tls_key_file" : "tls_cert_file",
                    has_cert ? "tls_key_file = \"/etc/mautic-gdpr/tls/key.pem\""
                             : "tls_cert_file = \"/etc/mautic-gdpr/tls/cert.pem\""));
  }
}

// ---------------------------------------------------------------------------------------------
// The sections

const SectionSpec kSections[] = {
    {"database", kDatabaseKeys, nullptr, nullptr, check_database},
    {"hashing", kHashingKeys},
    {"trigger", kTriggerKeys},
    {"policy", kPolicyKeys},
    {"legacy", kLegacyKeys, nullptr, [](Config& config, int) { config.legacy.emplace(); },
     check_legacy},
    {"sweep", kSweepKeys},
    {"related", kRelatedKeys, &kRelatedLocation},
    {"orphans", kOrphansKeys},
    {"discovery", kDiscoveryKeys},
    {"guard", kGuardKeys},
    {"retention", kRetentionKeys, nullptr, nullptr, check_retention},
    {"server", kServerKeys, nullptr, nullptr, check_server},
};

std::string section_list() {
  std::string text;
  for (const SectionSpec& section : kSections) {
    if (!text.empty()) text += ", ";
    text += fmt::format("[{}]", section.name);
  }
  return text;
}

// ---------------------------------------------------------------------------------------------
// The walker

std::string_view type_description(ValueType type) {
  switch (type) {
    case ValueType::kString:
      return "a string in double quotes";
    case ValueType::kWholeNumber:
      return "a whole number";
    case ValueType::kBoolean:
      return "true or false (no quotes)";
    case ValueType::kStringList:
      return "a list of strings";
    case ValueType::kTable:
      return "a table";
    case ValueType::kTableList:
      return "a list of tables";
    case ValueType::kAny:
      return "anything";
  }
  return "?";
}

std::string_view node_description(const toml::node& node) {
  switch (node.type()) {
    case toml::node_type::string:
      return "a string";
    case toml::node_type::integer:
      return "a whole number";
    case toml::node_type::floating_point:
      return "a decimal number";
    case toml::node_type::boolean:
      return "true/false";
    case toml::node_type::date:
      return "a date";
    case toml::node_type::time:
      return "a time";
    case toml::node_type::date_time:
      return "a date and time";
    case toml::node_type::table:
      return "a table";
    case toml::node_type::array: {
      if (node.is_array_of_tables()) return "a list of tables";
      const toml::array& list = *node.as_array();
      const bool all_strings =
          std::all_of(list.begin(), list.end(), [](const toml::node& e) { return e.is_string(); });
      return all_strings ? "a list" : "a list with something other than strings in it";
    }
    case toml::node_type::none:
      break;
  }
  return "something else";
}

bool has_type(const toml::node& node, ValueType type) {
  switch (type) {
    case ValueType::kString:
      return node.is_string();
    case ValueType::kWholeNumber:
      return node.is_integer();
    case ValueType::kBoolean:
      return node.is_boolean();
    case ValueType::kStringList: {
      const toml::array* list = node.as_array();
      return list != nullptr && std::all_of(list->begin(), list->end(),
                                            [](const toml::node& e) { return e.is_string(); });
    }
    case ValueType::kTable:
      return node.is_table();
    case ValueType::kTableList:
      return node.is_array_of_tables();
    case ValueType::kAny:
      return true;
  }
  return false;
}

const KeySpec* find_key(const SectionSpec& section, std::string_view name) {
  for (const KeySpec& key : section.keys) {
    if (key.name == name) return &key;
  }
  return section.any_key;
}

class Walker {
 public:
  Walker(Config& config, Problems& problems) : config_(config), problems_(problems) {}

  void walk_document(const toml::table& document) {
    for (const auto& [key, node] : document) {
      const std::string_view name = key.str();
      const int line = line_of_key(key, node);
      const SectionSpec* section = find_section(name);
      if (section == nullptr) {
        report_unknown_top_level(name, node, line);
        continue;
      }
      if (!node.is_table()) {
        problems_.add(line, fmt::format("{} is {}, not a section; write [{}] on its own line, "
                                        "followed by its keys",
                                        name, node_description(node), name));
        continue;
      }
      walk_section(*section, *node.as_table(), line);
    }
  }

 private:
  static const SectionSpec* find_section(std::string_view name) {
    for (const SectionSpec& section : kSections) {
      if (section.name == name) return &section;
    }
    return nullptr;
  }

  void walk_section(const SectionSpec& section, const toml::table& table, int section_line) {
    config_.key_lines[std::string(section.name)] = section_line;
    if (section.on_present != nullptr) section.on_present(config_, section_line);
    for (const auto& [key, node] : table) {
      const std::string_view name = key.str();
      const int line = line_of_key(key, node);
      const std::string dotted = fmt::format("{}.{}", section.name, name);
      const KeySpec* spec = find_key(section, name);
      if (spec == nullptr) {
        report_unknown_key(section, name, node, line);
        continue;
      }
      config_.key_lines[dotted] = line;
      if (!has_type(node, spec->type)) {
        report_wrong_type(section, *spec, name, node, line);
        continue;
      }
      if (spec->type == ValueType::kTableList) {
        for (const toml::node& element : *node.as_array()) {
          const int element_line = line_of_node(element) > 0 ? line_of_node(element) : line;
          walk_section(*spec->subsection, *element.as_table(), element_line);
        }
        continue;
      }
      if (spec->subsection != nullptr) {
        walk_section(*spec->subsection, *node.as_table(), line);
        continue;
      }
      KeyContext context{config_, problems_, name, line};
      spec->apply(node, context);
    }
    if (section.check != nullptr) {
      KeyContext context{config_, problems_, section.name, section_line};
      section.check(table, section_line, context);
    }
  }

  void report_unknown_top_level(std::string_view name, const toml::node& node, int line) {
    if (node.is_table() || node.is_array_of_tables()) {
      std::vector<std::string> names;
      for (const SectionSpec& section : kSections) names.emplace_back(section.name);
      if (auto suggestion = did_you_mean(name, names)) {
        problems_.add(line, fmt::format("unknown section {}; did you mean [{}]?", shown_key(name, "[", "]"),
                                        *suggestion));
      } else {
        problems_.add(line, fmt::format("unknown section {}; the sections are {}", shown_key(name, "[", "]"),
                                        section_list()));
      }
      return;
    }
    // A key above the first section header: point to the section that knows it.
    for (const SectionSpec& section : kSections) {
      for (const KeySpec& key : section.keys) {
        if (key.name == name) {
          problems_.add(line, fmt::format("{} is outside any section; move it below [{}]", name,
                                          section.name));
          return;
        }
      }
    }
    problems_.add(line, fmt::format("{} is outside any section and not a known key; keys belong "
                                    "in one of the sections {}",
                                    shown_key(name), section_list()));
  }

  // The value is never quoted: an unknown key may well hold a secret.
  void report_unknown_key(const SectionSpec& section, std::string_view name, const toml::node& node,
                          int line) {
    std::vector<std::string> candidates;
    for (const KeySpec& key : section.keys) {
      if (key.suggest) candidates.emplace_back(key.name);
    }
    const bool is_section = node.is_table() && !node.as_table()->is_inline();
    const std::string what = is_section
                                 ? fmt::format("unknown section {}",
                                               shown_key(fmt::format("{}.{}", section.name, name),
                                                         "[", "]"))
                                 : fmt::format("unknown key {} in [{}]", shown_key(name),
                                               section.name);
    if (auto suggestion = did_you_mean(name, candidates)) {
      const KeySpec* spec = find_key(section, *suggestion);
      if (spec->type == ValueType::kTable) {
        problems_.add(line,
                      fmt::format("{}; did you mean [{}.{}]?", what, section.name, *suggestion));
      } else {
        problems_.add(line, fmt::format("{}; did you mean `{}`? e.g. {}", what, *suggestion,
                                        replace_key(spec->example, *suggestion)));
      }
    } else if (candidates.empty()) {
      problems_.add(line, fmt::format("{}; [{}] has no keys of its own", what, section.name));
    } else {
      problems_.add(line, fmt::format("{}; the keys of [{}] are {}", what, section.name,
                                      joined_names(candidates)));
    }
  }

  void report_wrong_type(const SectionSpec& section, const KeySpec& spec, std::string_view name,
                         const toml::node& node, int line) {
    if (spec.type == ValueType::kTable) {
      problems_.add(line, fmt::format("{}.{} is {}, not a table; write {}", section.name, name,
                                      node_description(node), replace_key(spec.example, name)));
      return;
    }
    const std::string_view shown = is_plain_name(name) ? name : "this key";
    problems_.add(line, fmt::format("{} is {}; {} must be {}, e.g. {}", shown,
                                    node_description(node), shown, type_description(spec.type),
                                    replace_key(spec.example, is_plain_name(name) ? name : "name")));
  }

  Config& config_;
  Problems& problems_;
};

// toml++ describes a syntax error with a piece of the offending text ("saw 'tru_'"). A piece
// longer than one character could be part of a value, so it is left out.
std::string without_quoted_text(std::string_view description) {
  std::string text;
  size_t at = 0;
  while (at < description.size()) {
    const size_t saw = description.find("saw '", at);
    if (saw == std::string_view::npos) break;
    const size_t start = saw + 5;
    const size_t end = description.find('\'', start);
    if (end == std::string_view::npos) break;
    text.append(description.substr(at, saw - at));
    text += end - start == 1 ? description.substr(saw, end + 1 - saw) : "saw something else";
    at = end + 1;
  }
  text.append(description.substr(std::min(at, description.size())));
  return text;
}

// On the line of a secret key even one character is too much: the description is replaced.
bool is_secret_line(std::string_view text, int line) {
  size_t start = 0;
  for (int current = 1; current < line; ++current) {
    start = text.find('\n', start);
    if (start == std::string_view::npos) return false;
    ++start;
  }
  std::string_view content = text.substr(start);
  content = content.substr(0, std::min(content.find('\n'), content.find('=')));
  // The last part of a (possibly dotted or quoted) key.
  std::string last;
  for (char c : content) {
    if (c == '.') {
      last.clear();
    } else if (c != ' ' && c != '\t' && c != '"' && c != '\'') {
      last.push_back(c);
    }
  }
  return last == "password" || last == "md5_salt" || last == "secret";
}

}  // namespace

std::string_view origin_name(ContactOrigin origin) {
  switch (origin) {
    case ContactOrigin::kForm:
      return "form";
    case ContactOrigin::kImport:
      return "import";
    case ContactOrigin::kIntegration:
      return "integration";
    case ContactOrigin::kApi:
      return "api";
  }
  return "api";
}

std::string_view role_name(Role role) {
  switch (role) {
    case Role::kLookup:
      return "lookup";
    case Role::kExport:
      return "export";
    case Role::kErase:
      return "erase";
  }
  return "lookup";
}

std::optional<Role> parse_role(std::string_view name) {
  for (Role role : {Role::kLookup, Role::kExport, Role::kErase}) {
    if (role_name(role) == name) return role;
  }
  return std::nullopt;
}

bool ServerConfig::may(std::string_view user, Role role) const {
  auto found = roles.find(std::string(user));
  if (found == roles.end()) return role == Role::kLookup;
  return std::find(found->second.begin(), found->second.end(), role) != found->second.end();
}

std::optional<ContactOrigin> parse_origin(std::string_view name) {
  for (ContactOrigin origin : {ContactOrigin::kForm, ContactOrigin::kImport,
                               ContactOrigin::kIntegration, ContactOrigin::kApi}) {
    if (origin_name(origin) == name) return origin;
  }
  return std::nullopt;
}

int Config::line_of(std::string_view dotted_key) const {
  const auto found = key_lines.find(dotted_key);
  return found == key_lines.end() ? 0 : found->second;
}

std::string Config::where(std::string_view dotted_key) const {
  const int line = line_of(dotted_key);
  return line > 0 ? fmt::format("{}:{}", path, line) : path;
}

std::string ExtraLocationConfig::where(const std::string& path, std::string_view key) const {
  auto found = lines.find(key);
  return fmt::format("{}:{}", path, found == lines.end() ? line : found->second);
}

Action Config::action_for(std::string_view alias) const {
  for (const FieldRule& rule : fields) {
    if (rule.alias == alias) return rule.action;
  }
  return default_action;
}

const FieldRule* Config::rule_for(std::string_view alias) const {
  for (const FieldRule& rule : fields) {
    if (rule.alias == alias) return &rule;
  }
  return nullptr;
}

std::optional<Duration> ReasonDurations::for_reason(DncReason reason) const {
  if (auto named = by_reason.find(reason); named != by_reason.end()) return named->second;
  return fallback;
}

bool ReasonDurations::none() const {
  if (fallback && !fallback->is_zero()) return false;
  for (const auto& [reason, duration] : by_reason) {
    if (duration && !duration->is_zero()) return false;
  }
  return true;
}

Result<Config> parse_config(std::string_view toml_text, std::string_view path) {
  Config config;
  config.path = std::string(path);
  Problems problems(path);

  toml::table document;
  try {
    document = toml::parse(toml_text, path);
  } catch (const toml::parse_error& error) {
    const int line = static_cast<int>(error.source().begin.line);
    const std::string description =
        is_secret_line(toml_text, line)
            ? std::string("the value of a secret key is not valid TOML (not shown)")
            : without_quoted_text(error.description());
    problems.add(line, fmt::format("{}; fix the TOML syntax: key = \"text\", key = 123, "
                                   "key = [\"a\", \"b\"], [section] headers",
                                   description));
    return Error{problems.joined()};
  } catch (const std::exception& error) {
    // Only allocation failures are left; still no exception escapes.
    return Error{fmt::format("{}: cannot parse the config: {}", config.path, error.what())};
  }

  Walker(config, problems).walk_document(document);
  if (!problems.empty()) return Error{problems.joined()};

  // toml++ keeps keys sorted by name; rules are listed in the order of the file.
  std::stable_sort(config.fields.begin(), config.fields.end(),
                   [&](const FieldRule& a, const FieldRule& b) {
                     return config.line_of("policy.fields." + a.alias) <
                            config.line_of("policy.fields." + b.alias);
                   });
  std::stable_sort(config.keyring.begin(), config.keyring.end(),
                   [&](const KeyringEntry& a, const KeyringEntry& b) {
                     return config.line_of("hashing.keyring." + a.fingerprint) <
                            config.line_of("hashing.keyring." + b.fingerprint);
                   });
  std::stable_sort(config.server.users.begin(), config.server.users.end(),
                   [&](const WebUser& a, const WebUser& b) {
                     return config.line_of("server.users." + a.name) <
                            config.line_of("server.users." + b.name);
                   });
  return config;
}

std::optional<std::string> did_you_mean(std::string_view word,
                                        const std::vector<std::string>& candidates) {
  // Two-row Levenshtein distance.
  auto distance = [](std::string_view a, std::string_view b) {
    std::vector<size_t> previous(b.size() + 1);
    std::vector<size_t> current(b.size() + 1);
    for (size_t j = 0; j <= b.size(); ++j) previous[j] = j;
    for (size_t i = 1; i <= a.size(); ++i) {
      current[0] = i;
      for (size_t j = 1; j <= b.size(); ++j) {
        const size_t substitution = previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1);
        current[j] = std::min({previous[j] + 1, current[j - 1] + 1, substitution});
      }
      std::swap(previous, current);
    }
    return previous[b.size()];
  };
  const size_t limit = std::max<size_t>(2, word.size() / 3);
  std::optional<std::string> best;
  size_t best_distance = limit + 1;
  for (const std::string& candidate : candidates) {
    const size_t d = distance(word, candidate);
    if (d < best_distance) {
      best_distance = d;
      best = candidate;
    }
  }
  return best;
}

namespace {

constexpr std::string_view kExampleDatabaseSection = R"([database]
host = "127.0.0.1"          # or: socket = "/run/mysqld/mysqld.sock" (socket wins when set)
port = 3306
name = "mautic"
user = "mautic"
password_env = "MAUTIC_DB_PASSWORD"   # or: password_file = "/etc/mautic-gdpr/db-password"
table_prefix = ""           # the prefix of Mautic's tables, if it was installed with one
# lock_wait_seconds = 10    # wait at most this long for a row Mautic holds locked; the
                            # transaction is then rolled back and run again (a few times)
)";

// A TOML basic string.
std::string toml_string(std::string_view text) {
  std::string quoted = "\"";
  for (char c : text) {
    if (c == '"' || c == '\\') {
      quoted += '\\';
      quoted += c;
    } else if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
      quoted += fmt::format("\\u{:04X}", static_cast<unsigned char>(c));
    } else {
      quoted += c;
    }
  }
  return quoted + "\"";
}

}  // namespace

std::string database_section_toml(const DatabaseConfig& database) {
  std::string text = "[database]\n";
  if (!database.socket.empty()) {
    text += "socket = " + toml_string(database.socket) + "\n";
  } else {
    text += "host = " + toml_string(database.host) + "\n";
    text += fmt::format("port = {}\n", database.port);
  }
  text += "name = " + toml_string(database.name) + "\n";
  text += "user = " + toml_string(database.user) + "\n";
  if (!database.password_env.empty()) {
    text += "password_env = " + toml_string(database.password_env) + "\n";
  }
  if (!database.password_file.empty()) {
    text += "password_file = " + toml_string(database.password_file) + "\n";
  }
  text += "table_prefix = " + toml_string(database.table_prefix) + "\n";
  return text;
}

std::string example_config() { return example_config(kExampleDatabaseSection); }

std::string example_config(std::string_view database_section) {
  return R"(# mautic-gdpr configuration (TOML).
# A section left out keeps its defaults; the values below are the defaults unless noted.

)" + std::string(database_section) +
         R"(
[hashing]
key_file = "/etc/mautic-gdpr/hmac.key"   # made by `mautic-gdpr keygen --out PATH`
# After `mautic-gdpr keygen --rotate --out NEW`: key_file names the new key, and the old ones
# stay here, by the start of their fingerprint, for lookups and the re-import guard only.
# [hashing.keyring]
# 3f2a9c1b4d5e6f70 = "/etc/mautic-gdpr/hmac-2025.key"

[trigger]
# Contacts with a DoNotContact entry for one of these reasons and channels are pseudonymized.
reasons = ["unsubscribed", "bounced"]    # any of unsubscribed, bounced, manual
channels = ["email"]
# Wait until the entry is this old (an unsubscribe undone, a full mailbox): units s, min, h,
# d, w, mo, y. Per reason: grace.bounced = "3d" (grace.default for the others).
# grace = "0"

[policy]
default = "delete"          # action for every contact field not named below

[policy.fields]
# Field alias (as in Mautic's Custom Fields) = delete, hash or keep, or a coarser value:
# year, month (date fields), prefix:N (text: the first N characters), bucket:N (numbers:
# rounded down to a multiple of N), domain (email fields: the part after the @).
email = "hash"
country = "keep"
# birthday = "year"
# zipcode = "prefix:2"

# Only if the LeadEngine GDPR plugin pseudonymized contacts before: its salt (copy it from the
# plugin's settings) and the hidden contact field it wrote md5(salt + email + salt) into.
# [legacy]
# md5_salt = "0123456789abcdef"
# md5_field = "email_hash"

# Rows a contact leaves behind when Mautic deletes it (e.g. email_stats with the address and a
# NULL lead_id): "scrub" gives each its location's action, as for a processed contact.
# [orphans]
# action = "scrub"                # or "keep"

# A plugin's table that holds contacts' data (`check` prints a ready block for each table it
# finds that no location covers). Declared tables go through the same engine.
# [[related.extra]]
# table = "plugin_survey_answers"   # without the table prefix
# link_column = "lead_id"           # holds the contact id
# action = "scrub"                  # or "delete"
# columns = { respondent_email = "clear", answers = "json" }  # clear, php-serialized, json
# # rows that hang on another row holding the contact (Custom Objects' values):
# # parent = "custom_item_xref_contact"
# # parent_key = "custom_item_id"
# # parent_contact_column = "contact_id"
#
# Tables reviewed and found to hold nothing personal: `check` stops reporting them.
# [discovery]
# ignore = ["plugin_settings"]

# [sweep]
# batch_size = 500          # contacts per transaction
# workers = 2               # batches processed side by side, each on its own database
#                           # connection (1: one at a time)
# interval_minutes = 10     # how often the timer runs the sweep (mautic-gdpr-sweep.timer);
#                           # status calls it late after twice this without a successful sweep

# The re-import guard (runs first in every sweep): a new contact whose email matches a person
# who left is put back on do-not-contact when it came from one of these origins, and only
# reported otherwise (a form submission by the person is a fresh opt-in).
# [guard]
# enabled = true
# origins = ["import", "api", "integration"]   # any of import, api, integration, form
# fields = ["email"]                           # hashed fields to compare
# reasons = ["unsubscribed", "bounced"]        # default: the [trigger] reasons

# An end to keeping: a processed record this old (since it was processed) is deleted
# completely, the contact included, its digests too. Default: kept forever. Per reason:
# forget_after.bounced = "10y" (a suppression list may keep its own), "never" allowed.
# [retention]
# forget_after = "5y"

# `mautic-gdpr serve`: Mautic's webhook (processes a contact the moment it leaves) and the
# lookup and status pages for support staff. Keep the sweep timer: it is the safety net.
# [server]
# listen = "127.0.0.1:8470"
# secret_file = "/etc/mautic-gdpr/webhook-secret"  # or: secret_env = "MAUTIC_WEBHOOK_SECRET"
# max_body_bytes = 4194304      # larger webhook requests are refused (413)
# threads = 8                   # requests served at once, one database connection each
# tls_cert_file = "/etc/mautic-gdpr/tls/cert.pem"  # both set: HTTPS; neither: plain HTTP
# tls_key_file = "/etc/mautic-gdpr/tls/key.pem"
# behind_proxy = false          # true behind nginx with HTTPS: cookies marked Secure
# trusted_proxies = ["127.0.0.1"]  # the proxy: only its X-Real-IP names the client
# max_connections_per_client = 6   # default: threads - 2; more get 503 at once
# read_timeout_seconds = 10     # headers and body must arrive within this after the first byte
# session_minutes = 60          # a page session ends after this long without a request
# login_attempts_per_hour = 20  # per client address
# lookups_per_hour = 60         # per user; exports and erasures have the same limit apart
# mautic_url = "https://mautic.example.org"   # contact ids on the pages link to Mautic
#
# [server.users]
# alice = "$argon2id$v=19$m=65536,t=2,p=1$..."   # `mautic-gdpr passwd --user alice` prints it
#
# What each user may do; a user not listed here may look people up only.
# [server.roles]
# alice = ["lookup", "export", "erase"]   # any of lookup, export, erase (the last two need lookup)
)";
}

}  // namespace mgdpr
