// The open-file cache never serves a file that changed or went away for longer than the
// revalidation interval (1 s), against the running binary.

#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <thread>

#include "integration/static/static_fixture.hpp"

namespace weft::test {
namespace {

// Polls GET `target` until `done` holds or 4 s pass; the last response.
template <typename Pred>
std::optional<HttpResponse> poll(std::uint16_t port, const std::string& target, Pred done) {
  std::optional<HttpResponse> r;
  for (const auto deadline = Clock::now() + 4s; Clock::now() < deadline; std::this_thread::sleep_for(50ms)) {
    r = get(port, target);
    if (r && done(*r)) break;
  }
  return r;
}

TEST(OpenFileCache, AFileEditedInPlaceIsServedWithItsNewContent) {
  StaticTree tree;
  tree.write("f.txt", "version one");
  const WeftServer server(serve_args(tree));
  for (int i = 0; i < 3; ++i) {  // hot: cached
    const auto r = get(server.port(), "/f.txt");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->body, "version one");
  }
  tree.write("f.txt", "version two, longer");  // same inode, truncated and rewritten
  const auto start = Clock::now();
  const auto r =
      poll(server.port(), "/f.txt", [](const HttpResponse& x) { return x.body == "version two, longer"; });
  ASSERT_TRUE(r);
  EXPECT_EQ(r->body, "version two, longer");
  EXPECT_EQ(r->header("Content-Length"), "19");
  EXPECT_LT(Clock::now() - start, 2500ms) << "the change took longer than the revalidation interval to show";
}

TEST(OpenFileCache, AFileReplacedByRenameIsServedWithItsNewContent) {
  StaticTree tree;
  tree.write("f.txt", "old");
  const WeftServer server(serve_args(tree));
  ASSERT_EQ(get(server.port(), "/f.txt")->body, "old");
  tree.write("f.tmp", "new!");
  std::filesystem::rename(tree.root() / "f.tmp", tree.root() / "f.txt");
  const auto r = poll(server.port(), "/f.txt", [](const HttpResponse& x) { return x.body == "new!"; });
  ASSERT_TRUE(r);
  EXPECT_EQ(r->body, "new!");
}

TEST(OpenFileCache, AFileDeletedWhileCachedIs404Afterwards) {
  StaticTree tree;
  tree.write("f.txt", "soon gone");
  const WeftServer server(serve_args(tree));
  ASSERT_EQ(get(server.port(), "/f.txt")->status, 200);
  ASSERT_EQ(get(server.port(), "/f.txt")->status, 200);
  std::filesystem::remove(tree.root() / "f.txt");
  const auto r = poll(server.port(), "/f.txt", [](const HttpResponse& x) { return x.status == 404; });
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 404);
  // And it stays gone (no stale entry comes back).
  for (int i = 0; i < 3; ++i) EXPECT_EQ(get(server.port(), "/f.txt")->status, 404);
}

TEST(OpenFileCache, AFileCreatedAfterA404IsServed) {
  StaticTree tree;
  tree.write("index.html", "i");
  const WeftServer server(serve_args(tree));
  ASSERT_EQ(get(server.port(), "/late.txt")->status, 404);  // a cached miss
  tree.write("late.txt", "here now");
  const auto r = poll(server.port(), "/late.txt", [](const HttpResponse& x) { return x.status == 200; });
  ASSERT_TRUE(r);
  EXPECT_EQ(r->body, "here now");
}

}  // namespace
}  // namespace weft::test
