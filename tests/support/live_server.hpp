#pragma once
// An in-process weft::Server on 127.0.0.1:0 for the protocol and exchange tests (the tests that
// need the real weft binary use WeftServer, support/process.hpp). Every wait is bounded.

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <thread>

#include "support/deadline.hpp"
#include "weft/server.hpp"

namespace weft::test {

/// A weft::Server running in this process, started at construction.
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
  bool wait_stopped(milliseconds timeout = 10s);

 private:
  std::unique_ptr<Server> server_;
  std::thread waiter_;
  std::shared_ptr<std::atomic<bool>> stopped_;
};

/// A test config: 127.0.0.1:0, 2 loops, 2 threads, a 3 s shutdown timeout, no access log.
[[nodiscard]] Config test_config();

}  // namespace weft::test
