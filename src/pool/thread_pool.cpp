#include "weft/thread_pool.hpp"

#include <linux/futex.h>
#include <pthread.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <latch>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "pool/cpu_budget.hpp"
#include "pool/job_queue.hpp"
#include "pool/spin_policy.hpp"
#include "pool/thread_pool_probe.hpp"
#include "weft/log.hpp"

namespace weft {
namespace {

// Which pool (if any) the current thread works for: shutdown() from a job
// would join the calling thread, so it is refused.
thread_local const void* tl_pool = nullptr;

void cpu_relax() noexcept {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  asm volatile("yield" ::: "memory");
#else
  std::this_thread::yield();
#endif
}

std::int64_t now_ns() noexcept {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// A worker sleeps on its own futex word, so that a waker wakes exactly the
// worker it chose. (std::atomic::wait would first yield the CPU a few times:
// on a busy machine a yield can cost a whole time slice, during which the
// worker is not asleep and so is not woken by the futex.)
static_assert(sizeof(std::atomic<std::uint32_t>) == sizeof(std::uint32_t) &&
              std::atomic<std::uint32_t>::is_always_lock_free);

// Sleeps unless `word` != expected (checked by the kernel as it queues the
// thread, so a wake after the caller's last load is not lost). Returns on a
// wake, at once, or on a signal: the caller loops on its condition.
void futex_wait(std::atomic<std::uint32_t>& word, std::uint32_t expected) noexcept {
  syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(&word), FUTEX_WAIT_PRIVATE, expected, nullptr, nullptr,
          0);
}

void futex_wake(std::atomic<std::uint32_t>& word) noexcept {
  syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(&word), FUTEX_WAKE_PRIVATE, 1, nullptr, nullptr, 0);
}

// RAII count of producers inside enqueue(), so that shutdown() can wait for
// every producer that passed the "closed?" check to finish its push.
class ProducerScope {
 public:
  explicit ProducerScope(std::atomic<std::uint32_t>& n) noexcept : n_(n) {
    n_.fetch_add(1, std::memory_order_seq_cst);
  }
  ~ProducerScope() { n_.fetch_sub(1, std::memory_order_release); }
  ProducerScope(const ProducerScope&) = delete;
  ProducerScope& operator=(const ProducerScope&) = delete;

 private:
  std::atomic<std::uint32_t>& n_;
};

}  // namespace

// Where idle workers are, in one word (state_): how many search (spin, or
// were just woken and have not yet taken a job) and how many are parked
// (registered to sleep, not yet claimed by a waker). Every worker is running,
// searching or parked, and moves between them with one read-modify-write of
// state_:
//   park:    state_ += parked ; re-check the queue ; sleep on its own futex word
//   spin:    state_ += searcher ; poll ; state_ -= searcher ; re-check
//   wake:    (under park_mutex_) state_ += searcher - parked ; set the token
//   woken:   pop ; state_ -= searcher ; re-check
//   post:    publish the job (release) ; read state_ with an RMW ;
//            wake one parked worker only when nobody searches
// No lost wake-ups (the pattern is Dekker's): the post's RMW and the worker's
// RMW are ordered in state_'s modification order. If the post's comes first,
// the worker's RMW reads from it (or from a later RMW: they all extend the
// post's release sequence) and so sees the job: its re-check finds it.
// Otherwise the post sees the worker parked (and wakes one) or searching (and
// the searcher polls, or re-checks after it stops). RMWs rather than seq_cst
// fences, because ThreadSanitizer does not model fences.
//
// Waking is per worker, never a broadcast: parked_ (a LIFO stack under
// park_mutex_, touched only on the way to and from sleep) names the parked
// workers; a waker pops one, makes it a searcher and sets its token under the
// lock, then wakes that worker's futex alone. Nobody wakes a worker while one
// searches (checked again under the lock): the searcher will take the job.
// So a post wakes at most one worker, and a burst of posts wakes one; the last
// searcher to take a job wakes the next worker if jobs still wait (see
// stop_searching()), and so on, one wake-up per job at most. A worker that
// finds a job on its re-check takes itself off the stack, or, if a waker
// claimed it first, consumes the token and stops searching like a woken one.
//
// Spinning only when it pays: at most spinner_cap_ = usable CPUs - 1 workers
// spin at once (so a CPU is left for the threads that post and wait; none on
// one CPU), and SpinPolicy stops all spinning for a while when spins keep
// ending without a job or the spinner is descheduled (see spin_policy.hpp).
//
// Producers blocked on a full queue wait for room the old way (blocked_,
// room_epoch_; published by a pop): one is woken only once `wake_batch_`
// slots are free, so that it does not fight the workers for the cores one
// slot at a time. Nothing here holds a lock while it waits.
class ThreadPool::Impl {
 public:
  explicit Impl(Options options)
      : options_(std::move(options)),
        queue_(options_.max_queued),
        wake_batch_(options_.max_queued == 0
                        ? 1
                        : std::clamp<std::size_t>(options_.max_queued / 4, 1, kMaxWakeBatch)),
        spin_ns_(std::chrono::duration_cast<std::chrono::nanoseconds>(options_.spin).count()),
        slots_(std::make_unique<Worker[]>(options_.threads)),
        spinner_cap_(spinner_cap_for(detail::usable_cpus())),
        next_cpu_check_ns_(now_ns() + kCpuRecheckNs) {
    parked_.reserve(options_.threads);  // park() never allocates
  }

