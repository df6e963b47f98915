// SPDX-License-Identifier: GPL-3.0-or-later
// libFuzzer target: the CSV reader of `guard --check-file` (src/core/csv.cpp). The records'
// raw bytes are the input, in order, without a gap (a filtered copy is the file minus whole
// records); line numbers never go down.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "core/csv.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  for (char delimiter : {',', ';', '\t'}) {
    auto records = mgdpr::parse_csv(text, delimiter);
    if (!records.ok()) continue;
    std::string joined;
    int64_t line = 0;
    for (const auto& record : *records) {
      joined.append(record.raw);
      if (record.line < line) std::abort();
      line = record.line;
    }
    // A byte order mark alone is an empty file: no records (CsvTest.EmptyTextHasNoRecords).
    if (joined != text && text != "\xEF\xBB\xBF") std::abort();
    if (!records->empty()) (void)mgdpr::find_csv_column(records->front(), "email");
  }
  return 0;
}
