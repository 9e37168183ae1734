#include "weft/thread_pool.hpp"

#include <pthread.h>

#include <algorithm>
#include <atomic>
#include <latch>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "pool/job_queue.hpp"
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

// Wake-up protocol (no lost wake-ups; the pattern is Dekker's):
//   sleeper:  counter.fetch_add(1) ; e = epoch ; re-check ; epoch.wait(e)
//   waker:    publish (release) ; if counter.fetch_add(0) > 0: epoch++ ; notify
// Both touch the counter with a read-modify-write, so one of the two RMWs comes
// first in the counter's modification order: if the waker's comes first, the
// sleeper's RMW reads from it and so sees what the waker published (its
// re-check finds the work); otherwise the waker reads the sleeper's count and
// bumps the epoch, so wait(e) returns. RMWs rather than seq_cst fences,
// because ThreadSanitizer does not model fences. Two instances:
//   workers wait for jobs       (sleepers_, work_epoch_;  published by a push)
//   producers wait for room     (blocked_,  room_epoch_;  published by a pop)
// A producer blocked on a full queue is woken only once `wake_batch_` slots
// are free, so that it does not fight the workers for the cores one slot at a
// time. Nothing here holds a lock while it waits.
class ThreadPool::Impl {
 public:
  explicit Impl(Options options)
      : options_(std::move(options)),
        queue_(options_.max_queued),
        wake_batch_(options_.max_queued == 0
                        ? 1
                        : std::clamp<std::size_t>(options_.max_queued / 4, 1, kMaxWakeBatch)) {}

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
  [[nodiscard]] std::size_t failed_jobs() const noexcept { return failed_.load(std::memory_order_relaxed); }

 private:
  static constexpr std::size_t kMaxWakeBatch = 64;
  static constexpr int kSpinsBetweenClockReads = 64;

  static bool refuse(bool block) {
    if (block) throw PoolClosed();
    return false;
  }

  void name_thread(std::size_t i) const {
    std::string name = options_.name + "-" + std::to_string(i);
    name.resize(std::min<std::size_t>(name.size(), 15));  // Linux keeps 15 bytes + NUL
    pthread_setname_np(pthread_self(), name.c_str());
  }

  void stop_workers() {
    stopping_.store(true, std::memory_order_seq_cst);
    work_epoch_.fetch_add(1, std::memory_order_seq_cst);
    work_epoch_.notify_all();
    for (std::thread& t : workers_) {
      if (t.joinable()) t.join();
    }
  }

  void wake_worker() noexcept {
    if (sleepers_.fetch_add(0, std::memory_order_seq_cst) != 0) {
      work_epoch_.fetch_add(1, std::memory_order_seq_cst);
      work_epoch_.notify_one();
    }
  }

  void wake_producers() noexcept {
    if (options_.max_queued == 0) return;  // an unbounded queue never blocks a producer
    if (blocked_.fetch_add(0, std::memory_order_seq_cst) != 0 && queue_.room() >= wake_batch_) {
      room_epoch_.fetch_add(1, std::memory_order_seq_cst);
      room_epoch_.notify_all();
    }
  }

  // Polls the queue for up to options_.spin; true when `job` was filled.
  bool spin_for_job(detail::Task& job) noexcept {
    if (options_.spin.count() <= 0) return false;
    const auto deadline = std::chrono::steady_clock::now() + options_.spin;
    for (;;) {
      for (int i = 0; i < kSpinsBetweenClockReads; ++i) {
        if (!queue_.looks_empty() && queue_.try_pop(job)) return true;
        cpu_relax();
      }
      if (stopping_.load(std::memory_order_relaxed) || std::chrono::steady_clock::now() >= deadline) {
        return false;
      }
    }
  }

  // True when `job` was filled; false when the pool stops and the queue is empty.
  bool next_job(detail::Task& job) {
    for (;;) {
      if (queue_.try_pop(job) || spin_for_job(job)) return true;
      sleepers_.fetch_add(1, std::memory_order_seq_cst);
      const std::uint32_t epoch = work_epoch_.load(std::memory_order_seq_cst);
      if (queue_.try_pop(job)) {
        sleepers_.fetch_sub(1, std::memory_order_relaxed);
        return true;
      }
      // stopping_ is set only after every producer has left enqueue(), so
      // an empty queue now stays empty.
      if (stopping_.load(std::memory_order_seq_cst)) {
        sleepers_.fetch_sub(1, std::memory_order_relaxed);
        return false;
      }
      work_epoch_.wait(epoch, std::memory_order_seq_cst);
      sleepers_.fetch_sub(1, std::memory_order_relaxed);
    }
  }

  void work(std::size_t index) {
    detail::Task job;
    while (next_job(job)) {
      wake_producers();
      if (log_enabled(LogLevel::debug)) {
        log(LogLevel::debug, "worker " + std::to_string(index) + " got a job; executing.");
      }
      run(job);
      job.reset();  // the job's captures die here, on the worker, before the next pop
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
  std::vector<std::thread> workers_;

  alignas(64) std::atomic<std::uint32_t> sleepers_{0};
  std::atomic<std::uint32_t> work_epoch_{0};
  alignas(64) std::atomic<std::uint32_t> blocked_{0};
  std::atomic<std::uint32_t> room_epoch_{0};
  alignas(64) std::atomic<std::uint32_t> producers_inside_{0};
  std::atomic<bool> closed_{false};
  std::atomic<bool> stopping_{false};
  std::atomic<std::size_t> failed_{0};

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

std::size_t ThreadPool::failed_jobs() const noexcept { return impl_->failed_jobs(); }

bool ThreadPool::on_worker_thread() const noexcept { return tl_pool == impl_.get(); }

}  // namespace weft
