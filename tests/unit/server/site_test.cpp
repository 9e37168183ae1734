// Tests of src/server/site.cpp: the answers that do not depend on a route (OPTIONS *, CONNECT) and
// the OPTIONS answer for a routed path, on a Site with routes only and with a static directory.
#include "server/site.hpp"

#include <gtest/gtest.h>

#include <unistd.h>
#include <filesystem>
#include <string>
#include <string_view>

#include "http/parser.hpp"

namespace weft::server {
namespace {

// What a Site decides for one raw request head (its path used as given: these need no decoding).
class Routed {
 public:
  Routed(const Site& site, std::string_view request) {
    const http::ParseResult result = parser_.parse(request);
    EXPECT_EQ(result.status, http::ParseStatus::kComplete) << request;
    if (result.head != nullptr) route_ = site.route(*result.head, result.head->path);
  }
  [[nodiscard]] const http::Route& route() const { return route_; }
  [[nodiscard]] int status() const {
    return route_.fixed != nullptr ? route_.fixed->status() : route_.response.status();
  }
  [[nodiscard]] std::string allow() const { return std::string(route_.response.header("Allow")); }
  [[nodiscard]] bool handled() const { return route_.kind == http::Route::Kind::kHandle; }

 private:
  http::RequestParser parser_;
  http::Route route_;
};

Response ok(const Request&) { return Response::text(200, "ok"); }

// A library server that answers every path.
Site catch_all_site() {
  Site site;
  for (const char* method : {"GET", "POST"}) {
    site.add_handler(method, "/", ok);
    site.add_handler(method, "/{path...}", ok);
  }
  site.prepare("weft");
  return site;
}

TEST(Site, AnswersOptionsStarWithEveryRoutedMethod) {
  const Site site = catch_all_site();
  const Routed r(site, "OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n");
  EXPECT_EQ(r.status(), 204);
  EXPECT_EQ(r.allow(), "GET, HEAD, POST, OPTIONS");
  EXPECT_FALSE(r.handled());
}

TEST(Site, AnswersOptionsStarOnASiteWithNothingRouted) {
  Site site;
  site.prepare("weft");
  const Routed r(site, "OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n");
  EXPECT_EQ(r.status(), 204);
  EXPECT_EQ(r.allow(), "OPTIONS");
}

TEST(Site, AnswersOptionsForARoutedPathFromItsRoutes) {
  Site site;
  site.add_handler("GET", "/items/{id}", ok);
  site.add_handler("PUT", "/items/{id}", ok);
  site.prepare("weft");
  const Routed r(site, "OPTIONS /items/3 HTTP/1.1\r\nHost: h\r\n\r\n");
  EXPECT_EQ(r.status(), 204);
  EXPECT_EQ(r.allow(), "GET, HEAD, PUT, OPTIONS");
  const Routed missing(site, "OPTIONS /other HTTP/1.1\r\nHost: h\r\n\r\n");
  EXPECT_EQ(missing.status(), 404);
  const Routed wrong(site, "DELETE /items/3 HTTP/1.1\r\nHost: h\r\n\r\n");
  EXPECT_EQ(wrong.status(), 405);
  EXPECT_EQ(wrong.allow(), "GET, HEAD, PUT, OPTIONS");
}

TEST(Site, LeavesOptionsToTheApplicationsOwnOptionsRoute) {
  Site site;
  site.add_handler("GET", "/api/{x...}", ok);
  site.add_handler("OPTIONS", "/api/{x...}", ok);
  site.prepare("weft");
  EXPECT_TRUE(Routed(site, "OPTIONS /api/a HTTP/1.1\r\nHost: h\r\n\r\n").handled());
  const Routed star(site, "OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n");  // the server's own answer
  EXPECT_EQ(star.status(), 204);
  EXPECT_EQ(star.allow(), "GET, HEAD, OPTIONS");
}

TEST(Site, AnswersConnectWith501) {
  const Site site = catch_all_site();
  const Routed r(site, "CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n");
  EXPECT_EQ(r.status(), 501);
  EXPECT_FALSE(r.handled());
}

class SiteWithStaticDir : public ::testing::Test {
 protected:
  SiteWithStaticDir()
      : dir_(std::filesystem::temp_directory_path() / ("weft-site-test-" + std::to_string(::getpid()))) {
    std::filesystem::create_directories(dir_);
  }
  ~SiteWithStaticDir() override {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  std::filesystem::path dir_;
};

TEST_F(SiteWithStaticDir, AnswersOptionsStarWithTheStaticMethods) {
  Site site;
  site.add_static("/", dir_.string());
  site.prepare("weft");
  const Routed r(site, "OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n");
  EXPECT_EQ(r.status(), 204);
  EXPECT_EQ(r.allow(), "GET, HEAD, OPTIONS");
  EXPECT_EQ(Routed(site, "CONNECT h:80 HTTP/1.1\r\nHost: h\r\n\r\n").status(), 501);
}

TEST_F(SiteWithStaticDir, AnswersOptionsStarWithStaticAndRoutedMethods) {
  Site site;
  site.add_static("/files", dir_.string());
  site.add_handler("DELETE", "/things/{id}", ok);
  site.prepare("weft");
  EXPECT_EQ(Routed(site, "OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n").allow(), "GET, HEAD, DELETE, OPTIONS");
}

}  // namespace
}  // namespace weft::server
