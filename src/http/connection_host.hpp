#pragma once
// ConnectionHost: what a Connection needs from the server around it. The
// connection does HTTP/1.1 mechanics (framing, keep-alive, pipelining, timers,
// writing); the host decides what to answer (routes), runs handlers on the
// pool, logs, and owns the connection. Loop thread only.

#include <algorithm>
#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "http/limits.hpp"
#include "http/parser.hpp"
#include "http/response_writer.hpp"
#include "net/byte_buffer.hpp"
#include "net/event_loop.hpp"
#include "net/timer_list.hpp"
#include "net/unique_fd.hpp"
#include "weft/config.hpp"
#include "weft/request.hpp"
#include "weft/response.hpp"

namespace weft::http {

class Connection;

/// A piece of a response body: bytes, or `length` bytes of `file` from
/// `offset` (sent with sendfile). A file may be shared (an open-file cache,
/// the parts of a multipart/byteranges body).
struct BodyPart {
  std::string bytes;
  std::shared_ptr<const net::UniqueFd> file;
  std::uint64_t offset = 0;
  std::uint64_t length = 0;  ///< file parts only
  [[nodiscard]] std::uint64_t size() const noexcept { return file ? length : bytes.size(); }
};

/// One chunk of a connection's output: bytes, or a file range sent with sendfile.
struct OutChunk {
  std::string bytes;
  std::size_t sent = 0;
  std::shared_ptr<const net::UniqueFd> file;
  std::uint64_t file_offset = 0;
  std::uint64_t file_left = 0;
};

/// What to do with a request whose head has arrived.
struct Route {
  enum class Kind : std::uint8_t {
    kRespond,  ///< answer on the loop with `fixed` (if set) or `response`; the body is discarded
    kHandle,   ///< read the body, then host.dispatch() the request to `handler`
  };
  Kind kind = Kind::kRespond;
  const Response* fixed = nullptr;  ///< a constant response owned by the host
  /// A response rendered once (preferred over `fixed` and `response` when set); its body is
  /// `prepared->body`, followed by `body`'s parts.
  const PreparedResponse* prepared = nullptr;
  /// Keeps what `prepared` points into alive while the route is used.
  std::shared_ptr<const void> owner;
  Response response;  ///< used when `fixed` is null
  /// When non-empty: the body, sent with `response`'s status and headers
  /// (Content-Length is their total). Static files use it.
  std::vector<BodyPart> body;
  const void* handler = nullptr;  ///< opaque to the connection
  std::vector<std::pair<std::string, std::string>> params;
};

/// The server's life stage, as connections see it.
enum class HostMode : std::uint8_t {
  kRunning,    ///< normal
  kFinishing,  ///< no more connections will come (exit-after): answer with close, close when idle
  kDraining,   ///< stop(): as kFinishing, and connections that have sent nothing are closed too
};

/// The timeout a connection waits on (at most one at a time).
enum class TimerKind : std::uint8_t { kNone, kHeader, kBody, kKeepAlive, kWrite, kLinger };

/// The timers of one loop, one list per kind of timeout.
struct Timers {
  explicit Timers(const Config& c)
      : header(c.header_timeout),
        body(c.body_timeout),
        keepalive(c.keepalive_timeout),
        write(c.write_timeout) {}
  net::TimerList header;     ///< whole head, from its first byte (or from accept)
  net::TimerList body;       ///< no body byte for this long
  net::TimerList keepalive;  ///< idle between requests
  net::TimerList write;      ///< no byte written for this long
  /// After the last response of a closing connection: read and drop what the
  /// client still sends for this long, so that our close does not turn into a
  /// reset that destroys the response in flight (RFC 9112 9.6; nginx
  /// lingering_timeout 5 s).
  net::TimerList linger{std::chrono::seconds(2)};

