// thread_pool_bench: weft::ThreadPool against the seed design (Rust book
// ch. 20 in C++), boost::asio::thread_pool and a oneTBB task_arena, in one
// process, with the same worker count (2, or env WEFT_BENCH_THREADS) and the
// same jobs. See bench/README.md for the columns and the recorded results.
//
// Workloads, each for every pool:
//   empty_1_producer/<pool>   N empty jobs posted by the main thread, then
//                             wait until all ran; time = post + drain.
//   empty_2_producers/<pool>  the same N from two producer threads (N/2 each).
//   round_trip/<pool>         post one job, wait until it ran, repeated; the
//                             per-trip samples give median_us and p99_us.
//   round_trip_pinned/<pool>  the same with every thread of the process pinned
//                             to one CPU, as under `taskset -c 0`: a one-CPU
//                             container, where a spinning worker holds the
//                             only core the caller needs.
//   round_trip_loaded/<pool>  the same with 2 busy background threads in the
//                             process (more runnable threads than CPUs).
//   idle/<pool>               after a job, the pool idles 5 s: the CPU time
//                             of its threads over them (idle_cpu_ms), once.
// Pools: weft (default options: unbounded queue), weft_q1024 (max_queued =
// 1024, the server's setting; throughput only), seed, asio, tbb, and for the
// round trip also weft_submit (submit() + future::get()).
//
// Every job counts itself, and every run checks afterwards that each posted
// job ran exactly once; a lost job stops the program through the watchdog
// (no run may take longer than a fixed limit) instead of hanging it. The exit
// status is non-zero on any such failure, which is what the ctest smoke test
// (`--smoke`: small N, one repetition) relies on.
//
// Timing is manual (steady_clock around exactly the measured part), so pool
// start-up, warm-up, producer thread creation and teardown are outside it.

#include "pools.hpp"

#include <benchmark/benchmark.h>
#include <dirent.h>
#include <pthread.h>
#include <sched.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <limits>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <thread>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

// ---- settings (written once in main, before any benchmark runs) ----

struct Settings {
  std::size_t threads = 2;                // workers per pool
  std::uint64_t jobs = 1'000'000;         // jobs per throughput batch
  std::uint64_t warmup_jobs = 20'000;     // before timing, per run
  benchmark::IterationCount batches = 2;  // throughput batches per repetition
  benchmark::IterationCount round_trips = 20'000;
  std::chrono::milliseconds idle{5'000};  // idle/<pool>: how long the pool idles
  std::chrono::milliseconds settle{50};   // idle time before each run
  std::chrono::seconds run_limit{120};    // watchdog limit per run
  bool smoke = false;
};

constinit Settings g_settings{};
std::atomic<bool> g_failed{false};

void fail(benchmark::State& state, const std::string& what) {
  std::fprintf(stderr, "thread_pool_bench: FAILED %s\n", what.c_str());
  g_failed.store(true);
  state.SkipWithError(what.c_str());
}

// ---- which threads ran jobs ----
//
// Each measured batch gets a new generation; a job whose thread has not seen
// this generation yet counts its thread once. Cost per job: one thread-local
// compare, the same for every pool.

std::atomic<std::uint64_t> g_tally_generation{0};
std::atomic<std::uint32_t> g_tally_threads{0};
thread_local std::uint64_t t_tally_seen = 0;

void tally_begin() {
  g_tally_threads.store(0, std::memory_order_relaxed);
  g_tally_generation.fetch_add(1, std::memory_order_relaxed);
}

void tally_note() noexcept {
  const std::uint64_t generation = g_tally_generation.load(std::memory_order_relaxed);
  if (t_tally_seen != generation) {
    t_tally_seen = generation;
    g_tally_threads.fetch_add(1, std::memory_order_relaxed);
  }
}

// ---- completion of a batch ----
//
// One instance with static storage: runs are sequential, and a worker that is
// still inside notify_one() after the producer saw `finished` (oneTBB does not
// join its workers when an arena goes away) must never touch freed memory.
// `done` is updated with acq_rel so the job that completes the batch has seen
// every earlier job's tally update before it releases `finished`.

struct Completion {
  std::atomic<std::uint64_t> done{0};
  std::atomic<std::uint64_t> target{0};
  std::atomic<std::uint32_t> finished{0};

