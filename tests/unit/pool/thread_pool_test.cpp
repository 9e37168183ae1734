// Behaviour of weft::ThreadPool. Every test is bounded: waits use deadlines,
// never an unbounded join on a condition that a bug could leave false.
#include "weft/thread_pool.hpp"

#include "pool/cpu_budget.hpp"
#include "pool/thread_pool_probe.hpp"
#include "weft/log.hpp"

#include <gtest/gtest.h>
#include <pthread.h>
#include <sched.h>
#include <time.h>

#include <array>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <future>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace {

using namespace std::chrono_literals;
using weft::detail::ThreadPoolProbe;

// A gate that jobs wait on until the test opens it (bounded wait).
class Gate {
 public:
  void open() {
    {
      std::lock_guard lock(m_);
      open_ = true;
    }
    cv_.notify_all();
  }
  void wait() {
    std::unique_lock lock(m_);
    cv_.wait_for(lock, 10s, [&] { return open_; });
  }

 private:
  std::mutex m_;
  std::condition_variable cv_;
  bool open_ = false;
};

// Waits until pred() or 10 s; returns pred().
template <class Pred>
bool eventually(Pred pred) {
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (!pred() && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(1ms);
  return pred();
}

TEST(ThreadPool, RejectsZeroThreads) {
  EXPECT_THROW(weft::ThreadPool pool(0), std::invalid_argument);
  EXPECT_THROW(weft::ThreadPool pool(weft::ThreadPool::Options{.threads = 0}), std::invalid_argument);
}

TEST(ThreadPool, ReportsItsSize) {
  weft::ThreadPool pool(3);
  EXPECT_EQ(pool.size(), 3u);
}

TEST(ThreadPool, RunsEveryJob) {
  std::atomic<int> ran{0};
  {
    weft::ThreadPool pool(4);
    for (int i = 0; i < 10000; ++i) pool.execute([&] { ran.fetch_add(1, std::memory_order_relaxed); });
    pool.shutdown();
    EXPECT_EQ(ran.load(), 10000);
  }
}

TEST(ThreadPool, DestructorRunsQueuedJobsThenJoins) {
  std::atomic<int> ran{0};
  Gate gate;
  std::thread opener;
  {
    weft::ThreadPool pool(2);
    for (int i = 0; i < 2; ++i) pool.execute([&] { gate.wait(); });
    for (int i = 0; i < 100; ++i) pool.execute([&] { ran.fetch_add(1); });
    EXPECT_GT(pool.queued(), 0u);
    opener = std::thread([&] {
      std::this_thread::sleep_for(50ms);
      gate.open();
    });
  }  // destructor: waits for the gate, then the queued jobs still run
  EXPECT_EQ(ran.load(), 100);
  opener.join();
}

TEST(ThreadPool, ConcurrencyEqualsSize) {
  constexpr std::size_t kThreads = 4;
  weft::ThreadPool pool(kThreads);
  std::atomic<std::size_t> running{0};
  std::atomic<std::size_t> peak{0};
  Gate gate;
  std::mutex ids_mutex;
  std::set<std::thread::id> ids;
  for (std::size_t i = 0; i < kThreads * 2; ++i) {
    pool.execute([&] {
      const std::size_t now = running.fetch_add(1) + 1;
      std::size_t seen = peak.load();
      while (now > seen && !peak.compare_exchange_weak(seen, now)) {
      }
      {
        std::lock_guard lock(ids_mutex);
        ids.insert(std::this_thread::get_id());
      }
      gate.wait();
      running.fetch_sub(1);
    });
  }
  // All workers busy at once, and never more than size().
  ASSERT_TRUE(eventually([&] { return running.load() == kThreads; }));
  std::this_thread::sleep_for(20ms);
  EXPECT_EQ(running.load(), kThreads);
  EXPECT_EQ(pool.queued(), kThreads);
  gate.open();
  pool.shutdown();
  EXPECT_EQ(peak.load(), kThreads);
  EXPECT_EQ(ids.size(), kThreads);
}

TEST(ThreadPool, QueuedCountsWaitingJobsOnly) {
  weft::ThreadPool pool(1);
  Gate gate;
  std::atomic<bool> started{false};
  pool.execute([&] {
    started = true;
    gate.wait();
  });
  ASSERT_TRUE(eventually([&] { return started.load(); }));
  EXPECT_EQ(pool.queued(), 0u);
  for (int i = 0; i < 5; ++i) pool.execute([] {});
  EXPECT_EQ(pool.queued(), 5u);
  gate.open();
  ASSERT_TRUE(eventually([&] { return pool.queued() == 0; }));
}

TEST(ThreadPool, BusyCountsWorkersRunningAJob) {
  weft::ThreadPool pool(3);
  EXPECT_EQ(pool.busy(), 0u);
  Gate gate;
  std::atomic<int> started{0};
  for (int i = 0; i < 2; ++i) {
    pool.execute([&] {
      started.fetch_add(1);
      gate.wait();
    });
  }
  ASSERT_TRUE(eventually([&] { return started.load() == 2; }));
  EXPECT_EQ(pool.busy(), 2u);
  gate.open();
  ASSERT_TRUE(eventually([&] { return pool.busy() == 0; }));
}

TEST(ThreadPool, TryExecuteFailsWhenFullWithoutBlocking) {
  weft::ThreadPool pool(weft::ThreadPool::Options{.threads = 1, .max_queued = 3});
  Gate gate;
  std::atomic<bool> started{false};
  std::atomic<int> ran{0};
  ASSERT_TRUE(pool.try_execute([&] {
    started = true;
    gate.wait();
  }));
  ASSERT_TRUE(eventually([&] { return started.load(); }));
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(pool.try_execute([&] { ran.fetch_add(1); }));
  EXPECT_EQ(pool.queued(), 3u);
  const auto before = std::chrono::steady_clock::now();
  EXPECT_FALSE(pool.try_execute([&] { ran.fetch_add(100); }));
  EXPECT_LT(std::chrono::steady_clock::now() - before, 1s);  // did not wait for room
  gate.open();
  pool.shutdown();
  EXPECT_EQ(ran.load(), 3);  // the refused job never ran
}

TEST(ThreadPool, MaxQueuedIsExactForAnyBound) {
  for (const std::size_t bound : {std::size_t{1}, std::size_t{7}, std::size_t{1500}}) {
    weft::ThreadPool pool(weft::ThreadPool::Options{.threads = 1, .max_queued = bound});
    Gate gate;
    std::atomic<bool> started{false};
    pool.execute([&] {
      started = true;
      gate.wait();
    });
    ASSERT_TRUE(eventually([&] { return started.load(); }));
    std::size_t accepted = 0;
    while (accepted < bound + 10 && pool.try_execute([] {})) ++accepted;
    EXPECT_EQ(accepted, bound) << "bound " << bound;
    EXPECT_EQ(pool.queued(), bound);
    gate.open();
  }
}

TEST(ThreadPool, TryExecuteFailsAfterShutdown) {
  weft::ThreadPool pool(2);
  pool.shutdown();
  std::atomic<bool> ran{false};
  EXPECT_FALSE(pool.try_execute([&] { ran = true; }));
  EXPECT_FALSE(ran.load());
}

TEST(ThreadPool, ExecuteAfterShutdownThrowsPoolClosed) {
  weft::ThreadPool pool(2);
  pool.shutdown();
  EXPECT_THROW(pool.execute([] {}), weft::PoolClosed);
  EXPECT_THROW((void)pool.submit([] { return 1; }), weft::PoolClosed);
  // PoolClosed is a std::runtime_error.
  try {
    pool.execute([] {});
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("shut down"), std::string::npos);
  }
}

