#pragma once
/// \file
/// weft::Config: every run-time setting of a weft::Server, with its default and
/// the anchor that default came from (see DESIGN.md, "Limits and defaults").
/// A plain aggregate: fill it with designated initializers. Server's
/// constructor validates it and throws std::invalid_argument naming the field.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "weft/tls_config.hpp"

namespace weft {

/// How the access log writes one response (Config::access_log_format).
enum class AccessLogFormat : std::uint8_t {
  /// Common Log Format: `127.0.0.1 - - [26/Nov/2026:13:00:00 +0000] "GET / HTTP/1.1" 200 187`.
  clf,
  /// CLF, then the Referer and User-Agent fields quoted ("-" when absent), as nginx's and
  /// Apache's `combined`.
  combined,
  /// One JSON object per line: the combined fields (time in ISO 8601), plus scheme and protocol.
  json,
};

/// The metrics listener (Config::metrics).
struct MetricsListener {
  /// Address to bind: an IPv4 or IPv6 literal.
  std::string bind = "127.0.0.1";
  /// TCP port; 0 = any free port (Server::metrics_port() tells which).
  std::uint16_t port = 0;

  /// Every field equal.
  bool operator==(const MetricsListener&) const = default;
};

struct Config {
  // ---- listening ----
  /// Address to bind: an IPv4 or IPv6 literal ("127.0.0.1", "::1", "::", "0.0.0.0").
  std::string bind = "127.0.0.1";
  /// TCP port; 0 = any free port (Server::port() tells which).
  std::uint16_t port = 7878;
  /// Listening sockets to serve instead of binding `bind`:`port`: descriptors of bound,
  /// listening TCP sockets (IPv4 or IPv6) that a supervisor handed over (systemd socket
  /// activation: fd 3 on). Every loop accepts from every one of them. The server makes them
  /// non-blocking, serves them in the main protocol (HTTPS with `tls`), and never closes them: they
  /// stay the caller's (each loop closes only its own duplicate when it stops listening).
  /// start() throws std::invalid_argument naming a descriptor that is not such a socket.
  /// Empty = bind `bind`:`port`. `http_redirect_port` is bound on `bind` (or see http_redirect_fds).
  std::vector<int> listen_fds;
  /// Event-loop threads, each with its own epoll and SO_REUSEPORT listener (or its duplicate of
  /// each of `listen_fds`); 0 = CPU count.
  std::size_t loops = 0;
  /// ThreadPool workers that run handlers. Anchor: the seed's ThreadPool::new(4).
  std::size_t threads = 4;
  /// Handler jobs waiting for a worker at most; beyond it -> 503 + Retry-After. Anchor: nginx 65536, weft
  /// 1024.
  std::size_t max_queued = 1024;
  /// Retry-After seconds sent with a 503 when the pool queue is full.
  std::uint32_t retry_after_seconds = 1;

  // ---- limits (anchors in DESIGN.md) ----
  std::size_t max_request_line = std::size_t{8} * 1024;  ///< -> 414. cpp-httplib 8 KiB; RFC 9112 asks >= 8000
  std::size_t max_header_bytes = std::size_t{16} * 1024;  ///< -> 431. lighttpd 8 KiB, nginx 1 KiB + 4x8 KiB
  std::size_t max_headers = 100;                          ///< -> 431 (at most 100). h2o, hyper, cpp-httplib
  std::size_t max_body = std::size_t{1024} * 1024;        ///< handler request body -> 413. nginx, Beast 1 MiB
  /// Body of a request the route will not read (405, 404, static file): read and discarded up to this, so
  /// the connection stays usable; larger -> the connection closes after the answer.
  std::size_t max_discard_body = std::size_t{64} * 1024;
  std::size_t max_requests_per_connection = 10000;  ///< then Connection: close. nginx 1000
  /// Open connections per process (all loops). start() raises the soft RLIMIT_NOFILE to the hard
  /// limit and lowers this cap to fit below it (one descriptor per connection, plus a reserve of
  /// 64 + 1/16 of the limit for listeners, logs and files being sent).
  /// nginx 512/worker, h2o 1024.
  std::size_t max_connections = 10000;
  /// HTTP/2 (RFC 9113): by ALPN "h2" over TLS, and with prior knowledge (a connection that opens
  /// with the HTTP/2 preface) on a cleartext port. Off: every connection speaks HTTP/1.1.
  bool http2 = true;
  /// HTTP/2 SETTINGS_MAX_CONCURRENT_STREAMS: requests one connection may have open at once.
  /// nginx 128, h2o 100.
  std::uint32_t h2_max_concurrent_streams = 100;
  /// SO_SNDBUF of every accepted socket, in bytes; 0 = the kernel's choice (auto-tuned up to
  /// net.ipv4.tcp_wmem's maximum, 4 MiB on Debian). A cap bounds the kernel memory a client
  /// that stops reading can pin (a few hundred stalled readers of large files otherwise put the
  /// whole host's TCP under memory pressure), at the price of one connection's throughput on
  /// long, fast links. nginx: `listen ... sndbuf=`.
  std::size_t send_buffer = 0;

