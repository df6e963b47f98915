// SPDX-License-Identifier: GPL-3.0-or-later
// The limits on every input that nests or expands: JSON documents, PHP serialize() values and
// zlib-compressed payloads, from Mautic's columns or a webhook request. A value beyond a limit
// is refused before any recursive code or large allocation sees it, so no single row or
// request can exhaust the stack or the memory; the caller names what it refused (never the
// value) and goes on. ARCHITECTURE.md ("Limits") lists them.
#pragma once

#include <cstddef>
#include <cstdint>

namespace mgdpr {

// Arrays and objects nested inside each other. Mautic's own values nest a handful of levels;
// every reader below checks this before it recurses, and recursion is bounded by it.
inline constexpr int kMaxNesting = 512;

// Bytes of one structured value read from a column (JSON or serialized text), and of what a
// compressed value may inflate to. Mautic's values are kilobytes; a larger one is refused
// rather than parsed into a tree many times its size.
inline constexpr std::size_t kMaxValueBytes = std::size_t{16} << 20;

}  // namespace mgdpr
