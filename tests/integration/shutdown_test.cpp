// Stopping weft: SIGTERM/SIGINT drain (DESIGN.md, Shutdown), the forced stop on
// a second signal, the drain deadline, and --exit-after.

#include <signal.h>

#include <gtest/gtest.h>

#include <future>
#include <string>
#include <string_view>
#include <system_error>
#include <thread>
#include <vector>

#include "support/http_client.hpp"
#include "support/process.hpp"

namespace weft::test {
namespace {

using Reply = std::future<std::optional<HttpResponse>>;

// Starts a /sleep request on its own connection; the future holds its response.
Reply sleep_request(std::uint16_t port, int ms) {
  return std::async(std::launch::async, [port, ms] {
    Client client(port);
    client.send(make_request("GET", "/sleep?ms=" + std::to_string(ms)));
    return client.read_response(8s);
  });
}

void expect_exit(Process& process, int code, milliseconds within) {
  const auto status = process.wait_exit(within);
  ASSERT_TRUE(status) << "weft still running " << within.count() << " ms later; stderr: " << process.err();
  EXPECT_TRUE(status->exited) << "killed by signal " << status->signal << "; stderr: " << process.err();
  EXPECT_EQ(status->code, code) << "stderr: " << process.err();
}

TEST(Shutdown, SigtermWhenIdleExitsZero) {
  WeftServer server({"--loops", "2"});
  server.process().send_signal(SIGTERM);
  expect_exit(server.process(), 0, 3s);
  EXPECT_NE(server.process().err().find("SIGTERM"), std::string::npos) << server.process().err();
}

TEST(Shutdown, SigintWhenIdleExitsZero) {
  WeftServer server({"--loops", "1"});
  server.process().send_signal(SIGINT);
  expect_exit(server.process(), 0, 3s);
  EXPECT_NE(server.process().err().find("SIGINT"), std::string::npos) << server.process().err();
}

TEST(Shutdown, SigtermLetsInFlightRequestsFinish) {
  WeftServer server({"--loops", "2", "--threads", "4"});
  auto first = sleep_request(server.port(), 500);
  auto second = sleep_request(server.port(), 500);
  std::this_thread::sleep_for(100ms);
  const auto signalled = Clock::now();
  server.process().send_signal(SIGTERM);

  for (Reply* reply : {&first, &second}) {
    const auto response = reply->get();
    ASSERT_TRUE(response) << "an in-flight request was cut off; stderr: " << server.process().err();
    EXPECT_EQ(response->status, 200);
    EXPECT_NE(response->body.find("Hello!"), std::string::npos);
    EXPECT_TRUE(response->connection_has("close")) << response->raw_head;
  }
  expect_exit(server.process(), 0, 5s);
  EXPECT_GE(Clock::now() - signalled, 300ms) << "exited before the sleeps could finish";
}

TEST(Shutdown, ListenersCloseAtOnceOnSigterm) {
  WeftServer server({"--loops", "2", "--threads", "2"});
  auto in_flight = sleep_request(server.port(), 800);
  std::this_thread::sleep_for(100ms);
  server.process().send_signal(SIGTERM);
  std::this_thread::sleep_for(200ms);  // draining: the sleep is still running
  ASSERT_TRUE(server.process().running());
  bool refused = false;
  try {
    Client late(server.port());
    late.send(make_request("GET", "/"));
    // Connected (a listener still open, or a backlog race): it must not be served normally.
    const auto response = late.read_response(2s);
    refused = !response || response->status != 200;
  } catch (const std::system_error&) {
    refused = true;
  }
  EXPECT_TRUE(refused) << "a new connection was served during the drain";
  const auto response = in_flight.get();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 200);
  expect_exit(server.process(), 0, 5s);
}

TEST(Shutdown, IdleKeepAliveConnectionsCloseOnSigterm) {
  WeftServer server({"--loops", "1"});
  Client client(server.port());
  client.send(make_request("GET", "/"));
  ASSERT_TRUE(client.read_response());
  server.process().send_signal(SIGTERM);
  EXPECT_TRUE(client.closed_within(3s)) << "idle connection kept open during the drain";
  expect_exit(server.process(), 0, 3s);
}

// The race a proxy meets in a rolling restart: it reuses an idle keep-alive connection just as
// the drain begins. The request still gets its answer, with Connection: close, and weft exits.
TEST(Shutdown, IdleKeepAliveConnectionAnswersOneMoreRequestWithCloseDuringTheGrace) {
  WeftServer server({"--loops", "1", "--drain-idle-grace", "2"});
  Client client(server.port());
  client.send(make_request("GET", "/"));
  const auto first = client.read_response();
  ASSERT_TRUE(first);
  ASSERT_FALSE(first->connection_has("close")) << first->raw_head;
  server.process().send_signal(SIGTERM);
  // Until the drain has begun, the listener still accepts: wait until it refuses.
  ASSERT_TRUE(wait_for(
      [&] {
        try {
          Client probe(server.port(), "127.0.0.1", 200ms);
          return false;
        } catch (const std::system_error&) {
          return true;
        }
      },
      3s))
      << "the listener did not close after SIGTERM";
  std::this_thread::sleep_for(300ms);
  ASSERT_TRUE(client.send(make_request("GET", "/")));
  const auto second = client.read_response(3s);
  ASSERT_TRUE(second) << "the request sent within the grace got no answer; stderr: "
                      << server.process().err();
  EXPECT_EQ(second->status, 200);
  EXPECT_TRUE(second->connection_has("close")) << second->raw_head;
  EXPECT_TRUE(client.closed_within(3s));
  expect_exit(server.process(), 0, 3s);
}

// An idle connection that sends nothing holds the drain for the grace only, and no grace at all
// with --drain-idle-grace 0 (the close comes at once, as before the grace existed).
TEST(Shutdown, IdleKeepAliveConnectionClosesWhenTheGraceEnds) {
  for (const char* grace : {"1", "0"}) {
    SCOPED_TRACE(std::string("--drain-idle-grace ") + grace);
    WeftServer server({"--loops", "1", "--drain-idle-grace", grace});
    Client client(server.port());
    client.send(make_request("GET", "/"));
    ASSERT_TRUE(client.read_response());
    const auto signalled = Clock::now();
    server.process().send_signal(SIGTERM);
    EXPECT_TRUE(client.closed_within(4s));
    const auto closed_after = Clock::now() - signalled;
    expect_exit(server.process(), 0, 3s);
    if (std::string_view(grace) == "1") {
      EXPECT_GE(closed_after, 800ms) << "closed before the grace ended";
      EXPECT_LT(closed_after, 2500ms) << "the grace held the connection too long";
    } else {
      EXPECT_LT(closed_after, 500ms) << "no grace, yet the idle connection stayed open";
    }
  }
}

TEST(Shutdown, SecondSignalStopsAtOnce) {
  WeftServer server({"--loops", "1", "--threads", "2"});
  auto in_flight = sleep_request(server.port(), 5000);
  std::this_thread::sleep_for(150ms);
  server.process().send_signal(SIGTERM);
  std::this_thread::sleep_for(150ms);
  ASSERT_TRUE(server.process().running()) << "exited before the sleep finished";
  const auto forced = Clock::now();
  server.process().send_signal(SIGTERM);
  // Documented forced-stop status: 128 + SIGTERM.
  expect_exit(server.process(), 128 + SIGTERM, 3s);
  EXPECT_LT(Clock::now() - forced, 2s);
  in_flight.wait_for(3s);
}

TEST(Shutdown, DrainDeadlineEndsLongRequests) {
  WeftServer server({"--loops", "1", "--threads", "1", "--shutdown-timeout", "0.5"});
  auto in_flight = sleep_request(server.port(), 20000);
  std::this_thread::sleep_for(150ms);
  const auto signalled = Clock::now();
  server.process().send_signal(SIGTERM);
  expect_exit(server.process(), 0, 5s);
  const auto elapsed = Clock::now() - signalled;
  EXPECT_GE(elapsed, 400ms);
  EXPECT_LT(elapsed, 4s);
  in_flight.wait_for(3s);
}

TEST(ExitAfter, ServesTwoConnectionsThenExitsZero) {
  WeftServer server({"--exit-after", "2", "--loops", "1"});
  const auto first = get(server.port(), "/");
  ASSERT_TRUE(first);
  EXPECT_EQ(first->status, 200);
  {
    // The second connection uses keep-alive and then goes away.
    Client client(server.port());
    client.send(make_request("GET", "/nope"));
    const auto second = client.read_response();
    ASSERT_TRUE(second);
    EXPECT_EQ(second->status, 404);
  }
  expect_exit(server.process(), 0, 5s);
}

TEST(ExitAfter, FinishesInFlightRequestsBeforeExiting) {
  WeftServer server({"--exit-after", "2", "--loops", "2"});
  auto first = sleep_request(server.port(), 300);
  auto second = sleep_request(server.port(), 300);
  for (Reply* reply : {&first, &second}) {
    const auto response = reply->get();
    ASSERT_TRUE(response) << server.process().err();
    EXPECT_EQ(response->status, 200);
  }
  expect_exit(server.process(), 0, 5s);
}

}  // namespace
}  // namespace weft::test
