// A client that reads slowly (tiny receive buffer, small bites, pauses) still gets the whole
// file intact: the server waits on EPOLLOUT instead of blocking or giving up.

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <random>
#include <string>
#include <thread>

#include "integration/static/static_fixture.hpp"

namespace weft::test {
namespace {

TEST(SlowReader, ReceivesALargeFileIntactThroughASmallWindow) {
  std::mt19937 gen(42);
  // Larger than the socket buffers on both sides can hold, so the server must wait for room.
  std::string data(12 * 1024 * 1024, '\0');
  for (char& c : data) c = static_cast<char>(gen() & 0xFFU);
  StaticTree tree;
  tree.write("big.bin", data);
  tree.write("small.txt", "small");
  // One loop: the slow client and the other one share it, so a blocked loop would show.
  const WeftServer server(serve_args(tree, {"--loops", "1"}));

  Fd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  ASSERT_TRUE(fd.valid());
  const int rcvbuf = 4096;  // set before connect so the window stays small
  ASSERT_EQ(::setsockopt(fd.get(), SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf), 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(server.port());
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  const std::string req = make_request("GET", "/big.bin", {"Connection: close"});
  ASSERT_EQ(::send(fd.get(), req.data(), req.size(), MSG_NOSIGNAL), static_cast<ssize_t>(req.size()));

  std::string received;
  char bite[1024];
  int reads = 0;
  const auto deadline = Clock::now() + 8s;
  while (Clock::now() < deadline) {
    pollfd p{fd.get(), POLLIN, 0};
    if (::poll(&p, 1, 1000) <= 0) continue;
    const ssize_t n = ::recv(fd.get(), bite, sizeof bite, 0);
    if (n <= 0) break;
    received.append(bite, static_cast<std::size_t>(n));
    if (++reads % 1024 == 0) std::this_thread::sleep_for(20ms);  // the window fills meanwhile
    if (reads == 2048) {
      // Meanwhile the loop serves others at once.
      const auto start = Clock::now();
      const auto other = get(server.port(), "/small.txt");
      ASSERT_TRUE(other);
      EXPECT_EQ(other->body, "small");
      EXPECT_LT(Clock::now() - start, 1s);
    }
  }
  const std::size_t head_end = received.find("\r\n\r\n");
  ASSERT_NE(head_end, std::string::npos);
  EXPECT_EQ(received.rfind("HTTP/1.1 200", 0), 0U);
  const std::string body = received.substr(head_end + 4);
  ASSERT_EQ(body.size(), data.size()) << "the body was cut short";
  EXPECT_TRUE(body == data) << "the body arrived corrupted";
}

}  // namespace
}  // namespace weft::test
