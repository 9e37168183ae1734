#pragma once
/// \file
/// weft::TimerQueue: callbacks run after a delay on one timer thread, for many timers at once
/// (Server-Sent Events, long polls, answers that come later). Thousands of pending timers cost a
/// heap entry each, not a sleeping thread each.
///
///   weft::TimerQueue timers;
///   timers.after(std::chrono::milliseconds(100), [reply]() mutable { reply.send(weft::Response::text(200,
///   "late\n")); });
///
/// Callbacks run one at a time on the queue's own thread, in deadline order: they must be short
/// (hand long work to a ThreadPool) and must not throw (an exception is logged and dropped).
/// Thread safety: every member may be called from any thread, callbacks included; the destructor
/// must not run on the timer thread. Timers still pending at destruction are dropped, not run.

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <queue>
#include <thread>
#include <unordered_set>
#include <vector>

namespace weft {

class TimerQueue {
 public:
  using Clock = std::chrono::steady_clock;
  using Id = std::uint64_t;

  /// Starts the timer thread (std::system_error if it cannot).
  TimerQueue();
  /// Stops the thread; pending timers are dropped (their callbacks destroyed, not run).
  ~TimerQueue();
  TimerQueue(const TimerQueue&) = delete;
  TimerQueue& operator=(const TimerQueue&) = delete;

  /// Runs `fn` once `delay` has passed (at once for a delay <= 0). Returns an id for cancel().
  Id after(std::chrono::milliseconds delay, std::function<void()> fn);
  /// Drops timer `id` if it has not started; true when it was dropped.
  bool cancel(Id id);
  /// Timers waiting.
  [[nodiscard]] std::size_t pending() const;

 private:
  struct Entry {
    Clock::time_point when;
    Id id;
    std::function<void()> fn;
  };
  struct Later {
    bool operator()(const Entry& a, const Entry& b) const noexcept {
      return a.when != b.when ? a.when > b.when : a.id > b.id;
    }
  };
  void run();

  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::priority_queue<Entry, std::vector<Entry>, Later> heap_;
  std::unordered_set<Id> cancelled_;
  Id next_id_ = 1;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace weft
