// `weft ROOT` serving files: types, index, redirects, methods, hidden files, the custom 404
// page, --spa, --cache-control, --no-listing and the access log, against the running binary.

#include <gtest/gtest.h>

#include <csignal>
#include <string>
#include <vector>

#include "integration/static/static_fixture.hpp"

namespace weft::test {
namespace {

class Files : public SharedTreeServer<Files> {
 protected:
  static void SetUpTestSuite() {
    tree_ = new StaticTree();
    tree_->write("index.html", "<h1>home</h1>");
    tree_->write("a.txt", "alpha");
    tree_->write("sub/index.html", "<p>sub</p>");
    tree_->write("sub/x y.css", "body{}");
    tree_->write("empty.txt", "");
    tree_->write(".env", "PASSWORD=1");
    tree_->write(".git/config", "[core]");
    tree_->write(".well-known/security.txt", "Contact: x");
    tree_->mkdir("nolist");
    for (const char* name :
         {"p.html", "s.css", "m.js", "m.mjs", "d.json", "i.svg", "i.png", "i.jpg", "i.webp", "i.avif",
          "f.woff2", "w.wasm", "d.pdf", "v.mp4", "a.mp3", "t.txt", "x.xml", "unknown.qqq", "README"}) {
      tree_->write(std::string("types/") + name, "x");
    }
    server_ = new WeftServer(serve_args(*tree_));
  }
};

TEST_F(Files, ServesAFileWithTypeLengthValidatorsAndNosniff) {
  const auto r = get(port(), "/a.txt");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "alpha");
  EXPECT_EQ(r->header("Content-Type"), "text/plain; charset=utf-8");
  EXPECT_EQ(r->header("Content-Length"), "5");
  EXPECT_EQ(r->header("X-Content-Type-Options"), "nosniff");
  EXPECT_EQ(r->header("Accept-Ranges"), "bytes");
  ASSERT_TRUE(r->header("ETag"));
  EXPECT_EQ(r->header("ETag")->front(), '"');  // strong
  EXPECT_TRUE(r->header("Last-Modified"));
  EXPECT_FALSE(r->header("Cache-Control"));  // none unless --cache-control
}

TEST_F(Files, ContentTypeFromTheExtension) {
  const std::vector<std::pair<const char*, const char*>> expected{
      {"p.html", "text/html; charset=utf-8"},
      {"s.css", "text/css; charset=utf-8"},
      {"m.js", "text/javascript; charset=utf-8"},
      {"m.mjs", "text/javascript; charset=utf-8"},
      {"d.json", "application/json"},
      {"i.svg", "image/svg+xml"},
      {"i.png", "image/png"},
      {"i.jpg", "image/jpeg"},
      {"i.webp", "image/webp"},
      {"i.avif", "image/avif"},
      {"f.woff2", "font/woff2"},
      {"w.wasm", "application/wasm"},
      {"d.pdf", "application/pdf"},
      {"v.mp4", "video/mp4"},
      {"a.mp3", "audio/mpeg"},
      {"t.txt", "text/plain; charset=utf-8"},
      {"x.xml", "application/xml"},
      {"unknown.qqq", "application/octet-stream"},
      {"README", "application/octet-stream"},
  };
  for (const auto& [name, type] : expected) {
    const auto r = get(port(), std::string("/types/") + name);
    ASSERT_TRUE(r) << name;
    EXPECT_EQ(r->header("Content-Type"), type) << name;
    EXPECT_EQ(r->header("X-Content-Type-Options"), "nosniff") << name;
  }
}

TEST_F(Files, EmptyFileHasZeroLength) {
  const auto r = get(port(), "/empty.txt");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->header("Content-Length"), "0");
  EXPECT_EQ(r->body, "");
}

