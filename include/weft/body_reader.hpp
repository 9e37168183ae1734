#pragma once
/// \file
/// weft::BodyReader: a request body delivered as a stream, for uploads of any size.
///
/// A route registered with RouteOptions{.stream_body = true} runs its handler as soon as the
/// request head has arrived; the body then arrives through Request::body_reader():
///
///   server.route("PUT", "/upload", [](weft::Request req, weft::Reply reply) {
///     auto n = std::make_shared<std::uint64_t>(0);
///     req.body_reader().read([n](std::string_view chunk) { *n += chunk.size(); },
///                            [n, r = std::move(reply)](weft::BodyEnd end) mutable {
///                              if (end == weft::BodyEnd::complete) r.send(weft::Response::text(200,
///                              std::to_string(*n)));
///                            });
///   }, {.stream_body = true, .max_body = 0});
///
/// Chunks arrive in order, de-chunked, on pool worker threads, one call at a time (never two at
/// once for one body). Backpressure: the server buffers at most kBufferLimit bytes that the
/// consumer has not taken; beyond that it stops reading the socket until the consumer catches
/// up. For a body that is not streamed (the default), read() delivers the buffered body at
/// once, on the calling thread.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string_view>

namespace weft {

namespace exchange {
class Exchange;
}  // namespace exchange

/// How a request body ended.
enum class BodyEnd : std::uint8_t {
  complete,     ///< every byte arrived
  aborted,      ///< the client went away, a timeout passed, or the server stopped
  too_large,    ///< more than the route's max_body (the server answers 413 itself)
  bad_framing,  ///< invalid chunked coding (the server answers 400 itself)
};

class BodyReader {
 public:
  /// Unconsumed body bytes the server holds before it stops reading the socket.
  static constexpr std::size_t kBufferLimit = std::size_t{256} * 1024;

  BodyReader() noexcept = default;
  explicit BodyReader(std::shared_ptr<exchange::Exchange> exchange) noexcept
      : exchange_(std::move(exchange)) {}

  /// Starts delivery: `on_data` for each chunk in order, then `on_end` once. Call at most once;
  /// a second call throws std::logic_error. Neither callback may throw (an exception is logged
  /// and the body is treated as aborted). The views are valid only during the call.
  void read(std::function<void(std::string_view)> on_data, std::function<void(BodyEnd)> on_end);
  /// True when the body streams (the route asked for it), false when it is buffered in Request::body().
  [[nodiscard]] bool streaming() const noexcept { return exchange_ != nullptr; }

 private:
  friend class Request;
  std::shared_ptr<exchange::Exchange> exchange_;
  std::string_view buffered_;  // the body of a non-streaming request
};

}  // namespace weft
