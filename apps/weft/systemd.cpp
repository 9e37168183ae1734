#include "systemd.hpp"

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>

#include "weft/log.hpp"

namespace weft::app {
namespace {

// sd_listen_fds(3): the first passed descriptor.
constexpr int kListenFdsStart = 3;
// Far more sockets than any unit declares; a larger count is a corrupt variable.
constexpr unsigned long kMaxListenFds = 1024;

std::optional<unsigned long> parse_unsigned(std::string_view text) {
  unsigned long value = 0;
  const char* first = text.data();
  const char* last = first + text.size();
  auto [end, ec] = std::from_chars(first, last, value);
  if (text.empty() || ec != std::errc{} || end != last) return std::nullopt;
  return value;
}

std::vector<std::string> split_names(std::string_view text) {
  std::vector<std::string> names;
  for (;;) {
    const std::size_t colon = text.find(':');
    names.emplace_back(text.substr(0, colon));
    if (colon == std::string_view::npos) return names;
    text.remove_prefix(colon + 1);
  }
}

// The environment is read and changed only at start-up, before the program creates a thread
// (inherited_sockets() and Notifier's constructor say so), so getenv and unsetenv race with
// nothing.
const char* environment(const char* name) {
  return std::getenv(name);  // NOLINT(concurrency-mt-unsafe): start-up only, see above
}

void forget_listen_variables() {
  for (const char* name : {"LISTEN_PID", "LISTEN_FDS", "LISTEN_FDNAMES"}) {
    ::unsetenv(name);  // NOLINT(concurrency-mt-unsafe): start-up only, see above
  }
}

std::string errno_text(int err) { return std::generic_category().message(err); }

}  // namespace

std::variant<InheritedSockets, std::string> inherited_sockets() {
  InheritedSockets sockets;
  const char* pid_text = environment("LISTEN_PID");
  const char* count_text = environment("LISTEN_FDS");
  if (pid_text == nullptr || count_text == nullptr) return sockets;
  const auto pid = parse_unsigned(pid_text);
  if (!pid) return "LISTEN_PID: expected a process id, got '" + std::string(pid_text) + "'";
  // Set for another process (a parent that was activated and did not clear them): not ours.
  if (*pid != static_cast<unsigned long>(::getpid())) return sockets;
  const auto count = parse_unsigned(count_text);
  if (!count || *count > kMaxListenFds) {
    return "LISTEN_FDS: expected a number of descriptors from 0 to " + std::to_string(kMaxListenFds) +
           ", got '" + std::string(count_text) + "'";
  }
  std::vector<std::string> names;
  if (const char* names_text = environment("LISTEN_FDNAMES"); names_text != nullptr) {
    names = split_names(names_text);
  }
  for (unsigned long i = 0; i < *count; ++i) {
    const int fd = kListenFdsStart + static_cast<int>(i);
    const int flags = ::fcntl(fd, F_GETFD);
    if (flags < 0 || ::fcntl(fd, F_SETFD, flags | FD_CLOEXEC) != 0) {
      return "LISTEN_FDS=" + std::string(count_text) + " but descriptor " + std::to_string(fd) +
             " is not open";
    }
    sockets.fds.push_back(fd);
  }
  if (names.size() == sockets.fds.size()) sockets.names = std::move(names);
  forget_listen_variables();
  return sockets;
}

Notifier::Notifier() {
  const char* value = environment("NOTIFY_SOCKET");
  if (value == nullptr || *value == '\0') return;
  std::string address = value;
  if (address.front() == '@') {
    address.front() = '\0';  // abstract namespace
  } else if (address.front() != '/') {
    log(LogLevel::warn,
        "NOTIFY_SOCKET '" + std::string(value) +
            "' is neither an absolute path nor an abstract name (@...); not notifying systemd");
    return;
  }
  if (address.size() > sizeof(sockaddr_un::sun_path) - 1) {
    log(LogLevel::warn, "NOTIFY_SOCKET '" + std::string(value) + "' is too long; not notifying systemd");
    return;
  }
  fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd_ < 0) {
    log(LogLevel::warn,
        std::string("NOTIFY_SOCKET: socket: ") + errno_text(errno) + "; not notifying systemd");
    return;
  }
  address_ = std::move(address);
}

Notifier::~Notifier() {
  if (fd_ >= 0) ::close(fd_);
}

void Notifier::ready(std::string_view status) const noexcept {
  std::string message = "READY=1\nSTATUS=";
  message.append(status);
  send(message);
}

void Notifier::reloading() const noexcept {
  timespec now{};
  ::clock_gettime(CLOCK_MONOTONIC, &now);
  const auto usec =
      static_cast<std::uint64_t>(now.tv_sec) * 1'000'000 + static_cast<std::uint64_t>(now.tv_nsec) / 1000;
  send("RELOADING=1\nMONOTONIC_USEC=" + std::to_string(usec));
}

void Notifier::stopping() const noexcept {
  if (!stopping_sent_.exchange(true)) send("STOPPING=1");
}

void Notifier::send(std::string_view message) const noexcept {
  if (fd_ < 0) return;
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, address_.data(), address_.size());
  // An abstract name is exactly its bytes; a path ends at its NUL.
  const auto len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + address_.size() +
                                          (address_.front() == '\0' ? 0 : 1));
  ssize_t sent = -1;
  do {
    sent = ::sendto(fd_, message.data(), message.size(), MSG_NOSIGNAL,
                    reinterpret_cast<const sockaddr*>(&addr), len);
  } while (sent < 0 && errno == EINTR);
  if (sent < 0) {
    log(LogLevel::warn, "NOTIFY_SOCKET: cannot tell systemd '" +
                            std::string(message.substr(0, message.find('\n'))) + "': " + errno_text(errno));
  }
}

}  // namespace weft::app
