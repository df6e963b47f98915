// SPDX-License-Identifier: GPL-3.0-or-later
// A CSV reader for files an admin is about to import into Mautic (RFC 4180: a field in double
// quotes may hold the delimiter, line breaks, and "" for one quote). Every record keeps its
// exact bytes, so a filtered copy of a file is the original minus whole records.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace mgdpr {

struct CsvRecord {
  std::vector<std::string> fields;
  int64_t line = 0;  // 1-based line of the file where the record starts
  // The record's exact bytes with its line break (the last record may have none). A view into
  // the text given to parse_csv, which must outlive it.
  std::string_view raw;

  // A line with nothing on it (one empty field): not a row of data.
  bool blank() const { return fields.size() == 1 && fields[0].empty(); }
};

// Splits text into records; a UTF-8 byte order mark at the start is skipped (it stays in the
// first record's raw bytes). Lenient where spreadsheets are (a quote inside an unquoted field,
// text after a closing quote: both kept as written); an unclosed quoted field is an error
// naming the line it starts on. Messages never quote the content: it is personal data.
Result<std::vector<CsvRecord>> parse_csv(std::string_view text, char delimiter = ',');

// The index of the column whose header is name (trimmed, ASCII case-insensitive).
std::optional<size_t> find_csv_column(const CsvRecord& header, std::string_view name);

}  // namespace mgdpr
