// SPDX-License-Identifier: GPL-3.0-or-later
#include "db/connection.h"

#include <mysql.h>
#include <mysqld_error.h>

#include <charconv>
#include <cstring>

namespace mgdpr::db {

namespace {

// Statement cache bounds: the engine uses a few dozen shapes; batch tails add a few more. The
// client library keeps per-parameter buffers for every prepared statement (about 100 bytes
// each), so batch-sized statements are also bounded by their parameters: a few MiB in all,
// whatever the number of contacts.
constexpr size_t kMaxCachedStatements = 256;
constexpr size_t kMaxCachedParams = 32768;

// Server messages that quote the offending value would carry personal data into logs.
bool message_quotes_a_value(unsigned code) {
  switch (code) {
    case ER_DUP_ENTRY:
    case ER_DUP_ENTRY_WITH_KEY_NAME:
    case ER_TRUNCATED_WRONG_VALUE:
    case ER_TRUNCATED_WRONG_VALUE_FOR_FIELD:
    case ER_WRONG_VALUE_FOR_VAR:
    case ER_INVALID_CHARACTER_STRING:
    case ER_CANNOT_CONVERT_CHARACTER:
      return true;
    default:
      return false;
  }
}

}  // namespace

struct Connection::PreparedStatement {
  MYSQL_STMT* handle = nullptr;
  ~PreparedStatement() {
    if (handle != nullptr) mysql_stmt_close(handle);
  }
};

std::string quote_identifier(std::string_view name) {
  std::string quoted = "`";
  for (char c : name) {
    if (c == '`') quoted += '`';
    quoted += c;
  }
  quoted += '`';
  return quoted;
}

std::string placeholders(size_t n) {
  std::string text;
  text.reserve(n * 3);
  for (size_t i = 0; i < n; ++i) text += (i == 0) ? "?" : ", ?";
  return text;
}

std::string join(const std::vector<std::string>& parts, std::string_view separator) {
  std::string joined;
  for (const auto& part : parts) {
    if (!joined.empty()) joined += separator;
    joined += part;
  }
  return joined;
}

std::optional<int64_t> cell_to_int(const Cell& cell) {
  if (!cell) return std::nullopt;
  int64_t value = 0;
  const char* end = cell->data() + cell->size();
  auto [ptr, ec] = std::from_chars(cell->data(), end, value);
  if (ec != std::errc() || ptr != end) return std::nullopt;
  return value;
}

Param key_param(const std::string& key) {
  auto as_int = cell_to_int(key);
  return as_int ? Param(*as_int) : Param(key);
}

Result<std::unique_ptr<Connection>> Connection::open(const ConnectParams& params) {
  MYSQL* handle = mysql_init(nullptr);
  if (handle == nullptr) return make_error("cannot initialise the MariaDB client library");
  unsigned timeout = params.connect_timeout_seconds;
  mysql_optionsv(handle, MYSQL_OPT_CONNECT_TIMEOUT, &timeout);
  mysql_optionsv(handle, MYSQL_SET_CHARSET_NAME, "utf8mb4");
  // Never read ~/.my.cnf or /etc/mysql: the config file is the one source of settings. No
  // CLIENT_FOUND_ROWS: an UPDATE counts the rows whose content changed, not the rows it matched.
  const bool use_socket = !params.socket.empty();
  MYSQL* connected = mysql_real_connect(
      handle, use_socket ? nullptr : params.host.c_str(), params.user.c_str(),
      params.password.c_str(), params.database.empty() ? nullptr : params.database.c_str(),
      use_socket ? 0 : params.port, use_socket ? params.socket.c_str() : nullptr,
      CLIENT_MULTI_STATEMENTS);
  if (connected == nullptr) {
    std::string where = use_socket ? fmt::format("socket {}", params.socket)
                                   : fmt::format("{}:{}", params.host, params.port);
    Error error = make_error(ErrorKind::kDatabase,
                             "cannot connect to MariaDB at {} as user '{}' (database '{}'): {}",
                             where, params.user, params.database, mysql_error(handle));
    mysql_close(handle);
    return error;
  }
  auto connection = std::unique_ptr<Connection>(new Connection(handle, params.database));
  // Strict mode: a value that does not fit is an error, never a silent truncation. A lock wait
  // ends after lock_wait_seconds (the caller runs the work again). Index
  // dives for every IN list: with a batch's hundreds of ids the server otherwise estimates
  // from index statistics and was seen scanning all of lead_ips_xref for 500 contacts.
  MGDPR_TRY(connection->execute(fmt::format(
      "SET SESSION sql_mode = CONCAT_WS(',', @@SESSION.sql_mode, 'STRICT_TRANS_TABLES'), "
      "time_zone = '+00:00', eq_range_index_dive_limit = 0, innodb_lock_wait_timeout = {}",
      params.lock_wait_seconds)));
  return connection;
}

Connection::Connection(st_mysql* handle, std::string database)
    : handle_(handle), database_(std::move(database)) {}

Connection::~Connection() {
  statements_.clear();
  mysql_close(handle_);
}

std::string Connection::server_version() const { return mysql_get_server_info(handle_); }

namespace {

// The server's answer as an Error carrying its number; a message that quotes a value is withheld.
Error database_error(std::string_view what, unsigned code, const char* message) {
  Error error = message_quotes_a_value(code)
                    ? make_error(ErrorKind::kDatabase,
                                 "{}: MariaDB error {} (the message quotes a value and is withheld)",
                                 what, code)
                    : make_error(ErrorKind::kDatabase, "{}: MariaDB error {}: {}", what, code,
                                 message);
  error.server_code = code;
  return error;
}

}  // namespace

Error Connection::server_error(std::string_view what) const {
  return database_error(what, mysql_errno(handle_), mysql_error(handle_));
}

Result<Connection::PreparedStatement*> Connection::prepare(std::string_view sql) {
  if (auto found = statements_.find(sql); found != statements_.end()) return found->second.get();
  if (statements_.size() >= kMaxCachedStatements || cached_params_ > kMaxCachedParams) {
    statements_.clear();
    cached_params_ = 0;
  }
  auto statement = std::make_unique<PreparedStatement>();
  statement->handle = mysql_stmt_init(handle_);
  if (statement->handle == nullptr) return make_error("cannot allocate a prepared statement");
  if (mysql_stmt_prepare(statement->handle, sql.data(), sql.size()) != 0) {
    return database_error("preparing a statement failed", mysql_stmt_errno(statement->handle),
                          mysql_stmt_error(statement->handle));
  }
  my_bool update_max_length = 1;
  mysql_stmt_attr_set(statement->handle, STMT_ATTR_UPDATE_MAX_LENGTH, &update_max_length);
  cached_params_ += mysql_stmt_param_count(statement->handle);
  auto* raw = statement.get();
  statements_.emplace(std::string(sql), std::move(statement));
  return raw;
}

namespace {

struct BoundParams {
  std::vector<MYSQL_BIND> binds;
  std::vector<long long> integers;
  std::vector<unsigned long> lengths;
};

void bind_params(std::span<const Param> params, BoundParams& bound) {
  bound.binds.assign(params.size(), MYSQL_BIND{});
  bound.integers.assign(params.size(), 0);
  bound.lengths.assign(params.size(), 0);
  for (size_t i = 0; i < params.size(); ++i) {
    MYSQL_BIND& bind = bound.binds[i];
    if (std::holds_alternative<std::nullptr_t>(params[i])) {
      bind.buffer_type = MYSQL_TYPE_NULL;
    } else if (const auto* integer = std::get_if<int64_t>(&params[i])) {
      bound.integers[i] = *integer;
      bind.buffer_type = MYSQL_TYPE_LONGLONG;
      bind.buffer = &bound.integers[i];
    } else {
      const auto& text = std::get<std::string>(params[i]);
      bound.lengths[i] = static_cast<unsigned long>(text.size());
      bind.buffer_type = MYSQL_TYPE_STRING;
      bind.buffer = const_cast<char*>(text.data());
      bind.buffer_length = static_cast<unsigned long>(text.size());
      bind.length = &bound.lengths[i];
    }
  }
}

}  // namespace

Result<Rows> Connection::query(std::string_view sql, std::span<const Param> params) {
  Rows result;
  if (params.empty()) {
    if (mysql_real_query(handle_, sql.data(), sql.size()) != 0) {
      return server_error("query failed");
    }
    MYSQL_RES* res = mysql_store_result(handle_);
    if (res == nullptr) {
      if (mysql_field_count(handle_) != 0) return server_error("reading a result failed");
      return result;
    }
    unsigned columns = mysql_num_fields(res);
    MYSQL_FIELD* fields = mysql_fetch_fields(res);
    for (unsigned c = 0; c < columns; ++c) result.columns.emplace_back(fields[c].name);
    while (MYSQL_ROW row = mysql_fetch_row(res)) {
      unsigned long* lengths = mysql_fetch_lengths(res);
      std::vector<Cell> cells(columns);
      for (unsigned c = 0; c < columns; ++c) {
        if (row[c] != nullptr) cells[c] = std::string(row[c], lengths[c]);
      }
      result.rows.push_back(std::move(cells));
    }
    mysql_free_result(res);
    return result;
  }

  auto prepared = prepare(sql);
  if (!prepared) return prepared.error();
  MYSQL_STMT* stmt = (*prepared)->handle;
  if (mysql_stmt_param_count(stmt) != params.size()) {
    return make_error("statement expects {} parameters, {} given", mysql_stmt_param_count(stmt),
                      params.size());
  }
  BoundParams bound;
  bind_params(params, bound);
  if (mysql_stmt_bind_param(stmt, bound.binds.data()) != 0 || mysql_stmt_execute(stmt) != 0 ||
      mysql_stmt_store_result(stmt) != 0) {
    Error error = database_error("query failed", mysql_stmt_errno(stmt), mysql_stmt_error(stmt));
    mysql_stmt_free_result(stmt);
    return error;
  }
  MYSQL_RES* meta = mysql_stmt_result_metadata(stmt);
  if (meta == nullptr) {
    mysql_stmt_free_result(stmt);
    return result;
  }
  unsigned columns = mysql_num_fields(meta);
  MYSQL_FIELD* fields = mysql_fetch_fields(meta);
  std::vector<MYSQL_BIND> out(columns);
  std::vector<std::string> buffers(columns);
  std::vector<unsigned long> lengths(columns);
  std::vector<my_bool> is_null(columns);
  for (unsigned c = 0; c < columns; ++c) {
    result.columns.emplace_back(fields[c].name);
    // max_length is filled because STMT_ATTR_UPDATE_MAX_LENGTH is set; numbers and dates
    // convert to text, which needs a little room beyond the binary width.
    buffers[c].resize(std::max<unsigned long>(fields[c].max_length, 64) + 1);
    out[c] = MYSQL_BIND{};
    out[c].buffer_type = MYSQL_TYPE_STRING;
    out[c].buffer = buffers[c].data();
    out[c].buffer_length = static_cast<unsigned long>(buffers[c].size());
    out[c].length = &lengths[c];
    out[c].is_null = &is_null[c];
  }
  mysql_free_result(meta);
  if (mysql_stmt_bind_result(stmt, out.data()) != 0) {
    mysql_stmt_free_result(stmt);
    return make_error("binding a result failed: {}", mysql_stmt_error(stmt));
  }
  while (true) {
    int status = mysql_stmt_fetch(stmt);
    if (status == MYSQL_NO_DATA) break;
    if (status == 1) {
      Error error = make_error("fetching a row failed: {}", mysql_stmt_error(stmt));
      mysql_stmt_free_result(stmt);
      return error;
    }
    std::vector<Cell> cells(columns);
    for (unsigned c = 0; c < columns; ++c) {
      if (is_null[c]) continue;
      if (lengths[c] > buffers[c].size()) {  // MYSQL_DATA_TRUNCATED for this column
        std::string full(lengths[c], '\0');
        MYSQL_BIND column_bind{};
        column_bind.buffer_type = MYSQL_TYPE_STRING;
        column_bind.buffer = full.data();
        column_bind.buffer_length = lengths[c];
        mysql_stmt_fetch_column(stmt, &column_bind, c, 0);
        cells[c] = std::move(full);
      } else {
        cells[c] = std::string(buffers[c].data(), lengths[c]);
      }
    }
    result.rows.push_back(std::move(cells));
  }
  mysql_stmt_free_result(stmt);
  return result;
}

Result<uint64_t> Connection::execute(std::string_view sql, std::span<const Param> params) {
  if (params.empty()) {
    if (mysql_real_query(handle_, sql.data(), sql.size()) != 0) {
      return server_error("statement failed");
    }
    if (MYSQL_RES* res = mysql_store_result(handle_)) mysql_free_result(res);
    return static_cast<uint64_t>(mysql_affected_rows(handle_));
  }
  auto prepared = prepare(sql);
  if (!prepared) return prepared.error();
  MYSQL_STMT* stmt = (*prepared)->handle;
  if (mysql_stmt_param_count(stmt) != params.size()) {
    return make_error("statement expects {} parameters, {} given", mysql_stmt_param_count(stmt),
                      params.size());
  }
  BoundParams bound;
  bind_params(params, bound);
  if (mysql_stmt_bind_param(stmt, bound.binds.data()) != 0 || mysql_stmt_execute(stmt) != 0) {
    return database_error("statement failed", mysql_stmt_errno(stmt), mysql_stmt_error(stmt));
  }
  uint64_t affected = mysql_stmt_affected_rows(stmt);
  mysql_stmt_free_result(stmt);
  return affected;
}

Status Connection::execute_script(std::string_view sql) {
  if (mysql_real_query(handle_, sql.data(), sql.size()) != 0) {
    return server_error("script failed");
  }
  // Drain every result so the connection is usable afterwards; stop at the first error.
  while (true) {
    if (MYSQL_RES* res = mysql_store_result(handle_)) mysql_free_result(res);
    int next = mysql_next_result(handle_);
    if (next == -1) break;
    if (next > 0) return server_error("script failed");
  }
  return {};
}

Status Connection::begin() {
  auto done = execute("START TRANSACTION");
  if (!done) return done.error();
  return {};
}

Status Connection::commit() {
  if (mysql_commit(handle_) != 0) return server_error("commit failed");
  return {};
}

bool Connection::in_transaction() const {
  unsigned int status = 0;
  mariadb_get_infov(handle_, MARIADB_CONNECTION_SERVER_STATUS, &status);
  return (status & SERVER_STATUS_IN_TRANS) != 0;
}

Status Connection::rollback() {
  if (mysql_rollback(handle_) != 0) return server_error("rollback failed");
  return {};
}

Result<std::optional<std::string>> Connection::query_value(std::string_view sql,
                                                           std::span<const Param> params) {
  auto rows = query(sql, params);
  if (!rows) return rows.error();
  if (rows->rows.empty() || rows->rows[0].empty()) return std::optional<std::string>{};
  return rows->rows[0][0];
}

Result<Transaction> Transaction::begin(Connection& connection) {
  MGDPR_TRY(connection.begin());
  return Transaction(connection);
}

Transaction::Transaction(Transaction&& other) noexcept : connection_(other.connection_) {
  other.connection_ = nullptr;
}

Transaction::~Transaction() {
  if (connection_ != nullptr) (void)connection_->rollback();
}

Status Transaction::commit() {
  Connection* connection = connection_;
  connection_ = nullptr;
  return connection->commit();
}

}  // namespace mgdpr::db