  // Precondition: no job of an earlier batch is still counting.
  void arm(std::uint64_t jobs) {
    done.store(0, std::memory_order_relaxed);
    target.store(jobs, std::memory_order_relaxed);
    finished.store(0, std::memory_order_relaxed);
  }

  void job_ran() noexcept {
    tally_note();
    if (done.fetch_add(1, std::memory_order_acq_rel) + 1 == target.load(std::memory_order_relaxed)) {
      finished.store(1, std::memory_order_release);
      finished.notify_one();
    }
  }

  // Sleeps (futex after a short spin, libstdc++) until the last job ran.
  void wait() {
    while (finished.load(std::memory_order_acquire) == 0) {
      finished.wait(0, std::memory_order_acquire);
    }
  }
};

Completion g_completion;

// One flag per round trip, static for the same reason as g_completion.
struct Flag {
  std::atomic<std::uint32_t> value{0};
  std::atomic<std::uint64_t> ran{0};
};

Flag g_flag;

// ---- watchdog: a run that outlives its limit ends the process ----

std::atomic<std::int64_t> g_deadline_ns{0};  // steady_clock ns; 0 = disarmed
std::atomic<const std::string*> g_running{nullptr};

std::int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch()).count();
}

class Watchdog {
 public:
  Watchdog() : thread_([this] { loop(); }) {}
  ~Watchdog() {
    {
      const std::lock_guard lock(mutex_);
      stop_ = true;
    }
    wake_.notify_one();
    thread_.join();
  }
  Watchdog(const Watchdog&) = delete;
  Watchdog& operator=(const Watchdog&) = delete;
  Watchdog(Watchdog&&) = delete;
  Watchdog& operator=(Watchdog&&) = delete;

  /// CPU time of the watchdog thread so far, in ns (0 if it cannot be read).
  [[nodiscard]] std::int64_t cpu_ns() {
    clockid_t clock{};
    timespec ts{};
    if (::pthread_getcpuclockid(thread_.native_handle(), &clock) != 0 || ::clock_gettime(clock, &ts) != 0) {
      return 0;
    }
    return static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + static_cast<std::int64_t>(ts.tv_nsec);
  }

 private:
  void loop() {
    std::unique_lock lock(mutex_);
    while (!wake_.wait_for(lock, std::chrono::milliseconds(250), [this] { return stop_; })) {
      const std::int64_t deadline = g_deadline_ns.load();
      if (deadline != 0 && now_ns() > deadline) {
        const std::string* name = g_running.load();
        std::fprintf(stderr,
                     "thread_pool_bench: FAILED %s did not finish within %lld s "
                     "(batch: %llu of %llu jobs ran; round trips: %llu ran): "
                     "a pool lost a job or hung\n",
                     name != nullptr ? name->c_str() : "?",
                     static_cast<long long>(g_settings.run_limit.count()),
                     static_cast<unsigned long long>(g_completion.done.load()),
                     static_cast<unsigned long long>(g_completion.target.load()),
                     static_cast<unsigned long long>(g_flag.ran.load()));
        std::fflush(stderr);
        std::_Exit(3);
      }
    }
  }

  std::mutex mutex_;
  std::condition_variable wake_;
  bool stop_ = false;
  std::thread thread_;  // last: starts after the members it uses
};

Watchdog* g_watchdog = nullptr;  // set in main while the benchmarks run

/// Arms the watchdog for one benchmark run (pool start, warm-up, timed part, teardown).
class RunGuard {
 public:
  explicit RunGuard(const std::string& name) {
    g_running.store(&name);
    g_deadline_ns.store(now_ns() + std::chrono::nanoseconds(g_settings.run_limit).count());
  }
  ~RunGuard() {
    g_deadline_ns.store(0);
    g_running.store(nullptr);
  }
  RunGuard(const RunGuard&) = delete;
  RunGuard& operator=(const RunGuard&) = delete;
  RunGuard(RunGuard&&) = delete;
  RunGuard& operator=(RunGuard&&) = delete;
};

