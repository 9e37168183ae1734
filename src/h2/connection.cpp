#include "h2/connection.hpp"

#include <nghttp2/nghttp2.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <optional>
#include <utility>

#include "core/ascii.hpp"
#include "core/percent.hpp"
#include "http/error_page.hpp"
#include "http/parser.hpp"
#include "http/response_writer.hpp"
#include "net/read_epoch.hpp"
#include "weft/log.hpp"

namespace weft::h2 {
namespace {

// The connection window: large, so that request bodies of many streams flow at once (h2o uses
// 16 MiB); each stream keeps the default 64 KiB window, which is what backpressure holds back.
constexpr std::int32_t kConnectionWindow = 16 * 1024 * 1024;
constexpr std::size_t kReadChunk = std::size_t{16} * 1024;
// Bytes read per turn of the loop before the other connections get theirs.
constexpr std::size_t kReadBudgetPerTurn = std::size_t{256} * 1024;
// nghttp2's output is taken while less than this waits for the socket.
constexpr std::uint64_t kOutputHighWater = std::uint64_t{64} * 1024;
// Stream bytes are taken from an exchange while less than this waits in the stream.
constexpr std::uint64_t kStreamTakeBelow = std::uint64_t{64} * 1024;

// Client resets of streams we had not finished: a browser cancels a few (navigation, aborted
// fetches); an attacker thousands per second. Empty DATA frames without END_STREAM have no use.
constexpr double kResetBurst = 200;
constexpr double kResetsPerSecond = 50;
constexpr double kEmptyFrameBurst = 100;
constexpr double kEmptyFramesPerSecond = 10;
// A header block this far past the head limit is not worth decoding on: the stream is reset
// (an HPACK bomb decodes small input into huge field lists).
constexpr std::size_t kHeaderResetFactor = 4;

bool has_no_body(int status) { return status < 200 || status == 204 || status == 304; }

bool connection_specific(std::string_view lower_name) {
  return lower_name == "connection" || lower_name == "keep-alive" || lower_name == "transfer-encoding" ||
         lower_name == "upgrade" || lower_name == "proxy-connection";
}

// Whether two authorities name the same host and port once normalised as RFC 3986 6.2 asks: the
// host case-insensitively, and a port that is empty or the scheme's default the same as none.
bool same_authority(std::string_view a, std::string_view b, std::string_view default_port) {
  const auto normal = [default_port](std::string_view v) {
    const std::size_t colon = v.rfind(':');
    // A colon inside an IPv6 literal ("[::1]") is not a port's.
    if (colon == std::string_view::npos || v.find(']', colon) != std::string_view::npos) return v;
    const std::string_view port = v.substr(colon + 1);
    return port.empty() || port == default_port ? v.substr(0, colon) : v;
  };
  return core::iequals(normal(a), normal(b));
}

}  // namespace

struct Connection::Stream {
  std::int32_t id = 0;
  // The request head as it arrives.
  std::string method, path, authority;
  std::string fields;   // "name: value\r\n" lines
  std::string cookies;  // Cookie fields joined with "; " (RFC 9113 8.2.3)
  std::size_t field_bytes = 0;
  bool too_large = false;  // the head passed the size limit: 431
  bool body_done = false;  // END_STREAM received
  bool discard = false;    // answered already: DATA is dropped
  bool head_request = false;
  bool host_differs = false;  // a host field names another authority than :authority
  // A request for a handler.
  const exchange::Endpoint* endpoint = nullptr;
  Request request;
  std::vector<std::pair<std::string, std::string>> params;
  std::string body;
  std::uint64_t max_body = 0;  // 0: no limit
  std::uint64_t body_received = 0;
  bool stream_body = false;
  std::size_t unconsumed = 0;  // DATA bytes whose window is held back (the consumer is behind)
  std::shared_ptr<exchange::Exchange> exchange;
  // The answer.
  bool answered = false;   // HEADERS submitted
  bool streaming = false;  // a streamed answer whose end has not come
  // Body bytes not yet framed, from out[out_head] on: a vector, which (unlike a deque) costs
  // no allocation until a body comes, and keeps its capacity across a streamed answer.
  std::vector<http::BodyPart> out;
  std::size_t out_head = 0;
  std::uint64_t out_bytes = 0;
  bool out_end = false;   // `out` holds the rest of the body
  bool deferred = false;  // the data source said NGHTTP2_ERR_DEFERRED
  int status = 0;
  std::uint64_t sent = 0;
  bool logged = false;
  net::Clock::time_point started{};  // the head was complete (the loop's clock), for the metrics
  std::string referer, user_agent;   // for the access log, when it wants them
  std::string head;                  // the answer's head, which its HEADERS frame points into
};

struct Connection::Callbacks {
  static Connection& self(void* user_data) { return *static_cast<Connection*>(user_data); }
  static Stream* stream(Connection& c, std::int32_t id) {
    const auto it = c.streams_.find(id);
    return it == c.streams_.end() ? nullptr : it->second.get();
  }

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

