#include "weft/detail/task.hpp"

#include <gtest/gtest.h>

#include <array>
#include <memory>
#include <utility>

namespace {

using weft::detail::Task;

TEST(Task, FitsInOneCacheLineSlotWithItsSequenceNumber) { EXPECT_LE(sizeof(Task) + 16, 64u); }

TEST(Task, CallsAnInlineCallable) {
  int hits = 0;
  Task t([&] { ++hits; });
  ASSERT_TRUE(t);
  t();
  t();
  EXPECT_EQ(hits, 2);
}

TEST(Task, HoldsMoveOnlyCallables) {
  auto p = std::make_unique<int>(41);
  int out = 0;
  Task t([p = std::move(p), &out] { out = *p + 1; });
  Task moved(std::move(t));
  EXPECT_FALSE(t);  // NOLINT(bugprone-use-after-move): checking the moved-from state
  moved();
  EXPECT_EQ(out, 42);
}

TEST(Task, LargeCallablesGoToTheHeapAndStillWork) {
  std::array<long, 32> big{};
  big[31] = 7;
  long out = 0;
  Task t([big, &out] { out = big[31]; });
  Task other;
  other = std::move(t);
  other();
  EXPECT_EQ(out, 7);
}

TEST(Task, DestroysItsCallableExactlyOnce) {
  auto counter = std::make_shared<int>(0);
  std::weak_ptr<int> watch = counter;
  {
    Task a([c = std::move(counter)] { ++*c; });
    Task b(std::move(a));
    Task c;
    c = std::move(b);
    c();
    EXPECT_FALSE(watch.expired());
  }
  EXPECT_TRUE(watch.expired());
}

TEST(Task, ResetReleasesTheCallable) {
  auto counter = std::make_shared<int>(0);
  std::weak_ptr<int> watch = counter;
  Task t([c = std::move(counter)] {});
  t.reset();
  EXPECT_FALSE(t);
  EXPECT_TRUE(watch.expired());
}

TEST(Task, PropagatesExceptions) {
  Task t([] { throw 5; });
  EXPECT_THROW(t(), int);
}

}  // namespace
