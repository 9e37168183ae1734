#pragma once
// Sleeper: the interruptible sleep behind the built-in site's /sleep.
//
// A pool worker that sleeps in /sleep?ms=60000 would otherwise hold
// ThreadPool::shutdown() (and so the process) for up to a minute after a forced
// stop or an expired drain. cancel() wakes every sleeper at once and makes
// later sleeps return at once.

#include <chrono>
#include <condition_variable>
#include <mutex>

namespace weft::app {

class Sleeper {
 public:
  /// Blocks the calling thread for `duration`, or until cancel(). Returns true when the
  /// whole duration passed, false when cancelled. Any thread.
  bool sleep_for(std::chrono::milliseconds duration);
  /// Wakes every sleep_for() and makes later ones return false at once. Idempotent; any thread.
  void cancel() noexcept;

 private:
  std::mutex mutex_;
  std::condition_variable wake_;
  bool cancelled_ = false;  // guarded by mutex_
};

}  // namespace weft::app