TEST(ThreadPool, ShutdownIsIdempotentAndConcurrent) {
  weft::ThreadPool pool(2);
  std::atomic<int> ran{0};
  for (int i = 0; i < 1000; ++i) pool.execute([&] { ran.fetch_add(1); });
  std::vector<std::thread> callers;
  for (int i = 0; i < 4; ++i) callers.emplace_back([&] { pool.shutdown(); });
  for (auto& t : callers) t.join();
  // Every caller returned only after the join: all jobs have run.
  EXPECT_EQ(ran.load(), 1000);
  pool.shutdown();
}

TEST(ThreadPool, ExecuteBlocksWhileFullThenProceeds) {
  weft::ThreadPool pool(weft::ThreadPool::Options{.threads = 1, .max_queued = 1});
  Gate gate;
  std::atomic<bool> started{false};
  pool.execute([&] {
    started = true;
    gate.wait();
  });
  ASSERT_TRUE(eventually([&] { return started.load(); }));
  pool.execute([] {});  // fills the queue
  std::atomic<bool> returned{false};
  std::thread producer([&] {
    pool.execute([] {});
    returned = true;
  });
  std::this_thread::sleep_for(50ms);
  EXPECT_FALSE(returned.load());  // still blocked: the queue is full
  gate.open();
  EXPECT_TRUE(eventually([&] { return returned.load(); }));
  producer.join();
}

