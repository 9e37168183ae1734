#include "exchange/exchange.hpp"

#include <exception>
#include <stdexcept>
#include <string>
#include <utility>

#include "weft/log.hpp"
#include "weft/reply.hpp"

namespace weft::exchange {
namespace {

constexpr std::size_t kStreamLimit = ResponseStream::kBufferLimit;
constexpr std::size_t kStreamLowWater = kStreamLimit / 2;
constexpr std::size_t kBodyLimit = BodyReader::kBufferLimit;

void run_callback(const std::function<void()>& fn) noexcept {
  try {
    if (fn) fn();
  } catch (const std::exception& e) {
    log(LogLevel::error, std::string("exchange callback threw: ") + e.what());
  } catch (...) {
    log(LogLevel::error, "exchange callback threw a non-standard exception");
  }
}

}  // namespace

Exchange::~Exchange() = default;

void Exchange::attach(Owner& owner, std::uint64_t id) {
  const std::lock_guard lock(mutex_);
  owner_ = &owner;
  owner_id_ = id;
  // News that came before the protocol side was attached (a handler answering at once).
  if (phase_ != Phase::kWaiting || cancelled_) notify_locked();
}

void Exchange::detach(bool completed) {
  if (!completed) cancel();
  // Callbacks often hold a handle to this exchange (a stream, a reply): dropping them here
  // breaks that cycle once the protocol side is done with the exchange. They are destroyed
  // outside the lock: the last copy of a Reply among them takes it.
  std::vector<std::function<void()>> callbacks;
  std::function<void()> ready;
  std::function<void(std::string_view)> on_data;
  std::function<void(BodyEnd)> on_end;
  {
    const std::lock_guard lock(mutex_);
    owner_ = nullptr;
    detached_ = true;
    callbacks.swap(on_cancel_);
    ready.swap(on_ready_);
    if (body_ && !body_->delivering) {
      on_data.swap(body_->on_data);
      on_end.swap(body_->on_end);
    }
  }
}

void Exchange::notify_locked() {
  if (news_pending_ || owner_ == nullptr) return;
  news_pending_ = true;
  owner_->post_news(owner_id_);
}

Exchange::Outgoing Exchange::take(std::size_t max_bytes) {
  Outgoing out;
  std::function<void()> ready;
  {
    const std::lock_guard lock(mutex_);
    news_pending_ = false;
    if (phase_ == Phase::kWaiting) return out;
    if (!head_taken_) {
      head_taken_ = true;
      out.response = std::move(response_);
      response_.reset();
      out.parts = std::move(parts_);
      out.stream_start = phase_ == Phase::kStreaming;
      if (!out.stream_start) return out;
    }
    const std::size_t before = stream_bytes_.size();
    if (stream_bytes_.size() <= max_bytes) {
      out.bytes = std::move(stream_bytes_);
      stream_bytes_ = std::string();
    } else {
      out.bytes.assign(stream_bytes_, 0, max_bytes);
      stream_bytes_.erase(0, max_bytes);
    }
    out.end = stream_end_ && stream_bytes_.empty();
    out.abandoned = abandoned_ && !stream_end_;
    if (on_ready_ && before >= kStreamLowWater && stream_bytes_.size() < kStreamLowWater) {
      ready = std::move(on_ready_);
      on_ready_ = nullptr;
    }
  }
  run_callback(ready);
  return out;
}

std::size_t Exchange::buffered() const {
  const std::lock_guard lock(mutex_);
  return stream_bytes_.size();
}

void Exchange::cancel() {
  std::vector<std::function<void()>> callbacks;
  std::function<void()> ready;
  {
    const std::lock_guard lock(mutex_);
    if (cancelled_) return;
    cancelled_ = true;
    callbacks.swap(on_cancel_);
    ready = std::move(on_ready_);
    on_ready_ = nullptr;
    if (body_ && !body_->end) {
      body_->end = BodyEnd::aborted;
      (void)schedule_locked();
    }
  }
  for (const auto& fn : callbacks) run_callback(fn);
  run_callback(ready);
}

bool Exchange::answer(Response response, std::vector<BodyPart> parts) {
  const std::lock_guard lock(mutex_);
  if (phase_ != Phase::kWaiting) return false;
  phase_ = Phase::kAnswered;
  if (cancelled_) return false;
  response_ = std::move(response);
  parts_ = std::move(parts);
  notify_locked();
  return true;
}

bool Exchange::start_stream(Response head) {
  const std::lock_guard lock(mutex_);
  if (phase_ != Phase::kWaiting) return false;
  phase_ = Phase::kStreaming;
  if (cancelled_) return false;
  stream_bytes_ = head.body();
  head.set_body({});
  response_ = std::move(head);
  notify_locked();
  return true;
}

bool Exchange::write(std::string_view bytes) {
  const std::lock_guard lock(mutex_);
  if (phase_ != Phase::kStreaming || cancelled_ || stream_end_) return false;
  if (bytes.empty()) return stream_bytes_.size() < kStreamLimit;
  stream_bytes_.append(bytes);
  notify_locked();
  return stream_bytes_.size() < kStreamLimit;
}

void Exchange::end_stream() {
  const std::lock_guard lock(mutex_);
  if (phase_ != Phase::kStreaming || stream_end_) return;
  stream_end_ = true;
  notify_locked();
}

void Exchange::abandon_stream() {
  const std::lock_guard lock(mutex_);
  if (phase_ != Phase::kStreaming || stream_end_ || cancelled_ || detached_) return;
  abandoned_ = true;
  log(LogLevel::warn, "a response stream was dropped without end(): the response is cut short");
  notify_locked();
}

bool Exchange::cancelled() const {
  const std::lock_guard lock(mutex_);
  return cancelled_;
}

bool Exchange::answered() const {
  const std::lock_guard lock(mutex_);
  return phase_ != Phase::kWaiting;
}

void Exchange::on_cancel(std::function<void()> fn) {
  {
    const std::lock_guard lock(mutex_);
    if (!cancelled_) {
      // Once the protocol side is done without a cancel, none will come: keeping `fn` would
      // only keep what it holds (often this exchange) alive. It is destroyed outside the lock.
      if (!detached_) on_cancel_.push_back(std::move(fn));
      return;
    }
  }
  run_callback(fn);
}

void Exchange::on_ready(std::function<void()> fn) {
  {
    const std::lock_guard lock(mutex_);
    if (!cancelled_ && stream_bytes_.size() >= kStreamLowWater) {
      if (!detached_) on_ready_ = std::move(fn);
      return;
    }
  }
  run_callback(fn);
}

// ---- the request body ----

Exchange::Body& Exchange::body_locked() {
  if (!body_) body_ = std::make_unique<Body>();
  return *body_;
}

bool Exchange::push_body(std::string_view chunk) {
  const std::lock_guard lock(mutex_);
  Body& body = body_locked();
  if (body.end || chunk.empty()) return body.buffered < kBodyLimit;
  body.chunks.emplace_back(chunk);
  body.buffered += chunk.size();
  (void)schedule_locked();
  return body.buffered < kBodyLimit;
}

void Exchange::end_body(BodyEnd how) {
  const std::lock_guard lock(mutex_);
  Body& body = body_locked();
  if (body.end) return;
  body.end = how;
  (void)schedule_locked();
}

bool Exchange::wants_body() const {
  const std::lock_guard lock(mutex_);
  return !body_ || body_->buffered < kBodyLimit;
}

bool Exchange::delivery_refused() const {
  const std::lock_guard lock(mutex_);
  return body_ && body_->refused;
}

bool Exchange::retry_delivery() {
  const std::lock_guard lock(mutex_);
  if (!body_ || !body_->refused) return true;
  body_->refused = false;
  return schedule_locked();
}

void Exchange::read_body(std::function<void(std::string_view)> on_data, std::function<void(BodyEnd)> on_end) {
  {
    const std::lock_guard lock(mutex_);
    Body& body = body_locked();
    if (body.reading) throw std::logic_error("weft::BodyReader::read: called twice");
    body.reading = true;
    body.on_data = std::move(on_data);
    body.on_end = std::move(on_end);
    if (owner_ != nullptr) {
      (void)schedule_locked();
      return;
    }
    // The protocol side is done already (the client left, the server stopped, or the whole body
    // came before the handler asked for it): nobody else will deliver, so this thread does.
    if (body.delivering) return;
    if (!body.end) body.end = BodyEnd::aborted;
    body.delivering = true;
  }
  deliver();
}

bool Exchange::schedule_locked() {
  Body& body = *body_;
  if (!body.reading || body.delivering || (body.chunks.empty() && (!body.end || body.end_delivered)))
    return true;
  if (owner_ == nullptr) return false;
  body.delivering = true;
  if (owner_->run_off_loop([self = shared_from_this()] { self->deliver(); })) return true;
  // The pool's queue is full: the protocol side retries (retry_delivery) on a later turn.
  body.delivering = false;
  body.refused = true;
  notify_locked();
  return false;
}

void Exchange::deliver() {
  // One delivery runs at a time (Body::delivering), so the callbacks are used here unlocked.
  Body& body = *body_;
  for (;;) {
    std::vector<std::string> chunks;
    std::optional<BodyEnd> end;
    {
      const std::lock_guard lock(mutex_);
      if (body.chunks.empty()) {
        if (!body.end || body.end_delivered) {
          body.delivering = false;
          return;
        }
        body.end_delivered = true;
        end = body.end;
      } else {
        chunks.swap(body.chunks);
        const bool was_full = body.buffered >= kBodyLimit;
        body.buffered = 0;
        // Room again: the protocol side resumes reading the socket.
        if (was_full) notify_locked();
      }
    }
    if (end) {
      std::function<void(BodyEnd)> on_end = std::move(body.on_end);
      body.on_end = nullptr;
      body.on_data = nullptr;
      try {
        if (on_end) on_end(*end);
      } catch (...) {
        log(LogLevel::error, "a request body's end callback threw");
      }
      continue;  // marks the delivery over, under the lock
    }
    bool failed = false;
    for (const std::string& chunk : chunks) {
      try {
        if (body.on_data) body.on_data(chunk);
      } catch (...) {
        log(LogLevel::error, "a request body's data callback threw; the body is treated as aborted");
        failed = true;
        break;
      }
    }
    if (failed) {
      const std::lock_guard lock(mutex_);
      body.chunks.clear();
      body.buffered = 0;
      if (!body.end_delivered) body.end = BodyEnd::aborted;
    }
  }
}

}  // namespace weft::exchange
