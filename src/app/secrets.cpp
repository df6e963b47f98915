// SPDX-License-Identifier: GPL-3.0-or-later
#include "app/secrets.h"

#include <fcntl.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

#include "core/normalize.h"

namespace mgdpr::app {

namespace {

Result<std::string> read_file(const std::string& path, std::string_view what,
                              std::string_view config_where) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return make_error(ErrorKind::kConfig, "{}: cannot read the {} `{}`: {}", config_where, what,
                      path, std::strerror(errno));
  }
  std::ostringstream content;
  content << in.rdbuf();
  return content.str();
}

bool is_hex(std::string_view text) {
  return !text.empty() && text.size() % 2 == 0 &&
         text.find_first_not_of("0123456789abcdefABCDEF") == std::string_view::npos;
}

std::string from_hex(std::string_view hex) {
  std::string bytes;
  bytes.reserve(hex.size() / 2);
  for (size_t i = 0; i < hex.size(); i += 2) {
    bytes += static_cast<char>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16));
  }
  return bytes;
}

}  // namespace

Result<Config> load_config_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return make_error(ErrorKind::kConfig,
                      "cannot read the config file `{}`: {}; pass --config PATH, or print an "
                      "example with `mautic-gdpr init-config`",
                      path, std::strerror(errno));
  }
  std::ostringstream content;
  content << in.rdbuf();
  auto config = parse_config(content.str(), path);
  if (!config) return Error{config.error().message, ErrorKind::kConfig};
  return config;
}

Result<HashKey> load_hash_key(const Config& config) {
  const std::string& path = config.key_file;
  const std::string where = config.where("hashing.key_file");
  struct stat info {};
  if (::stat(path.c_str(), &info) != 0) {
    return make_error(ErrorKind::kConfig,
                      "{}: the key file `{}` does not exist ({}); create it with "
                      "`mautic-gdpr keygen --out {}`, or point key_file at your key",
                      where, path, std::strerror(errno), path);
  }
  if (!S_ISREG(info.st_mode)) {
    return make_error(ErrorKind::kConfig, "{}: the key file `{}` is not a regular file", where,
                      path);
  }
  if ((info.st_mode & 077) != 0) {
    return make_error(ErrorKind::kConfig,
                      "{}: the key file `{}` can be read by group or others (mode {:04o}); "
                      "run `chmod 600 {}`",
                      where, path, info.st_mode & 07777, path);
  }
  auto content = read_file(path, "key file", where);
  if (!content) return content.error();
  std::string_view text = trim(*content);
  std::string bytes = is_hex(text) ? from_hex(text) : *content;
  auto key = HashKey::from_bytes(bytes);
  if (!key) return Error{where + ": " + key.error().message, ErrorKind::kConfig};
  return key;
}

Result<std::optional<std::string>> load_secret(const Config& config, const SecretSource& source) {
  if (!source.env.empty()) {
    const char* value = std::getenv(source.env.c_str());
    if (value == nullptr) {
      return make_error(ErrorKind::kConfig,
                        "{}: the environment variable {} is not set; export it with the {}, or "
                        "use {}",
                        config.where(source.env_key), source.env, source.what,
                        source.file_key.substr(source.file_key.find('.') + 1));
    }
    return std::optional<std::string>(value);
  }
  if (source.file.empty()) return std::optional<std::string>();
  const std::string where = config.where(source.file_key);
  struct stat info {};
  if (::stat(source.file.c_str(), &info) == 0 && (info.st_mode & 007) != 0) {
    return make_error(ErrorKind::kConfig,
                      "{}: the {} `{}` can be read by everyone (mode {:04o}); run `chmod o-rwx {}`",
                      where, source.file_kind, source.file, info.st_mode & 07777, source.file);
  }
  auto content = read_file(source.file, source.file_kind, where);
  if (!content) return content.error();
  // The first line is the secret; a trailing newline is not part of it.
  return std::optional<std::string>(content->substr(0, content->find_first_of("\r\n")));
}

Result<std::string> load_database_password(const Config& config) {
  const DatabaseConfig& database = config.database;
  auto password =
      load_secret(config, {database.password_env, "database.password_env", database.password_file,
                           "database.password_file", "database password", "password file"});
  if (!password) return password.error();
  return password->value_or("");
}

Status write_new_file(const std::string& path, std::string_view content, unsigned mode,
                      std::string_view if_exists) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
  if (fd < 0) {
    if (errno == EEXIST) {
      return make_error(ErrorKind::kUsage, "`{}` already exists and is left as it is: {}", path,
                        if_exists);
    }
    return make_error(ErrorKind::kUsage, "cannot create `{}`: {}", path, std::strerror(errno));
  }
  ::fchmod(fd, mode);  // whatever the umask said
  size_t written = 0;
  while (written < content.size()) {
    const ssize_t n = ::write(fd, content.data() + written, content.size() - written);
    if (n <= 0) break;
    written += size_t(n);
  }
  const int error = written == content.size() ? 0 : errno;
  const bool synced = ::fsync(fd) == 0;
  ::close(fd);
  if (written != content.size() || !synced) {
    ::unlink(path.c_str());
    return make_error("writing `{}` failed: {}", path, std::strerror(error != 0 ? error : EIO));
  }
  return {};
}

Status write_new_key(const std::string& path) {
  if (sodium_init() < 0) return make_error("libsodium could not be initialised");
  unsigned char bytes[kMinKeyBytes];
  randombytes_buf(bytes, sizeof bytes);
  std::string hex = to_hex(std::string_view(reinterpret_cast<const char*>(bytes), sizeof bytes));
  sodium_memzero(bytes, sizeof bytes);
  hex += '\n';
  // Never replace a key: a lost key makes every earlier hash unfindable.
  Status written = write_new_file(path, hex, 0600,
                                  "replacing a key makes every earlier hash unfindable; choose "
                                  "another path");
  sodium_memzero(hex.data(), hex.size());
  return written;
}

}  // namespace mgdpr::app
