#include "integration/harness.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <fstream>
#include <regex>
#include <sstream>
#include <stdexcept>
#include <system_error>

extern char** environ;

namespace weft::test {
namespace {

[[noreturn]] void throw_errno(const char* what) {
  throw std::system_error(errno, std::generic_category(), what);
}

int ms_left(Clock::time_point deadline) {
  const auto left = std::chrono::ceil<milliseconds>(deadline - Clock::now()).count();
  return left <= 0 ? 0 : static_cast<int>(left);
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

ExitStatus decode_status(int wstatus) {
  ExitStatus status;
  if (WIFEXITED(wstatus)) {
    status.exited = true;
    status.code = WEXITSTATUS(wstatus);
  } else if (WIFSIGNALED(wstatus)) {
    status.signal = WTERMSIG(wstatus);
  }
  return status;
}

}  // namespace

std::string weft_binary() { return WEFT_BINARY; }

void Fd::reset(int fd) noexcept {
  if (fd_ >= 0) {
    ::close(fd_);
  }
  fd_ = fd;
}

// ---------------------------------------------------------------- Process

Process::Process(const std::string& program, const std::vector<std::string>& args) {
  int out[2];
  int err[2];
  if (::pipe2(out, O_CLOEXEC) != 0) {
    throw_errno("pipe2");
  }
  Fd out_read(out[0]);
  Fd out_write(out[1]);
  if (::pipe2(err, O_CLOEXEC) != 0) {
    throw_errno("pipe2");
  }
  Fd err_read(err[0]);
  Fd err_write(err[1]);

  std::vector<std::string> argv_storage;
  argv_storage.push_back(program);
  argv_storage.insert(argv_storage.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& arg : argv_storage) {
    argv.push_back(arg.data());
  }
  argv.push_back(nullptr);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  // dup2 clears FD_CLOEXEC on the target; every other descriptor of ours closes on exec.
  posix_spawn_file_actions_adddup2(&actions, out_write.get(), STDOUT_FILENO);
  posix_spawn_file_actions_adddup2(&actions, err_write.get(), STDERR_FILENO);

  // The child starts with no blocked signals and default dispositions, whatever the test runner has.
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t empty;
  sigemptyset(&empty);
  sigset_t defaults;
  sigemptyset(&defaults);
  sigaddset(&defaults, SIGINT);
  sigaddset(&defaults, SIGTERM);
  sigaddset(&defaults, SIGPIPE);
  posix_spawnattr_setsigmask(&attr, &empty);
  posix_spawnattr_setsigdefault(&attr, &defaults);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);

