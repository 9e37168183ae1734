#include "http/connection.hpp"

#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <limits>
#include <string>

#include "core/percent.hpp"
#include "http/error_page.hpp"
#include "http/response_writer.hpp"
#include "net/read_epoch.hpp"
#include "net/socket.hpp"
#include "weft/log.hpp"

namespace weft::http {
namespace {

constexpr std::size_t kReadChunk = std::size_t{16} * 1024;
// Input buffered beyond the head limits while a body streams through.
constexpr std::size_t kBodyBufferMax = std::size_t{64} * 1024;
// Output queued above this pauses request processing until the client reads
// (a pipelining client that never reads cannot make the server buffer forever).
constexpr std::size_t kOutputHighWater = std::size_t{256} * 1024;
// Small bodies are copied next to their head so that one write sends both.
constexpr std::size_t kCoalesceMax = OutputQueue::kCoalesceMax;
// Stream bytes are taken from the exchange while less than this is queued for the socket, so a
// client that stops reading leaves the bytes in the exchange, where the producer sees them.
constexpr std::size_t kStreamTakeBelow = std::size_t{64} * 1024;
constexpr std::string_view kLastChunk = "0\r\n\r\n";
constexpr std::string_view kH2Preface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

bool has_no_body(int status) { return status < 200 || status == 204 || status == 304; }

}  // namespace

Connection::Connection(ConnectionHost& host, net::UniqueFd fd, net::PeerAddress peer, std::uint64_t id,
                       std::shared_ptr<const tls::ServerContext> tls, bool redirect)
    : HostedConnection(peer, id), host_(host), fd_(std::move(fd)), redirect_(redirect) {
  if (tls) tls_ = std::make_unique<tls::TlsStream>(std::move(tls), fd_.get());
}

Connection::~Connection() {
  if (resume_queued_) host_.cancel_resume(*this);
  if (exchange() != nullptr) exchange()->detach(false);
}

void Connection::start() { arm(TimerKind::kHeader); }

bool Connection::watch() {
  if (!host_.loop().add(fd_.get(), EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET, this)) {
    close();
    return false;
  }
  return true;
}

bool Connection::is_idle() const noexcept {
  return (state_ == State::kIdle || (state_ == State::kHead && in_.empty())) && output_empty();
}

void Connection::on_io(std::uint32_t events) {
  if (state_ == State::kClosed) return;
  if ((events & EPOLLERR) != 0) {
    close();
    return;
  }
  if ((events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP)) != 0) readable_ = true;
  if ((events & (EPOLLRDHUP | EPOLLHUP)) != 0) hangup_seen_ = true;
  if ((events & EPOLLOUT) != 0) writable_ = true;
  if (tls_ && !tls_->established() && !continue_handshake()) return;
  if (exchange() != nullptr && hangup_seen_ && !wants_input()) {
    // Nothing is read while a handler answers, so look: a client that closed its side while its
    // exchange is in flight has gone away (nginx counts it as an abort, 499). Bytes before the
    // EOF (a pipelined request, in the socket or already read into in_) mean it is still there.
    // Over TLS the socket holds records (a close_notify looks like data): OpenSSL peeks.
    bool gone = false;
    if (in_.empty() && tls_) {
      gone = tls_->peer_gone();
    } else if (in_.empty()) {
      char byte = 0;
      const ssize_t n = ::recv(fd_.get(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
      gone = n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR);
    }
    if (gone) {
      on_client_gone();
      return;
    }
  }
  drive();
}

bool Connection::continue_handshake() {
  switch (tls_->handshake()) {
    case tls::TlsStream::Handshake::kDone:
      LoopCounters::add(tls_->info()->resumed ? host_.counters().tls_resumed : host_.counters().tls_full);
      readable_ = true;  // OpenSSL may hold the first request already
      if (host_.offers_h2() && tls_->info()->alpn == "h2") {
        hand_over_h2();
        return false;
      }
      return true;
    case tls::TlsStream::Handshake::kWaiting:
      return false;  // the header timer, armed at start(), bounds the handshake too
    case tls::TlsStream::Handshake::kFailed:
      if (log_enabled(LogLevel::debug))
        log(LogLevel::debug, "tls handshake with " + peer() + " failed: " + tls_->failure());
      close();
      return false;
    case tls::TlsStream::Handshake::kNotTls:
      answer_plain_http();
      return false;
  }
  return false;
}

void Connection::answer_plain_http() {
  // Probably an http:// URL for this port: say so in plain text (nginx answers the same way)
  // rather than leave the client with a reset it cannot explain.
  tls_.reset();
  keep_alive_ = false;
  unread_input_ = true;
  queue_response(Response::text(400, "This port speaks HTTPS: use an https:// URL.\n"),
                 ReplyInfo{"-", "-", 1, false, {}, {}});
  state_ = State::kClosing;
  drive();
}

void Connection::hand_over_h2() {
  Handover handover;
  handover.fd = std::move(fd_);
  handover.peer = peer_address();
  handover.id = id();
  handover.tls = std::move(tls_);
  handover.input.assign(input_->data());
  input_->consume(input_->size());
  // This object stops here as a closed one would, but the socket lives on in the new connection.
  state_ = State::kClosed;
  if (resume_queued_) {
    host_.cancel_resume(*this);
    resume_queued_ = false;
  }
  disarm();
  timer_ = TimerKind::kNone;
  in_ = net::ByteBuffer();
  host_.give_parser(std::move(parser_));
  out_.release(host_.output_spares());
  host_.switch_to_h2(*this, std::move(handover));
}

void Connection::on_resume() {
  resume_queued_ = false;
  if (state_ == State::kClosed) return;
  if (exchange() != nullptr && !exchange()->retry_delivery() && !resume_queued_) {
    resume_queued_ = true;
    host_.resume_later(*this);
  }
  drive();
}

void Connection::on_exchange_news() {
  if (state_ == State::kClosed || !exchange()) return;
  if (exchange()->delivery_refused() && !exchange()->retry_delivery() && !resume_queued_) {
    resume_queued_ = true;
    host_.resume_later(*this);
  }
  if (body_paused_ && exchange()->wants_body()) body_paused_ = false;
  pull_exchange();
  if (state_ == State::kClosed) return;
  drive();
}

void Connection::on_client_gone() {
  peer_eof_ = true;
  if (pending_ == nullptr && answer_ != Answer::kStreaming && state_ != State::kBody) {
    state_ = State::kClosing;
    return;
  }
  close();  // cancels the exchange
}

void ConnectionHost::run_resumes() {
  resuming_.swap(resumes_);
  // A resumed connection may cancel another one's entry: it is nulled in place, never erased,
  // and new entries go to resumes_, so this vector does not change size while it is walked.
  for (HostedConnection* const& connection : resuming_) {
    if (connection != nullptr) connection->on_resume();
  }
  resuming_.clear();
}

void ConnectionHost::cancel_resume(HostedConnection& connection) noexcept {
  std::erase(resumes_, &connection);
  std::replace(resuming_.begin(), resuming_.end(), &connection, static_cast<HostedConnection*>(nullptr));
}

void Connection::drive() {
  // Read into the loop's scratch buffer while this connection holds no bytes
  // of its own; what is left unprocessed moves to the connection's own
  // buffer before the scratch serves another connection.
  if (in_.empty()) input_ = &host_.scratch();
  drive_io();
  stash_input();
}

void Connection::stash_input() {
  if (input_ == &in_) return;
  net::ByteBuffer& scratch = *input_;
  input_ = &in_;
  if (scratch.empty()) return;
  if (state_ != State::kClosed) {
    const std::string_view rest = scratch.data();
    const std::span<char> space = in_.prepare(rest.size(), rest.size() + kReadChunk);
    std::memcpy(space.data(), rest.data(), rest.size());
    in_.commit(rest.size());
  }
  scratch.consume(scratch.size());
}

void Connection::drive_io() {
  bool read_progress = false;
  const std::size_t out_before = out_.chunks_left();
  for (;;) {
    if (state_ == State::kClosed) return;
    bool progressed = false;
    const std::uint64_t queued = queued_bytes();
    if (queued < kOutputHighWater) {
      if (state_ == State::kHead || state_ == State::kIdle) {
        progressed = step_head();
      } else if (state_ == State::kBody || state_ == State::kDiscard) {
        progressed = step_body();
      }
    }
    if (state_ == State::kClosed) return;
    if (progressed) continue;
    if (state_ == State::kLinger) {
      // Drop whatever arrives; EOF ends the linger.
      if (!net::drop_input(fd_.get())) close();
      return;
    }
    if (body_paused_ && hangup_seen_ && upload_cut_short()) {
      // Waiting for the consumer would only delay this: the exchange is cancelled now rather
      // than after its handler has read every byte the client did send.
      on_client_gone();
      return;
    }
    if (!wants_input() || !readable_ || queued >= kOutputHighWater) break;
    const long n = read_some();
    if (n == -2) return;
    if (n == 0) {
      on_eof();
      continue;
    }
    if (n < 0) break;
    read_progress = true;
  }
  bool wrote = flush();
  if (state_ == State::kClosed) return;
  if (answer_ == Answer::kStreaming && queued_bytes() < kStreamTakeBelow && exchange()->buffered() > 0) {
    pull_exchange();  // the socket took what was queued: more of the stream
    if (state_ == State::kClosed) return;
    if (!exchange() && wants_input()) {
      // That was its end, and the next request may be waiting unread: edge-triggered epoll will
      // not report it again.
      drive_io();
      return;
    }
    wrote = flush() || wrote;
    if (state_ == State::kClosed) return;
  }
  if (state_ == State::kClosing && output_empty()) {
    // Everything is written. If the client may still be sending (we dropped
    // input, or bytes are waiting), half-close and linger so that our close
    // does not reset the connection before it has read the answer. Otherwise
    // close at once.
    if (peer_eof_ || (!unread_input_ && input_->empty() && (!readable_ || !input_pending()))) {
      close();
      return;
    }
    if (tls_) tls_->close_notify();
    ::shutdown(fd_.get(), SHUT_WR);
    state_ = State::kLinger;
    arm(TimerKind::kLinger);
    drive_io();  // drain input that is already there
    return;
  }
  update_timer(read_progress, wrote || out_before != out_.chunks_left());
}

bool Connection::input_pending() const noexcept {
  if (tls_ && tls_->buffered_input()) return true;
  char byte = 0;
  return ::recv(fd_.get(), &byte, 1, MSG_PEEK | MSG_DONTWAIT) > 0;
}

bool Connection::upload_cut_short() const noexcept {
  // Over TLS, OpenSSL may hold records that neither FIONREAD nor SSL_pending counts: no verdict.
  // A chunked body's end is in its bytes, not in a count: it is found by reading.
  if (state_ != State::kBody || chunked_ || tls_) return false;
  int in_socket = 0;
  if (::ioctl(fd_.get(), FIONREAD, &in_socket) != 0 || in_socket < 0) return false;
  return body_left_ > input_->size() + static_cast<std::uint64_t>(in_socket);
}

bool Connection::wants_input() const noexcept {
  switch (state_) {
    case State::kHead:
    case State::kIdle:
    case State::kBody:
      return !peer_eof_ && !body_paused_;
    case State::kDiscard:
      return !peer_eof_;
    default:
      return false;
  }
}

long Connection::read_some() {
  const ParserLimits& limits = host_.limits();
  const std::size_t head_max = limits.max_request_line + limits.max_header_bytes + 1024;
  const std::size_t max_total = state_ == State::kHead || state_ == State::kIdle ? head_max : kBodyBufferMax;
  net::ByteBuffer& in = *input_;
  const std::span<char> space = in.prepare(std::min(kReadChunk, max_total), max_total);
  if (space.empty()) return -1;  // full: the parser will have answered (414/431) already
  if (tls_) {
    // OpenSSL returns at most a record per call and may hold more than the socket shows, so
    // a short read means nothing here; "want read", or drained() (below), does.
    const long got = tls_->read(space);
    if (got > 0) {
      in.commit(static_cast<std::size_t>(got));
      LoopCounters::add(host_.counters().received_bytes, static_cast<std::uint64_t>(got));
      ++net::read_epoch;
      if (tls_->drained() && !hangup_seen_) readable_ = false;  // as for a short plain read
      return got;
    }
    if (got == -1) readable_ = false;
    if (got == -2) close();
    return got;
  }
  const ssize_t n = ::recv(fd_.get(), space.data(), space.size(), 0);
  if (n > 0) {
    in.commit(static_cast<std::size_t>(n));
    LoopCounters::add(host_.counters().received_bytes, static_cast<std::uint64_t>(n));
    ++net::read_epoch;
    // A short read drained the socket: edge-triggered epoll reports the next
    // bytes, so skip the read that would only say EAGAIN. Not after a hang-up
    // was seen: its event has passed, and only a read finds the EOF.
    if (static_cast<std::size_t>(n) < space.size() && !hangup_seen_) readable_ = false;
    return n;
  }
  if (n == 0) return 0;
  if (errno == EAGAIN || errno == EWOULDBLOCK) {
    readable_ = false;
    return -1;
  }
  if (errno == EINTR) return -1;
  close();
  return -2;
}

void Connection::on_eof() {
  peer_eof_ = true;
  readable_ = false;
  switch (state_) {
    case State::kIdle:
    case State::kHead:
      // An unfinished head can never complete; what was queued still goes out.
      if (output_empty()) {
        close();
      } else {
        state_ = State::kClosing;
      }
      break;
    case State::kBody:
      if (exchange() != nullptr) {
        on_client_gone();  // a streamed body cut short
        return;
      }
      state_ = State::kClosing;
      break;
    case State::kDiscard:
      state_ = State::kClosing;
      break;
    default:
      break;  // dispatched: answer, then close (keep_alive_ is re-checked in after_request)
  }
}

bool Connection::step_head() {
  net::ByteBuffer& in = *input_;
  if (in.empty()) return false;
  if (state_ == State::kIdle) {
    state_ = State::kHead;
    arm(TimerKind::kHeader);  // the whole-head deadline starts with its first byte
  }
  if (requests_ == 0 && !tls_ && !redirect_ && host_.offers_h2() && in.data().front() == 'P') {
    // HTTP/2 with prior knowledge (RFC 9113 3.3) opens with the preface, which no HTTP/1.1
    // request does: wait until it is whole or ruled out.
    const std::string_view data = in.data();
    const std::size_t n = std::min(data.size(), kH2Preface.size());
    if (data.substr(0, n) == kH2Preface.substr(0, n)) {
      if (n < kH2Preface.size()) return false;
      hand_over_h2();
      return true;
    }
  }
  // A connection holds a parser only while a head is incomplete: the common
  // request that arrives whole borrows the loop's and gives it straight back.
  if (!parser_) parser_ = host_.take_parser();
  const ParseResult result = parser_->parse(in.data());
  switch (result.status) {
    case ParseStatus::kNeedMore:
      return false;
    case ParseStatus::kError:
      queue_error(status_code(result.error), reason(result.error));
      break;
    case ParseStatus::kComplete:
      on_head(*result.head, result.consumed);
      break;
  }
  host_.give_parser(std::move(parser_));
  return true;
}

void Connection::on_head(const RequestHead& head, std::size_t consumed) {
  net::ByteBuffer& in = *input_;
  ++requests_;
  started_ = host_.loop().now();
  ReplyInfo info{head.method_token, head.target, head.version_minor, head.method == Method::kHead, {}, {}};
  if (host_.logs_client_fields()) {
    info.referer = head.find("Referer").value_or(std::string_view{});
    info.user_agent = head.find("User-Agent").value_or(std::string_view{});
  }
  // Most paths hold no escape: they are their own decoding, used in place.
  std::string decoded;
  std::string_view path = head.path;
  if (core::needs_decoding(path)) {
    std::optional<std::string> d = core::decode_path(path);
    if (!d) {
      queue_error(400, "bad percent-encoding in the path");
      return;
    }
    decoded = std::move(*d);
    path = decoded;
  }
  keep_alive_ = head.keep_alive && host_.mode() == HostMode::kRunning &&
                requests_ < host_.config().max_requests_per_connection;
  Route route = redirect_ ? host_.redirect_route(head) : host_.route(head, path);
  const std::optional<std::uint64_t> body_length = head.body_length();  // nullopt: chunked
  const bool has_body = !body_length || *body_length > 0;
  // A declared length over the limit is refused before a byte of it is read: the route's own
  // limit for a handler (0: none), Config::max_body for everything else.
  const std::uint64_t body_limit =
      route.kind == Route::Kind::kHandle ? route.endpoint->max_body : host_.config().max_body;
  if (body_length && body_limit != 0 && *body_length > body_limit) {
    in.consume(consumed);
    queue_error(413, "the request body is too large");
    return;
  }

  if (route.kind == Route::Kind::kRespond) {
    // Answer now. A small body is then read and dropped so the connection
    // stays usable; a large one, or one the client waits on (100-continue),
    // is never read: the connection closes after the answer.
    if (has_body &&
        (head.expect_continue || (body_length && *body_length > host_.config().max_discard_body))) {
      keep_alive_ = false;
      unread_input_ = true;
    }
    if (route.prepared != nullptr) {
      queue_prepared(*route.prepared, info, route.body);
    } else {
      queue_response(route.fixed != nullptr ? *route.fixed : route.response, info, std::move(route.body));
    }
    in.consume(consumed);
    if (!has_body || !keep_alive_) {
      after_request();
      return;
    }
    discarded_ = 0;
    begin_body(State::kDiscard, body_length);
    return;
  }

  // A handler will run: copy the head out of the input buffer (which may move
  // while the body arrives), then read the body.
  const exchange::Endpoint& endpoint = *route.endpoint;
  auto pending = std::make_unique<Pending>();
  Request::Parts parts;
  parts.method = head.method_token;
  parts.target = head.target;
  parts.path_decoded = path;
  parts.query = head.query;
  parts.host = head.host;
  const std::string peer = this->peer();
  parts.peer = peer;
  parts.version_minor = head.version_minor;
  parts.headers.reserve(head.header_count);
  for (const Header& h : head.headers()) parts.headers.push_back({h.name, h.value});
  pending->request = Request::from_parts(parts);
  if (tls_) pending->request.set_tls(tls_->info());
  pending->method = head.method_token;
  pending->target = head.target;
  pending->version_minor = head.version_minor;
  pending->referer = info.referer;
  pending->user_agent = info.user_agent;
  pending->endpoint = &endpoint;
  pending->owner = std::move(route.owner);
  pending->params = std::move(route.params);
  pending->max_body = endpoint.max_body;
  pending_ = std::move(pending);
  const bool continue_expected = head.expect_continue && has_body;
  in.consume(consumed);
  if (endpoint.stream_body) {
    // The handler starts now and reads the body as it arrives.
    Request request = std::move(pending_->request);
    pending_->request = Request();
    request.set_params(std::move(pending_->params));
    stream_body_ = true;
    if (!start_exchange(std::move(request))) return;
    if (!has_body) {
      exchange()->end_body(BodyEnd::complete);
      state_ = State::kDispatched;
      disarm();
      timer_ = TimerKind::kNone;
      finish_exchange_if_done();
      return;
    }
    if (continue_expected && in.empty()) out_.push(host_.output_spares(), kContinueResponse);
    begin_body(State::kBody, body_length);
    return;
  }
  if (!has_body) {
    dispatch();
    return;
  }
  if (continue_expected && in.empty()) out_.push(host_.output_spares(), kContinueResponse);
  begin_body(State::kBody, body_length);
}

void Connection::begin_body(State state, std::optional<std::uint64_t> length) {
  state_ = state;
  chunked_ = !length;
  body_left_ = length.value_or(0);
  if (chunked_) {
    // The decoder refuses a chunk that would pass the body limit at its size line, before its
    // data: the route's limit for a handler (0: none), Config::max_body for a dropped body.
    std::uint64_t limit = host_.config().max_body;
    if (state == State::kBody && pending_) limit = pending_->max_body;
    ParserLimits limits = host_.limits();
    limits.max_body = limit == 0 ? std::numeric_limits<std::uint64_t>::max() : limit;
    chunked_decoder_ = std::make_unique<ChunkedDecoder>(limits);
  }
  arm(TimerKind::kBody);
}

bool Connection::step_body() {
  net::ByteBuffer& in = *input_;
  if (in.empty()) return false;
  const bool keep = state_ == State::kBody;
  std::string_view input = in.data();
  if (!chunked_) {
    const std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(body_left_, input.size()));
    if (keep) {
      if (stream_body_) {
        if (!exchange()->push_body(input.substr(0, n))) body_paused_ = true;
      } else {
        pending_->body.append(input.data(), n);
      }
    }
    in.consume(n);
    body_left_ -= n;
    if (body_left_ > 0) return n > 0;
  } else {
    for (;;) {
      const ChunkedResult r = chunked_decoder_->decode(input);
      if (r.status == ChunkedStatus::kError) {
        in.consume(in.size());
        if (keep && exchange() != nullptr) {
          exchange()->end_body(r.error == ParseError::kBodyTooLarge ? BodyEnd::too_large
                                                                    : BodyEnd::bad_framing);
          if (answer_ != Answer::kNone) {
            cut_after_queued();  // an answer is under way: no error answer can follow it
            return true;
          }
        }
        if (!keep) {
          // kDiscard: this request is answered already, and a second answer (the 400) would be
          // taken by the client as the answer to its next request. Close after the answer.
          keep_alive_ = false;
          unread_input_ = true;
          after_request();
          return true;
        }
        queue_error(status_code(r.error), reason(r.error));
        return true;
      }
      if (r.status == ChunkedStatus::kData) {
        if (keep) {
          if (stream_body_) {
            if (!exchange()->push_body(r.data)) body_paused_ = true;
          } else {
            pending_->body.append(r.data);
          }
        } else {
          discarded_ += r.data.size();
        }
      }
      input.remove_prefix(r.consumed);
      if (!keep && discarded_ > host_.config().max_discard_body) {
        // Too much to drop politely: the answer is out, close.
        in.consume(in.size());
        keep_alive_ = false;
        unread_input_ = true;
        after_request();
        return true;
      }
      if (r.status == ChunkedStatus::kDone) break;
      if (r.status == ChunkedStatus::kNeedMore) {
        in.consume(in.size());
        return true;
      }
      if (body_paused_) {  // the consumer is behind: keep the rest for later
        in.consume(in.size() - input.size());
        return false;
      }
    }
    in.consume(in.size() - input.size());
  }
  // The body is complete.
  if (!keep) {
    after_request();
  } else if (stream_body_) {
    exchange()->end_body(BodyEnd::complete);
    state_ = State::kDispatched;
    disarm();
    timer_ = TimerKind::kNone;
    finish_exchange_if_done();
  } else {
    dispatch();
  }
  return true;
}