TEST(ThreadPool, ShutdownWakesBlockedProducersWithPoolClosed) {
  weft::ThreadPool pool(weft::ThreadPool::Options{.threads = 1, .max_queued = 1});
  Gate gate;
  std::atomic<bool> started{false};
  pool.execute([&] {
    started = true;
    gate.wait();
  });
  ASSERT_TRUE(eventually([&] { return started.load(); }));
  pool.execute([] {});
  std::atomic<int> closed{0};
  std::vector<std::thread> producers;
  for (int i = 0; i < 3; ++i) {
    producers.emplace_back([&] {
      try {
        pool.execute([] {});
      } catch (const weft::PoolClosed&) {
        closed.fetch_add(1);
      }
    });
  }
  std::this_thread::sleep_for(30ms);
  std::thread stopper([&] { pool.shutdown(); });
  // shutdown() wakes the blocked producers before it waits for the jobs.
  EXPECT_TRUE(eventually([&] { return closed.load() == 3; }));
  gate.open();
  stopper.join();
  for (auto& t : producers) t.join();
}

TEST(ThreadPool, ExecuteJobExceptionKeepsWorkerAliveAndIsReported) {
  std::atomic<int> reported{0};
  std::string message;
  std::mutex m;
  weft::ThreadPool pool(weft::ThreadPool::Options{.threads = 1, .on_error = [&](std::exception_ptr e) {
                                                    try {
                                                      std::rethrow_exception(e);
                                                    } catch (const std::exception& ex) {
                                                      std::lock_guard lock(m);
                                                      message = ex.what();
                                                    } catch (...) {
                                                    }
                                                    reported.fetch_add(1);
                                                  }});
  pool.execute([] { throw std::runtime_error("boom"); });
  pool.execute([] { throw 42; });
  auto after = pool.submit([] { return 7; });  // the single worker still runs jobs
  ASSERT_EQ(after.wait_for(10s), std::future_status::ready);
  EXPECT_EQ(after.get(), 7);
  EXPECT_EQ(pool.failed_jobs(), 2u);
  EXPECT_EQ(reported.load(), 2);
  std::lock_guard lock(m);
  EXPECT_EQ(message, "boom");
}

TEST(ThreadPool, JobExceptionWithoutCallbackIsLoggedNotSwallowed) {
  weft::ThreadPool pool(1);
  testing::internal::CaptureStderr();
  pool.execute([] { throw std::runtime_error("visible failure"); });
  pool.shutdown();
  const std::string err = testing::internal::GetCapturedStderr();
  EXPECT_NE(err.find("visible failure"), std::string::npos) << err;
  EXPECT_EQ(pool.failed_jobs(), 1u);
}

TEST(ThreadPool, ThrowingErrorCallbackDoesNotKillWorker) {
  weft::ThreadPool pool(weft::ThreadPool::Options{
      .threads = 1, .on_error = [](std::exception_ptr) { throw std::logic_error("callback broke"); }});
  testing::internal::CaptureStderr();
  pool.execute([] { throw 1; });
  auto f = pool.submit([] { return 3; });
  ASSERT_EQ(f.wait_for(10s), std::future_status::ready);
  EXPECT_EQ(f.get(), 3);
  pool.shutdown();
  EXPECT_NE(testing::internal::GetCapturedStderr().find("callback broke"), std::string::npos);
}

