// SPDX-License-Identifier: GPL-3.0-or-later
// The thin layer over MariaDB Connector/C. Values travel as bound parameters of server-side
// prepared statements, never spliced into SQL text; identifiers go through quote_identifier().
// Errors are Results whose messages never carry a value (server messages that quote data are
// reduced to their kind).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "core/result.h"

struct st_mysql;

namespace mgdpr::db {

struct ConnectParams {
  std::string host = "127.0.0.1";
  unsigned port = 3306;
  std::string socket;  // used instead of host/port when set
  std::string user;
  std::string password;
  std::string database;
  unsigned connect_timeout_seconds = 10;
  unsigned lock_wait_seconds = 10;  // the session's innodb_lock_wait_timeout
};

// A bound value. std::string carries text and binary alike.
using Param = std::variant<std::nullptr_t, int64_t, std::string>;

// One cell of a result: NULL or the value's text form.
using Cell = std::optional<std::string>;

struct Rows {
  std::vector<std::string> columns;
  std::vector<std::vector<Cell>> rows;

  bool empty() const { return rows.empty(); }
  size_t size() const { return rows.size(); }
};

// Backtick-quoted identifier. Callers check names against the live schema first; quoting
// keeps even an odd legal name from being read as SQL.
std::string quote_identifier(std::string_view name);

// "?, ?, ?" for n placeholders.
std::string placeholders(size_t n);

// Strings with a separator between them: column lists, conditions, messages.
std::string join(const std::vector<std::string>& parts, std::string_view separator);

class Connection {
 public:
  static Result<std::unique_ptr<Connection>> open(const ConnectParams& params);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // A statement returning rows. With no parameters the text protocol is used.
  Result<Rows> query(std::string_view sql, std::span<const Param> params = {});
  Result<Rows> query(std::string_view sql, std::initializer_list<Param> params) {
    return query(sql, std::span<const Param>(params.begin(), params.size()));
  }
  // A statement not returning rows; yields the number of affected rows.
  Result<uint64_t> execute(std::string_view sql, std::span<const Param> params = {});
  Result<uint64_t> execute(std::string_view sql, std::initializer_list<Param> params) {
    return execute(sql, std::span<const Param>(params.begin(), params.size()));
  }
  // Several statements separated by ';' (fixtures, DDL); no parameters.
  Status execute_script(std::string_view sql);

  Status begin();
  Status commit();
  Status rollback();
  // True while a transaction is open (the server's SERVER_STATUS_IN_TRANS): functions that
  // REQUIRE the caller's transaction check it.
  bool in_transaction() const;

  // The first cell of the first row, if any (NULL and "no row" are both nullopt).
  Result<std::optional<std::string>> query_value(std::string_view sql,
                                                 std::span<const Param> params = {});
  Result<std::optional<std::string>> query_value(std::string_view sql,
                                                 std::initializer_list<Param> params) {
    return query_value(sql, std::span<const Param>(params.begin(), params.size()));
  }

  std::string server_version() const;
  const std::string& database() const { return database_; }

 private:
  struct PreparedStatement;
  Connection(st_mysql* handle, std::string database);
  Result<PreparedStatement*> prepare(std::string_view sql);
  Error server_error(std::string_view what) const;

  st_mysql* handle_;
  std::string database_;
  // Prepared statements by SQL text: lookups and batch writes repeat the same few shapes.
  std::map<std::string, std::unique_ptr<PreparedStatement>, std::less<>> statements_;
  size_t cached_params_ = 0;  // parameters of the cached statements, all together
};

// Rolls back on scope exit unless committed: a contact is fully processed or untouched.
class Transaction {
 public:
  static Result<Transaction> begin(Connection& connection);
  Transaction(Transaction&& other) noexcept;
  Transaction& operator=(Transaction&&) = delete;
  Transaction(const Transaction&) = delete;
  ~Transaction();
  Status commit();

 private:
  explicit Transaction(Connection& connection) : connection_(&connection) {}
  Connection* connection_;
};

// Parses a cell as an integer; nullopt for NULL or non-numbers.
std::optional<int64_t> cell_to_int(const Cell& cell);

// A row key as read back, bound again: as an integer when it is one (an index seek on an
// integer key), as text otherwise (a GUID key).
Param key_param(const std::string& key);

}  // namespace mgdpr::db
