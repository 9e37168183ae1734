#pragma once
/// \file
/// Serialization of a response head (status line and field lines) for HTTP/1.1 (RFC 9112 section
/// 4, RFC 9110 sections 6.6 and 8.6). Internal, not public API; the connection state machine calls
/// it on the loop thread for every response, so it allocates nothing beyond growing `out`, takes
/// no lock and never throws except std::bad_alloc from growing `out`.
///
/// Framing belongs to the server: the handler's own Content-Length, Transfer-Encoding and
/// Connection fields are dropped and the writer adds its own.

#include <cstdint>
#include <ctime>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>

namespace weft::http {

/// Content-Type the server may name for a body whose type nobody set (RFC 9110 8.3: a recipient
/// would assume it anyway). Pass it as HeadOptions::default_content_type to have it written.
inline constexpr std::string_view kDefaultContentType = "application/octet-stream";

/// The complete interim response sent before reading the body of an "Expect: 100-continue"
/// request (RFC 9110 10.1.1); it has no other field.
inline constexpr std::string_view kContinueResponse = "HTTP/1.1 100 Continue\r\n\r\n";

/// How the end of a response body is marked (RFC 9112 6.3).
enum class BodyFraming : std::uint8_t {
  kLength,   ///< Content-Length: content_length
  kChunked,  ///< Transfer-Encoding: chunked (a streamed body to an HTTP/1.1 client)
  kClose,    ///< neither: the body ends when the connection closes (a streamed body to HTTP/1.0)
};

/// How the server frames and labels the response, beyond what the handler decided.
struct HeadOptions {
  /// How the body's end is marked; kLength writes content_length.
  BodyFraming framing = BodyFraming::kLength;
  /// The connection closes after this response: "Connection: close" is written.
  bool close = false;
  /// An HTTP/1.0 client sent "Connection: keep-alive" and the connection stays open: "Connection:
  /// keep-alive" is written (an HTTP/1.0 client closes otherwise). Ignored when `close`.
  bool http10_keep_alive = false;
  /// Value of the Server field (Config::server_name); empty = no Server field. Must hold no CR,
  /// LF or NUL (Config validation's job).
  std::string_view server_name;
  /// Content-Type written when content_length > 0 and `headers` hold no Content-Type; empty = none
  /// (e.g. kDefaultContentType).
  std::string_view default_content_type;
  /// Whole field lines ("Name: value\r\n" each) the server adds to every response of this
  /// connection (Strict-Transport-Security over HTTPS); written before the Connection field.
  std::string_view extra_fields;
  /// The current time for the Date field; std::nullopt = read the clock. Tests pass a fixed time.
  std::optional<std::time_t> now;
};

/// Whether a response with `status` carries a Content-Length field: not for 1xx and 204 (RFC 9110
/// 8.6: MUST NOT), nor for 304 (whose length would be the 200's, which weft does not keep).
[[nodiscard]] constexpr bool status_has_content_length(int status) noexcept {
  return status >= 200 && status != 204 && status != 304;
}

/// Appends the head of a response to `out` (its existing bytes are kept), in this order:
///   "HTTP/1.1 <status> <reason_phrase>\r\n"
///   "Date: <IMF-fixdate>\r\n"                 (the per-thread cached line; see http_date.hpp)
///   "Server: <server_name>\r\n"               (when server_name is not empty)
///   each of `headers` as "<name>: <value>\r\n", in order, except Content-Length,
///     Transfer-Encoding and Connection (any case)
///   "Content-Type: <default_content_type>\r\n" (see HeadOptions::default_content_type)
///   "Content-Length: <content_length>\r\n"    (when status_has_content_length(status), 0 too,
///                                               and framing is kLength)
///   "Transfer-Encoding: chunked\r\n"          (when status_has_content_length(status) and kChunked)
///   HeadOptions::extra_fields
///   "Connection: close\r\n" or "Connection: keep-alive\r\n" (see HeadOptions)
///   "\r\n"
/// A Date or Server field in `headers` replaces the writer's own. For a HEAD request pass the
/// length the GET response would have. A `status` outside 100-599 is written as 500.
/// Preconditions: every name in `headers` is a token and no value holds CR, LF or NUL (what
/// weft::Response::add_header guarantees); the writer does not check again.
///
/// `out` is an output parameter on purpose, the one exception to the house rule: the connection
/// reuses one buffer for every response it writes, and appending lets the head and a small body
/// go out in one write.
void append_head(std::string& out, int status, std::span<const std::pair<std::string, std::string>> headers,
                 std::uint64_t content_length, const HeadOptions& options);

/// A constant response rendered once (the built-in pages, fixed routes): the
/// head without its Date and Connection lines, and the body. Per request only
/// the Date line and the framing of the connection are added.
struct PreparedResponse {
  int status = 200;
  std::string status_line;  ///< "HTTP/1.1 200 OK\r\n"
  bool own_date = false;    ///< the response carries its own Date field (inside `fields`)
  std::string fields;       ///< every other field line, Content-Length included
  std::string body;
};

/// Renders `status`, `headers` and `body` as append_head() would, once.
[[nodiscard]] PreparedResponse prepare_response(int status,
                                                std::span<const std::pair<std::string, std::string>> headers,
                                                std::string body, std::string_view server_name);

/// The same for a body sent separately (a file): the head says `content_length`, `body` stays empty.
[[nodiscard]] PreparedResponse prepare_head(int status,
                                            std::span<const std::pair<std::string, std::string>> headers,
                                            std::uint64_t content_length, std::string_view server_name);

/// Appends the head of `prepared` to `out`, byte for byte what append_head()
/// writes for the same response and options (only close, http10_keep_alive and
/// extra_fields of `options` are used, and `now`).
void append_prepared_head(std::string& out, const PreparedResponse& prepared, const HeadOptions& options);

}  // namespace weft::http