TEST(ThreadPool, SubmitDeliversValueAndException) {
  weft::ThreadPool pool(2);
  auto value = pool.submit([] { return std::string("forty-two"); });
  auto nothing = pool.submit([] {});
  auto failure = pool.submit([]() -> int { throw std::out_of_range("nope"); });
  EXPECT_EQ(value.get(), "forty-two");
  EXPECT_NO_THROW(nothing.get());
  EXPECT_THROW(failure.get(), std::out_of_range);
  EXPECT_EQ(pool.failed_jobs(), 0u);  // submit() exceptions go to the future only
}

TEST(ThreadPool, AcceptsMoveOnlyJobs) {
  weft::ThreadPool pool(2);
  auto p = std::make_unique<int>(5);
  std::promise<int> done;
  auto result = done.get_future();
  pool.execute([p = std::move(p), done = std::move(done)]() mutable { done.set_value(*p * 2); });
  EXPECT_EQ(result.get(), 10);
  auto q = std::make_unique<int>(8);
  auto f = pool.submit([q = std::move(q)] { return *q + 1; });
  EXPECT_EQ(f.get(), 9);
}

TEST(ThreadPool, LargeJobsAreStoredOnTheHeap) {
  weft::ThreadPool pool(2);
  std::array<char, 512> big{};
  big[511] = 'z';
  auto f = pool.submit([big] { return big[511]; });
  EXPECT_EQ(f.get(), 'z');
}

TEST(ThreadPool, ManyProducersAtOnce) {
  constexpr int kProducers = 8;
  constexpr int kJobsEach = 20000;
  std::atomic<long> sum{0};
  {
    weft::ThreadPool pool(weft::ThreadPool::Options{.threads = 3, .max_queued = 64});
    std::vector<std::thread> producers;
    for (int p = 0; p < kProducers; ++p) {
      producers.emplace_back([&, p] {
        for (int i = 0; i < kJobsEach; ++i) pool.execute([&sum, p] { sum.fetch_add(p + 1); });
      });
    }
    for (auto& t : producers) t.join();
  }
  long expected = 0;
  for (int p = 0; p < kProducers; ++p) expected += static_cast<long>(p + 1) * kJobsEach;
  EXPECT_EQ(sum.load(), expected);
}

// The lost wake-up hazard of the measurements note: many producers blocked on
// a tiny full queue while workers free slots. Every producer must finish.
TEST(ThreadPool, FullQueueWithManyProducersLosesNoWakeUp) {
  for (const auto spin : {std::chrono::microseconds{0}, std::chrono::microseconds{50}}) {
    std::atomic<int> ran{0};
    weft::ThreadPool pool(weft::ThreadPool::Options{.threads = 2, .max_queued = 2, .spin = spin});
    std::vector<std::thread> producers;
    for (int p = 0; p < 6; ++p) {
      producers.emplace_back([&] {
        for (int i = 0; i < 3000; ++i) pool.execute([&] { ran.fetch_add(1); });
      });
    }
    for (auto& t : producers) t.join();
    pool.shutdown();
    EXPECT_EQ(ran.load(), 18000);
  }
}

TEST(ThreadPool, UnboundedQueueOverflowsTheRingInOrder) {
  weft::ThreadPool pool(1);
  Gate gate;
  std::atomic<bool> started{false};
  pool.execute([&] {
    started = true;
    gate.wait();
  });
  ASSERT_TRUE(eventually([&] { return started.load(); }));  // the gate job is running, not queued
  std::vector<int> order;
  constexpr int kJobs = 5000;  // more than the ring holds
  for (int i = 0; i < kJobs; ++i) pool.execute([&order, i] { order.push_back(i); });
  EXPECT_EQ(pool.queued(), static_cast<std::size_t>(kJobs));
  gate.open();
  pool.shutdown();
  ASSERT_EQ(order.size(), static_cast<std::size_t>(kJobs));
  for (int i = 0; i < kJobs; ++i) ASSERT_EQ(order[static_cast<std::size_t>(i)], i);
}