// ---- helpers ----

/// Producers block here (futex) until open() so they all start together.
class Gate {
 public:
  void wait() {
    while (open_.load(std::memory_order_acquire) == 0) {
      open_.wait(0, std::memory_order_acquire);
    }
  }
  void open() {
    open_.store(1, std::memory_order_release);
    open_.notify_all();
  }

 private:
  std::atomic<std::uint32_t> open_{0};
};

template <class Pool>
void post_counted(Pool& pool, std::uint64_t jobs) {
  Completion* completion = &g_completion;
  for (std::uint64_t i = 0; i < jobs; ++i) {
    pool.post([completion] { completion->job_ran(); });
  }
}

/// Checks the batch that just drained ran each job exactly once. A duplicate
/// run shows as done > target (a lost job never drains: the watchdog ends it).
bool batch_ok(benchmark::State& state, const std::string& name) {
  const std::uint64_t done = g_completion.done.load();
  const std::uint64_t target = g_completion.target.load();
  if (done != target) {
    fail(state, name + ": " + std::to_string(done) + " jobs ran, " + std::to_string(target) + " posted");
    return false;
  }
  return true;
}

bool threads_ok(benchmark::State& state, const std::string& name, std::uint32_t used) {
  if (used == 0 || used > g_settings.threads) {
    fail(state, name + ": jobs ran on " + std::to_string(used) + " threads, pool has " +
                    std::to_string(g_settings.threads));
    return false;
  }
  return true;
}

/// Starts every worker and runs a batch through it, outside the timed part.
template <class Pool>
bool warm_up(benchmark::State& state, const std::string& name, Pool& pool) {
  g_completion.arm(g_settings.warmup_jobs);
  post_counted(pool, g_settings.warmup_jobs);
  g_completion.wait();
  return batch_ok(state, name + " (warm-up)");
}

double to_us(std::int64_t ns) { return static_cast<double>(ns) / 1000.0; }

std::int64_t clock_ns(clockid_t clock) {
  timespec ts{};
  ::clock_gettime(clock, &ts);
  return static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + static_cast<std::int64_t>(ts.tv_nsec);
}

/// CPU time of the whole process (every thread, including a pool's workers
/// while they spin), in ns: what a pool costs beyond wall time.
std::int64_t process_cpu_ns() { return clock_ns(CLOCK_PROCESS_CPUTIME_ID); }

/// The same without the calling thread and the watchdog: the pools' threads
/// (and anything they left running).
std::int64_t pool_threads_cpu_ns() {
  // The process last: the two subtracted never include time it does not.
  const std::int64_t self = clock_ns(CLOCK_THREAD_CPUTIME_ID);
  const std::int64_t watchdog = g_watchdog != nullptr ? g_watchdog->cpu_ns() : 0;
  return process_cpu_ns() - self - watchdog;
}

/// Pins every thread of the process to one CPU (the first of the calling
/// thread's mask) while it lives: what starting the process under
/// `taskset -c <cpu>` does, for one workload of a run that uses every CPU
/// otherwise. Threads created meanwhile inherit their creator's mask, which is
/// pinned too; two passes catch a thread that a pool started during the first.
/// The destructor gives every thread the calling thread's old mask back.
class ProcessPinned {
 public:
  ProcessPinned() {
    CPU_ZERO(&saved_);
    CPU_ZERO(&one_);
    if (::sched_getaffinity(0, sizeof saved_, &saved_) != 0) {
      return;
    }
    for (std::size_t cpu = 0; cpu < std::size_t{CPU_SETSIZE}; ++cpu) {
      if (CPU_ISSET(cpu, &saved_)) {
        CPU_SET(cpu, &one_);
        break;
      }
    }
    ok_ = set_all(one_) && set_all(one_);
  }
  ~ProcessPinned() { set_all(saved_); }
  ProcessPinned(const ProcessPinned&) = delete;
  ProcessPinned& operator=(const ProcessPinned&) = delete;
  ProcessPinned(ProcessPinned&&) = delete;
  ProcessPinned& operator=(ProcessPinned&&) = delete;

  [[nodiscard]] bool ok() const noexcept { return ok_; }

