#include "systemd.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <charconv>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>

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

void forget_listen_variables() {
  ::unsetenv("LISTEN_PID");
  ::unsetenv("LISTEN_FDS");
  ::unsetenv("LISTEN_FDNAMES");
}

}  // namespace

std::variant<InheritedSockets, std::string> inherited_sockets() {
  InheritedSockets sockets;
  const char* pid_text = std::getenv("LISTEN_PID");
  const char* count_text = std::getenv("LISTEN_FDS");
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
  if (const char* names_text = std::getenv("LISTEN_FDNAMES"); names_text != nullptr) {
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

}  // namespace weft::app