TEST(ThreadPool, ShutdownRacingWithProducersRunsEveryAcceptedJob) {
  for (int round = 0; round < 20; ++round) {
    std::atomic<int> accepted{0};
    std::atomic<int> ran{0};
    auto pool = std::make_unique<weft::ThreadPool>(weft::ThreadPool::Options{.threads = 2, .max_queued = 16});
    std::vector<std::thread> producers;
    for (int p = 0; p < 4; ++p) {
      producers.emplace_back([&] {
        for (;;) {
          try {
            pool->execute([&] { ran.fetch_add(1); });
            accepted.fetch_add(1);
          } catch (const weft::PoolClosed&) {
            return;
          }
        }
      });
    }
    // Shut down while the producers are in full flight (they have started).
    ASSERT_TRUE(eventually([&] { return accepted.load() > round * 50; }));
    pool->shutdown();
    for (auto& t : producers) t.join();
    EXPECT_EQ(ran.load(), accepted.load());
    EXPECT_GT(accepted.load(), 0);
  }
}

TEST(ThreadPool, DestroyedWhileJobsStillQueued) {
  std::atomic<int> ran{0};
  auto token = std::make_shared<int>(0);
  std::weak_ptr<int> watch = token;
  {
    weft::ThreadPool pool(weft::ThreadPool::Options{.threads = 1, .max_queued = 0});
    for (int i = 0; i < 2000; ++i) {
      pool.execute([&ran, token] {
        std::this_thread::yield();
        ran.fetch_add(1);
      });
    }
    token.reset();
  }
  EXPECT_EQ(ran.load(), 2000);
  EXPECT_TRUE(watch.expired());  // every job's captures were destroyed
}

TEST(ThreadPool, ShutdownFromOwnJobIsRefused) {
  weft::ThreadPool pool(1);
  auto f = pool.submit([&] {
    EXPECT_TRUE(pool.on_worker_thread());
    pool.shutdown();
  });
  EXPECT_THROW(f.get(), std::logic_error);
  EXPECT_FALSE(pool.on_worker_thread());
}

TEST(ThreadPool, NamesItsWorkers) {
  weft::ThreadPool pool(weft::ThreadPool::Options{.threads = 2, .name = "namedpoolworker"});
  auto f = pool.submit([] {
    char name[16] = {};
    pthread_getname_np(pthread_self(), name, sizeof name);
    return std::string(name);
  });
  const std::string name = f.get();
  // "namedpoolworker-N" truncated to the 15 bytes Linux keeps.
  EXPECT_EQ(name, "namedpoolworker");
  weft::ThreadPool short_names(weft::ThreadPool::Options{.threads = 1, .name = "w"});
  auto g = short_names.submit([] {
    char n[16] = {};
    pthread_getname_np(pthread_self(), n, sizeof n);
    return std::string(n);
  });
  EXPECT_EQ(g.get(), "w-0");
}

double process_cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

TEST(ThreadPool, IdlePoolSleepsInsteadOfSpinning) {
  weft::ThreadPool pool(4);
  for (int i = 0; i < 100; ++i) pool.execute([] {});
  std::this_thread::sleep_for(20ms);  // past the spin window
  const double before = process_cpu_seconds();
  std::this_thread::sleep_for(300ms);
  const double used = process_cpu_seconds() - before;
  // Four spinning workers would burn ~1.2 s of CPU here; sleeping ones ~0.
  EXPECT_LT(used, 0.05) << "idle pool used " << used << " s of CPU in 0.3 s";
}

TEST(ThreadPool, DebugLogNamesTheWorker) {
  const auto saved = weft::log_level();
  weft::set_log_level(weft::LogLevel::debug);
  testing::internal::CaptureStderr();
  {
    weft::ThreadPool pool(1);
    pool.execute([] {});
  }
  const std::string err = testing::internal::GetCapturedStderr();
  weft::set_log_level(saved);
  EXPECT_NE(err.find("worker 0 got a job; executing."), std::string::npos) << err;
}

TEST(ThreadPool, DebugLogIsOffByDefault) {
  testing::internal::CaptureStderr();
  {
    weft::ThreadPool pool(1);
    pool.execute([] {});
  }
  EXPECT_EQ(testing::internal::GetCapturedStderr().find("got a job"), std::string::npos);
}

// ---- spinning and wake-ups: checked by counting the workers' decisions
// (ThreadPoolProbe), never by timing them ----

