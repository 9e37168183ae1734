// Each RFC 9112 rejection, end to end: the right status, an HTML body with
// Content-Length and Date, Connection: close, and the socket closed after.
#include <gtest/gtest.h>

#include <string>

#include "support/http_client.hpp"
#include "support/live_server.hpp"

namespace weft::test {
namespace {

class ProtocolErrors : public testing::Test {
 protected:
  ProtocolErrors()
      : server_(test_config(), [](Server& s) {
          s.get("/", [](const Request&) { return Response::text(200, "ok"); });
          s.post("/echo", [](const Request& r) { return Response::text(200, std::string(r.body())); });
        }) {}

  // Sends `request` and expects `status` with the error-response contract.
  void expect_rejected(const std::string& request, int status) {
    Client c(server_.port());
    c.send(request);
    const auto reply = c.read_response();
    ASSERT_TRUE(reply.has_value()) << request;
    EXPECT_EQ(reply->status, status) << request;
    EXPECT_EQ(reply->header("connection"), "close") << request;
    EXPECT_TRUE(reply->has("date"));
    EXPECT_EQ(reply->header("content-length"), std::to_string(reply->body.size()));
    EXPECT_NE(reply->body.find("<html"), std::string::npos);
    EXPECT_TRUE(c.closed_within(5s)) << request;
  }

  LiveServer server_;
};

TEST_F(ProtocolErrors, MalformedRequestLineIs400) {
  expect_rejected("GET  / HTTP/1.1\r\nHost: a\r\n\r\n", 400);
}
TEST_F(ProtocolErrors, BareLfIs400) { expect_rejected("GET / HTTP/1.1\nHost: a\n\n", 400); }
TEST_F(ProtocolErrors, MethodTooLongIs501) {
  expect_rejected(std::string(40, 'G') + " / HTTP/1.1\r\nHost: a\r\n\r\n", 501);
}
TEST_F(ProtocolErrors, UnknownMethodIs501) { expect_rejected("BREW / HTTP/1.1\r\nHost: a\r\n\r\n", 501); }
TEST_F(ProtocolErrors, OtherVersionIs505) { expect_rejected("GET / HTTP/2.0\r\nHost: a\r\n\r\n", 505); }
TEST_F(ProtocolErrors, MalformedVersionIs400) { expect_rejected("GET / HTTP/1.10\r\nHost: a\r\n\r\n", 400); }
TEST_F(ProtocolErrors, LongTargetIs414) {
  expect_rejected("GET /" + std::string(9000, 'a') + " HTTP/1.1\r\nHost: a\r\n\r\n", 414);
}
TEST_F(ProtocolErrors, LargeHeaderBlockIs431) {
  expect_rejected("GET / HTTP/1.1\r\nHost: a\r\nX-Big: " + std::string(17000, 'b') + "\r\n\r\n", 431);
}
TEST_F(ProtocolErrors, TooManyHeadersIs431) {
  std::string request = "GET / HTTP/1.1\r\nHost: a\r\n";
  for (int i = 0; i < 101; ++i) request += "X-H" + std::to_string(i) + ": v\r\n";
  expect_rejected(request + "\r\n", 431);
}
TEST_F(ProtocolErrors, SpaceBeforeColonIs400) { expect_rejected("GET / HTTP/1.1\r\nHost : a\r\n\r\n", 400); }
TEST_F(ProtocolErrors, ObsFoldIs400) {
  expect_rejected("GET / HTTP/1.1\r\nHost: a\r\nX: 1\r\n 2\r\n\r\n", 400);
}
TEST_F(ProtocolErrors, NulInFieldValueIs400) {
  expect_rejected(std::string("GET / HTTP/1.1\r\nHost: a\r\nX: a\0b\r\n\r\n", 36), 400);
}
TEST_F(ProtocolErrors, CrInFieldValueIs400) {
  expect_rejected("GET / HTTP/1.1\r\nHost: a\r\nX: a\rb\r\n\r\n", 400);
}
TEST_F(ProtocolErrors, InvalidFieldNameIs400) {
  expect_rejected("GET / HTTP/1.1\r\nHost: a\r\nX(y): 1\r\n\r\n", 400);
}
TEST_F(ProtocolErrors, MissingHostIs400) { expect_rejected("GET / HTTP/1.1\r\n\r\n", 400); }
TEST_F(ProtocolErrors, TwoHostsAre400) {
  expect_rejected("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400);
}
TEST_F(ProtocolErrors, NonDigitContentLengthIs400) {
  expect_rejected("POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 1x\r\n\r\n", 400);
}
TEST_F(ProtocolErrors, ConflictingContentLengthsAre400) {
  expect_rejected("POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd",
                  400);
  expect_rejected("POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 3, 4\r\n\r\nabcd", 400);
}
TEST_F(ProtocolErrors, ContentLengthOverflowIs400) {
  expect_rejected("POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 99999999999999999999999\r\n\r\n", 400);
}
TEST_F(ProtocolErrors, ContentLengthWithTransferEncodingIs400) {
  expect_rejected(
      "POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
      400);
}
TEST_F(ProtocolErrors, UnknownTransferCodingIs501) {
  expect_rejected("POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n", 501);
}
TEST_F(ProtocolErrors, ChunkedNotLastIs400) {
  expect_rejected("POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\n",
                  400);
  expect_rejected("POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: xchunked\r\n\r\n0\r\n\r\n", 400);
}
TEST_F(ProtocolErrors, TransferEncodingInHttp10Is400) {
  expect_rejected("POST /echo HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400);
}
TEST_F(ProtocolErrors, BadChunkSizeIs400) {
  expect_rejected(
      "POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n", 400);
}
TEST_F(ProtocolErrors, HugeChunkSizeIs400) {
  expect_rejected(
      "POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n10000000000000000\r\nabc\r\n",
      400);
}
TEST_F(ProtocolErrors, BareLfInChunkLineIs400) {
  expect_rejected("POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\nabc\r\n0\r\n\r\n",
                  400);
}
TEST_F(ProtocolErrors, BodyOverTheLimitIs413) {
  expect_rejected("POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 2000000\r\n\r\n", 413);
}
TEST_F(ProtocolErrors, ChunkedBodyOverTheLimitIs413) {
  expect_rejected("POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n200000\r\n", 413);
}
TEST_F(ProtocolErrors, UnknownExpectationIs417) {
  expect_rejected("POST /echo HTTP/1.1\r\nHost: a\r\nExpect: teapot\r\nContent-Length: 2\r\n\r\nhi", 417);
}
TEST_F(ProtocolErrors, BadPercentEncodingIs400) {
  expect_rejected("GET /a%zz HTTP/1.1\r\nHost: a\r\n\r\n", 400);
}
TEST_F(ProtocolErrors, EncodedNulIs400) { expect_rejected("GET /a%00b HTTP/1.1\r\nHost: a\r\n\r\n", 400); }

// Smuggling: the body of a rejected request is never parsed as a request.
TEST_F(ProtocolErrors, SmuggledRequestAfterAmbiguousFramingIsNeverServed) {
  Client c(server_.port());
  c.send(
      "POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 44\r\nTransfer-Encoding: chunked\r\n\r\n"
      "0\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: a\r\n\r\n");
  const auto reply = c.read_response();
  ASSERT_TRUE(reply.has_value());
  EXPECT_EQ(reply->status, 400);
  EXPECT_TRUE(c.closed_within(5s));
  EXPECT_EQ(c.pending().find("HTTP/1.1"), std::string::npos);  // no second response
}

}  // namespace
}  // namespace weft::test
