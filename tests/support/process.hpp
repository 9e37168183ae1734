#pragma once
// Child processes for the tests: the real weft binary (WeftServer, run_weft) or any other
// program (Process), with stdout and stderr piped back. Every wait has a deadline, so a broken
// server fails a test instead of hanging it; a child still alive when its owner goes away is
// SIGKILLed and reaped.

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "support/deadline.hpp"
#include "support/fd.hpp"

namespace weft::test {

/// Path of the weft binary under test (from CMake: WEFT_BINARY).
[[nodiscard]] std::string weft_binary();

/// Full path of the executable `name` found in PATH; empty when there is none.
[[nodiscard]] std::string find_in_path(const std::string& name);

/// How a process ended.
struct ExitStatus {
  bool exited = false;  ///< exited normally: see code
  int code = -1;        ///< exit code when exited
  int signal = 0;       ///< terminating signal when !exited
};

/// A child process with its stdout and stderr piped back to the test.
class Process {
 public:
  /// Starts `program` with `args` (argv[1..]) and the test's environment, changed by `env`:
  /// "NAME=VALUE" sets NAME, a bare "NAME" removes it. Throws std::system_error.
  Process(const std::string& program, const std::vector<std::string>& args,
          const std::vector<std::string>& env = {});
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
  /// True once the child's stderr holds `text`; false when it did not within `timeout`.
  bool wait_for_stderr(std::string_view text, milliseconds timeout);
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
/// ready once its "weft listening on" line (http:// or https://) has been read.
class WeftServer {
 public:
  /// Throws std::runtime_error (with the server's stderr) when it does not start within 10 s.
  /// `env` changes weft's environment as Process's does.
  explicit WeftServer(std::vector<std::string> args = {}, const std::vector<std::string>& env = {});

  [[nodiscard]] std::uint16_t port() const noexcept { return port_; }
  [[nodiscard]] const std::string& listening_line() const noexcept { return line_; }
  [[nodiscard]] Process& process() noexcept { return *process_; }

 private:
  std::unique_ptr<Process> process_;
  std::string line_;
  std::uint16_t port_ = 0;
};

}  // namespace weft::test
