#include "http/response_writer.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "http/http_date.hpp"

namespace {

using weft::http::append_head;
using weft::http::HeadOptions;
using Fields = std::vector<std::pair<std::string, std::string>>;

constexpr std::time_t kRfcExampleTime = 784111777;
constexpr std::string_view kDate = "Date: Sun, 06 Nov 1994 08:49:37 GMT\r\n";

HeadOptions at_fixed_time() {
  HeadOptions options;
  options.now = kRfcExampleTime;
  return options;
}

std::string head(int status, const Fields& fields, std::uint64_t length, const HeadOptions& options) {
  std::string out;
  append_head(out, status, fields, length, options);
  return out;
}

TEST(AppendHead, WritesAnOkResponseWithABodyExactly) {
  HeadOptions options = at_fixed_time();
  options.server_name = "weft";
  const Fields fields{{"Content-Type", "text/plain; charset=utf-8"}};
  EXPECT_EQ(head(200, fields, 5, options),
            "HTTP/1.1 200 OK\r\n"
            "Date: Sun, 06 Nov 1994 08:49:37 GMT\r\n"
            "Server: weft\r\n"
            "Content-Type: text/plain; charset=utf-8\r\n"
            "Content-Length: 5\r\n"
            "\r\n");
}

TEST(AppendHead, AppendsToWhatTheBufferAlreadyHolds) {
  std::string out = "previous response";
  append_head(out, 404, {}, 0, at_fixed_time());
  EXPECT_EQ(out,
            "previous responseHTTP/1.1 404 Not Found\r\n" + std::string(kDate) + "Content-Length: 0\r\n\r\n");
}

TEST(AppendHead, WritesContentLengthZeroForAnEmptyBody) {
  EXPECT_EQ(head(200, {}, 0, at_fixed_time()),
            "HTTP/1.1 200 OK\r\n" + std::string(kDate) + "Content-Length: 0\r\n\r\n");
}

TEST(AppendHead, WritesNoContentLengthForNoContent) {
  EXPECT_EQ(head(204, {}, 0, at_fixed_time()), "HTTP/1.1 204 No Content\r\n" + std::string(kDate) + "\r\n");
}

TEST(AppendHead, WritesNoContentLengthForNotModifiedOrInterimResponses) {
  EXPECT_EQ(head(304, {{"ETag", "\"x\""}}, 10, at_fixed_time()),
            "HTTP/1.1 304 Not Modified\r\n" + std::string(kDate) + "ETag: \"x\"\r\n\r\n");
  EXPECT_EQ(head(103, {}, 0, at_fixed_time()).find("Content-Length"), std::string::npos);
}

TEST(AppendHead, WritesConnectionCloseWhenTheConnectionWillClose) {
  HeadOptions options = at_fixed_time();
  options.close = true;
  options.http10_keep_alive = true;  // close wins
  EXPECT_EQ(head(200, {}, 2, options),
            "HTTP/1.1 200 OK\r\n" + std::string(kDate) + "Content-Length: 2\r\nConnection: close\r\n\r\n");
}

TEST(AppendHead, WritesKeepAliveForAKeptHttp10Connection) {
  HeadOptions options = at_fixed_time();
  options.http10_keep_alive = true;
  EXPECT_EQ(head(200, {}, 2, options), "HTTP/1.1 200 OK\r\n" + std::string(kDate) +
                                           "Content-Length: 2\r\nConnection: keep-alive\r\n\r\n");
}

TEST(AppendHead, IgnoresTheHandlersFramingFields) {
  const Fields fields{{"content-length", "999"},
                      {"X-A", "1"},
                      {"Transfer-Encoding", "chunked"},
                      {"CONNECTION", "keep-alive"},
                      {"X-B", "2"}};
  EXPECT_EQ(head(200, fields, 3, at_fixed_time()),
            "HTTP/1.1 200 OK\r\n" + std::string(kDate) + "X-A: 1\r\nX-B: 2\r\nContent-Length: 3\r\n\r\n");
}

TEST(AppendHead, KeepsRepeatedFieldsInOrder) {
  const Fields fields{{"Set-Cookie", "a=1"}, {"Vary", "Accept"}, {"Set-Cookie", "b=2"}};
  EXPECT_EQ(head(200, fields, 0, at_fixed_time()),
            "HTTP/1.1 200 OK\r\n" + std::string(kDate) +
                "Set-Cookie: a=1\r\nVary: Accept\r\nSet-Cookie: b=2\r\n"
                "Content-Length: 0\r\n\r\n");
}

TEST(AppendHead, LetsTheHandlersDateAndServerReplaceTheServers) {
  HeadOptions options = at_fixed_time();
  options.server_name = "weft";
  const Fields fields{{"server", "app/2"}, {"Date", "Mon, 07 Nov 1994 00:00:00 GMT"}};
  EXPECT_EQ(
      head(200, fields, 0, options),
      "HTTP/1.1 200 OK\r\nserver: app/2\r\nDate: Mon, 07 Nov 1994 00:00:00 GMT\r\nContent-Length: 0\r\n\r\n");
}

TEST(AppendHead, AddsTheDefaultContentTypeOnlyToABodyWithoutOne) {
  HeadOptions options = at_fixed_time();
  options.default_content_type = weft::http::kDefaultContentType;
  EXPECT_EQ(head(200, {}, 4, options),
            "HTTP/1.1 200 OK\r\n" + std::string(kDate) +
                "Content-Type: application/octet-stream\r\nContent-Length: 4\r\n\r\n");
  EXPECT_EQ(head(200, {}, 0, options),
            "HTTP/1.1 200 OK\r\n" + std::string(kDate) + "Content-Length: 0\r\n\r\n");
  EXPECT_EQ(
      head(200, {{"content-type", "image/png"}}, 4, options),
      "HTTP/1.1 200 OK\r\n" + std::string(kDate) + "content-type: image/png\r\nContent-Length: 4\r\n\r\n");
}

TEST(AppendHead, WritesTheLargestContentLength) {
  EXPECT_NE(head(200, {}, std::numeric_limits<std::uint64_t>::max(), at_fixed_time())
                .find("Content-Length: 18446744073709551615\r\n"),
            std::string::npos);
}

TEST(AppendHead, WritesAnUnknownStatusWithReasonUnknown) {
  EXPECT_TRUE(head(299, {}, 0, at_fixed_time()).starts_with("HTTP/1.1 299 Unknown\r\n"));
}

TEST(AppendHead, WritesAnInvalidStatusAs500) {
  EXPECT_TRUE(head(42, {}, 0, at_fixed_time()).starts_with("HTTP/1.1 500 Internal Server Error\r\n"));
  EXPECT_TRUE(head(600, {}, 0, at_fixed_time()).starts_with("HTTP/1.1 500 Internal Server Error\r\n"));
  EXPECT_TRUE(head(-204, {}, 0, at_fixed_time()).starts_with("HTTP/1.1 500 Internal Server Error\r\n"));
}

TEST(AppendHead, ReadsTheClockWhenNoTimeIsGiven) {
  const std::time_t before = std::time(nullptr);
  const std::string out = head(200, {}, 0, HeadOptions{});
  const std::time_t after = std::time(nullptr);
  const std::string_view status_line = "HTTP/1.1 200 OK\r\n";
  const std::string date(out.substr(status_line.size(), kDate.size()));
  EXPECT_TRUE(date == weft::http::date_line(before) || date == weft::http::date_line(after)) << date;
}

TEST(ContinueResponse, IsAnInterimResponseWithNoFields) {
  EXPECT_EQ(weft::http::kContinueResponse, "HTTP/1.1 100 Continue\r\n\r\n");
}

}  // namespace
