// SPDX-License-Identifier: GPL-3.0-or-later
// The config text after a key rotation: key_file names the new key, and the old key goes under
// [hashing.keyring] by the start of its fingerprint. Only those two places of the text change;
// comments, order and every other line stay as the admin wrote them. Pure: text in, text out.
#pragma once

#include <string>
#include <string_view>

#include "core/config.h"
#include "core/result.h"

namespace mgdpr {

// How many hex digits of a fingerprint the keyring line carries.
inline constexpr size_t kKeyringFingerprintDigits = 16;

// `config` is `text` parsed. The result parses to a config whose key_file is new_key_file and
// whose keyring holds old_fingerprint (its first kKeyringFingerprintDigits) = old_key_file
// besides the entries it had; an error says why the text could not be changed that way (then
// the admin edits it by hand).
Result<std::string> config_with_rotated_key(std::string_view text, const Config& config,
                                            std::string_view new_key_file,
                                            std::string_view old_fingerprint,
                                            std::string_view old_key_file);

}  // namespace mgdpr
