// Connection lifecycle through the real binary: keep-alive, pipelining,
// Connection: close, HTTP/1.0, IPv6.

#include <gtest/gtest.h>

#include <string>
#include <thread>

#include "support/http_client.hpp"
#include "support/process.hpp"

namespace weft::test {
namespace {

class Connections : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { server_ = new WeftServer({"--loops", "2", "--threads", "2"}); }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
  }
  static std::uint16_t port() { return server_->port(); }
  static WeftServer* server_;
};
WeftServer* Connections::server_ = nullptr;

TEST_F(Connections, KeepAliveServesTwoRequestsOnOneConnection) {
  Client client(port());
  client.send(make_request("GET", "/"));
  const auto first = client.read_response();
  ASSERT_TRUE(first);
  EXPECT_EQ(first->status, 200);
  EXPECT_FALSE(first->connection_has("close")) << first->raw_head;

  client.send(make_request("GET", "/nope"));
  const auto second = client.read_response();
  ASSERT_TRUE(second) << "the connection did not stay open";
  EXPECT_EQ(second->status, 404);

  client.send(make_request("GET", "/sleep?ms=10"));
  const auto third = client.read_response();
  ASSERT_TRUE(third);
  EXPECT_EQ(third->status, 200);
}

TEST_F(Connections, PipelinedRequestsAreAnsweredInOrder) {
  Client client(port());
  // A slow handler first: its answer must still come before the fast fixed page's.
  client.send(make_request("GET", "/sleep?ms=200") + make_request("GET", "/nope") + make_request("GET", "/"));
  const auto first = client.read_response();
  const auto second = client.read_response();
  const auto third = client.read_response();
  ASSERT_TRUE(first && second && third) << client.pending();
  EXPECT_EQ(first->status, 200);
  EXPECT_EQ(second->status, 404);
  EXPECT_EQ(third->status, 200);
  EXPECT_NE(first->body.find("Hello!"), std::string::npos);
}

TEST_F(Connections, PipelinedRequestsSplitAcrossWrites) {
  Client client(port());
  const std::string both = make_request("GET", "/") + make_request("GET", "/nope");
  const auto split = both.size() / 2 + 3;
  client.send(both.substr(0, split));
  std::this_thread::sleep_for(50ms);
  client.send(both.substr(split));
  const auto first = client.read_response();
  const auto second = client.read_response();
  ASSERT_TRUE(first && second);
  EXPECT_EQ(first->status, 200);
  EXPECT_EQ(second->status, 404);
}

TEST_F(Connections, ConnectionCloseIsHonoured) {
  Client client(port());
  client.send(make_request("GET", "/", {"Connection: close"}));
  const auto response = client.read_response();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 200);
  EXPECT_TRUE(response->connection_has("close")) << response->raw_head;
  EXPECT_TRUE(client.closed_within(2s)) << "the server kept the connection open";
}

TEST_F(Connections, RequestsPipelinedAfterCloseAreNotAnswered) {
  Client client(port());
  client.send(make_request("GET", "/", {"Connection: close"}) + make_request("GET", "/nope"));
  const auto response = client.read_response();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 200);
  const auto rest = client.read_until_close(2s);
  ASSERT_TRUE(rest) << "the server kept the connection open";
  EXPECT_EQ(*rest, "");
}

TEST_F(Connections, Http10ClosesByDefault) {
  Client client(port());
  client.send("GET / HTTP/1.0\r\n\r\n");
  const auto response = client.read_response();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 200);
  EXPECT_TRUE(client.closed_within(2s));
}

TEST_F(Connections, Http10KeepAliveIsHonoured) {
  Client client(port());
  client.send("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
  const auto first = client.read_response();
  ASSERT_TRUE(first);
  EXPECT_EQ(first->status, 200);
  EXPECT_TRUE(first->connection_has("keep-alive")) << first->raw_head;
  client.send("GET /nope HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
  const auto second = client.read_response();
  ASSERT_TRUE(second);
  EXPECT_EQ(second->status, 404);
}

TEST_F(Connections, MalformedRequestGets400AndClose) {
  Client client(port());
  client.send("GET / HTTP/1.1\r\nHost: x\r\nBad Header: y\r\n\r\n");
  const auto response = client.read_response();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 400);
  EXPECT_TRUE(client.closed_within(2s));
}

TEST(ConnectionLimits, MaxRequestsPerConnectionClosesAfterTheLimit) {
  WeftServer server({"--loops", "1", "--threads", "1", "--max-requests-per-connection", "2"});
  Client client(server.port());
  client.send(make_request("GET", "/"));
  const auto first = client.read_response();
  ASSERT_TRUE(first);
  EXPECT_FALSE(first->connection_has("close"));
  client.send(make_request("GET", "/"));
  const auto second = client.read_response();
  ASSERT_TRUE(second);
  EXPECT_TRUE(second->connection_has("close")) << second->raw_head;
  EXPECT_TRUE(client.closed_within(2s));
}

TEST(ConnectionLimits, KeepAliveTimeoutClosesIdleConnections) {
  WeftServer server({"--loops", "1", "--keepalive-timeout", "0.3"});
  Client client(server.port());
  client.send(make_request("GET", "/"));
  ASSERT_TRUE(client.read_response());
  const auto start = Clock::now();
  EXPECT_TRUE(client.closed_within(3s)) << "idle connection not closed";
  EXPECT_GE(Clock::now() - start, 200ms);
}

TEST(ConnectionLimits, HeaderTimeoutAnswers408) {
  WeftServer server({"--loops", "1", "--header-timeout", "0.3"});
  Client client(server.port());
  client.send("GET / HTTP/1.1\r\nHost: x\r\n");  // never finished
  const auto response = client.read_response(3s);
  ASSERT_TRUE(response) << "no 408 within 3 s";
  EXPECT_EQ(response->status, 408);
  EXPECT_TRUE(client.closed_within(2s));
}

TEST(Ipv6, BindToLoopbackServesTheSite) {
  if (!ipv6_loopback_available()) {
    GTEST_SKIP() << "::1 is not available on this machine";
  }
  WeftServer server({"--bind", "::1", "--loops", "1"});
  EXPECT_EQ(server.listening_line().rfind(
                "weft listening on http://[::1]:" + std::to_string(server.port()) + "/", 0),
            0U)
      << server.listening_line();
  const auto response = request(server.port(), "GET", "/", {}, "::1");
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 200);
  EXPECT_NE(response->body.find("Hello!"), std::string::npos);
}

}  // namespace
}  // namespace weft::test
