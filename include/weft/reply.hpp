#pragma once
/// \file
/// weft::Reply and weft::ResponseStream: answering a request later, from any thread, and
/// streaming a response body with backpressure. See docs/DESIGN.md, "The exchange".
///
/// An asynchronous handler (`void(weft::Request, weft::Reply)`, see Server::route) gets the
/// request and a Reply. It may return at once and answer later from any thread (a timer, another
/// service's callback): no pool thread is held meanwhile.
///
///   server.get("/later", [&timers](weft::Request, weft::Reply reply) {
///     timers.after(100ms, [r = std::move(reply)]() mutable { r.send(weft::Response::text(200, "late\n"));
///     });
///   });
///
/// Or it starts a stream: the status and header fields go out at once, the body follows as it
/// is written. HTTP/1.1 frames it with chunked transfer coding, HTTP/1.0 by closing the
/// connection at the end; a HEAD request gets the head only. A Content-Length set by the
/// handler is ignored (framing is the server's job).
///
///   weft::ResponseStream s = std::move(reply).stream(weft::Response(200).set_header("Content-Type",
///   "text/plain")); s.write("tick\n");   // any thread; false: the buffer is full, wait for on_ready()
///   s.end();
///
/// Cancellation: when the client goes away, the server drains past --shutdown-timeout, or the
/// connection fails, cancelled() becomes true and on_cancel callbacks run once, within one turn
/// of the connection's event loop. Writes after that are dropped.
///
/// Callbacks (on_cancel, on_ready) run on the connection's event-loop thread, or at once on the
/// calling thread when the condition already holds: they must not block (hand long work to a
/// pool) and must not throw. They may call any member of these classes.

#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "weft/response.hpp"

namespace weft {

namespace exchange {
class Exchange;
class ReplyHandle;
class StreamHandle;
}  // namespace exchange

class ResponseStream;

/// The answer to one request: given once. Copies share the one answer (so a Reply fits in a
/// std::function); any thread. When the last copy is destroyed without an answer, the request is
/// answered 500 and one line is logged: a forgotten answer never leaves the client hanging.
class Reply {
 public:
  /// An empty Reply (answers nothing).
  Reply() noexcept;
  explicit Reply(std::shared_ptr<exchange::Exchange> exchange);

  /// Answers with `response`. Dropped when the exchange was cancelled. Throws std::logic_error
  /// when the request was answered already (by this copy or another) or the Reply is empty.
  void send(Response response);
  /// Sends `head`'s status and fields now and returns the stream for the body (`head`'s own body,
  /// if any, is its first bytes). Same exceptions as send().
  [[nodiscard]] ResponseStream stream(Response head);

  /// True when the client went away or the server cut the exchange (then answers are dropped).
  [[nodiscard]] bool cancelled() const noexcept;
  /// Runs `fn` once when the exchange is cancelled (at once if it is already).
  void on_cancel(std::function<void()> fn);
  /// True while the request waits for its answer.
  explicit operator bool() const noexcept;

 private:
  std::shared_ptr<exchange::ReplyHandle> handle_;
};

/// A response body being written. Copies share one stream; any thread. When the last copy is
/// destroyed without end(), the response is cut short (the connection closes without the
/// terminating chunk, so the client sees an incomplete response) and one line is logged.
class ResponseStream {
 public:
  /// Bytes a stream buffers before write() asks the producer to wait (beyond what the connection
  /// itself has queued).
  static constexpr std::size_t kBufferLimit = std::size_t{64} * 1024;

  ResponseStream() noexcept;
  explicit ResponseStream(std::shared_ptr<exchange::StreamHandle> handle) noexcept;

  /// Queues `bytes` (never blocks). Returns false when the producer should wait: the buffer holds
  /// kBufferLimit bytes or more (the bytes are still queued; call on_ready() to be told when to
  /// go on), or the stream has ended or was cancelled (the bytes are dropped).
  bool write(std::string_view bytes);
  /// Ends the body (idempotent). Buffered bytes still go out.
  void end();
  /// See Reply::cancelled().
  [[nodiscard]] bool cancelled() const noexcept;
  /// Runs `fn` once when the buffer has room again (below half of kBufferLimit), or when the
  /// stream is cancelled; at once if either already holds.
  void on_ready(std::function<void()> fn);
  /// See Reply::on_cancel().
  void on_cancel(std::function<void()> fn);
  /// Bytes written and not yet taken by the connection.
  [[nodiscard]] std::size_t buffered() const noexcept;
  /// False for a default-constructed stream.
  explicit operator bool() const noexcept { return handle_ != nullptr; }

 private:
  std::shared_ptr<exchange::StreamHandle> handle_;
};

}  // namespace weft
