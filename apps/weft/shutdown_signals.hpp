#pragma once
// SIGINT/SIGTERM (stop), SIGHUP (reload), SIGUSR1 (reopen logs) and SIGUSR2 (binary upgrade) handling for
// the weft program (DESIGN.md, Shutdown). Signal handling lives here and only here: the library never touches
// signals.
//
// No work happens in a signal handler: the signals stay blocked in every
// thread and one dedicated thread reads them from a signalfd.

#include <chrono>
#include <functional>
#include <thread>

namespace weft::app {

/// Blocks SIGINT, SIGTERM, SIGHUP, SIGUSR1 and SIGUSR2 in the calling thread, so every thread created
/// afterwards inherits the mask and only a signalfd sees them, and ignores SIGPIPE (a peer that closes early
/// must not kill the process). Call first in main, before any thread exists. Throws std::system_error.
void block_shutdown_signals();

/// A thread that turns SIGINT/SIGTERM (and SIGHUP: `reload()`, SIGUSR1: `reopen_logs()`, SIGUSR2:
/// `upgrade()`) into calls:
///  * first signal: `drain(signo)` (Server::stop()), and after `drain_timeout` still
///    running, `drain_expired()` once; a drain asked for by `upgrade`'s callback counts as the first
///    signal (`drain(0)`);
///  * second signal: `force(signo)` (Server::stop_now()); if the process is still
///    running kForcedExitGrace later, or on a third signal, it ends with
///    std::_Exit(128 + signo) without waiting for anything.
/// The callbacks run on the signal thread.
class ShutdownSignals {
 public:
  static constexpr std::chrono::milliseconds kForcedExitGrace{3000};

  struct Actions {
    std::function<void(int signo)> drain;
    std::function<void()> drain_expired;
    std::function<void(int signo)> force;
    /// SIGHUP (any number of times, also while draining); null: logged and ignored.
    std::function<void()> reload;
    /// SIGUSR1 (any number of times, also while draining): logrotate renamed the logs; null:
    /// logged and ignored.
    std::function<void()> reopen_logs;
    /// SIGUSR2 (any number of times): start a binary upgrade; the argument, callable once from any
    /// thread, begins the drain when the new process has taken over. Null: logged and ignored.
    std::function<void(std::function<void()> drain)> upgrade;
    std::chrono::milliseconds drain_timeout{0};
  };

  /// Starts watching. block_shutdown_signals() must have run first. Throws std::system_error.
  explicit ShutdownSignals(Actions actions);
  /// close().
  ~ShutdownSignals();
  ShutdownSignals(const ShutdownSignals&) = delete;
  ShutdownSignals& operator=(const ShutdownSignals&) = delete;
  ShutdownSignals(ShutdownSignals&&) = delete;
  ShutdownSignals& operator=(ShutdownSignals&&) = delete;

  /// Stops watching and joins the thread; idempotent. Not from a callback.
  void close() noexcept;

  /// The signal that forced the stop (the second one), or 0. Valid after close().
  [[nodiscard]] int forced_by() const noexcept { return forced_by_; }

 private:
  class Fd {
   public:
    explicit Fd(int fd = -1) noexcept : fd_(fd) {}
    ~Fd();
    Fd(const Fd&) = delete;
    Fd& operator=(const Fd&) = delete;
    Fd(Fd&&) = delete;
    Fd& operator=(Fd&&) = delete;
    [[nodiscard]] int get() const noexcept { return fd_; }

   private:
    int fd_;
  };

  void watch();

  Actions actions_;
  Fd signals_;         // signalfd for SIGINT, SIGTERM, SIGHUP, SIGUSR1 and SIGUSR2
  Fd quit_;            // eventfd: close() wakes the thread through it
  Fd drain_;           // eventfd: upgrade's callback asks for the drain through it
  int forced_by_ = 0;  // written by the thread, read after join
  std::thread thread_;
};

}  // namespace weft::app
