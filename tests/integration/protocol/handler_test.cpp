// The handler API against a real in-process server: routing, the Request a
// handler sees, failures (500, 503), and graceful stop with work in flight.
#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <future>
#include <mutex>
#include <string>
#include <thread>

#include "support/http_client.hpp"
#include "support/live_server.hpp"

namespace weft::test {
namespace {

TEST(Handlers, RouteParametersQueryHeadersAndPeerReachTheHandler) {
  LiveServer s(test_config(), [](Server& srv) {
    srv.get("/users/{id}/files/{rest...}", [](const Request& r) {
      return Response::text(200, std::string(r.param("id")) + "|" + std::string(r.param("rest")) + "|" +
                                     r.query_param("q").value_or("-") + "|" +
                                     std::string(r.header("x-token").value_or("-")) + "|" +
                                     std::string(r.path()) + "|" + std::string(r.peer().substr(0, 10)));
    });
  });
  const auto r = roundtrip(
      s.port(), "GET /users/42/files/a%20b/c.txt?q=x+y%21 HTTP/1.1\r\nHost: h\r\nX-TOKEN: t1\r\n\r\n");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->body, "42|a b/c.txt|x y!|t1|/users/42/files/a b/c.txt|127.0.0.1:");
}

TEST(Handlers, UnknownPathIs404AndWrongMethodIs405WithAllow) {
  LiveServer s(test_config(), [](Server& srv) {
    srv.get("/thing", [](const Request&) { return Response::text(200, "get"); });
    srv.put("/thing", [](const Request&) { return Response::text(200, "put"); });
  });
  const auto missing = roundtrip(s.port(), "GET /nothing HTTP/1.1\r\nHost: h\r\n\r\n");
  ASSERT_TRUE(missing);
  EXPECT_EQ(missing->status, 404);
  const auto wrong = roundtrip(s.port(), "DELETE /thing HTTP/1.1\r\nHost: h\r\n\r\n");
  ASSERT_TRUE(wrong);
  EXPECT_EQ(wrong->status, 405);
  EXPECT_EQ(wrong->header("allow"), "GET, HEAD, PUT, OPTIONS");
}

TEST(Handlers, CustomNotFoundPageKeepsItsStatus) {
  LiveServer s(test_config(), [](Server& srv) { srv.not_found(Response::html(404, "<p>custom</p>")); });
  const auto r = roundtrip(s.port(), "GET /x HTTP/1.1\r\nHost: h\r\n\r\n");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 404);
  EXPECT_EQ(r->body, "<p>custom</p>");
}

TEST(Handlers, ThrowingHandlerIs500AndTheServerGoesOn) {
  LiveServer s(test_config(), [](Server& srv) {
    srv.get("/boom", [](const Request&) -> Response { throw std::runtime_error("kaput"); });
    srv.get("/fine", [](const Request&) { return Response::text(200, "fine"); });
  });
  testing::internal::CaptureStderr();
  Client c(s.port());
  c.send("GET /boom HTTP/1.1\r\nHost: h\r\n\r\n");
  const auto boom = c.read_response();
  c.send("GET /fine HTTP/1.1\r\nHost: h\r\n\r\n");
  const auto fine = c.read_response();
  const std::string err = testing::internal::GetCapturedStderr();
  ASSERT_TRUE(boom);
  EXPECT_EQ(boom->status, 500);
  ASSERT_TRUE(fine);  // same connection, still usable
  EXPECT_EQ(fine->body, "fine");
  EXPECT_NE(err.find("kaput"), std::string::npos) << err;
}

TEST(Handlers, FullPoolQueueIs503WithRetryAfterWithoutBlockingTheLoop) {
  std::mutex m;
  std::condition_variable cv;
  bool release = false;
  std::atomic<int> entered{0};
  Config config = test_config();
  config.threads = 1;
  config.max_queued = 1;
  LiveServer s(config, [&](Server& srv) {
    srv.get("/block", [&](const Request&) {
      entered.fetch_add(1);
      std::unique_lock lock(m);
      cv.wait_for(lock, 10s, [&] { return release; });
      return Response::text(200, "done");
    });
    srv.fixed("/quick", Response::text(200, "quick"));
  });
  Client running(s.port());
  running.send("GET /block HTTP/1.1\r\nHost: h\r\n\r\n");
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  while (entered.load() == 0 && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(1ms);
  Client queued(s.port());
  queued.send("GET /block HTTP/1.1\r\nHost: h\r\n\r\n");
  std::this_thread::sleep_for(100ms);  // let it take the one queue slot
  const auto refused = roundtrip(s.port(), "GET /block HTTP/1.1\r\nHost: h\r\n\r\n");
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->status, 503);
  EXPECT_EQ(refused->header("retry-after"), "1");
  const auto quick = roundtrip(s.port(), "GET /quick HTTP/1.1\r\nHost: h\r\n\r\n");  // loops still answer
  ASSERT_TRUE(quick);
  EXPECT_EQ(quick->body, "quick");
  {
    std::lock_guard lock(m);
    release = true;
  }
  cv.notify_all();
  EXPECT_EQ(running.read_response()->body, "done");
  EXPECT_EQ(queued.read_response()->body, "done");
}

