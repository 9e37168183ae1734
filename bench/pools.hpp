#pragma once
/// \file
/// The four pools of thread_pool_bench behind one shape, so every workload is
/// one template and every pool runs exactly the same code around it:
///
///   explicit P(std::size_t threads);   // starts `threads` workers
///   template <class F> void post(F&&); // queues a void() job, any thread
///   ~P();                              // returns after every posted job ran
///                                      // (TBB: after the arena is released)
///   static constexpr std::string_view kName;
///
/// Benchmark-only code; none of it is part of libweft.

#include "seed_pool.hpp"

#include <weft/thread_pool.hpp>

#include <oneapi/tbb/global_control.h>
#include <oneapi/tbb/task_arena.h>
#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>

#include <cstddef>
#include <limits>
#include <stdexcept>
#include <string_view>
#include <utility>

namespace weft_bench {

/// weft::ThreadPool with default options except the worker count, and with
/// `kMaxQueued` (0 = the default: unbounded).
template <std::size_t kMaxQueued>
class BasicWeftPool {
 public:
  explicit BasicWeftPool(std::size_t threads) : pool_(options(threads)) {}

  template <class F>
  void post(F&& f) {
    pool_.execute(std::forward<F>(f));
  }

  /// The pool itself, for the submit()/future round trip.
  weft::ThreadPool& pool() noexcept { return pool_; }

 private:
  static weft::ThreadPool::Options options(std::size_t threads) {
    weft::ThreadPool::Options options;
    options.threads = threads;
    options.max_queued = kMaxQueued;
    return options;
  }

  weft::ThreadPool pool_;
};

/// What ThreadPool(Options{.threads = n}) gives: an unbounded queue.
class WeftPool : public BasicWeftPool<0> {
 public:
  static constexpr std::string_view kName = "weft";
  using BasicWeftPool::BasicWeftPool;
};

/// The server's configuration (DESIGN.md: pool queue 1024): a bounded queue,
/// so execute() blocks while it is full and jobs never leave the ring.
class WeftBoundedPool : public BasicWeftPool<1024> {
 public:
  static constexpr std::string_view kName = "weft_q1024";
  using BasicWeftPool::BasicWeftPool;
};

/// The Rust book ch. 20 design, see seed_pool.hpp.
class SeedPool {
 public:
  static constexpr std::string_view kName = "seed";

  explicit SeedPool(std::size_t threads) : pool_(threads) {}

  template <class F>
  void post(F&& f) {
    pool_.execute(std::forward<F>(f));
  }

 private:
  SeedThreadPool pool_;
};

/// boost::asio::thread_pool + boost::asio::post.
class AsioPool {
 public:
  static constexpr std::string_view kName = "asio";

  explicit AsioPool(std::size_t threads) : pool_(threads) {}

  // asio's own destructor stop()s first and so drops queued handlers; join()
  // without stop() waits until the pool has no outstanding work.
  ~AsioPool() { pool_.join(); }

  AsioPool(const AsioPool&) = delete;
  AsioPool& operator=(const AsioPool&) = delete;
  AsioPool(AsioPool&&) = delete;
  AsioPool& operator=(AsioPool&&) = delete;

  template <class F>
  void post(F&& f) {
    boost::asio::post(pool_, std::forward<F>(f));
  }

 private:
  boost::asio::thread_pool pool_;
};

/// oneTBB task_arena(threads, 0) + enqueue. oneTBB sizes its global worker
/// pool to cores - 1, so on 2 cores a plain task_arena(2) runs every job on
/// ONE worker (shared/notes/thread-pool-peers.md). The global_control raises
/// the limit to threads + 1 (the +1 is the slot of an external thread, which
/// this arena reserves none of) for as long as this object lives; the
/// benchmark counts the threads that actually ran jobs to prove it worked.
class TbbPool {
 public:
  static constexpr std::string_view kName = "tbb";

  explicit TbbPool(std::size_t threads)
      : parallelism_(tbb::global_control::max_allowed_parallelism, threads + 1), arena_(to_int(threads), 0) {
    arena_.initialize();
  }

  template <class F>
  void post(F&& f) {
    arena_.enqueue(std::forward<F>(f));
  }

 private:
  static int to_int(std::size_t threads) {
    if (threads > static_cast<std::size_t>(std::numeric_limits<int>::max())) {
      throw std::invalid_argument("TbbPool: too many threads");
    }
    return static_cast<int>(threads);
  }

  tbb::global_control parallelism_;  // before arena_: must outlive it
  tbb::task_arena arena_;
};

}  // namespace weft_bench
