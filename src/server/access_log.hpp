#pragma once
// The access log, one line per response, in the format of Config::access_log_format:
//   clf       127.0.0.1 - - [26/Nov/2026:13:00:00 +0000] "GET / HTTP/1.1" 200 187
//   combined  the same, then "Referer" "User-Agent" ("-" when absent)
//   json      {"time":"2026-11-26T13:00:00+00:00","remote_addr":"127.0.0.1","method":"GET",...}
//             (json alone also names the TLS version and the SNI name, null on cleartext)
// Each loop appends to its own AccessLogBuffer (no lock, no write(2) per
// request) and flushes it to the shared AccessLogSink when it passes a size
// or once a second.

#include <cstdint>
#include <ctime>
#include <string>
#include <string_view>

#include "net/unique_fd.hpp"
#include "weft/config.hpp"

namespace weft::server {

class AccessLogSink {
 public:
  /// `destination`: "" (off), "-" (stdout) or a file path, opened for append
  /// (created 0644). Throws std::system_error naming the path when it cannot be opened.
  explicit AccessLogSink(const std::string& destination, AccessLogFormat format = AccessLogFormat::clf);

  [[nodiscard]] bool enabled() const noexcept { return fd_ >= 0; }
  [[nodiscard]] AccessLogFormat format() const noexcept { return format_; }

  /// Opens the destination file again (logrotate renamed it) and sends every later write there.
  /// The new file takes the old one's descriptor number in one dup3(), so the loops, which
  /// write with no lock, never see a closed or reused descriptor: a write already under way
  /// ends in the old file, the next one goes to the new. Any thread. Nothing to do for stdout
  /// or off. Throws std::system_error naming the path when it cannot be opened; the old file
  /// stays in use then.
  void reopen() const;

  /// Writes whole lines; any thread. Pieces of at most PIPE_BUF bytes that end
  /// on a line boundary, so lines from different loops never interleave.
  void write(std::string_view lines) const noexcept;

 private:
  AccessLogFormat format_;
  std::string path_;  // empty for stdout or off
  net::UniqueFd owned_;
  int fd_ = -1;
};

class AccessLogBuffer {
 public:
  explicit AccessLogBuffer(const AccessLogSink& sink) : sink_(sink) {}
  AccessLogBuffer(const AccessLogBuffer&) = delete;
  AccessLogBuffer& operator=(const AccessLogBuffer&) = delete;
  ~AccessLogBuffer() { flush(); }

  [[nodiscard]] bool enabled() const noexcept { return sink_.enabled(); }
  /// What one line records. `peer` is "127.0.0.1:50312" or "[::1]:50312" (the port is dropped);
  /// method and target are the request's bytes ("-" when it could not be parsed); referer and
  /// user_agent are empty when absent.
  struct Entry {
    std::string_view peer;
    std::string_view method;
    std::string_view target;
    int version_minor = 1;
    int status = 0;
    std::uint64_t bytes = 0;
    std::string_view referer;
    std::string_view user_agent;
    bool https = false;
    int version_major = 1;
    std::string_view tls_version{};  ///< "TLSv1.3"; empty on cleartext
    std::string_view server_name{};  ///< the SNI name; empty when the client sent none
  };
  /// Appends one line in the sink's format; flushes when the buffer passes its size.
  void add(const Entry& entry, std::time_t now);
  void flush() noexcept;
  [[nodiscard]] bool empty() const noexcept { return buffer_.empty(); }

 private:
  const AccessLogSink& sink_;
  std::string buffer_;
  std::time_t stamp_second_ = -1;
  std::string stamp_;  // "[26/Nov/2026:13:00:00 +0000]" (json: "2026-11-26T13:00:00+00:00") for stamp_second_
};

}  // namespace weft::server
