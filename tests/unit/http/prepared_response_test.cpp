#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

#include "http/response_writer.hpp"

namespace {

using weft::http::HeadOptions;
using Fields = std::vector<std::pair<std::string, std::string>>;

// A prepared response must put exactly the bytes on the wire that
// append_head() writes for the same response and connection state.
void expect_same_bytes(int status, const Fields& fields, const std::string& body, std::string_view server) {
  const auto prepared = weft::http::prepare_response(status, fields, body, server);
  for (const bool close : {false, true}) {
    for (const bool http10 : {false, true}) {
      HeadOptions options;
      options.close = close;
      options.http10_keep_alive = http10;
      options.server_name = server;
      options.now = 1'700'000'000;
      std::string direct;
      weft::http::append_head(direct, status, fields, body.size(), options);
      std::string fast = "prefix";
      weft::http::append_prepared_head(fast, prepared, options);
      EXPECT_EQ(fast, "prefix" + direct) << status << " close=" << close << " http10=" << http10;
    }
  }
  EXPECT_EQ(prepared.body, body);
}

TEST(PreparedResponse, WritesTheSameHeadAsAppendHead) {
  expect_same_bytes(200, {{"Content-Type", "text/html; charset=utf-8"}}, "<p>hi</p>", "weft");
  expect_same_bytes(404, {{"Content-Type", "text/html"}, {"X-A", "1"}, {"X-A", "2"}}, "gone", "");
  expect_same_bytes(204, {}, "", "weft");
  expect_same_bytes(301, {{"Location", "/there/"}}, "", "weft");
}

TEST(PreparedResponse, KeepsTheResponsesOwnDateAndDropsFramingFields) {
  const Fields fields{
      {"Date", "Mon, 01 Jan 2024 00:00:00 GMT"}, {"Content-Length", "999"}, {"Connection", "x"}};
  expect_same_bytes(200, fields, "abc", "weft");
  const auto prepared = weft::http::prepare_response(200, fields, "abc", "weft");
  EXPECT_TRUE(prepared.own_date);
  EXPECT_EQ(prepared.fields.find("999"), std::string::npos);
  EXPECT_NE(prepared.fields.find("Content-Length: 3\r\n"), std::string::npos);
}

}  // namespace