 private:
  // sched_setaffinity for every thread in /proc/self/task; false if one failed
  // (a thread that exited meanwhile does not count).
  static bool set_all(const cpu_set_t& set) {
    DIR* dir = ::opendir("/proc/self/task");
    if (dir == nullptr) {
      return false;
    }
    bool ok = true;
    while (const dirent* entry = ::readdir(dir)) {  // NOLINT(concurrency-mt-unsafe): one reader of this DIR
      const std::string_view name(entry->d_name);
      pid_t tid = 0;
      const auto [ptr, ec] = std::from_chars(name.data(), name.data() + name.size(), tid);
      if (ec != std::errc() || ptr != name.data() + name.size()) {
        continue;
      }
      if (::sched_setaffinity(tid, sizeof set, &set) != 0 && errno != ESRCH) {
        ok = false;
      }
    }
    ::closedir(dir);
    return ok;
  }

  cpu_set_t saved_{};
  cpu_set_t one_{};
  bool ok_ = false;
};

/// Background threads that keep a CPU busy each (integer work, no memory
/// traffic), from construction until destruction: other work in the process.
class BusyThreads {
 public:
  explicit BusyThreads(std::size_t n) {
    threads_.reserve(n);
    for (std::size_t i = 0; i < n; ++i) {
      threads_.emplace_back([this, i] {
        std::uint64_t x = i + 1;
        while (!stop_.load(std::memory_order_relaxed)) {
          for (int k = 0; k < 1000; ++k) {
            x = x * 6364136223846793005ULL + 1442695040888963407ULL;
          }
          benchmark::DoNotOptimize(x);
        }
      });
    }
  }
  ~BusyThreads() {
    stop_.store(true, std::memory_order_relaxed);
    for (std::thread& t : threads_) {
      t.join();
    }
  }
  BusyThreads(const BusyThreads&) = delete;
  BusyThreads& operator=(const BusyThreads&) = delete;
  BusyThreads(BusyThreads&&) = delete;
  BusyThreads& operator=(BusyThreads&&) = delete;

 private:
  std::atomic<bool> stop_{false};
  std::vector<std::thread> threads_;
};

// ---- workloads ----

template <class Pool>
void bm_empty_jobs(benchmark::State& state, const std::string& name, std::size_t producers) {
  std::this_thread::sleep_for(g_settings.settle);
  const RunGuard guard(name);
  const std::uint64_t jobs = g_settings.jobs;
  std::int64_t total_ns = 0;
  std::int64_t total_cpu_ns = 0;
  std::uint32_t threads_used = std::numeric_limits<std::uint32_t>::max();
  bool ok = true;
  {
    Pool pool(g_settings.threads);
    ok = warm_up(state, name, pool);
    for (auto _ : state) {
      if (!ok) {
        state.SetIterationTime(0.0);
        continue;
      }
      g_completion.arm(jobs);
      tally_begin();
      Clock::time_point start;
      Clock::time_point stop;
      std::int64_t cpu_start = 0;
      std::int64_t cpu_stop = 0;
      if (producers == 1) {
        cpu_start = process_cpu_ns();
        start = Clock::now();
        post_counted(pool, jobs);
        g_completion.wait();
        stop = Clock::now();
        cpu_stop = process_cpu_ns();
      } else {
        Gate gate;
        std::vector<std::thread> threads;
        threads.reserve(producers);
        for (std::size_t p = 0; p < producers; ++p) {
          const std::uint64_t share = jobs / producers + (p == 0 ? jobs % producers : 0);
          threads.emplace_back([&pool, &gate, share] {
            gate.wait();
            post_counted(pool, share);
          });
        }
        cpu_start = process_cpu_ns();
        start = Clock::now();
        gate.open();
        g_completion.wait();
        stop = Clock::now();
        cpu_stop = process_cpu_ns();
        for (std::thread& thread : threads) {
          thread.join();
        }
      }
      total_cpu_ns += cpu_stop - cpu_start;
      const auto elapsed = std::chrono::duration_cast<std::chrono::nanoseconds>(stop - start);
      state.SetIterationTime(std::chrono::duration<double>(elapsed).count());
      total_ns += elapsed.count();
      const std::uint32_t used = g_tally_threads.load(std::memory_order_relaxed);
      threads_used = std::min(threads_used, used);
      ok = batch_ok(state, name) && threads_ok(state, name, used);
    }
  }  // the pool is gone: every job has run (TBB: drained, see Completion)
  if (!ok || !batch_ok(state, name + " (after teardown)")) {
    return;
  }
  const auto processed = static_cast<std::uint64_t>(state.iterations()) * jobs;
  state.SetItemsProcessed(static_cast<std::int64_t>(processed));
  state.counters["ns_per_job"] = static_cast<double>(total_ns) / static_cast<double>(processed);
  state.counters["cpu_ns_per_job"] = static_cast<double>(total_cpu_ns) / static_cast<double>(processed);
  state.counters["threads_used"] = threads_used;
}

