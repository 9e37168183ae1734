// Descriptor exhaustion: weft under RLIMIT_NOFILE=256 (prlimit) meets 600 clients that each
// start a request and never finish it, so no connection is idle enough to shed. Saturated, the
// server must sleep rather than spin on accept (its CPU near idle), and it must recover as soon as
// the clients leave.
#include <gtest/gtest.h>
#include <unistd.h>

#include "support/clean_exit.hpp"
#include "support/stress.hpp"

namespace weft::stress {
namespace {

constexpr std::size_t kClients = 600;
constexpr auto kCpuWindow = 2s;

TEST(FdExhaustion, SaturatedServerStaysNearIdleAndRecoversWhenClientsLeave) {
  ASSERT_GE(raise_fd_limit(kClients + 256), kClients + 64);
  test::Process server("/usr/bin/prlimit", {"--nofile=256:256", test::weft_binary(), "-p", "0", "--log-level",
                                            "error", "--header-timeout", "60"});
  const auto line = server.read_stdout_line(10s);
  ASSERT_TRUE(line.has_value()) << server.err();
  const std::uint16_t port = port_of(*line);
  ASSERT_NE(port, 0);

  // 600 clients connect and start a head; those beyond the server's cap wait in the backlog.
  std::vector<Fd> clients = open_connections(port, kClients);
  ASSERT_GE(clients.size(), kClients - 10) << "the kernel refused connections to the backlog";
  for (const Fd& fd : clients) (void)send_all(fd.get(), "GET / HTTP/1.1\r\nHost: busy\r\n", 200ms);
  std::this_thread::sleep_for(500ms);

  const std::size_t server_fds = open_fds(server.pid());
  EXPECT_LE(server_fds, 256U);
  const long before = cpu_ticks(server.pid());
  const auto t0 = Clock::now();
  std::this_thread::sleep_for(kCpuWindow);
  const long used = cpu_ticks(server.pid()) - before;
  const double seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  const double cpu_percent =
      100.0 * static_cast<double>(used) / static_cast<double>(sysconf(_SC_CLK_TCK)) / seconds;
  EXPECT_LT(cpu_percent, 5.0) << "the saturated server is busy (spinning on accept?)";
  report("fd exhaustion, saturated",
         std::to_string(server_fds) + " descriptors open in weft (limit 256), CPU " +
             std::to_string(cpu_percent) + " % of a core over " + std::to_string(seconds) + " s with " +
             std::to_string(clients.size()) + " clients");

  // The clients leave: the server serves again, at once.
  const auto left = Clock::now();
  clients.clear();
  Timed first;
  const bool recovered = wait_for(
      [&] {
        first = timed_get(port, "/", 1s);
        return first.status == 200;
      },
      5s);
  const double recovery_ms = std::chrono::duration<double, std::milli>(Clock::now() - left).count();
  ASSERT_TRUE(recovered) << "no 200 within 5 s of the clients leaving";
  EXPECT_LT(recovery_ms, 1000.0);
  int ok = 0;
  for (int i = 0; i < 50; ++i) ok += timed_get(port, "/").status == 200 ? 1 : 0;
  EXPECT_EQ(ok, 50);
  report("fd exhaustion, recovery", "first 200 " + std::to_string(recovery_ms) +
                                        " ms after the clients left; " + std::to_string(ok) + "/50 then");

  expect_clean_exit(server);
}

}  // namespace
}  // namespace weft::stress
