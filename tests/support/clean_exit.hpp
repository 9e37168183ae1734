#pragma once
// The end of most stress tests: after the hostile clients, weft must still stop the normal
// way. SIGTERM, then an exit with code 0 within 10 s (a sanitizer report makes the code non-zero).

#include <gtest/gtest.h>

#include <chrono>
#include <csignal>

#include "support/process.hpp"

namespace weft::test {

inline void expect_clean_exit(Process& weft) {
  weft.send_signal(SIGTERM);
  const auto status = weft.wait_exit(std::chrono::seconds(10));
  ASSERT_TRUE(status && status->exited) << weft.err();
  EXPECT_EQ(status->code, 0) << weft.err();
}

}  // namespace weft::test

namespace weft::stress {
using test::expect_clean_exit;
}  // namespace weft::stress
