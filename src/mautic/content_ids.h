// SPDX-License-Identifier: GPL-3.0-or-later
// Contact ids named inside a row's content, for the locations whose rows no column ties to a
// contact (Link::kPayload): a Mautic webhook payload, a Symfony messenger envelope, the links
// of a notification. Pure; the readers that select rows by content call contact_ids_in().
#pragma once

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <string_view>

#include "core/result.h"
#include "mautic/locations.h"

namespace mgdpr::mautic {

// Ids of every link to a contact's page in HTML text: ".../s/contacts/view/<id>" (Mautic's
// route for a contact, with or without index.php or a sub-directory in front).
std::set<int64_t> contact_ids_in_links(std::string_view html);

// Ids a messenger envelope's messages carry under `leadId` (a queued page hit's property, a
// queued email's metadata per recipient), at any depth. The body is as Symfony's
// PhpSerializer stored it: addslashes(serialize($envelope)), base64 when that is not UTF-8.
Result<std::set<int64_t>> contact_ids_in_messenger_body(std::string_view body);

// The ids by the location's format. `content` is the link column's value; `compressed` the
// webhook queue's zlib copy, read when the plain payload is NULL.
Result<std::set<int64_t>> contact_ids_in(Payload format, const std::optional<std::string>& content,
                                         const std::optional<std::string>& compressed = {});

}  // namespace mgdpr::mautic
