#include "files/listing.hpp"

#include <gtest/gtest.h>

#include <string>

namespace {

using weft::files::human_size;
using weft::files::Listing;
using weft::files::ListingEntry;
using weft::files::render_listing_html;
using weft::files::render_listing_json;
using weft::files::sanitize_utf8;

Listing sample() {
  Listing l;
  l.url_path = "/docs/<x> & \"y\"/";
  l.has_parent = true;
  l.entries.push_back(ListingEntry{"sub dir", true, 0, 0});
  l.entries.push_back(ListingEntry{"a <b> & 'c' \"d\" #1 %41?.txt", false, 1536, 784111777});
  l.entries.push_back(ListingEntry{"\xC3\xA9t\xC3\xA9.txt", false, 3, 0});
  l.entries.push_back(ListingEntry{"bad\xFFname", false, 1, 0});
  return l;
}

TEST(ListingHtml, EscapesNamesInTextAndEncodesThemInLinks) {
  const std::string html = render_listing_html(sample());
  EXPECT_NE(html.find("<a href=\"a%20%3Cb%3E%20%26%20%27c%27%20%22d%22%20%231%20%2541%3F.txt\">"
                      "a &lt;b&gt; &amp; &#39;c&#39; &quot;d&quot; #1 %41?.txt</a>"),
            std::string::npos)
      << html;
  EXPECT_NE(html.find("<a href=\"sub%20dir/\">sub dir/</a>"), std::string::npos);
  EXPECT_NE(html.find("<a href=\"%C3%A9t%C3%A9.txt\">\xC3\xA9t\xC3\xA9.txt</a>"), std::string::npos);
  EXPECT_NE(html.find("<a href=\"bad%FFname\">bad\xEF\xBF\xBDname</a>"), std::string::npos);
  EXPECT_EQ(html.find("<b>"), std::string::npos);
  EXPECT_EQ(html.find("<x>"), std::string::npos);
  EXPECT_NE(html.find("<title>Index of /docs/&lt;x&gt; &amp; &quot;y&quot;/</title>"), std::string::npos);
}

TEST(ListingHtml, HasParentLinkSizesDarkModeAndNoExternalAssets) {
  const std::string html = render_listing_html(sample());
  EXPECT_NE(html.find("<a href=\"../\">../</a>"), std::string::npos);
  EXPECT_NE(html.find("1.5 KiB"), std::string::npos);
  EXPECT_NE(html.find("prefers-color-scheme:dark"), std::string::npos);
  EXPECT_NE(html.find("name=\"viewport\""), std::string::npos);
  EXPECT_NE(html.find("1994-11-06 08:49"), std::string::npos);
  EXPECT_EQ(html.find("http://"), std::string::npos);
  EXPECT_EQ(html.find("https://"), std::string::npos);
  EXPECT_EQ(html.find(" src="), std::string::npos);
  Listing root = sample();
  root.has_parent = false;
  EXPECT_EQ(render_listing_html(root).find("href=\"../\">../</a>"), std::string::npos);
}

TEST(ListingJson, IsValidUtf8WithEncodedHrefs) {
  const std::string json = render_listing_json(sample());
  EXPECT_NE(
      json.find("{\"name\":\"a <b> & 'c' \\\"d\\\" #1 %41?.txt\","
                "\"href\":\"a%20%3Cb%3E%20%26%20%27c%27%20%22d%22%20%231%20%2541%3F.txt\","
                "\"type\":\"file\",\"size\":1536,\"mtime\":784111777,\"modified\":\"1994-11-06T08:49:37Z\"}"),
      std::string::npos)
      << json;
  EXPECT_NE(json.find("\"name\":\"sub dir\",\"href\":\"sub%20dir/\",\"type\":\"directory\""),
            std::string::npos);
  EXPECT_NE(json.find("\"name\":\"bad\xEF\xBF\xBDname\",\"href\":\"bad%FFname\""), std::string::npos);
  EXPECT_EQ(json.rfind("{\"path\":\"/docs/<x> & \\\"y\\\"/\",\"truncated\":false,\"entries\":[", 0), 0U);
}

TEST(SanitizeUtf8, ReplacesEveryInvalidSequence) {
  EXPECT_EQ(sanitize_utf8("plain"), "plain");
  EXPECT_EQ(sanitize_utf8("\xF0\x9F\x99\x82"), "\xF0\x9F\x99\x82");                  // U+1F642
  EXPECT_EQ(sanitize_utf8("\xC0\xAE"), "\xEF\xBF\xBD\xEF\xBF\xBD");                  // overlong
  EXPECT_EQ(sanitize_utf8("\xED\xA0\x80"), "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");  // surrogate
  EXPECT_EQ(sanitize_utf8("a\xE2\x82"), "a\xEF\xBF\xBD\xEF\xBF\xBD");                // truncated
}

TEST(HumanSize, UsesBinaryUnits) {
  EXPECT_EQ(human_size(0), "0 B");
  EXPECT_EQ(human_size(1023), "1023 B");
  EXPECT_EQ(human_size(1024), "1.0 KiB");
  EXPECT_EQ(human_size(15 * 1024), "15 KiB");
  EXPECT_EQ(human_size(1536ULL * 1024 * 1024), "1.5 GiB");
}

}  // namespace
