#pragma once
// Socket helpers for listeners and accepted connections (loop threads and
// start-up). Start-up errors throw with a message a person can act on.

#include <netinet/in.h>
#include <sys/socket.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "net/unique_fd.hpp"

namespace weft::net {

/// An IPv4 or IPv6 socket address.
struct Endpoint {
  sockaddr_storage addr{};
  socklen_t len = 0;
};

/// A peer's address in 20 bytes (a connection keeps one; sockaddr_storage is 128), formatted
/// only when someone asks (the access log, a handler's Request::peer()).
class PeerAddress {
 public:
  PeerAddress() = default;
  /// An AF_INET or AF_INET6 address; anything else formats as "-".
  explicit PeerAddress(const sockaddr_storage& addr) noexcept;
  /// "127.0.0.1:50312" or "[::1]:50312" (an IPv4-mapped IPv6 address prints as IPv4).
  [[nodiscard]] std::string to_string() const;

 private:
  std::uint8_t bytes_[16] = {};
  std::uint16_t port_ = 0;
  std::uint8_t family_ = 0;  // 4, 6 or 0
};

/// Parses an IPv4 or IPv6 literal ("127.0.0.1", "::1", "::", "[::1]") and a port.
/// Throws std::invalid_argument naming the text when it is not an address literal.
[[nodiscard]] Endpoint parse_endpoint(std::string_view address, std::uint16_t port);

/// Creates a non-blocking, close-on-exec TCP listener bound to `endpoint` with
/// SO_REUSEADDR and SO_REUSEPORT (so that every loop can have its own; without `reuse_port`, a
/// port already in use is refused even when its listener allows sharing), and listens with
/// `backlog`. An IPv6 "::" listener is dual-stack only if the system
/// says so (IPV6_V6ONLY is left as configured). Throws std::system_error whose
/// message names the address, e.g. "bind 127.0.0.1:7878: Address already in use".
[[nodiscard]] UniqueFd listen_tcp(const Endpoint& endpoint, int backlog, bool reuse_port = true);

/// Checks that `fd` is a listening TCP socket (IPv4 or IPv6), as a supervisor such as systemd
/// hands over, and makes it non-blocking: several loops accept from it, and the ones that lose
/// the race for a connection must get EAGAIN, not block. O_NONBLOCK belongs to the socket, so
/// every copy of it (the supervisor's too) sees the change; nothing else about it is touched
/// (no TCP_DEFER_ACCEPT: the socket's options are the supervisor's to choose). Throws
/// std::invalid_argument naming the descriptor and what it is instead.
void prepare_inherited_listener(int fd);

/// A new close-on-exec descriptor for the socket of `fd` (one per loop that watches it, so that
/// each loop closes its own at the drain). Throws std::system_error.
[[nodiscard]] UniqueFd duplicate(int fd);

/// The port a bound socket listens on.
[[nodiscard]] std::uint16_t local_port(int fd);

/// "127.0.0.1:50312" or "[::1]:50312" (an IPv4-mapped IPv6 address prints as IPv4).
[[nodiscard]] std::string format_endpoint(const sockaddr_storage& addr);

/// "http://127.0.0.1:7878/" or "http://[::1]:7878/".
[[nodiscard]] std::string format_url(std::string_view address, std::uint16_t port);

/// Sets TCP_NODELAY (best effort: a failure only costs latency).
void set_nodelay(int fd) noexcept;
/// Sets SO_SNDBUF of `fd` to `bytes` (the kernel doubles it for its bookkeeping); best effort.
void set_send_buffer(int fd, std::size_t bytes) noexcept;
/// Reads and drops what the non-blocking socket `fd` holds, as a lingering close does: true
/// when that is all for now (EAGAIN), false once the peer has closed or the socket failed.
[[nodiscard]] bool drop_input(int fd) noexcept;

}  // namespace weft::net
