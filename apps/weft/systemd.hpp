#pragma once
// The weft program's side of systemd's service protocols, without libsystemd: sockets handed over
// at start (socket activation: LISTEN_FDS, LISTEN_PID, LISTEN_FDNAMES; sd_listen_fds(3)) and
// state reported back (NOTIFY_SOCKET; sd_notify(3)). Both read the environment only; outside
// systemd (no such variable) they do nothing, so the program behaves as it always did.

#include <atomic>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace weft::app {

/// The listening sockets systemd passed (descriptors 3, 4, ...) and their names.
struct InheritedSockets {
  std::vector<int> fds;
  /// LISTEN_FDNAMES, one per descriptor; empty when it was not set or did not match the count.
  std::vector<std::string> names;
};

/// Reads LISTEN_PID and LISTEN_FDS. Returns no descriptor when they are not set or LISTEN_PID is
/// another process (the variables were inherited from a parent, not meant for us). Otherwise the
/// descriptors 3 .. 3 + LISTEN_FDS - 1, made close-on-exec, and the three variables are removed
/// from the environment (so nothing this process starts takes the sockets for its own). Call
/// before any thread exists (it changes the environment). A malformed value or a descriptor that
/// is not open is a std::string: the one line to print.
[[nodiscard]] std::variant<InheritedSockets, std::string> inherited_sockets();

/// Tells systemd how the service stands (sd_notify(3)) when NOTIFY_SOCKET names a socket: one
/// datagram per message to that AF_UNIX datagram socket (a path, or an abstract name written with
/// a leading '@'). Without NOTIFY_SOCKET every call does nothing. Any thread.
class Notifier {
 public:
  /// Reads NOTIFY_SOCKET; construct it before any thread exists. A value that is not a socket address
  /// (neither absolute nor '@', or too long) logs one warning and leaves the notifier off: the service still
  /// runs, and systemd's start timeout says the rest.
  Notifier();
  ~Notifier();
  Notifier(const Notifier&) = delete;
  Notifier& operator=(const Notifier&) = delete;
  Notifier(Notifier&&) = delete;
  Notifier& operator=(Notifier&&) = delete;

  [[nodiscard]] bool enabled() const noexcept { return fd_ >= 0; }

  /// READY=1, with `status` as STATUS= (what `systemctl status` shows).
  void ready(std::string_view status) const noexcept;
  /// RELOADING=1, with MONOTONIC_USEC= (which systemd 253's Type=notify-reload wants); READY=1
  /// follows when the reload is over.
  void reloading() const noexcept;
  /// STOPPING=1: the drain has begun (sent once, however often called).
  void stopping() const noexcept;
  /// Sends `message` ("NAME=VALUE" lines) as one datagram. A failure logs one warning and is
  /// otherwise ignored: telling systemd must never stop the server.
  void send(std::string_view message) const noexcept;

 private:
  int fd_ = -1;
  mutable std::atomic<bool> stopping_sent_{false};
  std::string address_;  // sockaddr_un's sun_path bytes; an abstract name starts with '\0'
};

}  // namespace weft::app
