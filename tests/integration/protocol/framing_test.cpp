// Message framing and connection management, end to end: bodies, chunked,
// 100-continue, discarded bodies, pipelining, keep-alive rules.
#include <gtest/gtest.h>

#include <string>

#include "support/http_client.hpp"
#include "support/live_server.hpp"

namespace weft::test {
namespace {

class Framing : public testing::Test {
 protected:
  Framing()
      : server_(config(), [](Server& s) {
          s.fixed("/", Response::html(200, "<p>home</p>"));
          s.get("/hello/{name}",
                [](const Request& r) { return Response::text(200, "hi " + std::string(r.param("name"))); });
          s.post("/echo", [](const Request& r) { return Response::text(200, std::string(r.body())); });
        }) {}

  static Config config() {
    Config c = test_config();
    c.max_requests_per_connection = 5;
    return c;
  }

  LiveServer server_;
};

TEST_F(Framing, ContentLengthBodyReachesTheHandler) {
  const auto r =
      roundtrip(server_.port(), "POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "hello");
}

TEST_F(Framing, ChunkedBodyWithExtensionsAndTrailersIsDecoded) {
  const auto r = roundtrip(server_.port(),
                           "POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
                           "5;name=value\r\nhello\r\n6\r\n world\r\n0\r\nX-Trailer: t\r\n\r\n");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "hello world");
}

TEST_F(Framing, BodyArrivingByteByByteIsAssembled) {
  Client c(server_.port());
  const std::string request = "POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 11\r\n\r\nhello world";
  for (const char ch : request) c.send(std::string_view(&ch, 1));
  const auto r = c.read_response();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->body, "hello world");
}

TEST_F(Framing, ExpectContinueGets100ThenTheAnswer) {
  Client c(server_.port());
  c.send("POST /echo HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\n");
  const auto interim = c.read_response();
  ASSERT_TRUE(interim);
  EXPECT_EQ(interim->status, 100);
  c.send("ping");
  const auto final_reply = c.read_response();
  ASSERT_TRUE(final_reply);
  EXPECT_EQ(final_reply->status, 200);
  EXPECT_EQ(final_reply->body, "ping");
}

TEST_F(Framing, ExpectContinueOnANonReadingRouteIsAnsweredAtOnceAndCloses) {
  Client c(server_.port());
  c.send("POST / HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\n");
  const auto r = c.read_response();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 405);
  EXPECT_EQ(r->header("connection"), "close");
}

TEST_F(Framing, SmallBodyOfAnAnsweredRequestIsDiscardedAndTheConnectionStaysUsable) {
  Client c(server_.port());
  // The body looks like a request: it must be skipped, not served.
  const std::string body = "GET /hello/evil HTTP/1.1\r\nHost: a\r\n\r\n";
  c.send("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body +
         "GET /hello/next HTTP/1.1\r\nHost: a\r\n\r\n");
  const auto first = c.read_response();
  ASSERT_TRUE(first);
  EXPECT_EQ(first->status, 405);
  EXPECT_EQ(first->header("allow"), "GET, HEAD, OPTIONS");
  EXPECT_FALSE(first->has("connection"));
  const auto second = c.read_response();
  ASSERT_TRUE(second);
  EXPECT_EQ(second->body, "hi next");
  EXPECT_FALSE(c.read_response(300ms).has_value());  // nothing else: the body was not a request
}

TEST_F(Framing, LargeBodyOfAnAnsweredRequestClosesTheConnection) {
  Client c(server_.port());
  c.send("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 100000\r\n\r\n");
  const auto r = c.read_response();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 405);
  EXPECT_EQ(r->header("connection"), "close");
  c.send(std::string(100000, 'x'));
  EXPECT_TRUE(c.closed_within(5s));
}

