#pragma once
/// \file
/// weft::Request: one HTTP request as a handler sees it.
///
/// A Request owns its bytes (the head and the body are copied out of the
/// connection's buffer before the handler is queued), so a handler may keep it
/// or move it to another thread. The bytes are immutable and shared by copies,
/// so copying a Request is cheap and every string_view it hands out stays
/// valid as long as any copy lives. Read-only for handlers; not thread-safe for
/// concurrent mutation (there is none through the public API).

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "weft/body_reader.hpp"
#include "weft/tls_info.hpp"

namespace weft {

class Request {
 public:
  /// One field line as received (name case as sent, value without surrounding whitespace).
  struct Header {
    std::string_view name;
    std::string_view value;
  };

  /// An empty request (no method, no target). Copies share the immutable bytes.
  Request() = default;

  /// The method token, e.g. "GET".
  [[nodiscard]] std::string_view method() const noexcept { return method_; }
  /// The request-target as received, e.g. "/a%20b?x=1" (absolute form is kept as sent).
  [[nodiscard]] std::string_view target() const noexcept { return target_; }
  /// The percent-decoded path, e.g. "/a b". Always starts with '/' for origin and absolute forms.
  [[nodiscard]] std::string_view path() const noexcept { return path_; }
  /// The raw query string after '?', without it; empty when there is none.
  [[nodiscard]] std::string_view query() const noexcept { return query_; }
  /// The decoded value of the first query parameter `name` ('+' means space); nullopt if absent.
  [[nodiscard]] std::optional<std::string> query_param(std::string_view name) const;
  /// 0 for HTTP/1.0, 1 for HTTP/1.1.
  [[nodiscard]] int version_minor() const noexcept { return version_minor_; }
  /// 1 for HTTP/1.x, 2 for HTTP/2 (whose version_minor() is 0).
  [[nodiscard]] int version_major() const noexcept { return version_major_; }

  /// The value of the first field `name` (ASCII case-insensitive); nullopt if absent.
  [[nodiscard]] std::optional<std::string_view> header(std::string_view name) const noexcept;
  /// All field lines in arrival order.
  [[nodiscard]] const std::vector<Header>& headers() const noexcept { return headers_; }
  /// The Host (or the absolute-form target's authority).
  [[nodiscard]] std::string_view host() const noexcept { return host_; }

  /// The body (de-chunked); empty when there is none. Bounded by Config::max_body (or the route's
  /// RouteOptions::max_body). Empty for a route whose body streams: see body_reader().
  [[nodiscard]] std::string_view body() const noexcept { return body_; }
  /// The body as a stream (RouteOptions::stream_body), or a reader that delivers body() at once.
  /// See weft/body_reader.hpp.
  [[nodiscard]] BodyReader body_reader() const noexcept;

  /// The value of route parameter `name` ("/hello/{name}"), percent-decoded; empty if no such parameter.
  [[nodiscard]] std::string_view param(std::string_view name) const noexcept;

  /// The peer's address, "127.0.0.1:50312" or "[::1]:50312".
  [[nodiscard]] std::string_view peer() const noexcept { return peer_; }

  /// "https" when the request came over TLS, else "http".
  [[nodiscard]] std::string_view scheme() const noexcept { return tls_ ? "https" : "http"; }
  /// What the connection's TLS handshake negotiated; null over cleartext.
  [[nodiscard]] const TlsInfo* tls() const noexcept { return tls_.get(); }
  /// "TLSv1.2" or "TLSv1.3"; empty over cleartext.
  [[nodiscard]] std::string_view tls_version() const noexcept {
    return tls_ ? std::string_view(tls_->version) : std::string_view();
  }
  /// The SNI name the client sent (lowercase); empty when none, or over cleartext.
  [[nodiscard]] std::string_view tls_server_name() const noexcept {
    return tls_ ? std::string_view(tls_->server_name) : std::string_view();
  }
  /// The verified client certificate's subject (RFC 2253); empty when none.
  [[nodiscard]] std::string_view tls_client_subject() const noexcept {
    return tls_ ? std::string_view(tls_->client_subject) : std::string_view();
  }

  // ---- construction (used by the server; tests may use it too) ----
  struct Parts {
    std::string_view method, target, path_decoded, query, host, body, peer;
    int version_minor = 1;
    int version_major = 1;
    std::vector<Header> headers;  ///< views into the caller's bytes; copied
  };
  /// Copies everything `parts` refers to into one owned buffer.
  static Request from_parts(const Parts& parts);
  /// Sets route parameters (names and decoded values are copied).
  void set_params(std::vector<std::pair<std::string, std::string>> params);
  /// Marks the request as received over TLS (the server does this for HTTPS connections).
  void set_tls(std::shared_ptr<const TlsInfo> tls) noexcept { tls_ = std::move(tls); }
  /// Makes body_reader() stream from `exchange` (the server does this for streaming routes).
  void set_body_source(std::shared_ptr<exchange::Exchange> exchange) noexcept {
    body_source_ = std::move(exchange);
  }

 private:
  std::shared_ptr<const std::string> storage_;  // every view below points into *storage_
  std::string_view method_, target_, path_, query_, host_, body_, peer_;
  int version_minor_ = 1;
  int version_major_ = 1;
  std::vector<Header> headers_;
  std::vector<std::pair<std::string, std::string>> params_;
  std::shared_ptr<exchange::Exchange> body_source_;
  std::shared_ptr<const TlsInfo> tls_;
};

}  // namespace weft
