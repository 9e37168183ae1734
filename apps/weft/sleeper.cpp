#include "sleeper.hpp"

namespace weft::app {

bool Sleeper::sleep_for(std::chrono::milliseconds duration) {
  std::unique_lock lock(mutex_);
  // No wait at all for 0 ms: a zero-timeout wait still costs a futex call.
  if (duration.count() <= 0) return !cancelled_;
  // wait_for with a predicate is immune to spurious wake-ups; it returns the predicate's value.
  return !wake_.wait_for(lock, duration, [this] { return cancelled_; });
}

void Sleeper::cancel() noexcept {
  {
    std::lock_guard lock(mutex_);
    cancelled_ = true;
  }
  wake_.notify_all();
}

}  // namespace weft::app