void Connection::dispatch() {
  Pending& p = *pending_;
  Request request;
  if (p.body.empty()) {
    request = std::move(p.request);  // no body to add: the head's copy is the request
  } else {
    // One buffer for head and body, so the handler's Request owns a single allocation.
    Request::Parts parts;
    const Request& head = p.request;
    parts.method = head.method();
    parts.target = head.target();
    parts.path_decoded = head.path();
    parts.query = head.query();
    parts.host = head.host();
    parts.peer = head.peer();
    parts.version_minor = head.version_minor();
    parts.body = p.body;
    parts.headers.reserve(head.headers().size());
    for (const Request::Header& h : head.headers()) parts.headers.push_back(h);
    request = Request::from_parts(parts);
  }
  p.request = Request();
  request.set_params(std::move(p.params));
  p.body = std::string();
  state_ = State::kDispatched;
  disarm();
  timer_ = TimerKind::kNone;
  start_exchange(std::move(request));
}

bool Connection::start_exchange(Request request) {
  auto ex = std::make_shared<exchange::Exchange>();
  ex->attach(host_, id());
  ex->hold(pending_->owner);
  if (stream_body_) request.set_body_source(ex);
  pending_->exchange = ex;
  answer_ = Answer::kNone;
  // A copy of the Reply stays here until dispatch() returns: if the pool refuses the job, the
  // exchange is cancelled before this last copy goes, so no "dropped without an answer" 500.
  const Reply reply(std::move(ex));
  if (!host_.dispatch(*pending_->endpoint, std::move(request), reply)) {
    // The handler never ran: the busy answer is ours to give, and a streamed body is not read.
    exchange()->detach(false);
    pending_->exchange.reset();
    stream_body_ = false;
    keep_alive_ = keep_alive_ && state_ == State::kDispatched;
    if (state_ != State::kDispatched) unread_input_ = true;
    Response busy = Response::html(503, error_page(503, "the server is busy; retry shortly"));
    busy.set_header("Retry-After", std::to_string(host_.config().retry_after_seconds));
    queue_response(busy, reply_info());
    after_request();
    return false;
  }
  return true;
}

