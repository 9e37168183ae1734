#include "pool/job_queue.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

namespace {

using weft::detail::Task;
using weft::pool::JobQueue;

Task counting(std::atomic<int>& n) {
  return Task([&n] { n.fetch_add(1); });
}

TEST(JobQueue, EmptyQueuePopsNothing) {
  JobQueue q(4);
  Task out;
  EXPECT_FALSE(q.try_pop(out));
  EXPECT_TRUE(q.looks_empty());
  EXPECT_EQ(q.size(), 0u);
}

TEST(JobQueue, BoundOfOneHoldsExactlyOneJob) {
  JobQueue q(1);
  std::atomic<int> n{0};
  Task a = counting(n);
  Task b = counting(n);
  EXPECT_TRUE(q.try_push(a));
  EXPECT_FALSE(a);  // moved into the queue
  EXPECT_FALSE(q.try_push(b));
  EXPECT_TRUE(b);  // a refused task is left untouched
  EXPECT_EQ(q.room(), 0u);
  Task out;
  ASSERT_TRUE(q.try_pop(out));
  out();
  EXPECT_EQ(n.load(), 1);
  EXPECT_TRUE(q.try_push(b));  // the slot is free again, many times over
  out.reset();
  ASSERT_TRUE(q.try_pop(out));
  EXPECT_FALSE(q.try_pop(out));
}

TEST(JobQueue, PopsInPushOrderAcrossWrapAround) {
  JobQueue q(3);
  std::vector<int> seen;
  for (int round = 0; round < 5; ++round) {
    for (int i = 0; i < 3; ++i) {
      Task t([&seen, v = round * 3 + i] { seen.push_back(v); });
      ASSERT_TRUE(q.try_push(t));
    }
    Task out;
    while (q.try_pop(out)) {
      out();
      out.reset();
    }
  }
  ASSERT_EQ(seen.size(), 15u);
  for (int i = 0; i < 15; ++i) EXPECT_EQ(seen[static_cast<std::size_t>(i)], i);
}

TEST(JobQueue, UnboundedQueueSpillsPastTheRing) {
  JobQueue q(0);
  std::atomic<int> n{0};
  const std::size_t total = JobQueue::kMaxRingSlots * 3;
  for (std::size_t i = 0; i < total; ++i) {
    Task t = counting(n);
    ASSERT_TRUE(q.try_push(t));
  }
  EXPECT_EQ(q.size(), total);
  EXPECT_FALSE(q.looks_empty());
  Task out;
  while (q.try_pop(out)) {
    out();
    out.reset();
  }
  EXPECT_EQ(n.load(), static_cast<int>(total));
  EXPECT_EQ(q.size(), 0u);
}

TEST(JobQueue, ConcurrentProducersAndConsumersLoseNothing) {
  JobQueue q(8);
  std::atomic<int> n{0};
  constexpr int kPerProducer = 20000;
  std::atomic<int> producers_left{3};
  std::vector<std::thread> threads;
  for (int p = 0; p < 3; ++p) {
    threads.emplace_back([&] {
      for (int i = 0; i < kPerProducer; ++i) {
        Task t = counting(n);
        while (!q.try_push(t)) std::this_thread::yield();
      }
      producers_left.fetch_sub(1);
    });
  }
  for (int c = 0; c < 2; ++c) {
    threads.emplace_back([&] {
      Task out;
      for (;;) {
        if (q.try_pop(out)) {
          out();
          out.reset();
        } else if (producers_left.load() == 0 && q.looks_empty()) {
          return;
        } else {
          std::this_thread::yield();
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  Task out;
  while (q.try_pop(out)) {
    out();
    out.reset();
  }
  EXPECT_EQ(n.load(), 3 * kPerProducer);
}

}  // namespace
