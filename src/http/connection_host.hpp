#pragma once
// ConnectionHost: what a Connection needs from the server around it. The
// connection does HTTP/1.1 mechanics (framing, keep-alive, pipelining, timers,
// writing); the host decides what to answer (routes), runs handlers on the
// pool, logs, and owns the connection. Loop thread only.

#include <algorithm>
#include <array>
#include <cstdint>
#include <functional>
#include <limits>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "exchange/endpoint.hpp"
#include "exchange/exchange.hpp"
#include "http/hosted_connection.hpp"
#include "http/limits.hpp"
#include "http/loop_counters.hpp"
#include "http/output_queue.hpp"
#include "http/parser.hpp"
#include "http/response_writer.hpp"
#include "net/byte_buffer.hpp"
#include "net/event_loop.hpp"
#include "net/timer_list.hpp"
#include "net/unique_fd.hpp"
#include "tls/tls_stream.hpp"
#include "weft/config.hpp"
#include "weft/reply.hpp"
#include "weft/request.hpp"
#include "weft/response.hpp"
#include "weft/tls_info.hpp"

namespace weft::http {

/// What to do with a request whose head has arrived.
struct Route {
  enum class Kind : std::uint8_t {
    kRespond,  ///< answer on the loop with `fixed` (if set) or `response`; the body is discarded
    kHandle,   ///< host.dispatch() the request to `endpoint`: after its body, or at once when it streams
  };
  Kind kind = Kind::kRespond;
  const Response* fixed = nullptr;  ///< a constant response owned by the host
  /// A response rendered once (preferred over `fixed` and `response` when set); its body is
  /// `prepared->body`, followed by `body`'s parts.
  const PreparedResponse* prepared = nullptr;
  /// Keeps what `prepared`, `fixed` or `endpoint` point into alive while the route is used (for
  /// kHandle: until the exchange is over).
  std::shared_ptr<const void> owner;
  Response response;  ///< used when `fixed` is null
  /// When non-empty: the body, sent with `response`'s status and headers
  /// (Content-Length is their total). Static files use it.
  std::vector<BodyPart> body;
  /// kHandle: what answers (owned by the host, alive while it serves).
  const exchange::Endpoint* endpoint = nullptr;
  std::vector<std::pair<std::string, std::string>> params;
};

/// The server's life stage, as connections see it.
enum class HostMode : std::uint8_t {
  kRunning,    ///< normal
  kFinishing,  ///< no more connections will come (exit-after): answer with close, close when idle
  kDraining,   ///< stop(): as kFinishing, and connections that have sent nothing are closed too
};

/// The timeout a connection waits on (at most one at a time).
enum class TimerKind : std::uint8_t { kNone, kHeader, kBody, kKeepAlive, kWrite, kLinger, kDrainGrace };

/// The timers of one loop, one list per kind of timeout.
struct Timers {
  explicit Timers(const Config& c)
      : header(c.header_timeout),
        body(c.body_timeout),
        keepalive(c.keepalive_timeout),
        write(c.write_timeout),
        drain_grace(c.drain_idle_grace) {}
  net::TimerList header;     ///< whole head, from its first byte (or from accept)
  net::TimerList body;       ///< no body byte for this long
  net::TimerList keepalive;  ///< idle between requests
  net::TimerList write;      ///< no byte written for this long
  /// After the last response of a closing connection: read and drop what the
  /// client still sends for this long, so that our close does not turn into a
  /// reset that destroys the response in flight (RFC 9112 9.6; nginx
  /// lingering_timeout 5 s).
  net::TimerList linger{std::chrono::seconds(2)};
  /// Draining: an idle keep-alive connection waits this long for a request already on its way
  /// (Config::drain_idle_grace), then closes.
  net::TimerList drain_grace;

