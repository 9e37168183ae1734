#pragma once
// Connection: one client socket's HTTP/1.1 state machine (loop thread only).
//
//   head ──route: respond──> [response queued] ──body?──> discard ──┐
//     │                                                              ├─> idle | head (pipelined) | closing
//     └──route: handle──> body ──> dispatched ──answer──> [queued]───┘
//
// A handled request is an exchange (exchange/exchange.hpp) between this loop
// and application code on other threads. Its answer arrives through
// on_exchange_news(): whole, or a head and then streamed bytes (chunked for
// HTTP/1.1, until close for HTTP/1.0). A streamed request body is pushed into
// the exchange while it arrives (the handler started at the head); reading
// pauses while the consumer is behind. The request is finished when both its
// body has been read and its answer queued.
//
// Requests are handled one at a time, so responses leave strictly in request
// order; the next pipelined request is parsed only after the current one's
// body has been consumed, so a request is never read out of a body. Memory
// for the request (parser, buffer) is taken when bytes arrive and given back
// when the connection goes idle. Timers: one armed at a time, chosen by state.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "exchange/exchange.hpp"
#include "http/chunked_decoder.hpp"
#include "http/connection_host.hpp"
#include "http/hosted_connection.hpp"
#include "http/output_queue.hpp"
#include "http/parser.hpp"
#include "net/byte_buffer.hpp"
#include "net/event_loop.hpp"
#include "net/socket.hpp"
#include "net/timer_list.hpp"
#include "net/unique_fd.hpp"
#include "tls/tls_stream.hpp"
#include "weft/request.hpp"
#include "weft/response.hpp"

namespace weft::http {

class Connection final : public HostedConnection {
 public:
  /// `tls`: the connection is HTTPS, with these certificates (null: cleartext). `redirect`: every
  /// request is answered by the host's redirect to HTTPS (ConnectionHost::route).
  Connection(ConnectionHost& host, net::UniqueFd fd, net::PeerAddress peer, std::uint64_t id,
             std::shared_ptr<const tls::ServerContext> tls = nullptr, bool redirect = false);
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;
  ~Connection() override;

  /// Arms the header timer. The connection is not yet watched by epoll: a freshly accepted
  /// socket usually holds its request already (the listener defers accept until data arrives),
  /// so the host calls on_io(EPOLLIN) at once and watch() only if the connection lives on. A
  /// request answered with close then costs no epoll_ctl at all.
  void start();
  /// Registers with the loop (edge-triggered; epoll reports readiness that arrived before).
  /// False when epoll refuses (then closed()). Call once, and only while !is_closed().
  bool watch();

  void on_io(std::uint32_t events) override;
  /// Continues writing after the host's resume_later() (see ConnectionHost::run_resumes).
  void on_resume() override;
  /// The armed timer fired (the host pops it from `kind`'s list).
  void on_timeout(TimerKind kind) override;
  /// The exchange in flight has news (an answer, stream bytes, room for body bytes); loop thread.
  void on_exchange_news() override;
  /// The host's mode changed: close if idle, else finish the current request with close.
  void on_mode_change() override;
  /// Closes the socket now; the host is told through closed().
  void close() override;

  [[nodiscard]] bool is_closed() const noexcept override { return state_ == State::kClosed; }
  /// True between requests with nothing buffered, queued or in flight.
  [[nodiscard]] bool is_idle() const noexcept override;

 private:
  enum class State : std::uint8_t {
    kHead,        // reading a request head (or waiting for its first byte)
    kBody,        // reading the body of a request a handler will get
    kDiscard,     // reading and dropping the body of an answered request
    kDispatched,  // a handler runs; input waits
    kIdle,        // keep-alive: between requests, nothing buffered
    kClosing,     // flushing the last response, then linger
    kLinger,      // write side shut; dropping input until EOF or timeout
    kClosed,
  };

  // A request routed to a handler, while its body arrives (buffered routes) and the handler runs.
  struct Pending {
    // The head copied out of the input buffer until the handler has it (then released: the
    // handler's copy is the one that lives, and an open stream should cost little here).
    Request request;
    const exchange::Endpoint* endpoint = nullptr;
    std::shared_ptr<const void> owner;  // Route::owner: keeps `endpoint` alive
    std::vector<std::pair<std::string, std::string>> params;
    std::string body;
    std::uint64_t max_body = 0;  // 0: no limit
    // For the answer's framing and the access log, kept after `request` is released.
    std::string method;
    std::string target;
    int version_minor = 1;
    std::string referer;  // only when the host logs them (logs_client_fields)
    std::string user_agent;
    // The exchange in flight (the application's handles hold the other references), and how its
    // streamed answer is framed. Here rather than in the connection: an idle connection has none.
    std::shared_ptr<exchange::Exchange> exchange;
    bool stream_chunked = false;  // bytes are framed as chunks
    bool stream_silent = false;   // HEAD or a bodiless status: bytes are dropped
    int stream_status = 0;
    std::uint64_t stream_sent = 0;  // body bytes of the stream, for the access log
  };
  // Where the answer of the exchange in flight stands.
  enum class Answer : std::uint8_t {
    kNone,       // no exchange, or not answered yet
    kStreaming,  // head queued; body bytes follow
    kDone,       // the whole answer is queued
  };