  // ---- HTTPS (weft/tls_config.hpp) ----
  /// Certificates and protocol settings; no certificate = cleartext HTTP on `port`.
  TlsConfig tls;
  /// With tls: also listen on this cleartext port (same address; 0 = any free port) and answer
  /// every request there with 308 to the same host and target over HTTPS. nullopt = no such
  /// listener. nginx: a `return 308 https://$host$request_uri;` server.
  std::optional<std::uint16_t> http_redirect_port;
  /// Sockets already listening for `http_redirect_port`, served instead of binding it (as
  /// `listen_fds` are for `port`; a process handing its sockets to its successor, see
  /// Server::duplicate_listeners()). Needs `http_redirect_port`. Empty = bind it.
  std::vector<int> http_redirect_fds;
  /// With tls: Strict-Transport-Security max-age (seconds) on every HTTPS answer; nullopt = none.
  std::optional<std::uint32_t> hsts_seconds;

  // ---- timers ----
  std::chrono::milliseconds header_timeout{30'000};  ///< whole head -> 408 + close. hyper 30 s, nginx 60 s
  std::chrono::milliseconds body_timeout{30'000};    ///< no body byte for this long -> 408 + close
  std::chrono::milliseconds keepalive_timeout{
      15'000};                                      ///< idle between requests -> close. h2o 10 s, nginx 75 s
  std::chrono::milliseconds write_timeout{30'000};  ///< no byte written for this long (slow reader) -> close
  /// Drain deadline after stop(): in-flight requests get this long to finish, then the rest is closed.
  std::chrono::milliseconds shutdown_timeout{10'000};
  /// After stop(), an idle keep-alive connection stays open this long (within shutdown_timeout)
  /// for a request its client may already be sending; that request is answered with
  /// Connection: close. A proxy that reuses its idle connections (HAProxy, nginx upstream
  /// keepalive) would otherwise see its request meet the close and fail. 0 = close at once.
  std::chrono::milliseconds drain_idle_grace{1'000};

  // ---- behaviour ----
  /// Stop accepting after this many connections, finish them, then return from run(); 0 = never.
  /// The seed's `listener.incoming().take(2)`.
  std::size_t exit_after = 0;
  /// Access log: "" (off), "-" (stdout) or a file path (appended; Server::reopen_access_log
  /// opens it again after a rotation).
  std::string access_log;
  /// The access log's line format. In clf and combined, a `"`, a `\` and any byte outside
  /// printable ASCII in a logged field is written \xHH (as nginx does), so a client cannot forge
  /// a line or a field; json escapes as JSON does, and writes a byte that is not UTF-8 as \u00HH.
  AccessLogFormat access_log_format = AccessLogFormat::clf;
  /// A cleartext listener of its own (its own thread) that answers GET and HEAD /metrics in the
  /// Prometheus text format (requests, bytes, connections, TLS handshakes, the pool, reloads,
  /// uptime; README.md lists them) and 404 to anything else; the site's routes are not there,
  /// the request limits and timeouts above are. nullopt = none. Its port must differ from
  /// `port` and `http_redirect_port`.
  std::optional<MetricsListener> metrics;
  /// Value of the Server response header; empty = no Server header.
  std::string server_name = "weft";

  /// Every field equal.
  bool operator==(const Config&) const = default;
};

}  // namespace weft
