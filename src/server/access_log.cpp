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

constexpr std::string_view kHex = "0123456789ABCDEF";

void append_hex(std::string& out, std::string_view prefix, unsigned char byte) {
  out.append(prefix);
  out.push_back(kHex[static_cast<std::size_t>(byte >> 4)]);
  out.push_back(kHex[static_cast<std::size_t>(byte & 0xf)]);
}

// CLF and combined: the field's bytes, but `"`, `\` and anything outside printable ASCII as
// \xHH (nginx's escaping), so a client's bytes can neither end a field nor a line.
void append_escaped(std::string& out, std::string_view text) {
  for (const char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte < 0x20 || byte >= 0x7f || c == '"' || c == '\\') {
      append_hex(out, "\\x", byte);
    } else {
      out.push_back(c);
    }
  }
}

void append_escaped_or_dash(std::string& out, std::string_view text) {
  if (text.empty()) {
    out.push_back('-');
  } else {
    append_escaped(out, text);
  }
}

// The length of the well-formed UTF-8 sequence at the start of `text` (no overlong form, no
// surrogate, at most U+10FFFF), or 0.
std::size_t utf8_sequence(std::string_view text) {
  const auto b0 = static_cast<unsigned char>(text[0]);
  std::size_t n = 0;
  unsigned char low = 0x80;
  unsigned char high = 0xbf;
  if (b0 >= 0xc2 && b0 <= 0xdf) {
    n = 2;
  } else if (b0 >= 0xe0 && b0 <= 0xef) {
    n = 3;
    if (b0 == 0xe0) low = 0xa0;
    if (b0 == 0xed) high = 0x9f;
  } else if (b0 >= 0xf0 && b0 <= 0xf4) {
    n = 4;
    if (b0 == 0xf0) low = 0x90;
    if (b0 == 0xf4) high = 0x8f;
  } else {
    return 0;
  }
  if (text.size() < n) return 0;
  for (std::size_t i = 1; i < n; ++i) {
    const auto b = static_cast<unsigned char>(text[i]);
    if (b < (i == 1 ? low : 0x80) || b > (i == 1 ? high : 0xbf)) return 0;
  }
  return n;
}

// A JSON string of `text`: escapes as RFC 8259 asks; a byte that does not start well-formed
// UTF-8 (header values may hold any obs-text) becomes \u00HH, so every line is valid JSON.
void append_json_string(std::string& out, std::string_view text) {
  out.push_back('"');
  while (!text.empty()) {
    const char c = text.front();
    const auto byte = static_cast<unsigned char>(c);
    const std::size_t sequence = byte >= 0x80 ? utf8_sequence(text) : 1;
    if (c == '"' || c == '\\') {
      out.push_back('\\');
      out.push_back(c);
    } else if (byte < 0x20 || byte == 0x7f || sequence == 0) {
      append_hex(out, "\\u00", byte);
    } else {
      out.append(text.substr(0, sequence));
    }
    text.remove_prefix(sequence == 0 ? 1 : sequence);
  }
  out.push_back('"');
}

void append_json_string_or_null(std::string& out, std::string_view text) {
  if (text.empty()) {
    out.append("null");
  } else {
    append_json_string(out, text);
  }
}

net::UniqueFd open_log(const std::string& path) {
  net::UniqueFd fd(::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644));
  if (!fd) throw std::system_error(errno, std::generic_category(), "access log " + path);
  return fd;
}

}  // namespace

AccessLogSink::AccessLogSink(const std::string& destination, AccessLogFormat format) : format_(format) {
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

void AccessLogBuffer::add(const Entry& entry, std::time_t now) {
  if (!sink_.enabled()) return;
  const AccessLogFormat format = sink_.format();
  if (now != stamp_second_) {
    std::tm tm{};
    gmtime_r(&now, &tm);
    std::array<char, 40> text{};
    const int len =
        format == AccessLogFormat::json
            ? std::snprintf(text.data(), text.size(), "%04d-%02d-%02dT%02d:%02d:%02d+00:00",
                            tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec)
            : std::snprintf(text.data(), text.size(), "[%02d/%s/%04d:%02d:%02d:%02d +0000]", tm.tm_mday,
                            kMonths[static_cast<std::size_t>(tm.tm_mon)], tm.tm_year + 1900, tm.tm_hour,
                            tm.tm_min, tm.tm_sec);
    stamp_.assign(text.data(), static_cast<std::size_t>(len));
    stamp_second_ = now;
  }
  // %h is the address alone: "127.0.0.1:50312" -> "127.0.0.1", "[::1]:50312" -> "::1".
  std::string_view host = entry.peer.substr(0, entry.peer.rfind(':'));
  if (host.size() >= 2 && host.front() == '[') host = host.substr(1, host.size() - 2);
  const char* protocol = entry.version_major == 2   ? "HTTP/2.0"
                         : entry.version_minor == 0 ? "HTTP/1.0"
                                                    : "HTTP/1.1";
  if (format == AccessLogFormat::json) {
    buffer_.append(R"({"time":")").append(stamp_).append(R"(","remote_addr":)");
    append_json_string(buffer_, host);
    buffer_.append(R"(,"method":)");
    append_json_string(buffer_, entry.method);
    buffer_.append(R"(,"target":)");
    append_json_string(buffer_, entry.target);
    buffer_.append(R"(,"protocol":")").append(protocol).append(R"(","scheme":")");
    buffer_.append(entry.https ? "https" : "http").append(R"(","tls_version":)");
    append_json_string_or_null(buffer_, entry.tls_version);
    buffer_.append(R"(,"sni":)");
    append_json_string_or_null(buffer_, entry.server_name);
    buffer_.append(R"(,"status":)").append(std::to_string(entry.status));
    buffer_.append(R"(,"bytes":)").append(std::to_string(entry.bytes)).append(R"(,"referer":)");
    append_json_string_or_null(buffer_, entry.referer);
    buffer_.append(R"(,"user_agent":)");
    append_json_string_or_null(buffer_, entry.user_agent);
    buffer_.append("}\n");
  } else {
    buffer_.append(host).append(" - - ").append(stamp_).append(" \"");
    append_escaped(buffer_, entry.method);
    buffer_.push_back(' ');
    append_escaped(buffer_, entry.target);
    buffer_.append(" ").append(protocol).append("\" ");
    buffer_.append(std::to_string(entry.status)).append(" ");
    buffer_.append(entry.bytes == 0 ? "-" : std::to_string(entry.bytes));
    if (format == AccessLogFormat::combined) {
      buffer_.append(" \"");
      append_escaped_or_dash(buffer_, entry.referer);
      buffer_.append("\" \"");
      append_escaped_or_dash(buffer_, entry.user_agent);
      buffer_.push_back('"');
    }
    buffer_.push_back('\n');
  }
  if (buffer_.size() >= kFlushAt) flush();
}

void AccessLogBuffer::flush() noexcept {
  if (buffer_.empty()) return;
  sink_.write(buffer_);
  buffer_.clear();
}

}  // namespace weft::server
