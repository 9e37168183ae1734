#pragma once
// The weft program's side of systemd's service protocols, without libsystemd: sockets handed over
// at start (socket activation: LISTEN_FDS, LISTEN_PID, LISTEN_FDNAMES; sd_listen_fds(3)) and
// state reported back (NOTIFY_SOCKET; sd_notify(3)). Both read the environment only; outside
// systemd (no such variable) they do nothing, so the program behaves as it always did.

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

}  // namespace weft::app
