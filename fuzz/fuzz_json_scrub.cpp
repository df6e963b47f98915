// SPDX-License-Identifier: GPL-3.0-or-later
// libFuzzer target: JSON column values (src/core/scrub.cpp, src/core/json.cpp): the scrub, the
// contact ids of a queued webhook payload, and the compressed form (the input is also tried as
// zlib data). A scrubbed document parses and is a fixed point of the scrub.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "core/json.h"
#include "core/scrub.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  auto scrubbed = mgdpr::scrub_json(input);
  if (scrubbed.ok()) {
    if (!mgdpr::parse_json(*scrubbed).ok()) std::abort();
    auto twice = mgdpr::scrub_json(*scrubbed);
    if (!twice.ok() || *twice != *scrubbed) std::abort();
  }
  (void)mgdpr::contact_ids_in_payload(input);
  (void)mgdpr::scrub_compressed_json(input);
  return 0;
}
