// SPDX-License-Identifier: GPL-3.0-or-later
#include "server/connections.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <optional>

namespace mgdpr::server {

namespace {

using Clock = std::chrono::steady_clock;

struct RequestState {
  bool timed_out = false;
  bool over_budget = false;
  bool close_after_response = false;
};
thread_local RequestState t_request;

enum class Wait { kReady, kDeadline, kError };

// Waits until the socket can be read (or written) or the deadline passes.
Wait wait_until(int sock, short events, Clock::time_point deadline) {
  for (;;) {
    const auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (left <= 0) return Wait::kDeadline;
    pollfd entry{sock, events, 0};
    const int ready = ::poll(&entry, 1, int(std::min<long long>(left, INT_MAX)));
    if (ready > 0) return Wait::kReady;
    if (ready < 0 && errno != EINTR) return Wait::kError;
  }
}

bool wait_socket(int sock, short events, Clock::time_point deadline) {
  return wait_until(sock, events, deadline) == Wait::kReady;
}

std::optional<IpAddress> address_of(const sockaddr_storage& address) {
  char text[INET6_ADDRSTRLEN] = {};
  if (address.ss_family == AF_INET) {
    ::inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in&>(address).sin_addr, text,
                sizeof text);
  } else if (address.ss_family == AF_INET6) {
    ::inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6&>(address).sin6_addr, text,
                sizeof text);
  } else {
    return std::nullopt;
  }
  return parse_ip_address(text);
}

int port_of(const sockaddr_storage& address) {
  if (address.ss_family == AF_INET) {
    return ntohs(reinterpret_cast<const sockaddr_in&>(address).sin_port);
  }
  if (address.ss_family == AF_INET6) {
    return ntohs(reinterpret_cast<const sockaddr_in6&>(address).sin6_port);
  }
  return 0;
}

void describe_end(int sock, bool peer, std::string& ip, int& port) {
  sockaddr_storage address{};
  socklen_t length = sizeof address;
  const int got = peer ? ::getpeername(sock, reinterpret_cast<sockaddr*>(&address), &length)
                       : ::getsockname(sock, reinterpret_cast<sockaddr*>(&address), &length);
  if (got != 0) return;
  if (auto parsed = address_of(address)) ip = parsed->to_string();
  port = port_of(address);
}

// Every read and write of one connection, plain or TLS, on a non-blocking socket.
class GuardedStream final : public httplib::Stream {
 public:
  GuardedStream(int sock, SSL* ssl, const ConnectionLimits& limits)
      : sock_(sock), ssl_(ssl), limits_(limits) {}

  // Waits up to idle for the first byte of the next request.
  bool wait_for_request() {
    if (buffered() > 0 || (ssl_ != nullptr && SSL_pending(ssl_) > 0)) return true;
    return wait_socket(sock_, POLLIN, Clock::now() + limits_.idle_timeout);
  }

  void start_request() {
    read_deadline_ = Clock::now() + limits_.read_timeout;
    write_deadline_.reset();
    request_bytes_ = 0;
  }

  bool is_readable() const override {
    return buffered() > 0 || (ssl_ != nullptr && SSL_pending(ssl_) > 0) ||
           wait_socket(sock_, POLLIN, read_deadline_);
  }

  bool is_writable() const override {
    return wait_socket(sock_, POLLOUT,
                       write_deadline_.value_or(Clock::now() + limits_.write_timeout));
  }

  ssize_t read(char* ptr, size_t size) override {
    if (size == 0) return 0;
    if (buffered() == 0) {
      const ssize_t filled = fill();
      if (filled <= 0) return filled;
    }
    if (request_bytes_ >= limits_.max_request_bytes) {
      t_request.over_budget = true;
      t_request.close_after_response = true;
      return -1;
    }
    const size_t n = std::min({size, buffered(), limits_.max_request_bytes - request_bytes_});
    std::copy_n(buffer_.data() + start_, n, ptr);
    start_ += n;
    request_bytes_ += n;
    return ssize_t(n);
  }

