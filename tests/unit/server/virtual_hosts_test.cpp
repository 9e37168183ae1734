// Tests of src/server/virtual_hosts.cpp: which site answers a Host (exact names, one-label
// wildcards, case, ports, the default), redirects, added header fields (on rendered-once answers
// and on file answers), and the checks of Server::sites.
#include "server/virtual_hosts.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "http/parser.hpp"

// g++ 12 at -O2 and above takes the strings of SiteConfig aggregates built with nested
// designated initializers for maybe-uninitialized (a known false positive of that release).
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

namespace weft::server {
namespace {

namespace fs = std::filesystem;

// A directory with index.html holding `text`, removed at the end.
class Root {
 public:
  explicit Root(const std::string& text)
      : path_(fs::temp_directory_path() /
              ("weft-vhosts-" + std::to_string(::getpid()) + "-" + std::to_string(++counter_))) {
    fs::create_directories(path_);
    std::ofstream(path_ / "index.html") << text;
    // An hour old: a file changed this very second is never rendered once (it may still change).
    fs::last_write_time(path_ / "index.html", fs::file_time_type::clock::now() - std::chrono::hours(1));
  }
  ~Root() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  Root(const Root&) = delete;
  Root& operator=(const Root&) = delete;
  Root(Root&&) = delete;
  Root& operator=(Root&&) = delete;
  [[nodiscard]] std::string path() const { return path_.string(); }

