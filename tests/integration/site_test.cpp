// The built-in site (weft with no ROOT): the seed's pages and its /sleep route,
// served over real sockets.

#include <unistd.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <future>
#include <string>
#include <thread>
#include <vector>

#include "support/files.hpp"
#include "support/http_client.hpp"
#include "support/process.hpp"

namespace weft::test {
namespace {

std::string site_file(const char* name) {
  auto contents = read_file(std::string(WEFT_SITE_DIR) + "/" + name);
  if (!contents) {
    ADD_FAILURE() << "cannot read site/" << name;
    return {};
  }
  return *contents;
}

// One server for the whole suite: these tests do not change its state.
class BuiltinSite : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { server_ = new WeftServer({"--loops", "2", "--threads", "4"}); }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
  }
  static std::uint16_t port() { return server_->port(); }
  static WeftServer* server_;
};
WeftServer* BuiltinSite::server_ = nullptr;

TEST_F(BuiltinSite, RootServesTheSeedsHelloPage) {
  const auto response = get(port(), "/");
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status_line, "HTTP/1.1 200 OK");
  const std::string hello = site_file("hello.html");
  EXPECT_EQ(response->body, hello);
  EXPECT_EQ(response->header("Content-Length"), std::to_string(hello.size()));
  const auto type = response->header("Content-Type");
  ASSERT_TRUE(type);
  EXPECT_EQ(type->rfind("text/html", 0), 0U) << *type;
  EXPECT_TRUE(response->header("Date")) << response->raw_head;
  EXPECT_NE(response->body.find("<p>Hi from Rust</p>"), std::string::npos);
}

TEST_F(BuiltinSite, UnknownPathServesTheSeeds404Page) {
  for (const char* target : {"/nope", "/hello.html", "/sleep/extra", "/a/b/c?x=1"}) {
    const auto response = get(port(), target);
    ASSERT_TRUE(response) << target;
    EXPECT_EQ(response->status, 404) << target;
    const std::string page = site_file("404.html");
    EXPECT_EQ(response->body, page) << target;
    EXPECT_EQ(response->header("Content-Length"), std::to_string(page.size())) << target;
  }
}

TEST_F(BuiltinSite, HeadOfRootSendsHeadersOnly) {
  Client client(port());
  // HEAD then GET on one connection: if the HEAD answer carried a body, the
  // second response would not start where it must.
  client.send(make_request("HEAD", "/") + make_request("GET", "/nope"));
  const auto head = client.read_response(5s, /*head_request=*/true);
  ASSERT_TRUE(head);
  EXPECT_EQ(head->status, 200);
  EXPECT_EQ(head->header("Content-Length"), std::to_string(site_file("hello.html").size()));
  EXPECT_EQ(head->body, "");
  const auto next = client.read_response();
  ASSERT_TRUE(next) << "pending after HEAD: " << client.pending();
  EXPECT_EQ(next->status, 404);
  EXPECT_EQ(next->body, site_file("404.html"));
}

TEST_F(BuiltinSite, HeadOfUnknownPathIs404WithoutBody) {
  Client client(port());
  client.send(make_request("HEAD", "/nope") + make_request("GET", "/"));
  const auto head = client.read_response(5s, true);
  ASSERT_TRUE(head);
  EXPECT_EQ(head->status, 404);
  const auto next = client.read_response();
  ASSERT_TRUE(next) << client.pending();
  EXPECT_EQ(next->status, 200);
}

TEST_F(BuiltinSite, PostToRootIs405WithAllow) {
  Client client(port());
  client.send(make_request("POST", "/", {"Content-Length: 5"}) + "hello" + make_request("GET", "/"));
  const auto response = client.read_response();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 405);
  const auto allow = response->header("Allow");
  ASSERT_TRUE(allow) << response->raw_head;
  EXPECT_NE(allow->find("GET"), std::string::npos) << *allow;
  EXPECT_NE(allow->find("HEAD"), std::string::npos) << *allow;
  // The small body was discarded and the connection stays usable.
  const auto next = client.read_response();
  ASSERT_TRUE(next) << client.pending();
  EXPECT_EQ(next->status, 200);
}