TEST_F(Files, DirectoryServesIndexAndRedirectsWithoutSlashKeepingTheQuery) {
  const auto root = get(port(), "/");
  ASSERT_TRUE(root);
  EXPECT_EQ(root->body, "<h1>home</h1>");
  EXPECT_EQ(root->header("Content-Type"), "text/html; charset=utf-8");
  const auto sub = get(port(), "/sub/");
  ASSERT_TRUE(sub);
  EXPECT_EQ(sub->body, "<p>sub</p>");
  const auto redirect = get(port(), "/sub?x=1&y=%20");
  ASSERT_TRUE(redirect);
  EXPECT_EQ(redirect->status, 301);
  EXPECT_EQ(redirect->header("Location"), "/sub/?x=1&y=%20");
  // The Location is built from the normalised path: "//host" can never come out of it.
  tree_->mkdir("evil.example");
  const auto open_redirect = get(port(), "//evil.example");
  ASSERT_TRUE(open_redirect);
  EXPECT_EQ(open_redirect->status, 301);
  EXPECT_EQ(open_redirect->header("Location"), "/evil.example/");
  const auto encoded = get(port(), "/sub/x%20y.css");
  ASSERT_TRUE(encoded);
  EXPECT_EQ(encoded->body, "body{}");
}

TEST_F(Files, HeadSendsTheHeadersOfGetWithoutTheBody) {
  Client client(port());
  client.send(make_request("HEAD", "/a.txt") + make_request("GET", "/a.txt", {"Connection: close"}));
  const auto head = client.read_response(5s, /*head_request=*/true);
  ASSERT_TRUE(head);
  EXPECT_EQ(head->status, 200);
  EXPECT_EQ(head->header("Content-Length"), "5");
  EXPECT_TRUE(head->header("ETag"));
  EXPECT_EQ(head->body, "");
  const auto next = client.read_response();
  ASSERT_TRUE(next) << client.pending();
  EXPECT_EQ(next->body, "alpha");
}

TEST_F(Files, OtherMethodsAre405WithAllowAndOptionsIsAnswered) {
  for (const char* method : {"POST", "PUT", "DELETE", "PATCH", "TRACE"}) {
    const auto r = request(port(), method, "/a.txt");
    ASSERT_TRUE(r) << method;
    EXPECT_EQ(r->status, 405) << method;
    EXPECT_EQ(r->header("Allow"), "GET, HEAD, OPTIONS") << method;
  }
  const auto options = request(port(), "OPTIONS", "/a.txt");
  ASSERT_TRUE(options);
  EXPECT_EQ(options->status, 204);
  EXPECT_EQ(options->header("Allow"), "GET, HEAD, OPTIONS");
  const auto star = request(port(), "OPTIONS", "*");
  ASSERT_TRUE(star);
  EXPECT_EQ(star->status, 204);
  EXPECT_EQ(star->header("Allow"), "GET, HEAD, OPTIONS");
}

TEST_F(Files, HiddenFilesAre404ButWellKnownIsServed) {
  for (const char* target : {"/.env", "/.git/config", "/.git/", "/sub/../.env", "/%2eenv"}) {
    const auto r = get(port(), target);
    ASSERT_TRUE(r) << target;
    EXPECT_EQ(r->status, 404) << target;
    EXPECT_EQ(r->body.find("PASSWORD"), std::string::npos) << target;
  }
  const auto known = get(port(), "/.well-known/security.txt");
  ASSERT_TRUE(known);
  EXPECT_EQ(known->status, 200);
  EXPECT_EQ(known->body, "Contact: x");
}

TEST_F(Files, HiddenFlagServesDotFiles) {
  const WeftServer hidden(serve_args(*tree_, {"--hidden"}));
  const auto r = get(hidden.port(), "/.env");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "PASSWORD=1");
}