  /// Runs the TLS handshake on; true once established (HTTP may start).
  bool continue_handshake();
  /// The client speaks HTTP/2: the socket, TLS stream and input go to the host's HTTP/2 connection.
  void hand_over_h2();
  /// The client spoke cleartext to the TLS port: a plain-text 400, then close.
  void answer_plain_http();
  void drive();
  void drive_io();
  /// Moves unprocessed bytes out of the loop's scratch buffer into in_.
  void stash_input();
  bool step_head();
  bool step_body();
  void on_head(const RequestHead& head, std::size_t consumed);
  /// Starts reading (kBody) or dropping (kDiscard) a body of `length` bytes (nullopt: chunked).
  void begin_body(State state, std::optional<std::uint64_t> length);
  void dispatch();
  /// Creates the exchange for pending_ and hands it to the host; false when refused (503 queued).
  bool start_exchange(Request request);
  /// Takes what the exchange has for us and queues it.
  void pull_exchange();
  void queue_stream_bytes(std::string_view bytes);
  void end_stream();
  /// Ends the current answer unfinished: what is queued (earlier answers, the bytes of this one
  /// so far) still goes out, then the connection closes, so the client sees this answer cut.
  void cut_after_queued();
  /// The request's body is read and its answer queued: on to the next one.
  void finish_exchange_if_done();
  /// The client went away while an exchange was in flight.
  void on_client_gone();
  void after_request();
  void on_eof();

  [[nodiscard]] bool wants_input() const noexcept;
  /// Nothing left to write: neither queued bytes nor encrypted ones the socket has not taken.
  [[nodiscard]] bool output_empty() const noexcept { return out_.empty() && (!tls_ || tls_->unsent() == 0); }
  /// Bytes waiting to be written, plaintext and encrypted.
  [[nodiscard]] std::uint64_t queued_bytes() const noexcept {
    return out_.pending() + (tls_ ? tls_->unsent() : 0);
  }
  /// True when the client has sent bytes not yet read (a non-blocking peek).
  [[nodiscard]] bool input_pending() const noexcept;
  // A paused upload whose client has half-closed: its Content-Length asks for more bytes than
  // are left to read (in our buffer and in the socket, before the FIN), so it can never end.
  [[nodiscard]] bool upload_cut_short() const noexcept;
  /// >0 bytes read, 0 EOF, -1 nothing now (EAGAIN or buffer full), -2 error (closed).
  long read_some();
  bool flush();
  void update_timer(bool read_progress, bool write_progress);
  void arm(TimerKind kind);

  struct ReplyInfo {
    std::string_view method;
    std::string_view target;
    int version_minor = 1;
    bool head_request = false;
    std::string_view referer;  // for the access log, when it wants them
    std::string_view user_agent;
  };
  /// The access log's record of an answer described by `info`.
  [[nodiscard]] AccessRecord access_record(const ReplyInfo& info, int status,
                                           std::uint64_t body_bytes) const {
    return AccessRecord{info.method,
                        info.target,
                        info.version_minor,
                        status,
                        body_bytes,
                        info.referer,
                        info.user_agent,
                        tls_ != nullptr,
                        1,
                        info.method == "-" ? net::Clock::time_point{} : started_,
                        Protocol::kHttp1,
                        tls_ ? tls_->info().get() : nullptr};
  }
  [[nodiscard]] ReplyInfo reply_info() const;
  /// The exchange in flight, or null.
  [[nodiscard]] exchange::Exchange* exchange() const noexcept {
    return pending_ ? pending_->exchange.get() : nullptr;
  }
  /// Queues `response`; a non-empty `body` replaces the response's own body.
  void queue_response(const Response& response, const ReplyInfo& info, std::vector<BodyPart> body = {});
  /// Queues the head of a streamed response.
  void queue_stream_head(const Response& head, const ReplyInfo& info);
  void queue_error(int status, std::string_view why);
  /// Queues `prepared`, then the parts of `more` (moved from) as the rest of its body.
  void queue_prepared(const PreparedResponse& prepared, const ReplyInfo& info, std::vector<BodyPart>& more);

  ConnectionHost& host_;
  net::UniqueFd fd_;

  State state_ = State::kHead;
  TimerKind timer_ = TimerKind::kNone;
  bool readable_ = true;  // edge-triggered: true until a read returns EAGAIN
  bool writable_ = true;
  bool peer_eof_ = false;
  bool hangup_seen_ = false;    // an event carried EPOLLRDHUP/EPOLLHUP: read until EOF
  bool resume_queued_ = false;  // in the host's resume list
  bool nodelay_ = false;        // TCP_NODELAY set (on the first keep-alive turn)
  bool keep_alive_ = true;
  bool unread_input_ = false;  // input was dropped unread: linger before closing
  std::uint32_t requests_ = 0;
  net::Clock::time_point started_{};  // when the current request's head was complete
  std::uint64_t body_left_ = 0;       // kBody/kDiscard with Content-Length
  std::uint64_t discarded_ = 0;       // kDiscard: bytes dropped so far
  bool chunked_ = false;              // kBody/kDiscard: chunked framing
  // (Beside chunked_, in what would be padding: an idle connection pays nothing for them.)
  Answer answer_ = Answer::kNone;  // of the exchange in flight (pending_->exchange)
  bool stream_body_ = false;       // kBody: the body goes to the exchange as it arrives
  bool body_paused_ = false;       // kBody: the consumer is behind; reading waits
  bool redirect_ = false;          // a redirect listener's connection (see the constructor)

  net::ByteBuffer in_;                     // bytes kept between events (usually none)
  net::ByteBuffer* input_ = &in_;          // in_, or during drive() the loop's scratch
  std::unique_ptr<RequestParser> parser_;  // taken when a request starts
  std::unique_ptr<ChunkedDecoder> chunked_decoder_;
  std::unique_ptr<Pending> pending_;
  OutputQueue out_;
  std::unique_ptr<tls::TlsStream> tls_;  // HTTPS only
};

}  // namespace weft::http
