// SPDX-License-Identifier: GPL-3.0-or-later
// IP addresses and ranges as `[server] trusted_proxies` names them ("127.0.0.1", "10.0.0.0/8",
// "::1", "fd00::/8"), and the key a client address is counted under for the per-client
// connection cap. Pure text and bytes: no lookups, no I/O.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mgdpr {

// An IPv4 or IPv6 address; IPv4 is held as an IPv4-mapped IPv6 address (::ffff:a.b.c.d), so
// "127.0.0.1" and "::ffff:127.0.0.1" (how a dual-stack socket reports it) are the same.
struct IpAddress {
  std::array<uint8_t, 16> bytes{};
  bool is_v4() const;
  std::string to_string() const;
  friend bool operator==(const IpAddress&, const IpAddress&) = default;
};

// A literal address (no host names, no ports, no brackets); nothing for anything else.
std::optional<IpAddress> parse_ip_address(std::string_view text);

// An address or a CIDR range: "10.0.0.0/8", "::1", "fd00::/8".
struct AddressRange {
  IpAddress first;
  int prefix_bits = 128;  // counted on the IPv6 form: an IPv4 /8 is /104 here
  bool contains(const IpAddress& address) const;
  friend bool operator==(const AddressRange&, const AddressRange&) = default;
};

std::optional<AddressRange> parse_address_range(std::string_view text);

bool in_any_range(const IpAddress& address, const std::vector<AddressRange>& ranges);

// What one client is counted as: an IPv4 address, or the /64 network of an IPv6 address (one
// machine usually owns a whole /64, so counting single addresses would let it take them all).
std::string client_group(const IpAddress& address);

}  // namespace mgdpr