  void start() {
    std::latch running(static_cast<std::ptrdiff_t>(options_.threads));
    workers_.reserve(options_.threads);
    try {
      for (std::size_t i = 0; i < options_.threads; ++i) {
        workers_.emplace_back([this, i, &running] {
          name_thread(i);
          tl_pool = this;
          running.count_down();
          work(i);
        });
      }
    } catch (...) {
      // Not every worker exists, so nobody may wait on `running`; stop and
      // join the ones that started, then report the failure.
      stop_workers();
      throw;
    }
    running.wait();  // libuv's rule: workers confirmed running before use
  }

  bool enqueue(detail::Task& task, bool block) {
    ProducerScope scope(producers_inside_);
    if (closed_.load(std::memory_order_seq_cst)) return refuse(block);
    if (queue_.try_push(task)) {
      wake_worker();
      return true;
    }
    if (!block) return false;
    for (;;) {
      blocked_.fetch_add(1, std::memory_order_seq_cst);
      const std::uint32_t epoch = room_epoch_.load(std::memory_order_seq_cst);
      if (closed_.load(std::memory_order_seq_cst)) {
        blocked_.fetch_sub(1, std::memory_order_relaxed);
        return refuse(true);
      }
      if (queue_.try_push(task)) {
        blocked_.fetch_sub(1, std::memory_order_relaxed);
        wake_worker();
        return true;
      }
      room_epoch_.wait(epoch, std::memory_order_seq_cst);
      blocked_.fetch_sub(1, std::memory_order_relaxed);
    }
  }

  void shutdown() {
    if (tl_pool == this) {
      throw std::logic_error("weft::ThreadPool::shutdown() called from one of its own jobs");
    }
    std::lock_guard lock(shutdown_mutex_);
    if (joined_) return;
    closed_.store(true, std::memory_order_seq_cst);
    // Producers blocked on a full queue wake up, see closed_ and throw.
    room_epoch_.fetch_add(1, std::memory_order_seq_cst);
    room_epoch_.notify_all();
    // A producer that passed the closed_ check is a few instructions from
    // done (or woken just above); wait for it so no job is pushed after the
    // workers may have decided to exit.
    while (producers_inside_.load(std::memory_order_seq_cst) != 0) std::this_thread::yield();
    stop_workers();
    joined_ = true;
  }

  [[nodiscard]] std::size_t size() const noexcept { return options_.threads; }
  [[nodiscard]] std::size_t queued() const noexcept { return queue_.size(); }
  [[nodiscard]] std::size_t busy() const noexcept {
    std::size_t n = 0;
    for (std::size_t i = 0; i < options_.threads; ++i) n += slots_[i].busy.load(std::memory_order_relaxed);
    return n;
  }
  [[nodiscard]] std::size_t failed_jobs() const noexcept { return failed_.load(std::memory_order_relaxed); }