Connection::ReplyInfo Connection::reply_info() const {
  const Pending& p = *pending_;
  return ReplyInfo{p.method, p.target, p.version_minor, p.method == "HEAD", p.referer, p.user_agent};
}

void Connection::pull_exchange() {
  if (!exchange() || answer_ == Answer::kDone) return;
  const std::uint64_t queued = queued_bytes();
  const std::size_t room =
      queued < kStreamTakeBelow ? static_cast<std::size_t>(kStreamTakeBelow - queued) : 0;
  exchange::Exchange::Outgoing got = exchange()->take(room);
  if (got.response) {
    if (host_.mode() != HostMode::kRunning || peer_eof_) keep_alive_ = false;
    if (got.stream_start) {
      queue_stream_head(*got.response, reply_info());
      answer_ = Answer::kStreaming;
      if (pending_->stream_silent) {
        // HEAD, or a status without a body: the head is the whole answer. The producer is told
        // (cancelled) rather than left to write a body nobody will get.
        exchange()->cancel();
        end_stream();
        finish_exchange_if_done();
        return;
      }
    } else {
      const bool body_unread = state_ == State::kBody;
      if (body_unread) keep_alive_ = false;
      queue_response(*got.response, reply_info(), std::move(got.parts));
      answer_ = Answer::kDone;
      if (body_unread) {
        // Answered before the body ended (a rejected upload): the rest is not read; close after
        // the answer, lingering so that the client sees it.
        exchange()->end_body(BodyEnd::aborted);
        unread_input_ = true;
        state_ = State::kClosing;
        return;
      }
    }
  }
  if (answer_ == Answer::kStreaming) {
    queue_stream_bytes(got.bytes);
    if (got.abandoned) {
      cut_after_queued();  // the client must not take a truncated body for a whole one
      return;
    }
    if (got.end) end_stream();
  }
  finish_exchange_if_done();
}

