#pragma once
// The raw-socket HTTP/1.1 client of the tests, and one-request helpers built on it. Every wait
// has a deadline: a broken server fails a test, it never hangs it.
//
// Which one-request helper:
//   get(port, target) / request(port, method, target)  build the request (make_request, with
//                                                       Connection: close) and parse the answer;
//   roundtrip(port, raw_request)                        sends the caller's bytes as they are and
//                                                       parses one answer;
//   raw_exchange(port, bytes)                           sends the caller's bytes and returns every
//                                                       byte received until the server closes.

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "support/deadline.hpp"
#include "support/fd.hpp"

namespace weft::test {

/// One parsed HTTP response.
struct HttpResponse {
  std::string status_line;
  int status = 0;
  std::vector<std::pair<std::string, std::string>> headers;  ///< as received (name case kept)
  std::string body;                                          ///< after chunked decoding
  std::string raw_head;                                      ///< the head as received, through the blank line

  /// First value of `name` (case-insensitive), or nullopt when the field is absent.
  [[nodiscard]] std::optional<std::string> header(std::string_view name) const;
  /// True when the response has a field `name` (case-insensitive).
  [[nodiscard]] bool has(std::string_view name) const { return header(name).has_value(); }
  /// True when the Connection field lists `token` (case-insensitive).
  [[nodiscard]] bool connection_has(std::string_view token) const;
};

/// Where read_response_from gets more bytes: appends what arrives to its buffer; false on timeout
/// (nothing came by `deadline`), EOF or error, with `*eof` true for EOF or reset.
using ResponseSource = std::function<bool(Clock::time_point deadline, bool* eof)>;

/// The response parser of Client::read_response, for any transport (support/tls_client.hpp uses
/// it): one response from the front of `buffer` (consumed), asking `fill` for more until `deadline`.
[[nodiscard]] std::optional<HttpResponse> read_response_from(std::string& buffer, const ResponseSource& fill,
                                                             Clock::time_point deadline, bool head_request);

/// A TCP client over loopback (IPv4 or IPv6): blocking calls, each with a deadline.
class Client {
 public:
  /// Connects to `host` (an IPv4 or IPv6 literal: "127.0.0.1", "::1") and `port` within `timeout`.
  /// Throws std::system_error.
  explicit Client(std::uint16_t port, const std::string& host = "127.0.0.1", milliseconds timeout = 2s);

  /// Sends every byte (MSG_NOSIGNAL). False when the peer has closed or reset the connection
  /// (the reads that follow tell the test what happened); throws std::system_error when no byte
  /// goes out for 5 s, or on another error.
  bool send(std::string_view bytes);
  /// Reads one response: the head, then a Content-Length or chunked body (none when
  /// `head_request`, and none for 1xx, 204 and 304); without framing, the body runs to the close.
  /// nullopt on timeout, on a close before the whole response, or on garbage.
  std::optional<HttpResponse> read_response(milliseconds timeout = 5s, bool head_request = false);
  /// Everything pending and received until the peer closes; nullopt if it did not close within
  /// `timeout` (what arrived meanwhile stays in pending()).
  std::optional<std::string> read_until_close(milliseconds timeout = 5s);
  /// True when nothing was pending and the peer closed (EOF or reset) within `timeout`. Bytes
  /// that arrive before the close are read (so a server stalled on a full window can finish) and
  /// kept in pending().
  bool closed_within(milliseconds timeout);
  /// Half-closes the sending side.
  void shutdown_write();
  /// Bytes received but not consumed by read_response.
  [[nodiscard]] const std::string& pending() const noexcept { return buffer_; }
  /// The socket (non-blocking), e.g. for setsockopt.
  [[nodiscard]] int fd() const noexcept { return fd_.get(); }

 private:
  // Appends whatever arrives; false on timeout (nothing), EOF or error. `eof` reports EOF or reset.
  bool fill(Clock::time_point deadline, bool* eof);

  Fd fd_;
  std::string buffer_;
};

/// "METHOD target HTTP/1.1" with Host and any extra header lines ("Name: value"), CRLF-terminated.
[[nodiscard]] std::string make_request(std::string_view method, std::string_view target,
                                       const std::vector<std::string>& extra_headers = {});

/// `method` `target` (make_request, with `headers` and Connection: close) on a fresh connection
/// to `host`; the parsed response, read within `timeout` (without a body for HEAD).
[[nodiscard]] std::optional<HttpResponse> request(std::uint16_t port, std::string_view method,
                                                  std::string_view target,
                                                  const std::vector<std::string>& headers = {},
                                                  const std::string& host = "127.0.0.1",
                                                  milliseconds timeout = 5s);
/// GET shorthand of request().
[[nodiscard]] std::optional<HttpResponse> get(std::uint16_t port, std::string_view target,
                                              const std::vector<std::string>& headers = {});

/// Sends `raw_request` exactly as given on a fresh connection and parses one response (5 s).
[[nodiscard]] std::optional<HttpResponse> roundtrip(std::uint16_t port, std::string_view raw_request);

/// Sends `bytes` on a fresh connection and returns everything received until the server closes
/// (empty when it does not close within 5 s).
[[nodiscard]] std::string raw_exchange(std::uint16_t port, std::string_view bytes);

/// True when this machine can bind a TCP socket to ::1.
[[nodiscard]] bool ipv6_loopback_available();

}  // namespace weft::test
