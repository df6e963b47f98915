// SPDX-License-Identifier: GPL-3.0-or-later
// Normalization before hashing, so that a lookup finds a record whatever the case or spacing
// the value was typed with. The sweep and the lookup call the same function.
#pragma once

#include <string>
#include <string_view>

namespace mgdpr {

// How a value is normalized, chosen from the Mautic field type.
enum class ValueKind {
  kEmail,  // trimmed, lowercased (ASCII and UTF-8 aware for ASCII letters only)
  kPhone,  // reduced to a leading '+' (if any) and digits
  kText,   // trimmed
};

// Mautic field type ("email", "tel", "text", ...) to normalization kind.
ValueKind value_kind_for_field_type(std::string_view mautic_type);

std::string normalize(ValueKind kind, std::string_view value);

// Trims ASCII white space (space, tab, CR, LF, VT, FF) at both ends.
std::string_view trim(std::string_view value);

}  // namespace mgdpr
