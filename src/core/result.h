// SPDX-License-Identifier: GPL-3.0-or-later
// The one error style inside the library: functions that can fail return Result<T>
// (a value or an Error). Exceptions and exit codes exist only at the edges (cli, server).
#pragma once

#include <fmt/format.h>

#include <string>
#include <utility>
#include <variant>

namespace mgdpr {

// What went wrong, in the terms the edge needs to pick an exit code or HTTP status.
enum class ErrorKind {
  kFailure,      // anything else
  kConfig,       // the configuration (or a secret file it names) is wrong
  kDatabase,     // the database could not be reached or answered with an error
  kKeyMismatch,  // the hash key is not the one this database was processed with
  kBusy,         // another sweep holds the lock
  kUsage,        // the request cannot be done as asked: a wrong argument or unusable input
                 // (a field that cannot be looked up, an empty CSV, a too short password)
};

// The kind as one word, for records and JSON: "config", "database", "key_mismatch", ...
inline std::string_view error_kind_name(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::kFailure: return "failure";
    case ErrorKind::kConfig: return "config";
    case ErrorKind::kDatabase: return "database";
    case ErrorKind::kKeyMismatch: return "key_mismatch";
    case ErrorKind::kBusy: return "busy";
    case ErrorKind::kUsage: return "usage";
  }
  return "failure";
}

struct Error {
  std::string message;
  ErrorKind kind = ErrorKind::kFailure;
  // The server's error number (ER_LOCK_DEADLOCK = 1213, ...) when the database answered with
  // one, 0 otherwise: callers compare numbers, never message text.
  unsigned server_code = 0;
};

// MariaDB error numbers the library reacts to.
inline constexpr unsigned kLockWaitTimeout = 1205;  // ER_LOCK_WAIT_TIMEOUT
inline constexpr unsigned kDeadlock = 1213;         // ER_LOCK_DEADLOCK
inline constexpr unsigned kRowIsReferenced = 1451;  // ER_ROW_IS_REFERENCED_2 (a foreign key)

// A transaction that failed this way was rolled back by the server and may simply be retried.
inline bool is_retryable(const Error& error) {
  return error.server_code == kDeadlock || error.server_code == kLockWaitTimeout;
}

// The server refused a statement for what it holds (a trigger, a constraint, a value that does
// not fit), as opposed to the connection or the server going away (client errors 2000-2999,
// shutdown, kill) or a lock: done in parts, the parts that are not refused may go through.
inline bool is_statement_error(const Error& error) {
  constexpr unsigned kServerShutdown = 1053;    // ER_SERVER_SHUTDOWN
  constexpr unsigned kQueryInterrupted = 1317;  // ER_QUERY_INTERRUPTED
  constexpr unsigned kConnectionKilled = 1927;  // ER_CONNECTION_KILLED
  const unsigned code = error.server_code;
  if (code < 1000 || (code >= 2000 && code < 3000) || is_retryable(error)) return false;
  return code != kServerShutdown && code != kQueryInterrupted && code != kConnectionKilled;
}

// The same error with context in front of its message ("page_hits: statement failed: ...").
// The context names identifiers (tables, columns, locations), never a value.
inline Error with_context(Error error, std::string_view context) {
  error.message = fmt::format("{}: {}", context, error.message);
  return error;
}

template <typename... Args>
Error make_error(fmt::format_string<Args...> format, Args&&... args) {
  return Error{fmt::format(format, std::forward<Args>(args)...)};
}

template <typename... Args>
Error make_error(ErrorKind kind, fmt::format_string<Args...> format, Args&&... args) {
  return Error{fmt::format(format, std::forward<Args>(args)...), kind};
}

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : state_(std::move(value)) {}  // NOLINT(google-explicit-constructor)
  Result(Error error) : state_(std::move(error)) {}  // NOLINT(google-explicit-constructor)

  bool ok() const { return state_.index() == 0; }
  explicit operator bool() const { return ok(); }

  T& value() & { return std::get<0>(state_); }
  const T& value() const& { return std::get<0>(state_); }
  T&& value() && { return std::get<0>(std::move(state_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  const Error& error() const { return std::get<1>(state_); }

 private:
  std::variant<T, Error> state_;
};

template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Error error) : error_(std::move(error)), failed_(true) {}  // NOLINT(google-explicit-constructor)

  bool ok() const { return !failed_; }
  explicit operator bool() const { return ok(); }
  const Error& error() const { return error_; }

 private:
  Error error_;
  bool failed_ = false;
};

using Status = Result<void>;

}  // namespace mgdpr

// Propagates an error from an expression yielding Result<...> or Status.
#define MGDPR_TRY(expr)                                             \
  do {                                                              \
    auto mgdpr_try_result_ = (expr);                                \
    if (!mgdpr_try_result_.ok()) return mgdpr_try_result_.error(); \
  } while (false)

// The same, with context (identifiers only) put in front of the message:
//   MGDPR_TRY_CONTEXT(apply(plan, table), "{}", table);  ->  "page_hits: statement failed: ..."
#define MGDPR_TRY_CONTEXT(expr, ...)                                          \
  do {                                                                        \
    auto mgdpr_try_result_ = (expr);                                          \
    if (!mgdpr_try_result_.ok()) {                                            \
      return ::mgdpr::with_context(mgdpr_try_result_.error(),                 \
                                   ::fmt::format(__VA_ARGS__));               \
    }                                                                         \
  } while (false)

#define MGDPR_CONCAT_INNER_(a, b) a##b
#define MGDPR_CONCAT_(a, b) MGDPR_CONCAT_INNER_(a, b)

// Declares `lhs` from the value of a Result, or returns its error:
//   MGDPR_ASSIGN_OR_RETURN(auto rows, connection.query(sql, params));
#define MGDPR_ASSIGN_OR_RETURN(lhs, expr) \
  MGDPR_ASSIGN_OR_RETURN_IMPL_(MGDPR_CONCAT_(mgdpr_result_, __LINE__), lhs, expr)
#define MGDPR_ASSIGN_OR_RETURN_IMPL_(result, lhs, expr) \
  auto result = (expr);                                 \
  if (!result.ok()) return result.error();              \
  lhs = std::move(result).value()
