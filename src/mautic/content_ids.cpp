// SPDX-License-Identifier: GPL-3.0-or-later
#include "mautic/content_ids.h"

#include <openssl/evp.h>

#include <cctype>
#include <charconv>

#include "core/php_serialize.h"
#include "core/scrub.h"

namespace mgdpr::mautic {

namespace {

std::optional<int64_t> positive_id(std::string_view digits) {
  int64_t id = 0;
  auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), id);
  if (error != std::errc() || end != digits.data() + digits.size() || id <= 0) return std::nullopt;
  return id;
}

// PHP's stripslashes(): a backslash escapes the next byte, and "\0" is a NUL byte.
std::string strip_slashes(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '\\' || i + 1 == text.size()) {
      out += text[i];
      continue;
    }
    ++i;
    out += text[i] == '0' ? '\0' : text[i];
  }
  return out;
}

Result<std::string> base64_decode(std::string_view text) {
  std::string out(text.size() / 4 * 3 + 3, '\0');
  const int written = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                      reinterpret_cast<const unsigned char*>(text.data()),
                                      static_cast<int>(text.size()));
  if (written < 0 || text.size() % 4 != 0) return make_error("not base64");
  size_t padding = 0;
  for (size_t i = text.size(); i > 0 && text[i - 1] == '=' && padding < 2; --i) ++padding;
  out.resize(size_t(written) - padding);
  return out;
}

}  // namespace

std::set<int64_t> contact_ids_in_links(std::string_view html) {
  constexpr std::string_view kRoute = "/s/contacts/view/";
  std::set<int64_t> ids;
  for (size_t at = html.find(kRoute); at != std::string_view::npos;
       at = html.find(kRoute, at + 1)) {
    size_t start = at + kRoute.size();
    size_t end = start;
    while (end < html.size() && html[end] >= '0' && html[end] <= '9') ++end;
    // The id ends the path: "/s/contacts/view/42" followed by a quote, '?', '#', '/', ...
    const bool ends_path =
        end == html.size() ||
        !(std::isalnum(static_cast<unsigned char>(html[end])) || html[end] == '_');
    if (end > start && ends_path) {
      if (auto id = positive_id(html.substr(start, end - start))) ids.insert(*id);
    }
  }
  return ids;
}

Result<std::set<int64_t>> contact_ids_in_messenger_body(std::string_view body) {
  std::string decoded;
  if (!body.ends_with('}')) {
    MGDPR_ASSIGN_OR_RETURN(decoded, base64_decode(body));
    body = decoded;
  }
  MGDPR_ASSIGN_OR_RETURN(php::Value envelope, php::parse(strip_slashes(body)));
  std::set<int64_t> ids;
  php::for_each_value(envelope, [&](php::Value& value, const php::Path& path) {
    const php::Key* key = path.last_key();
    if (key == nullptr || !key->is_string() || key->name() != "leadId") return;
    if (value.is_int()) {
      if (value.as_int() > 0) ids.insert(value.as_int());
    } else if (value.is_string()) {
      if (auto id = positive_id(value.as_string())) ids.insert(*id);
    }
  });
  return ids;
}

Result<std::set<int64_t>> contact_ids_in(Payload format, const std::optional<std::string>& content,
                                         const std::optional<std::string>& compressed) {
  switch (format) {
    case Payload::kWebhookJson: {
      if (content) return contact_ids_in_payload(*content);
      if (!compressed) return std::set<int64_t>{};
      MGDPR_ASSIGN_OR_RETURN(auto inflated, zlib_decompress(*compressed));
      return contact_ids_in_payload(inflated);
    }
    case Payload::kMessengerEnvelope:
      if (!content) return std::set<int64_t>{};
      return contact_ids_in_messenger_body(*content);
    case Payload::kContactLinks:
      if (!content) return std::set<int64_t>{};
      return contact_ids_in_links(*content);
    case Payload::kNone:
      break;
  }
  return std::set<int64_t>{};
}

}  // namespace mgdpr::mautic
