// Descriptor exhaustion: weft under a low RLIMIT_NOFILE caps its connections,
// does not spin while saturated, sheds idle connections for new ones, and
// recovers when clients leave.
#include <gtest/gtest.h>
#include <unistd.h>

#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "support/http_client.hpp"
#include "support/process.hpp"
#include "support/resources.hpp"

namespace weft::test {
namespace {

TEST(Limits, SaturatedServerStaysIdleShedsIdleConnectionsAndRecovers) {
  // 100 descriptors: the server caps itself at 100 - 64 - 2 - 100/16 = 28 connections.
  Process server("/usr/bin/prlimit",
                 {"--nofile=100:100", weft_binary(), "-p", "0", "--loops", "1", "-t", "1"});
  const auto line = server.read_stdout_line(10s);
  ASSERT_TRUE(line.has_value()) << server.err();
  const auto colon = line->rfind(':');
  const auto port = static_cast<std::uint16_t>(std::stoi(line->substr(colon + 1)));

  // 60 clients connect and send nothing: far past the cap (the rest wait in the backlog).
  std::vector<std::unique_ptr<Client>> idle;
  for (int i = 0; i < 60; ++i) idle.push_back(std::make_unique<Client>(port));
  std::this_thread::sleep_for(300ms);

  // Saturated, the server must sleep, not spin on accept.
  const long before = cpu_ticks(server.pid());
  std::this_thread::sleep_for(1s);
  const long used = cpu_ticks(server.pid()) - before;
  EXPECT_LT(used, sysconf(_SC_CLK_TCK) / 5) << "server burned " << used << " ticks in 1 s while saturated";

  // A real request still gets through: idle connections are shed to make room.
  const auto reply = get(port, "/");
  ASSERT_TRUE(reply.has_value());
  EXPECT_EQ(reply->status, 200);

  // Clients leave: the server serves normally again.
  idle.clear();
  std::this_thread::sleep_for(200ms);
  for (int i = 0; i < 20; ++i) {
    const auto again = get(port, "/");
    ASSERT_TRUE(again.has_value()) << i;
    EXPECT_EQ(again->status, 200);
  }
  server.send_signal(SIGTERM);
  const auto status = server.wait_exit(10s);
  ASSERT_TRUE(status && status->exited);
  EXPECT_EQ(status->code, 0);
}

}  // namespace
}  // namespace weft::test
