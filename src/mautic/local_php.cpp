// SPDX-License-Identifier: GPL-3.0-or-later
#include "mautic/local_php.h"

#include <fmt/format.h>

#include "core/php_array.h"

namespace mgdpr::mautic {

namespace {

// "%env(NAME)%" (Symfony's placeholder, which Mautic resolves): the name, or nothing.
std::optional<std::string> env_placeholder(std::string_view text) {
  constexpr std::string_view kOpen = "%env(";
  constexpr std::string_view kClose = ")%";
  if (!text.starts_with(kOpen) || !text.ends_with(kClose)) return std::nullopt;
  std::string_view name = text.substr(kOpen.size(), text.size() - kOpen.size() - kClose.size());
  if (const size_t colon = name.rfind(':'); colon != std::string_view::npos) {
    name = name.substr(colon + 1);  // %env(resolve:NAME)%, %env(string:NAME)%
  }
  if (name.empty()) return std::nullopt;
  for (char c : name) {
    if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) {
      return std::nullopt;
    }
  }
  return std::string(name);
}

class Reader {
 public:
  Reader(const PhpValue& parameters, std::string_view path, MauticDatabaseSettings& settings)
      : parameters_(parameters), path_(path), settings_(settings) {}

  // The text of a setting: nullopt when it is missing or null; an error when it is code.
  Result<std::optional<std::string>> text(std::string_view name) {
    const PhpValue* value = parameters_.find(name);
    if (value == nullptr || value->kind == PhpValue::Kind::kNull) return std::optional<std::string>();
    if (value->kind == PhpValue::Kind::kCode) {
      return make_error(ErrorKind::kConfig,
                        "{}:{}: {} is PHP code, not a literal value (mautic-gdpr runs no PHP); "
                        "write the value into the config yourself",
                        path_, value->line, name);
    }
    if (value->kind == PhpValue::Kind::kArray) {
      return make_error(ErrorKind::kConfig, "{}:{}: {} is an array, not a single value", path_,
                        value->line, name);
    }
    return std::optional<std::string>(value->text);
  }

  std::string from(std::string_view name) const {
    const PhpValue* value = parameters_.find(name);
    return fmt::format("{}:{} ({})", path_, value != nullptr ? value->line : 0, name);
  }

  void take(std::string_view key, std::string value, std::string_view name) {
    settings_.taken.push_back({std::string(key), std::move(value), from(name)});
  }

 private:
  const PhpValue& parameters_;
  std::string_view path_;
  MauticDatabaseSettings& settings_;
};

}  // namespace

std::vector<std::string> local_php_candidates(std::string_view mautic_dir) {
  std::string dir(mautic_dir);
  if (dir.ends_with(".php")) return {dir};
  while (dir.size() > 1 && dir.back() == '/') dir.pop_back();
  return {dir + "/config/local.php", dir + "/app/config/local.php",
          dir + "/../config/local.php"};
}

Result<MauticDatabaseSettings> read_local_php(std::string_view source, std::string_view path) {
  MGDPR_ASSIGN_OR_RETURN(PhpValue parameters,
                         read_php_array_assignment(source, "parameters", path));
  MauticDatabaseSettings settings;
  DatabaseConfig& database = settings.database;
  Reader reader(parameters, path, settings);

  MGDPR_ASSIGN_OR_RETURN(auto driver, reader.text("db_driver"));
  if (driver && *driver != "pdo_mysql" && *driver != "mysqli") {
    return make_error(ErrorKind::kConfig,
                      "{}: db_driver is {:?}; mautic-gdpr works with MariaDB and MySQL "
                      "(pdo_mysql)",
                      reader.from("db_driver"), *driver);
  }

  MGDPR_ASSIGN_OR_RETURN(auto host, reader.text("db_host"));
  MGDPR_ASSIGN_OR_RETURN(auto socket, reader.text("db_socket"));
  if (!socket) {
    MGDPR_ASSIGN_OR_RETURN(socket, reader.text("db_unix_socket"));
  }
  // A socket path: in its own setting, as the host, or mysqli's "localhost:/path".
  std::string socket_from = socket ? (parameters.find("db_socket") ? "db_socket" : "db_unix_socket")
                                   : "db_host";
  if (!socket && host) {
    if (host->starts_with("/")) {
      socket = host;
    } else if (const size_t colon = host->find(":/"); colon != std::string::npos) {
      socket = host->substr(colon + 1);
    }
  }
  if (socket && !socket->empty()) {
    database.socket = *socket;
    reader.take("database.socket", *socket, socket_from);
  } else if (host && !host->empty()) {
    database.host = *host;
    reader.take("database.host", *host, "db_host");
    if (*host == "localhost") {
      settings.notes.push_back(
          "db_host is localhost: like PHP, MariaDB's client library then connects through the "
          "default socket (/run/mysqld/mysqld.sock on Debian); write socket = \"...\" if Mautic's "
          "PHP uses another one (pdo_mysql.default_socket)");
    }
  }

  MGDPR_ASSIGN_OR_RETURN(auto port, reader.text("db_port"));
  if (port && !port->empty() && database.socket.empty()) {
    int number = 0;
    bool valid = port->size() <= 5;
    for (char c : *port) {
      valid = valid && c >= '0' && c <= '9';
      if (valid) number = number * 10 + (c - '0');
    }
    if (!valid || number < 1 || number > 65535) {
      return make_error(ErrorKind::kConfig, "{}: db_port is not a port number (1 to 65535)",
                        reader.from("db_port"));
    }
    database.port = number;
    reader.take("database.port", std::to_string(number), "db_port");
  }

  for (auto [name, key, target] :
       {std::tuple{"db_name", "database.name", &database.name},
        std::tuple{"db_user", "database.user", &database.user}}) {
    MGDPR_ASSIGN_OR_RETURN(auto value, reader.text(name));
    if (!value || value->empty()) {
      return make_error(ErrorKind::kConfig, "{}: {} is missing or empty; is this Mautic's local.php?",
                        path, name);
    }
    *target = *value;
    reader.take(key, *value, name);
  }

  MGDPR_ASSIGN_OR_RETURN(auto prefix, reader.text("db_table_prefix"));
  database.table_prefix = prefix.value_or("");
  reader.take("database.table_prefix", database.table_prefix,
              "db_table_prefix");

  MGDPR_ASSIGN_OR_RETURN(auto password, reader.text("db_password"));
  if (password) {
    if (auto variable = env_placeholder(*password)) {
      database.password_env = *variable;
      reader.take("database.password_env", *variable, "db_password");
    } else if (!password->empty()) {
      settings.password = std::move(*password);
      settings.password_from = reader.from("db_password");
    }
  }
  return settings;
}

}  // namespace mgdpr::mautic