TEST_F(Files, MissingFileGetsTheBuiltInOrTheCustom404Page) {
  const auto builtin = get(port(), "/nope.txt");
  ASSERT_TRUE(builtin);
  EXPECT_EQ(builtin->status, 404);
  EXPECT_NE(builtin->body.find("404"), std::string::npos);

  StaticTree custom;
  custom.write("404.html", "<h1>custom not found</h1>");
  const WeftServer server(serve_args(custom));
  for (const char* target : {"/nope.txt", "/deep/er/nope", "/.hidden"}) {
    const auto r = get(server.port(), target);
    ASSERT_TRUE(r) << target;
    EXPECT_EQ(r->status, 404) << target;
    EXPECT_EQ(r->body, "<h1>custom not found</h1>") << target;
    EXPECT_EQ(r->header("Content-Type"), "text/html; charset=utf-8") << target;
  }
  const auto head = request(server.port(), "HEAD", "/nope.txt");
  ASSERT_TRUE(head);
  EXPECT_EQ(head->status, 404);
  EXPECT_EQ(head->header("Content-Length"), "25");
}

TEST_F(Files, SpaServesTheIndexForUnknownPathsWithoutAnExtension) {
  const WeftServer spa(serve_args(*tree_, {"--spa"}));
  for (const char* target : {"/app/route", "/users/42/", "/deep/link/x"}) {
    const auto r = get(spa.port(), target);
    ASSERT_TRUE(r) << target;
    EXPECT_EQ(r->status, 200) << target;
    EXPECT_EQ(r->body, "<h1>home</h1>") << target;
  }
  const auto asset = get(spa.port(), "/missing.js");
  ASSERT_TRUE(asset);
  EXPECT_EQ(asset->status, 404);
  const auto without = get(port(), "/app/route");
  ASSERT_TRUE(without);
  EXPECT_EQ(without->status, 404);
}

TEST_F(Files, CacheControlFlagAddsTheHeaderTo200And304) {
  const WeftServer cc(serve_args(*tree_, {"--cache-control", "public, max-age=60"}));
  const auto r = get(cc.port(), "/a.txt");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->header("Cache-Control"), "public, max-age=60");
  const auto not_modified = get(cc.port(), "/a.txt", {"If-None-Match: " + *r->header("ETag")});
  ASSERT_TRUE(not_modified);
  EXPECT_EQ(not_modified->status, 304);
  EXPECT_EQ(not_modified->header("Cache-Control"), "public, max-age=60");
}

TEST_F(Files, CacheControlWithAControlCharacterIsAUsageError) {
  const auto result = run_weft({"--cache-control", "a\rb", tree_->root_arg()});
  ASSERT_TRUE(result.status && result.status->exited);
  EXPECT_EQ(result.status->code, 2);
}

TEST_F(Files, NoListingMakesADirectoryWithoutIndexForbidden) {
  const WeftServer off(serve_args(*tree_, {"--no-listing"}));
  const auto r = get(off.port(), "/nolist/");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 403);
  const auto listed = get(port(), "/nolist/");
  ASSERT_TRUE(listed);
  EXPECT_EQ(listed->status, 200);
}

TEST_F(Files, EveryStaticRequestIsInTheAccessLog) {
  WeftServer logged(serve_args(*tree_, {"--access-log", "-"}));
  ASSERT_TRUE(get(logged.port(), "/a.txt"));
  ASSERT_TRUE(get(logged.port(), "/nope"));
  ASSERT_TRUE(get(logged.port(), "/nolist/"));  // a listing, built on the pool
  logged.process().send_signal(SIGTERM);
  ASSERT_TRUE(logged.process().wait_exit(5s));
  const std::string& out = logged.process().out();
  EXPECT_NE(out.find("\"GET /a.txt HTTP/1.1\" 200 5"), std::string::npos) << out;
  EXPECT_NE(out.find("\"GET /nope HTTP/1.1\" 404 "), std::string::npos) << out;
  EXPECT_NE(out.find("\"GET /nolist/ HTTP/1.1\" 200 "), std::string::npos) << out;
}

TEST_F(Files, HelpDocumentsTheStaticFlags) {
  const auto result = run_weft({"--help"});
  for (const char* flag :
       {"--no-listing", "--hidden", "--follow-symlinks-outside", "--cache-control", "--spa"}) {
    EXPECT_NE(result.out.find(flag), std::string::npos) << flag;
  }
}

}  // namespace
}  // namespace weft::test