  /// Every list with the kind of timeout it holds, in the order a loop expires them.
  [[nodiscard]] std::array<std::pair<net::TimerList*, TimerKind>, 6> lists() noexcept {
    return {{{&header, TimerKind::kHeader},
             {&body, TimerKind::kBody},
             {&keepalive, TimerKind::kKeepAlive},
             {&write, TimerKind::kWrite},
             {&linger, TimerKind::kLinger},
             {&drain_grace, TimerKind::kDrainGrace}}};
  }
  /// The list of `kind`, which is not kNone.
  [[nodiscard]] net::TimerList& list(TimerKind kind) noexcept {
    for (const auto& [timers, k] : lists()) {
      if (k == kind) return *timers;
    }
    return linger;  // not reached: every kind but kNone has its list
  }
  /// The earliest deadline over all lists (time_point::max() when none is armed).
  [[nodiscard]] net::Clock::time_point next_deadline() noexcept {
    net::Clock::time_point d = net::Clock::time_point::max();
    for (const auto& [timers, kind] : lists()) d = std::min(d, timers->next_deadline());
    return d;
  }
};

/// What an HTTP/1.1 connection hands over when its client speaks HTTP/2 (the preface on a
/// cleartext port, or ALPN "h2"): the socket, its TLS stream, and the bytes already read.
struct Handover {
  net::UniqueFd fd;
  net::PeerAddress peer;
  std::uint64_t id = 0;
  std::unique_ptr<tls::TlsStream> tls;
  std::string input;
};

/// One finished response as the access log records it. The views are valid during the call.
struct AccessRecord {
  std::string_view method;  ///< "-" when the request could not be parsed
  std::string_view target;  ///< likewise
  int version_minor = 1;
  int status = 0;
  std::uint64_t body_bytes = 0;  ///< body bytes sent (none for HEAD and bodiless statuses)
  /// The request's Referer and User-Agent; empty when absent, or when the host's log does not
  /// record them (ConnectionHost::logs_client_fields()).
  std::string_view referer;
  std::string_view user_agent;
  bool https = false;     ///< the connection speaks TLS
  int version_major = 1;  ///< 2 for HTTP/2 (then version_minor is 0)
  /// When the request's head was complete (the loop's clock); the epoch when there was no
  /// request to time (a parse error, a timeout): then the answer counts, but is not timed.
  net::Clock::time_point started{};
  Protocol protocol = Protocol::kHttp1;
  /// What the connection's TLS handshake negotiated (version, SNI name); null on cleartext.
  /// Valid for the call it is passed to.
  const TlsInfo* tls = nullptr;
};

class ConnectionHost : public exchange::Owner {
 public:
  ConnectionHost(const Config& config, net::EventLoop& loop)
      : config_(config),
        limits_(limits_from(config)),
        https_fields_(https_fields_from(config)),
        logs_client_fields_(!config.access_log.empty() && config.access_log_format != AccessLogFormat::clf),
        loop_(loop),
        timers_(config) {}
  ConnectionHost(const ConnectionHost&) = delete;
  ConnectionHost& operator=(const ConnectionHost&) = delete;

  [[nodiscard]] const Config& config() const noexcept { return config_; }
  [[nodiscard]] const ParserLimits& limits() const noexcept { return limits_; }
  [[nodiscard]] net::EventLoop& loop() noexcept { return loop_; }
  [[nodiscard]] Timers& timers() noexcept { return timers_; }
  [[nodiscard]] HostMode mode() const noexcept { return mode_; }
  /// Field lines added to every HTTPS response (Strict-Transport-Security); empty = none.
  [[nodiscard]] std::string_view https_fields() const noexcept { return https_fields_; }
  /// The access log records Referer and User-Agent: a request waiting for its handler keeps
  /// copies of them for its AccessRecord (only then: they cost memory per open exchange).
  [[nodiscard]] bool logs_client_fields() const noexcept { return logs_client_fields_; }
  /// This loop's metrics (written by this loop's thread only; see loop_counters.hpp).
  [[nodiscard]] LoopCounters& counters() noexcept { return counters_; }
  [[nodiscard]] const LoopCounters& counters() const noexcept { return counters_; }

  /// A parser for a request head, from this loop's spares when there are any
  /// (constructing one zeroes ~3 KiB of header slots).
  [[nodiscard]] std::unique_ptr<RequestParser> take_parser() {
    if (spare_parsers_.empty()) return std::make_unique<RequestParser>(limits_);
    std::unique_ptr<RequestParser> parser = std::move(spare_parsers_.back());
    spare_parsers_.pop_back();
    parser->reset();
    return parser;
  }
  /// Keeps `parser` for the next request of any connection of this loop.
  void give_parser(std::unique_ptr<RequestParser> parser) {
    if (parser && spare_parsers_.size() < kMaxSpares) spare_parsers_.push_back(std::move(parser));
  }
  /// Output storage shared by this loop's connections.
  [[nodiscard]] OutputSpares& output_spares() noexcept { return output_spares_; }
  /// The loop's read buffer: a connection reads into it and parses there,
  /// and moves what is left unprocessed into its own buffer before it
  /// returns to the loop. Empty between connection calls.
  [[nodiscard]] net::ByteBuffer& scratch() noexcept { return scratch_; }