  /// Every list with the kind of timeout it holds, in the order a loop expires them.
  [[nodiscard]] std::array<std::pair<net::TimerList*, TimerKind>, 5> lists() noexcept {
    return {{{&header, TimerKind::kHeader},
             {&body, TimerKind::kBody},
             {&keepalive, TimerKind::kKeepAlive},
             {&write, TimerKind::kWrite},
             {&linger, TimerKind::kLinger}}};
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

class ConnectionHost {
 public:
  ConnectionHost(const Config& config, net::EventLoop& loop)
      : config_(config), limits_(limits_from(config)), loop_(loop), timers_(config) {}
  ConnectionHost(const ConnectionHost&) = delete;
  ConnectionHost& operator=(const ConnectionHost&) = delete;

  [[nodiscard]] const Config& config() const noexcept { return config_; }
  [[nodiscard]] const ParserLimits& limits() const noexcept { return limits_; }
  [[nodiscard]] net::EventLoop& loop() noexcept { return loop_; }
  [[nodiscard]] Timers& timers() noexcept { return timers_; }
  [[nodiscard]] HostMode mode() const noexcept { return mode_; }

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
  /// An empty output byte string, with capacity when a spare is at hand. Together with
  /// take_chunks() this keeps the answer to a request free of heap allocation.
  [[nodiscard]] std::string take_bytes() {
    if (spare_bytes_.empty()) return {};
    std::string bytes = std::move(spare_bytes_.back());
    spare_bytes_.pop_back();
    return bytes;
  }
  /// Keeps `bytes`' storage for any connection of this loop (not when it has grown large).
  void give_bytes(std::string&& bytes) {
    if (bytes.capacity() <= kMaxSpareBytes && spare_bytes_.size() < kMaxSpares) {
      bytes.clear();
      spare_bytes_.push_back(std::move(bytes));
    }
  }
  /// An empty list of output chunks, with capacity when a spare is at hand.
  [[nodiscard]] std::vector<OutChunk> take_chunks() {
    if (spare_chunks_.empty()) return {};
    std::vector<OutChunk> chunks = std::move(spare_chunks_.back());
    spare_chunks_.pop_back();
    return chunks;
  }
  /// Keeps the storage of `chunks` (which must be empty) for any connection of this loop.
  void give_chunks(std::vector<OutChunk>&& chunks) {
    if (chunks.capacity() != 0 && chunks.capacity() <= kMaxSpareChunks && spare_chunks_.size() < kMaxSpares) {
      spare_chunks_.push_back(std::move(chunks));
    }
  }
  /// The loop's read buffer: a connection reads into it and parses there,
  /// and moves what is left unprocessed into its own buffer before it
  /// returns to the loop. Empty between connection calls.
  [[nodiscard]] net::ByteBuffer& scratch() noexcept { return scratch_; }

  /// Asks for `connection`.on_resume() in the next turn of the loop: it has used its write
  /// budget for this turn with output left, and the socket is still writable (edge-triggered
  /// epoll will not say so again). The host's loop must call run_resumes() once per turn, before
  /// it destroys closed connections, and not wait in epoll while has_resumes().
  void resume_later(Connection& connection) { resumes_.push_back(&connection); }
  [[nodiscard]] bool has_resumes() const noexcept { return !resumes_.empty(); }
  /// Resumes the connections queued before this call (defined with Connection).
  void run_resumes();
  /// Forgets `connection`'s pending resume (it is closing or going away).
  void cancel_resume(Connection& connection) noexcept;

  /// Decides how to answer `head`, whose path decodes to `path`.
  [[nodiscard]] virtual Route route(const RequestHead& head, std::string_view path) = 0;
  /// Runs `handler` with `request` off the loop; the result comes back through
  /// Connection::complete(). False when the pool cannot take it (-> 503).
  [[nodiscard]] virtual bool dispatch(Connection& connection, const void* handler, Request request) = 0;
  /// One access-log entry for a finished response.
  virtual void access(const Connection& connection, std::string_view method, std::string_view target,
                      int version_minor, int status, std::uint64_t body_bytes) = 0;
  /// The connection has closed its socket; the host may destroy it once the
  /// current event has been handled (never during a Connection member call).
  virtual void closed(Connection& connection) = 0;

 protected:
  ~ConnectionHost() = default;
  void set_mode(HostMode mode) noexcept { mode_ = mode; }

 private:
  static ParserLimits limits_from(const Config& c) noexcept {
    ParserLimits l;
    l.max_request_line = c.max_request_line;
    l.max_header_bytes = c.max_header_bytes;
    l.max_headers = c.max_headers < kHeaderCapacity ? c.max_headers : kHeaderCapacity;
    l.max_body = c.max_body;
    return l;
  }

  // Spares kept per loop: enough for a burst of busy connections, bounded so
  // that idle connections really give their memory back.
  static constexpr std::size_t kMaxSpares = 64;
  static constexpr std::size_t kMaxSpareBytes = std::size_t{16} * 1024;
  static constexpr std::size_t kMaxSpareChunks = 64;

  const Config& config_;
  const ParserLimits limits_;
  std::vector<std::unique_ptr<RequestParser>> spare_parsers_;
  std::vector<std::string> spare_bytes_;
  std::vector<std::vector<OutChunk>> spare_chunks_;
  std::vector<Connection*> resumes_;
  std::vector<Connection*> resuming_;
  net::ByteBuffer scratch_;
  net::EventLoop& loop_;
  Timers timers_;
  HostMode mode_ = HostMode::kRunning;
};

}  // namespace weft::http
