#pragma once
// FuzzHost: the ConnectionHost that fuzz_connection drives a real http::Connection with, on the
// fuzzer's own thread. Its routes cover every way a response leaves a connection; a handler does
// not run on a pool but when the driver calls run_pending() (a deterministic stand-in for the pool
// and the completion queue). Every access() call is recorded, so the driver can match the bytes
// on the wire against the responses the connection says it queued.
//
// Routes (by decoded path):
//   /h/file /h/missing /h/big /h/204 /h/304 /h/*   handler: a file, a missing file (404), a
//                                                   40 kB text, 204, 304, or an echo of the body
//   /st/...   handler streaming its answer: 3 writes of 1, 5000 and 70000 bytes, then end.
//             /st/cut: dropped without end() at once, so the response is cut short;
//             /st/late-cut: the same, one round later (after the connection sent part of it);
//             /st/ready: 70000 bytes, then (on_ready, when the connection took them) 5000 and end;
//             /st/hold: 5 bytes, then held open until the client goes away (cancelled) or the
//             driver calls end_held() after the client's EOF
//   /up/...   handler reading its body as a stream (RouteOptions::stream_body, max 100 kB),
//             answering with the byte count; /up/early answers 403 before reading; /up/echo
//             streams the body back as it arrives (a streamed answer while the body streams in)
//   /f        on the loop: bytes + a 2000-byte range of a file + bytes (Route::body parts)
//   /fixed    on the loop: a constant response (Route::fixed)
//   /prepared on the loop: a constant response rendered once (Route::prepared)
//   /big      on the loop: a 100 kB body (output high-water mark, partial writes)
//   /s/...    a real files::StaticDir on a test root made at start (index.html, a.txt of 3000
//             bytes, a.txt.gz, sub/b.bin, .hidden, empty): ranges, multipart, validators,
//             precompressed variants, listings (a handler), redirects, 404s (when the static-file
//             code exists, WEFT_FUZZ_FILES)
//   anything else: a 404 built per request

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#if defined(WEFT_FUZZ_FILES)
#include "files/static_dir.hpp"
#endif
#include "http/connection.hpp"
#include "http/connection_host.hpp"
#include "net/event_loop.hpp"
#include "weft/config.hpp"
#include "weft/reply.hpp"

namespace weft::fuzz {

struct Logged {
  int status = 0;
  std::uint64_t body_bytes = 0;
  bool head = false;      // the request was HEAD: the response has no body, whatever its framing
  int version_minor = 1;  // of the request: a streamed body is chunked for 1, close-delimited for 0
  bool operator==(const Logged&) const = default;
};

// What the stream endpoints leave with the host between rounds (fuzzer thread only).
struct StreamSlots {
  std::vector<ResponseStream> drop_next;     // /st/late-cut: dropped without end() next round
  std::vector<ResponseStream> held;          // /st/hold: ended by end_held()
  std::uint32_t cut = 0;                     // streams dropped without end() or cancelled
  std::size_t hold_at = 0;                   // log size when the last /st request was dispatched
  std::size_t hold_cancelled_at = SIZE_MAX;  // the least hold_at of a /st/hold that was cancelled
  // Copies of what the /up body callbacks hold, so that the exchange never destroys the last one
  // while it holds its lock (a known deadlock, fuzz/findings/README.md); unless strict.
  bool strict = false;
  std::vector<Reply> kept_replies;
  std::vector<ResponseStream> kept_streams;
};

class FuzzHost final : public http::ConnectionHost {
 public:
  FuzzHost(const Config& config, net::EventLoop& loop);
  FuzzHost(const FuzzHost&) = delete;
  FuzzHost& operator=(const FuzzHost&) = delete;
  ~FuzzHost();