void Connection::queue_stream_bytes(std::string_view bytes) {
  if (bytes.empty() || pending_->stream_silent) return;
  pending_->stream_sent += bytes.size();
  if (!pending_->stream_chunked) {
    out_.push(host_.output_spares(), bytes);
    return;
  }
  std::array<char, 24> size{};
  const auto [end, ec] = std::to_chars(size.data(), size.data() + size.size() - 2, bytes.size(), 16);
  (void)ec;  // 16 hex digits always fit
  char* p = end;
  *p++ = '\r';
  *p++ = '\n';
  std::string& tail =
      out_.tail(host_.output_spares(), static_cast<std::size_t>(p - size.data()) + bytes.size() + 2);
  tail.append(size.data(), p);
  tail.append(bytes);
  tail.append("\r\n");
}

void Connection::end_stream() {
  if (pending_->stream_chunked && !pending_->stream_silent) out_.push(host_.output_spares(), kLastChunk);
  answer_ = Answer::kDone;
  const ReplyInfo info = reply_info();
  host_.access(*this, access_record(info, pending_->stream_status, pending_->stream_sent));
}

void Connection::cut_after_queued() {
  if (exchange() != nullptr) exchange()->detach(false);
  answer_ = Answer::kNone;
  stream_body_ = false;
  body_paused_ = false;
  pending_.reset();
  keep_alive_ = false;
  unread_input_ = true;
  input_->consume(input_->size());
  state_ = State::kClosing;
}