  [[nodiscard]] detail::ThreadPoolCounters counters() const noexcept {
    detail::ThreadPoolCounters c;
    // state_ first (acquire): the counts bumped before the RMWs it has seen are then visible.
    c.parked = parked_count(state_.load(std::memory_order_acquire));
    for (std::size_t i = 0; i < options_.threads; ++i) {
      const Worker& w = slots_[i];
      c.spins += w.spins.load(std::memory_order_relaxed);
      c.spin_hits += w.hits.load(std::memory_order_relaxed);
      c.spin_misses += w.misses.load(std::memory_order_relaxed);
      c.spin_preemptions += w.preemptions.load(std::memory_order_relaxed);
      c.spins_capped += w.capped.load(std::memory_order_relaxed);
      c.spins_backed_off += w.backed_off.load(std::memory_order_relaxed);
      c.parks += w.parks.load(std::memory_order_relaxed);
    }
    c.wakeups = wakeups_.load(std::memory_order_relaxed);
    c.spinner_cap = spinner_cap_.load(std::memory_order_relaxed);
    c.peak_spinners = peak_spinners_.load(std::memory_order_relaxed);
    return c;
  }

 private:
  static constexpr std::size_t kMaxWakeBatch = 64;
  static constexpr int kSpinsBetweenClockReads = 64;
  // A longer gap between two clock reads of a spin (64 polls, a few us) means
  // the spinner was descheduled: another thread wanted its core.
  static constexpr std::int64_t kPreemptedGapNs = 20'000;
  // How often the CPUs the process may use are read again (affinity, quota).
  static constexpr std::int64_t kCpuRecheckNs = 1'000'000'000;

  // state_: searchers in the low 32 bits, parked workers in the high 32.
  static constexpr std::uint64_t kSearcherOne = 1;
  static constexpr std::uint64_t kParkedOne = std::uint64_t{1} << 32;
  static std::uint32_t searcher_count(std::uint64_t state) noexcept {
    return static_cast<std::uint32_t>(state);
  }
  static std::uint32_t parked_count(std::uint64_t state) noexcept {
    return static_cast<std::uint32_t>(state >> 32);
  }

  // One per worker, on its own cache line: the futex word a waker sets to
  // claim this worker, and what the worker did (written by it alone).
  struct alignas(64) Worker {
    std::atomic<std::uint32_t> token{0};  // 1: claimed (by a post or by stop); the worker resets it
    std::atomic<std::uint64_t> spins{0};
    std::atomic<std::uint64_t> hits{0};
    std::atomic<std::uint64_t> misses{0};
    std::atomic<std::uint64_t> preemptions{0};
    std::atomic<std::uint64_t> capped{0};
    std::atomic<std::uint64_t> backed_off{0};
    std::atomic<std::uint64_t> parks{0};
    std::atomic<std::uint32_t> busy{0};  // 1 while the worker runs a job
  };

  // How park() ended: a job found on the re-check (the worker is running),
  // claimed by a waker (the worker is searching), or the pool stops.
  enum class Parked : std::uint8_t { job, woken, stopping };

  static bool refuse(bool block) {
    if (block) throw PoolClosed();
    return false;
  }