TEST_F(BuiltinSite, PostToSleepIs405WithAllow) {
  const auto response = request(port(), "POST", "/sleep?ms=0");
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 405);
  const auto allow = response->header("Allow");
  ASSERT_TRUE(allow) << response->raw_head;
  EXPECT_NE(allow->find("GET"), std::string::npos);
}

TEST_F(BuiltinSite, SleepServesHelloAfterTheDelay) {
  const auto start = Clock::now();
  const auto response = get(port(), "/sleep?ms=200");
  const auto elapsed = Clock::now() - start;
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->body, site_file("hello.html"));
  EXPECT_GE(elapsed, 200ms);
}

TEST_F(BuiltinSite, SleepRejectsBadDurations) {
  for (const char* target : {"/sleep?ms=abc", "/sleep?ms=-1", "/sleep?ms=60001",
                             "/sleep?ms=", "/sleep?ms=1e3", "/sleep?ms=99999999999999999999999"}) {
    const auto response = get(port(), target);
    ASSERT_TRUE(response) << target;
    EXPECT_EQ(response->status, 400) << target;
    EXPECT_NE(response->body.find("60000"), std::string::npos) << target << ": " << response->body;
  }
}

TEST_F(BuiltinSite, SleepingWorkerDoesNotDelayRoot) {
  constexpr auto kSleep = 1000ms;
  auto slow = std::async(std::launch::async, [] {
    const auto start = Clock::now();
    const auto response = get(port(), "/sleep?ms=1000");
    return std::make_pair(response, Clock::now() - start);
  });
  std::this_thread::sleep_for(100ms);  // the sleep is now on a worker
  const auto start = Clock::now();
  const auto fast = get(port(), "/");
  const auto fast_elapsed = Clock::now() - start;
  ASSERT_TRUE(fast);
  EXPECT_EQ(fast->status, 200);
  EXPECT_LT(fast_elapsed, kSleep / 2) << "GET / waited for the sleeping worker";
  const auto [slow_response, slow_elapsed] = slow.get();
  ASSERT_TRUE(slow_response);
  EXPECT_EQ(slow_response->status, 200);
  EXPECT_GE(slow_elapsed, kSleep);
}

TEST(BuiltinSitePool, TwoWorkersRunThreeSleepsInTwoWaves) {
  WeftServer server({"--threads", "2", "--loops", "2"});
  constexpr auto kSleep = 400ms;
  const auto start = Clock::now();
  std::vector<std::future<std::pair<std::optional<HttpResponse>, Clock::duration>>> requests;
  for (int i = 0; i < 3; ++i) {
    requests.push_back(std::async(std::launch::async, [&server, start] {
      auto response = get(server.port(), "/sleep?ms=400");
      return std::make_pair(std::move(response), Clock::now() - start);
    }));
  }
  std::vector<Clock::duration> done;
  for (auto& request : requests) {
    auto [response, elapsed] = request.get();
    ASSERT_TRUE(response);
    EXPECT_EQ(response->status, 200);
    done.push_back(elapsed);
  }
  std::sort(done.begin(), done.end());
  const auto ms = [](Clock::duration d) { return std::chrono::duration_cast<milliseconds>(d).count(); };
  // First wave: two workers sleep at once.
  EXPECT_GE(done[0], kSleep);
  EXPECT_LT(done[1], 2 * kSleep) << "the first two sleeps did not run in parallel: " << ms(done[0]) << " "
                                 << ms(done[1]) << " " << ms(done[2]);
  // Second wave: the third waits for a free worker.
  EXPECT_GE(done[2], 2 * kSleep) << "three sleeps ran at once on a pool of 2: " << ms(done[2]);
}

TEST(RootDirectory, ServesItsFilesInsteadOfTheBuiltinSite) {
  const auto dir = std::filesystem::temp_directory_path() / ("weft-site-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  { std::ofstream(dir / "note.txt") << "from ROOT\n"; }
  {
    WeftServer server({"--loops", "1", dir.string()});
    const auto file = get(server.port(), "/note.txt");
    ASSERT_TRUE(file);
    EXPECT_EQ(file->status, 200);
    EXPECT_EQ(file->body, "from ROOT\n");
    const auto sleep = get(server.port(), "/sleep?ms=0");
    ASSERT_TRUE(sleep);
    EXPECT_EQ(sleep->status, 404) << "the built-in /sleep route is served with a ROOT";
  }
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace weft::test