  /// Asks for `connection`.on_resume() in the next turn of the loop: it has used its write
  /// budget for this turn with output left, and the socket is still writable (edge-triggered
  /// epoll will not say so again). The host's loop must call run_resumes() once per turn, before
  /// it destroys closed connections, and not wait in epoll while has_resumes().
  void resume_later(HostedConnection& connection) { resumes_.push_back(&connection); }
  [[nodiscard]] bool has_resumes() const noexcept { return !resumes_.empty(); }
  /// Resumes the connections queued before this call.
  void run_resumes();
  /// Forgets `connection`'s pending resume (it is closing or going away).
  void cancel_resume(HostedConnection& connection) noexcept;

  /// Decides how to answer `head`, whose path decodes to `path`.
  [[nodiscard]] virtual Route route(const RequestHead& head, std::string_view path) = 0;
  /// How to answer `head` on a cleartext listener that only sends clients to HTTPS.
  [[nodiscard]] virtual Route redirect_route(const RequestHead& head) = 0;
  /// Starts `endpoint` with `request` and `reply` off the loop (a pool worker). What it answers
  /// reaches the connection through its exchange. False when the pool cannot take it (-> 503).
  [[nodiscard]] virtual bool dispatch(const exchange::Endpoint& endpoint, Request request, Reply reply) = 0;
  // exchange::Owner: post_news(id) calls that connection's on_exchange_news() on this loop, if
  // it still exists; run_off_loop runs an exchange's body delivery on the pool.
  /// Opens the file of a handler's Response::file as `body`; returns 200, or the error status
  /// to answer instead (403, 404, 503). Loop thread.
  [[nodiscard]] virtual int open_file_body(const Response& response, std::vector<BodyPart>& body) = 0;
  /// One access-log entry for a finished response.
  virtual void access(const HostedConnection& connection, const AccessRecord& record) = 0;
  /// Whether a client may speak HTTP/2 (Config::http2 and a host that implements switch_to_h2).
  [[nodiscard]] virtual bool offers_h2() const noexcept { return false; }
  /// Replaces `from` (which has stopped using its socket, and is_closed()) by an HTTP/2
  /// connection on `handover`, under the same id. `from` is destroyed as a closed connection is.
  virtual void switch_to_h2(HostedConnection& /*from*/, Handover /*handover*/) {}
  /// The connection has closed its socket; the host may destroy it once the
  /// current event has been handled (never during a Connection member call).
  virtual void closed(HostedConnection& connection) = 0;

 protected:
  ~ConnectionHost() = default;
  void set_mode(HostMode mode) noexcept { mode_ = mode; }

 private:
  static ParserLimits limits_from(const Config& c) noexcept {
    ParserLimits l;
    l.max_request_line = c.max_request_line;
    l.max_header_bytes = c.max_header_bytes;
    l.max_headers = c.max_headers < kHeaderCapacity ? c.max_headers : kHeaderCapacity;
    // Body limits depend on the route (a streamed upload may have none): the connection checks
    // them once the head is routed, not the parser.
    l.max_body = std::numeric_limits<std::uint64_t>::max();
    return l;
  }

  static std::string https_fields_from(const Config& c) {
    if (!c.hsts_seconds) return {};
    return "Strict-Transport-Security: max-age=" + std::to_string(*c.hsts_seconds) + "\r\n";
  }

  // Parsers kept per loop: enough for a burst of busy connections, bounded so
  // that idle connections really give their memory back.
  static constexpr std::size_t kMaxSpares = 64;

  LoopCounters counters_;
  const Config& config_;
  const ParserLimits limits_;
  const std::string https_fields_;
  const bool logs_client_fields_;
  std::vector<std::unique_ptr<RequestParser>> spare_parsers_;
  OutputSpares output_spares_;
  std::vector<HostedConnection*> resumes_;
  std::vector<HostedConnection*> resuming_;
  net::ByteBuffer scratch_;
  net::EventLoop& loop_;
  Timers timers_;
  HostMode mode_ = HostMode::kRunning;
};

}  // namespace weft::http
