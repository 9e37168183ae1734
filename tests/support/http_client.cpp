#include "support/http_client.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <system_error>

namespace weft::test {
namespace {

[[noreturn]] void throw_errno(const char* what) {
  throw std::system_error(errno, std::generic_category(), what);
}

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           auto lower = [](char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; };
           return lower(x) == lower(y);
         });
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) {
    s.remove_prefix(1);
  }
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) {
    s.remove_suffix(1);
  }
  return s;
}

}  // namespace

std::optional<std::string> HttpResponse::header(std::string_view name) const {
  for (const auto& [key, value] : headers) {
    if (iequals(key, name)) {
      return value;
    }
  }
  return std::nullopt;
}

bool HttpResponse::connection_has(std::string_view token) const {
  for (const auto& [key, value] : headers) {
    if (!iequals(key, "Connection")) {
      continue;
    }
    std::string_view rest = value;
    while (!rest.empty()) {
      const auto comma = rest.find(',');
      if (iequals(trim(rest.substr(0, comma)), token)) {
        return true;
      }
      rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
    }
  }
  return false;
}

Client::Client(std::uint16_t port, const std::string& host, milliseconds timeout) {
  sockaddr_storage storage{};
  socklen_t length = 0;
  auto* v4 = reinterpret_cast<sockaddr_in*>(&storage);
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&storage);
  if (::inet_pton(AF_INET, host.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(port);
    length = sizeof(sockaddr_in);
  } else if (::inet_pton(AF_INET6, host.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(port);
    length = sizeof(sockaddr_in6);
  } else {
    throw std::system_error(EINVAL, std::generic_category(), "bad host " + host);
  }
  fd_.reset(::socket(storage.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (!fd_.valid()) {
    throw_errno("socket");
  }
  if (::connect(fd_.get(), reinterpret_cast<sockaddr*>(&storage), length) != 0) {
    if (errno != EINPROGRESS) {
      throw_errno("connect");
    }
    pollfd pfd{fd_.get(), POLLOUT, 0};
    if (::poll(&pfd, 1, static_cast<int>(timeout.count())) != 1) {
      throw std::system_error(ETIMEDOUT, std::generic_category(), "connect");
    }
    int error = 0;
    socklen_t error_length = sizeof error;
    ::getsockopt(fd_.get(), SOL_SOCKET, SO_ERROR, &error, &error_length);
    if (error != 0) {
      throw std::system_error(error, std::generic_category(), "connect");
    }
  }
}

bool Client::send(std::string_view bytes) {
  auto deadline = Clock::now() + 5s;  // without progress
  while (!bytes.empty()) {
    const ssize_t n = ::send(fd_.get(), bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n > 0) {
      bytes.remove_prefix(static_cast<std::size_t>(n));
      deadline = Clock::now() + 5s;
      continue;
    }
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      pollfd pfd{fd_.get(), POLLOUT, 0};
      if (::poll(&pfd, 1, ms_left(deadline)) == 0) {
        throw std::system_error(ETIMEDOUT, std::generic_category(), "send");
      }
      continue;  // writable, or interrupted
    }
    if (n < 0 && (errno == EPIPE || errno == ECONNRESET)) {
      return false;  // the peer is gone: the reads that follow tell the test what it said
    }
    throw_errno("send");
  }
  return true;
}

void Client::shutdown_write() { ::shutdown(fd_.get(), SHUT_WR); }

bool Client::fill(Clock::time_point deadline, bool* eof) {
  *eof = false;
  for (;;) {
    char chunk[16384];
    const ssize_t n = ::recv(fd_.get(), chunk, sizeof chunk, 0);
    if (n > 0) {
      buffer_.append(chunk, static_cast<std::size_t>(n));
      return true;
    }
    if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
      *eof = true;  // orderly close, or reset
      return false;
    }
    if (errno == EINTR) {
      continue;
    }
    pollfd pfd{fd_.get(), POLLIN, 0};
    const int rc = ::poll(&pfd, 1, ms_left(deadline));
    if (rc == 0) {
      return false;  // timeout
    }
  }
}

std::optional<HttpResponse> read_response_from(std::string& buffer, const ResponseSource& fill,
                                               Clock::time_point deadline, bool head_request) {
  bool eof = false;
  std::size_t head_end = std::string::npos;
  while ((head_end = buffer.find("\r\n\r\n")) == std::string::npos) {
    if (!fill(deadline, &eof)) {
      return std::nullopt;
    }
  }
  HttpResponse response;
  response.raw_head = buffer.substr(0, head_end + 4);
  std::string_view head(response.raw_head);
  head.remove_suffix(4);
  const auto line_end = head.find("\r\n");
  response.status_line = std::string(head.substr(0, line_end));
  // "HTTP/1.1 200 OK"
  if (response.status_line.size() < 12 || response.status_line.compare(0, 5, "HTTP/") != 0) {
    return std::nullopt;
  }
  const std::string_view code = std::string_view(response.status_line).substr(9, 3);
  if (std::from_chars(code.data(), code.data() + code.size(), response.status).ec != std::errc{}) {
    return std::nullopt;
  }
  std::string_view fields =
      line_end == std::string_view::npos ? std::string_view{} : head.substr(line_end + 2);
  while (!fields.empty()) {
    const auto end = fields.find("\r\n");
    const std::string_view field = fields.substr(0, end);
    const auto colon = field.find(':');
    if (colon == std::string_view::npos) {
      return std::nullopt;
    }
    response.headers.emplace_back(std::string(field.substr(0, colon)),
                                  std::string(trim(field.substr(colon + 1))));
    fields = end == std::string_view::npos ? std::string_view{} : fields.substr(end + 2);
  }
  buffer.erase(0, head_end + 4);

  const bool no_body = head_request || (response.status >= 100 && response.status < 200) ||
                       response.status == 204 || response.status == 304;
  if (no_body) {
    return response;
  }
  const auto transfer_encoding = response.header("Transfer-Encoding");
  if (transfer_encoding && transfer_encoding->find("chunked") != std::string::npos) {
    for (;;) {
      std::size_t size_end;
      while ((size_end = buffer.find("\r\n")) == std::string::npos) {
        if (!fill(deadline, &eof)) {
          return std::nullopt;
        }
      }
      std::size_t size = 0;
      const auto [ptr, ec] = std::from_chars(buffer.data(), buffer.data() + size_end, size, 16);
      if (ec != std::errc{} || ptr == buffer.data()) {
        return std::nullopt;
      }
      buffer.erase(0, size_end + 2);
      if (size == 0) {
        // Trailers, then the blank line.
        std::size_t end;
        while ((end = buffer.find("\r\n")) != 0) {
          if (end == std::string::npos) {
            if (!fill(deadline, &eof)) {
              return std::nullopt;
            }
          } else {
            buffer.erase(0, end + 2);
          }
        }
        buffer.erase(0, 2);
        return response;
      }
      while (buffer.size() < size + 2) {
        if (!fill(deadline, &eof)) {
          return std::nullopt;
        }
      }
      if (buffer.compare(size, 2, "\r\n") != 0) {
        return std::nullopt;  // the chunk's data is not followed by CRLF
      }
      response.body.append(buffer, 0, size);
      buffer.erase(0, size + 2);
    }
  }
  if (const auto length_text = response.header("Content-Length")) {
    std::size_t length = 0;
    if (std::from_chars(length_text->data(), length_text->data() + length_text->size(), length).ec !=
        std::errc{}) {
      return std::nullopt;
    }
    while (buffer.size() < length) {
      if (!fill(deadline, &eof)) {
        return std::nullopt;
      }
    }
    response.body = buffer.substr(0, length);
    buffer.erase(0, length);
    return response;
  }
  // No framing: the body runs to the close.
  while (fill(deadline, &eof)) {
  }
  if (!eof) {
    return std::nullopt;
  }
  response.body = std::move(buffer);
  buffer.clear();
  return response;
}

std::optional<HttpResponse> Client::read_response(milliseconds timeout, bool head_request) {
  return read_response_from(
      buffer_, [this](Clock::time_point deadline, bool* eof) { return fill(deadline, eof); },
      Clock::now() + timeout, head_request);
}

std::optional<std::string> Client::read_until_close(milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  bool eof = false;
  while (fill(deadline, &eof)) {
  }
  if (!eof) {
    return std::nullopt;
  }
  std::string all = std::move(buffer_);
  buffer_.clear();
  return all;
}

bool Client::closed_within(milliseconds timeout) {
  const bool nothing_pending = buffer_.empty();
  const auto deadline = Clock::now() + timeout;
  bool eof = false;
  while (fill(deadline, &eof)) {
  }
  return eof && nothing_pending;
}

std::string make_request(std::string_view method, std::string_view target,
                         const std::vector<std::string>& extra_headers) {
  std::string request;
  request.append(method).append(" ").append(target).append(" HTTP/1.1\r\nHost: localhost\r\n");
  for (const auto& field : extra_headers) {
    request.append(field).append("\r\n");
  }
  request.append("\r\n");
  return request;
}

std::optional<HttpResponse> request(std::uint16_t port, std::string_view method, std::string_view target,
                                    const std::vector<std::string>& headers, const std::string& host,
                                    milliseconds timeout) {
  Client client(port, host);
  std::vector<std::string> fields = headers;
  fields.emplace_back("Connection: close");
  client.send(make_request(method, target, fields));
  return client.read_response(timeout, method == "HEAD");
}

std::optional<HttpResponse> get(std::uint16_t port, std::string_view target,
                                const std::vector<std::string>& headers) {
  return request(port, "GET", target, headers);
}

std::optional<HttpResponse> roundtrip(std::uint16_t port, std::string_view raw_request) {
  Client client(port);
  client.send(raw_request);
  return client.read_response();
}

std::string raw_exchange(std::uint16_t port, std::string_view bytes) {
  Client client(port);
  client.send(bytes);
  return client.read_until_close(5s).value_or(std::string());
}

bool ipv6_loopback_available() {
  Fd fd(::socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd.valid()) {
    return false;
  }
  sockaddr_in6 addr{};
  addr.sin6_family = AF_INET6;
  addr.sin6_addr = in6addr_loopback;
  return ::bind(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
}

}  // namespace weft::test
