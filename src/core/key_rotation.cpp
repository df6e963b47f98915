// SPDX-License-Identifier: GPL-3.0-or-later
#include "core/key_rotation.h"

#include <algorithm>
#include <vector>

namespace mgdpr {
namespace {

// A TOML basic string holding `value`.
std::string toml_string(std::string_view value) {
  std::string quoted = "\"";
  for (char c : value) {
    if (c == '"' || c == '\\') quoted += '\\';
    quoted += c;
  }
  return quoted + "\"";
}

// The text split after each line break, so that joining the pieces gives the text back.
std::vector<std::string> split_lines(std::string_view text) {
  std::vector<std::string> lines;
  size_t start = 0;
  while (start < text.size()) {
    const size_t end = text.find('\n', start);
    const size_t stop = end == std::string_view::npos ? text.size() : end + 1;
    lines.emplace_back(text.substr(start, stop - start));
    start = stop;
  }
  return lines;
}

// The line with its `key = "..."` (or '...') value replaced; false when the line does not
// hold the key's string value where expected.
bool replace_string_value(std::string& line, std::string_view key, std::string_view value) {
  const size_t name = line.find(key);
  if (name == std::string::npos) return false;
  const size_t equals = line.find('=', name + key.size());
  if (equals == std::string::npos) return false;
  const size_t open = line.find_first_of("\"'", equals);
  if (open == std::string::npos) return false;
  size_t close = open + 1;
  if (line[open] == '"') {
    while (close < line.size() && line[close] != '"') close += line[close] == '\\' ? 2 : 1;
  } else {
    close = line.find('\'', close);
  }
  if (close == std::string::npos || close >= line.size()) return false;
  line.replace(open, close - open + 1, toml_string(value));
  return true;
}

}  // namespace

Result<std::string> config_with_rotated_key(std::string_view text, const Config& config,
                                            std::string_view new_key_file,
                                            std::string_view old_fingerprint,
                                            std::string_view old_key_file) {
  const std::string fingerprint(old_fingerprint.substr(0, kKeyringFingerprintDigits));
  const std::string entry =
      fmt::format("{} = {}\n", fingerprint, toml_string(old_key_file));
  const std::string key_line = fmt::format("key_file = {}\n", toml_string(new_key_file));
  std::vector<std::string> lines = split_lines(text);
  if (!lines.empty() && !lines.back().ends_with('\n')) lines.back() += '\n';
  auto at_line = [&](int line) -> std::string& { return lines[size_t(line - 1)]; };
  auto valid_line = [&](int line) { return line > 0 && size_t(line) <= lines.size(); };

  // Edits from the bottom up, so the line numbers of the ones above stay right.
  const int key_file_line = config.line_of("hashing.key_file");
  const int hashing_line = config.line_of("hashing");
  const int keyring_line = config.line_of("hashing.keyring");
  const bool has_entry = std::any_of(config.keyring.begin(), config.keyring.end(),
                                     [&](const KeyringEntry& e) { return e.fingerprint == fingerprint; });
  std::vector<std::pair<int, std::string>> inserts;  // after line N (0: at the top)
  if (!has_entry) {
    if (valid_line(keyring_line)) {
      inserts.emplace_back(keyring_line, entry);
    } else {
      lines.push_back("\n[hashing.keyring]\n" + entry);
    }
  }
  if (valid_line(key_file_line)) {
    if (!replace_string_value(at_line(key_file_line), "key_file", new_key_file)) {
      return make_error("{}: key_file is not a plain string on its line", config.where("hashing.key_file"));
    }
  } else if (valid_line(hashing_line)) {
    inserts.emplace_back(hashing_line, key_line);
  } else {
    inserts.emplace_back(0, "[hashing]\n" + key_line + "\n");
  }
  std::sort(inserts.begin(), inserts.end(),
            [](const auto& a, const auto& b) { return a.first > b.first; });
  for (const auto& [after, added] : inserts) {
    lines.insert(lines.begin() + after, added);
  }
  std::string result;
  for (const auto& line : lines) result += line;

  // The edit is only as good as what it parses to.
  auto reparsed = parse_config(result, config.path);
  if (!reparsed) return Error{reparsed.error().message, ErrorKind::kConfig};
  const bool listed = std::any_of(
      reparsed->keyring.begin(), reparsed->keyring.end(), [&](const KeyringEntry& e) {
        return e.fingerprint == fingerprint && e.file == old_key_file;
      });
  if (reparsed->key_file != new_key_file || !listed ||
      reparsed->keyring.size() != config.keyring.size() + (has_entry ? 0 : 1)) {
    return make_error("{}: the key lines of this config could not be changed safely",
                      config.path);
  }
  return result;
}

}  // namespace mgdpr
