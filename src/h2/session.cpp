// h2::Connection's nghttp2 session: its set-up, the callbacks through which nghttp2 reports
// what it received, and the checks weft adds to nghttp2's own (stream ids, reset and empty-frame
// rates).
#include <nghttp2/nghttp2.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <string>
#include <utility>

#include "h2/connection.hpp"
#include "h2/session_memory.hpp"
#include "h2/stream.hpp"
#include "weft/log.hpp"

namespace weft::h2 {
namespace {

// The connection window: large, so that request bodies of many streams flow at once (h2o uses
// 16 MiB); each stream keeps the default 64 KiB window, which is what backpressure holds back.
constexpr std::int32_t kConnectionWindow = 16 * 1024 * 1024;

// Client resets of streams we had not finished: a browser cancels a few (navigation, aborted
// fetches); an attacker thousands per second. Empty DATA frames without END_STREAM have no use.
constexpr double kResetBurst = 200;
constexpr double kResetsPerSecond = 50;
constexpr double kEmptyFrameBurst = 100;
constexpr double kEmptyFramesPerSecond = 10;

}  // namespace

struct Connection::Callbacks : Connection::DataSource {
  static int on_begin_frame(nghttp2_session* session, const nghttp2_frame_hd* hd, void* user_data) {
    Connection& c = self(user_data);
    if (hd->type == NGHTTP2_HEADERS && !c.check_stream_id(hd->stream_id)) {
      (void)nghttp2_session_terminate_session(session, NGHTTP2_PROTOCOL_ERROR);
      c.goaway_sent_ = true;
    }
    return 0;
  }

  static int on_begin_headers(nghttp2_session* /*session*/, const nghttp2_frame* frame, void* user_data) {
    if (frame->hd.type != NGHTTP2_HEADERS || frame->headers.cat != NGHTTP2_HCAT_REQUEST) return 0;
    // Past the last stream our GOAWAY named: not started, so the client may retry it elsewhere
    // (RFC 9113 6.8); nghttp2 closes it once the GOAWAY is out.
    if (frame->hd.stream_id > self(user_data).last_stream_taken_) return 0;
    return self(user_data).begin_stream(frame->hd.stream_id) != nullptr ? 0 : NGHTTP2_ERR_CALLBACK_FAILURE;
  }

  static int on_header(nghttp2_session* /*session*/, const nghttp2_frame* frame, const std::uint8_t* name,
                       std::size_t namelen, const std::uint8_t* value, std::size_t valuelen,
                       std::uint8_t /*flags*/, void* user_data) {
    if (frame->hd.type != NGHTTP2_HEADERS) return 0;
    Connection& c = self(user_data);
    Stream* s = stream(c, frame->hd.stream_id);
    if (s == nullptr) return 0;                                // trailers of a stream we no longer track
    if (frame->headers.cat != NGHTTP2_HCAT_REQUEST) return 0;  // trailers are not used
    return c.on_field(*s, {reinterpret_cast<const char*>(name), namelen},
                      {reinterpret_cast<const char*>(value), valuelen});
  }

  static int on_frame_recv(nghttp2_session* /*session*/, const nghttp2_frame* frame, void* user_data) {
    Connection& c = self(user_data);
    Stream* s = stream(c, frame->hd.stream_id);
    const net::Clock::time_point now = c.host_.loop().now();
    if (frame->hd.type == NGHTTP2_RST_STREAM && s != nullptr && !c.resets_.take(now)) {
      c.calm_down("too many streams reset");
    } else if (frame->hd.type == NGHTTP2_DATA && frame->hd.length == 0 &&
               (frame->hd.flags & NGHTTP2_FLAG_END_STREAM) == 0 && !c.empty_frames_.take(now)) {
      c.calm_down("too many empty DATA frames");
    }
    if (s == nullptr) return 0;
    const bool end = (frame->hd.flags & NGHTTP2_FLAG_END_STREAM) != 0;
    if (frame->hd.type == NGHTTP2_HEADERS && frame->headers.cat == NGHTTP2_HCAT_REQUEST) {
      s->body_done = end;
      c.on_request_head(*s);
      s = stream(c, frame->hd.stream_id);
      if (s != nullptr && end) c.on_request_end(*s);
    } else if ((frame->hd.type == NGHTTP2_DATA || frame->hd.type == NGHTTP2_HEADERS) && end) {
      c.on_request_end(*s);
    }
    return 0;
  }