TEST_F(Framing, ChunkedBodyOfAnAnsweredRequestIsDiscarded) {
  Client c(server_.port());
  c.send(
      "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n"
      "GET /hello/after HTTP/1.1\r\nHost: a\r\n\r\n");
  const auto first = c.read_response();
  ASSERT_TRUE(first);
  EXPECT_EQ(first->status, 405);
  const auto second = c.read_response();
  ASSERT_TRUE(second);
  EXPECT_EQ(second->body, "hi after");
}

TEST_F(Framing, PipelinedRequestsAreAnsweredInOrder) {
  Client c(server_.port());
  c.send(
      "GET /hello/one HTTP/1.1\r\nHost: a\r\n\r\n"
      "POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\ntwo"
      "GET / HTTP/1.1\r\nHost: a\r\n\r\n"
      "GET /hello/four HTTP/1.1\r\nHost: a\r\n\r\n");
  const char* expected[] = {"hi one", "two", "<p>home</p>", "hi four"};
  for (const char* body : expected) {
    const auto r = c.read_response();
    ASSERT_TRUE(r) << body;
    EXPECT_EQ(r->body, body);
  }
}

TEST_F(Framing, KeepAliveServesManyRequestsOnOneConnection) {
  Client c(server_.port());
  for (int i = 0; i < 3; ++i) {
    c.send("GET /hello/" + std::to_string(i) + " HTTP/1.1\r\nHost: a\r\n\r\n");
    const auto r = c.read_response();
    ASSERT_TRUE(r);
    EXPECT_EQ(r->body, "hi " + std::to_string(i));
    EXPECT_FALSE(r->has("connection"));
  }
}

TEST_F(Framing, ConnectionCloseIsHonoured) {
  Client c(server_.port());
  c.send("GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n");
  const auto r = c.read_response();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->header("connection"), "close");
  EXPECT_TRUE(c.closed_within(5s));
}

TEST_F(Framing, Http10ClosesUnlessKeepAliveIsAsked) {
  {
    Client c(server_.port());
    c.send("GET / HTTP/1.0\r\n\r\n");
    const auto r = c.read_response();
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200);
    EXPECT_TRUE(c.closed_within(5s));
  }
  Client c(server_.port());
  c.send("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
  const auto r = c.read_response();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->header("connection"), "keep-alive");
  c.send("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
  EXPECT_TRUE(c.read_response().has_value());
}

TEST_F(Framing, MaxRequestsPerConnectionEndsWithClose) {
  Client c(server_.port());
  for (int i = 1; i <= 5; ++i) {
    c.send("GET / HTTP/1.1\r\nHost: a\r\n\r\n");
    const auto r = c.read_response();
    ASSERT_TRUE(r);
    EXPECT_EQ(r->header("connection").value_or(""), i == 5 ? "close" : "") << i;
  }
  EXPECT_TRUE(c.closed_within(5s));
}

TEST_F(Framing, AbsoluteFormTargetIsServedAndItsAuthorityWins) {
  LiveServer host_echo(test_config(), [](Server& s) {
    s.get("/who", [](const Request& r) {
      return Response::text(200, std::string(r.host()) + " " + std::string(r.path()));
    });
  });
  const auto r = roundtrip(host_echo.port(), "GET http://example.org/who HTTP/1.1\r\nHost: other\r\n\r\n");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->body, "example.org /who");
}

TEST_F(Framing, HeadIsServedFromGetWithoutBody) {
  Client c(server_.port());
  c.send("HEAD /hello/x HTTP/1.1\r\nHost: a\r\n\r\nGET /hello/y HTTP/1.1\r\nHost: a\r\n\r\n");
  const auto head = c.read_response(5s, true);
  ASSERT_TRUE(head);
  EXPECT_EQ(head->status, 200);
  EXPECT_EQ(head->header("content-length"), "4");
  const auto get = c.read_response();
  ASSERT_TRUE(get);
  EXPECT_EQ(get->body, "hi y");  // the HEAD sent no body bytes
}

}  // namespace
}  // namespace weft::test
