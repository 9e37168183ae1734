// The HTTP/1.1 rules a public conformance suite checks, against a library server that answers
// every route (GET and POST on any path), over raw sockets. The same rules against `weft DIR`
// are in tests/integration/static/conformance_test.cpp; docs/conformance.md lists both.
#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <vector>

#include "support/http_client.hpp"
#include "support/live_server.hpp"

namespace weft::test {
namespace {

class Conformance : public testing::Test {
 protected:
  Conformance()
      : server_(test_config(), [](Server& s) {
          const auto echo = [](const Request& r) {
            return Response::text(200, std::string(r.method()) + " " + std::string(r.path()) + " 1." +
                                           std::to_string(r.version_minor()) + " " + std::string(r.body()));
          };
          for (const char* pattern : {"/", "/{path...}"}) {
            s.get(pattern, echo);
            s.post(pattern, echo);
          }
        }) {}

  // Sends `request`, expects one `status` answer with Connection: close, then the close, and no
  // answer to anything sent after it.
  void expect_rejected(const std::string& request, int status) {
    Client c(server_.port());
    c.send(request + "GET /after HTTP/1.1\r\nHost: a\r\n\r\n");
    const auto reply = c.read_response();
    ASSERT_TRUE(reply.has_value()) << request;
    EXPECT_EQ(reply->status, status) << request;
    EXPECT_EQ(reply->header("connection"), "close") << request;
    EXPECT_TRUE(c.closed_within(5s)) << request;
    EXPECT_EQ(c.pending().find("HTTP/1.1"), std::string::npos) << request;  // no second answer
  }

  // Sends `request` then a second one on the same connection: both answered 200.
  std::optional<HttpResponse> expect_served(const std::string& request) {
    Client c(server_.port());
    c.send(request + "GET /next HTTP/1.1\r\nHost: a\r\n\r\n");
    auto reply = c.read_response();
    EXPECT_TRUE(reply.has_value()) << request;
    if (!reply) return reply;
    EXPECT_EQ(reply->status, 200) << request << reply->body;
    const auto next = c.read_response();
    EXPECT_TRUE(next.has_value()) << request;
    if (next) {
      EXPECT_EQ(next->body, "GET /next 1.1 ") << request;
    }
    return reply;
  }

  LiveServer server_;
};

// RFC 9110 4.2.1 via RFC 9112 3.2 / 3.3: Host is the authority, and an http URI with an empty host
// is invalid.
TEST_F(Conformance, EmptyHostIs400AndCloses) {
  expect_rejected("GET / HTTP/1.1\r\nHost: \r\n\r\n", 400);
  expect_rejected("GET / HTTP/1.1\r\nHost:\r\n\r\n", 400);
  expect_rejected("GET / HTTP/1.1\r\nHost: :8080\r\n\r\n", 400);
  expect_rejected("OPTIONS * HTTP/1.1\r\nHost: \r\n\r\n", 400);
  expect_rejected("GET http://:80/ HTTP/1.1\r\nHost: a\r\n\r\n", 400);
}

// RFC 9112 3.2.2: an absolute-form target names the authority; Host is ignored for it.
TEST_F(Conformance, EmptyHostBesideAnAbsoluteFormTargetIsServed) {
  const auto r = expect_served("GET http://example.com/a HTTP/1.1\r\nHost:\r\n\r\n");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->body, "GET /a 1.1 ");
}

// RFC 9112 3 + RFC 3986: bytes outside the request-target grammar make an invalid request-line.
TEST_F(Conformance, TargetBytesOutsideTheGrammarAre400AndClose) {
  for (const char* target : {"/caf\xC3\xA9", "/\xC0\xAF", "/path\\file", "/a\"b", "/a<b>", "/?q=\xFF"}) {
    expect_rejected("GET " + std::string(target) + " HTTP/1.1\r\nHost: a\r\n\r\n", 400);
  }
}

// What browsers and curl send unencoded stays served: RFC 3986 characters, percent escapes, and
// '[', ']', '^', '|', '{', '}', '`' (and '\' in the query).
TEST_F(Conformance, TargetCharactersBrowsersSendAreServed) {
  const auto r = expect_served(
      "GET /caf%C3%A9/a|b^c/[1]/{x}/`y`/!$&'()*+,;=:@-._~?q=[1]&r={a|b}^`c`&p=C:\\dir HTTP/1.1\r\nHost: "
      "a\r\n\r\n");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->body, "GET /caf\xC3\xA9/a|b^c/[1]/{x}/`y`/!$&'()*+,;=:@-._~ 1.1 ");
}

// RFC 9112 7.1.1: chunk-ext-name = token (and a value is a token or a quoted-string).
TEST_F(Conformance, ChunkExtensionOutsideTheGrammarIs400AndCloses) {
  for (const char* size_line : {"5;", "5;bad[=x", "5;a=", "5; a b", "5;a=\"b"}) {
    expect_rejected("POST /up HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n" +
                        std::string(size_line) + "\r\nhello\r\n0\r\n\r\n",
                    400);
  }
}