void Connection::finish_exchange_if_done() {
  if (answer_ != Answer::kDone || state_ != State::kDispatched || !exchange()) return;
  exchange()->detach(true);
  pending_->exchange.reset();
  stream_body_ = false;
  body_paused_ = false;
  answer_ = Answer::kNone;
  after_request();
}

void Connection::after_request() {
  if (exchange() != nullptr) {  // the answer came before the request ended (refused, 413, 400): it is over
    exchange()->detach(false);
    answer_ = Answer::kNone;
    stream_body_ = false;
    body_paused_ = false;
  }
  pending_.reset();
  if (host_.mode() != HostMode::kRunning) keep_alive_ = false;
  if (!keep_alive_ || state_ == State::kClosing) {
    state_ = State::kClosing;
    return;
  }
  if (!nodelay_) {
    // The connection lives on: later responses must not wait for Nagle behind
    // an unacknowledged one. (A first response has nothing in flight before it,
    // so a connection that closes after one never pays this system call.)
    net::set_nodelay(fd_.get());
    nodelay_ = true;
  }
  if (input_->empty()) {
    state_ = State::kIdle;
    in_.release_if_empty();  // an idle connection keeps no request memory
    if (tls_) tls_->note_idle();
    arm(TimerKind::kKeepAlive);
  } else {
    state_ = State::kHead;  // pipelined: the next head is already here
    arm(TimerKind::kHeader);
  }
}

