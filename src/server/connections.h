// SPDX-License-Identifier: GPL-3.0-or-later
// The connections of `serve`: how long a client may take, how much it may send, and how many
// threads one client may hold. cpp-httplib parses requests and routes them; every byte it reads
// or writes goes through GuardedStream, and GuardedServer owns each connection from accept to
// close (httplib's own per-read timeout lets a client that sends a byte every few seconds keep
// a thread forever, and it reads chunked bodies without any limit).
//
// Per connection:
// - at most ConnectionLimits::per_client connections per client address (an IPv6 /64) are
//   served at once; one more waits up to slot_wait for a slot (a client that sends its requests
//   one after another opens the next connection while the thread that answered the last one
//   may not yet have closed it), then gets 503, as do others meanwhile (trusted proxies are not
//   counted: they carry many);
// - a request's head and body must arrive within read_timeout of its first byte, and at most
//   max_request_bytes of it are read: beyond either, the read fails and the request is answered
//   (408, 413 or 400) or the connection dropped;
// - an idle kept-alive connection is closed after idle_timeout;
// - the response must be written within write_timeout;
// - after an answer given without reading the body, the rest is drained for a moment (at most
//   linger_time and linger_bytes, into a fixed buffer) so the client sees the answer.
// TLS (tls_cert_file/tls_key_file) is done here as well, with the same deadlines.
#pragma once

#include <httplib.h>
#include <openssl/ssl.h>

#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "core/address.h"
#include "core/result.h"

namespace mgdpr::server {

// Request line and headers: far more than any browser or Mautic sends.
inline constexpr size_t kMaxRequestHeadBytes = 64 * 1024;

struct ConnectionLimits {
  std::chrono::seconds read_timeout{10};
  std::chrono::seconds idle_timeout{5};
  std::chrono::seconds write_timeout{10};
  size_t max_request_bytes = kMaxRequestHeadBytes;  // head and body together
  int per_client = 4;
  std::chrono::milliseconds slot_wait{1000};
  size_t requests_per_connection = 100;
  // After an answer given without reading the body (413, 401, ...), what the client still
  // sends is read and dropped for at most this long and this much, so that it sees the answer
  // rather than a reset (nginx's lingering close); then the connection is closed.
  std::chrono::seconds linger_time{2};
  size_t linger_bytes = kMaxRequestHeadBytes;
  std::vector<AddressRange> trusted_proxies;
};

// Connections held per client; thread-safe.
class ClientSlots {
 public:
  explicit ClientSlots(int per_client) : per_client_(per_client) {}
  // Counts one more connection of client, waiting up to `wait` for one of its others to end
  // (one connection per client waits; others are refused at once); false when it still holds
  // per_client.
  bool acquire(const std::string& client,
               std::chrono::milliseconds wait = std::chrono::milliseconds(0));
  void release(const std::string& client);
  int held(const std::string& client);
  bool has_waiter(const std::string& client);

 private:
  std::mutex mutex_;
  std::condition_variable released_;
  std::map<std::string, int> held_;
  std::set<std::string> waiting_;
  int per_client_;
};

// What a handler may learn about, or ask of, the connection its request came on. Each request
// runs on one thread, so these refer to the current one.
bool request_timed_out();     // its read deadline passed while it was read
bool request_over_budget();   // it sent more than max_request_bytes
void close_after_response();  // its body was not read: the connection cannot carry another
bool closing_after_response();

struct SslContextFree {
  void operator()(SSL_CTX* context) const { SSL_CTX_free(context); }
};
using TlsContext = std::unique_ptr<SSL_CTX, SslContextFree>;

// A server context from PEM files (the certificate chain and its key), TLS 1.2 at least.
Result<TlsContext> load_tls_context(const std::string& cert_file, const std::string& key_file);

// What the server reports about connections it answered itself (no address is passed on).
struct ConnectionEvents {
  std::function<void()> refused;    // a client over its connection cap got 503
  std::function<void()> timed_out;  // a request line that did not arrive in time got 408
};

class GuardedServer : public httplib::Server {
 public:
  GuardedServer(ConnectionLimits limits, TlsContext tls, ConnectionEvents events);

 private:
  bool process_and_close_socket(socket_t sock) override;

  ConnectionLimits limits_;
  TlsContext tls_;
  ConnectionEvents events_;
  ClientSlots slots_;
};

}  // namespace mgdpr::server
