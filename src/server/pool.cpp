// SPDX-License-Identifier: GPL-3.0-or-later
#include "server/pool.h"

namespace mgdpr::server {

namespace {

// A connection idle longer than this is pinged before use.
constexpr auto kCheckAfterIdle = std::chrono::seconds(30);

}  // namespace

ConnectionPool::ConnectionPool(size_t size, Opener opener)
    : size_(std::max<size_t>(1, size)), opener_(std::move(opener)) {}

ConnectionPool::Lease::Lease(ConnectionPool* pool, std::unique_ptr<db::Connection> connection)
    : pool_(pool), connection_(std::move(connection)) {}

ConnectionPool::Lease::Lease(Lease&& other) noexcept
    : pool_(other.pool_), connection_(std::move(other.connection_)), broken_(other.broken_) {
  other.pool_ = nullptr;
}

ConnectionPool::Lease::~Lease() {
  if (pool_ != nullptr) pool_->give_back(std::move(connection_), broken_);
}

Result<ConnectionPool::Lease> ConnectionPool::acquire(std::chrono::milliseconds wait) {
  const auto deadline = std::chrono::steady_clock::now() + wait;
  for (;;) {
    Idle taken;
    {
      std::unique_lock lock(mutex_);
      if (!available_.wait_until(lock, deadline, [&] { return !idle_.empty() || open_ < size_; })) {
        return make_error(ErrorKind::kDatabase,
                          "all {} database connections are busy; raise [server] threads", size_);
      }
      if (idle_.empty()) {
        ++open_;  // reserved; opened outside the lock
      } else {
        taken = std::move(idle_.back());
        idle_.pop_back();
      }
    }
    if (!taken.connection) {
      auto opened = opener_();
      if (!opened) {
        std::lock_guard lock(mutex_);
        --open_;
        available_.notify_one();
        return opened.error();
      }
      return Lease(this, std::move(*opened));
    }
    if (std::chrono::steady_clock::now() - taken.since < kCheckAfterIdle ||
        taken.connection->query_value("SELECT 1").ok()) {
      return Lease(this, std::move(taken.connection));
    }
    // Closed by the server while idle: drop it and try again (a fresh one is opened).
    give_back(std::move(taken.connection), true);
  }
}

void ConnectionPool::add(std::unique_ptr<db::Connection> connection) {
  std::lock_guard lock(mutex_);
  if (open_ >= size_) return;  // full: the connection closes here
  ++open_;
  idle_.push_back({std::move(connection), std::chrono::steady_clock::now()});
  available_.notify_one();
}

void ConnectionPool::give_back(std::unique_ptr<db::Connection> connection, bool broken) {
  std::unique_ptr<db::Connection> closing;
  {
    std::lock_guard lock(mutex_);
    if (broken || !connection) {
      closing = std::move(connection);
      --open_;
    } else {
      idle_.push_back({std::move(connection), std::chrono::steady_clock::now()});
    }
  }
  available_.notify_one();
  // `closing` closes here, outside the lock.
}

void ConnectionPool::close_idle() {
  std::vector<Idle> closing;
  {
    std::lock_guard lock(mutex_);
    open_ -= idle_.size();
    closing = std::move(idle_);
    idle_.clear();
  }
  available_.notify_all();
}

}  // namespace mgdpr::server
