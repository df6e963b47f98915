// SPDX-License-Identifier: GPL-3.0-or-later
#include "core/scrub.h"

#include <zlib.h>

#include <nlohmann/json.hpp>

#include "core/php_serialize.h"

namespace mgdpr {

namespace {

void blank_json_strings(nlohmann::json& node) {
  if (node.is_string()) {
    node = "";
  } else if (node.is_structured()) {
    for (auto& child : node) blank_json_strings(child);
  }
}

std::optional<int64_t> id_of(const nlohmann::json& object) {
  if (!object.is_object()) return std::nullopt;
  auto id = object.find("id");
  if (id == object.end()) return std::nullopt;
  if (id->is_number_integer()) return id->get<int64_t>();
  if (id->is_string()) {
    try {
      size_t used = 0;
      int64_t value = std::stoll(id->get<std::string>(), &used);
      if (used == id->get<std::string>().size()) return value;
    } catch (const std::exception&) {
      return std::nullopt;
    }
  }
  return std::nullopt;
}

void collect_contact_ids(const nlohmann::json& node, std::set<int64_t>& ids) {
  if (node.is_object()) {
    for (const auto& [key, child] : node.items()) {
      if (key == "contact" || key == "lead") {
        if (auto id = id_of(child)) ids.insert(*id);
      }
      collect_contact_ids(child, ids);
    }
  } else if (node.is_array()) {
    for (const auto& child : node) collect_contact_ids(child, ids);
  }
}

}  // namespace

Result<std::string> scrub_php_serialized(std::string_view serialized) {
  return php::rewrite_strings(serialized, [](std::string& bytes, const php::Path& path) {
    auto owner = path.enclosing_class();
    if (owner && (*owner == "DateTime" || *owner == "DateTimeImmutable")) return;
    bytes.clear();
  });
}

Result<std::string> scrub_json(std::string_view json) {
  auto document = nlohmann::json::parse(json, nullptr, false);
  if (document.is_discarded()) return make_error("the JSON value is malformed");
  blank_json_strings(document);
  return document.dump();
}

Result<std::string> zlib_decompress(std::string_view compressed) {
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
    out.append(buffer, sizeof buffer - stream.avail_out);
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

Result<std::set<int64_t>> contact_ids_in_payload(std::string_view json) {
  auto document = nlohmann::json::parse(json, nullptr, false);
  if (document.is_discarded()) return make_error("the webhook payload is not valid JSON");
  std::set<int64_t> ids;
  collect_contact_ids(document, ids);
  return ids;
}

}  // namespace mgdpr