/// Where a round trip runs: on the machine as it is, with the whole process
/// pinned to one CPU, or beside kBusyThreads busy threads of the process.
enum class Setting : std::uint8_t { quiet, pinned, loaded };
constexpr std::size_t kBusyThreads = 2;

/// Post one job, wait until it ran. With kFuture (weft only), the job goes
/// through submit() and the wait is future::get(), what a caller of the
/// public API pays; otherwise every pool gets the same flag + futex wait.
template <class Pool, bool kFuture = false>
void bm_round_trip(benchmark::State& state, const std::string& name, Setting setting) {
  std::this_thread::sleep_for(g_settings.settle);
  const RunGuard guard(name);
  std::vector<std::int64_t> samples;
  samples.reserve(static_cast<std::size_t>(g_settings.round_trips));
  std::int64_t cpu_start = 0;
  std::int64_t cpu_ns = 0;
  bool ok = true;
  std::optional<ProcessPinned> pinned;  // before the pool: it starts pinned, as under taskset
  if (setting == Setting::pinned && !pinned.emplace().ok()) {
    fail(state, name + ": could not pin the process to one CPU");
    return;
  }
  {
    Pool pool(g_settings.threads);
    ok = warm_up(state, name, pool);
    std::optional<BusyThreads> busy;
    if (setting == Setting::loaded) {
      busy.emplace(kBusyThreads);
      std::this_thread::sleep_for(std::chrono::milliseconds(20));  // the scheduler has seen them run
    }
    g_flag.ran.store(0);
    tally_begin();
    Flag* flag = &g_flag;
    cpu_start = process_cpu_ns();
    for (auto _ : state) {
      if (!ok) {
        state.SetIterationTime(0.0);
        continue;
      }
      flag->value.store(0, std::memory_order_relaxed);
      const Clock::time_point start = Clock::now();
      if constexpr (kFuture) {
        pool.pool()
            .submit([flag] {
              tally_note();
              flag->ran.fetch_add(1, std::memory_order_relaxed);
            })
            .get();
      } else {
        pool.post([flag] {
          tally_note();
          flag->ran.fetch_add(1, std::memory_order_relaxed);
          flag->value.store(1, std::memory_order_release);
          flag->value.notify_one();
        });
        while (flag->value.load(std::memory_order_acquire) == 0) {
          flag->value.wait(0, std::memory_order_acquire);
        }
      }
      const Clock::time_point stop = Clock::now();
      const auto elapsed = std::chrono::duration_cast<std::chrono::nanoseconds>(stop - start);
      state.SetIterationTime(std::chrono::duration<double>(elapsed).count());
      samples.push_back(elapsed.count());
    }
    cpu_ns = process_cpu_ns() - cpu_start;
  }
  if (!ok) {
    return;
  }
  const auto expected = static_cast<std::uint64_t>(state.iterations());
  const std::uint64_t ran = g_flag.ran.load();
  if (ran != expected) {
    fail(state,
         name + ": " + std::to_string(ran) + " round-trip jobs ran, " + std::to_string(expected) + " posted");
    return;
  }
  const std::uint32_t used = g_tally_threads.load(std::memory_order_relaxed);
  if (!threads_ok(state, name, used) || samples.empty()) {
    return;
  }
  std::sort(samples.begin(), samples.end());
  const std::size_t n = samples.size();
  // Nearest-rank percentiles: the smallest sample with at least p% at or below it.
  const auto rank = [n](std::size_t percent) {
    const std::size_t r = (n * percent + 99) / 100;
    return std::max<std::size_t>(r, 1) - 1;
  };
  state.counters["median_us"] = to_us(samples[rank(50)]);
  state.counters["p99_us"] = to_us(samples[rank(99)]);
  state.counters["cpu_us_per_trip"] = to_us(cpu_ns) / static_cast<double>(n);
  state.counters["threads_used"] = used;
}

