#include "net/event_loop.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

namespace {

using weft::net::Clock;
using weft::net::EventLoop;
using namespace std::chrono_literals;

TEST(EventLoop, PollReturnsAtTheDeadline) {
  EventLoop loop;
  const auto start = Clock::now();
  loop.poll(start + 30ms);
  EXPECT_GE(Clock::now() - start, 25ms);
  EXPECT_GE(loop.now(), start);
}

TEST(EventLoop, PostFromAnotherThreadWakesTheLoop) {
  EventLoop loop;
  std::atomic<bool> ran{false};
  std::thread poster([&] {
    std::this_thread::sleep_for(20ms);
    loop.post([&] { ran = true; });
  });
  const auto start = Clock::now();
  while (!ran && Clock::now() - start < 5s) loop.poll(Clock::time_point::max());
  poster.join();
  EXPECT_TRUE(ran.load());
  EXPECT_LT(Clock::now() - start, 5s);  // woken, not timed out
}

TEST(EventLoop, RunsEveryPostedTaskOnceInOrder) {
  EventLoop loop;
  std::vector<int> order;
  std::vector<std::thread> posters;
  for (int t = 0; t < 4; ++t) {
    posters.emplace_back([&loop, &order, t] {
      for (int i = 0; i < 250; ++i) loop.post([&order, t, i] { order.push_back(t * 1000 + i); });
    });
  }
  for (auto& p : posters) p.join();
  while (order.size() < 1000) loop.poll(Clock::now() + 100ms);
  ASSERT_EQ(order.size(), 1000u);
  // Per poster, tasks run in the order they were posted.
  for (int t = 0; t < 4; ++t) {
    int last = -1;
    for (const int v : order) {
      if (v / 1000 != t) continue;
      EXPECT_GT(v % 1000, last);
      last = v % 1000;
    }
  }
}

TEST(EventLoop, ATaskMayPostAnother) {
  EventLoop loop;
  int hops = 0;
  std::function<void()> hop = [&] {
    if (++hops < 3) loop.post([&] { hop(); });
  };
  loop.post([&] { hop(); });
  for (int i = 0; i < 10 && hops < 3; ++i) loop.poll(Clock::now() + 50ms);
  EXPECT_EQ(hops, 3);
}

}  // namespace
