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
//   /st/...   handler streaming its answer: 3 writes of 1, 5000 and 70000 bytes, then end
//             (/st/cut: dropped without end, so the response is cut short)
//   /up/...   handler reading its body as a stream (RouteOptions::stream_body, max 100 kB),
//             answering with the byte count; /up/early answers before reading
//   /f        on the loop: bytes + a 2000-byte range of a file + bytes (Route::body parts)
//   /fixed    on the loop: a constant response (Route::fixed)
//   /prepared on the loop: a constant response rendered once (Route::prepared)
//   /big      on the loop: a 100 kB body (output high-water mark, partial writes)
//   /s/...    a real files::StaticDir on a test root made at start (index.html, a.txt of 3000
//             bytes, a.txt.gz, sub/b.bin, .hidden, empty): ranges, multipart, validators,
//             precompressed variants, listings (a handler), redirects, 404s (when the static-file
//             code exists, WEFT_FUZZ_FILES)
//   anything else: a 404 built per request

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

namespace weft::fuzz {

struct Logged {
  int status = 0;
  std::uint64_t body_bytes = 0;
  bool operator==(const Logged&) const = default;
};

class FuzzHost final : public http::ConnectionHost {
 public:
  FuzzHost(const Config& config, net::EventLoop& loop);
  FuzzHost(const FuzzHost&) = delete;
  FuzzHost& operator=(const FuzzHost&) = delete;
  ~FuzzHost();

  /// Before each connection: running mode, empty log; `busy` makes dispatch() refuse (-> 503).
  void begin(bool busy);
  /// Enters `mode` (draining or finishing) as the server would, for `connection`.
  void change_mode(http::HostMode mode, http::Connection& connection);
  /// Runs the handler dispatched last, if any, and completes `connection` with its response.
  /// Returns whether one ran.
  bool run_pending(http::Connection& connection);

  [[nodiscard]] const std::vector<Logged>& log() const noexcept { return log_; }
  [[nodiscard]] bool connection_closed() const noexcept { return closed_; }

  http::Route route(const http::RequestHead& head, std::string_view path) override;
  bool dispatch(const exchange::Endpoint& endpoint, Request request, Reply reply) override;
  bool run_off_loop(std::function<void()> job) override;
  void post_news(std::uint64_t connection_id) override;
  int open_file_body(const Response& response, std::vector<http::BodyPart>& body) override;
  void access(const http::Connection& connection, std::string_view method, std::string_view target,
              int version_minor, int status, std::uint64_t body_bytes) override;
  void closed(http::Connection& connection) override;

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
  std::optional<Dispatched> pending_;
  std::vector<std::function<void()>> jobs_;  // body deliveries, run by run_pending
  bool news_ = false;
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
