#pragma once
// SpinPolicy: whether an idle ThreadPool worker may poll the queue (spin) for
// a while before it sleeps, learned from how the pool's earlier spins ended.
//
// A spin hands the next job over without a wake-up (a round trip of ~0.4 us
// instead of several), but only while the spinner has a core that no other
// thread needs. When the CPUs are oversubscribed, either the spinner holds the
// core that the thread about to post the next job (or any other thread of the
// process) is waiting for, or the spinner itself is descheduled while a job
// waits for it, and nobody wakes a thread that is not asleep. Both show in how
// spins end:
//   hit        a job came, and the spinner was never descheduled;
//   miss       the spin window passed without a job;
//   preempted  the clock jumped between two polls: the spinner lost its core.
// A miss costs kMissCost points, a preemption all kBackOffScore of them, and a
// hit takes one point back. At kBackOffScore no worker spins for the back-off
// period, which doubles each time it starts (up to kMaxBackOffNs) and halves
// with each hit that finds the score at 0. So a pool whose spins mostly pay
// keeps spinning; one whose spins fail a third of the time or more (or that is
// descheduled while it spins) sleeps at once, and tries again after a while.
//
// (The other half of the rule, how many workers may spin at once given the
// CPUs the process may use, is the pool's: see cpu_budget.hpp.)
//
// Thread-safe. Relaxed atomics: two workers that record at the same moment
// may lose one update, which moves the decision by one spin at most. Times are
// steady-clock nanoseconds passed in, so the rule is tested without a clock.

#include <algorithm>
#include <atomic>
#include <cstdint>

namespace weft::detail {

class SpinPolicy {
 public:
  enum class Outcome : std::uint8_t { hit, miss, preempted };

  static constexpr std::uint32_t kMissCost = 2;
  static constexpr std::uint32_t kBackOffScore = 8;
  static constexpr std::int64_t kMinBackOffNs = 1'000'000;    // 1 ms
  static constexpr std::int64_t kMaxBackOffNs = 256'000'000;  // 256 ms

  /// True when a worker may start a spin at `now_ns`.
  [[nodiscard]] bool allows(std::int64_t now_ns) const noexcept {
    return now_ns >= resume_at_.load(std::memory_order_relaxed);
  }

  /// Notes how a spin ended at `now_ns`.
  void record(Outcome outcome, std::int64_t now_ns) noexcept {
    if (outcome == Outcome::hit) {
      const std::uint32_t score = score_.load(std::memory_order_relaxed);
      if (score > 0) {
        score_.store(score - 1, std::memory_order_relaxed);
        return;
      }
      const std::int64_t backoff = backoff_ns_.load(std::memory_order_relaxed);
      if (backoff > kMinBackOffNs) {
        backoff_ns_.store(std::max(backoff / 2, kMinBackOffNs), std::memory_order_relaxed);
      }
      return;
    }
    const std::uint32_t cost = outcome == Outcome::miss ? kMissCost : kBackOffScore;
    if (score_.fetch_add(cost, std::memory_order_relaxed) + cost < kBackOffScore) return;
    score_.store(0, std::memory_order_relaxed);
    const std::int64_t backoff = backoff_ns_.load(std::memory_order_relaxed);
    resume_at_.store(now_ns + backoff, std::memory_order_relaxed);
    backoff_ns_.store(std::min(backoff * 2, kMaxBackOffNs), std::memory_order_relaxed);
  }

  /// Points against spinning so far (for tests).
  [[nodiscard]] std::uint32_t score() const noexcept { return score_.load(std::memory_order_relaxed); }
  /// The next back-off period (for tests).
  [[nodiscard]] std::int64_t backoff_ns() const noexcept {
    return backoff_ns_.load(std::memory_order_relaxed);
  }

 private:
  std::atomic<std::int64_t> resume_at_{0};
  std::atomic<std::int64_t> backoff_ns_{kMinBackOffNs};
  std::atomic<std::uint32_t> score_{0};
};

}  // namespace weft::detail
