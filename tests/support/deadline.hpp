#pragma once
// The clock and duration names every test helper uses, and the waits with a deadline they share.

#include <chrono>
#include <thread>

namespace weft::test {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

/// Milliseconds from now until `deadline` (rounded up), 0 once it has passed: a poll(2) timeout.
[[nodiscard]] inline int ms_left(Clock::time_point deadline) {
  const auto left = std::chrono::ceil<milliseconds>(deadline - Clock::now()).count();
  return left <= 0 ? 0 : static_cast<int>(left);
}

/// Polls `done` every 20 ms until it is true or `timeout` passes; returns its last value.
template <typename Pred>
bool wait_for(Pred done, milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  while (!done()) {
    if (Clock::now() >= deadline) return false;
    std::this_thread::sleep_for(20ms);
  }
  return true;
}

}  // namespace weft::test