  // A counter that only its own worker writes: no read-modify-write needed.
  static void bump(std::atomic<std::uint64_t>& counter) noexcept {
    counter.store(counter.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
  }

  [[nodiscard]] std::uint32_t spinner_cap_for(unsigned usable_cpus) const noexcept {
    const std::size_t spare = usable_cpus > 1 ? usable_cpus - 1 : 0;
    return static_cast<std::uint32_t>(std::min(spare, options_.threads));
  }

  void name_thread(std::size_t i) const {
    std::string name = options_.name + "-" + std::to_string(i);
    name.resize(std::min<std::size_t>(name.size(), 15));  // Linux keeps 15 bytes + NUL
    pthread_setname_np(pthread_self(), name.c_str());
  }

  void stop_workers() {
    stopping_.store(true, std::memory_order_seq_cst);
    {
      // Every parked worker is claimed, as a post would (it becomes a
      // searcher); one that parks after this lock sees stopping_ on its re-check.
      std::lock_guard lock(park_mutex_);
      state_.fetch_add((kSearcherOne - kParkedOne) * parked_.size(), std::memory_order_seq_cst);
      for (const std::size_t id : parked_) {
        slots_[id].token.store(1, std::memory_order_release);
        futex_wake(slots_[id].token);
      }
      parked_.clear();
    }
    for (std::thread& t : workers_) {
      if (t.joinable()) t.join();
    }
  }

  // After a push: wake one parked worker, unless one searches (it will take the job).
  void wake_worker() noexcept {
    const std::uint64_t state = state_.fetch_add(0, std::memory_order_seq_cst);
    if (searcher_count(state) == 0 && parked_count(state) != 0) wake_one();
  }

  // Claims the most recently parked worker, if nobody searches, and wakes it alone.
  void wake_one() noexcept {
    std::size_t id = 0;
    {
      std::lock_guard lock(park_mutex_);
      // Empty: the parked workers found jobs on their re-checks. A searcher:
      // it takes the job, and wakes the next worker if more wait.
      if (parked_.empty() || searcher_count(state_.load(std::memory_order_seq_cst)) != 0) return;
      id = parked_.back();
      parked_.pop_back();
      state_.fetch_add(kSearcherOne - kParkedOne,
                       std::memory_order_seq_cst);  // modulo 2^64: -parked +searcher
      slots_[id].token.store(1, std::memory_order_release);
    }
    futex_wake(slots_[id].token);  // after the lock: the woken worker does not wait for it
    wakeups_.fetch_add(1, std::memory_order_relaxed);
  }

  // A searcher stops searching; `got`: with a job. Posts made while it
  // searched woke nobody, so if it was the last searcher and jobs still wait,
  // it wakes the next worker (every such post is visible after this RMW).
  void stop_searching(bool got) noexcept {
    const std::uint64_t before = state_.fetch_sub(kSearcherOne, std::memory_order_seq_cst);
    if (got && searcher_count(before) == 1 && parked_count(before) != 0 && !queue_.looks_empty()) wake_one();
  }

  // The same for a worker that found a job on its park re-check: if it had
  // just stopped searching without one, the posts it absorbed meanwhile may
  // have left more jobs than it takes.
  void help_if_jobs_wait() noexcept {
    if (queue_.looks_empty()) return;
    const std::uint64_t state = state_.load(std::memory_order_seq_cst);
    if (searcher_count(state) == 0 && parked_count(state) != 0) wake_one();
  }

  void wake_producers() noexcept {
    if (options_.max_queued == 0) return;  // an unbounded queue never blocks a producer
    if (blocked_.fetch_add(0, std::memory_order_seq_cst) != 0 && queue_.room() >= wake_batch_) {
      room_epoch_.fetch_add(1, std::memory_order_seq_cst);
      room_epoch_.notify_all();
    }
  }

  // Reads the usable CPUs again when due (at most once per kCpuRecheckNs, by
  // one worker); true when it did (which took a few microseconds).
  bool recheck_cpus(std::int64_t now) noexcept {
    std::int64_t due = next_cpu_check_ns_.load(std::memory_order_relaxed);
    if (now < due ||
        !next_cpu_check_ns_.compare_exchange_strong(due, now + kCpuRecheckNs, std::memory_order_relaxed)) {
      return false;
    }
    spinner_cap_.store(spinner_cap_for(detail::usable_cpus()), std::memory_order_relaxed);
    return true;
  }

  // Takes a spinner's place if fewer than spinner_cap_ workers spin.
  bool claim_spinner() noexcept {
    const std::uint32_t cap = spinner_cap_.load(std::memory_order_relaxed);
    std::uint32_t spinning = spinning_.load(std::memory_order_relaxed);
    do {
      if (spinning >= cap) return false;
    } while (!spinning_.compare_exchange_weak(spinning, spinning + 1, std::memory_order_relaxed));
    std::uint32_t peak = peak_spinners_.load(std::memory_order_relaxed);
    while (spinning + 1 > peak &&
           !peak_spinners_.compare_exchange_weak(peak, spinning + 1, std::memory_order_relaxed)) {
    }
    return true;
  }

  // Polls the queue as a searcher for up to options_.spin, when the rules
  // above allow a spin; true when `job` was filled. After a false the caller
  // re-checks the queue (a job may have come just as the spin ended).
  bool spin_for_job(detail::Task& job, Worker& me) noexcept {
    if (spin_ns_ <= 0 || stopping_.load(std::memory_order_relaxed)) return false;
    std::int64_t start = now_ns();
    if (recheck_cpus(start)) start = now_ns();  // the re-read is not a gap in the spin
    if (!policy_.allows(start)) {
      bump(me.backed_off);
      return false;
    }
    if (!claim_spinner()) {
      bump(me.capped);
      return false;
    }
    bump(me.spins);
    state_.fetch_add(kSearcherOne, std::memory_order_seq_cst);
    const std::int64_t deadline = start + spin_ns_;
    std::int64_t last = start;
    bool got = false;
    bool preempted = false;
    for (;;) {
      for (int i = 0; i < kSpinsBetweenClockReads; ++i) {
        if (!queue_.looks_empty() && queue_.try_pop(job)) {
          got = true;
          break;
        }
        cpu_relax();
      }
      const std::int64_t now = now_ns();
      preempted = now - last > kPreemptedGapNs;
      last = now;
      if (got || preempted || now >= deadline || stopping_.load(std::memory_order_relaxed)) break;
    }
    stop_searching(got);
    spinning_.fetch_sub(1, std::memory_order_relaxed);
    if (!stopping_.load(std::memory_order_relaxed)) {
      if (preempted) {
        bump(me.preemptions);
        policy_.record(detail::SpinPolicy::Outcome::preempted, last);
      } else if (got) {
        bump(me.hits);
        policy_.record(detail::SpinPolicy::Outcome::hit, last);
      } else {
        bump(me.misses);
        policy_.record(detail::SpinPolicy::Outcome::miss, last);
      }
    }
    return got;
  }

  // Registers as parked, re-checks, and sleeps until claimed.
  Parked park(detail::Task& job, std::size_t self) {
    Worker& me = slots_[self];
    bump(me.parks);  // before the RMW below, so a probe that sees this worker parked sees the count
    {
      std::lock_guard lock(park_mutex_);
      parked_.push_back(self);  // capacity reserved: never throws
      state_.fetch_add(kParkedOne, std::memory_order_seq_cst);
    }
    const bool got = queue_.try_pop(job);
    // stopping_ is set only after every producer has left enqueue(), so an
    // empty queue now stays empty.
    if (got || stopping_.load(std::memory_order_seq_cst)) {
      const bool claimed = !unpark(self);  // claimed: a waker made this worker a searcher
      if (got) {
        if (claimed) {
          stop_searching(true);
        } else {
          help_if_jobs_wait();
        }
        return Parked::job;
      }
      return claimed ? Parked::woken : Parked::stopping;
    }
    while (me.token.load(std::memory_order_acquire) == 0) futex_wait(me.token, 0);
    me.token.store(0, std::memory_order_relaxed);
    return Parked::woken;
  }

  // Leaves parked_ without sleeping: true, or false when a waker claimed this
  // worker first (it is then a searcher; its token is consumed here).
  bool unpark(std::size_t self) noexcept {
    std::lock_guard lock(park_mutex_);
    const auto it = std::find(parked_.begin(), parked_.end(), self);
    if (it == parked_.end()) {
      slots_[self].token.store(0, std::memory_order_relaxed);  // set under this lock by the claim
      return false;
    }
    parked_.erase(it);
    state_.fetch_sub(kParkedOne, std::memory_order_seq_cst);
    return true;
  }

  // True when `job` was filled; false when the pool stops and the queue is empty.
  bool next_job(detail::Task& job, std::size_t self) {
    if (queue_.try_pop(job)) return true;  // still busy: nobody to wake
    for (;;) {
      if (spin_for_job(job, slots_[self])) return true;
      switch (park(job, self)) {
        case Parked::job:
          return true;
        case Parked::stopping:
          return false;
        case Parked::woken: {
          const bool got = queue_.try_pop(job);
          stop_searching(got);
          if (got) return true;
          break;
        }
      }
    }
  }

  void work(std::size_t index) {
    detail::Task job;
    while (next_job(job, index)) {
      wake_producers();
      if (log_enabled(LogLevel::debug)) {
        log(LogLevel::debug, "worker " + std::to_string(index) + " got a job; executing.");
      }
      slots_[index].busy.store(1, std::memory_order_relaxed);
      run(job);
      job.reset();  // the job's captures die here, on the worker, before the next pop
      slots_[index].busy.store(0, std::memory_order_relaxed);
    }
    if (log_enabled(LogLevel::debug)) {
      log(LogLevel::debug, "worker " + std::to_string(index) + " shutting down.");
    }
  }

  void run(detail::Task& job) noexcept {
    try {
      job();
    } catch (...) {
      failed_.fetch_add(1, std::memory_order_relaxed);
      report(std::current_exception());
    }
  }

  void report(const std::exception_ptr& error) const noexcept {
    try {
      if (options_.on_error) {
        options_.on_error(error);
        return;
      }
      std::rethrow_exception(error);
    } catch (const std::exception& e) {
      log(LogLevel::warn, std::string("thread pool job threw: ") + e.what());
    } catch (...) {
      log(LogLevel::warn, "thread pool job threw a non-standard exception");
    }
  }

  const Options options_;
  pool::JobQueue queue_;
  const std::size_t wake_batch_;
  const std::int64_t spin_ns_;
  const std::unique_ptr<Worker[]> slots_;
  std::vector<std::thread> workers_;

  alignas(64) std::atomic<std::uint64_t> state_{0};  // searchers | parked << 32
  alignas(64) std::atomic<std::uint32_t> blocked_{0};
  std::atomic<std::uint32_t> room_epoch_{0};
  alignas(64) std::atomic<std::uint32_t> producers_inside_{0};
  std::atomic<bool> closed_{false};
  std::atomic<bool> stopping_{false};
  std::atomic<std::size_t> failed_{0};
  std::atomic<std::uint64_t> wakeups_{0};

  alignas(64) detail::SpinPolicy policy_;
  std::atomic<std::uint32_t> spinner_cap_;
  std::atomic<std::uint32_t> spinning_{0};
  std::atomic<std::uint32_t> peak_spinners_{0};
  std::atomic<std::int64_t> next_cpu_check_ns_;

  std::mutex park_mutex_;
  std::vector<std::size_t> parked_;  // guarded by park_mutex_; most recently parked last

  std::mutex shutdown_mutex_;
  bool joined_ = false;  // guarded by shutdown_mutex_
};

namespace {

ThreadPool::Options checked(ThreadPool::Options options) {
  if (options.threads == 0) throw std::invalid_argument("weft::ThreadPool: threads must be > 0");
  return options;
}

}  // namespace

ThreadPool::ThreadPool(std::size_t threads) : ThreadPool(Options{.threads = threads}) {}

ThreadPool::ThreadPool(Options options) : impl_(std::make_unique<Impl>(checked(std::move(options)))) {
  impl_->start();
}

// NOLINTNEXTLINE(bugprone-exception-escape): see the declaration
ThreadPool::~ThreadPool() { impl_->shutdown(); }

bool ThreadPool::enqueue(detail::Task&& task, bool block) { return impl_->enqueue(task, block); }

void ThreadPool::shutdown() { impl_->shutdown(); }

std::size_t ThreadPool::size() const noexcept { return impl_->size(); }

std::size_t ThreadPool::queued() const noexcept { return impl_->queued(); }
std::size_t ThreadPool::busy() const noexcept { return impl_->busy(); }

std::size_t ThreadPool::failed_jobs() const noexcept { return impl_->failed_jobs(); }

bool ThreadPool::on_worker_thread() const noexcept { return tl_pool == impl_.get(); }

detail::ThreadPoolCounters detail::ThreadPoolProbe::counters(const ThreadPool& pool) noexcept {
  return pool.impl_->counters();
}

}  // namespace weft
