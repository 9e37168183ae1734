#include "support/stress.hpp"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <iostream>

namespace weft::stress {

std::vector<Fd> open_connections(std::uint16_t port, std::size_t count, int rcvbuf, std::size_t batch) {
  std::vector<Fd> open;
  open.reserve(count);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  while (open.size() < count) {
    const std::size_t before = open.size();
    std::vector<Fd> pending;
    for (std::size_t i = 0; i < batch && open.size() + pending.size() < count; ++i) {
      Fd fd(::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
      if (!fd.valid()) return open;  // out of descriptors: the caller sees fewer
      if (rcvbuf > 0) ::setsockopt(fd.get(), SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
      const int rc = ::connect(fd.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof addr);
      if (rc == 0 || errno == EINPROGRESS) pending.push_back(std::move(fd));
    }
    // Wait for the batch to be established (writable), 5 s at most.
    const auto deadline = Clock::now() + 5s;
    std::vector<bool> done(pending.size(), false);
    std::size_t left = pending.size();
    while (left > 0 && Clock::now() < deadline) {
      std::vector<pollfd> fds;
      std::vector<std::size_t> index;
      for (std::size_t i = 0; i < pending.size(); ++i) {
        if (!done[i]) {
          fds.push_back({pending[i].get(), POLLOUT, 0});
          index.push_back(i);
        }
      }
      if (::poll(fds.data(), fds.size(), 100) <= 0) continue;
      for (std::size_t j = 0; j < fds.size(); ++j) {
        if (fds[j].revents == 0) continue;
        done[index[j]] = true;
        --left;
        int error = 0;
        socklen_t len = sizeof error;
        ::getsockopt(fds[j].fd, SOL_SOCKET, SO_ERROR, &error, &len);
        if (error == 0) open.push_back(std::move(pending[index[j]]));
      }
    }
    if (open.size() == before) break;  // nothing connects any more (refused, or no answer in 5 s)
  }
  return open;
}

bool send_all(int fd, std::string_view bytes, std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  while (!bytes.empty()) {
    const ssize_t n = ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n > 0) {
      bytes.remove_prefix(static_cast<std::size_t>(n));
      continue;
    }
    if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) return false;
    if (Clock::now() >= deadline) return false;
    pollfd p{fd, POLLOUT, 0};
    ::poll(&p, 1, 20);
  }
  return true;
}

Drained read_until_close(int fd, std::chrono::milliseconds timeout) {
  return read_responses(fd, SIZE_MAX, timeout);
}

Drained read_responses(int fd, std::size_t count, std::chrono::milliseconds timeout) {
  Drained out;
  const auto deadline = Clock::now() + timeout;
  std::array<char, 16384> chunk{};
  while (Clock::now() < deadline) {
    const ssize_t n = ::recv(fd, chunk.data(), chunk.size(), MSG_DONTWAIT);
    if (n > 0) {
      out.bytes.append(chunk.data(), static_cast<std::size_t>(n));
      if (count != SIZE_MAX && split_responses(out.bytes).statuses.size() >= count) return out;
      continue;
    }
    if (n == 0) {
      out.closed = true;
      return out;
    }
    if (errno == ECONNRESET) {
      out.closed = out.reset = true;
      return out;
    }
    if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
      out.closed = true;
      return out;
    }
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    pollfd p{fd, POLLIN, 0};
    ::poll(&p, 1, static_cast<int>(std::clamp<long long>(left.count(), 0, 50)));
  }
  return out;
}

Responses split_responses(std::string_view stream, bool head_request) {
  Responses r;
  for (;;) {
    const std::size_t end = stream.find("\r\n\r\n");
    if (end == std::string_view::npos || !stream.starts_with("HTTP/1.") || stream.size() < 12) break;
    const std::string_view head = stream.substr(0, end + 4);
    int status = 0;
    std::from_chars(head.data() + 9, head.data() + 12, status);
    std::uint64_t length = 0;
    std::string lower(head);
    std::transform(lower.begin(), lower.end(), lower.begin(),
                   [](unsigned char c) { return std::tolower(c); });
    if (const std::size_t at = lower.find("\r\ncontent-length:"); at != std::string::npos) {
      std::size_t p = at + 17;
      while (p < lower.size() && lower[p] == ' ') ++p;
      std::from_chars(lower.data() + p, lower.data() + lower.size(), length);
    }
    const bool bodiless = head_request || status < 200 || status == 204 || status == 304;
    if (bodiless) length = 0;
    if (stream.size() - head.size() < length) break;
    r.statuses.push_back(status);
    r.close.push_back(lower.find("\r\nconnection: close\r\n") != std::string::npos);
    stream.remove_prefix(head.size() + length);
  }
  r.rest = stream;
  return r;
}

Timed timed_get(std::uint16_t port, std::string_view target, std::chrono::milliseconds timeout) {
  Timed t;
  const auto start = Clock::now();
  try {
    const auto reply = test::request(port, "GET", target, {}, "127.0.0.1", timeout);
    if (reply) t.status = reply->status;
  } catch (const std::exception&) {
    t.status = 0;  // could not connect
  }
  t.ms = std::chrono::duration<double, std::milli>(Clock::now() - start).count();
  return t;
}

double percentile(std::vector<double> values, double p) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  const auto rank = static_cast<std::size_t>(std::ceil(p / 100.0 * static_cast<double>(values.size())));
  return values[std::clamp<std::size_t>(rank, 1, values.size()) - 1];
}

std::uint16_t port_of(const std::string& line) {
  const std::size_t colon = line.rfind(':');
  if (colon == std::string::npos) return 0;
  unsigned port = 0;
  std::from_chars(line.data() + colon + 1, line.data() + line.size(), port);
  return static_cast<std::uint16_t>(port);
}

void report(const std::string& name, const std::string& value) {
  std::cout << "[ figure   ] " << name << ": " << value << std::endl;
}

}  // namespace weft::stress
