#pragma once
// The clock and duration names every test helper uses, and the one deadline computation they share.

#include <chrono>

namespace weft::test {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

/// Milliseconds from now until `deadline` (rounded up), 0 once it has passed: a poll(2) timeout.
[[nodiscard]] inline int ms_left(Clock::time_point deadline) {
  const auto left = std::chrono::ceil<milliseconds>(deadline - Clock::now()).count();
  return left <= 0 ? 0 : static_cast<int>(left);
}

}  // namespace weft::test