/// Sleeps until the threads of the process other than this one and the
/// watchdog have used no CPU for 200 ms (at most 5 s): the threads of an
/// earlier run (oneTBB keeps its workers) and the pool's own warm-up are done.
void wait_until_still() {
  constexpr auto kStep = std::chrono::milliseconds(100);
  constexpr std::int64_t kStillNs = 20'000;  // per step: a few wake-ups at most
  std::int64_t last = pool_threads_cpu_ns();
  int still = 0;
  for (int step = 0; step < 50 && still < 2; ++step) {
    std::this_thread::sleep_for(kStep);
    const std::int64_t now = pool_threads_cpu_ns();
    still = now - last < kStillNs ? still + 1 : 0;
    last = now;
  }
}

/// A pool that has just run a job and then gets none for g_settings.idle:
/// the CPU time of every thread but the main one (which sleeps) and the
/// watchdog over that span, spinning down included.
template <class Pool>
void bm_idle(benchmark::State& state, const std::string& name) {
  std::this_thread::sleep_for(g_settings.settle);
  const RunGuard guard(name);
  std::int64_t cpu_ns = 0;
  bool ok = true;
  {
    Pool pool(g_settings.threads);
    ok = warm_up(state, name, pool);
    for (auto _ : state) {
      if (!ok) {
        state.SetIterationTime(0.0);
        continue;
      }
      if (!g_settings.smoke) {
        wait_until_still();
      }
      g_completion.arm(1);
      post_counted(pool, 1);
      g_completion.wait();
      const std::int64_t cpu_start = pool_threads_cpu_ns();
      const Clock::time_point start = Clock::now();
      std::this_thread::sleep_for(g_settings.idle);
      cpu_ns += pool_threads_cpu_ns() - cpu_start;
      state.SetIterationTime(std::chrono::duration<double>(Clock::now() - start).count());
      ok = batch_ok(state, name);
    }
  }
  if (!ok) {
    return;
  }
  state.counters["idle_cpu_ms"] = static_cast<double>(cpu_ns) / 1e6 / static_cast<double>(state.iterations());
}

// ---- registration ----

template <class Pool>
void register_pool() {
  const std::string pool(Pool::kName);
  for (const std::size_t producers : {std::size_t{1}, std::size_t{2}}) {
    const std::string name = producers == 1 ? "empty_1_producer/" + pool
                                            : "empty_" + std::to_string(producers) + "_producers/" + pool;
    benchmark::RegisterBenchmark(
        name.c_str(),
        [name, producers](benchmark::State& state) { bm_empty_jobs<Pool>(state, name, producers); })
        ->Iterations(g_settings.batches)
        ->UseManualTime()
        ->Unit(benchmark::kMillisecond);
  }
}

template <class Pool, bool kFuture = false>
void register_round_trip(std::string_view label, Setting setting = Setting::quiet) {
  const char* workload = setting == Setting::quiet    ? "round_trip/"
                         : setting == Setting::pinned ? "round_trip_pinned/"
                                                      : "round_trip_loaded/";
  const std::string name = workload + std::string(label);
  benchmark::RegisterBenchmark(
      name.c_str(),
      [name, setting](benchmark::State& state) { bm_round_trip<Pool, kFuture>(state, name, setting); })
      ->Iterations(g_settings.round_trips)
      ->UseManualTime()
      ->Unit(benchmark::kMicrosecond);
}