void Connection::queue_response(const Response& response, const ReplyInfo& info, std::vector<BodyPart> body) {
  int status = response.status();
  const Response* chosen = &response;
  Response fallback;
  if (body.empty() && !response.file_path().empty()) {
    status = host_.open_file_body(response, body);
    if (status != 200) {
      fallback =
          Response::html(status, error_page(status, status == 403   ? "forbidden"
                                                    : status == 404 ? "no such file"
                                                                    : "the file cannot be opened now"));
      chosen = &fallback;
    }
  }
  std::uint64_t length = 0;
  if (body.empty()) {
    length = chosen->body().size();
  } else {
    for (const BodyPart& part : body) length += part.size();
  }
  const bool bodiless = has_no_body(status);
  HeadOptions options;
  options.close = !keep_alive_;
  options.http10_keep_alive = info.version_minor == 0 && keep_alive_;
  options.server_name = host_.config().server_name;
  if (tls_) options.extra_fields = host_.https_fields();
  std::string head;
  append_head(head, status, chosen->headers(), bodiless ? 0 : length, options);
  const bool send_body = !bodiless && !info.head_request;
  if (send_body && body.empty() && chosen->body().size() <= kCoalesceMax) head.append(chosen->body());
  out_.push(host_.output_spares(), std::move(head));
  if (send_body && body.empty() && chosen->body().size() > kCoalesceMax)
    out_.push(host_.output_spares(), std::string_view(chosen->body()));
  if (send_body) out_.push(host_.output_spares(), body);
  host_.access(*this, access_record(info, status, send_body ? length : 0));
}