 private:
  static inline int counter_ = 0;
  fs::path path_;
};

// The route for one raw request head.
http::Route route_of(const std::shared_ptr<const VirtualHosts>& hosts, std::string_view request) {
  http::RequestParser parser;
  const http::ParseResult result = parser.parse(request);
  EXPECT_EQ(result.status, http::ParseStatus::kComplete) << request;
  if (result.head == nullptr) return {};
  return hosts->route(*result.head, result.head->path, hosts);
}

// The body a route's answer sends: a rendered-once body, then its parts (bytes, or file ranges).
std::string body_of(const http::Route& route) {
  std::string out;
  if (route.prepared != nullptr) out = route.prepared->body;
  for (const auto& part : route.body) {
    if (!part.file) {
      out += part.bytes;
      continue;
    }
    std::string chunk(part.length, '\0');
    const ssize_t n = ::pread(part.file->get(), chunk.data(), chunk.size(), static_cast<off_t>(part.offset));
    out += chunk.substr(0, n < 0 ? 0 : static_cast<std::size_t>(n));
  }
  return out;
}

// Every header field of a route's answer, as "Name: value" lines.
std::string fields_of(const http::Route& route) {
  if (route.prepared != nullptr) return route.prepared->fields;
  const Response& r = route.fixed != nullptr ? *route.fixed : route.response;
  std::string out;
  for (const auto& [name, value] : r.headers()) out += name + ": " + value + "\r\n";
  return out;
}

std::shared_ptr<const VirtualHosts> table(std::vector<SiteConfig> sites) {
  return std::make_shared<const VirtualHosts>(std::move(sites), "weft", 1024);
}

TEST(VirtualHosts, PicksTheSiteByNameWildcardAndDefault) {
  const auto hosts =
      table({SiteConfig{.hosts = {"default.test"}}, SiteConfig{.hosts = {"a.test", "www.a.test"}},
             SiteConfig{.hosts = {"*.wild.test"}}});
  EXPECT_EQ(hosts->pick("a.test"), 1U);
  EXPECT_EQ(hosts->pick("WWW.A.Test:8080"), 1U);
  EXPECT_EQ(hosts->pick("x.wild.test"), 2U);
  EXPECT_EQ(hosts->pick("x.wild.test:443"), 2U);
  // One label only, and not the bare name.
  EXPECT_EQ(hosts->pick("x.y.wild.test"), 0U);
  EXPECT_EQ(hosts->pick("wild.test"), 0U);
  EXPECT_EQ(hosts->pick("unknown.test"), 0U);
  EXPECT_EQ(hosts->pick(""), 0U);
  EXPECT_EQ(hosts->pick("[::1]:80"), 0U);
}

TEST(VirtualHosts, ServesEachSitesRoot) {
  const Root a("site a");
  const Root b("site b");
  const auto hosts = table(
      {SiteConfig{.hosts = {"a.test"}, .root = a.path()}, SiteConfig{.hosts = {"b.test"}, .root = b.path()}});
  const http::Route ra = route_of(hosts, "GET / HTTP/1.1\r\nHost: a.test\r\n\r\n");
  const http::Route rb = route_of(hosts, "GET / HTTP/1.1\r\nHost: b.test\r\n\r\n");
  EXPECT_EQ(body_of(ra), "site a");
  EXPECT_EQ(body_of(rb), "site b");
}

TEST(VirtualHosts, RedirectsAnExactPathWithItsStatus) {
  const auto hosts = table({SiteConfig{
      .hosts = {"a.test"},
      .redirects = {RedirectRule{.path = "/old", .location = "https://a.test/new", .status = 308}}}});
  const http::Route r = route_of(hosts, "POST /old HTTP/1.1\r\nHost: a.test\r\nContent-Length: 0\r\n\r\n");
  EXPECT_EQ(r.response.status(), 308);
  EXPECT_EQ(r.response.header("Location"), "https://a.test/new");
  const http::Route other = route_of(hosts, "GET /old/x HTTP/1.1\r\nHost: a.test\r\n\r\n");
  EXPECT_EQ(other.fixed != nullptr ? other.fixed->status() : other.response.status(), 404);
}

TEST(VirtualHosts, AddsHeaderFieldsUnderTheirPrefix) {
  const Root a("site a");
  const auto hosts = table(
      {SiteConfig{.hosts = {"a.test"},
                  .root = a.path(),
                  .headers = {HeaderRule{.prefix = "/", .fields = {{"X-Frame-Options", "DENY"}}},
                              HeaderRule{.prefix = "/private/", .fields = {{"X-Robots-Tag", "noindex"}}}}}});
  // A file rendered once: copied with the fields, keeping its body.
  for (int i = 0; i < 2; ++i) {
    const http::Route index = route_of(hosts, "GET / HTTP/1.1\r\nHost: a.test\r\n\r\n");
    EXPECT_NE(fields_of(index).find("X-Frame-Options: DENY\r\n"), std::string::npos) << i;
    EXPECT_EQ(fields_of(index).find("X-Robots-Tag"), std::string::npos) << i;
    EXPECT_EQ(body_of(index), "site a") << i;
    EXPECT_NE(index.owner, nullptr) << i;
    EXPECT_NE(index.prepared, nullptr) << i;
  }
  // The not-found answer under /private/ gets both.
  const http::Route missing = route_of(hosts, "GET /private/none HTTP/1.1\r\nHost: a.test\r\n\r\n");
  EXPECT_NE(fields_of(missing).find("X-Frame-Options: DENY\r\n"), std::string::npos);
  EXPECT_NE(fields_of(missing).find("X-Robots-Tag: noindex\r\n"), std::string::npos);
}

TEST(VirtualHosts, ARouteKeepsItsTableAlive) {
  auto hosts = table({SiteConfig{.hosts = {"a.test"}}});
  const std::weak_ptr<const VirtualHosts> weak = hosts;
  http::Route r = route_of(hosts, "GET /none HTTP/1.1\r\nHost: a.test\r\n\r\n");
  hosts.reset();
  EXPECT_FALSE(weak.expired());  // the not-found answer points into it
  r = http::Route();
  EXPECT_TRUE(weak.expired());
}

TEST(VirtualHosts, RefusesBadSites) {
  const auto refused = [](std::vector<SiteConfig> sites, std::string_view expected) {
    try {
      (void)table(std::move(sites));
      ADD_FAILURE() << "accepted; expected " << expected;
    } catch (const std::invalid_argument& e) {
      EXPECT_NE(std::string(e.what()).find(expected), std::string::npos) << e.what();
    }
  };
  refused({}, "no site");
  refused({SiteConfig{.hosts = {"a.test"}}, SiteConfig{}}, "site 2: hosts is empty");
  refused({SiteConfig{.hosts = {"a test"}}}, "'a test' is not a host name");
  refused({SiteConfig{.hosts = {"*.*.test"}}}, "is not a host name");
  refused({SiteConfig{.hosts = {"a.test"}}, SiteConfig{.hosts = {"A.test"}}}, "already served");
  refused({SiteConfig{.hosts = {"a.test"}, .root = "/nonexistent/weft-root"}}, "site 1 (a.test)");
  refused({SiteConfig{.headers = {HeaderRule{.prefix = "/", .fields = {{"Bad Name", "v"}}}}}},
          "not a header field name");
  refused({SiteConfig{.headers = {HeaderRule{.prefix = "/", .fields = {{"X", "a\nb"}}}}}},
          "control character");
  refused({SiteConfig{.redirects = {RedirectRule{.path = "/a", .location = "/b", .status = 200}}}},
          "status must be");
  refused({SiteConfig{.redirects = {RedirectRule{.path = "a", .location = "/b"}}}}, "must start with '/'");
}

}  // namespace
}  // namespace weft::server