// Pins the calling thread to the first `n` CPUs of its affinity mask while it
// lives; threads it starts (a pool's workers) inherit the mask.
class PinnedThread {
 public:
  explicit PinnedThread(int n) {
    CPU_ZERO(&saved_);
    if (sched_getaffinity(0, sizeof saved_, &saved_) != 0) return;
    cpu_set_t set;
    CPU_ZERO(&set);
    int taken = 0;
    for (std::size_t cpu = 0; cpu < std::size_t{CPU_SETSIZE} && taken < n; ++cpu) {
      if (CPU_ISSET(cpu, &saved_)) {
        CPU_SET(cpu, &set);
        ++taken;
      }
    }
    ok_ = taken == n && sched_setaffinity(0, sizeof set, &set) == 0;
  }
  ~PinnedThread() { sched_setaffinity(0, sizeof saved_, &saved_); }
  PinnedThread(const PinnedThread&) = delete;
  PinnedThread& operator=(const PinnedThread&) = delete;

  [[nodiscard]] bool ok() const { return ok_; }

 private:
  cpu_set_t saved_{};
  bool ok_ = false;
};

// submit() + get(), failing instead of hanging when the job never runs.
template <class Pool>
bool round_trip(Pool& pool) {
  auto f = pool.submit([] { return 1; });
  return f.wait_for(10s) == std::future_status::ready && f.get() == 1;
}

// The case of a one-CPU container: the caller and the workers share a single
// core, so a spinning worker could only hold the core that the caller needs to
// post the next job. No worker may spin, however the jobs come.
TEST(ThreadPoolSpinning, NoWorkerSpinsOnOneUsableCpu) {
  const PinnedThread pin(1);
  ASSERT_TRUE(pin.ok());
  weft::ThreadPool pool(2);
  for (int i = 0; i < 2000; ++i) ASSERT_TRUE(round_trip(pool)) << "trip " << i;
  std::atomic<int> ran{0};
  for (int burst = 0; burst < 20; ++burst) {
    for (int i = 0; i < 100; ++i) pool.execute([&] { ran.fetch_add(1); });
    ASSERT_TRUE(eventually([&] { return ran.load() == (burst + 1) * 100; }));
  }
  const auto c = ThreadPoolProbe::counters(pool);
  EXPECT_EQ(c.spinner_cap, 0u);
  EXPECT_EQ(c.spins, 0u);
  EXPECT_EQ(c.peak_spinners, 0u);
  EXPECT_GT(c.spins_capped, 0u);  // the workers did decide, and decided not to
}

// With 2 usable CPUs, one is left for the threads that post and wait: at most
// one worker spins, whatever the number of workers and producers.
TEST(ThreadPoolSpinning, AtMostUsableCpusMinusOneWorkersSpin) {
  const PinnedThread pin(2);
  if (!pin.ok() || weft::detail::usable_cpus() != 2) GTEST_SKIP() << "needs 2 usable CPUs";
  std::atomic<int> ran{0};
  {
    weft::ThreadPool pool(4);
    EXPECT_EQ(ThreadPoolProbe::counters(pool).spinner_cap, 1u);
    std::vector<std::thread> producers;
    for (int p = 0; p < 2; ++p) {
      producers.emplace_back([&] {
        for (int i = 0; i < 200; ++i) {
          for (int j = 0; j < 10; ++j) pool.execute([&] { ran.fetch_add(1); });
          std::this_thread::yield();
        }
      });
    }
    for (auto& t : producers) t.join();
    pool.shutdown();
    const auto c = ThreadPoolProbe::counters(pool);
    EXPECT_LE(c.peak_spinners, 1u);
  }
  EXPECT_EQ(ran.load(), 4000);
}

TEST(ThreadPoolSpinning, SpinZeroNeverSpins) {
  weft::ThreadPool pool(weft::ThreadPool::Options{.threads = 2, .spin = 0us});
  for (int i = 0; i < 200; ++i) ASSERT_TRUE(round_trip(pool));
  const auto c = ThreadPoolProbe::counters(pool);
  EXPECT_EQ(c.spins, 0u);
  EXPECT_EQ(c.spins_capped + c.spins_backed_off, 0u);  // not even asked
}