TEST_F(Conformance, ChunkExtensionsOfTheGrammarAreAccepted) {
  const auto r = expect_served(
      "POST /up HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
      "5;a=b ; c;d=\"e \\\" f\"\r\nhello\r\n0;last\r\n\r\n");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->body, "POST /up 1.1 hello");
}

// RFC 9110 2.5: a higher minor version is processed as the highest one implemented.
TEST_F(Conformance, Http12IsServedAsHttp11) {
  const auto r = expect_served("GET /v HTTP/1.2\r\nHost: a\r\n\r\n");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status_line, "HTTP/1.1 200 OK");
  EXPECT_EQ(r->body, "GET /v 1.1 ");
}

TEST_F(Conformance, OtherMajorVersionsAre505) {
  expect_rejected("GET / HTTP/2.0\r\nHost: a\r\n\r\n", 505);
  expect_rejected("GET / HTTP/0.9\r\nHost: a\r\n\r\n", 505);
}

// RFC 9110 9.3.7: OPTIONS * asks about the server as a whole.
TEST_F(Conformance, OptionsStarIs204WithTheServersMethods) {
  Client c(server_.port());
  c.send("OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\nGET /next HTTP/1.1\r\nHost: a\r\n\r\n");
  const auto r = c.read_response();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 204);
  EXPECT_EQ(r->header("allow"), "GET, HEAD, POST, OPTIONS");
  const auto next = c.read_response();
  ASSERT_TRUE(next);
  EXPECT_EQ(next->status, 200);
}

// RFC 9110 9.3.6: weft is not a proxy; it never tunnels, and what follows the head is not read.
TEST_F(Conformance, ConnectIs501AndCloses) {
  expect_rejected("CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n", 501);
}

// RFC 9110 9.3.7: OPTIONS on a path answers with the methods its routes allow.
TEST_F(Conformance, OptionsOnARoutedPathIs204WithAllowFromTheRoutes) {
  Client c(server_.port());
  c.send("OPTIONS /known/path HTTP/1.1\r\nHost: a\r\n\r\nGET /next HTTP/1.1\r\nHost: a\r\n\r\n");
  const auto r = c.read_response();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 204);
  EXPECT_EQ(r->header("allow"), "GET, HEAD, POST, OPTIONS");
  const auto next = c.read_response();
  ASSERT_TRUE(next);
  EXPECT_EQ(next->status, 200);
  // A method no route has: 405, and Allow lists OPTIONS too.
  const auto wrong = roundtrip(server_.port(), "DELETE /known/path HTTP/1.1\r\nHost: a\r\n\r\n");
  ASSERT_TRUE(wrong);
  EXPECT_EQ(wrong->status, 405);
  EXPECT_EQ(wrong->header("allow"), "GET, HEAD, POST, OPTIONS");
}

TEST(ConformanceOwnOptions, TheApplicationsOptionsRouteAnswersOptions) {
  LiveServer s(test_config(), [](Server& srv) {
    srv.get("/api/{x...}", [](const Request&) { return Response::text(200, "get"); });
    srv.route("OPTIONS", "/api/{x...}", [](const Request&) {
      Response r(200);
      r.set_header("Access-Control-Allow-Origin", "*");
      return r;
    });
  });
  const auto r = roundtrip(s.port(), "OPTIONS /api/users HTTP/1.1\r\nHost: a\r\n\r\n");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->header("access-control-allow-origin"), "*");
  EXPECT_FALSE(r->has("allow"));
}

// Deliberate deviations from the suite (docs/conformance.md). RFC 9112 3: a method longer than
// any implemented SHOULD get 501, whatever else is wrong with the request line.
TEST_F(Conformance, HundredThousandByteMethodIs501) {
  expect_rejected(std::string(100'000, 'A') + " / HTTP/1.1\r\nHost: a\r\n\r\n", 501);
}

// RFC 9110 15.5.14: content larger than the server is willing to process gets 413, at once.
TEST_F(Conformance, ContentLengthOverTheLimitIs413) {
  expect_rejected("POST /up HTTP/1.1\r\nHost: a\r\nContent-Length: 999999999\r\n\r\n", 413);
}

// RFC 9112 2.2: a bare CR makes the element invalid: 400 at once, not a 408 at the header timeout.
TEST_F(Conformance, BareCrIs400AtOnce) {
  for (const char* partial : {"GET / HTTP/1.1\rX", "GET /a\rb", "GET / HTTP/1.1\r\nHost: a\rX",
                              "GET / HTTP/1.1\r\nHost: a\r\nX-A: 1\r\r"}) {
    Client c(server_.port());
    const auto start = std::chrono::steady_clock::now();
    c.send(partial);  // no LF after the CR, and the head never ends
    const auto reply = c.read_response(2s);
    ASSERT_TRUE(reply.has_value()) << partial;
    EXPECT_EQ(reply->status, 400) << partial;
    EXPECT_EQ(reply->header("connection"), "close");
    EXPECT_TRUE(c.closed_within(2s));
    EXPECT_LT(std::chrono::steady_clock::now() - start, 2s);  // the header timeout is 30 s
  }
}

}  // namespace
}  // namespace weft::test
