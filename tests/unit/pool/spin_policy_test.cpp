// SpinPolicy: when idle workers stop spinning, with the clock passed in.
#include "pool/spin_policy.hpp"

#include <gtest/gtest.h>

#include <cstdint>

namespace {

using weft::detail::SpinPolicy;
using Outcome = SpinPolicy::Outcome;

constexpr std::int64_t kMs = 1'000'000;

TEST(SpinPolicy, SpinsUntilTold) {
  const SpinPolicy policy;
  EXPECT_TRUE(policy.allows(0));
  EXPECT_TRUE(policy.allows(123 * kMs));
}

TEST(SpinPolicy, HitsKeepItSpinning) {
  SpinPolicy policy;
  for (int i = 0; i < 10'000; ++i) policy.record(Outcome::hit, i);
  EXPECT_TRUE(policy.allows(10'000));
  EXPECT_EQ(policy.score(), 0u);
}

TEST(SpinPolicy, FourMissesInARowBackOffForOneMillisecond) {
  SpinPolicy policy;
  const std::int64_t t = 50 * kMs;
  for (int i = 0; i < 3; ++i) policy.record(Outcome::miss, t);
  EXPECT_TRUE(policy.allows(t));
  policy.record(Outcome::miss, t);
  EXPECT_FALSE(policy.allows(t));
  EXPECT_FALSE(policy.allows(t + kMs - 1));
  EXPECT_TRUE(policy.allows(t + kMs));
  EXPECT_EQ(policy.score(), 0u);  // a fresh start once the back-off ends
}

TEST(SpinPolicy, OnePreemptionBacksOffAtOnce) {
  SpinPolicy policy;
  policy.record(Outcome::preempted, 7 * kMs);
  EXPECT_FALSE(policy.allows(7 * kMs));
  EXPECT_TRUE(policy.allows(8 * kMs));
}

TEST(SpinPolicy, AMissInThreeSpinsIsTolerated) {
  SpinPolicy policy;
  std::int64_t t = 0;
  for (int i = 0; i < 3000; ++i) {
    policy.record(i % 3 == 0 ? Outcome::miss : Outcome::hit, ++t);
    ASSERT_TRUE(policy.allows(t)) << "spin " << i;
  }
}

TEST(SpinPolicy, AMissInTwoSpinsIsNot) {
  SpinPolicy policy;
  std::int64_t t = 0;
  bool backed_off = false;
  for (int i = 0; i < 100 && !backed_off; ++i) {
    policy.record(i % 2 == 0 ? Outcome::miss : Outcome::hit, ++t);
    backed_off = !policy.allows(t);
  }
  EXPECT_TRUE(backed_off);
}

TEST(SpinPolicy, BackOffDoublesUpToItsLimitAndHalvesOnCleanHits) {
  SpinPolicy policy;
  std::int64_t t = 0;
  std::int64_t expected = SpinPolicy::kMinBackOffNs;
  for (int round = 0; round < 12; ++round) {
    EXPECT_EQ(policy.backoff_ns(), expected);
    policy.record(Outcome::preempted, t);
    EXPECT_FALSE(policy.allows(t + expected - 1));
    EXPECT_TRUE(policy.allows(t + expected));
    t += expected;
    expected = std::min(expected * 2, SpinPolicy::kMaxBackOffNs);
  }
  EXPECT_EQ(policy.backoff_ns(), SpinPolicy::kMaxBackOffNs);
  policy.record(Outcome::hit, t);
  EXPECT_EQ(policy.backoff_ns(), SpinPolicy::kMaxBackOffNs / 2);
  for (int i = 0; i < 20; ++i) policy.record(Outcome::hit, t);
  EXPECT_EQ(policy.backoff_ns(), SpinPolicy::kMinBackOffNs);
}

TEST(SpinPolicy, HitsDoNotShortenTheBackOffWhileMissesArePending) {
  SpinPolicy policy;
  policy.record(Outcome::preempted, 0);
  policy.record(Outcome::preempted, kMs);  // next back-off: 4 ms
  ASSERT_EQ(policy.backoff_ns(), 4 * kMs);
  policy.record(Outcome::miss, 3 * kMs);
  policy.record(Outcome::hit, 3 * kMs);  // pays a miss point back, nothing more
  EXPECT_EQ(policy.backoff_ns(), 4 * kMs);
  EXPECT_EQ(policy.score(), 1u);
}

}  // namespace
