#include "client.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cstring>
#include <stdexcept>

namespace weft::test {

std::string Reply::header(const std::string& lower_name) const {
  const auto it = headers.find(lower_name);
  return it == headers.end() ? std::string() : it->second;
}

Client::Client(std::uint16_t port, const std::string& host) {
  sockaddr_storage ss{};
  socklen_t len = 0;
  auto* v4 = reinterpret_cast<sockaddr_in*>(&ss);
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&ss);
  if (inet_pton(AF_INET, host.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(port);
    len = sizeof *v4;
  } else if (inet_pton(AF_INET6, host.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(port);
    len = sizeof *v6;
  } else {
    throw std::runtime_error("bad host " + host);
  }
  fd_ = ::socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd_ < 0 || ::connect(fd_, reinterpret_cast<sockaddr*>(&ss), len) != 0) {
    const std::string why = std::strerror(errno);
    if (fd_ >= 0) ::close(fd_);
    throw std::runtime_error("connect " + host + ":" + std::to_string(port) + ": " + why);
  }
}

Client::~Client() {
  if (fd_ >= 0) ::close(fd_);
}

void Client::send(std::string_view bytes) {
  while (!bytes.empty()) {
    const ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n <= 0) return;  // the server closed: later reads will tell
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
}

bool Client::fill(std::chrono::steady_clock::time_point deadline) {
  if (eof_) return false;
  const auto left =
      std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
  if (left.count() <= 0) return false;
  pollfd p{fd_, POLLIN, 0};
  if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) return false;
  char chunk[16384];
  const ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
  if (n <= 0) {
    eof_ = true;
    return false;
  }
  buffer_.append(chunk, static_cast<std::size_t>(n));
  return true;
}

std::optional<Reply> Client::read_reply(std::chrono::milliseconds timeout, bool head_request) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  std::size_t end;
  while ((end = buffer_.find("\r\n\r\n")) == std::string::npos) {
    if (!fill(deadline)) return std::nullopt;
  }
  Reply reply;
  const std::string head = buffer_.substr(0, end);
  std::size_t pos = head.find("\r\n");
  reply.status_line = head.substr(0, pos);
  if (reply.status_line.size() < 12) return std::nullopt;
  reply.status = std::stoi(reply.status_line.substr(9, 3));
  while (pos != std::string::npos && pos < head.size()) {
    const std::size_t start = pos + 2;
    std::size_t next = head.find("\r\n", start);
    const std::string line = head.substr(start, next == std::string::npos ? std::string::npos : next - start);
    pos = next;
    const std::size_t colon = line.find(':');
    if (colon == std::string::npos) continue;
    std::string name = line.substr(0, colon);
    std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::tolower(c); });
    std::string value = line.substr(colon + 1);
    value.erase(0, value.find_first_not_of(" \t"));
    reply.headers.emplace(name, value);
  }
  buffer_.erase(0, end + 4);
  const bool bodiless = head_request || reply.status < 200 || reply.status == 204 || reply.status == 304;
  if (!bodiless) {
    if (reply.header("transfer-encoding") == "chunked") {
      // Sizes in hex, each chunk followed by CRLF; no extensions or trailers from weft.
      for (;;) {
        std::size_t eol;
        while ((eol = buffer_.find("\r\n")) == std::string::npos) {
          if (!fill(deadline)) return std::nullopt;
        }
        const std::size_t size = std::stoul(buffer_.substr(0, eol), nullptr, 16);
        while (buffer_.size() < eol + 2 + size + 2) {
          if (!fill(deadline)) return std::nullopt;
        }
        if (buffer_.compare(eol + 2 + size, 2, "\r\n") != 0) return std::nullopt;
        reply.body.append(buffer_, eol + 2, size);
        buffer_.erase(0, eol + 2 + size + 2);
        if (size == 0) break;
      }
    } else if (reply.has("content-length")) {
      const std::size_t length = std::stoul(reply.header("content-length"));
      while (buffer_.size() < length) {
        if (!fill(deadline)) return std::nullopt;
      }
      reply.body = buffer_.substr(0, length);
      buffer_.erase(0, length);
    } else {
      while (fill(deadline)) {
      }
      reply.body = std::move(buffer_);
      buffer_.clear();
    }
  }
  return reply;
}

bool Client::closed_by_peer(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (fill(deadline)) buffer_.clear();
  return eof_;
}

std::optional<Reply> fetch(std::uint16_t port, std::string_view request) {
  Client c(port);
  c.send(request);
  return c.read_reply();
}

LiveServer::LiveServer(Config config, const std::function<void(Server&)>& setup)
    : server_(std::make_unique<Server>(std::move(config))),
      stopped_(std::make_shared<std::atomic<bool>>(false)) {
  if (setup) setup(*server_);
  server_->start();
  waiter_ = std::thread([this, stopped = stopped_] {
    server_->wait();
    stopped->store(true);
  });
}

bool LiveServer::wait_stopped(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!stopped_->load() && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(5ms);
  return stopped_->load();
}

LiveServer::~LiveServer() {
  server_->stop();
  if (!wait_stopped(
          std::chrono::duration_cast<std::chrono::milliseconds>(server_->config().shutdown_timeout) + 10s)) {
    server_->stop_now();
  }
  waiter_.join();
}

Config test_config() {
  Config c;
  c.bind = "127.0.0.1";
  c.port = 0;
  c.loops = 2;
  c.threads = 2;
  c.shutdown_timeout = std::chrono::milliseconds(3000);
  return c;
}

}  // namespace weft::test
