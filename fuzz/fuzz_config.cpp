// SPDX-License-Identifier: GPL-3.0-or-later
// libFuzzer target: the TOML config parser (src/core/config.cpp). Any text gives a Config or an
// error; an error never repeats a value: a canary planted in a value ("hunter2Canary", which is
// no word of any vocabulary) must not appear in the message.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "core/config.h"

namespace {

constexpr std::string_view kCanary = "hunter2Canary";

// True when every canary in the text stands after the `=` of its line: in a value. Keys are
// names and are shown on purpose (`unknown key `emial``); only values must never be.
bool canary_only_in_values(std::string_view text) {
  bool any = false;
  for (size_t at = text.find(kCanary); at != std::string_view::npos;
       at = text.find(kCanary, at + 1)) {
    const size_t line_start =
        text.rfind('\n', at) == std::string_view::npos ? 0 : text.rfind('\n', at) + 1;
    const size_t equals = text.find('=', line_start);
    if (equals == std::string_view::npos || equals > at) return false;
    any = true;
  }
  return any;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto config = mgdpr::parse_config(text, "fuzz.toml");
  if (!config.ok() && canary_only_in_values(text) &&
      config.error().message.find(kCanary) != std::string::npos) {
    std::abort();  // a value was echoed
  }
  return 0;
}
