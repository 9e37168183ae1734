// Conditional requests against the running binary: ETag / Last-Modified, 304 and 412, and the
// precedence of RFC 9110 13.2.2.

#include <gtest/gtest.h>

#include <string>
#include <thread>

#include "integration/static/static_fixture.hpp"

namespace weft::test {
namespace {

constexpr long kMtime = 1'600'000'000;  // Sun, 13 Sep 2020 12:26:40 GMT
constexpr const char* kLastModified = "Sun, 13 Sep 2020 12:26:40 GMT";
constexpr const char* kBefore = "Sun, 13 Sep 2020 12:26:39 GMT";
constexpr const char* kAfter = "Sun, 13 Sep 2020 12:26:41 GMT";

class Validators : public SharedTreeServer<Validators> {
 protected:
  static void SetUpTestSuite() {
    tree_ = new StaticTree();
    tree_->write("f.txt", "0123456789");
    tree_->set_mtime("f.txt", kMtime);
    server_ = new WeftServer(serve_args(*tree_, {"--cache-control", "max-age=5"}));
    const auto first = get(server_->port(), "/f.txt");
    etag_ = first && first->header("ETag") ? *first->header("ETag") : std::string();
  }
  static int status(const std::vector<std::string>& headers, const char* method = "GET") {
    const auto r = request(server_->port(), method, "/f.txt", headers);
    return r ? r->status : -1;
  }
  static std::string etag_;
};
std::string Validators::etag_;

TEST_F(Validators, SendsStrongEtagAndLastModified) {
  ASSERT_FALSE(etag_.empty());
  EXPECT_EQ(etag_.front(), '"');
  EXPECT_EQ(etag_.back(), '"');
  const auto r = get(server_->port(), "/f.txt");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->header("Last-Modified"), kLastModified);
  EXPECT_EQ(r->header("ETag"), etag_);  // stable between requests
}

TEST_F(Validators, IfNoneMatchGives304WithValidatorsAndNoBody) {
  Client client(server_->port());
  client.send(make_request("GET", "/f.txt", {"If-None-Match: " + etag_}) +
              make_request("GET", "/f.txt", {"Connection: close"}));
  const auto r = client.read_response();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 304);
  EXPECT_EQ(r->header("ETag"), etag_);
  EXPECT_EQ(r->header("Last-Modified"), kLastModified);
  EXPECT_EQ(r->header("Cache-Control"), "max-age=5");
  EXPECT_FALSE(r->header("Content-Length"));
  EXPECT_EQ(r->body, "");
  const auto next = client.read_response();  // the 304 carried no body: framing intact
  ASSERT_TRUE(next) << client.pending();
  EXPECT_EQ(next->body, "0123456789");
}

TEST_F(Validators, IfNoneMatchUsesWeakComparisonListsAndStar) {
  EXPECT_EQ(status({"If-None-Match: W/" + etag_}), 304);
  EXPECT_EQ(status({"If-None-Match: \"nope\", " + etag_}), 304);
  EXPECT_EQ(status({"If-None-Match: \"nope\"", "If-None-Match: " + etag_}), 304);  // two field lines
  EXPECT_EQ(status({"If-None-Match: *"}), 304);
  EXPECT_EQ(status({"If-None-Match: \"nope\""}), 200);
  EXPECT_EQ(status({"If-None-Match: " + etag_}, "HEAD"), 304);
}

TEST_F(Validators, IfModifiedSince) {
  EXPECT_EQ(status({std::string("If-Modified-Since: ") + kLastModified}), 304);
  EXPECT_EQ(status({std::string("If-Modified-Since: ") + kAfter}), 304);
  EXPECT_EQ(status({std::string("If-Modified-Since: ") + kBefore}), 200);
  EXPECT_EQ(status({"If-Modified-Since: Sunday, 13-Sep-20 12:26:40 GMT"}), 304);  // rfc850
  EXPECT_EQ(status({"If-Modified-Since: Sun Sep 13 12:26:40 2020"}), 304);        // asctime
  EXPECT_EQ(status({"If-Modified-Since: not a date"}), 200);
}

TEST_F(Validators, IfMatchAndIfUnmodifiedSinceGive412) {
  EXPECT_EQ(status({"If-Match: \"nope\""}), 412);
  EXPECT_EQ(status({"If-Match: W/" + etag_}), 412);  // strong comparison
  EXPECT_EQ(status({"If-Match: " + etag_}), 200);
  EXPECT_EQ(status({"If-Match: *"}), 200);
  EXPECT_EQ(status({std::string("If-Unmodified-Since: ") + kBefore}), 412);
  EXPECT_EQ(status({std::string("If-Unmodified-Since: ") + kLastModified}), 200);
}

TEST_F(Validators, PrecedenceOfRfc9110Section13_2_2) {
  // 1. If-Match false wins over everything.
  EXPECT_EQ(status({"If-Match: \"nope\"", "If-None-Match: " + etag_}), 412);
  // 2. If-Match present: If-Unmodified-Since is ignored.
  EXPECT_EQ(status({"If-Match: " + etag_, std::string("If-Unmodified-Since: ") + kBefore}), 200);
  // 3. If-None-Match decides over If-Modified-Since.
  EXPECT_EQ(status({"If-None-Match: \"nope\"", std::string("If-Modified-Since: ") + kAfter}), 200);
  EXPECT_EQ(status({"If-None-Match: " + etag_, std::string("If-Modified-Since: ") + kBefore}), 304);
  // 1 true, then 3.
  EXPECT_EQ(status({"If-Match: " + etag_, "If-None-Match: " + etag_}), 304);
  // 304 wins over Range (Range is evaluated after the preconditions).
  EXPECT_EQ(status({"If-None-Match: " + etag_, "Range: bytes=0-1"}), 304);
  // 412 wins over Range too.
  EXPECT_EQ(status({"If-Match: \"nope\"", "Range: bytes=0-1"}), 412);
}

TEST_F(Validators, EtagChangesWhenTheFileChanges) {
  StaticTree tree;
  tree.write("g.txt", "one");
  tree.set_mtime("g.txt", kMtime);
  const WeftServer server(serve_args(tree, {}));
  const auto before = get(server.port(), "/g.txt");
  ASSERT_TRUE(before);
  tree.set_mtime("g.txt", kMtime + 1);
  std::optional<HttpResponse> after;
  for (const auto deadline = Clock::now() + 4s; Clock::now() < deadline; std::this_thread::sleep_for(100ms)) {
    after = get(server.port(), "/g.txt", {"If-None-Match: " + *before->header("ETag")});
    if (after && after->status == 200) break;
  }
  ASSERT_TRUE(after);
  EXPECT_EQ(after->status, 200) << "the old ETag still matched after the file changed";
  EXPECT_NE(after->header("ETag"), before->header("ETag"));
}

}  // namespace
}  // namespace weft::test
