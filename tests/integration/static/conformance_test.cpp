// The HTTP/1.1 rules a public conformance suite checks, against `weft ROOT` (the real binary
// serving a temporary tree), over raw sockets. The same rules against a library server are in
// tests/integration/protocol/conformance_test.cpp; docs/conformance.md lists both.

#include <gtest/gtest.h>

#include <chrono>
#include <string>

#include "integration/static/static_fixture.hpp"

namespace weft::test {
namespace {

class StaticConformance : public SharedTreeServer<StaticConformance> {
 protected:
  static void SetUpTestSuite() {
    tree_ = new StaticTree();
    tree_->write("index.html", "<h1>home</h1>");
    tree_->write("a.txt", "alpha");
    tree_->write("a|b^c[1]{x}`y`.txt", "odd name");
    server_ = new WeftServer(serve_args(*tree_));
  }

  // Sends `request` then a GET; expects one `status` answer with Connection: close, then the
  // close, and no answer to the GET.
  static void expect_rejected(const std::string& request, int status) {
    Client c(port());
    c.send(request + "GET /a.txt HTTP/1.1\r\nHost: a\r\n\r\n");
    const auto r = c.read_response();
    ASSERT_TRUE(r) << request;
    EXPECT_EQ(r->status, status) << request;
    EXPECT_TRUE(r->connection_has("close")) << request;
    const auto rest = c.read_until_close();
    ASSERT_TRUE(rest) << request;
    EXPECT_EQ(rest->find("HTTP/1.1"), std::string::npos) << request << *rest;
  }
};

TEST_F(StaticConformance, EmptyHostIs400AndCloses) {
  expect_rejected("GET /a.txt HTTP/1.1\r\nHost: \r\n\r\n", 400);
  expect_rejected("GET /a.txt HTTP/1.1\r\nHost: :8080\r\n\r\n", 400);
  expect_rejected("OPTIONS * HTTP/1.1\r\nHost:\r\n\r\n", 400);
}

TEST_F(StaticConformance, TargetBytesOutsideTheGrammarAre400AndClose) {
  for (const char* target : {"/caf\xC3\xA9", "/\xC0\xAF", "/path\\file", "/a.txt\\", "/a\"b", "/<a>"}) {
    expect_rejected("GET " + std::string(target) + " HTTP/1.1\r\nHost: a\r\n\r\n", 400);
  }
}

TEST_F(StaticConformance, TargetCharactersBrowsersSendAreServed) {
  const auto r = get(port(), "/a|b^c[1]{x}`y`.txt?q=[1]&r={a|b}^`c`\\");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "odd name");
  const auto encoded = get(port(), "/a%7Cb%5Ec%5B1%5D%7Bx%7D%60y%60.txt");
  ASSERT_TRUE(encoded);
  EXPECT_EQ(encoded->body, "odd name");
}

// The body of a POST to a file is dropped after the 405; a size line outside the chunk-ext
// grammar ends that, and the connection closes without reading what follows as a request.
TEST_F(StaticConformance, ChunkExtensionOutsideTheGrammarClosesTheConnection) {
  for (const char* size_line : {"5;", "5;bad[=x"}) {
    Client c(port());
    c.send("POST /a.txt HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n" + std::string(size_line) +
           "\r\nhello\r\n0\r\n\r\nGET /a.txt HTTP/1.1\r\nHost: a\r\n\r\n");
    const auto r = c.read_response();
    ASSERT_TRUE(r) << size_line;
    EXPECT_EQ(r->status, 405) << size_line;
    const auto rest = c.read_until_close();
    ASSERT_TRUE(rest) << size_line;
    EXPECT_EQ(rest->find("HTTP/1.1"), std::string::npos) << size_line << *rest;
  }
}

TEST_F(StaticConformance, ChunkExtensionsOfTheGrammarKeepTheConnection) {
  Client c(port());
  c.send(
      "POST /a.txt HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
      "5;a=b ; c;d=\"e \\\" f\"\r\nhello\r\n0;last\r\n\r\nGET /a.txt HTTP/1.1\r\nHost: a\r\n\r\n");
  const auto r = c.read_response();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 405);
  const auto next = c.read_response();
  ASSERT_TRUE(next) << c.pending();
  EXPECT_EQ(next->body, "alpha");
}

TEST_F(StaticConformance, Http12IsServedAsHttp11) {
  Client c(port());
  c.send("GET /a.txt HTTP/1.2\r\nHost: a\r\n\r\nGET /a.txt HTTP/1.2\r\nHost: a\r\n\r\n");
  for (int i = 0; i < 2; ++i) {  // kept alive like HTTP/1.1
    const auto r = c.read_response();
    ASSERT_TRUE(r) << i;
    EXPECT_EQ(r->status_line, "HTTP/1.1 200 OK");
    EXPECT_EQ(r->body, "alpha");
  }
  expect_rejected("GET /a.txt HTTP/2.0\r\nHost: a\r\n\r\n", 505);
}

TEST_F(StaticConformance, OptionsStarIs204WithTheServersMethods) {
  const auto r = request(port(), "OPTIONS", "*");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 204);
  EXPECT_EQ(r->header("Allow"), "GET, HEAD, OPTIONS");
}

TEST_F(StaticConformance, OptionsOnAPathIs204WithAllow) {
  const auto r = request(port(), "OPTIONS", "/a.txt");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 204);
  EXPECT_EQ(r->header("Allow"), "GET, HEAD, OPTIONS");
}

TEST_F(StaticConformance, ConnectIs501AndCloses) {
  expect_rejected("CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n", 501);
}

// Deliberate deviations from the suite (docs/conformance.md): RFC 9112 3 and RFC 9110 15.5.14.
TEST_F(StaticConformance, HundredThousandByteMethodIs501) {
  expect_rejected(std::string(100'000, 'A') + " /a.txt HTTP/1.1\r\nHost: a\r\n\r\n", 501);
}

TEST_F(StaticConformance, ContentLengthOverTheLimitIs413) {
  expect_rejected("POST /a.txt HTTP/1.1\r\nHost: a\r\nContent-Length: 999999999\r\n\r\n", 413);
}

TEST_F(StaticConformance, BareCrIs400AtOnce) {
  for (const char* partial : {"GET /a.txt HTTP/1.1\rX", "GET /a.txt HTTP/1.1\r\nHost: a\rX"}) {
    Client c(port());
    const auto start = Clock::now();
    c.send(partial);  // no LF after the CR, and the head never ends
    const auto r = c.read_response(2s);
    ASSERT_TRUE(r) << partial;
    EXPECT_EQ(r->status, 400) << partial;
    EXPECT_TRUE(c.read_until_close(2s)) << partial;
    EXPECT_LT(Clock::now() - start, 2s);  // the header timeout is 30 s
  }
}

}  // namespace
}  // namespace weft::test
