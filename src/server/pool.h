// SPDX-License-Identifier: GPL-3.0-or-later
// Database connections for the request threads. A MariaDB connection must not be used by two
// threads at once, so each request leases one for its whole duration and gives it back.
// Connections are opened on first need (at most `size`), checked with a ping after sitting
// idle (the server closes idle ones after wait_timeout), and replaced after an error.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <vector>

#include "core/result.h"
#include "db/connection.h"

namespace mgdpr::server {

class ConnectionPool {
 public:
  using Opener = std::function<Result<std::unique_ptr<db::Connection>>()>;

  ConnectionPool(size_t size, Opener opener);

  class Lease {
   public:
    Lease(Lease&& other) noexcept;
    Lease& operator=(Lease&&) = delete;
    Lease(const Lease&) = delete;
    ~Lease();
    db::Connection& operator*() const { return *connection_; }
    db::Connection* operator->() const { return connection_.get(); }
    // The connection failed: close it instead of giving it back (a fresh one replaces it).
    void discard() { broken_ = true; }

   private:
    friend class ConnectionPool;
    Lease(ConnectionPool* pool, std::unique_ptr<db::Connection> connection);
    ConnectionPool* pool_;
    std::unique_ptr<db::Connection> connection_;
    bool broken_ = false;
  };

  // Waits up to `wait` for a connection; an error when none could be had.
  Result<Lease> acquire(std::chrono::milliseconds wait = std::chrono::seconds(30));

  // Hands over an already open connection (the one `serve` started with).
  void add(std::unique_ptr<db::Connection> connection);

  // Closes the idle connections; leased ones close when given back.
  void close_idle();

 private:
  struct Idle {
    std::unique_ptr<db::Connection> connection;
    std::chrono::steady_clock::time_point since;
  };
  void give_back(std::unique_ptr<db::Connection> connection, bool broken);

  std::mutex mutex_;
  std::condition_variable available_;
  std::vector<Idle> idle_;
  size_t open_ = 0;  // idle + leased
  size_t size_;
  Opener opener_;
};

}  // namespace mgdpr::server
