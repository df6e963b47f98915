// SPDX-License-Identifier: GPL-3.0-or-later
// libFuzzer target: PHP serialize() values (src/core/php_serialize.cpp) and their scrub
// (src/core/scrub.cpp). Whatever parses is written back canonically and reads the same again;
// a scrubbed value parses, and scrubbing it again changes nothing.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "core/php_serialize.h"
#include "core/scrub.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  auto value = mgdpr::php::parse(input);
  if (value.ok()) {
    const std::string written = mgdpr::php::serialize(*value);
    auto again = mgdpr::php::parse(written);
    if (!again.ok() || !(*again == *value)) std::abort();
  }
  auto scrubbed = mgdpr::scrub_php_serialized(input);
  if (scrubbed.ok()) {
    if (!mgdpr::php::parse(*scrubbed).ok()) std::abort();
    auto twice = mgdpr::scrub_php_serialized(*scrubbed);
    if (!twice.ok() || *twice != *scrubbed) std::abort();
  }
  return 0;
}
