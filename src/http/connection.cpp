#include "http/connection.hpp"

#include <fcntl.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <string>

#include "core/percent.hpp"
#include "http/error_page.hpp"
#include "http/response_writer.hpp"

namespace weft::http {
namespace {

constexpr std::size_t kReadChunk = std::size_t{16} * 1024;
// Input buffered beyond the head limits while a body streams through.
constexpr std::size_t kBodyBufferMax = std::size_t{64} * 1024;
// Output queued above this pauses request processing until the client reads
// (a pipelining client that never reads cannot make the server buffer forever).
constexpr std::size_t kOutputHighWater = std::size_t{256} * 1024;
// Small bodies are copied next to their head so that one write sends both.
constexpr std::size_t kCoalesceMax = std::size_t{16} * 1024;
constexpr std::size_t kMaxIov = 16;
// Bytes one connection may write per turn of the loop before the others get theirs (nginx
// sendfile_max_chunk, lighttpd's 256 KiB per event). Without it one large response fills the
// client's receive window in one go and the transfer stalls on zero-window probes.
constexpr std::size_t kWriteBudgetPerTurn = std::size_t{256} * 1024;

bool has_no_body(int status) { return status < 200 || status == 204 || status == 304; }

}  // namespace

Connection::Connection(ConnectionHost& host, net::UniqueFd fd, net::PeerAddress peer, std::uint64_t id)
    : host_(host), fd_(std::move(fd)), peer_(peer), id_(id) {}

Connection::~Connection() {
  if (resume_queued_) host_.cancel_resume(*this);
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
  return (state_ == State::kIdle || (state_ == State::kHead && in_.empty())) && out_head_ == out_.size();
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
  drive();
}

void Connection::on_resume() {
  resume_queued_ = false;
  if (state_ == State::kClosed) return;
  drive();
}

void ConnectionHost::run_resumes() {
  resuming_.swap(resumes_);
  // A resumed connection may cancel another one's entry: it is nulled in place, never erased,
  // and new entries go to resumes_, so this vector does not change size while it is walked.
  for (Connection* const& connection : resuming_) {
    if (connection != nullptr) connection->on_resume();
  }
  resuming_.clear();
}

void ConnectionHost::cancel_resume(Connection& connection) noexcept {
  std::erase(resumes_, &connection);
  std::replace(resuming_.begin(), resuming_.end(), &connection, static_cast<Connection*>(nullptr));
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
  const std::size_t out_before = out_.size() - out_head_;
  for (;;) {
    if (state_ == State::kClosed) return;
    bool progressed = false;
    std::size_t queued = 0;
    for (std::size_t i = out_head_; i < out_.size(); ++i) queued += out_[i].bytes.size() + out_[i].file_left;
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
      for (;;) {
        std::array<char, 4096> sink{};
        const ssize_t n = ::recv(fd_.get(), sink.data(), sink.size(), 0);
        if (n > 0) continue;
        if (n == 0 || (errno != EAGAIN && errno != EINTR)) close();
        return;
      }
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
  const bool wrote = flush();
  if (state_ == State::kClosed) return;
  if (state_ == State::kClosing && out_head_ == out_.size()) {
    // Everything is written. If the client may still be sending (we dropped
    // input, or bytes are waiting), half-close and linger so that our close
    // does not reset the connection before it has read the answer. Otherwise
    // close at once.
    if (peer_eof_ || (!unread_input_ && input_->empty() && (!readable_ || !input_pending()))) {
      close();
      return;
    }
    ::shutdown(fd_.get(), SHUT_WR);
    state_ = State::kLinger;
    arm(TimerKind::kLinger);
    drive_io();  // drain input that is already there
    return;
  }
  update_timer(read_progress, wrote || out_before != out_.size() - out_head_);
}

bool Connection::input_pending() const noexcept {
  char byte = 0;
  return ::recv(fd_.get(), &byte, 1, MSG_PEEK | MSG_DONTWAIT) > 0;
}

bool Connection::wants_input() const noexcept {
  switch (state_) {
    case State::kHead:
    case State::kIdle:
    case State::kBody:
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
  const ssize_t n = ::recv(fd_.get(), space.data(), space.size(), 0);
  if (n > 0) {
    in.commit(static_cast<std::size_t>(n));
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
      if (out_head_ == out_.size()) {
        close();
      } else {
        state_ = State::kClosing;
      }
      break;
    case State::kBody:
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
  const ReplyInfo info{head.method_token, head.target, head.version_minor, head.method == Method::kHead};
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
  Route route = host_.route(head, path);
  const std::optional<std::uint64_t> body_length = head.body_length();  // nullopt: chunked
  const bool has_body = !body_length || *body_length > 0;

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
  auto pending = std::make_unique<Pending>();
  Request::Parts parts;
  parts.method = head.method_token;
  parts.target = head.target;
  parts.path_decoded = path;
  parts.query = head.query;
  parts.host = head.host;
  const std::string peer = peer_.to_string();
  parts.peer = peer;
  parts.version_minor = head.version_minor;
  parts.headers.reserve(head.header_count);
  for (const Header& h : head.headers()) parts.headers.push_back({h.name, h.value});
  pending->request = Request::from_parts(parts);
  pending->handler = route.handler;
  pending->params = std::move(route.params);
  pending_ = std::move(pending);
  const bool continue_expected = head.expect_continue && has_body;
  in.consume(consumed);
  if (!has_body) {
    dispatch();
    return;
  }
  if (continue_expected && in.empty()) queue_bytes(kContinueResponse);
  begin_body(State::kBody, body_length);
}

void Connection::begin_body(State state, std::optional<std::uint64_t> length) {
  state_ = state;
  chunked_ = !length;
  body_left_ = length.value_or(0);
  if (chunked_) {
    if (!chunked_decoder_) chunked_decoder_ = std::make_unique<ChunkedDecoder>(host_.limits());
    chunked_decoder_->reset();
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
    if (keep) pending_->body.append(input.data(), n);
    in.consume(n);
    body_left_ -= n;
    if (body_left_ > 0) return n > 0;
  } else {
    for (;;) {
      const ChunkedResult r = chunked_decoder_->decode(input);
      if (r.status == ChunkedStatus::kError) {
        in.consume(in.size());
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
          pending_->body.append(r.data);
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
    }
    in.consume(in.size() - input.size());
  }
  // The body is complete.
  if (keep) {
    dispatch();
  } else {
    after_request();
  }
  return true;
}

void Connection::dispatch() {
  Pending& p = *pending_;
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
  Request request = Request::from_parts(parts);
  request.set_params(std::move(p.params));
  p.body = std::string();
  state_ = State::kDispatched;
  disarm();
  timer_ = TimerKind::kNone;
  if (!host_.dispatch(*this, p.handler, std::move(request))) {
    Response busy = Response::html(503, error_page(503, "the server is busy; retry shortly"));
    busy.set_header("Retry-After", std::to_string(host_.config().retry_after_seconds));
    complete(std::move(busy));
  }
}

// By value although only read today: a sink that callers move their response into
// (clang-tidy performance-unnecessary-value-param, cppcheck passedByValue), so taking ownership
// later changes no caller.
// cppcheck-suppress passedByValue
void Connection::complete(Response response) {  // NOLINT(performance-unnecessary-value-param)
  if (state_ != State::kDispatched || !pending_) return;
  const Request& r = pending_->request;
  if (host_.mode() != HostMode::kRunning || peer_eof_) keep_alive_ = false;
  queue_response(response, ReplyInfo{r.method(), r.target(), r.version_minor(), r.method() == "HEAD"});
  after_request();
  drive();
}

void Connection::after_request() {
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
    arm(TimerKind::kKeepAlive);
  } else {
    state_ = State::kHead;  // pipelined: the next head is already here
    arm(TimerKind::kHeader);
  }
}

void Connection::queue_error(int status, std::string_view why) {
  // Every parse or framing error closes: what follows cannot be trusted.
  keep_alive_ = false;
  unread_input_ = true;
  const int minor = parser_ ? parser_->head().version_minor : 1;
  queue_response(Response::html(status, error_page(status, why)), ReplyInfo{"-", "-", minor, false});
  input_->consume(input_->size());
  state_ = State::kClosing;
  pending_.reset();
}

void Connection::queue_response(const Response& response, const ReplyInfo& info, std::vector<BodyPart> body) {
  int status = response.status();
  const Response* chosen = &response;
  Response fallback;
  if (body.empty() && !response.file_path().empty()) {
    // A handler's Response::file: opened here, on the loop, when it is sent.
    auto file = std::make_shared<net::UniqueFd>(::open(response.file_path().c_str(), O_RDONLY | O_CLOEXEC));
    struct stat st {};
    if (!*file || ::fstat(file->get(), &st) != 0 || !S_ISREG(st.st_mode)) {
      const int err = *file ? 0 : errno;
      status = (err == EACCES || err == EPERM) ? 403 : 404;
      fallback = Response::html(status, error_page(status, status == 403 ? "forbidden" : "no such file"));
      chosen = &fallback;
    } else {
      body.push_back(BodyPart{{}, std::move(file), 0, static_cast<std::uint64_t>(st.st_size)});
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
  std::string head;
  append_head(head, status, chosen->headers(), bodiless ? 0 : length, options);
  const bool send_body = !bodiless && !info.head_request;
  if (send_body && body.empty() && chosen->body().size() <= kCoalesceMax) head.append(chosen->body());
  queue_owned(std::move(head));
  if (send_body && body.empty() && chosen->body().size() > kCoalesceMax) queue_bytes(chosen->body());
  if (send_body) queue_parts(body);
  host_.access(*this, info.method, info.target, info.version_minor, status, send_body ? length : 0);
}

void Connection::queue_prepared(const PreparedResponse& prepared, const ReplyInfo& info,
                                std::vector<BodyPart>& more) {
  HeadOptions options;
  options.close = !keep_alive_;
  options.http10_keep_alive = info.version_minor == 0 && keep_alive_;
  const bool send_body = !has_no_body(prepared.status) && !info.head_request;
  std::string& out = output_tail(prepared.status_line.size() + prepared.fields.size() + 64 +
                                 (send_body ? prepared.body.size() : 0));
  append_prepared_head(out, prepared, options);
  std::uint64_t sent = 0;
  if (send_body) {
    out += prepared.body;
    sent = prepared.body.size();
    for (BodyPart& part : more) sent += part.size();
    queue_parts(more);
  }
  host_.access(*this, info.method, info.target, info.version_minor, prepared.status, sent);
}

void Connection::queue_parts(std::vector<BodyPart>& parts) {
  for (BodyPart& part : parts) {
    if (!part.file) {
      queue_owned(std::move(part.bytes));
      continue;
    }
    if (part.length == 0) continue;
    OutChunk& chunk = new_chunk(false);
    chunk.file = std::move(part.file);
    chunk.file_offset = part.offset;
    chunk.file_left = part.length;
  }
}

std::string& Connection::output_tail(std::size_t extra) {
  if (OutChunk* tail = tail_for(extra)) return tail->bytes;
  std::string& bytes = new_chunk(true).bytes;
  bytes.reserve(extra);
  return bytes;
}

void Connection::release_output() {
  for (OutChunk& chunk : out_) {
    if (chunk.bytes.capacity() != 0) host_.give_bytes(std::move(chunk.bytes));
  }
  out_.clear();
  out_head_ = 0;
  host_.give_chunks(std::move(out_));
  out_ = {};
}

OutChunk& Connection::new_chunk(bool with_bytes) {
  if (out_.capacity() == 0) out_ = host_.take_chunks();
  OutChunk& chunk = out_.emplace_back();
  if (with_bytes) chunk.bytes = host_.take_bytes();
  return chunk;
}

OutChunk* Connection::tail_for(std::size_t extra) noexcept {
  if (out_head_ < out_.size() && !out_.back().file && out_.back().bytes.size() + extra <= kCoalesceMax * 4) {
    return &out_.back();
  }
  return nullptr;
}

void Connection::queue_bytes(std::string_view bytes) {
  if (bytes.empty()) return;
  if (OutChunk* tail = tail_for(bytes.size())) {
    tail->bytes.append(bytes);
    return;
  }
  new_chunk(true).bytes.assign(bytes);
}

void Connection::queue_owned(std::string&& bytes) {
  if (bytes.empty()) return;
  if (OutChunk* tail = tail_for(bytes.size())) {
    tail->bytes.append(bytes);
    return;
  }
  new_chunk(false).bytes = std::move(bytes);
}

bool Connection::flush() {
  bool progress = false;
  std::size_t budget = kWriteBudgetPerTurn;
  while (writable_ && out_head_ < out_.size()) {
    if (budget == 0) {
      if (!resume_queued_) {
        resume_queued_ = true;
        host_.resume_later(*this);
      }
      break;
    }
    OutChunk& front = out_[out_head_];
    if (front.file) {
      auto offset = static_cast<off_t>(front.file_offset);
      const ssize_t n =
          ::sendfile(fd_.get(), front.file->get(), &offset,
                     static_cast<std::size_t>(std::min<std::uint64_t>(front.file_left, kWriteBudgetPerTurn)));
      if (n > 0) {
        progress = true;
        budget -= std::min(budget, static_cast<std::size_t>(n));
        front.file_offset += static_cast<std::uint64_t>(n);
        front.file_left -= static_cast<std::uint64_t>(n);
        if (front.file_left == 0) ++out_head_;
        continue;
      }
      if (n == 0) {  // the file shrank under us: the promised length cannot be kept
        close();
        return progress;
      }
    } else {
      std::array<iovec, kMaxIov> iov{};
      std::size_t count = 0;
      for (std::size_t i = out_head_; i < out_.size() && count < kMaxIov && !out_[i].file; ++i) {
        iov[count].iov_base = out_[i].bytes.data() + out_[i].sent;
        iov[count].iov_len = out_[i].bytes.size() - out_[i].sent;
        ++count;
      }
      // A file follows these bytes (a response head, usually): let the kernel fill the segment
      // with the file's first bytes instead of pushing the head out alone.
      const bool file_follows = out_head_ + count < out_.size() && out_[out_head_ + count].file != nullptr;
      // So does the FIN of a connection that closes after this answer: with MSG_MORE the last
      // bytes wait in the socket for close() (or shutdown()), which sends them and the FIN in one
      // segment instead of two, as nginx's TCP_CORK does.
      const bool more = file_follows || state_ == State::kClosing;
      const int flags = MSG_NOSIGNAL | (more ? MSG_MORE : 0);
      ssize_t n = 0;
      if (count == 1) {  // the usual case; send() spares the kernel the msghdr and iovec import
        n = ::send(fd_.get(), iov[0].iov_base, iov[0].iov_len, flags);
      } else {
        msghdr msg{};
        msg.msg_iov = iov.data();
        msg.msg_iovlen = count;
        n = ::sendmsg(fd_.get(), &msg, flags);
      }
      if (n > 0) {
        progress = true;
        budget -= std::min(budget, static_cast<std::size_t>(n));
        auto left = static_cast<std::size_t>(n);
        while (left > 0) {
          OutChunk& c = out_[out_head_];
          const std::size_t take = std::min(left, c.bytes.size() - c.sent);
          c.sent += take;
          left -= take;
          if (c.sent == c.bytes.size()) ++out_head_;
        }
        continue;
      }
    }
    if (errno == EAGAIN || errno == EWOULDBLOCK) {
      writable_ = false;
    } else if (errno != EINTR) {
      close();
      return progress;
    }
  }
  if (out_head_ == out_.size() && !out_.empty()) release_output();
  return progress;
}

void Connection::update_timer(bool read_progress, bool write_progress) {
  if (out_head_ < out_.size()) {
    if (timer_ != TimerKind::kWrite || write_progress) arm(TimerKind::kWrite);
    return;
  }
  switch (state_) {
    case State::kHead:
      if (timer_ != TimerKind::kHeader) arm(TimerKind::kHeader);
      break;
    case State::kBody:
    case State::kDiscard:
      if (timer_ != TimerKind::kBody || read_progress) arm(TimerKind::kBody);
      break;
    case State::kIdle:
      if (timer_ != TimerKind::kKeepAlive) arm(TimerKind::kKeepAlive);
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
  if ((kind == TimerKind::kHeader && !in_.empty()) || (kind == TimerKind::kBody && state_ == State::kBody)) {
    // 408, written if the socket takes it at once; the connection closes either way.
    keep_alive_ = false;
    queue_response(Response::html(408, error_page(408, "the request took too long to arrive")),
                   ReplyInfo{"-", "-", 1, false});
    writable_ = true;
    flush();
  }
  close();
}

void Connection::on_mode_change() {
  if (state_ == State::kClosed) return;
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
  // Closing the socket removes it from epoll (weft never duplicates it), so
  // no EPOLL_CTL_DEL call is needed.
  fd_.reset();
  pending_.reset();
  input_->consume(input_->size());
  in_ = net::ByteBuffer();
  host_.give_parser(std::move(parser_));
  release_output();
  host_.closed(*this);
}

}  // namespace weft::http