TEST(Handlers, StopLetsInFlightRequestsFinishWithConnectionClose) {
  std::atomic<int> entered{0};
  Config config = test_config();
  LiveServer s(config, [&](Server& srv) {
    srv.get("/slow", [&](const Request&) {
      entered.fetch_add(1);
      std::this_thread::sleep_for(300ms);
      return Response::text(200, "slow done");
    });
  });
  Client a(s.port());
  Client b(s.port());
  Client idle(s.port());
  idle.send("GET /missing HTTP/1.1\r\nHost: h\r\n\r\n");
  ASSERT_TRUE(idle.read_response());  // now an idle keep-alive connection
  a.send("GET /slow HTTP/1.1\r\nHost: h\r\n\r\n");
  b.send("GET /slow HTTP/1.1\r\nHost: h\r\n\r\n");
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  while (entered.load() < 2 && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(1ms);
  s.server().stop();
  EXPECT_TRUE(idle.closed_within(2s));  // idle connections close once the drain grace (1 s) ends
  for (Client* c : {&a, &b}) {
    const auto r = c->read_response();
    ASSERT_TRUE(r);
    EXPECT_EQ(r->body, "slow done");
    EXPECT_EQ(r->header("connection"), "close");
  }
  EXPECT_TRUE(s.wait_stopped(5s));
  EXPECT_THROW(Client late(s.port()), std::runtime_error);  // the listener is gone
}

TEST(Handlers, ShutdownTimeoutClosesWhatRemains) {
  Config config = test_config();
  config.shutdown_timeout = std::chrono::milliseconds(200);
  LiveServer s(config, [](Server& srv) { srv.fixed("/", Response::text(200, "x")); });
  Client partial(s.port());
  partial.send("GET / HTTP/1.1\r\nHost:");  // a request in progress that never completes
  std::this_thread::sleep_for(50ms);
  const auto start = std::chrono::steady_clock::now();
  s.server().stop();
  EXPECT_TRUE(partial.closed_within(3s));
  EXPECT_TRUE(s.wait_stopped(3s));
  EXPECT_LT(std::chrono::steady_clock::now() - start, 2s);
}

TEST(Handlers, ExitAfterServesThatManyConnectionsThenStops) {
  Config config = test_config();
  config.exit_after = 2;
  LiveServer s(config, [](Server& srv) { srv.fixed("/", Response::text(200, "x")); });
  for (int i = 0; i < 2; ++i) {
    const auto r = roundtrip(s.port(), "GET / HTTP/1.1\r\nHost: h\r\n\r\n");
    ASSERT_TRUE(r) << i;
    EXPECT_EQ(r->status, 200);
  }
  EXPECT_TRUE(s.wait_stopped(5s));
}

TEST(Handlers, RoutesCannotBeAddedAfterStart) {
  LiveServer s(test_config());
  EXPECT_THROW(s.server().get("/late", [](const Request&) { return Response(); }), std::logic_error);
}

TEST(Handlers, ServesIpv6) {
  Config config = test_config();
  config.bind = "::1";
  std::unique_ptr<LiveServer> s;
  try {
    s = std::make_unique<LiveServer>(config, [](Server& srv) { srv.fixed("/", Response::text(200, "v6")); });
  } catch (const std::system_error&) {
    GTEST_SKIP() << "no IPv6 loopback here";
  }
  Client c(s->port(), "::1");
  c.send("GET / HTTP/1.1\r\nHost: [::1]\r\n\r\n");
  const auto r = c.read_response();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->body, "v6");
}

}  // namespace
}  // namespace weft::test
