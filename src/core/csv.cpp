// SPDX-License-Identifier: GPL-3.0-or-later
#include "core/csv.h"

#include "core/normalize.h"

namespace mgdpr {

namespace {

constexpr std::string_view kByteOrderMark = "\xEF\xBB\xBF";

bool is_line_break(char c) { return c == '\n' || c == '\r'; }

char ascii_lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

bool equal_ignoring_case(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (ascii_lower(a[i]) != ascii_lower(b[i])) return false;
  }
  return true;
}

}  // namespace

Result<std::vector<CsvRecord>> parse_csv(std::string_view text, char delimiter) {
  if (delimiter == '"' || is_line_break(delimiter)) {
    return make_error(ErrorKind::kUsage, "a CSV delimiter cannot be a double quote or a line break; use e.g. , or ;");
  }
  std::vector<CsvRecord> records;
  // A byte order mark (spreadsheet exports) is no part of the first header, but stays in raw.
  size_t pos = text.starts_with(kByteOrderMark) ? kByteOrderMark.size() : 0;
  int64_t line = 1;
  // A line break is LF, CRLF or a lone CR; returns its length at `at` (0 when none).
  auto break_length = [&text](size_t at) -> size_t {
    if (at >= text.size() || !is_line_break(text[at])) return 0;
    return (text[at] == '\r' && at + 1 < text.size() && text[at + 1] == '\n') ? 2 : 1;
  };

  while (pos < text.size()) {
    CsvRecord record;
    record.line = line;
    const size_t start = records.empty() ? 0 : pos;
    for (bool record_done = false; !record_done;) {
      std::string field;
      if (pos < text.size() && text[pos] == '"') {
        const int64_t opened_on = line;
        ++pos;
        for (;;) {
          if (pos >= text.size()) {
            return make_error(ErrorKind::kUsage, "line {}: a quoted field is never closed (a \" is missing)",
                              opened_on);
          }
          if (text[pos] == '"') {
            if (pos + 1 < text.size() && text[pos + 1] == '"') {
              field += '"';
              pos += 2;
              continue;
            }
            ++pos;
            break;
          }
          if (size_t length = break_length(pos); length > 0) {
            field.append(text.substr(pos, length));
            pos += length;
            ++line;
            continue;
          }
          field += text[pos++];
        }
      }
      // Unquoted text, or text after a closing quote: kept as written, like spreadsheets do.
      while (pos < text.size() && text[pos] != delimiter && !is_line_break(text[pos])) {
        field += text[pos++];
      }
      record.fields.push_back(std::move(field));
      if (pos >= text.size()) {
        record_done = true;
      } else if (text[pos] == delimiter) {
        ++pos;
      } else {
        pos += break_length(pos);
        ++line;
        record_done = true;
      }
    }
    record.raw = text.substr(start, pos - start);
    records.push_back(std::move(record));
  }
  return records;
}

std::optional<size_t> find_csv_column(const CsvRecord& header, std::string_view name) {
  for (size_t i = 0; i < header.fields.size(); ++i) {
    if (equal_ignoring_case(trim(header.fields[i]), trim(name))) return i;
  }
  return std::nullopt;
}

}  // namespace mgdpr
