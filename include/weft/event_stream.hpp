#pragma once
/// \file
/// weft::EventStream: Server-Sent Events (text/event-stream, WHATWG HTML "Server-sent events")
/// over a ResponseStream. Any thread; copies share one stream.
///
///   server.get("/clock", [&timers](weft::Request, weft::Reply reply) {
///     weft::EventStream events = weft::EventStream::start(reply);
///     timers.every(1s, [events]() mutable { return events.send({.data = now_text(), .event = "tick"}); });
///   });
///
/// Backpressure and cancellation are the ResponseStream's: send() returns false when the
/// producer should wait (on_ready) or stop (cancelled()).

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "weft/reply.hpp"
#include "weft/response.hpp"

namespace weft {

/// One event. Empty fields are left out; `data` may hold several lines (LF, CRLF or CR), each
/// sent as its own "data:" line, so the client's data is the same text with LF line ends.
struct Event {
  std::string_view data = {};
  std::string_view event = {};  ///< the event type ("message" when empty); no CR or LF
  std::string_view id = {};     ///< the last-event ID; no CR, LF or NUL
  std::optional<std::chrono::milliseconds> retry = std::nullopt;  ///< the client's reconnection delay
};

class EventStream {
 public:
  /// Answers `reply` with `head` (200 by default) as an event stream: Content-Type
  /// text/event-stream, Cache-Control no-cache, and X-Accel-Buffering no (so that a proxy in
  /// front does not hold events back). Throws as Reply::stream().
  static EventStream start(Reply& reply, Response head = Response(200));

  EventStream() = default;
  explicit EventStream(ResponseStream stream) : stream_(std::move(stream)) {}

  /// Sends `event`. Throws std::invalid_argument when `event` or `id` holds CR or LF (or `id` a
  /// NUL). Returns what ResponseStream::write() returns.
  bool send(const Event& event);
  /// Sends an event of type "message" with `data`.
  bool send(std::string_view data) { return send(Event{.data = data}); }
  /// Sends a comment line (": text"), which clients ignore: a keep-alive through proxies.
  bool comment(std::string_view text = {});
  /// Ends the stream (the client will reconnect unless told otherwise by the application).
  void end() { stream_.end(); }
  [[nodiscard]] bool cancelled() const noexcept { return stream_.cancelled(); }
  void on_ready(std::function<void()> fn) { stream_.on_ready(std::move(fn)); }
  void on_cancel(std::function<void()> fn) { stream_.on_cancel(std::move(fn)); }
  [[nodiscard]] ResponseStream& stream() noexcept { return stream_; }

  /// The wire form of `event` (what send() writes). Same exceptions as send().
  [[nodiscard]] static std::string format(const Event& event);

 private:
  ResponseStream stream_;
};

}  // namespace weft