  static int on_data_chunk(nghttp2_session* session, std::uint8_t /*flags*/, std::int32_t stream_id,
                           const std::uint8_t* data, std::size_t len, void* user_data) {
    Connection& c = self(user_data);
    Stream* s = stream(c, stream_id);
    if (s == nullptr) {
      (void)nghttp2_session_consume(session, stream_id, len);
      return 0;
    }
    c.on_request_data(*s, {reinterpret_cast<const char*>(data), len});
    return 0;
  }

  // The answer is complete while the request body still comes (a route that does not read it,
  // an early 413...): RST_STREAM NO_ERROR tells the client to stop sending (RFC 9113 8.1).
  static int on_frame_send(nghttp2_session* session, const nghttp2_frame* frame, void* user_data) {
    if ((frame->hd.type != NGHTTP2_DATA && frame->hd.type != NGHTTP2_HEADERS) ||
        (frame->hd.flags & NGHTTP2_FLAG_END_STREAM) == 0)
      return 0;
    const Stream* s = stream(self(user_data), frame->hd.stream_id);
    if (s != nullptr && !s->body_done)
      (void)nghttp2_submit_rst_stream(session, NGHTTP2_FLAG_NONE, s->id, NGHTTP2_NO_ERROR);
    return 0;
  }

  static int on_stream_close(nghttp2_session* /*session*/, std::int32_t stream_id, std::uint32_t /*error*/,
                             void* user_data) {
    self(user_data).on_stream_close(stream_id);
    return 0;
  }
};

Connection::Connection(http::ConnectionHost& host, http::Handover&& handover)
    : HostedConnection(handover.peer, handover.id),
      host_(host),
      fd_(std::move(handover.fd)),
      tls_(std::move(handover.tls)),
      handed_input_(std::move(handover.input)),
      resets_{kResetBurst, kResetBurst, kResetsPerSecond, host.loop().now()},
      empty_frames_{kEmptyFrameBurst, kEmptyFrameBurst, kEmptyFramesPerSecond, host.loop().now()} {}

bool Connection::Bucket::take(net::Clock::time_point now) noexcept {
  const double elapsed = std::chrono::duration<double>(now - last).count();
  last = now;
  tokens = std::min(burst, tokens + elapsed * per_second);
  if (tokens < 1) return false;
  tokens -= 1;
  return true;
}

bool Connection::check_stream_id(std::int32_t id) {
  if (id <= 0 || id % 2 == 0) return true;  // nghttp2 answers these itself
  if (id > highest_stream_) {
    if (id > highest_stream_ + 2) {
      constexpr std::size_t kMaxSkippedRanges = 16;
      if (skipped_.size() == kMaxSkippedRanges) skipped_.erase(skipped_.begin());
      skipped_.emplace_back(highest_stream_ + 2, id - 2);
    }
    highest_stream_ = id;
    return true;
  }
  return std::none_of(skipped_.begin(), skipped_.end(),
                      [id](const auto& range) { return id >= range.first && id <= range.second; });
}

void Connection::calm_down(const char* why) {
  if (log_enabled(LogLevel::info)) log(LogLevel::info, "http2 " + peer() + ": " + why + "; closing");
  // Ends the session after the GOAWAY is written; the handlers of open streams are cancelled
  // when their streams close.
  (void)nghttp2_session_terminate_session(session_, NGHTTP2_ENHANCE_YOUR_CALM);
  goaway_sent_ = true;
}

Connection::~Connection() {
  if (resume_queued_) host_.cancel_resume(*this);
  for (auto& [id, s] : streams_) {
    if (s->exchange) s->exchange->detach(false);
  }
  if (session_ != nullptr) nghttp2_session_del(session_);
}

bool Connection::start() {
  nghttp2_session_callbacks* callbacks = nullptr;
  nghttp2_option* option = nullptr;
  if (nghttp2_session_callbacks_new(&callbacks) != 0 || nghttp2_option_new(&option) != 0) {
    nghttp2_session_callbacks_del(callbacks);
    close();
    return false;
  }
  nghttp2_session_callbacks_set_on_begin_frame_callback(callbacks, &Callbacks::on_begin_frame);
  nghttp2_session_callbacks_set_on_begin_headers_callback(callbacks, &Callbacks::on_begin_headers);
  nghttp2_session_callbacks_set_on_header_callback(callbacks, &Callbacks::on_header);
  nghttp2_session_callbacks_set_on_frame_recv_callback(callbacks, &Callbacks::on_frame_recv);
  nghttp2_session_callbacks_set_on_data_chunk_recv_callback(callbacks, &Callbacks::on_data_chunk);
  nghttp2_session_callbacks_set_on_stream_close_callback(callbacks, &Callbacks::on_stream_close);
  nghttp2_session_callbacks_set_on_frame_send_callback(callbacks, &Callbacks::on_frame_send);
  nghttp2_session_callbacks_set_send_data_callback(callbacks, &Callbacks::send_data);
  // Window updates follow what the request-body consumers took, not what arrived.
  nghttp2_option_set_no_auto_window_update(option, 1);
  // nghttp2's own flood limits, stated rather than left to its defaults: unanswered SETTINGS
  // and PING ACKs queued, SETTINGS entries, CONTINUATION frames per header block, and its
  // reset rate (a backstop for ours, which answers ENHANCE_YOUR_CALM earlier).
  nghttp2_option_set_max_outbound_ack(option, 1000);
  nghttp2_option_set_max_settings(option, 32);
  nghttp2_option_set_max_continuations(option, 8);
  nghttp2_option_set_stream_reset_rate_limit(option, 1000, 33);
  // RFC 9218: the priority field is read by nghttp2 once SETTINGS_NO_RFC7540_PRIORITIES is sent;
  // PRIORITY_UPDATE frames only when asked for.
  nghttp2_option_set_builtin_recv_extension_type(option, NGHTTP2_PRIORITY_UPDATE);
  const int rv = nghttp2_session_server_new3(&session_, callbacks, this, option, session_memory());
  nghttp2_session_callbacks_del(callbacks);
  nghttp2_option_del(option);
  if (rv != 0) {
    session_ = nullptr;
    close();
    return false;
  }
  const Config& config = host_.config();
  const std::array<nghttp2_settings_entry, 3> settings{{
      {NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, config.h2_max_concurrent_streams},
      {NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE,
       static_cast<std::uint32_t>(config.max_request_line + config.max_header_bytes)},
      {NGHTTP2_SETTINGS_NO_RFC7540_PRIORITIES, 1},
  }};
  if (nghttp2_submit_settings(session_, NGHTTP2_FLAG_NONE, settings.data(), settings.size()) != 0 ||
      nghttp2_session_set_local_window_size(session_, NGHTTP2_FLAG_NONE, 0, kConnectionWindow) != 0) {
    close();
    return false;
  }
  if (!host_.loop().modify(fd_.get(), EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET, this) &&
      !host_.loop().add(fd_.get(), EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET, this)) {
    close();
    return false;
  }
  const std::string input = std::move(handed_input_);
  handed_input_ = std::string();
  if (!input.empty() && !feed(input.data(), input.size())) return false;
  drive();
  return !closed_;
}

}  // namespace weft::h2
