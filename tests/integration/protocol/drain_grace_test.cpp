// The drain grace of idle keep-alive connections (Config::drain_idle_grace; DESIGN.md, Shutdown):
// after stop(), an idle keep-alive connection stays open a short while for a request its client
// may already be sending (a proxy reusing it), answers that request with Connection: close and
// closes; one that sends nothing closes when the grace ends, and the drain deadline bounds both.
#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <stdexcept>
#include <string>
#include <system_error>
#include <thread>
#include <tuple>
#include <vector>

#include "support/http_client.hpp"
#include "support/live_server.hpp"

namespace weft::test {
namespace {

Config with_grace(milliseconds grace) {
  Config c = test_config();
  c.drain_idle_grace = grace;
  return c;
}

void routes(Server& srv) {
  srv.fixed("/fixed", Response::text(200, "on the loop"));
  srv.get("/handler", [](const Request&) { return Response::text(200, "on the pool"); });
}

// One request answered with keep-alive: the connection is now idle between requests.
void make_idle(Client& client) {
  ASSERT_TRUE(client.send(make_request("GET", "/fixed")));
  const auto r = client.read_response();
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200);
  ASSERT_FALSE(r->connection_has("close")) << r->raw_head;
}

// stop() reaches the loops through their task queues: once no listener accepts, every loop has
// entered the drain.
bool drain_begun(std::uint16_t port) {
  return wait_for(
      [port] {
        try {
          Client probe(port, "127.0.0.1", 200ms);
          return false;
        } catch (const std::system_error&) {
          return true;
        }
      },
      3s);
}

TEST(DrainGrace, DefaultIsOneSecond) { EXPECT_EQ(Config{}.drain_idle_grace, std::chrono::seconds(1)); }

TEST(DrainGrace, RequestOnAnIdleConnectionWithinTheGraceIsAnsweredWithClose) {
  LiveServer s(with_grace(3s), routes);
  // One connection per kind of answer: a fixed response on the loop, a handler on the pool.
  Client on_loop(s.port());
  Client on_pool(s.port());
  make_idle(on_loop);
  make_idle(on_pool);
  s.server().stop();
  ASSERT_TRUE(drain_begun(s.port())) << "the listeners did not close after stop()";
  std::this_thread::sleep_for(200ms);  // well inside the grace, not at its start
  for (auto [client, target, body] :
       {std::tuple{&on_loop, "/fixed", "on the loop"}, std::tuple{&on_pool, "/handler", "on the pool"}}) {
    SCOPED_TRACE(target);
    ASSERT_TRUE(client->send(make_request("GET", target)));
    const auto r = client->read_response(3s);
    ASSERT_TRUE(r) << "a request sent on an idle connection within the grace got no answer";
    EXPECT_EQ(r->status, 200);
    EXPECT_EQ(r->body, body);
    EXPECT_TRUE(r->connection_has("close")) << r->raw_head;
    EXPECT_TRUE(client->closed_within(2s)) << "still open after its answer with close";
  }
  // Both connections are gone, so the drain ends now rather than when the 3 s grace would.
  EXPECT_TRUE(s.wait_stopped(1500ms));
}

TEST(DrainGrace, IdleConnectionThatSendsNothingClosesWhenTheGraceEnds) {
  LiveServer s(with_grace(600ms), routes);
  std::vector<std::unique_ptr<Client>> idle;
  for (int i = 0; i < 6; ++i) {  // over both loops
    idle.push_back(std::make_unique<Client>(s.port()));
    make_idle(*idle.back());
  }
  const auto stopped_at = Clock::now();
  s.server().stop();
  for (auto& client : idle) {
    EXPECT_TRUE(client->closed_within(3s)) << "an idle connection outlived the grace";
    EXPECT_GE(Clock::now() - stopped_at, 550ms) << "closed before the grace ended";
  }
  EXPECT_LT(Clock::now() - stopped_at, 2s);
  // With every connection idle, the grace is all the drain waits for.
  EXPECT_TRUE(s.wait_stopped(1s));
  EXPECT_LT(Clock::now() - stopped_at, 2s);
}

TEST(DrainGrace, ZeroClosesIdleConnectionsAtOnce) {
  LiveServer s(with_grace(0ms), routes);
  Client client(s.port());
  make_idle(client);
  const auto stopped_at = Clock::now();
  s.server().stop();
  EXPECT_TRUE(client.closed_within(3s));
  EXPECT_LT(Clock::now() - stopped_at, 500ms) << "no grace was asked for, yet the connection stayed open";
  EXPECT_TRUE(s.wait_stopped(2s));
}

TEST(DrainGrace, ShutdownTimeoutBoundsTheGrace) {
  Config config = with_grace(30s);
  config.shutdown_timeout = 300ms;
  LiveServer s(config, routes);
  Client client(s.port());
  make_idle(client);
  const auto stopped_at = Clock::now();
  s.server().stop();
  EXPECT_TRUE(client.closed_within(3s));
  EXPECT_LT(Clock::now() - stopped_at, 2s) << "the grace outlasted the drain deadline";
  EXPECT_TRUE(s.wait_stopped(2s));
}

TEST(DrainGrace, NegativeIsRefused) {
  EXPECT_THROW({ Server server(with_grace(-1ms)); }, std::invalid_argument);
}

}  // namespace
}  // namespace weft::test
