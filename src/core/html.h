// SPDX-License-Identifier: GPL-3.0-or-later
// Escaping for HTML: every text that did not come from this program (a contact's values,
// names, messages) goes through html_escape before it reaches a page or an exported file.
#pragma once

#include <string>
#include <string_view>

namespace mgdpr {

// &, <, >, " and ' as entities: safe in element text and in quoted attribute values.
std::string html_escape(std::string_view text);

}  // namespace mgdpr