  static ssize_t read_data(nghttp2_session* /*session*/, std::int32_t stream_id, std::uint8_t* /*buf*/,
                           std::size_t length, std::uint32_t* data_flags, nghttp2_data_source* /*source*/,
                           void* user_data) {
    Connection& c = self(user_data);
    Stream* s = stream(c, stream_id);
    if (s == nullptr) return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
    if (s->out_bytes == 0 && !s->out_end) {
      s->deferred = true;
      return NGHTTP2_ERR_DEFERRED;
    }
    const auto n = static_cast<std::size_t>(std::min<std::uint64_t>(length, s->out_bytes));
    *data_flags |= NGHTTP2_DATA_FLAG_NO_COPY;
    if (n == s->out_bytes && s->out_end) *data_flags |= NGHTTP2_DATA_FLAG_EOF;
    return static_cast<ssize_t>(n);
  }

  // Writes one DATA frame: its header, then `length` bytes of the stream's body parts, which
  // stay where they are (a file range goes out by sendfile on a cleartext socket).
  static int send_data(nghttp2_session* /*session*/, nghttp2_frame* frame, const std::uint8_t* framehd,
                       std::size_t length, nghttp2_data_source* /*source*/, void* user_data) {
    Connection& c = self(user_data);
    Stream* s = stream(c, frame->hd.stream_id);
    if (s == nullptr) return NGHTTP2_ERR_CALLBACK_FAILURE;
    http::OutputSpares& spares = c.host_.output_spares();
    c.out_.push(spares, std::string_view(reinterpret_cast<const char*>(framehd), 9));
    std::size_t left = length;
    while (left > 0 && s->out_head < s->out.size()) {
      http::BodyPart& part = s->out[s->out_head];
      const std::size_t k = static_cast<std::size_t>(std::min<std::uint64_t>(left, part.size()));
      if (part.file && c.tls_) {
        // TLS reads the file range into its record buffer beside the frame header anyway.
        c.out_.push_file(spares, part.file, part.offset, k);
        part.offset += k;
        part.length -= k;
      } else if (part.file) {
        // Cleartext: the frame's file bytes are read in behind its header, so that the DATA
        // frames of a turn go out in one send. A sendfile per 16 KiB frame and a send per 9-byte
        // header cost more than the read and the copy (measured: bench/compare --h2, 1 MiB h2c).
        std::string& tail = c.out_.tail(spares, k);
        const std::size_t at = tail.size();
        tail.resize(at + k);
        const ssize_t n = ::pread(part.file->get(), tail.data() + at, k, static_cast<off_t>(part.offset));
        if (n != static_cast<ssize_t>(k)) {  // the file shrank (or broke) under us: the framing is lost
          tail.resize(at);
          return NGHTTP2_ERR_CALLBACK_FAILURE;
        }
        part.offset += k;
        part.length -= k;
      } else {
        c.out_.push(spares, std::string_view(part.bytes).substr(0, k));
        part.bytes.erase(0, k);
      }
      if (part.size() == 0 && ++s->out_head == s->out.size()) {
        s->out.clear();
        s->out_head = 0;
      }
      left -= k;
    }
    s->out_bytes -= length;
    s->sent += length;
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
  const int rv = nghttp2_session_server_new2(&session_, callbacks, this, option);
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

bool Connection::is_idle() const noexcept { return streams_.empty() && out_.empty(); }

void Connection::on_io(std::uint32_t events) {
  if (closed_) return;
  if ((events & EPOLLERR) != 0) {
    close();
    return;
  }
  if ((events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP)) != 0) readable_ = true;
  if ((events & EPOLLOUT) != 0) writable_ = true;
  drive();
}

void Connection::on_resume() {
  resume_queued_ = false;
  if (closed_) return;
  for (auto& [id, s] : streams_) {
    if (s->exchange && !s->exchange->retry_delivery() && !resume_queued_) {
      resume_queued_ = true;
      host_.resume_later(*this);
    }
  }
  readable_ = true;
  drive();
}

void Connection::drive() {
  if (lingering_) {
    drain_lingering();
    return;
  }
  const std::uint64_t before = net::read_epoch;
  if (!read_input()) return;
  write_output();
  if (closed_) return;
  after_io(net::read_epoch != before);
}

bool Connection::read_input() {
  std::size_t budget = kReadBudgetPerTurn;
  // Not zeroed: recv and TLS fill what they return (clearing 16 KiB per turn cost more than
  // parsing a request).
  std::array<char, kReadChunk> buffer;
  // Read even when nghttp2 wants nothing more (GOAWAY sent, streams finishing): a client that
  // leaves must be noticed, and its streams' handlers cancelled.
  while (readable_ && !peer_eof_) {
    if (budget == 0) {
      if (!resume_queued_) {
        resume_queued_ = true;
        host_.resume_later(*this);
      }
      break;
    }
    long n = 0;
    if (tls_) {
      n = tls_->read(buffer);
      if (n == -1) readable_ = false;
    } else {
      n = ::recv(fd_.get(), buffer.data(), buffer.size(), 0);
      if (n < 0) {
        n = errno == EAGAIN || errno == EWOULDBLOCK ? -1 : errno == EINTR ? -1 : -2;
        if (errno == EAGAIN || errno == EWOULDBLOCK) readable_ = false;
      }
    }
    if (n == -1) break;
    if (n <= -2) {
      close();
      return false;
    }
    if (n == 0) {
      peer_eof_ = true;
      break;
    }
    ++net::read_epoch;
    http::LoopCounters::add(host_.counters().received_bytes, static_cast<std::uint64_t>(n));
    budget -= std::min(budget, static_cast<std::size_t>(n));
    if (!feed(buffer.data(), static_cast<std::size_t>(n))) return false;
  }
  if (peer_eof_) {
    // The client is gone: its streams cannot be answered. What nghttp2 queued is dropped.
    close();
    return false;
  }
  return true;
}

bool Connection::feed(const char* data, std::size_t size) {
  in_callbacks_ = true;
  const ssize_t rv = nghttp2_session_mem_recv(session_, reinterpret_cast<const std::uint8_t*>(data), size);
  in_callbacks_ = false;
  if (rv < 0) {
    // A fatal error (a bad preface, a flood nghttp2 caught): it has queued GOAWAY when it could.
    if (log_enabled(LogLevel::debug))
      log(LogLevel::debug, "http2 " + peer() + ": " + nghttp2_strerror(static_cast<int>(rv)));
    // A header block of endless CONTINUATION frames is stopped without one: the client is told.
    if (rv == NGHTTP2_ERR_TOO_MANY_CONTINUATIONS)
      (void)nghttp2_session_terminate_session(session_, NGHTTP2_ENHANCE_YOUR_CALM);
    goaway_sent_ = true;
    write_output();
    close();
    return false;
  }
  std::vector<std::int32_t> ready;
  ready.swap(ready_);
  for (const std::int32_t id : ready) {
    if (closed_) break;
    const auto it = streams_.find(id);
    if (it == streams_.end()) continue;  // reset meanwhile
    Stream& s = *it->second;
    if (s.endpoint != nullptr && !s.exchange && !s.answered) dispatch(s);
  }
  ready.clear();
  ready_.swap(ready);  // keeps the capacity
  return !closed_;
}

void Connection::write_output() {
  for (;;) {
    if (closed_) return;
    // Streams whose socket-side queue has room take more from their exchanges.
    for (auto& [id, s] : streams_) {
      if (s->streaming && s->exchange && s->out_bytes < kStreamTakeBelow && s->exchange->buffered() > 0) {
        pull_exchange(*s);
        if (closed_) return;
      }
    }
    bool produced = false;
    while (out_.pending() + (tls_ ? tls_->unsent() : 0) < kOutputHighWater) {
      const std::uint8_t* data = nullptr;
      in_callbacks_ = true;
      const ssize_t n = nghttp2_session_mem_send(session_, &data);
      in_callbacks_ = false;
      if (n < 0) {
        close();
        return;
      }
      if (n == 0) break;
      out_.push(host_.output_spares(),
                std::string_view(reinterpret_cast<const char*>(data), static_cast<std::size_t>(n)));
      produced = true;
    }
    if (out_.empty() && (!tls_ || tls_->unsent() == 0)) {
      if (!produced) break;
      continue;
    }
    if (!writable_) break;
    const http::OutputQueue::FlushResult r = tls_ ? out_.flush_tls(host_.output_spares(), *tls_, false)
                                                  : out_.flush(host_.output_spares(), fd_.get(), false);
    http::LoopCounters::add(host_.counters().sent_bytes, r.written);
    if (r.progress && timer_ == http::TimerKind::kWrite) arm(http::TimerKind::kWrite);
    switch (r.status) {
      case http::OutputQueue::FlushStatus::kDone:
        continue;
      case http::OutputQueue::FlushStatus::kBlocked:
        writable_ = false;
        return;
      case http::OutputQueue::FlushStatus::kBudget:
        if (!resume_queued_) {
          resume_queued_ = true;
          host_.resume_later(*this);
        }
        return;
      case http::OutputQueue::FlushStatus::kError:
      case http::OutputQueue::FlushStatus::kShrunk:
        close();
        return;
    }
  }
  // Nothing left to say and nothing to hear (GOAWAY both ways, or a fatal error): done.
  if (nghttp2_session_want_read(session_) == 0 && nghttp2_session_want_write(session_) == 0 && out_.empty() &&
      (!tls_ || tls_->unsent() == 0))
    close_lingering();
}

void Connection::after_io(bool read_progress) {
  if (closed_ || lingering_) return;
  if (!out_.empty() || (tls_ && tls_->unsent() > 0)) {
    if (timer_ != http::TimerKind::kWrite) arm(http::TimerKind::kWrite);
    return;
  }
  if (streams_.empty()) {
    if (drain_notice_) {
      if (timer_ != http::TimerKind::kDrainGrace) arm(http::TimerKind::kDrainGrace);
      return;
    }
    if (goaway_sent_ || host_.mode() != http::HostMode::kRunning) {
      close_lingering();
      return;
    }
    if (timer_ != http::TimerKind::kKeepAlive || read_progress) arm(http::TimerKind::kKeepAlive);
    return;
  }
  bool blocked_output = false;
  bool waiting_body = false;
  for (const auto& [id, s] : streams_) {
    if (s->out_bytes > 0) blocked_output = true;
    if (!s->body_done && !s->discard && s->unconsumed == 0) waiting_body = true;
  }
  if (blocked_output) {
    // Output held back by the client's flow-control window: a client that never opens it is
    // closed by the write timer, which only progress pushes back.
    if (timer_ != http::TimerKind::kWrite) arm(http::TimerKind::kWrite);
  } else if (waiting_body) {
    if (timer_ != http::TimerKind::kBody || read_progress) arm(http::TimerKind::kBody);
  } else {
    arm(http::TimerKind::kNone);
  }
}

void Connection::close_lingering() {
  if (lingering_ || closed_) return;
  if (peer_eof_) {
    close();
    return;
  }
  if (tls_) tls_->close_notify();
  ::shutdown(fd_.get(), SHUT_WR);
  lingering_ = true;
  arm(http::TimerKind::kLinger);
  drain_lingering();  // what is already there
}

void Connection::drain_lingering() {
  for (;;) {
    std::array<char, 4096> sink;  // not zeroed: only thrown away
    const ssize_t n = ::recv(fd_.get(), sink.data(), sink.size(), 0);
    if (n > 0) continue;
    if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) close();
    return;
  }
}

void Connection::arm(http::TimerKind kind) {
  timer_ = kind;
  if (kind == http::TimerKind::kNone) {
    disarm();
    return;
  }
  host_.timers().list(kind).arm(*this, host_.loop().now());
}

void Connection::on_timeout(http::TimerKind kind) {
  timer_ = http::TimerKind::kNone;
  if (closed_) return;
  if (kind == http::TimerKind::kLinger) {
    close();
    return;
  }
  if (kind == http::TimerKind::kWrite) {
    // A client that stopped reading or never opens its window: drop the unsent bytes now.
    const linger abort{1, 0};
    (void)::setsockopt(fd_.get(), SOL_SOCKET, SO_LINGER, &abort, sizeof abort);
    close();
    return;
  }
  // Idle (or a body that stopped coming): say goodbye properly, then close.
  (void)nghttp2_submit_goaway(session_, NGHTTP2_FLAG_NONE, nghttp2_session_get_last_proc_stream_id(session_),
                              NGHTTP2_NO_ERROR, nullptr, 0);
  goaway_sent_ = true;
  write_output();
  close();
}

void Connection::on_mode_change() {
  if (closed_) return;
  if (!goaway_sent_ && !drain_notice_ && streams_.empty() && host_.mode() == http::HostMode::kDraining &&
      host_.config().drain_idle_grace.count() > 0) {
    // As over HTTP/1.1, a request may be on its way on an idle connection: the shutdown notice
    // (GOAWAY with the highest stream id, RFC 9113 6.8) says no more will be taken soon; the
    // final GOAWAY follows with the first new stream, or when the grace timer fires.
    (void)nghttp2_submit_shutdown_notice(session_);
    drain_notice_ = true;
    arm(http::TimerKind::kDrainGrace);
    drive();
    return;
  }
  if (!goaway_sent_) {
    // Graceful drain (RFC 9113 6.8): streams up to the last one we processed are finished,
    // later ones the client may retry elsewhere.
    (void)nghttp2_submit_goaway(session_, NGHTTP2_FLAG_NONE,
                                nghttp2_session_get_last_proc_stream_id(session_), NGHTTP2_NO_ERROR, nullptr,
                                0);
    goaway_sent_ = true;
  }
  drive();
}

void Connection::close() {
  if (closed_) return;
  closed_ = true;
  if (resume_queued_) {
    host_.cancel_resume(*this);
    resume_queued_ = false;
  }
  disarm();
  timer_ = http::TimerKind::kNone;
  if (tls_ && !peer_eof_) tls_->close_notify();
  tls_.reset();
  fd_.reset();
  for (auto& [id, s] : streams_) {
    if (s->exchange) {
      s->exchange->detach(false);
      s->exchange.reset();
    }
  }
  out_.release(host_.output_spares());
  host_.closed(*this);
}

void Connection::on_exchange_news() {
  if (closed_) return;
  for (auto& [id, s] : streams_) {
    if (!s->exchange) continue;
    if (s->exchange->delivery_refused() && !s->exchange->retry_delivery() && !resume_queued_) {
      resume_queued_ = true;
      host_.resume_later(*this);
    }
    if (s->unconsumed > 0 && s->exchange->wants_body()) {
      const std::size_t n = s->unconsumed;
      s->unconsumed = 0;
      consume(*s, n);
    }
  }
  // Pulling may finish (and erase) nothing here: streams close only inside nghttp2 calls.
  for (auto& [id, s] : streams_) {
    if (s->exchange) pull_exchange(*s);
  }
  drive();
}

// ---- requests ----

Connection::Stream* Connection::begin_stream(std::int32_t id) {
  auto s = std::make_unique<Stream>();
  s->id = id;
  Stream* raw = s.get();
  streams_[id] = std::move(s);
  return raw;
}

int Connection::on_field(Stream& s, std::string_view name, std::string_view value) {
  // nghttp2 has checked the names (lower case, no connection-specific ones) and the values, and
  // the pseudo-header rules. The size is ours: past the HTTP/1.1 head limit it is a 431.
  s.field_bytes += name.size() + value.size() + 4;
  const std::size_t limit = host_.config().max_request_line + host_.config().max_header_bytes;
  if (s.field_bytes > limit) {
    s.too_large = true;
    return s.field_bytes > limit * kHeaderResetFactor ? NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE : 0;
  }
  if (!name.empty() && name.front() == ':') {
    if (name == ":method") {
      s.method = value;
    } else if (name == ":path") {
      s.path = value;
    } else if (name == ":authority") {
      s.authority = value;
    }
    return 0;
  }
  if (name == "cookie") {
    if (!s.cookies.empty()) s.cookies += "; ";
    s.cookies += value;
    return 0;
  }
  if (name == "host" && !s.authority.empty()) {
    // The same authority twice is fine; another one makes the request malformed (RFC 9113 8.3.1).
    if (!same_authority(value, s.authority, tls_ ? "443" : "80")) s.host_differs = true;
    return 0;
  }
  s.fields.append(name).append(": ").append(value).append("\r\n");
  return 0;
}

void Connection::on_request_head(Stream& s) {
  ++requests_;
  s.started = host_.loop().now();
  if (!goaway_sent_ && (drain_notice_ || requests_ >= host_.config().max_requests_per_connection)) {
    // The last stream this connection takes (the request limit, as HTTP/1.1's Connection:
    // close and nginx's keepalive_requests; or the first one after the drain's notice).
    drain_notice_ = false;
    last_stream_taken_ = s.id;
    (void)nghttp2_submit_goaway(session_, NGHTTP2_FLAG_NONE, s.id, NGHTTP2_NO_ERROR, nullptr, 0);
    goaway_sent_ = true;
  }
  s.head_request = s.method == "HEAD";
  if (s.too_large) {
    respond_error(s, 431, "the request header fields are too large");
    return;
  }
  if (s.host_differs) {
    respond_error(s, 400, "the host field differs from :authority");
    return;
  }
  // The head as HTTP/1.1 would carry it, read by HTTP/1.1's parser: the same checks and limits.
  std::string text;
  text.reserve(s.method.size() + s.path.size() + s.authority.size() + s.fields.size() + s.cookies.size() +
               48);
  text.append(s.method)
      .append(" ")
      .append(s.method == "CONNECT" ? s.authority : s.path)
      .append(" HTTP/1.1\r\n");
  if (!s.authority.empty()) text.append("Host: ").append(s.authority).append("\r\n");
  text.append(s.fields);
  if (!s.cookies.empty()) text.append("cookie: ").append(s.cookies).append("\r\n");
  text.append("\r\n");
  s.fields = std::string();
  s.cookies = std::string();
  std::unique_ptr<http::RequestParser> parser = host_.take_parser();
  const http::ParseResult result = parser->parse(text);
  if (result.status != http::ParseStatus::kComplete) {
    const int status = result.status == http::ParseStatus::kError ? http::status_code(result.error) : 400;
    const std::string_view why =
        result.status == http::ParseStatus::kError ? http::reason(result.error) : "incomplete request head";
    host_.give_parser(std::move(parser));
    respond_error(s, status, why);
    return;
  }
  const http::RequestHead& head = *result.head;
  const bool continue_expected = head.expect_continue && !s.body_done;
  if (host_.logs_client_fields()) {
    s.referer = head.find("Referer").value_or(std::string_view{});
    s.user_agent = head.find("User-Agent").value_or(std::string_view{});
  }
  std::string decoded;
  std::string_view path = head.path;
  if (core::needs_decoding(path)) {
    std::optional<std::string> d = core::decode_path(path);
    if (!d) {
      host_.give_parser(std::move(parser));
      respond_error(s, 400, "bad percent-encoding in the path");
      return;
    }
    decoded = std::move(*d);
    path = decoded;
  }
  http::Route route = host_.route(head, path);
  const std::optional<std::uint64_t> declared = head.body_length();
  const std::uint64_t body_limit =
      route.kind == http::Route::Kind::kHandle ? route.endpoint->max_body : host_.config().max_body;
  if (declared && body_limit != 0 && *declared > body_limit) {
    host_.give_parser(std::move(parser));
    respond_error(s, 413, "the request body is too large");
    return;
  }
  if (route.kind == http::Route::Kind::kRespond) {
    host_.give_parser(std::move(parser));
    s.discard = true;
    if (route.prepared != nullptr) {
      respond_prepared(s, *route.prepared, route.body);
    } else {
      respond(s, route.fixed != nullptr ? *route.fixed : route.response, std::move(route.body));
    }
    return;
  }
  Request::Parts parts;
  parts.method = head.method_token;
  parts.target = head.target;
  parts.path_decoded = path;
  parts.query = head.query;
  parts.host = head.host;
  const std::string peer = this->peer();
  parts.peer = peer;
  parts.version_minor = 0;
  parts.version_major = 2;
  parts.headers.reserve(head.header_count);
  for (const http::Header& h : head.headers()) parts.headers.push_back({h.name, h.value});
  s.request = Request::from_parts(parts);
  host_.give_parser(std::move(parser));
  if (tls_) s.request.set_tls(tls_->info());
  s.endpoint = route.endpoint;
  s.max_body = route.endpoint->max_body;
  s.params = std::move(route.params);
  if (route.endpoint->stream_body) {
    s.stream_body = true;
    Request request = std::move(s.request);
    s.request = Request();
    request.set_params(std::move(route.params));
    (void)start_exchange(s, std::move(request));
  }
  if (continue_expected && !s.answered) {
    // The body will be read: an interim 100 HEADERS asks for it (RFC 9113 8.1, RFC 9110 10.1.1).
    // Routes answered above never read it: their final status is the answer.
    static constexpr std::string_view kStatus = ":status";
    static constexpr std::string_view kContinue = "100";
    nghttp2_nv nv{const_cast<std::uint8_t*>(reinterpret_cast<const std::uint8_t*>(kStatus.data())),
                  const_cast<std::uint8_t*>(reinterpret_cast<const std::uint8_t*>(kContinue.data())),
                  kStatus.size(), kContinue.size(), NGHTTP2_NV_FLAG_NONE};
    (void)nghttp2_submit_headers(session_, NGHTTP2_FLAG_NONE, s.id, nullptr, &nv, 1, nullptr);
  }
}

void Connection::on_request_data(Stream& s, std::string_view data) {
  s.body_received += data.size();
  if (s.discard || (s.endpoint == nullptr && !s.exchange)) {
    consume(s, data.size());
    return;
  }
  if (s.max_body != 0 && s.body_received > s.max_body) {
    consume(s, data.size());
    if (s.stream_body) {
      if (s.exchange) s.exchange->end_body(BodyEnd::too_large);
      s.discard = true;
    } else {
      respond_error(s, 413, "the request body is too large");
    }
    return;
  }
  if (s.stream_body) {
    if (!s.exchange) {
      consume(s, data.size());
      return;
    }
    // The exchange copies the bytes; while its consumer is behind, the stream's window is held.
    const bool room = s.exchange->push_body(data);
    if (room && s.unconsumed == 0) {
      consume(s, data.size());
    } else {
      s.unconsumed += data.size();
    }
    return;
  }
  s.body.append(data);
  consume(s, data.size());
}

void Connection::on_request_end(Stream& s) {
  s.body_done = true;
  if (s.discard) return;
  if (s.stream_body) {
    if (s.exchange) s.exchange->end_body(BodyEnd::complete);
    return;
  }
  if (s.endpoint != nullptr && !s.exchange && !s.answered) ready_.push_back(s.id);
}

void Connection::on_stream_close(std::int32_t id) {
  const auto it = streams_.find(id);
  if (it == streams_.end()) return;
  Stream& s = *it->second;
  if (s.exchange) {
    // Reset by the client (or cut by us) before its answer ended: the handler is cancelled.
    s.exchange->detach(false);
    s.exchange.reset();
  }
  if (s.answered && !s.logged) log_access(s, s.status, s.sent);
  streams_.erase(it);
}

void Connection::consume(Stream& s, std::size_t n) {
  if (n > 0) (void)nghttp2_session_consume(session_, s.id, n);
}

void Connection::dispatch(Stream& s) {
  Request request;
  if (s.body.empty()) {
    request = std::move(s.request);
  } else {
    Request::Parts parts;
    const Request& head = s.request;
    parts.method = head.method();
    parts.target = head.target();
    parts.path_decoded = head.path();
    parts.query = head.query();
    parts.host = head.host();
    parts.peer = head.peer();
    parts.version_minor = 0;
    parts.version_major = 2;
    parts.body = s.body;
    parts.headers.reserve(head.headers().size());
    for (const Request::Header& h : head.headers()) parts.headers.push_back(h);
    request = Request::from_parts(parts);
    if (tls_) request.set_tls(tls_->info());
  }
  request.set_params(std::move(s.params));
  s.request = Request();
  s.body = std::string();
  (void)start_exchange(s, std::move(request));
}

bool Connection::start_exchange(Stream& s, Request request) {
  auto ex = std::make_shared<exchange::Exchange>();
  ex->attach(host_, id());
  if (s.stream_body) request.set_body_source(ex);
  s.exchange = ex;
  const Reply reply(std::move(ex));
  if (!host_.dispatch(*s.endpoint, std::move(request), reply)) {
    s.exchange->detach(false);
    s.exchange.reset();
    s.discard = true;
    Response busy = Response::html(503, http::error_page(503, "the server is busy; retry shortly"));
    busy.set_header("Retry-After", std::to_string(host_.config().retry_after_seconds));
    respond(s, busy, {});
    return false;
  }
  if (s.stream_body && s.body_done) s.exchange->end_body(BodyEnd::complete);
  return true;
}

// ---- answers ----

void Connection::pull_exchange(Stream& s) {
  if (!s.exchange) return;
  const std::size_t room =
      s.out_bytes < kStreamTakeBelow ? static_cast<std::size_t>(kStreamTakeBelow - s.out_bytes) : 0;
  exchange::Exchange::Outgoing got = s.exchange->take(room);
  if (got.response && !s.answered) {
    if (got.stream_start) {
      respond_stream_head(s, *got.response);
      if (!s.streaming) {  // HEAD or a bodiless status: the head is the whole answer
        s.exchange->cancel();
        finish_exchange(s, true);
        return;
      }
    } else {
      respond(s, *got.response, std::move(got.parts));
      finish_exchange(s, true);
      return;
    }
  }
  if (!s.streaming) return;
  if (!got.bytes.empty()) {
    s.out_bytes += got.bytes.size();
    s.out.push_back(http::BodyPart{std::move(got.bytes), nullptr, 0, 0});
  }
  if (got.abandoned) {
    // The producer went away mid-body: the client must not take it for a whole one.
    s.streaming = false;
    (void)nghttp2_submit_rst_stream(session_, NGHTTP2_FLAG_NONE, s.id, NGHTTP2_INTERNAL_ERROR);
    finish_exchange(s, false);
    return;
  }
  if (got.end) {
    s.out_end = true;
    s.streaming = false;
  }
  if (s.deferred && (s.out_bytes > 0 || s.out_end)) {
    s.deferred = false;
    (void)nghttp2_session_resume_data(session_, s.id);
  }
  if (got.end) finish_exchange(s, true);
}

void Connection::finish_exchange(Stream& s, bool completed) {
  if (!s.exchange) return;
  if (s.stream_body && !s.body_done) {
    // Answered before the upload ended: the rest is dropped (its window still given back).
    s.exchange->end_body(BodyEnd::aborted);
    s.discard = true;
    if (s.unconsumed > 0) {
      consume(s, s.unconsumed);
      s.unconsumed = 0;
    }
  }
  s.exchange->detach(completed);
  s.exchange.reset();
}

void Connection::respond(Stream& s, const Response& response, std::vector<http::BodyPart> body) {
  int status = response.status();
  const Response* chosen = &response;
  Response fallback;
  if (body.empty() && !response.file_path().empty()) {
    status = host_.open_file_body(response, body);
    if (status != 200) {
      fallback =
          Response::html(status, http::error_page(status, status == 403   ? "forbidden"
                                                          : status == 404 ? "no such file"
                                                                          : "the file cannot be opened now"));
      chosen = &fallback;
    }
  }
  std::uint64_t length = 0;
  if (body.empty()) {
    length = chosen->body().size();
  } else {
    for (const http::BodyPart& part : body) length += part.size();
  }
  const bool bodiless = has_no_body(status);
  http::HeadOptions options;
  options.server_name = host_.config().server_name;
  if (tls_) options.extra_fields = host_.https_fields();
  std::string head;
  http::append_head(head, status, chosen->headers(), bodiless ? 0 : length, options);
  const bool send_body = !bodiless && !s.head_request && length > 0;
  s.status = status;
  if (send_body) {
    if (body.empty()) {
      s.out.push_back(http::BodyPart{chosen->body(), nullptr, 0, 0});
    } else {
      for (http::BodyPart& part : body) s.out.push_back(std::move(part));
    }
    s.out_bytes = length;
    s.out_end = true;
  }
  s.logged = true;
  log_access(s, status, send_body ? length : 0);
  submit_head(s, std::move(head), send_body);
}

void Connection::respond_prepared(Stream& s, const http::PreparedResponse& prepared,
                                  std::vector<http::BodyPart>& more) {
  http::HeadOptions options;
  if (tls_) options.extra_fields = host_.https_fields();
  std::string head;
  http::append_prepared_head(head, prepared, options);
  const bool send_body = !has_no_body(prepared.status) && !s.head_request;
  std::uint64_t length = 0;
  if (send_body) {
    if (!prepared.body.empty()) s.out.push_back(http::BodyPart{prepared.body, nullptr, 0, 0});
    length = prepared.body.size();
    for (http::BodyPart& part : more) {
      length += part.size();
      s.out.push_back(std::move(part));
    }
    s.out_bytes = length;
    s.out_end = true;
  }
  s.status = prepared.status;
  s.logged = true;
  log_access(s, prepared.status, length);
  submit_head(s, std::move(head), send_body && length > 0);
}

void Connection::respond_error(Stream& s, int status, std::string_view why) {
  s.discard = true;
  respond(s, Response::html(status, http::error_page(status, why)), {});
}

void Connection::respond_stream_head(Stream& s, const Response& head) {
  s.status = head.status();
  const bool silent = has_no_body(s.status) || s.head_request;
  http::HeadOptions options;
  options.server_name = host_.config().server_name;
  if (tls_) options.extra_fields = host_.https_fields();
  options.framing =
      silent && has_no_body(s.status) ? http::BodyFraming::kLength : http::BodyFraming::kChunked;
  std::string text;
  http::append_head(text, s.status, head.headers(), 0, options);
  s.streaming = !silent;
  if (silent) {
    s.logged = true;
    log_access(s, s.status, 0);
  }
  submit_head(s, std::move(text), !silent);
}

void Connection::submit_head(Stream& s, std::string head_text, bool data) {
  s.answered = true;
  // The HTTP/1.1 head's field lines, minus framing and connection fields, lower-cased in place.
  // The stream keeps the text and nghttp2 points into it (NO_COPY): the stream outlives its
  // HEADERS frame, which is encoded before the stream can close, or dropped unread when the
  // client resets it first.
  s.head = std::move(head_text);
  std::string& text = s.head;
  // One per loop thread, reused: no allocation per answer (nghttp2 copies the array).
  static thread_local std::vector<nghttp2_nv> nva;
  nva.clear();
  const std::string status = std::to_string(s.status);
  static constexpr std::string_view kStatus = ":status";
  nva.push_back(nghttp2_nv{const_cast<std::uint8_t*>(reinterpret_cast<const std::uint8_t*>(kStatus.data())),
                           const_cast<std::uint8_t*>(reinterpret_cast<const std::uint8_t*>(status.data())),
                           kStatus.size(), status.size(), NGHTTP2_NV_FLAG_NONE});
  std::size_t pos = text.find("\r\n");
  while (pos != std::string::npos) {
    const std::size_t start = pos + 2;
    const std::size_t end = text.find("\r\n", start);
    if (end == std::string::npos || end == start) break;
    const std::size_t colon = text.find(':', start);
    if (colon != std::string::npos && colon < end) {
      for (std::size_t i = start; i < colon; ++i) text[i] = core::to_lower(text[i]);
      std::size_t value = colon + 1;
      while (value < end && (text[value] == ' ' || text[value] == '\t')) ++value;
      const std::string_view name(text.data() + start, colon - start);
      if (!connection_specific(name)) {
        nva.push_back(nghttp2_nv{reinterpret_cast<std::uint8_t*>(text.data() + start),
                                 reinterpret_cast<std::uint8_t*>(text.data() + value), colon - start,
                                 end - value, NGHTTP2_NV_FLAG_NO_COPY_NAME | NGHTTP2_NV_FLAG_NO_COPY_VALUE});
      }
    }
    pos = end;
  }
  nghttp2_data_provider provider{};
  provider.source.ptr = &s;
  provider.read_callback = &Callbacks::read_data;
  if (nghttp2_submit_response(session_, s.id, nva.data(), nva.size(), data ? &provider : nullptr) != 0) {
    (void)nghttp2_submit_rst_stream(session_, NGHTTP2_FLAG_NONE, s.id, NGHTTP2_INTERNAL_ERROR);
  }
}

void Connection::log_access(const Stream& s, int status, std::uint64_t bytes) {
  const std::string_view method = s.method.empty() ? std::string_view("-") : std::string_view(s.method);
  const std::string_view target = s.path.empty() ? std::string_view("-") : std::string_view(s.path);
  host_.access(
      *this, http::AccessRecord{method, target, 0, status, bytes, s.referer, s.user_agent, tls_ != nullptr, 2,
                                s.started, http::Protocol::kH2, tls_ ? tls_->info().get() : nullptr});
}

}  // namespace weft::h2
