#include "files/static_dir.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>

namespace {

namespace fs = std::filesystem;
using weft::files::StaticDir;

// A tree under a fresh temp dir:
//   outside/secret.txt                 (outside the served root)
//   root/index.html  root/a.txt  root/.hidden  root/.well-known/x.txt
//   root/sub/page.html  root/empty/  root/fifo
//   root/inside -> a.txt    root/escape -> ../outside/secret.txt    root/abs -> /etc/passwd
class StaticDirTest : public testing::Test {
 protected:
  void SetUp() override {
    base_ = fs::temp_directory_path() / ("weft-static-" + std::to_string(::getpid()) + "-" +
                                         testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(base_);
    fs::create_directories(base_ / "outside");
    fs::create_directories(base_ / "root" / "sub");
    fs::create_directories(base_ / "root" / "empty");
    fs::create_directories(base_ / "root" / ".well-known");
    write(base_ / "outside" / "secret.txt", "secret");
    write(base_ / "root" / "index.html", "<h1>index</h1>");
    write(base_ / "root" / "a.txt", "alpha");
    write(base_ / "root" / ".hidden", "hidden");
    write(base_ / "root" / ".well-known" / "x.txt", "known");
    write(base_ / "root" / "sub" / "page.html", "page");
    ASSERT_EQ(::mkfifo((base_ / "root" / "fifo").c_str(), 0644), 0);
    fs::create_symlink("a.txt", base_ / "root" / "inside");
    fs::create_symlink("../outside/secret.txt", base_ / "root" / "escape");
    fs::create_symlink("/etc/passwd", base_ / "root" / "abs");
  }
  void TearDown() override { fs::remove_all(base_); }

  static void write(const fs::path& p, const std::string& text) { std::ofstream(p) << text; }

  static std::string read_all(const StaticDir::Lookup& l) {
    std::string out(static_cast<std::size_t>(l.info.st_size), '\0');
    EXPECT_EQ(::pread(l.file.get(), out.data(), out.size(), 0), static_cast<ssize_t>(out.size()));
    return out;
  }

  fs::path base_;
};

TEST_F(StaticDirTest, ServesAFileUnderTheRoot) {
  const StaticDir dir("/", (base_ / "root").string());
  const auto found = dir.lookup("/a.txt");
  ASSERT_EQ(found.status, 200);
  EXPECT_EQ(read_all(found), "alpha");
}

TEST_F(StaticDirTest, DirectoryServesItsIndexAndRedirectsWithoutSlash) {
  const StaticDir dir("/", (base_ / "root").string());
  const auto root = dir.lookup("/");
  ASSERT_EQ(root.status, 200);
  EXPECT_EQ(read_all(root), "<h1>index</h1>");
  const auto sub = dir.lookup("/sub");
  EXPECT_EQ(sub.status, 301);
  EXPECT_EQ(sub.location, "/sub/");
  EXPECT_EQ(dir.lookup("/empty/").status, 403);  // no index, no listing (yet)
}

TEST_F(StaticDirTest, DotSegmentsNeverClimbAboveTheRoot) {
  const StaticDir dir("/", (base_ / "root").string());
  EXPECT_EQ(dir.lookup("/../outside/secret.txt").status, 400);
  EXPECT_EQ(dir.lookup("/sub/../../outside/secret.txt").status, 400);
  const auto back_in = dir.lookup("/sub/../a.txt");
  ASSERT_EQ(back_in.status, 200);
  EXPECT_EQ(read_all(back_in), "alpha");
  EXPECT_EQ(dir.lookup("/./a.txt").status, 200);
  EXPECT_EQ(dir.lookup("//a.txt").status, 200);
}

TEST_F(StaticDirTest, SymlinksInsideAreFollowedOutsideAreNot) {
  const StaticDir dir("/", (base_ / "root").string());
  const auto inside = dir.lookup("/inside");
  ASSERT_EQ(inside.status, 200);
  EXPECT_EQ(read_all(inside), "alpha");
  EXPECT_EQ(dir.lookup("/escape").status, 404);
  EXPECT_EQ(dir.lookup("/abs").status, 404);
}

TEST_F(StaticDirTest, HiddenFilesAre404ExceptWellKnown) {
  const StaticDir dir("/", (base_ / "root").string());
  EXPECT_EQ(dir.lookup("/.hidden").status, 404);
  EXPECT_EQ(dir.lookup("/.well-known/x.txt").status, 200);
}

TEST_F(StaticDirTest, SpecialFilesAreNotServedAndDoNotBlock) {
  const StaticDir dir("/", (base_ / "root").string());
  EXPECT_EQ(dir.lookup("/fifo").status, 404);  // opening must not wait for a writer
  EXPECT_EQ(dir.lookup("/missing").status, 404);
  EXPECT_EQ(dir.lookup("/a.txt/more").status, 404);
}

TEST_F(StaticDirTest, PrefixMountsAtASegmentBoundary) {
  const StaticDir dir("/static/", (base_ / "root").string());
  EXPECT_TRUE(dir.covers("/static"));
  EXPECT_TRUE(dir.covers("/static/a.txt"));
  EXPECT_FALSE(dir.covers("/staticx/a.txt"));
  EXPECT_FALSE(dir.covers("/"));
  EXPECT_EQ(dir.lookup("/static/a.txt").status, 200);
  EXPECT_EQ(dir.lookup("/static/../a.txt").status, 400);
}

TEST_F(StaticDirTest, MissingRootIsAClearError) {
  try {
    const StaticDir dir("/", (base_ / "nope").string());
    FAIL();
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("nope"), std::string::npos);
  }
  EXPECT_THROW(StaticDir("/", (base_ / "root" / "a.txt").string()), std::invalid_argument);
}

}  // namespace
