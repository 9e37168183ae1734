#pragma once
// A process's resources as Linux reports them in /proc, and this process's descriptor limit: what
// the tests measure to find leaks and spinning.

#include <sys/types.h>

#include <cstddef>
#include <string>

namespace weft::test {

/// Raises this process's soft RLIMIT_NOFILE to at least `wanted` (capped at the hard limit);
/// returns the soft limit now in force. Children spawned afterwards (weft) inherit it.
std::size_t raise_fd_limit(std::size_t wanted);

/// The resident set (VmRSS) of `pid` in KiB; 0 if it is gone.
[[nodiscard]] long rss_kib(pid_t pid);
/// utime + stime of `pid` in clock ticks (sysconf(_SC_CLK_TCK) per second).
[[nodiscard]] long cpu_ticks(pid_t pid);
/// Descriptors open in `pid` (entries of /proc/PID/fd).
[[nodiscard]] std::size_t open_fds(pid_t pid);
/// The descriptors open in `pid`, one per line: number, target (readlink) and, for a TCP socket,
/// its state and ports from /proc/net/tcp{,6} (CLOSE_WAIT there means the peer left and weft has
/// not noticed). For a failing leak check's message.
[[nodiscard]] std::string describe_fds(pid_t pid);

}  // namespace weft::test