void Connection::queue_stream_head(const Response& head, const ReplyInfo& info) {
  pending_->stream_status = head.status();
  pending_->stream_sent = 0;
  pending_->stream_silent = has_no_body(pending_->stream_status) || info.head_request;
  // HTTP/1.1 marks the end with the last chunk; an HTTP/1.0 client knows no chunks, so the
  // body ends when the connection closes (RFC 9112 6.3, rule 8).
  pending_->stream_chunked = info.version_minor >= 1;
  if (!pending_->stream_chunked && !pending_->stream_silent) keep_alive_ = false;
  HeadOptions options;
  options.close = !keep_alive_;
  options.http10_keep_alive = info.version_minor == 0 && keep_alive_;
  options.server_name = host_.config().server_name;
  if (tls_) options.extra_fields = host_.https_fields();
  options.framing = pending_->stream_chunked ? BodyFraming::kChunked : BodyFraming::kClose;
  if (pending_->stream_silent) {
    // HEAD: the fields a GET would get, without a body; a bodiless status has no framing at all.
    options.framing = has_no_body(pending_->stream_status) ? BodyFraming::kLength : options.framing;
  }
  std::string out;
  append_head(out, pending_->stream_status, head.headers(), 0, options);
  out_.push(host_.output_spares(), std::move(out));
}

void Connection::queue_error(int status, std::string_view why) {
  // Every parse or framing error closes: what follows cannot be trusted.
  keep_alive_ = false;
  unread_input_ = true;
  const int minor = parser_ ? parser_->head().version_minor : 1;
  queue_response(Response::html(status, error_page(status, why)), ReplyInfo{"-", "-", minor, false, {}, {}});
  input_->consume(input_->size());
  state_ = State::kClosing;
  if (exchange() != nullptr) {
    exchange()->detach(false);
    pending_->exchange.reset();
    answer_ = Answer::kNone;
  }
  pending_.reset();
}

void Connection::queue_prepared(const PreparedResponse& prepared, const ReplyInfo& info,
                                std::vector<BodyPart>& more) {
  HeadOptions options;
  options.close = !keep_alive_;
  options.http10_keep_alive = info.version_minor == 0 && keep_alive_;
  if (tls_) options.extra_fields = host_.https_fields();
  const bool send_body = !has_no_body(prepared.status) && !info.head_request;
  std::string& out = out_.tail(host_.output_spares(), prepared.status_line.size() + prepared.fields.size() +
                                                          64 + (send_body ? prepared.body.size() : 0));
  append_prepared_head(out, prepared, options);
  std::uint64_t sent = 0;
  if (send_body) {
    out += prepared.body;
    sent = prepared.body.size();
    for (BodyPart& part : more) sent += part.size();
    out_.push(host_.output_spares(), more);
  }
  host_.access(*this, access_record(info, prepared.status, sent));
}

