#include "http/error_page.hpp"

#include <gtest/gtest.h>

namespace {

using weft::http::error_page;
using weft::http::html_escape;

TEST(ErrorPage, NamesTheStatusInTheTitleAndHeading) {
  EXPECT_EQ(error_page(404),
            "<!DOCTYPE html><html><head><title>404 Not Found</title></head>"
            "<body><h1>404 Not Found</h1></body></html>\n");
}

TEST(ErrorPage, AddsTheDetailAsAParagraph) {
  EXPECT_EQ(error_page(400, "whitespace before colon"),
            "<!DOCTYPE html><html><head><title>400 Bad Request</title></head>"
            "<body><h1>400 Bad Request</h1><p>whitespace before colon</p></body></html>\n");
}

TEST(ErrorPage, EscapesTheDetail) {
  const std::string page = error_page(400, "<script>alert('x&y')</script>");
  EXPECT_EQ(page.find("<script>"), std::string::npos);
  EXPECT_NE(page.find("<p>&lt;script&gt;alert(&#39;x&amp;y&#39;)&lt;/script&gt;</p>"), std::string::npos);
}

TEST(ErrorPage, SaysUnknownForAnUnknownStatus) {
  EXPECT_NE(error_page(599).find("<title>599 Unknown</title>"), std::string::npos);
}

TEST(HtmlEscape, EscapesTheFiveSpecialCharactersAndNothingElse) {
  EXPECT_EQ(html_escape(R"(a&b<c>d"e'f)"), "a&amp;b&lt;c&gt;d&quot;e&#39;f");
  EXPECT_EQ(html_escape("plain /text/ \xC3\xA9"), "plain /text/ \xC3\xA9");
}

}  // namespace