  ssize_t write(const char* ptr, size_t size) override {
    if (!write_deadline_) write_deadline_ = Clock::now() + limits_.write_timeout;
    const size_t chunk = std::min<size_t>(size, INT_MAX);
    for (;;) {
      short wait_for = POLLOUT;
      if (ssl_ == nullptr) {
        const ssize_t sent = ::send(sock_, ptr, chunk, MSG_NOSIGNAL);
        if (sent >= 0) return sent;
        if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) return -1;
      } else {
        const int sent = SSL_write(ssl_, ptr, int(chunk));
        if (sent > 0) return sent;
        const int error = SSL_get_error(ssl_, sent);
        if (error == SSL_ERROR_WANT_READ) {
          wait_for = POLLIN;
        } else if (error != SSL_ERROR_WANT_WRITE) {
          return -1;
        }
      }
      if (!wait_socket(sock_, wait_for, *write_deadline_)) return -1;
    }
  }

  void get_remote_ip_and_port(std::string& ip, int& port) const override {
    describe_end(sock_, true, ip, port);
  }
  void get_local_ip_and_port(std::string& ip, int& port) const override {
    describe_end(sock_, false, ip, port);
  }
  socket_t socket() const override { return sock_; }

 private:
  size_t buffered() const { return end_ - start_; }

  // Reads what has arrived into the buffer: > 0 bytes, 0 at the end, -1 on an error or when the
  // read deadline passed (then request_timed_out() says so).
  ssize_t fill() {
    start_ = end_ = 0;
    for (;;) {
      short wait_for = POLLIN;
      if (ssl_ == nullptr) {
        const ssize_t got = ::recv(sock_, buffer_.data(), buffer_.size(), 0);
        if (got >= 0) {
          end_ = size_t(got);
          return got;
        }
        if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) return -1;
      } else {
        const int got = SSL_read(ssl_, buffer_.data(), int(buffer_.size()));
        if (got > 0) {
          end_ = size_t(got);
          return got;
        }
        const int error = SSL_get_error(ssl_, got);
        if (error == SSL_ERROR_ZERO_RETURN) return 0;
        if (error == SSL_ERROR_WANT_WRITE) {
          wait_for = POLLOUT;
        } else if (error != SSL_ERROR_WANT_READ) {
          return -1;
        }
      }
      if (const Wait waited = wait_until(sock_, wait_for, read_deadline_); waited != Wait::kReady) {
        if (waited == Wait::kDeadline) {
          // The rest of this request may still come: the connection carries no other.
          t_request.timed_out = true;
          t_request.close_after_response = true;
        }
        return -1;
      }
    }
  }

  int sock_;
  SSL* ssl_;
  const ConnectionLimits& limits_;
  std::array<char, 16 * 1024> buffer_{};
  size_t start_ = 0;
  size_t end_ = 0;
  Clock::time_point read_deadline_ = Clock::now();
  std::optional<Clock::time_point> write_deadline_;
  size_t request_bytes_ = 0;
};

// The TLS handshake, bounded by the read timeout like a request.
SSL* accept_tls(SSL_CTX* context, int sock, std::chrono::seconds timeout) {
  SSL* ssl = SSL_new(context);
  if (ssl == nullptr) return nullptr;
  if (SSL_set_fd(ssl, sock) != 1) {
    SSL_free(ssl);
    return nullptr;
  }
  const auto deadline = Clock::now() + timeout;
  for (;;) {
    const int accepted = SSL_accept(ssl);
    if (accepted == 1) return ssl;
    const int error = SSL_get_error(ssl, accepted);
    const bool waiting = (error == SSL_ERROR_WANT_READ && wait_socket(sock, POLLIN, deadline)) ||
                         (error == SSL_ERROR_WANT_WRITE && wait_socket(sock, POLLOUT, deadline));
    if (!waiting) {
      ERR_clear_error();
      SSL_free(ssl);
      return nullptr;
    }
  }
}

// Ends our side, then reads and drops what the client still sends until it closes or a limit
// is reached: closing with unread data would reset the connection, and the client could lose
// the answer it has not read yet.
void linger(int sock, const ConnectionLimits& limits) {
  ::shutdown(sock, SHUT_WR);
  const auto deadline = Clock::now() + limits.linger_time;
  char sink[16 * 1024];
  size_t drained = 0;
  while (drained < limits.linger_bytes && wait_socket(sock, POLLIN, deadline)) {
    const ssize_t got = ::recv(sock, sink, sizeof sink, 0);
    if (got == 0 || (got < 0 && errno != EAGAIN && errno != EINTR)) return;
    if (got > 0) drained += size_t(got);
  }
}

// An answer written straight to the socket, for when httplib has no request to answer.
std::string plain_answer(std::string_view status, std::string_view body) {
  return fmt::format(
      "HTTP/1.1 {}\r\nConnection: close\r\nContent-Type: text/plain; charset=utf-8\r\n"
      "Content-Length: {}\r\n\r\n{}",
      status, body.size(), body);
}

void send_all(int sock, SSL* ssl, const std::string& data) {
  if (ssl != nullptr) {
    (void)SSL_write(ssl, data.data(), int(data.size()));
  } else {
    (void)::send(sock, data.data(), data.size(), MSG_NOSIGNAL);
  }
}

}  // namespace

bool request_timed_out() { return t_request.timed_out; }
bool request_over_budget() { return t_request.over_budget; }
void close_after_response() { t_request.close_after_response = true; }
bool closing_after_response() { return t_request.close_after_response; }

bool ClientSlots::acquire(const std::string& client, std::chrono::milliseconds wait) {
  std::unique_lock lock(mutex_);
  const auto has_room = [&] {
    auto found = held_.find(client);
    return found == held_.end() || found->second < per_client_;
  };
  if (!has_room()) {
    // One waiter per client: a flood of connections must not tie up the other threads.
    if (wait.count() <= 0 || !waiting_.insert(client).second) return false;
    const bool freed = released_.wait_for(lock, wait, has_room);
    waiting_.erase(client);
    if (!freed) return false;
  }
  ++held_[client];
  return true;
}