bool Connection::flush() {
  if (!writable_ || output_empty()) return false;
  const bool closing = state_ == State::kClosing;
  const OutputQueue::FlushResult r = tls_ ? out_.flush_tls(host_.output_spares(), *tls_, closing)
                                          : out_.flush(host_.output_spares(), fd_.get(), closing);
  LoopCounters::add(host_.counters().sent_bytes, r.written);
  switch (r.status) {
    case OutputQueue::FlushStatus::kDone:
      break;
    case OutputQueue::FlushStatus::kBlocked:
      writable_ = false;
      break;
    case OutputQueue::FlushStatus::kBudget:
      if (!resume_queued_) {
        resume_queued_ = true;
        host_.resume_later(*this);
      }
      break;
    case OutputQueue::FlushStatus::kError:
    case OutputQueue::FlushStatus::kShrunk:
      close();
      break;
  }
  return r.progress;
}

void Connection::update_timer(bool read_progress, bool write_progress) {
  if (!output_empty()) {
    if (timer_ != TimerKind::kWrite || write_progress) arm(TimerKind::kWrite);
    return;
  }
  switch (state_) {
    case State::kHead:
      if (timer_ != TimerKind::kHeader) arm(TimerKind::kHeader);
      break;
    case State::kBody:
      if (body_paused_) {  // waiting for the consumer, not for the client
        disarm();
        timer_ = TimerKind::kNone;
        break;
      }
      [[fallthrough]];
    case State::kDiscard:
      if (timer_ != TimerKind::kBody || read_progress) arm(TimerKind::kBody);
      break;
    case State::kIdle:
      // Draining, the grace timer replaces the keep-alive one: it must not be pushed back.
      if (timer_ != TimerKind::kKeepAlive && timer_ != TimerKind::kDrainGrace) arm(TimerKind::kKeepAlive);
      break;
    case State::kDispatched:
      disarm();
      timer_ = TimerKind::kNone;
      break;
    default:
      break;
  }
}

void Connection::arm(TimerKind kind) {
  timer_ = kind;
  if (kind == TimerKind::kNone) {
    disarm();
    return;
  }
  host_.timers().list(kind).arm(*this, host_.loop().now());
}

void Connection::on_timeout(TimerKind kind) {
  timer_ = TimerKind::kNone;
  if (state_ == State::kClosed) return;
  if (kind == TimerKind::kWrite) {
    // A client that stopped reading: reset rather than close, so the kernel
    // drops the unsent bytes now instead of keeping them for the client.
    const linger abort{1, 0};
    (void)::setsockopt(fd_.get(), SOL_SOCKET, SO_LINGER, &abort, sizeof abort);
    close();
    return;
  }
  // Not while discarding the body of an answered request: that 408 would be a second answer.
  if (exchange() != nullptr && state_ == State::kBody) exchange()->end_body(BodyEnd::aborted);
  if (answer_ == Answer::kNone && ((kind == TimerKind::kHeader && !in_.empty()) ||
                                   (kind == TimerKind::kBody && state_ == State::kBody))) {
    // 408, written if the socket takes it at once; the connection closes either way.
    keep_alive_ = false;
    queue_response(Response::html(408, error_page(408, "the request took too long to arrive")),
                   ReplyInfo{"-", "-", 1, false, {}, {}});
    writable_ = true;
    flush();
  }
  close();
}

void Connection::on_mode_change() {
  if (state_ == State::kClosed) return;
  if (state_ == State::kIdle && host_.mode() == HostMode::kDraining &&
      host_.config().drain_idle_grace.count() > 0) {
    // A keep-alive client, a proxy above all, may be sending its next request on this
    // connection right now: closing would lose that request, and the client could not tell
    // whether it was handled. Stay open a short while instead; a request that comes is answered
    // with Connection: close (on_head sees the mode), a client that sends nothing is closed
    // when the grace timer fires, and the drain deadline bounds both.
    arm(TimerKind::kDrainGrace);
    return;
  }
  if (state_ == State::kIdle || (host_.mode() == HostMode::kDraining && is_idle())) {
    close();
  }
}

void Connection::close() {
  if (state_ == State::kClosed) return;
  state_ = State::kClosed;
  if (resume_queued_) {
    host_.cancel_resume(*this);
    resume_queued_ = false;
  }
  disarm();
  timer_ = TimerKind::kNone;
  // An orderly end says so (RFC 8446 6.1), so the client can tell it from a cut.
  if (tls_ && !peer_eof_) tls_->close_notify();
  tls_.reset();
  // Closing the socket removes it from epoll (weft never duplicates it), so
  // no EPOLL_CTL_DEL call is needed.
  fd_.reset();
  if (exchange() != nullptr) {
    exchange()->detach(false);  // the producer or consumer is told (cancelled)
    pending_->exchange.reset();
  }
  pending_.reset();
  input_->consume(input_->size());
  in_ = net::ByteBuffer();
  host_.give_parser(std::move(parser_));
  out_.release(host_.output_spares());
  host_.closed(*this);
}

}  // namespace weft::http
