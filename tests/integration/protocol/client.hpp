#pragma once
// A raw-socket HTTP/1.1 test client and an in-process weft::Server fixture.
// Every wait is bounded; nothing here can hang a test.

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <thread>

#include "weft/server.hpp"

namespace weft::test {

using namespace std::chrono_literals;

/// One parsed response.
struct Reply {
  int status = 0;
  std::string status_line;
  std::multimap<std::string, std::string> headers;  // names lower-cased
  std::string body;
  [[nodiscard]] std::string header(const std::string& lower_name) const;
  [[nodiscard]] bool has(const std::string& lower_name) const { return headers.count(lower_name) > 0; }
};

class Client {
 public:
  /// Connects to `host`:`port` (IPv4 or IPv6 literal); throws std::runtime_error on failure.
  explicit Client(std::uint16_t port, const std::string& host = "127.0.0.1");
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;
  ~Client();

  void send(std::string_view bytes);
  /// Reads one response (Content-Length or chunked framed, or up to close); nullopt on
  /// timeout or when the connection closes before a whole response.
  /// `head_request`: the response to a HEAD has no body whatever its Content-Length.
  std::optional<Reply> read_reply(std::chrono::milliseconds timeout = 5s, bool head_request = false);
  /// True when the server closes the connection (EOF or reset) within `timeout`,
  /// after any bytes still unread (which are dropped).
  bool closed_by_peer(std::chrono::milliseconds timeout = 5s);
  /// Bytes received and not yet consumed by read_reply.
  [[nodiscard]] const std::string& pending() const noexcept { return buffer_; }
  [[nodiscard]] int fd() const noexcept { return fd_; }

 private:
  bool fill(std::chrono::steady_clock::time_point deadline);  // false on EOF/timeout
  int fd_ = -1;
  std::string buffer_;
  bool eof_ = false;
};

/// One request, one response, on a fresh connection.
std::optional<Reply> fetch(std::uint16_t port, std::string_view request);

/// A weft::Server running on 127.0.0.1:0 in this process.
class LiveServer {
 public:
  /// `setup` registers routes before start().
  explicit LiveServer(Config config, const std::function<void(Server&)>& setup = {});
  LiveServer(const LiveServer&) = delete;
  LiveServer& operator=(const LiveServer&) = delete;
  /// stop() and join; bounded by the config's shutdown_timeout.
  ~LiveServer();

  [[nodiscard]] std::uint16_t port() const noexcept { return server_->port(); }
  [[nodiscard]] Server& server() noexcept { return *server_; }
  /// Waits (bounded) for run() to return after stop() or exit_after.
  bool wait_stopped(std::chrono::milliseconds timeout = 10s);

 private:
  std::unique_ptr<Server> server_;
  std::thread waiter_;
  std::shared_ptr<std::atomic<bool>> stopped_;
};

/// A test config: 127.0.0.1:0, 2 loops, 2 threads, no access log.
Config test_config();

}  // namespace weft::test
