// Slowloris: 2,000 connections trickle header bytes and never finish their heads. Legitimate
// clients must still get 200 in under 100 ms, and every slow connection must be dropped at the
// header deadline (--header-timeout, counted from the connection's start), not before.
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/socket.h>

#include <atomic>
#include <thread>

#include "support/clean_exit.hpp"
#include "support/stress.hpp"

namespace weft::stress {
namespace {

constexpr std::size_t kSlowClients = 2000;
constexpr auto kHeaderTimeout = 3s;
constexpr std::size_t kMinLegitRequests = 200;
constexpr auto kLegitEvery = 10ms;
constexpr auto kTrickleEvery = 200ms;

TEST(Slowloris, LegitimateClientsGet200FastWhileSlowHeadsAreDroppedAtTheDeadline) {
  ASSERT_GE(raise_fd_limit(kSlowClients + 512), kSlowClients + 256);
  test::WeftServer server({"--header-timeout", "3", "--log-level", "error"});

  const auto opened = Clock::now();
  std::vector<Fd> slow = open_connections(server.port(), kSlowClients);
  ASSERT_EQ(slow.size(), kSlowClients);
  // The head starts, and never ends: one more header byte per connection every 200 ms.
  std::vector<Clock::time_point> first_byte(slow.size());
  for (std::size_t i = 0; i < slow.size(); ++i) {
    ASSERT_TRUE(send_all(slow[i].get(), "GET / HTTP/1.1\r\nHost: slow\r\nX-Slow: "));
    first_byte[i] = Clock::now();
  }

  // Legitimate clients, meanwhile, one after the other, until the slow ones are all gone (so
  // also while the server drops 2,000 connections at their deadline).
  std::vector<double> latencies;
  std::atomic<int> not_ok{0};
  std::atomic<bool> stop{false};
  std::thread legit([&] {
    while (!stop || latencies.size() < kMinLegitRequests) {
      const Timed t = timed_get(server.port(), "/");
      if (t.status != 200) ++not_ok;
      latencies.push_back(t.ms);
      std::this_thread::sleep_for(kLegitEvery);
    }
  });

  std::vector<Clock::time_point> closed_at(slow.size());
  std::vector<bool> got_408(slow.size(), false);
  std::size_t open = slow.size();
  auto next_trickle = Clock::now() + kTrickleEvery;
  const auto give_up = Clock::now() + kHeaderTimeout + 5s;
  while (open > 0 && Clock::now() < give_up) {
    std::vector<pollfd> fds;
    std::vector<std::size_t> index;
    for (std::size_t i = 0; i < slow.size(); ++i) {
      if (slow[i].valid()) {
        fds.push_back({slow[i].get(), POLLIN | POLLRDHUP, 0});
        index.push_back(i);
      }
    }
    if (::poll(fds.data(), fds.size(), 20) > 0) {
      for (std::size_t j = 0; j < fds.size(); ++j) {
        if (fds[j].revents == 0) continue;
        const std::size_t i = index[j];
        const Drained d = read_until_close(slow[i].get(), 200ms);
        if (d.bytes.starts_with("HTTP/1.1 408")) got_408[i] = true;
        if (!d.closed) continue;
        closed_at[i] = Clock::now();
        slow[i].reset();
        --open;
      }
    }
    if (Clock::now() >= next_trickle) {
      for (Fd& fd : slow) {
        if (fd.valid()) (void)::send(fd.get(), "a", 1, MSG_NOSIGNAL | MSG_DONTWAIT);
      }
      next_trickle += kTrickleEvery;
    }
  }
  stop = true;
  legit.join();

  EXPECT_EQ(open, 0U) << "slow connections still open well after the header deadline";
  std::vector<double> early_ms;
  std::vector<double> late_ms;
  std::size_t with_408 = 0;
  for (std::size_t i = 0; i < slow.size(); ++i) {
    if (got_408[i]) ++with_408;
    if (closed_at[i] == Clock::time_point{}) continue;
    // The deadline runs from accept (between `opened` and the first byte) for the whole head.
    early_ms.push_back(
        std::chrono::duration<double, std::milli>(closed_at[i] - (opened + kHeaderTimeout)).count());
    late_ms.push_back(
        std::chrono::duration<double, std::milli>(closed_at[i] - (first_byte[i] + kHeaderTimeout)).count());
  }
  const double min_early = early_ms.empty() ? 0 : *std::min_element(early_ms.begin(), early_ms.end());
  const double max_late = late_ms.empty() ? 0 : *std::max_element(late_ms.begin(), late_ms.end());
  EXPECT_GE(min_early, -50.0) << "a slow connection was dropped before its header deadline";
  EXPECT_LE(max_late, 1500.0) << "a slow connection outlived its header deadline by more than 1.5 s";

  EXPECT_EQ(not_ok.load(), 0) << "legitimate requests that did not get 200";
  const double p50 = percentile(latencies, 50);
  const double p99 = percentile(latencies, 99);
  EXPECT_LT(p99, 100.0);
  report("slowloris legit latency", "p50 " + std::to_string(p50) + " ms, p99 " + std::to_string(p99) +
                                        " ms, max " + std::to_string(percentile(latencies, 100)) +
                                        " ms over " + std::to_string(latencies.size()) + " requests beside " +
                                        std::to_string(kSlowClients) + " slow connections");
  report("slowloris drop", std::to_string(slow.size() - open) + " of " + std::to_string(slow.size()) +
                               " dropped, at most " + std::to_string(max_late) +
                               " ms after their deadline; " + std::to_string(with_408) + " got a 408 first");
  expect_clean_exit(server.process());
}

}  // namespace
}  // namespace weft::stress
