// SPDX-License-Identifier: GPL-3.0-or-later
// The version, from CMake's project(VERSION) (MGDPR_VERSION is defined for every target).
#pragma once

#include <string_view>

namespace mgdpr {

inline constexpr std::string_view kVersion = MGDPR_VERSION;

}  // namespace mgdpr