  const int rc = ::posix_spawn(&pid_, program.c_str(), &actions, &attr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  if (rc != 0) {
    pid_ = -1;
    throw std::system_error(rc, std::generic_category(), "posix_spawn " + program);
  }
  for (int fd : {out_read.get(), err_read.get()}) {
    ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
  }
  out_pipe_ = std::move(out_read);
  err_pipe_ = std::move(err_read);
}

Process::~Process() { kill(); }

void Process::pump(milliseconds timeout) {
  pollfd fds[2];
  nfds_t count = 0;
  for (Fd* pipe : {&out_pipe_, &err_pipe_}) {
    if (pipe->valid()) {
      fds[count++] = {pipe->get(), POLLIN, 0};
    }
  }
  const int rc = ::poll(fds, count, static_cast<int>(timeout.count()));
  if (rc <= 0) {
    return;
  }
  for (Fd* pipe : {&out_pipe_, &err_pipe_}) {
    std::string& sink = pipe == &out_pipe_ ? out_ : err_;
    while (pipe->valid()) {
      char chunk[4096];
      const ssize_t n = ::read(pipe->get(), chunk, sizeof chunk);
      if (n > 0) {
        sink.append(chunk, static_cast<std::size_t>(n));
      } else if (n == 0) {
        pipe->reset();  // EOF
      } else if (errno == EINTR) {
        continue;
      } else {
        if (errno != EAGAIN) {
          pipe->reset();
        }
        break;
      }
    }
  }
}

bool Process::try_reap() {
  if (status_) {
    return true;
  }
  int wstatus = 0;
  const pid_t rc = ::waitpid(pid_, &wstatus, WNOHANG);
  if (rc == pid_) {
    status_ = decode_status(wstatus);
    return true;
  }
  if (rc < 0 && errno == ECHILD) {
    status_ = ExitStatus{};
    return true;
  }
  return false;
}

std::optional<std::string> Process::read_stdout_line(milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  for (;;) {
    const auto newline = out_.find('\n', out_consumed_);
    if (newline != std::string::npos) {
      std::string line = out_.substr(out_consumed_, newline - out_consumed_);
      out_consumed_ = newline + 1;
      return line;
    }
    if (!out_pipe_.valid() || Clock::now() >= deadline) {
      return std::nullopt;
    }
    pump(std::min<milliseconds>(milliseconds(ms_left(deadline)), 50ms));
  }
}

void Process::send_signal(int signo) {
  if (!try_reap()) {
    ::kill(pid_, signo);
  }
}

std::optional<ExitStatus> Process::wait_exit(milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  while (!try_reap()) {
    if (Clock::now() >= deadline) {
      return std::nullopt;
    }
    pump(std::min<milliseconds>(milliseconds(ms_left(deadline)), 10ms));
  }
  // The child is gone: collect the rest of its output (bounded, in case something inherited the pipes).
  const auto drain_deadline = Clock::now() + 1s;
  while ((out_pipe_.valid() || err_pipe_.valid()) && Clock::now() < drain_deadline) {
    pump(10ms);
  }
  return status_;
}

void Process::kill() {
  if (pid_ <= 0 || try_reap()) {
    return;
  }
  ::kill(pid_, SIGKILL);
  int wstatus = 0;
  while (::waitpid(pid_, &wstatus, 0) < 0 && errno == EINTR) {
  }
  status_ = decode_status(wstatus);
}

RunResult run_weft(const std::vector<std::string>& args, milliseconds timeout) {
  Process process(weft_binary(), args);
  RunResult result;
  result.status = process.wait_exit(timeout);
  process.kill();
  result.out = process.out();
  result.err = process.err();
  return result;
}

// ---------------------------------------------------------------- WeftServer

WeftServer::WeftServer(std::vector<std::string> args) {
  args.insert(args.begin(), {"--port", "0"});
  process_ = std::make_unique<Process>(weft_binary(), args);
  // Generous: a sanitizer build starts slowly on a loaded CI machine.
  auto line = process_->read_stdout_line(10s);
  if (!line) {
    process_->wait_exit(100ms);
    throw std::runtime_error("weft did not print its listening line; stderr: " + process_->err());
  }
  line_ = *line;
  static const std::regex url(R"(http://(\[[^\]]+\]|[^/:\[\]]+):([0-9]+)/)");
  std::smatch match;
  unsigned port = 0;
  if (!std::regex_search(line_, match, url) ||
      std::from_chars(match[2].first.base(), match[2].second.base(), port).ec != std::errc{} || port == 0 ||
      port > 65535) {
    throw std::runtime_error("no http://HOST:PORT/ in the listening line: " + line_);
  }
  port_ = static_cast<std::uint16_t>(port);
}

// ---------------------------------------------------------------- HTTP

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
  const bool v6 = host.find(':') != std::string::npos;
  fd_.reset(::socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (!fd_.valid()) {
    throw_errno("socket");
  }
  sockaddr_storage storage{};
  socklen_t length = 0;
  if (v6) {
    auto* addr = reinterpret_cast<sockaddr_in6*>(&storage);
    addr->sin6_family = AF_INET6;
    addr->sin6_port = htons(port);
    ::inet_pton(AF_INET6, host.c_str(), &addr->sin6_addr);
    length = sizeof(sockaddr_in6);
  } else {
    auto* addr = reinterpret_cast<sockaddr_in*>(&storage);
    addr->sin_family = AF_INET;
    addr->sin_port = htons(port);
    ::inet_pton(AF_INET, host.c_str(), &addr->sin_addr);
    length = sizeof(sockaddr_in);
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

void Client::send(std::string_view bytes) {
  const auto deadline = Clock::now() + 5s;
  while (!bytes.empty()) {
    const ssize_t n = ::send(fd_.get(), bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n > 0) {
      bytes.remove_prefix(static_cast<std::size_t>(n));
      continue;
    }
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n < 0 && errno == EAGAIN) {
      pollfd pfd{fd_.get(), POLLOUT, 0};
      if (::poll(&pfd, 1, ms_left(deadline)) != 1) {
        throw std::system_error(ETIMEDOUT, std::generic_category(), "send");
      }
      continue;
    }
    throw_errno("send");
  }
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

std::optional<HttpResponse> Client::read_response(milliseconds timeout, bool head_request) {
  const auto deadline = Clock::now() + timeout;
  bool eof = false;
  std::size_t head_end = std::string::npos;
  while ((head_end = buffer_.find("\r\n\r\n")) == std::string::npos) {
    if (!fill(deadline, &eof)) {
      return std::nullopt;
    }
  }
  HttpResponse response;
  response.raw_head = buffer_.substr(0, head_end + 4);
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
  buffer_.erase(0, head_end + 4);

  const bool no_body = head_request || (response.status >= 100 && response.status < 200) ||
                       response.status == 204 || response.status == 304;
  if (no_body) {
    return response;
  }
  const auto transfer_encoding = response.header("Transfer-Encoding");
  if (transfer_encoding && transfer_encoding->find("chunked") != std::string::npos) {
    for (;;) {
      std::size_t size_end;
      while ((size_end = buffer_.find("\r\n")) == std::string::npos) {
        if (!fill(deadline, &eof)) {
          return std::nullopt;
        }
      }
      std::size_t size = 0;
      const auto [ptr, ec] = std::from_chars(buffer_.data(), buffer_.data() + size_end, size, 16);
      if (ec != std::errc{} || ptr == buffer_.data()) {
        return std::nullopt;
      }
      buffer_.erase(0, size_end + 2);
      if (size == 0) {
        // Trailers, then the blank line.
        std::size_t end;
        while ((end = buffer_.find("\r\n")) != 0) {
          if (end == std::string::npos) {
            if (!fill(deadline, &eof)) {
              return std::nullopt;
            }
          } else {
            buffer_.erase(0, end + 2);
          }
        }
        buffer_.erase(0, 2);
        return response;
      }
      while (buffer_.size() < size + 2) {
        if (!fill(deadline, &eof)) {
          return std::nullopt;
        }
      }
      response.body.append(buffer_, 0, size);
      buffer_.erase(0, size + 2);
    }
  }
  if (const auto length_text = response.header("Content-Length")) {
    std::size_t length = 0;
    if (std::from_chars(length_text->data(), length_text->data() + length_text->size(), length).ec !=
        std::errc{}) {
      return std::nullopt;
    }
    while (buffer_.size() < length) {
      if (!fill(deadline, &eof)) {
        return std::nullopt;
      }
    }
    response.body = buffer_.substr(0, length);
    buffer_.erase(0, length);
    return response;
  }
  // No framing: the body runs to the close.
  while (fill(deadline, &eof)) {
  }
  if (!eof) {
    return std::nullopt;
  }
  response.body = std::move(buffer_);
  buffer_.clear();
  return response;
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
  const auto before = buffer_.size();
  return read_until_close(timeout).has_value() && before == 0;
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

std::optional<HttpResponse> fetch(std::uint16_t port, std::string_view target, std::string_view method,
                                  const std::string& host, milliseconds timeout) {
  Client client(port, host);
  client.send(make_request(method, target, {"Connection: close"}));
  return client.read_response(timeout, method == "HEAD");
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

std::optional<std::string> read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return std::nullopt;
  }
  std::ostringstream contents;
  contents << in.rdbuf();
  return contents.str();
}

}  // namespace weft::test
