#pragma once
/// \file
/// weft_bench::SeedThreadPool: the final ThreadPool of the Rust book, ch. 20
/// (shared/seed/rust-book-ch20-web-server.md), translated line for line so the
/// benchmark can show what weft::ThreadPool gains over the design it started from.
///
///   Rust                                       C++ here
///   type Job = Box<dyn FnOnce() + Send>        std::function<void()>
///   enum Message { NewJob(Job), Terminate }    std::variant<Job, Terminate>
///   mpsc::channel() (unbounded)                std::queue<Message>
///   Arc<Mutex<Receiver<Message>>>              one std::mutex + std::condition_variable
///   receiver.lock().recv()                     lock, wait until not empty, pop, unlock
///   execute: sender.send(NewJob(Box::new(f)))  lock, push, unlock, notify_one (every job)
///   Drop: one Terminate per worker, then join  ~SeedThreadPool() does the same
///
/// Deliberately not improved: no bound on the queue, a wake-up signal on every
/// job, a lock taken by every producer and every worker for every job. Only
/// the benchmark uses it. Thread safety: execute() may be called from any
/// thread; the destructor must not race with execute().

#include <condition_variable>
#include <cstddef>
#include <functional>
#include <mutex>
#include <queue>
#include <stdexcept>
#include <thread>
#include <utility>
#include <variant>
#include <vector>

namespace weft_bench {

class SeedThreadPool {
 public:
  using Job = std::function<void()>;

  /// Starts `size` workers. Throws std::invalid_argument when `size` is 0 (the
  /// seed's assert!(size > 0)), std::system_error when a thread cannot start
  /// (the workers already started are told to terminate and joined first).
  explicit SeedThreadPool(std::size_t size) {
    if (size == 0) {
      throw std::invalid_argument("SeedThreadPool: size must be > 0");
    }
    workers_.reserve(size);
    try {
      for (std::size_t id = 0; id < size; ++id) {
        workers_.emplace_back([this] { worker_loop(); });
      }
    } catch (...) {
      terminate_and_join();
      throw;
    }
  }

  /// The seed's Drop: one Terminate per worker (queued behind every pending
  /// job, so those still run), then join every worker.
  ~SeedThreadPool() { terminate_and_join(); }

  SeedThreadPool(const SeedThreadPool&) = delete;
  SeedThreadPool& operator=(const SeedThreadPool&) = delete;
  SeedThreadPool(SeedThreadPool&&) = delete;
  SeedThreadPool& operator=(SeedThreadPool&&) = delete;

  /// Queues `f` to run on some worker; never blocks for room (unbounded).
  template <class F>
  void execute(F&& f) {
    send(Message(std::in_place_type<Job>, std::forward<F>(f)));
  }

 private:
  struct Terminate {};
  using Message = std::variant<Job, Terminate>;

  void send(Message message) {
    {
      const std::lock_guard lock(mutex_);
      queue_.push(std::move(message));
    }
    ready_.notify_one();
  }

  // The lock is released before the job runs, as in the seed, where the
  // MutexGuard is a temporary dropped at the end of the `let message = ...` line.
  Message recv() {
    std::unique_lock lock(mutex_);
    ready_.wait(lock, [this] { return !queue_.empty(); });
    Message message = std::move(queue_.front());
    queue_.pop();
    return message;
  }

  void worker_loop() {
    for (;;) {
      Message message = recv();
      if (Job* job = std::get_if<Job>(&message)) {
        (*job)();
      } else {
        return;  // Message::Terminate
      }
    }
  }

  void terminate_and_join() {
    for (std::size_t i = 0; i < workers_.size(); ++i) {
      send(Message(std::in_place_type<Terminate>));
    }
    for (std::thread& worker : workers_) {
      worker.join();
    }
    workers_.clear();
  }

  // Declared before workers_: the workers use them from their first instruction.
  std::mutex mutex_;
  std::condition_variable ready_;
  std::queue<Message> queue_;
  std::vector<std::thread> workers_;
};

}  // namespace weft_bench