void ClientSlots::release(const std::string& client) {
  {
    std::lock_guard lock(mutex_);
    auto found = held_.find(client);
    if (found == held_.end()) return;
    if (--found->second <= 0) held_.erase(found);
  }
  released_.notify_all();
}

int ClientSlots::held(const std::string& client) {
  std::lock_guard lock(mutex_);
  auto found = held_.find(client);
  return found == held_.end() ? 0 : found->second;
}

bool ClientSlots::has_waiter(const std::string& client) {
  std::lock_guard lock(mutex_);
  return waiting_.count(client) > 0;
}

Result<TlsContext> load_tls_context(const std::string& cert_file, const std::string& key_file) {
  TlsContext context(SSL_CTX_new(TLS_server_method()));
  if (!context) return make_error("OpenSSL could not create a TLS context");
  SSL_CTX_set_min_proto_version(context.get(), TLS1_2_VERSION);
  SSL_CTX_set_options(context.get(),
                      SSL_OP_NO_COMPRESSION | SSL_OP_NO_SESSION_RESUMPTION_ON_RENEGOTIATION);
  const bool loaded =
      SSL_CTX_use_certificate_chain_file(context.get(), cert_file.c_str()) == 1 &&
      SSL_CTX_use_PrivateKey_file(context.get(), key_file.c_str(), SSL_FILETYPE_PEM) == 1 &&
      SSL_CTX_check_private_key(context.get()) == 1;
  ERR_clear_error();
  if (!loaded) return make_error("the TLS certificate or its key cannot be loaded");
  return context;
}

GuardedServer::GuardedServer(ConnectionLimits limits, TlsContext tls, ConnectionEvents events)
    : limits_(std::move(limits)),
      tls_(std::move(tls)),
      events_(std::move(events)),
      slots_(limits_.per_client) {}

bool GuardedServer::process_and_close_socket(socket_t sock) {
  ::fcntl(sock, F_SETFL, ::fcntl(sock, F_GETFL) | O_NONBLOCK);
  // Head and body go out in separate writes: without this, Nagle's algorithm and the client's
  // delayed ACK add some 40 ms to every answer.
  int yes = 1;
  ::setsockopt(sock, IPPROTO_TCP, TCP_NODELAY, &yes, sizeof yes);
  sockaddr_storage peer{};
  socklen_t peer_length = sizeof peer;
  std::optional<IpAddress> address;
  if (::getpeername(sock, reinterpret_cast<sockaddr*>(&peer), &peer_length) == 0) {
    address = address_of(peer);
  }
  // A proxy carries many clients: it is not counted; everyone else is, per address.
  std::optional<std::string> client;
  if (!address || !in_any_range(*address, limits_.trusted_proxies)) {
    client = address ? client_group(*address) : std::string("unknown");
    if (!slots_.acquire(*client, limits_.slot_wait)) {
      // No more of a thread is spent on it: not even a TLS handshake.
      if (!tls_) {
        send_all(sock, nullptr,
                 plain_answer("503 Service Unavailable\r\nRetry-After: 1",
                              "too many connections from your address at once ([server] "
                              "max_connections_per_client); try again in a second\n"));
      }
      if (events_.refused) events_.refused();
      ::shutdown(sock, SHUT_RDWR);
      ::close(sock);
      return false;
    }
  }

  SSL* ssl = nullptr;
  bool served = false;
  if (!tls_ || (ssl = accept_tls(tls_.get(), sock, limits_.read_timeout)) != nullptr) {
    GuardedStream stream(sock, ssl, limits_);
    for (size_t left = limits_.requests_per_connection;
         left > 0 && svr_sock_ != INVALID_SOCKET && stream.wait_for_request(); --left) {
      stream.start_request();
      t_request = RequestState{};
      bool connection_closed = false;
      served = process_request(stream, left == 1, connection_closed, nullptr);
      if (!served && t_request.timed_out) {
        // Not even the request line arrived in time: httplib has nothing to answer.
        send_all(sock, ssl,
                 plain_answer("408 Request Timeout",
                              fmt::format("the request did not arrive within [server] "
                                          "read_timeout_seconds ({} s)\n",
                                          limits_.read_timeout.count())));
        if (events_.timed_out) events_.timed_out();
        served = true;
        close_after_response();
      }
      if (!served || connection_closed || t_request.close_after_response) break;
    }
  }
  if (ssl != nullptr && served) SSL_shutdown(ssl);  // best effort: the socket does not block
  // Lingering holds the thread, so it counts against the client like the request did.
  if (served && t_request.close_after_response) linger(sock, limits_);
  // The client may open its next connection the moment it has the answer: its slot is free
  // before this thread closes the socket.
  if (client) slots_.release(*client);
  if (ssl != nullptr) {
    SSL_free(ssl);
    ERR_clear_error();
  }
  ::shutdown(sock, SHUT_RDWR);
  ::close(sock);
  return served;
}

}  // namespace mgdpr::server
