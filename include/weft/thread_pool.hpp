#pragma once
/// \file
/// weft::ThreadPool: a fixed set of worker threads that run submitted jobs.
///
/// The seed's ThreadPool (Rust book ch. 20) made production grade: a bounded,
/// lock-free job queue with the job stored inline in its slot (no allocation
/// and no mutex per job for callables up to detail::Task::kInlineSize bytes),
/// workers that spin briefly before sleeping so a steady stream of jobs wakes
/// nobody, and a graceful shutdown that runs every queued job, then joins.
///
/// A spinning worker holds a CPU, so it spins only when the process has one to
/// spare (see Options::spin): on one CPU, or when other threads need the CPUs,
/// idle workers sleep at once and never delay the thread they work for. A
/// sleeping worker is woken on its own, one per job: a job posted while a
/// worker spins wakes nobody, any other wakes exactly one sleeping worker.
///
/// Thread safety: every member function may be called from any thread at the
/// same time, except that the destructor must not race with other calls (as
/// for any object), and shutdown() / the destructor must not be called from
/// one of this pool's own jobs (they would join the calling thread).

#include <weft/detail/task.hpp>

#include <chrono>
#include <cstddef>
#include <exception>
#include <functional>
#include <future>
#include <memory>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>

namespace weft {

namespace detail {
struct ThreadPoolProbe;  // counts what the workers decided, for tests (src/pool/thread_pool_probe.hpp)
}  // namespace detail

/// Thrown by ThreadPool::execute() and submit() once shutdown() has begun.
class PoolClosed : public std::runtime_error {
 public:
  PoolClosed() : std::runtime_error("weft::ThreadPool: the pool is shut down") {}
};

class ThreadPool {
 public:
  struct Options {
    /// Number of worker threads; must be > 0.
    std::size_t threads = 0;
    /// Jobs waiting (queued, not yet running) at most; 0 = unbounded. When the
    /// queue holds this many, execute()/submit() block and try_execute() fails.
    std::size_t max_queued = 0;
    /// Worker thread name prefix; worker i is named "<name>-<i>" (truncated to
    /// the 15 characters Linux keeps), visible in top -H and gdb.
    std::string name = "weft-worker";
    /// The longest an idle worker polls the queue before it sleeps. Polling
    /// lets a busy producer hand over jobs without a wake-up system call, but
    /// it occupies a CPU, which pays only when another CPU is free for the
    /// threads that post and wait. So at most (usable CPUs - 1) workers poll at
    /// once, where usable CPUs are those of the affinity mask capped by the
    /// cgroup CPU quota, read at start and at most once a second after: with
    /// one usable CPU no worker ever polls. And polling stops for a while (1 ms,
    /// doubling up to 256 ms) when polls keep ending without a job or a poller
    /// is descheduled, i.e. when the CPUs are busy with other threads. An idle
    /// pool sleeps (0% CPU) once this has passed. 0 = sleep at once.
    std::chrono::microseconds spin{50};
    /// Called on the worker thread with the exception of an execute() /
    /// try_execute() job that threw. Empty: the pool logs one warn line.
    /// It must not throw; if it does, that exception is logged and dropped.
    std::function<void(std::exception_ptr)> on_error = nullptr;
  };

  /// Starts `threads` workers and returns once every one of them is running.
  /// Throws std::invalid_argument when `threads` is 0, std::system_error when
  /// a thread cannot be created (the workers already started are joined).
  explicit ThreadPool(std::size_t threads);
  /// Same as above with every option; same exceptions.
  explicit ThreadPool(Options options);

  /// shutdown(): queued jobs still run, then every worker is joined.
  // shutdown() throws only when called from one of the pool's own jobs (a worker cannot join
  // itself); from the destructor that is a bug that std::terminate reports.
  ~ThreadPool();  // NOLINT(bugprone-exception-escape)

  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;
  ThreadPool(ThreadPool&&) = delete;
  ThreadPool& operator=(ThreadPool&&) = delete;

  /// Queues `f` (a callable taking no arguments; move-only callables are fine)
  /// to run on a worker. Blocks while the queue is full (max_queued). Throws
  /// weft::PoolClosed once shutdown() has begun (also when it begins while
  /// this call is blocked), and whatever copying/moving `f` throws.
  /// If `f` throws when it runs, the worker survives: the exception goes to
  /// Options::on_error (or the log) and failed_jobs() counts it.
  /// Do not call it from a job of this pool with a bounded queue: when every
  /// worker blocks here, nobody empties the queue.
  template <class F>
  void execute(F&& f) {
    enqueue(detail::Task(std::forward<F>(f)), true);
  }

  /// Queues `f` without ever blocking. Returns false when the queue is full or
  /// the pool is shut down; `f` is then not run (an rvalue argument has been
  /// moved from and destroyed). Throws only what copying/moving `f` throws.
  template <class F>
  [[nodiscard]] bool try_execute(F&& f) {
    return enqueue(detail::Task(std::forward<F>(f)), false);
  }

  /// Like execute(), and returns a future for `f`'s result: the value, or the
  /// exception `f` threw. Same blocking and same exceptions as execute().
  template <class F>
  auto submit(F&& f) -> std::future<std::invoke_result_t<std::decay_t<F>>> {
    using Fn = std::decay_t<F>;
    using R = std::invoke_result_t<Fn>;
    std::promise<R> promise;
    std::future<R> future = promise.get_future();
    execute([fn = Fn(std::forward<F>(f)), promise = std::move(promise)]() mutable {
      try {
        if constexpr (std::is_void_v<R>) {
          std::invoke(fn);
          promise.set_value();
        } else {
          promise.set_value(std::invoke(fn));
        }
      } catch (...) {
        promise.set_exception(std::current_exception());
      }
    });
    return future;
  }

  /// Stops accepting jobs (execute() then throws, try_execute() returns
  /// false), runs every job already queued, and joins the workers. Blocks
  /// until they have exited. Idempotent; concurrent calls all return after
  /// the join. Throws std::logic_error when called from one of this pool's jobs.
  void shutdown();

  /// Number of workers.
  [[nodiscard]] std::size_t size() const noexcept;

  /// Jobs waiting, not yet started. A snapshot: other threads may change it.
  [[nodiscard]] std::size_t queued() const noexcept;

  /// Workers running a job now (a snapshot, for monitoring: each worker flags itself with a
  /// relaxed store before and after a job, so the count may lag a job by a moment).
  [[nodiscard]] std::size_t busy() const noexcept;

  /// Number of execute()/try_execute() jobs that have thrown so far.
  [[nodiscard]] std::size_t failed_jobs() const noexcept;

  /// True on a worker thread of this pool.
  [[nodiscard]] bool on_worker_thread() const noexcept;

 private:
  friend struct detail::ThreadPoolProbe;
  class Impl;

  /// Non-template core of execute/try_execute: true when queued. With
  /// `block`, waits for room and throws PoolClosed when closed.
  bool enqueue(detail::Task&& task, bool block);

  std::unique_ptr<Impl> impl_;
};

}  // namespace weft