  /// Before each connection: running mode, empty log. `busy`: dispatch() refuses every other call,
  /// the first one included (-> 503), and run_off_loop() two body deliveries of three (retried).
  /// `multiplexed`: the connection is HTTP/2, whose streams may dispatch several handlers at once.
  void begin(bool busy, bool multiplexed = false);
  /// Enters `mode` (draining or finishing) as the server would, for `connection`.
  void change_mode(http::HostMode mode, http::HostedConnection& connection);
  /// Runs the handlers dispatched since the last call, if any, and completes `connection` with its response.
  /// Returns whether one ran.
  bool run_pending(http::HostedConnection& connection);

  /// After the connection closed: runs what a pool would still run (a handler dispatched last,
  /// body deliveries), as a real pool runs every job it took.
  void drain();
  /// Ends the /st/hold streams (the driver calls it after the client's EOF); true if any.
  bool end_held();

  [[nodiscard]] const std::vector<Logged>& log() const noexcept { return log_; }
  /// How many responses streams were cut (dropped without end()) or cancelled since begin().
  [[nodiscard]] std::uint32_t cut_streams() const noexcept { return streams_.cut; }
  /// How many responses, from the first, cannot depend on how the client's bytes were split:
  /// the size of the log when the first handler that may answer before its body has arrived
  /// (/up/early, /up/echo) was dispatched (was the body there before the answer?), SIZE_MAX if
  /// none was. Also, unless WEFT_FUZZ_STRICT is set, when a /st/hold stream was dispatched that
  /// was then cancelled: see fuzz/findings/README.md (a half-close after a pipelined request that
  /// was read with the one before it is taken for a client gone; a known bug).
  /// WEFT_FUZZ_STRICT is set: the checks tolerate no known bug (fuzz/findings/README.md).
  [[nodiscard]] bool strict() const noexcept { return streams_.strict; }
  [[nodiscard]] std::size_t split_free_prefix() const noexcept {
    return streams_.strict ? early_at_ : std::min(early_at_, streams_.hold_cancelled_at);
  }
  [[nodiscard]] bool connection_closed() const noexcept { return closed_; }

  http::Route route(const http::RequestHead& head, std::string_view path) override;
  // The fuzzed connection is never a redirect listener's.
  http::Route redirect_route(const http::RequestHead& /*head*/) override {
    http::Route r;
    r.response = Response::text(421, "not a redirect listener\n");
    return r;
  }
  bool dispatch(const exchange::Endpoint& endpoint, Request request, Reply reply) override;
  bool run_off_loop(std::function<void()> job) override;
  void post_news(std::uint64_t connection_id) override;
  int open_file_body(const Response& response, std::vector<http::BodyPart>& body) override;
  void access(const http::HostedConnection& connection, const http::AccessRecord& record) override;
  void closed(http::HostedConnection& connection) override;

 private:
  std::shared_ptr<const net::UniqueFd> file_;  // a memfd with known bytes
  std::string file_path_;                      // /proc/self/fd/N of it, for Response::file
  Response fixed_;
  http::PreparedResponse prepared_;
  std::vector<Logged> log_;
  struct Dispatched {
    const exchange::Endpoint* endpoint = nullptr;
    Request request;
    Reply reply;
  };
  std::vector<Dispatched> pending_;          // one at most unless multiplexed_
  bool multiplexed_ = false;                 // HTTP/2: several handlers may be dispatched at once
  std::vector<std::function<void()>> jobs_;  // body deliveries, run by run_pending
  bool news_ = false;
  StreamSlots streams_;
  std::size_t early_at_ = SIZE_MAX;
  std::uint32_t dispatches_ = 0;
  std::uint32_t offloads_ = 0;
  std::unique_ptr<exchange::Endpoint> handler_;
  std::unique_ptr<exchange::Endpoint> streamer_;
  std::unique_ptr<exchange::Endpoint> uploader_;
#if defined(WEFT_FUZZ_FILES)
  std::string root_;  // the test root, removed by the destructor
  std::unique_ptr<files::StaticDir> static_;
  Response not_found_;
#endif
  bool busy_ = false;
  bool closed_ = false;
};

}  // namespace weft::fuzz
