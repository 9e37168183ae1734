// Directory listings against the running binary: HTML and JSON, names that need escaping, links
// that really lead to the files.

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "integration/static/static_fixture.hpp"

namespace weft::test {
namespace {

// Names a listing must show as they are and link correctly.
const std::vector<std::string>& tricky_names() {
  static const std::vector<std::string> names{"a b.txt",
                                              "<script>alert(1)<",
                                              "x&y=z",
                                              "#hash",
                                              "100%.txt",
                                              "quote\"d'.txt",
                                              "\xC3\xA9t\xC3\xA9 \xE2\x9C\x93.txt",
                                              "semi;colon",
                                              "colon:name",
                                              "q?mark",
                                              "plus+sign",
                                              "back\\slash"};
  return names;
}

class Listings : public SharedTreeServer<Listings> {
 protected:
  static void SetUpTestSuite() {
    tree_ = new StaticTree();
    for (const auto& name : tricky_names()) tree_->write("dir/" + name, "content of " + name);
    tree_->write("dir/sub dir/inner.txt", "inner");
    tree_->write("dir/.hidden", "hidden");
    tree_->write("dir/big.bin", std::string(1536, 'x'));
    tree_->symlink("../../outside/secret.txt", "dir/out-link");
    tree_->symlink("big.bin", "dir/in-link");
    tree_->write("dir/sub dir/deeper/x", "x");
    server_ = new WeftServer(serve_args(*tree_));
  }
};

std::vector<std::string> hrefs(const std::string& html) {
  std::vector<std::string> out;
  for (std::size_t at = html.find("<td class=\"name\"><a href=\""); at != std::string::npos;
       at = html.find("<td class=\"name\"><a href=\"", at + 1)) {
    const std::size_t start = at + 26;
    out.push_back(html.substr(start, html.find('"', start) - start));
  }
  return out;
}

TEST_F(Listings, HtmlPageEscapesNamesAndEncodesLinks) {
  const auto r = get(port(), "/dir/");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->header("Content-Type"), "text/html; charset=utf-8");
  EXPECT_EQ(r->header("X-Content-Type-Options"), "nosniff");
  const std::string& html = r->body;
  EXPECT_EQ(html.find("<script>alert"), std::string::npos) << "a name was not escaped";
  EXPECT_NE(html.find("&lt;script&gt;alert(1)&lt;"), std::string::npos);
  EXPECT_NE(html.find("x&amp;y=z"), std::string::npos);
  EXPECT_NE(html.find("quote&quot;d&#39;.txt"), std::string::npos);
  EXPECT_NE(html.find("\xC3\xA9t\xC3\xA9 \xE2\x9C\x93.txt"), std::string::npos);
  EXPECT_NE(html.find("href=\"%23hash\""), std::string::npos);
  EXPECT_NE(html.find("href=\"100%25.txt\""), std::string::npos);
  EXPECT_NE(html.find("href=\"sub%20dir/\""), std::string::npos);
  EXPECT_NE(html.find("href=\"../\""), std::string::npos);  // parent link
  EXPECT_NE(html.find("1.5 KiB"), std::string::npos);
  EXPECT_NE(html.find("in-link"), std::string::npos);   // a link inside is listed
  EXPECT_EQ(html.find("out-link"), std::string::npos);  // one that leads out is not
  EXPECT_EQ(html.find(".hidden"), std::string::npos);
}

TEST_F(Listings, EveryLinkLeadsToItsFile) {
  const auto r = get(port(), "/dir/");
  ASSERT_TRUE(r);
  std::size_t files = 0;
  for (const std::string& href : hrefs(r->body)) {
    if (href == "../" || href.back() == '/') continue;
    const auto file = get(port(), "/dir/" + href);
    ASSERT_TRUE(file) << href;
    EXPECT_EQ(file->status, 200) << href;
    if (file->body.rfind("content of ", 0) == 0) ++files;
  }
  EXPECT_EQ(files, tricky_names().size());
  const auto sub = get(port(), "/dir/sub%20dir/");
  ASSERT_TRUE(sub);
  EXPECT_NE(sub->body.find("href=\"inner.txt\""), std::string::npos);
  EXPECT_NE(sub->body.find("href=\"deeper/\""), std::string::npos);
}

TEST_F(Listings, JsonForAcceptOrFormatQuery) {
  for (const auto& [target, headers] : std::vector<std::pair<std::string, std::vector<std::string>>>{
           {"/dir/", {"Accept: application/json"}}, {"/dir/?format=json", {}}}) {
    const auto r = get(port(), target, headers);
    ASSERT_TRUE(r) << target;
    EXPECT_EQ(r->status, 200);
    EXPECT_EQ(r->header("Content-Type"), "application/json") << target;
    EXPECT_EQ(r->header("Vary"), "Accept");
    EXPECT_EQ(r->body.rfind("{\"path\":\"/dir/\",\"truncated\":false,\"entries\":[", 0), 0U) << r->body;
    EXPECT_NE(r->body.find("{\"name\":\"sub dir\",\"href\":\"sub%20dir/\",\"type\":\"directory\""),
              std::string::npos);
    EXPECT_NE(r->body.find(
                  "\"name\":\"quote\\\"d'.txt\",\"href\":\"quote%22d%27.txt\",\"type\":\"file\",\"size\":23"),
              std::string::npos)
        << r->body;
    EXPECT_NE(r->body.find("\"name\":\"big.bin\",\"href\":\"big.bin\",\"type\":\"file\",\"size\":1536"),
              std::string::npos);
    EXPECT_EQ(r->body.find("out-link"), std::string::npos);
  }
  const auto browser = get(port(), "/dir/", {"Accept: text/html,application/xhtml+xml,*/*;q=0.8"});
  ASSERT_TRUE(browser);
  EXPECT_EQ(browser->header("Content-Type"), "text/html; charset=utf-8");
}

TEST_F(Listings, RootListingHasNoParentAndHeadWorks) {
  StaticTree tree;
  tree.write("only.txt", "1");
  const WeftServer server(serve_args(tree));
  const auto r = get(server.port(), "/");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body.find("href=\"../\">../</a>"), std::string::npos);
  EXPECT_NE(r->body.find("href=\"only.txt\""), std::string::npos);
  const auto head = request(server.port(), "HEAD", "/");
  ASSERT_TRUE(head);
  EXPECT_EQ(head->status, 200);
  EXPECT_EQ(head->header("Content-Length"), std::to_string(r->body.size()));
  EXPECT_EQ(head->body, "");
}

TEST_F(Listings, HiddenFlagListsDotFiles) {
  const WeftServer hidden(serve_args(*tree_, {"--hidden"}));
  const auto r = get(hidden.port(), "/dir/");
  ASSERT_TRUE(r);
  EXPECT_NE(r->body.find("href=\".hidden\""), std::string::npos);
}

}  // namespace
}  // namespace weft::test
