#include "server/access_log.hpp"

#include <fcntl.h>
#include <unistd.h>
#include <climits>

#include <array>
#include <cerrno>
#include <cstdio>
#include <system_error>

namespace weft::server {
namespace {

constexpr std::size_t kFlushAt = std::size_t{16} * 1024;
constexpr std::array<const char*, 12> kMonths{"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                              "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

void write_all(int fd, const char* p, std::size_t n) noexcept {
  while (n > 0) {
    const ssize_t w = ::write(fd, p, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return;  // a full disk or closed pipe: dropping log lines beats blocking a loop
    p += w;
    n -= static_cast<std::size_t>(w);
  }
}

net::UniqueFd open_log(const std::string& path) {
  net::UniqueFd fd(::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644));
  if (!fd) throw std::system_error(errno, std::generic_category(), "access log " + path);
  return fd;
}

}  // namespace

AccessLogSink::AccessLogSink(const std::string& destination) {
  if (destination.empty() || destination == "off") return;
  if (destination == "-") {
    fd_ = STDOUT_FILENO;
    return;
  }
  owned_ = open_log(destination);
  path_ = destination;
  fd_ = owned_.get();
}

void AccessLogSink::reopen() const {
  if (path_.empty()) return;
  const net::UniqueFd fresh = open_log(path_);
  if (::dup3(fresh.get(), fd_, O_CLOEXEC) < 0)
    throw std::system_error(errno, std::generic_category(), "access log " + path_);
}

void AccessLogSink::write(std::string_view lines) const noexcept {
  if (fd_ < 0) return;
  while (!lines.empty()) {
    std::size_t n = lines.size();
    if (n > PIPE_BUF) {
      const std::size_t cut = lines.rfind('\n', PIPE_BUF - 1);
      n = cut == std::string_view::npos ? PIPE_BUF : cut + 1;
    }
    write_all(fd_, lines.data(), n);
    lines.remove_prefix(n);
  }
}

void AccessLogBuffer::add(std::string_view peer, std::string_view method, std::string_view target,
                          int version_minor, int status, std::uint64_t bytes, std::time_t now) {
  if (!sink_.enabled()) return;
  if (now != stamp_second_) {
    std::tm tm{};
    gmtime_r(&now, &tm);
    std::array<char, 40> text{};
    const int len = std::snprintf(text.data(), text.size(), "[%02d/%s/%04d:%02d:%02d:%02d +0000]", tm.tm_mday,
                                  kMonths[static_cast<std::size_t>(tm.tm_mon)], tm.tm_year + 1900, tm.tm_hour,
                                  tm.tm_min, tm.tm_sec);
    stamp_.assign(text.data(), static_cast<std::size_t>(len));
    stamp_second_ = now;
  }
  // %h is the address alone: "127.0.0.1:50312" -> "127.0.0.1", "[::1]:50312" -> "::1".
  std::string_view host = peer.substr(0, peer.rfind(':'));
  if (host.size() >= 2 && host.front() == '[') host = host.substr(1, host.size() - 2);
  buffer_.append(host).append(" - - ").append(stamp_).append(" \"");
  buffer_.append(method).append(" ");
  // The target is the client's bytes: never let it break the line format.
  for (const char c : target) buffer_.push_back(c == '"' || c == '\n' || c == '\r' ? '_' : c);
  buffer_.append(version_minor == 0 ? " HTTP/1.0\" " : " HTTP/1.1\" ");
  buffer_.append(std::to_string(status)).append(" ").append(bytes == 0 ? "-" : std::to_string(bytes));
  buffer_.push_back('\n');
  if (buffer_.size() >= kFlushAt) flush();
}

void AccessLogBuffer::flush() noexcept {
  if (buffer_.empty()) return;
  sink_.write(buffer_);
  buffer_.clear();
}

}  // namespace weft::server
