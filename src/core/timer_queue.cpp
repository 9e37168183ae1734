#include "weft/timer_queue.hpp"

#include <exception>
#include <string>

#include "weft/log.hpp"

namespace weft {

TimerQueue::TimerQueue() : thread_([this] { run(); }) {}

TimerQueue::~TimerQueue() {
  {
    const std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_one();
  thread_.join();
}

TimerQueue::Id TimerQueue::after(std::chrono::milliseconds delay, std::function<void()> fn) {
  const Clock::time_point when = Clock::now() + delay;
  bool earliest = false;
  Id id = 0;
  {
    const std::lock_guard lock(mutex_);
    id = next_id_++;
    earliest = heap_.empty() || when < heap_.top().when;
    heap_.push(Entry{when, id, std::move(fn)});
  }
  if (earliest) wake_.notify_one();
  return id;
}

bool TimerQueue::cancel(Id id) {
  const std::lock_guard lock(mutex_);
  if (id == 0 || id >= next_id_) return false;
  // Lazily: the entry is skipped (and forgotten) when it comes up. An id that already ran is
  // recorded too, then dropped at the next pass over an empty heap.
  return cancelled_.insert(id).second;
}

std::size_t TimerQueue::pending() const {
  const std::lock_guard lock(mutex_);
  return heap_.size();
}

void TimerQueue::run() {
  std::unique_lock lock(mutex_);
  for (;;) {
    if (stopping_) return;
    if (heap_.empty()) {
      cancelled_.clear();
      wake_.wait(lock);
      continue;
    }
    const Clock::time_point when = heap_.top().when;
    if (Clock::now() < when) {
      wake_.wait_until(lock, when);
      continue;
    }
    // top() is const, so the entry is copied (a callback holds a few captures).
    Entry entry = heap_.top();
    heap_.pop();
    if (cancelled_.erase(entry.id) != 0) continue;
    lock.unlock();
    try {
      entry.fn();
    } catch (const std::exception& e) {
      log(LogLevel::error, std::string("a TimerQueue callback threw: ") + e.what());
    } catch (...) {
      log(LogLevel::error, "a TimerQueue callback threw a non-standard exception");
    }
    entry.fn = nullptr;  // destroy captures outside the lock too
    lock.lock();
  }
}

}  // namespace weft
