#pragma once
// Exchange: the state one request and its response share between the protocol side (a
// connection's event loop) and the application side (handlers, producers, body consumers on any
// thread). Protocol-agnostic: HTTP/1.1 today; an HTTP/2 stream drives it the same way.
//
//   application (any thread)                     protocol (loop thread)
//   Reply::send / stream, ResponseStream::write  ──notify──>  Owner::post_news ──> take()
//   BodyReader callbacks (pool)  <──deliver──  push_body() / end_body()  <── socket
//
// Every field below is guarded by mutex_. The protocol side never blocks on the application:
// it takes what is there and goes on; the application is told about room (on_ready) and
// cancellation (on_cancel) on the loop thread, outside the lock. Lock order: mutex_ is never
// held while a callback runs; Owner::post_news (which posts to the loop's queue) runs under it,
// and the loop never takes mutex_ while holding its queue lock.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "exchange/body_part.hpp"
#include "weft/body_reader.hpp"
#include "weft/response.hpp"

namespace weft::exchange {

/// The protocol side, as an exchange sees it. HTTP/1.1's connection host implements it (one per
/// event loop); the exchange keeps a pointer and its connection's id, not closures, so an idle
/// exchange stays small.
class Owner {
 public:
  /// Any thread: tells connection `id` on the owner's loop that its exchange has news.
  virtual void post_news(std::uint64_t id) = 0;
  /// Runs a job off the loop (a body delivery); false when it cannot be taken now.
  [[nodiscard]] virtual bool run_off_loop(std::function<void()> job) = 0;

 protected:
  Owner() = default;
  Owner(const Owner&) = default;
  Owner& operator=(const Owner&) = default;
  ~Owner() = default;
};

class Exchange : public std::enable_shared_from_this<Exchange> {
 public:
  Exchange() = default;
  Exchange(const Exchange&) = delete;
  Exchange& operator=(const Exchange&) = delete;
  ~Exchange();

  // ---- protocol side (loop thread) ----

  /// Connects the exchange to its protocol side: news goes to `owner`.post_news(`id`) (from any
  /// thread, at most once until the next take()); body deliveries run through `owner`.
  void attach(Owner& owner, std::uint64_t id);
  /// The protocol side is done with the exchange: `completed` (the whole answer went out) or not
  /// (then it cancels). Never posts news again; drops the application's callbacks. A body asked
  /// for after this is delivered on the asking thread.
  void detach(bool completed);
  /// Keeps `owner` alive as long as the exchange: what the route's endpoint belongs to (a
  /// virtual-host table a reload replaced while the handler was queued).
  void hold(std::shared_ptr<const void> owner) noexcept { held_ = std::move(owner); }

  /// What the application has produced since the last take().
  struct Outgoing {
    std::optional<Response> response;  ///< the whole answer, or (stream_start) the head of a stream
    std::vector<BodyPart> parts;       ///< a whole answer's body, when given as parts
    bool stream_start = false;         ///< `response` is a stream head; bytes follow
    std::string bytes;                 ///< stream bytes
    bool end = false;                  ///< the stream ended after `bytes`
    bool abandoned = false;            ///< the producer went away without end(): cut the response
  };
  /// Takes the answer (once) and at most `max_bytes` stream bytes; runs on_ready callbacks when
  /// this made room. Clears the pending news.
  Outgoing take(std::size_t max_bytes);
  /// Stream bytes waiting.
  [[nodiscard]] std::size_t buffered() const;

  /// Cancels (client gone, server cut): runs on_cancel (and pending on_ready) callbacks here.
  void cancel();

  /// Body bytes from the client (copied). False once kBufferLimit bytes wait for the consumer:
  /// stop reading until wants_body() (the exchange posts news when room comes back).
  bool push_body(std::string_view chunk);
  /// The body ended (complete or not). Delivered to the consumer after the bytes before it.
  void end_body(BodyEnd how);
  /// True while the consumer's buffer has room.
  [[nodiscard]] bool wants_body() const;
  /// True when the owner refused a body delivery: call retry_delivery() on a later turn.
  [[nodiscard]] bool delivery_refused() const;
  /// Retries a refused body delivery; true when nothing is left to retry.
  bool retry_delivery();

  // ---- application side (any thread) ----

  /// False (and the response is dropped) when already answered or cancelled.
  bool answer(Response response, std::vector<BodyPart> parts = {});
  bool start_stream(Response head);
  bool write(std::string_view bytes);
  void end_stream();
  void abandon_stream();
  [[nodiscard]] bool cancelled() const;
  [[nodiscard]] bool answered() const;
  void on_cancel(std::function<void()> fn);
  void on_ready(std::function<void()> fn);
  void read_body(std::function<void(std::string_view)> on_data, std::function<void(BodyEnd)> on_end);

 private:
  std::shared_ptr<const void> held_;
  // The request body of a stream_body route; allocated when the first of it arrives (most
  // exchanges never have one, and an open event stream should cost little).
  struct Body {
    std::vector<std::string> chunks;
    std::size_t buffered = 0;
    std::optional<BodyEnd> end;
    bool end_delivered = false;
    bool delivering = false;
    bool refused = false;
    bool reading = false;
    std::function<void(std::string_view)> on_data;
    std::function<void(BodyEnd)> on_end;
  };

  void notify_locked();
  Body& body_locked();
  /// Starts a delivery job if one is needed and none runs; false if the owner refused it.
  bool schedule_locked();
  void deliver();

  mutable std::mutex mutex_;
  Owner* owner_ = nullptr;
  std::uint64_t owner_id_ = 0;
  bool news_pending_ = false;
  bool cancelled_ = false;
  bool detached_ = false;

  // The answer.
  enum class Phase : std::uint8_t { kWaiting, kAnswered, kStreaming };
  Phase phase_ = Phase::kWaiting;
  bool head_taken_ = false;
  bool stream_end_ = false;
  bool abandoned_ = false;
  std::optional<Response> response_;
  std::vector<BodyPart> parts_;
  std::string stream_bytes_;
  std::function<void()> on_ready_;
  std::vector<std::function<void()>> on_cancel_;
  std::unique_ptr<Body> body_;
};

/// Shared by every copy of one Reply: the last copy gone without an answer answers 500.
class ReplyHandle {
 public:
  explicit ReplyHandle(std::shared_ptr<Exchange> exchange) noexcept : exchange_(std::move(exchange)) {}
  ReplyHandle(const ReplyHandle&) = delete;
  ReplyHandle& operator=(const ReplyHandle&) = delete;
  ~ReplyHandle();
  [[nodiscard]] const std::shared_ptr<Exchange>& exchange() const noexcept { return exchange_; }

 private:
  std::shared_ptr<Exchange> exchange_;
};

/// Shared by every copy of one ResponseStream: the last copy gone without end() abandons it.
class StreamHandle {
 public:
  explicit StreamHandle(std::shared_ptr<Exchange> exchange) noexcept : exchange_(std::move(exchange)) {}
  StreamHandle(const StreamHandle&) = delete;
  StreamHandle& operator=(const StreamHandle&) = delete;
  ~StreamHandle() { exchange_->abandon_stream(); }
  [[nodiscard]] Exchange& exchange() const noexcept { return *exchange_; }

 private:
  std::shared_ptr<Exchange> exchange_;
};

}  // namespace weft::exchange
