// SPDX-License-Identifier: GPL-3.0-or-later
#include "core/scrub.h"

#include <zlib.h>

#include <algorithm>
#include <cmath>
#include <set>
#include <vector>

#include "core/json.h"
#include "core/php_serialize.h"

namespace mgdpr {

namespace {

// Seven digits make a phone number (without its prefix), most ids and every Unix time.
constexpr int64_t kIdentifyingMagnitude = 1'000'000;
constexpr int kMaxDigitRun = 6;
constexpr std::size_t kMaxKeyBytes = 64;
// What a date object's date becomes: the date of Unix time 0, the way 0 replaces a number.
constexpr std::string_view kClearedDate = "1970-01-01 00:00:00.000000";

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_letter(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool is_word_char(char c) { return is_letter(c) || is_digit(c) || c == '_' || c == '-'; }

// A mangled property name "\0Class\0name" or "\0*\0name": the class part is code as well.
bool is_structural_property(std::string_view mangled) {
  if (mangled.empty() || mangled.front() != '\0') return is_structural_key(mangled);
  const std::size_t second_nul = mangled.find('\0', 1);
  if (second_nul == std::string_view::npos) return false;
  const std::string_view owner = mangled.substr(1, second_nul - 1);
  const bool owner_ok =
      owner == "*" || (!owner.empty() && owner.size() <= 2 * kMaxKeyBytes &&
                       std::all_of(owner.begin(), owner.end(), [](char c) {
                         return is_letter(c) || is_digit(c) || c == '_' || c == '\\';
                       }));
  return owner_ok && is_structural_key(mangled.substr(second_nul + 1));
}

// "+02:00" (type 1), an abbreviation such as "CEST" (type 2), or a zone identifier such as
// "Europe/Berlin" or "UTC" (type 3): the spellings PHP writes for a DateTimeZone.
bool is_zone_name(int64_t zone_type, std::string_view name) {
  switch (zone_type) {
    case 1:
      return name.size() == 6 && (name[0] == '+' || name[0] == '-') && is_digit(name[1]) &&
             is_digit(name[2]) && name[3] == ':' && is_digit(name[4]) && is_digit(name[5]);
    case 2:
      return !name.empty() && name.size() <= 6 && std::all_of(name.begin(), name.end(), is_letter);
    case 3:
      return !name.empty() && name.size() <= kMaxKeyBytes && is_letter(name.front()) &&
             name.back() != '/' && std::all_of(name.begin(), name.end(), [](char c) {
               return is_word_char(c) || c == '+' || c == '/';
             });
    default:
      return false;
  }
}

// The value slots PHP's unserialize() numbers for r: and R: (every value but an R: itself).
std::size_t slot_count(const php::Value& value) {
  std::size_t count = value.type() == php::Type::kReference ? 0 : 1;
  for (const php::Entry& entry : value.entries()) count += slot_count(entry.value);
  return count;
}

// The rule of scrub.h over a parsed serialize() value. Recursion is bounded: php::parse refuses
// values nested deeper than kMaxNesting.
struct PhpScrub {
  bool reshaped = false;  // a part was dropped or rebuilt: later value slots may have moved

  void value(php::Value& value) {
    switch (value.type()) {
      case php::Type::kString:
        value.as_string().clear();
        return;
      case php::Type::kInt:
        if (could_identify(value.as_int())) value = php::Value::integer(0);
        return;
      case php::Type::kFloat:
        if (could_identify(value.as_float())) value = php::Value::floating(0);
        return;
      case php::Type::kArray:
        entries(value.entries());
        return;
      case php::Type::kObject:
        if (value.find("timezone_type") != nullptr) {
          date_object(value);
        } else {
          entries(value.entries());
        }
        return;
      case php::Type::kCustomObject:
        // The payload is the class's own format; PHP rebuilds an empty object from none.
        if (!value.payload().empty()) {
          value.payload().clear();
          reshaped = true;
        }
        return;
      case php::Type::kNull:
      case php::Type::kBool:
      case php::Type::kEnum:
      case php::Type::kObjectReference:
      case php::Type::kReference:
        return;
    }
  }

  void entries(std::vector<php::Entry>& entries) {
    std::vector<bool> keep(entries.size());
    std::set<int64_t> taken;
    for (std::size_t i = 0; i < entries.size(); ++i) {
      const php::Key& key = entries[i].key;
      if (key.is_int()) {
        keep[i] = !could_identify(key.as_int());
        if (keep[i]) taken.insert(key.as_int());
      } else {
        keep[i] = is_structural_property(key.as_string());
        // PHP reads a key "5" as the integer 5: a fresh key must not collide with it.
        if (auto number = decimal_int64(key.as_string()); keep[i] && number) taken.insert(*number);
      }
    }
    int64_t next = 0;
    for (std::size_t i = 0; i < entries.size(); ++i) {
      if (!keep[i]) {
        while (taken.contains(next)) ++next;
        entries[i].key = php::Key(next);
        taken.insert(next);
      }
      value(entries[i].value);
    }
  }

  // DateTime, DateTimeImmutable, their subclasses (Carbon) and DateTimeZone: rebuilt from the
  // properties PHP needs, so unserialize() still accepts them and nothing else survives.
  void date_object(php::Value& object) {
    const php::Value* type = object.find("timezone_type");
    const php::Value* zone = object.find("timezone");
    int64_t zone_type =
        type->is_int() && type->as_int() >= 1 && type->as_int() <= 3 ? type->as_int() : 3;
    std::string zone_name;
    if (zone != nullptr && zone->is_string() && is_zone_name(zone_type, zone->as_string())) {
      zone_name = zone->as_string();
    } else {
      zone_type = 3;
      zone_name = "UTC";
    }
    std::vector<php::Entry> rebuilt;
    if (object.find("date") != nullptr) {
      rebuilt.push_back({"date", php::Value::string(std::string(kClearedDate))});
    }
    rebuilt.push_back({"timezone_type", php::Value::integer(zone_type)});
    rebuilt.push_back({"timezone", php::Value::string(std::move(zone_name))});
    const std::size_t slots_before = slot_count(object);
    object.entries() = std::move(rebuilt);
    if (slot_count(object) != slots_before) reshaped = true;
  }
};

// The same rule over a JSON document; depth is bounded by parse_json.
void scrub_json_node(nlohmann::json& node) {
  switch (node.type()) {
    case nlohmann::json::value_t::string:
      node = "";
      return;
    case nlohmann::json::value_t::number_integer:
      if (could_identify(node.get<int64_t>())) node = 0;
      return;
    case nlohmann::json::value_t::number_unsigned:
      if (node.get<uint64_t>() >= uint64_t(kIdentifyingMagnitude)) node = 0;
      return;
    case nlohmann::json::value_t::number_float:
      if (could_identify(node.get<double>())) node = 0.0;
      return;
    case nlohmann::json::value_t::array:
      for (auto& child : node) scrub_json_node(child);
      return;
    case nlohmann::json::value_t::object: {
      nlohmann::json rebuilt = nlohmann::json::object();
      std::vector<nlohmann::json> unnamed;
      for (auto child = node.begin(); child != node.end(); ++child) {
        scrub_json_node(child.value());
        if (is_structural_key(child.key())) {
          rebuilt[child.key()] = std::move(child.value());
        } else {
          unnamed.push_back(std::move(child.value()));
        }
      }
      int next = 1;
      for (auto& child : unnamed) {
        std::string name;
        do {
          name = fmt::format("redacted_{}", next++);
        } while (rebuilt.contains(name));
        rebuilt[name] = std::move(child);
      }
      node = std::move(rebuilt);
      return;
    }
    case nlohmann::json::value_t::null:
    case nlohmann::json::value_t::boolean:
    case nlohmann::json::value_t::binary:
    case nlohmann::json::value_t::discarded:
      return;
  }
}

void collect_contact_ids(const nlohmann::json& node, std::set<int64_t>& ids) {
  if (node.is_object()) {
    for (auto child = node.begin(); child != node.end(); ++child) {
      if ((child.key() == "contact" || child.key() == "lead") && child->is_object()) {
        if (auto id = child->find("id"); id != child->end()) {
          if (auto number = json_whole_number(*id)) ids.insert(*number);
        }
      }
      collect_contact_ids(child.value(), ids);
    }
  } else if (node.is_array()) {
    for (const auto& child : node) collect_contact_ids(child, ids);
  }
}

}  // namespace

bool could_identify(int64_t number) {
  return number >= kIdentifyingMagnitude || number <= -kIdentifyingMagnitude;
}

bool could_identify(double number) { return !(std::fabs(number) < double(kIdentifyingMagnitude)); }

bool is_structural_key(std::string_view key) {
  if (key.empty() || key.size() > kMaxKeyBytes) return false;
  const bool token = key.size() > 2 && key.front() == '{' && key.back() == '}';
  if (token) key = key.substr(1, key.size() - 2);
  int digit_run = 0;
  for (char c : key) {
    if (is_digit(c)) {
      if (++digit_run > kMaxDigitRun) return false;
      continue;
    }
    digit_run = 0;
    if (!is_word_char(c) && !(token && (c == '=' || c == '|' || c == ':'))) return false;
  }
  return true;
}

Result<std::string> scrub_php_serialized(std::string_view serialized) {
  if (serialized.size() > kMaxValueBytes) {
    return make_error("the serialized value is larger than {} bytes", kMaxValueBytes);
  }
  MGDPR_ASSIGN_OR_RETURN(php::Value root, php::parse(serialized));
  const bool has_references = php::contains_references(root);
  PhpScrub scrub;
  scrub.value(root);
  if (scrub.reshaped && has_references) {
    return make_error(
        "the serialized value holds PHP references (r:, R:) and a part that had to be dropped, "
        "which would make them point elsewhere");
  }
  return php::serialize(root);
}

Result<std::string> scrub_json(std::string_view json) {
  MGDPR_ASSIGN_OR_RETURN(nlohmann::json document, parse_json(json));
  scrub_json_node(document);
  return document.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

Result<std::string> zlib_decompress(std::string_view compressed, std::size_t max_bytes) {
  z_stream stream{};
  if (inflateInit(&stream) != Z_OK) return make_error("zlib could not be initialised");
  stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(compressed.data()));
  stream.avail_in = static_cast<uInt>(compressed.size());
  std::string out;
  char buffer[16384];
  int status = Z_OK;
  while (status == Z_OK) {
    stream.next_out = reinterpret_cast<Bytef*>(buffer);
    stream.avail_out = sizeof buffer;
    status = inflate(&stream, Z_NO_FLUSH);
    const std::size_t produced = sizeof buffer - stream.avail_out;
    if (out.size() + produced > max_bytes) {
      inflateEnd(&stream);
      return make_error("the compressed value inflates to more than {} bytes", max_bytes);
    }
    out.append(buffer, produced);
    if (status == Z_BUF_ERROR && stream.avail_in == 0) break;
  }
  inflateEnd(&stream);
  if (status != Z_STREAM_END) return make_error("the compressed value is not valid zlib data");
  return out;
}

std::string zlib_compress(std::string_view data) {
  uLongf size = compressBound(static_cast<uLong>(data.size()));
  std::string out(size, '\0');
  compress2(reinterpret_cast<Bytef*>(out.data()), &size,
            reinterpret_cast<const Bytef*>(data.data()), static_cast<uLong>(data.size()),
            Z_DEFAULT_COMPRESSION);
  out.resize(size);
  return out;
}

Result<std::string> scrub_compressed_json(std::string_view compressed) {
  MGDPR_ASSIGN_OR_RETURN(std::string text, zlib_decompress(compressed));
  MGDPR_ASSIGN_OR_RETURN(std::string scrubbed, scrub_json(text));
  return zlib_compress(scrubbed);
}

Result<std::set<int64_t>> contact_ids_in_payload(std::string_view json) {
  MGDPR_ASSIGN_OR_RETURN(nlohmann::json document, parse_json(json));
  std::set<int64_t> ids;
  collect_contact_ids(document, ids);
  return ids;
}

}  // namespace mgdpr
