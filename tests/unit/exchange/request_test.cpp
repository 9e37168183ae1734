#include "weft/request.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace {

using weft::Request;

const std::string kRaw =
    "POST /a%20b?x=1&y=2 HTTP/1.0\r\n"
    "Host: example.com\r\n"
    "Content-Type: text/plain\r\n"
    "\r\n"
    "hello";

// The view of the first `text` inside `buffer` (not a copy of `text`).
std::string_view slice(std::string_view buffer, std::string_view text) {
  return buffer.substr(buffer.find(text), text.size());
}

// A request whose views all point into `buffer` (laid out as kRaw), as the server builds them
// from its read buffer.
Request from_buffer(const std::string& buffer) {
  const std::string_view b = buffer;
  Request::Parts parts;
  parts.method = slice(b, "POST");
  parts.target = slice(b, "/a%20b?x=1&y=2");
  parts.path_decoded = "/a b";  // decoded elsewhere; copied too
  parts.query = slice(b, "x=1&y=2");
  parts.version_minor = 0;
  parts.headers = {{slice(b, "Host"), slice(b, "example.com")},
                   {slice(b, "Content-Type"), slice(b, "text/plain")}};
  parts.host = slice(b, "example.com");
  parts.body = slice(b, "hello");
  parts.peer = "127.0.0.1:50312";
  return Request::from_parts(parts);
}

TEST(Request, FromPartsKeepsEveryPart) {
  const Request request = from_buffer(kRaw);
  EXPECT_EQ(request.method(), "POST");
  EXPECT_EQ(request.target(), "/a%20b?x=1&y=2");
  EXPECT_EQ(request.path(), "/a b");
  EXPECT_EQ(request.query(), "x=1&y=2");
  EXPECT_EQ(request.version_minor(), 0);
  EXPECT_EQ(request.host(), "example.com");
  EXPECT_EQ(request.body(), "hello");
  EXPECT_EQ(request.peer(), "127.0.0.1:50312");
  ASSERT_EQ(request.headers().size(), 2u);
  EXPECT_EQ(request.headers()[1].name, "Content-Type");
  EXPECT_EQ(request.headers()[1].value, "text/plain");
}

TEST(Request, SurvivesTheSourceBufferBeingOverwrittenAndFreed) {
  auto buffer = std::make_unique<std::string>(kRaw);
  const Request request = from_buffer(*buffer);
  std::fill(buffer->begin(), buffer->end(), 'X');
  buffer.reset();
  EXPECT_EQ(request.method(), "POST");
  EXPECT_EQ(request.target(), "/a%20b?x=1&y=2");
  EXPECT_EQ(request.header("host"), "example.com");
  EXPECT_EQ(request.body(), "hello");
}

TEST(Request, CopiesShareTheBytesAndOutliveTheOriginal) {
  auto original = std::make_unique<Request>(from_buffer(kRaw));
  const Request copy = *original;
  EXPECT_EQ(copy.body().data(), original->body().data());  // shared, not copied again
  original.reset();
  EXPECT_EQ(copy.body(), "hello");
  EXPECT_EQ(copy.headers()[0].value, "example.com");
}

TEST(Request, WorksWhenEverythingFitsTheSmallStringBuffer) {
  Request::Parts parts;
  parts.method = "GET";
  parts.path_decoded = "/";
  parts.target = "/";
  Request request = Request::from_parts(parts);
  const Request moved = std::move(request);
  EXPECT_EQ(moved.method(), "GET");
  EXPECT_EQ(moved.target(), "/");
  EXPECT_EQ(moved.path(), "/");
}

TEST(Request, DefaultIsEmpty) {
  const Request request;
  EXPECT_TRUE(request.method().empty());
  EXPECT_TRUE(request.headers().empty());
  EXPECT_EQ(request.header("Host"), std::nullopt);
  EXPECT_EQ(request.query_param("a"), std::nullopt);
  EXPECT_TRUE(request.param("a").empty());
}

TEST(Request, HeaderLookupIgnoresCase) {
  const Request request = from_buffer(kRaw);
  EXPECT_EQ(request.header("content-type"), "text/plain");
  EXPECT_EQ(request.header("CONTENT-TYPE"), "text/plain");
  EXPECT_EQ(request.header("Content-Typ"), std::nullopt);
  EXPECT_EQ(request.header("Accept"), std::nullopt);
}

TEST(Request, HeaderReturnsTheFirstOfRepeatedFields) {
  Request::Parts parts;
  parts.headers = {{"Accept", "a"}, {"accept", "b"}};
  EXPECT_EQ(Request::from_parts(parts).header("ACCEPT"), "a");
}

Request with_query(std::string_view query) {
  Request::Parts parts;
  parts.query = query;
  return Request::from_parts(parts);
}

TEST(RequestQueryParam, FindsAParameterAnywhereInTheQuery) {
  const Request request = with_query("a=1&b=2&c=3");
  EXPECT_EQ(request.query_param("a"), "1");
  EXPECT_EQ(request.query_param("b"), "2");
  EXPECT_EQ(request.query_param("c"), "3");
  EXPECT_EQ(request.query_param("d"), std::nullopt);
}

TEST(RequestQueryParam, ReturnsTheFirstOfRepeatedNames) {
  EXPECT_EQ(with_query("a=1&a=2").query_param("a"), "1");
}

TEST(RequestQueryParam, DecodesPercentEscapesAndPlus) {
  EXPECT_EQ(with_query("q=caf%C3%A9+au+lait%21").query_param("q"), "caf\xC3\xA9 au lait!");
  EXPECT_EQ(with_query("sum=1%2B1").query_param("sum"), "1+1");
}

TEST(RequestQueryParam, DecodesTheNameToo) {
  EXPECT_EQ(with_query("first+name=Ada&last%20name=Lovelace").query_param("first name"), "Ada");
  EXPECT_EQ(with_query("first+name=Ada&last%20name=Lovelace").query_param("last name"), "Lovelace");
}

TEST(RequestQueryParam, KeepsBadEscapesLiterally) {
  EXPECT_EQ(with_query("p=100%&q=%G1%4").query_param("p"), "100%");
  EXPECT_EQ(with_query("p=100%&q=%G1%4").query_param("q"), "%G1%4");
}

TEST(RequestQueryParam, GivesAnEmptyValueForANameWithoutEquals) {
  EXPECT_EQ(with_query("flag&x=1").query_param("flag"), "");
  EXPECT_EQ(with_query("x=&y=1").query_param("x"), "");
}

TEST(RequestQueryParam, SplitsOnTheFirstEqualsOnly) {
  EXPECT_EQ(with_query("eq=a=b").query_param("eq"), "a=b");
}

TEST(RequestQueryParam, SkipsEmptyPairs) { EXPECT_EQ(with_query("&&a=1&").query_param("a"), "1"); }

TEST(RequestQueryParam, DoesNotMatchAPrefixOfAName) {
  EXPECT_EQ(with_query("ab=1").query_param("a"), std::nullopt);
  EXPECT_EQ(with_query("a=1").query_param("ab"), std::nullopt);
}

TEST(RequestParam, ReturnsTheRouteParameterOrEmpty) {
  Request request = from_buffer(kRaw);
  request.set_params({{"name", "Ada"}, {"file", "css/a.css"}});
  EXPECT_EQ(request.param("name"), "Ada");
  EXPECT_EQ(request.param("file"), "css/a.css");
  EXPECT_EQ(request.param("Name"), "");
  EXPECT_EQ(request.param("other"), "");
}

}  // namespace
