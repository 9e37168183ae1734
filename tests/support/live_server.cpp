#include "support/live_server.hpp"

#include <chrono>
#include <utility>

namespace weft::test {

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
