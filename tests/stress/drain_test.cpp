// Drain under load: 50 requests in flight on the pool (/sleep), wrk and keep-alive clients
// hammering /, then SIGTERM. Every request weft had read (it is in the access log) must reach its
// client as a complete response, and weft must exit 0 within the drain deadline.
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <set>
#include <thread>

#include "support/stress.hpp"

namespace weft::stress {
namespace {

namespace fs = std::filesystem;

constexpr int kSleepers = 50;
constexpr int kSleepMs = 2000;
constexpr int kAccountants = 8;

// Keep-alive clients whose every request has a unique target, so the access log tells which
// requests weft read. Records which of them got a complete response.
struct Ledger {
  std::mutex mutex;
  std::set<std::string> complete;
  long sent = 0;
  long unanswered = 0;  // sent, then the connection closed without a complete response
};

void account(std::uint16_t port, int id, const std::atomic<bool>& stop, Ledger& ledger) {
  for (int n = 0; !stop;) {
    std::vector<Fd> conn = open_connections(port, 1);
    if (conn.empty()) return;  // the listener is gone: the drain has begun
    for (;; ++n) {
      const std::string target = "/?c=" + std::to_string(id) + "-" + std::to_string(n);
      if (!send_all(conn.front().get(), "GET " + target + " HTTP/1.1\r\nHost: a\r\n\r\n")) break;
      {
        std::lock_guard lock(ledger.mutex);
        ++ledger.sent;
      }
      const Drained d = read_responses(conn.front().get(), 1, 5s);
      const Responses r = split_responses(d.bytes);
      const bool closed = d.closed;
      std::lock_guard lock(ledger.mutex);
      if (r.statuses.empty()) {
        ++ledger.unanswered;
        break;
      }
      if (r.statuses.front() == 200) ledger.complete.insert(target);
      if (closed || r.close.front()) break;
    }
  }
}

TEST(Drain, EveryRequestReadUnderLoadGetsACompleteResponseAndExitIsClean) {
  const fs::path log = fs::temp_directory_path() / ("weft-drain-" + std::to_string(::getpid()) + ".log");
  fs::remove(log);
  test::WeftServer server(
      {"-t", "64", "--shutdown-timeout", "10", "--access-log", log.string(), "--log-level", "error"});
  const std::uint16_t port = server.port();

  std::unique_ptr<test::Process> wrk;
  if (fs::exists("/usr/bin/wrk")) {
    wrk = std::make_unique<test::Process>(
        "/usr/bin/wrk",
        std::vector<std::string>{"-t2", "-c50", "-d6s", "http://127.0.0.1:" + std::to_string(port) + "/"});
  }
  std::atomic<bool> stop{false};
  Ledger ledger;
  std::vector<std::thread> accountants;
  for (int i = 0; i < kAccountants; ++i)
    accountants.emplace_back(account, port, i, std::cref(stop), std::ref(ledger));
  std::this_thread::sleep_for(500ms);

  // 50 slow requests, all on the pool at once (-t 64), then the signal while they sleep.
  std::vector<Fd> sleepers = open_connections(port, kSleepers);
  ASSERT_EQ(sleepers.size(), static_cast<std::size_t>(kSleepers));
  for (const Fd& fd : sleepers) {
    ASSERT_TRUE(
        send_all(fd.get(), "GET /sleep?ms=" + std::to_string(kSleepMs) + " HTTP/1.1\r\nHost: a\r\n\r\n"));
  }
  std::this_thread::sleep_for(300ms);
  const auto signalled = Clock::now();
  server.process().send_signal(SIGTERM);

  int sleepers_ok = 0;
  for (const Fd& fd : sleepers) {
    const Drained d = read_until_close(fd.get(), 8s);
    const Responses r = split_responses(d.bytes);
    if (r.statuses.size() == 1 && r.statuses.front() == 200 && r.close.front() && r.rest.empty())
      ++sleepers_ok;
  }
  const auto status = server.process().wait_exit(12s);
  const double exit_s = std::chrono::duration<double>(Clock::now() - signalled).count();
  stop = true;
  for (std::thread& t : accountants) t.join();
  if (wrk) wrk->kill();

  ASSERT_TRUE(status && status->exited) << "weft did not exit within the drain deadline";
  EXPECT_EQ(status->code, 0);
  EXPECT_LT(exit_s, 10.0);
  EXPECT_EQ(sleepers_ok, kSleepers);

  // Every request of the accountants that weft logged must have arrived complete.
  std::ifstream in(log);
  std::string line;
  long logged = 0;
  long lost = 0;
  long sleeps_logged = 0;
  while (std::getline(in, line)) {
    if (line.find("\"GET /sleep") != std::string::npos) ++sleeps_logged;
    const std::size_t at = line.find("\"GET /?c=");
    if (at == std::string::npos) continue;
    ++logged;
    const std::string target = line.substr(at + 5, line.find(' ', at + 5) - at - 5);
    std::lock_guard lock(ledger.mutex);
    if (ledger.complete.count(target) == 0) ++lost;
  }
  fs::remove(log);
  EXPECT_EQ(lost, 0) << "requests weft read whose response never arrived complete";
  EXPECT_EQ(sleeps_logged, kSleepers);
  EXPECT_GT(logged, 100);
  report("drain under load", std::to_string(kSleepers) + " /sleep in flight + wrk -c50 + " +
                                 std::to_string(kAccountants) + " keep-alive clients; exit 0 after " +
                                 std::to_string(exit_s) + " s; " + std::to_string(sleepers_ok) +
                                 " sleepers answered; " + std::to_string(logged) + " requests logged, " +
                                 std::to_string(lost) + " lost; " + std::to_string(ledger.unanswered) +
                                 " sent but never read by weft (closed idle)");
}

}  // namespace
}  // namespace weft::stress
