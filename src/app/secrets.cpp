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

#include "core/key_rotation.h"
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

namespace {

// A key file: a regular file only its owner can read, hex text (as keygen writes it) or raw
// bytes. `where` is the config line that names it.
Result<HashKey> read_key_file(const std::string& path, const std::string& where) {
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
  sodium_memzero(bytes.data(), bytes.size());
  if (!key) return Error{where + ": " + key.error().message, ErrorKind::kConfig};
  return key;
}

}  // namespace

Result<HashKey> load_hash_key(const Config& config) {
  return read_key_file(config.key_file, config.where("hashing.key_file"));
}

Result<KeyRing> load_key_ring(const Config& config) {
  MGDPR_ASSIGN_OR_RETURN(HashKey active, load_hash_key(config));
  KeyRing ring(std::move(active));
  for (const KeyringEntry& entry : config.keyring) {
    const std::string where = config.where("hashing.keyring." + entry.fingerprint);
    MGDPR_ASSIGN_OR_RETURN(HashKey key, read_key_file(entry.file, where));
    const std::string fingerprint = key.fingerprint();
    if (fingerprint == ring.active().fingerprint) {
      return make_error(ErrorKind::kConfig,
                        "{}: `{}` is the active key ([hashing] key_file), not an older one; "
                        "remove this line",
                        where, entry.file);
    }
    if (!fingerprint.starts_with(entry.fingerprint)) {
      return make_error(ErrorKind::kConfig,
                        "{}: the key in `{}` has the fingerprint {}..., not {}...: the line "
                        "names another key than its file holds; write {} = \"{}\" if this "
                        "file is the key you mean",
                        where, entry.file, fingerprint.substr(0, 16), entry.fingerprint,
                        fingerprint.substr(0, 16), entry.file);
    }
    ring.add_older(std::move(key));
  }
  return ring;
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

namespace mgdpr::app {

namespace {

// Replaces the file with `text` in one rename: a crash leaves the old or the new file, never
// half of one. The new file gets the old one's mode and (where allowed) owner.
Status replace_file(const std::string& path, std::string_view text) {
  struct stat info {};
  if (::stat(path.c_str(), &info) != 0) {
    return make_error("cannot read `{}`: {}", path, std::strerror(errno));
  }
  const std::string temporary = path + ".mautic-gdpr-new";
  const int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
                        info.st_mode & 07777);
  if (fd < 0) {
    return make_error("cannot create `{}` next to the config: {}", temporary,
                      std::strerror(errno));
  }
  ::fchmod(fd, info.st_mode & 07777);
  (void)::fchown(fd, info.st_uid, info.st_gid);  // only root may; the mode is what matters
  size_t written = 0;
  while (written < text.size()) {
    const ssize_t n = ::write(fd, text.data() + written, text.size() - written);
    if (n <= 0) break;
    written += size_t(n);
  }
  const bool complete = written == text.size() && ::fsync(fd) == 0;
  ::close(fd);
  if (!complete || ::rename(temporary.c_str(), path.c_str()) != 0) {
    const std::string reason = std::strerror(errno);
    ::unlink(temporary.c_str());
    return make_error("cannot replace `{}`: {}", path, reason);
  }
  return {};
}

}  // namespace

Result<KeyRotation> rotate_key(const std::string& config_path, const std::string& new_key_path) {
  MGDPR_ASSIGN_OR_RETURN(Config config, load_config_file(config_path));
  // The current key must be at hand (and every older one sound): a rotation never loses one.
  MGDPR_ASSIGN_OR_RETURN(KeyRing ring, load_key_ring(config));
  std::ifstream in(config_path, std::ios::binary);
  std::ostringstream content;
  content << in.rdbuf();
  KeyRotation rotation;
  rotation.old_fingerprint = ring.active().fingerprint;
  rotation.old_key_file = config.key_file;
  // The new config text is made (and checked) before anything is written.
  MGDPR_ASSIGN_OR_RETURN(std::string rotated,
                         config_with_rotated_key(content.str(), config, new_key_path,
                                                 rotation.old_fingerprint, config.key_file));
  MGDPR_TRY(write_new_key(new_key_path));
  Config written_config = config;
  written_config.key_file = new_key_path;
  MGDPR_ASSIGN_OR_RETURN(HashKey new_key, load_hash_key(written_config));
  rotation.new_fingerprint = new_key.fingerprint();
  if (Status replaced = replace_file(config_path, rotated); !replaced) {
    return make_error(
        "{}; the new key is in `{}`: edit the config by hand, key_file = \"{}\" under "
        "[hashing], and {} = \"{}\" under [hashing.keyring]",
        replaced.error().message, new_key_path, new_key_path,
        rotation.old_fingerprint.substr(0, kKeyringFingerprintDigits), config.key_file);
  }
  return rotation;
}

}  // namespace mgdpr::app
