#pragma once
// The zero-downtime binary upgrade of the weft program (SIGUSR2, as nginx): the running process
// starts the binary at the path it was started from (so a file replaced by rename, as dpkg does,
// takes over) with the same arguments, hands it its listening sockets, waits until it serves, and
// only then drains. Both sides live here:
//  * the old process: Upgrader (one attempt at a time, on a thread of its own);
//  * the new one: handed_over() reads what the old one passed, tell_ready() answers it.
//
// The hand-over is three environment variables of ours, set only for the new process:
//   WEFT_INHERITED_FDS=3,4            the main listening sockets (Config::listen_fds)
//   WEFT_INHERITED_REDIRECT_FDS=5     the --http-redirect listeners (Config::http_redirect_fds)
//   WEFT_UPGRADE_READY_FD=6           a pipe on which the new process writes "ready"
// The descriptors are the only ones the new process inherits besides 0, 1 and 2.

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <variant>
#include <vector>

#include "weft/server.hpp"

namespace weft::app {

/// The absolute path of the running binary as it was started: argv[0] made absolute (looked up
/// in PATH when it has no '/', as the shell did), symlinks kept, so that starting it again starts
/// whatever file has that name by then. /proc/self/exe when argv[0] tells nothing (it names the
/// file that was started, not a symlink to it). Call at start, before anything changes the
/// working directory.
[[nodiscard]] std::string own_path(const char* argv0);

/// What the previous process handed over; empty when this process was not started by an upgrade.
struct HandOver {
  std::vector<int> listen_fds;
  std::vector<int> redirect_fds;
  int ready_fd = -1;
  [[nodiscard]] bool present() const noexcept { return ready_fd >= 0; }
};

/// Reads the three variables and removes them from the environment; the descriptors are made
/// close-on-exec. A malformed value, a descriptor that is not open, or a partial set is the
/// std::string: the line to print. Call before any thread exists (it changes the environment).
[[nodiscard]] std::variant<HandOver, std::string> handed_over();

/// Tells the previous process that this one serves ("ready" on the pipe), and closes the pipe.
/// A failure is logged: the previous process then gives up the upgrade and stops this one.
void tell_ready(HandOver& handover) noexcept;

/// The old process's side: start() runs one upgrade attempt on a thread of its own.
class Upgrader {
 public:
  /// How long the new process has to report ready before it is stopped and the upgrade abandoned.
  static constexpr std::chrono::milliseconds kReadyTimeout{10'000};
  /// How long a new process that failed, or is abandoned, has to exit after SIGTERM before SIGKILL.
  static constexpr std::chrono::milliseconds kStopGrace{3'000};

  struct Options {
    std::string path;                ///< own_path()
    std::vector<std::string> args;   ///< argv[1..]: the same arguments again
    const Server* server = nullptr;  ///< whose listeners are handed over (duplicate_listeners())
    std::chrono::milliseconds ready_timeout = kReadyTimeout;
  };

  explicit Upgrader(Options options);
  /// close().
  ~Upgrader();
  Upgrader(const Upgrader&) = delete;
  Upgrader& operator=(const Upgrader&) = delete;
  Upgrader(Upgrader&&) = delete;
  Upgrader& operator=(Upgrader&&) = delete;

  /// SIGUSR2: starts an attempt, unless one is in progress, the process already handed over, or
  /// stop() was called (each logs one line and does nothing). When the new process reports
  /// ready, `handed_over` runs (on the upgrade thread): the caller begins its drain then. A
  /// failure logs one line naming the binary and why, stops and reaps the new process, and
  /// leaves this one serving. Any thread.
  void start(std::function<void()> handed_over);
  /// The process drains: an attempt still waiting for its new process gives up (SIGTERM to it,
  /// reaped), and start() does nothing from now on. Returns at once. Any thread.
  void stop() noexcept;
  /// stop(), then waits for the attempt in progress to end (a new process that was not ready is
  /// stopped and reaped). Idempotent; not from the `handed_over` callback.
  void close() noexcept;
  /// The new process's id once it reported ready; 0 before.
  [[nodiscard]] pid_t successor() const;

 private:
  void attempt(const std::function<void()>& handed_over);

  Options options_;
  mutable std::mutex mutex_;
  bool running_ = false;  // an attempt is in progress
  bool stopped_ = false;
  pid_t successor_ = 0;
  int cancel_fd_ = -1;  // eventfd: stop() wakes the attempt through it
  std::thread thread_;
};

}  // namespace weft::app
