#include "net/socket.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/tcp.h>
#include <sys/stat.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <limits>
#include <stdexcept>
#include <system_error>

namespace weft::net {
namespace {

[[noreturn]] void throw_errno(int err, const std::string& what) {
  throw std::system_error(err, std::generic_category(), what);
}

std::string_view strip_brackets(std::string_view address) {
  if (address.size() >= 2 && address.front() == '[' && address.back() == ']') {
    return address.substr(1, address.size() - 2);
  }
  return address;
}

}  // namespace

Endpoint parse_endpoint(std::string_view address, std::uint16_t port) {
  const std::string text(strip_brackets(address));
  Endpoint ep;
  auto* v4 = reinterpret_cast<sockaddr_in*>(&ep.addr);
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&ep.addr);
  if (inet_pton(AF_INET, text.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(port);
    ep.len = sizeof(sockaddr_in);
    return ep;
  }
  if (inet_pton(AF_INET6, text.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(port);
    ep.len = sizeof(sockaddr_in6);
    return ep;
  }
  throw std::invalid_argument("not an IPv4 or IPv6 address: '" + std::string(address) + "'");
}

UniqueFd listen_tcp(const Endpoint& endpoint, int backlog, bool reuse_port) {
  const std::string where = format_endpoint(endpoint.addr);
  UniqueFd fd(::socket(endpoint.addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!fd) throw_errno(errno, "socket for " + where);
  const int one = 1;
  if (::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
      (reuse_port && ::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) != 0)) {
    throw_errno(errno, "setsockopt on " + where);
  }
  if (::bind(fd.get(), reinterpret_cast<const sockaddr*>(&endpoint.addr), endpoint.len) != 0) {
    throw_errno(errno, "bind " + where);
  }
  if (::listen(fd.get(), backlog) != 0) throw_errno(errno, "listen on " + where);
  // Deferred accept (nginx "listen ... deferred"; h2o does it by default): the kernel hands
  // over a connection once its first bytes have arrived, so the first read after accept4
  // finds the request and a one-request connection never needs epoll. A client that
  // connects and stays silent is accepted after about a second anyway (the kernel then
  // completes the handshake on the next ACK), and the header timeout applies from there.
  // Best effort: without it, the first read just finds nothing.
  const int defer_seconds = 1;
  (void)::setsockopt(fd.get(), IPPROTO_TCP, TCP_DEFER_ACCEPT, &defer_seconds, sizeof defer_seconds);
  return fd;
}

void prepare_inherited_listener(int fd) {
  const std::string name = "descriptor " + std::to_string(fd);
  struct stat st {};
  if (fd < 0 || ::fstat(fd, &st) != 0) throw std::invalid_argument(name + " is not open");
  if (!S_ISSOCK(st.st_mode)) throw std::invalid_argument(name + " is not a socket");
  int value = 0;
  socklen_t len = sizeof value;
  if (::getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &value, &len) != 0 || (value != AF_INET && value != AF_INET6))
    throw std::invalid_argument(name + " is not an IPv4 or IPv6 socket");
  len = sizeof value;
  if (::getsockopt(fd, SOL_SOCKET, SO_TYPE, &value, &len) != 0 || value != SOCK_STREAM)
    throw std::invalid_argument(name + " is not a TCP (stream) socket");
  len = sizeof value;
  if (::getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &value, &len) != 0 || value == 0)
    throw std::invalid_argument(name + " is a socket that does not listen");
  const int flags = ::fcntl(fd, F_GETFL);
  if (flags < 0 || ((flags & O_NONBLOCK) == 0 && ::fcntl(fd, F_SETFL, flags | O_NONBLOCK) != 0))
    throw_errno(errno, "fcntl(O_NONBLOCK) on " + name);
}

UniqueFd duplicate(int fd) {
  UniqueFd copy(::fcntl(fd, F_DUPFD_CLOEXEC, 0));
  if (!copy) throw_errno(errno, "dup of descriptor " + std::to_string(fd));
  return copy;
}

