#include "net/timer_list.hpp"

#include <gtest/gtest.h>

namespace {

using weft::net::Clock;
using weft::net::TimerList;
using weft::net::TimerNode;
using namespace std::chrono_literals;

TEST(TimerList, ExpiresInDeadlineOrder) {
  TimerList list(10s);
  TimerNode a, b, c;
  const Clock::time_point t0{};
  list.arm(a, t0);
  list.arm(b, t0 + 1s);
  list.arm(c, t0 + 2s);
  EXPECT_EQ(list.next_deadline(), t0 + 10s);
  EXPECT_EQ(list.pop_expired(t0 + 9s), nullptr);
  EXPECT_EQ(list.pop_expired(t0 + 11s), &a);
  EXPECT_EQ(list.pop_expired(t0 + 11s), &b);
  EXPECT_EQ(list.pop_expired(t0 + 11s), nullptr);
  EXPECT_FALSE(a.armed());
  EXPECT_TRUE(c.armed());
}

TEST(TimerList, RearmingMovesToTheTail) {
  TimerList list(5s);
  TimerNode a, b;
  const Clock::time_point t0{};
  list.arm(a, t0);
  list.arm(b, t0 + 1s);
  list.arm(a, t0 + 2s);  // activity on a: now the later one
  EXPECT_EQ(list.pop_expired(t0 + 6s), &b);
  EXPECT_EQ(list.pop_expired(t0 + 6s), nullptr);
  EXPECT_EQ(list.pop_expired(t0 + 7s), &a);
}

TEST(TimerList, ArmingInAnotherListLeavesTheFirst) {
  TimerList short_list(1s), long_list(60s);
  TimerNode n;
  short_list.arm(n, Clock::time_point{});
  long_list.arm(n, Clock::time_point{});
  EXPECT_EQ(short_list.next_deadline(), Clock::time_point::max());
  EXPECT_EQ(short_list.pop_expired(Clock::time_point{} + 2s), nullptr);
  EXPECT_EQ(long_list.pop_expired(Clock::time_point{} + 61s), &n);
}

TEST(TimerList, DestroyedNodeUnlinksItself) {
  TimerList list(1s);
  TimerNode keep;
  {
    TimerNode gone;
    list.arm(gone, Clock::time_point{});
    list.arm(keep, Clock::time_point{});
  }
  EXPECT_EQ(list.pop_expired(Clock::time_point{} + 2s), &keep);
  EXPECT_EQ(list.next_deadline(), Clock::time_point::max());
}

}  // namespace
