#pragma once
// Integration-test harness: runs the real weft binary and talks to it over
// loopback sockets. Every wait has a deadline, so a broken server fails a test
// instead of hanging it; a child still alive when its owner goes away is
// SIGKILLed and reaped.

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace weft::test {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

/// Path of the weft binary under test (from CMake).
[[nodiscard]] std::string weft_binary();

/// An owned file descriptor (closed on destruction).
class Fd {
 public:
  explicit Fd(int fd = -1) noexcept : fd_(fd) {}
  ~Fd() { reset(); }
  Fd(Fd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  Fd& operator=(Fd&& other) noexcept {
    if (this != &other) {
      reset(std::exchange(other.fd_, -1));
    }
    return *this;
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  [[nodiscard]] int get() const noexcept { return fd_; }
  [[nodiscard]] bool valid() const noexcept { return fd_ >= 0; }
  void reset(int fd = -1) noexcept;

 private:
  int fd_;
};

/// How a process ended.
struct ExitStatus {
  bool exited = false;  ///< exited normally: see code
  int code = -1;        ///< exit code when exited
  int signal = 0;       ///< terminating signal when !exited
};

/// A child process with its stdout and stderr piped back to the test.
class Process {
 public:
  /// Starts `program` with `args` (argv[1..]). Throws std::system_error.
  Process(const std::string& program, const std::vector<std::string>& args);
  /// SIGKILLs the child if it is still running, then reaps it.
  ~Process();
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;
  Process(Process&&) = delete;
  Process& operator=(Process&&) = delete;

  [[nodiscard]] pid_t pid() const noexcept { return pid_; }

  /// The next complete line of stdout (without '\n'), or nullopt when none came within `timeout`
  /// (or stdout closed first).
  std::optional<std::string> read_stdout_line(milliseconds timeout);
  /// Sends `signo` to the child (no-op once reaped).
  void send_signal(int signo);
  /// Waits at most `timeout` for the child to end, collecting its output meanwhile.
  std::optional<ExitStatus> wait_exit(milliseconds timeout);
  /// SIGKILL and reap (bounded: SIGKILL cannot be caught).
  void kill();
  [[nodiscard]] bool running() const noexcept { return !status_.has_value(); }

  /// Everything read so far from stdout / stderr (call wait_exit first for the whole output).
  [[nodiscard]] const std::string& out() const noexcept { return out_; }
  [[nodiscard]] const std::string& err() const noexcept { return err_; }

 private:
  // Reads what the pipes hold, waiting at most `timeout` for the first byte.
  void pump(milliseconds timeout);
  bool try_reap();

  pid_t pid_ = -1;
  Fd out_pipe_;
  Fd err_pipe_;
  std::string out_;
  std::size_t out_consumed_ = 0;  // bytes of out_ already returned by read_stdout_line
  std::string err_;
  std::optional<ExitStatus> status_;
};

/// Runs weft with `args` to completion (killed after `timeout`) and returns what it printed.
struct RunResult {
  std::optional<ExitStatus> status;  ///< nullopt when it had to be killed
  std::string out;
  std::string err;
};
[[nodiscard]] RunResult run_weft(const std::vector<std::string>& args, milliseconds timeout = 5s);

/// A running weft server on a free port: spawned with `--port 0` (plus the given args) and
/// ready once its "weft listening on" line has been read.
class WeftServer {
 public:
  /// Throws std::runtime_error (with the server's stderr) when it does not start within 10 s.
  explicit WeftServer(std::vector<std::string> args = {});

  [[nodiscard]] std::uint16_t port() const noexcept { return port_; }
  [[nodiscard]] const std::string& listening_line() const noexcept { return line_; }
  [[nodiscard]] Process& process() noexcept { return *process_; }

 private:
  std::unique_ptr<Process> process_;
  std::string line_;
  std::uint16_t port_ = 0;
};

/// One parsed HTTP response.
struct HttpResponse {
  std::string status_line;
  int status = 0;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  std::string raw_head;  ///< the head as received, through the blank line

  /// First value of `name` (case-insensitive), or nullopt.
  [[nodiscard]] std::optional<std::string> header(std::string_view name) const;
  /// True when the Connection field lists `token` (case-insensitive).
  [[nodiscard]] bool connection_has(std::string_view token) const;
};

/// A blocking-with-deadlines TCP client over loopback.
class Client {
 public:
  /// Connects to `host` ("127.0.0.1" or "::1") and `port`. Throws std::system_error.
  Client(std::uint16_t port, const std::string& host = "127.0.0.1", milliseconds timeout = 2s);

  /// Sends every byte (MSG_NOSIGNAL). Throws std::system_error.
  void send(std::string_view bytes);
  /// Reads one response: the head, then a Content-Length or chunked body (none for HEAD requests,
  /// 1xx, 204 and 304). Without framing, reads until close. nullopt on timeout, close or garbage.
  std::optional<HttpResponse> read_response(milliseconds timeout = 5s, bool head_request = false);
  /// Reads until the peer closes; nullopt if it did not close within `timeout`.
  std::optional<std::string> read_until_close(milliseconds timeout = 5s);
  /// True when the peer closed (EOF or reset) within `timeout` with no further bytes.
  bool closed_within(milliseconds timeout);
  /// Bytes received but not consumed by read_response.
  [[nodiscard]] const std::string& pending() const noexcept { return buffer_; }
  /// Half-closes the sending side.
  void shutdown_write();

 private:
  // Appends whatever arrives; false on timeout (nothing), EOF or error. `eof` reports EOF.
  bool fill(Clock::time_point deadline, bool* eof);

  Fd fd_;
  std::string buffer_;
};

/// "GET /path HTTP/1.1" with Host and any extra header lines ("Name: value"), CRLF-terminated.
[[nodiscard]] std::string make_request(std::string_view method, std::string_view target,
                                       const std::vector<std::string>& extra_headers = {});

/// One request on a fresh connection, with `Connection: close`.
[[nodiscard]] std::optional<HttpResponse> fetch(std::uint16_t port, std::string_view target,
                                                std::string_view method = "GET",
                                                const std::string& host = "127.0.0.1",
                                                milliseconds timeout = 5s);

/// True when this machine can bind a TCP socket to ::1.
[[nodiscard]] bool ipv6_loopback_available();

/// The contents of a file, or nullopt.
[[nodiscard]] std::optional<std::string> read_file(const std::string& path);

}  // namespace weft::test
