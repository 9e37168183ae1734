#include "shutdown_signals.hpp"

#include <poll.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <system_error>
#include <utility>

#include "weft/log.hpp"

namespace weft::app {
namespace {

sigset_t shutdown_set() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGHUP);
  sigaddset(&set, SIGUSR1);
  sigaddset(&set, SIGUSR2);
  return set;
}

[[noreturn]] void throw_errno(const char* what) {
  throw std::system_error(errno, std::generic_category(), what);
}

const char* signal_name(int signo) {
  return signo == SIGINT ? "SIGINT" : signo == SIGTERM ? "SIGTERM" : "signal";
}

std::string format_seconds(std::chrono::milliseconds ms) {
  char text[32];
  std::snprintf(text, sizeof text, "%g", static_cast<double>(ms.count()) / 1000.0);
  return text;
}

int ms_until(std::chrono::steady_clock::time_point deadline) {
  const auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
  return left.count() < 0 ? 0 : static_cast<int>(left.count());
}

}  // namespace

void block_shutdown_signals() {
  const sigset_t set = shutdown_set();
  if (const int rc = pthread_sigmask(SIG_BLOCK, &set, nullptr); rc != 0) {
    throw std::system_error(rc, std::generic_category(), "pthread_sigmask");
  }
  if (std::signal(SIGPIPE, SIG_IGN) == SIG_ERR) {
    throw_errno("signal(SIGPIPE)");
  }
}

ShutdownSignals::Fd::~Fd() {
  if (fd_ >= 0) {
    ::close(fd_);
  }
}

ShutdownSignals::ShutdownSignals(Actions actions)
    : actions_(std::move(actions)),
      signals_([] {
        const sigset_t set = shutdown_set();
        const int fd = signalfd(-1, &set, SFD_CLOEXEC);
        if (fd < 0) {
          throw_errno("signalfd");
        }
        return fd;
      }()),
      quit_([] {
        const int fd = eventfd(0, EFD_CLOEXEC);
        if (fd < 0) {
          throw_errno("eventfd");
        }
        return fd;
      }()),
      drain_([] {
        const int fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        if (fd < 0) {
          throw_errno("eventfd");
        }
        return fd;
      }()),
      thread_([this] { watch(); }) {}

ShutdownSignals::~ShutdownSignals() { close(); }

void ShutdownSignals::close() noexcept {
  if (!thread_.joinable()) {
    return;
  }
  const std::uint64_t one = 1;
  // An eventfd write of 1 cannot fail short of a bug; the join below would then hang, so retry EINTR only.
  while (::write(quit_.get(), &one, sizeof one) < 0 && errno == EINTR) {
  }
  thread_.join();
}

void ShutdownSignals::watch() {
  using Clock = std::chrono::steady_clock;
  int received = 0;
  // Drain expiry, then the forced-exit watchdog; max() = none. (A std::optional here trips g++ 12's
  // -Wmaybe-uninitialized at -O2.)
  constexpr Clock::time_point kNone = Clock::time_point::max();
  Clock::time_point deadline = kNone;
  for (;;) {
    pollfd fds[3] = {{signals_.get(), POLLIN, 0}, {quit_.get(), POLLIN, 0}, {drain_.get(), POLLIN, 0}};
    const int rc = ::poll(fds, 3, deadline == kNone ? -1 : ms_until(deadline));
    if (rc < 0) {
      if (errno == EINTR) {
        continue;
      }
      log(LogLevel::error, std::string("signal thread: poll: ") + std::generic_category().message(errno));
      return;
    }
    if ((fds[1].revents & POLLIN) != 0) {
      return;
    }
    if (rc == 0) {
      if (received == 1) {
        log(LogLevel::warn, "drain deadline passed; closing what remains");
        deadline = kNone;
        actions_.drain_expired();
        continue;
      }
      log(LogLevel::error, "forced stop did not finish in time; exiting now");
      std::_Exit(128 + forced_by_);
    }
    if ((fds[2].revents & POLLIN) != 0) {
      std::uint64_t count = 0;
      if (::read(drain_.get(), &count, sizeof count) == static_cast<ssize_t>(sizeof count) && received == 0) {
        // The new process serves: this one drains as on a first SIGTERM.
        received = 1;
        log(LogLevel::info, "draining after the upgrade (at most " + format_seconds(actions_.drain_timeout) +
                                " s; SIGTERM to stop at once)");
        deadline = Clock::now() + actions_.drain_timeout;
        actions_.drain(0);
      }
    }
    if ((fds[0].revents & POLLIN) == 0) {
      continue;
    }
    signalfd_siginfo info{};
    if (::read(signals_.get(), &info, sizeof info) != static_cast<ssize_t>(sizeof info)) {
      continue;  // EINTR or EAGAIN: poll again
    }
    const int signo = static_cast<int>(info.ssi_signo);
    if (signo == SIGUSR1) {
      // The default action of SIGUSR1 is to end the process: blocked, it only asks for this.
      if (actions_.reopen_logs) {
        actions_.reopen_logs();
      } else {
        log(LogLevel::info, "SIGUSR1 received: no log to reopen");
      }
      continue;
    }
    if (signo == SIGUSR2) {
      if (actions_.upgrade) {
        const int drain_fd = drain_.get();
        actions_.upgrade([drain_fd] {
          const std::uint64_t one = 1;
          // Written once per upgrade; the counter cannot overflow.
          [[maybe_unused]] const ssize_t n = ::write(drain_fd, &one, sizeof one);
        });
      } else {
        log(LogLevel::info, "SIGUSR2 received: no upgrade");
      }
      continue;
    }
    if (signo == SIGHUP) {
      // A reload, never a stop (a terminal hang-up must not kill a server either).
      if (actions_.reload) {
        actions_.reload();
      } else {
        log(LogLevel::info, "SIGHUP received: nothing to reload");
      }
      continue;
    }
    ++received;
    if (received == 1) {
      log(LogLevel::info, std::string(signal_name(signo)) + " received: draining (at most " +
                              format_seconds(actions_.drain_timeout) + " s; signal again to stop at once)");
      deadline = Clock::now() + actions_.drain_timeout;
      actions_.drain(signo);
    } else if (received == 2) {
      log(LogLevel::warn, std::string("second ") + signal_name(signo) + " received: stopping at once");
      forced_by_ = signo;
      deadline = Clock::now() + kForcedExitGrace;
      actions_.force(signo);
    } else {
      std::_Exit(128 + forced_by_);
    }
  }
}

}  // namespace weft::app