std::uint16_t local_port(int fd) {
  sockaddr_storage addr{};
  socklen_t len = sizeof addr;
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) throw_errno(errno, "getsockname");
  if (addr.ss_family == AF_INET6) return ntohs(reinterpret_cast<const sockaddr_in6*>(&addr)->sin6_port);
  return ntohs(reinterpret_cast<const sockaddr_in*>(&addr)->sin_port);
}

std::string format_endpoint(const sockaddr_storage& addr) {
  char host[INET6_ADDRSTRLEN] = {};
  if (addr.ss_family == AF_INET6) {
    const auto* v6 = reinterpret_cast<const sockaddr_in6*>(&addr);
    const std::uint16_t port = ntohs(v6->sin6_port);
    std::string out;
    if (IN6_IS_ADDR_V4MAPPED(&v6->sin6_addr)) {
      inet_ntop(AF_INET, &v6->sin6_addr.s6_addr[12], host, sizeof host);
      out.append(host);
    } else {
      inet_ntop(AF_INET6, &v6->sin6_addr, host, sizeof host);
      out.append("[").append(host).append("]");
    }
    return out.append(":").append(std::to_string(port));
  }
  const auto* v4 = reinterpret_cast<const sockaddr_in*>(&addr);
  inet_ntop(AF_INET, &v4->sin_addr, host, sizeof host);
  // append() rather than operator+: g++ 12 -O3 reports a false -Wrestrict on the latter.
  return std::string(host).append(":").append(std::to_string(ntohs(v4->sin_port)));
}

std::string format_url(std::string_view address, std::uint16_t port) {
  const std::string_view host = strip_brackets(address);
  const bool v6 = host.find(':') != std::string_view::npos;
  std::string url("http://");
  if (v6) url.append("[");
  url.append(host);
  if (v6) url.append("]");
  return url.append(":").append(std::to_string(port)).append("/");
}

PeerAddress::PeerAddress(const sockaddr_storage& addr) noexcept {
  if (addr.ss_family == AF_INET) {
    const auto* v4 = reinterpret_cast<const sockaddr_in*>(&addr);
    std::memcpy(bytes_, &v4->sin_addr, 4);
    port_ = ntohs(v4->sin_port);
    family_ = 4;
  } else if (addr.ss_family == AF_INET6) {
    const auto* v6 = reinterpret_cast<const sockaddr_in6*>(&addr);
    std::memcpy(bytes_, &v6->sin6_addr, 16);
    port_ = ntohs(v6->sin6_port);
    family_ = 6;
  }
}

std::string PeerAddress::to_string() const {
  sockaddr_storage addr{};
  if (family_ == 4) {
    auto* v4 = reinterpret_cast<sockaddr_in*>(&addr);
    v4->sin_family = AF_INET;
    std::memcpy(&v4->sin_addr, bytes_, 4);
    v4->sin_port = htons(port_);
  } else if (family_ == 6) {
    auto* v6 = reinterpret_cast<sockaddr_in6*>(&addr);
    v6->sin6_family = AF_INET6;
    std::memcpy(&v6->sin6_addr, bytes_, 16);
    v6->sin6_port = htons(port_);
  } else {
    return "-";
  }
  return format_endpoint(addr);
}

void set_nodelay(int fd) noexcept {
  const int one = 1;
  (void)::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

void set_send_buffer(int fd, std::size_t bytes) noexcept {
  const int value = static_cast<int>(std::min<std::size_t>(bytes, std::numeric_limits<int>::max() / 2));
  (void)::setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &value, sizeof value);
}

bool drop_input(int fd) noexcept {
  for (;;) {
    std::array<char, 4096> sink;  // not zeroed: only thrown away
    const ssize_t n = ::recv(fd, sink.data(), sink.size(), 0);
    if (n > 0) continue;
    return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR);
  }
}

}  // namespace weft::net