// A post wakes one chosen worker: only that one leaves its sleep (and parks
// again after the job). A broadcast would send all four round the loop.
TEST(ThreadPoolWakeUps, EachPostWakesExactlyOneSleepingWorker) {
  weft::ThreadPool pool(weft::ThreadPool::Options{.threads = 4, .spin = 0us});
  const auto all_parked = [&] { return ThreadPoolProbe::counters(pool).parked == 4; };
  ASSERT_TRUE(eventually(all_parked));
  const auto before = ThreadPoolProbe::counters(pool);
  EXPECT_EQ(before.wakeups, 0u);
  constexpr std::uint64_t kJobs = 50;
  for (std::uint64_t i = 0; i < kJobs; ++i) {
    ASSERT_TRUE(round_trip(pool));
    ASSERT_TRUE(eventually(all_parked));
  }
  const auto after = ThreadPoolProbe::counters(pool);
  EXPECT_EQ(after.wakeups, kJobs);
  EXPECT_EQ(after.parks - before.parks, kJobs);
}

// However jobs arrive, no post wakes more workers than it brings jobs.
TEST(ThreadPoolWakeUps, NeverMoreWakeUpsThanJobs) {
  for (const auto spin : {0us, 50us}) {
    std::atomic<std::uint64_t> ran{0};
    weft::ThreadPool pool(weft::ThreadPool::Options{.threads = 4, .spin = spin});
    std::vector<std::thread> producers;
    for (int p = 0; p < 3; ++p) {
      producers.emplace_back([&, p] {
        for (int i = 0; i < 2000; ++i) {
          pool.execute([&] { ran.fetch_add(1); });
          if (i % (p + 2) == 0) std::this_thread::yield();  // bursts of different sizes
        }
      });
    }
    for (auto& t : producers) t.join();
    pool.shutdown();
    EXPECT_EQ(ran.load(), 6000u);
    EXPECT_LE(ThreadPoolProbe::counters(pool).wakeups, ran.load()) << "spin " << spin.count() << " us";
  }
}

// Jobs that each wait until all of them run: a burst of them must reach
// every worker, though posts made while a worker searches wake nobody (the
// searchers wake the rest). A job left queued behind a blocked worker while
// another sleeps makes its round fail after 10 s instead of hanging.
TEST(ThreadPoolWakeUps, BurstsOfBlockingJobsReachEveryWorker) {
  constexpr int kWorkers = 4;
  for (const auto spin : {0us, 50us}) {
    weft::ThreadPool pool(weft::ThreadPool::Options{.threads = kWorkers, .spin = spin});
    for (int round = 0; round < 200; ++round) {
      std::atomic<int> arrived{0};
      std::atomic<int> stranded{0};
      std::atomic<int> done{0};
      for (int i = 0; i < kWorkers; ++i) {
        pool.execute([&] {
          arrived.fetch_add(1);
          const auto deadline = std::chrono::steady_clock::now() + 10s;
          while (arrived.load() < kWorkers && std::chrono::steady_clock::now() < deadline)
            std::this_thread::yield();
          if (arrived.load() < kWorkers) stranded.fetch_add(1);
          done.fetch_add(1);
        });
      }
      ASSERT_TRUE(eventually([&] { return done.load() == kWorkers; }));
      ASSERT_EQ(stranded.load(), 0) << "round " << round << ", spin " << spin.count() << " us";
    }
  }
}

// The lost wake-up hazard for the sleeping side: callers that each wait for
// their own job, so every job finds the workers asleep or about to sleep.
// A lost wake-up leaves a future unready (the test fails, it does not hang).
TEST(ThreadPoolWakeUps, ConcurrentRoundTripsLoseNoWakeUp) {
  for (const bool one_cpu : {false, true}) {
    std::optional<PinnedThread> pin;
    if (one_cpu) {
      ASSERT_TRUE(pin.emplace(1).ok());
    }
    for (const auto spin : {0us, 50us}) {
      weft::ThreadPool pool(weft::ThreadPool::Options{.threads = 2, .spin = spin});
      std::atomic<int> lost{0};
      std::vector<std::thread> callers;
      for (int c = 0; c < 4; ++c) {
        callers.emplace_back([&] {
          for (int i = 0; i < 1500 && lost.load() == 0; ++i) {
            if (!round_trip(pool)) lost.fetch_add(1);
          }
        });
      }
      for (auto& t : callers) t.join();
      EXPECT_EQ(lost.load(), 0) << (one_cpu ? "1 CPU" : "all CPUs") << ", spin " << spin.count() << " us";
    }
  }
}

}  // namespace
