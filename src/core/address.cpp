// SPDX-License-Identifier: GPL-3.0-or-later
#include "core/address.h"

#include <arpa/inet.h>

#include <algorithm>
#include <charconv>

namespace mgdpr {

namespace {

constexpr std::array<uint8_t, 12> kV4MappedPrefix = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

}  // namespace

bool IpAddress::is_v4() const {
  return std::equal(kV4MappedPrefix.begin(), kV4MappedPrefix.end(), bytes.begin());
}

std::string IpAddress::to_string() const {
  char text[INET6_ADDRSTRLEN] = {};
  if (is_v4()) {
    ::inet_ntop(AF_INET, bytes.data() + 12, text, sizeof text);
  } else {
    ::inet_ntop(AF_INET6, bytes.data(), text, sizeof text);
  }
  return text;
}

std::optional<IpAddress> parse_ip_address(std::string_view text) {
  if (text.empty() || text.size() >= INET6_ADDRSTRLEN) return std::nullopt;
  const std::string copy(text);  // inet_pton wants a terminated string
  IpAddress address;
  if (::inet_pton(AF_INET, copy.c_str(), address.bytes.data() + 12) == 1) {
    std::copy(kV4MappedPrefix.begin(), kV4MappedPrefix.end(), address.bytes.begin());
    return address;
  }
  if (::inet_pton(AF_INET6, copy.c_str(), address.bytes.data()) == 1) return address;
  return std::nullopt;
}

bool AddressRange::contains(const IpAddress& address) const {
  int bits = prefix_bits;
  for (size_t i = 0; i < 16 && bits > 0; ++i, bits -= 8) {
    const auto mask = static_cast<uint8_t>(bits >= 8 ? 0xff : 0xff << (8 - bits));
    if ((address.bytes[i] & mask) != (first.bytes[i] & mask)) return false;
  }
  return true;
}

std::optional<AddressRange> parse_address_range(std::string_view text) {
  const size_t slash = text.find('/');
  auto address = parse_ip_address(text.substr(0, slash));
  if (!address) return std::nullopt;
  AddressRange range{*address, 128};
  if (slash == std::string_view::npos) return range;
  const std::string_view bits_text = text.substr(slash + 1);
  int bits = -1;
  const auto [end, error] =
      std::from_chars(bits_text.data(), bits_text.data() + bits_text.size(), bits);
  const int width = address->is_v4() ? 32 : 128;
  if (error != std::errc() || end != bits_text.data() + bits_text.size() || bits_text.empty() ||
      bits < 0 || bits > width) {
    return std::nullopt;
  }
  range.prefix_bits = address->is_v4() ? 96 + bits : bits;
  return range;
}

bool in_any_range(const IpAddress& address, const std::vector<AddressRange>& ranges) {
  return std::any_of(ranges.begin(), ranges.end(),
                     [&](const AddressRange& range) { return range.contains(address); });
}

std::string client_group(const IpAddress& address) {
  if (address.is_v4()) return address.to_string();
  IpAddress network = address;
  std::fill(network.bytes.begin() + 8, network.bytes.end(), uint8_t{0});
  return network.to_string() + "/64";
}

}  // namespace mgdpr
