#pragma once
// Helpers of the hostile-client stress tests: many raw loopback connections, the server's
// resources read from /proc, latency percentiles. Every wait is bounded. Builds on
// support/process.hpp and support/http_client.hpp (WeftServer, Client, request).

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "support/deadline.hpp"
#include "support/fd.hpp"
#include "support/http_client.hpp"
#include "support/process.hpp"
#include "support/resources.hpp"

namespace weft::stress {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using test::Fd;

// The /proc figures (support/resources.hpp) and wait_for (support/deadline.hpp), as the stress
// tests have always called them.
using test::cpu_ticks;
using test::describe_fds;
using test::open_fds;
using test::raise_fd_limit;
using test::rss_kib;
using test::wait_for;

/// Opens `count` TCP connections to 127.0.0.1:`port`, `batch` at a time, waiting (bounded) for
/// each batch to be established. Non-blocking sockets; `rcvbuf` > 0 sets SO_RCVBUF before
/// connecting. Connections that fail are left out of the result.
[[nodiscard]] std::vector<Fd> open_connections(std::uint16_t port, std::size_t count, int rcvbuf = 0,
                                               std::size_t batch = 100);

/// Sends all of `bytes` on a non-blocking socket, waiting at most `timeout`; false on error.
bool send_all(int fd, std::string_view bytes, std::chrono::milliseconds timeout = 2s);

/// What the peer sent on `fd` until it closed (EOF or reset) or `timeout` passed.
struct Drained {
  std::string bytes;
  bool closed = false;  ///< EOF or reset seen
  bool reset = false;   ///< ECONNRESET
};
[[nodiscard]] Drained read_until_close(int fd, std::chrono::milliseconds timeout);
/// Like read_until_close, but returns as soon as the bytes hold `count` complete responses.
[[nodiscard]] Drained read_responses(int fd, std::size_t count, std::chrono::milliseconds timeout);

/// The status codes of the complete responses at the start of `stream` (Content-Length framing;
/// no body for 1xx, 204, 304 or when `head_request`), and the bytes left over after them.
struct Responses {
  std::vector<int> statuses;
  std::vector<bool> close;  ///< per response: it carried "Connection: close"
  std::string_view rest;
};
[[nodiscard]] Responses split_responses(std::string_view stream, bool head_request = false);

/// One GET on a fresh connection (Connection: close), timed from connect to the last body byte.
struct Timed {
  int status = 0;  ///< 0 when no complete response came
  double ms = 0;
};
[[nodiscard]] Timed timed_get(std::uint16_t port, std::string_view target,
                              std::chrono::milliseconds timeout = 2s);

/// The `p`-th percentile (0-100) of `values` (nearest rank); 0 for none.
[[nodiscard]] double percentile(std::vector<double> values, double p);

/// The port in weft's "weft listening on http://HOST:PORT/" line; 0 if none.
[[nodiscard]] std::uint16_t port_of(const std::string& listening_line);

/// A figure for the test log (and the note): "[ figure ] name: value".
void report(const std::string& name, const std::string& value);

}  // namespace weft::stress
