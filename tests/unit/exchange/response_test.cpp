#include "weft/response.hpp"

#include <gtest/gtest.h>

#include <stdexcept>
#include <string>

namespace {

using weft::Response;

TEST(Response, DefaultsToOkWithNoBody) {
  const Response response;
  EXPECT_EQ(response.status(), 200);
  EXPECT_TRUE(response.body().empty());
  EXPECT_TRUE(response.headers().empty());
  EXPECT_TRUE(response.file_path().empty());
}

TEST(Response, TextSetsThePlainTextType) {
  const Response response = Response::text(201, "made");
  EXPECT_EQ(response.status(), 201);
  EXPECT_EQ(response.body(), "made");
  EXPECT_EQ(response.header("Content-Type"), "text/plain; charset=utf-8");
}

TEST(Response, HtmlSetsTheHtmlType) {
  EXPECT_EQ(Response::html(200, "<p>").header("content-type"), "text/html; charset=utf-8");
}

TEST(Response, BytesSetsTheGivenType) {
  const Response response = Response::bytes(200, std::string("\x89PNG", 4), "image/png");
  EXPECT_EQ(response.header("Content-Type"), "image/png");
  EXPECT_EQ(response.body().size(), 4u);
}

TEST(Response, BytesRefusesAContentTypeWithANewline) {
  EXPECT_THROW((void)Response::bytes(200, "x", "text/plain\r\nX-Injected: 1"), std::invalid_argument);
}

TEST(Response, FileKeepsThePathAndGuessesTheType) {
  const Response response = Response::file("/srv/site/index.html");
  EXPECT_EQ(response.status(), 200);
  EXPECT_EQ(response.file_path(), "/srv/site/index.html");
  EXPECT_TRUE(response.body().empty());
  EXPECT_EQ(response.header("Content-Type"), "text/html; charset=utf-8");
  EXPECT_EQ(Response::file("/srv/data.bin").header("Content-Type"), "application/octet-stream");
}

TEST(Response, FileUsesAGivenType) {
  EXPECT_EQ(Response::file("/srv/report", "application/pdf").header("Content-Type"), "application/pdf");
}

TEST(Response, SetBodyReplacesAFile) {
  Response response = Response::file("/srv/a.txt");
  response.set_body("inline");
  EXPECT_TRUE(response.file_path().empty());
  EXPECT_EQ(response.body(), "inline");
}

TEST(Response, RedirectSetsStatusAndLocation) {
  for (const int status : {301, 302, 303, 307, 308}) {
    const Response response = Response::redirect(status, "/new?x=1");
    EXPECT_EQ(response.status(), status);
    EXPECT_EQ(response.header("Location"), "/new?x=1");
  }
}

TEST(Response, RedirectRefusesANonRedirectStatus) {
  for (const int status : {200, 300, 304, 305, 306, 309, 404}) {
    EXPECT_THROW((void)Response::redirect(status, "/x"), std::invalid_argument) << status;
  }
}

TEST(Response, RedirectRefusesALocationThatSplitsTheResponse) {
  EXPECT_THROW((void)Response::redirect(302, "/x\r\nSet-Cookie: a=1"), std::invalid_argument);
}

TEST(Response, AddHeaderKeepsOrderAndRepeats) {
  Response response;
  response.add_header("Set-Cookie", "a=1").add_header("X-Other", "o").add_header("set-cookie", "b=2");
  ASSERT_EQ(response.headers().size(), 3u);
  EXPECT_EQ(response.headers()[0], (std::pair<std::string, std::string>("Set-Cookie", "a=1")));
  EXPECT_EQ(response.headers()[2], (std::pair<std::string, std::string>("set-cookie", "b=2")));
  EXPECT_EQ(response.header("SET-COOKIE"), "a=1");
}

TEST(Response, AddHeaderRefusesResponseSplitting) {
  Response response;
  EXPECT_THROW(response.add_header("X-A\r\nInjected: 1", "1"), std::invalid_argument);
  EXPECT_THROW(response.add_header("X-A", "1\r\nInjected: 1"), std::invalid_argument);
  EXPECT_THROW(response.add_header("X-A", "1\nInjected: 1"), std::invalid_argument);
  EXPECT_THROW(response.add_header("X-A", "1\rInjected: 1"), std::invalid_argument);
  EXPECT_THROW(response.add_header("X-A", std::string_view("1\0", 2)), std::invalid_argument);
  EXPECT_TRUE(response.headers().empty());
}

TEST(Response, AddHeaderRefusesANameThatIsNotAToken) {
  Response response;
  for (const std::string_view name : {"", "X A", "X:A", "X-A:", "(X)", "X\"A", "X/A", "X\tA", "\xC3\xA9"}) {
    EXPECT_THROW(response.add_header(name, "v"), std::invalid_argument) << name;
  }
  EXPECT_NO_THROW(response.add_header("!#$%&'*+-.^_`|~09azAZ", "v"));
}

TEST(Response, AddHeaderAcceptsEmptyValuesTabsAndObsText) {
  Response response;
  EXPECT_NO_THROW(response.add_header("X-Empty", ""));
  EXPECT_NO_THROW(response.add_header("X-Tab", "a\tb"));
  EXPECT_NO_THROW(response.add_header("X-Utf8", "caf\xC3\xA9"));
}

TEST(Response, SetHeaderReplacesEveryFieldOfThatNameInPlace) {
  Response response;
  response.add_header("A", "1").add_header("Cache-Control", "no-cache").add_header("B", "2");
  response.add_header("cache-control", "private");
  response.set_header("CACHE-CONTROL", "max-age=60");
  ASSERT_EQ(response.headers().size(), 3u);
  EXPECT_EQ(response.headers()[0].first, "A");
  EXPECT_EQ(response.headers()[1], (std::pair<std::string, std::string>("CACHE-CONTROL", "max-age=60")));
  EXPECT_EQ(response.headers()[2].first, "B");
}

TEST(Response, SetHeaderAddsAMissingField) {
  Response response;
  response.set_header("X-New", "1");
  EXPECT_EQ(response.header("x-new"), "1");
}

TEST(Response, SetHeaderRefusesResponseSplittingAndKeepsTheOldValue) {
  Response response;
  response.set_header("X-A", "old");
  EXPECT_THROW(response.set_header("X-A", "new\r\nInjected: 1"), std::invalid_argument);
  EXPECT_THROW(response.set_header("X-A\r\nInjected: 1", "v"), std::invalid_argument);
  EXPECT_EQ(response.header("X-A"), "old");
  EXPECT_EQ(response.headers().size(), 1u);
}

TEST(Response, SetHeaderAcceptsViewsOfItsOwnFields) {
  Response response;
  response.add_header("X-A", "1").add_header("X-B", "2").add_header("x-a", "3");
  const std::string_view later_name = response.headers()[2].first;  // "x-a", removed below
  response.set_header(later_name, response.headers()[1].second);
  ASSERT_EQ(response.headers().size(), 2u);
  EXPECT_EQ(response.headers()[0], (std::pair<std::string, std::string>("x-a", "2")));
  EXPECT_EQ(response.headers()[1].first, "X-B");
}

TEST(Response, HeaderOfAnAbsentFieldIsEmpty) { EXPECT_EQ(Response().header("Content-Type"), ""); }

TEST(ReasonPhrase, NamesTheStandardStatuses) {
  EXPECT_EQ(weft::reason_phrase(100), "Continue");
  EXPECT_EQ(weft::reason_phrase(200), "OK");
  EXPECT_EQ(weft::reason_phrase(204), "No Content");
  EXPECT_EQ(weft::reason_phrase(206), "Partial Content");
  EXPECT_EQ(weft::reason_phrase(304), "Not Modified");
  EXPECT_EQ(weft::reason_phrase(308), "Permanent Redirect");
  EXPECT_EQ(weft::reason_phrase(404), "Not Found");
  EXPECT_EQ(weft::reason_phrase(413), "Content Too Large");
  EXPECT_EQ(weft::reason_phrase(414), "URI Too Long");
  EXPECT_EQ(weft::reason_phrase(422), "Unprocessable Content");
  EXPECT_EQ(weft::reason_phrase(429), "Too Many Requests");
  EXPECT_EQ(weft::reason_phrase(431), "Request Header Fields Too Large");
  EXPECT_EQ(weft::reason_phrase(503), "Service Unavailable");
  EXPECT_EQ(weft::reason_phrase(505), "HTTP Version Not Supported");
}

TEST(ReasonPhrase, HasAPhraseForEveryRfc9110Status) {
  for (const int status : {100, 101, 200, 201, 202, 203, 204, 205, 206, 300, 301, 302, 303, 304, 305,
                           307, 308, 400, 401, 402, 403, 404, 405, 406, 407, 408, 409, 410, 411, 412,
                           413, 414, 415, 416, 417, 421, 422, 426, 500, 501, 502, 503, 504, 505}) {
    EXPECT_NE(weft::reason_phrase(status), "Unknown") << status;
  }
}

TEST(ReasonPhrase, SaysUnknownForUnassignedAndUnusedCodes) {
  for (const int status : {0, -1, 99, 102, 199, 207, 299, 306, 418, 599, 600, 1000}) {
    EXPECT_EQ(weft::reason_phrase(status), "Unknown") << status;
  }
}

}  // namespace
