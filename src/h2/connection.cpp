#include "h2/connection.hpp"

#include <nghttp2/nghttp2.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <string>

#include "h2/stream.hpp"
#include "net/read_epoch.hpp"
#include "net/socket.hpp"
#include "weft/log.hpp"

namespace weft::h2 {
namespace {

constexpr std::size_t kReadChunk = std::size_t{16} * 1024;
// Bytes read per turn of the loop before the other connections get theirs.
constexpr std::size_t kReadBudgetPerTurn = std::size_t{256} * 1024;
// nghttp2's output is taken while less than this waits for the socket.
constexpr std::uint64_t kOutputHighWater = std::uint64_t{64} * 1024;

}  // namespace

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
  if (!net::drop_input(fd_.get())) close();
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

}  // namespace weft::h2