/// Every round-trip setting but the future one, and the idle pool.
template <class Pool>
void register_latency(bool idle) {
  const std::string pool(Pool::kName);
  register_round_trip<Pool>(pool, Setting::pinned);
  register_round_trip<Pool>(pool, Setting::loaded);
  if (idle) {
    const std::string name = "idle/" + pool;
    // One repetition whatever --benchmark_repetitions says: it is 5 s long,
    // and the number is a sum of sleeps, not a distribution.
    benchmark::RegisterBenchmark(name.c_str(),
                                 [name](benchmark::State& state) { bm_idle<Pool>(state, name); })
        ->Iterations(1)
        ->Repetitions(1)
        ->UseManualTime()
        ->Unit(benchmark::kMillisecond);
  }
}

std::optional<std::size_t> parse_threads(const char* text) {
  std::size_t value = 0;
  const char* end = text + std::strlen(text);
  const auto [ptr, ec] = std::from_chars(text, end, value);
  if (ec != std::errc() || ptr != end || value == 0 || value > 256) {
    return std::nullopt;
  }
  return value;
}

}  // namespace

int main(int argc, char** argv) {
  // Our own flag first: Google Benchmark rejects flags it does not know.
  int kept = 1;
  for (int i = 1; i < argc; ++i) {
    if (std::string_view(argv[i]) == "--smoke") {
      g_settings.smoke = true;
    } else {
      argv[kept++] = argv[i];
    }
  }
  argc = kept;
  // getenv: still single-threaded here (concurrency-mt-unsafe does not apply).
  if (const char* smoke = std::getenv("WEFT_BENCH_SMOKE");  // NOLINT(concurrency-mt-unsafe)
      smoke != nullptr && std::string_view(smoke) == "1") {
    g_settings.smoke = true;
  }
  if (const char* threads = std::getenv("WEFT_BENCH_THREADS");  // NOLINT(concurrency-mt-unsafe)
      threads != nullptr) {
    const std::optional<std::size_t> value = parse_threads(threads);
    if (!value) {
      std::fprintf(stderr, "thread_pool_bench: WEFT_BENCH_THREADS=%s: want a whole number from 1 to 256\n",
                   threads);
      return 2;
    }
    g_settings.threads = *value;
  }
  if (g_settings.smoke) {
    // Small enough for < 10 s under AddressSanitizer; still crosses every
    // pool's queue many times over and checks every count.
    g_settings.jobs = 20'000;
    g_settings.warmup_jobs = 2'000;
    g_settings.batches = 1;
    g_settings.round_trips = 500;
    g_settings.idle = std::chrono::milliseconds(100);
    g_settings.settle = std::chrono::milliseconds(0);
    g_settings.run_limit = std::chrono::seconds(10);
  }

  register_pool<weft_bench::WeftPool>();
  register_pool<weft_bench::WeftBoundedPool>();
  register_pool<weft_bench::SeedPool>();
  register_pool<weft_bench::AsioPool>();
  register_pool<weft_bench::TbbPool>();
  register_round_trip<weft_bench::WeftPool>("weft");
  register_round_trip<weft_bench::WeftPool, true>("weft_submit");
  register_round_trip<weft_bench::SeedPool>("seed");
  register_round_trip<weft_bench::AsioPool>("asio");
  register_round_trip<weft_bench::TbbPool>("tbb");
  register_latency<weft_bench::WeftPool>(true);
  register_latency<weft_bench::SeedPool>(false);
  register_latency<weft_bench::AsioPool>(false);
  register_latency<weft_bench::TbbPool>(true);

  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) {
    return 2;
  }
  benchmark::AddCustomContext("pool_threads", std::to_string(g_settings.threads));
  benchmark::AddCustomContext("jobs_per_batch", std::to_string(g_settings.jobs));
  benchmark::AddCustomContext("round_trips", std::to_string(g_settings.round_trips));
  benchmark::AddCustomContext("mode", g_settings.smoke ? "smoke" : "full");

  {
    Watchdog watchdog;
    g_watchdog = &watchdog;
    benchmark::RunSpecifiedBenchmarks();
    g_watchdog = nullptr;
  }
  benchmark::Shutdown();
  if (g_failed.load()) {
    std::fprintf(stderr, "thread_pool_bench: at least one pool failed a check (see above)\n");
    return 1;
  }
  return 0;
}
