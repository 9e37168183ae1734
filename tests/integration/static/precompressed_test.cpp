// Precompressed siblings (f.br, f.zst, f.gz) chosen by Accept-Encoding, against the running
// binary.

#include <gtest/gtest.h>

#include <string>

#include "integration/static/static_fixture.hpp"

namespace weft::test {
namespace {

class Precompressed : public SharedTreeServer<Precompressed> {
 protected:
  static void SetUpTestSuite() {
    tree_ = new StaticTree();
    // The "compressed" files only need to differ; weft never decodes them.
    tree_->write("app.js", "console.log('plain');");
    tree_->write("app.js.br", "BROTLI-BYTES");
    tree_->write("app.js.zst", "ZSTD-BYTES");
    tree_->write("app.js.gz", "GZIP-BYTES");
    tree_->write("style.css", "body{}");
    tree_->write("style.css.gz", "GZ-CSS");
    tree_->write("plain.txt", "no variants");
    tree_->write("orphan.txt.gz", "no base file");
    server_ = new WeftServer(serve_args(*tree_));
  }
  static std::optional<HttpResponse> fetch_with(const char* target, const std::string& accept_encoding) {
    return get(server_->port(), target, {"Accept-Encoding: " + accept_encoding});
  }
};

TEST_F(Precompressed, PrefersBrotliThenZstdThenGzip) {
  struct Case {
    const char* accept;
    const char* body;
    const char* encoding;
  };
  for (const Case& c :
       {Case{"gzip, deflate, br, zstd", "BROTLI-BYTES", "br"}, Case{"gzip, zstd", "ZSTD-BYTES", "zstd"},
        Case{"gzip", "GZIP-BYTES", "gzip"}, Case{"br;q=0, gzip", "GZIP-BYTES", "gzip"},
        Case{"br;q=0.5, gzip;q=0.9", "GZIP-BYTES", "gzip"}, Case{"*", "BROTLI-BYTES", "br"},
        Case{"*;q=0.5, br;q=0, zstd;q=0", "GZIP-BYTES", "gzip"}}) {
    const auto r = fetch_with("/app.js", c.accept);
    ASSERT_TRUE(r) << c.accept;
    EXPECT_EQ(r->status, 200) << c.accept;
    EXPECT_EQ(r->body, c.body) << c.accept;
    EXPECT_EQ(r->header("Content-Encoding"), c.encoding) << c.accept;
    EXPECT_EQ(r->header("Vary"), "Accept-Encoding") << c.accept;
    EXPECT_EQ(r->header("Content-Type"), "text/javascript; charset=utf-8") << c.accept;
  }
}

TEST_F(Precompressed, IdentityWhenNothingAcceptableStillVaries) {
  for (const char* accept : {"identity", "br;q=0, zstd;q=0, gzip;q=0", "deflate"}) {
    const auto r = fetch_with("/app.js", accept);
    ASSERT_TRUE(r) << accept;
    EXPECT_EQ(r->body, "console.log('plain');") << accept;
    EXPECT_FALSE(r->header("Content-Encoding")) << accept;
    EXPECT_EQ(r->header("Vary"), "Accept-Encoding") << accept;
  }
  const auto none = get(server_->port(), "/app.js");  // no Accept-Encoding at all
  ASSERT_TRUE(none);
  EXPECT_EQ(none->body, "console.log('plain');");
  EXPECT_EQ(none->header("Vary"), "Accept-Encoding");
}

TEST_F(Precompressed, OnlyExistingVariantsAndNoVaryWithoutAny) {
  const auto css = fetch_with("/style.css", "br, gzip");
  ASSERT_TRUE(css);
  EXPECT_EQ(css->body, "GZ-CSS");
  EXPECT_EQ(css->header("Content-Encoding"), "gzip");
  const auto plain = fetch_with("/plain.txt", "br, gzip");
  ASSERT_TRUE(plain);
  EXPECT_EQ(plain->body, "no variants");
  EXPECT_FALSE(plain->header("Content-Encoding"));
  EXPECT_FALSE(plain->header("Vary"));
  const auto orphan = fetch_with("/orphan.txt", "gzip");
  ASSERT_TRUE(orphan);
  EXPECT_EQ(orphan->status, 404);  // a variant alone is not the file
  const auto direct = get(server_->port(), "/app.js.gz");
  ASSERT_TRUE(direct);
  EXPECT_EQ(direct->header("Content-Type"), "application/gzip");  // asked for by name: no coding
  EXPECT_FALSE(direct->header("Content-Encoding"));
}

TEST_F(Precompressed, EachEncodingHasItsOwnEtagAndValidatesSeparately) {
  const auto br = fetch_with("/app.js", "br");
  const auto gz = fetch_with("/app.js", "gzip");
  const auto id = fetch_with("/app.js", "identity");
  ASSERT_TRUE(br && gz && id);
  EXPECT_NE(br->header("ETag"), gz->header("ETag"));
  EXPECT_NE(br->header("ETag"), id->header("ETag"));
  const auto not_modified =
      get(server_->port(), "/app.js", {"Accept-Encoding: br", "If-None-Match: " + *br->header("ETag")});
  ASSERT_TRUE(not_modified);
  EXPECT_EQ(not_modified->status, 304);
  EXPECT_EQ(not_modified->header("Vary"), "Accept-Encoding");
  const auto other =
      get(server_->port(), "/app.js", {"Accept-Encoding: gzip", "If-None-Match: " + *br->header("ETag")});
  ASSERT_TRUE(other);
  EXPECT_EQ(other->status, 200);
}

TEST_F(Precompressed, RangesApplyToTheEncodedBytes) {
  const auto r = get(server_->port(), "/app.js", {"Accept-Encoding: br", "Range: bytes=0-5"});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 206);
  EXPECT_EQ(r->body, "BROTLI");
  EXPECT_EQ(r->header("Content-Range"), "bytes 0-5/12");
  EXPECT_EQ(r->header("Content-Encoding"), "br");
}

}  // namespace
}  // namespace weft::test
