// Per-loop timers, end to end, with short timeouts.
#include <gtest/gtest.h>
#include <sys/socket.h>

#include <string>
#include <thread>

#include "support/http_client.hpp"
#include "support/live_server.hpp"

namespace weft::test {
namespace {

Config short_timers() {
  Config c = test_config();
  c.header_timeout = std::chrono::milliseconds(300);
  c.body_timeout = std::chrono::milliseconds(300);
  c.keepalive_timeout = std::chrono::milliseconds(300);
  c.write_timeout = std::chrono::milliseconds(300);
  return c;
}

void routes(Server& s) {
  s.fixed("/", Response::text(200, "ok"));
  s.post("/echo", [](const Request& r) { return Response::text(200, std::string(r.body())); });
}

TEST(Timeouts, UnfinishedHeadGets408ThenClose) {
  LiveServer s(short_timers(), routes);
  Client c(s.port());
  c.send("GET / HTTP/1.1\r\nHost: a\r\n");
  const auto r = c.read_response(3s);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 408);
  EXPECT_TRUE(c.closed_within(5s));
}

TEST(Timeouts, HeaderDeadlineIsForTheWholeHeadNotPerByte) {
  LiveServer s(short_timers(), routes);
  Client c(s.port());
  const auto start = std::chrono::steady_clock::now();
  // A slowloris: a byte every 50 ms keeps no connection alive past the deadline.
  const std::string head = "GET / HTTP/1.1\r\nHost: a\r\nX-Slow: ";
  for (std::size_t i = 0; i < head.size() && std::chrono::steady_clock::now() - start < 2s; ++i) {
    c.send(head.substr(i, 1));
    std::this_thread::sleep_for(50ms);
  }
  EXPECT_TRUE(c.closed_within(3s));
  EXPECT_LT(std::chrono::steady_clock::now() - start, 2500ms);
}

TEST(Timeouts, StalledBodyGets408) {
  LiveServer s(short_timers(), routes);
  Client c(s.port());
  c.send("POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\nabc");
  const auto r = c.read_response(3s);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 408);
  EXPECT_TRUE(c.closed_within(5s));
}

TEST(Timeouts, IdleKeepAliveConnectionIsClosedSilently) {
  LiveServer s(short_timers(), routes);
  Client c(s.port());
  c.send("GET / HTTP/1.1\r\nHost: a\r\n\r\n");
  ASSERT_TRUE(c.read_response());
  EXPECT_TRUE(c.closed_within(3s));
  EXPECT_TRUE(c.pending().empty());
}

TEST(Timeouts, ConnectionThatNeverSendsIsClosed) {
  LiveServer s(short_timers(), routes);
  Client c(s.port());
  EXPECT_TRUE(c.closed_within(3s));
}

TEST(Timeouts, SlowReaderIsClosedByTheWriteTimer) {
  Config config = short_timers();
  LiveServer s(config,
               [](Server& srv) { srv.fixed("/big", Response::text(200, std::string(8 << 20, 'x'))); });
  Client c(s.port());
  const int small = 4096;
  setsockopt(c.fd(), SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
  c.send("GET /big HTTP/1.1\r\nHost: a\r\n\r\n");
  std::this_thread::sleep_for(1500ms);  // never read: the server's writes stall
  EXPECT_TRUE(c.closed_within(3s));
}

}  // namespace
}  // namespace weft::test
