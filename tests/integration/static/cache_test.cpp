// The open-file cache never serves a file that changed or went away: the next request sees the
// change, against the running binary (freshness_test.cpp tests every kind of change at length).

#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "integration/static/static_fixture.hpp"

namespace weft::test {
namespace {

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
  const auto r = get(server.port(), "/f.txt");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->body, "version two, longer");
  EXPECT_EQ(r->header("Content-Length"), "19");
}

TEST(OpenFileCache, AFileReplacedByRenameIsServedWithItsNewContent) {
  StaticTree tree;
  tree.write("f.txt", "old");
  const WeftServer server(serve_args(tree));
  ASSERT_EQ(get(server.port(), "/f.txt")->body, "old");
  tree.write("f.tmp", "new!");
  std::filesystem::rename(tree.root() / "f.tmp", tree.root() / "f.txt");
  const auto r = get(server.port(), "/f.txt");
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
  // At once, and it stays gone (no stale entry comes back).
  for (int i = 0; i < 3; ++i) EXPECT_EQ(get(server.port(), "/f.txt")->status, 404);
}

TEST(OpenFileCache, AFileCreatedAfterA404IsServed) {
  StaticTree tree;
  tree.write("index.html", "i");
  const WeftServer server(serve_args(tree));
  ASSERT_EQ(get(server.port(), "/late.txt")->status, 404);  // a cached miss
  tree.write("late.txt", "here now");
  const auto r = get(server.port(), "/late.txt");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->body, "here now");
}

}  // namespace
}  // namespace weft::test
