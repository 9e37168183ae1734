#include "files/static_dir.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>

namespace {

namespace fs = std::filesystem;
using weft::StaticOptions;
using weft::files::ResolveMode;
using weft::files::StaticDir;

// A tree under a fresh temp dir:
//   outside/secret.txt                 (outside the served root)
//   root/index.html  root/a.txt  root/.hidden  root/.well-known/x.txt
//   root/sub/page.html  root/empty/  root/fifo
//   root/inside -> a.txt    root/escape -> ../outside/secret.txt    root/abs -> /etc/passwd
// Every test runs twice: with openat2, and with the per-component fallback forced (what a
// kernel without openat2 gets).
class StaticDirTest : public testing::TestWithParam<ResolveMode> {
 protected:
  void SetUp() override {
    std::string name = testing::UnitTest::GetInstance()->current_test_info()->name();
    for (char& c : name) c = c == '/' ? '-' : c;
    base_ = fs::temp_directory_path() / ("weft-static-" + std::to_string(::getpid()) + "-" + name);
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
    if (!l.file || !l.file->file) return "<no file>";
    std::string out(static_cast<std::size_t>(l.file->info.st_size), '\0');
    EXPECT_EQ(::pread(l.file->file->get(), out.data(), out.size(), 0), static_cast<ssize_t>(out.size()));
    return out;
  }

  [[nodiscard]] StaticDir make(const std::string& prefix = "/", StaticOptions options = {}) const {
    return StaticDir(prefix, (base_ / "root").string(), std::move(options), GetParam());
  }

  fs::path base_;
};

TEST_P(StaticDirTest, ServesAFileUnderTheRoot) {
  const StaticDir dir = make();
  const auto found = dir.lookup("/a.txt");
  ASSERT_EQ(found.status, 200);
  EXPECT_EQ(read_all(found), "alpha");
}

TEST_P(StaticDirTest, DirectoryServesItsIndexAndRedirectsWithoutSlash) {
  const StaticDir dir = make();
  const auto root = dir.lookup("/");
  ASSERT_EQ(root.status, 200);
  EXPECT_EQ(read_all(root), "<h1>index</h1>");
  const auto sub = dir.lookup("/sub");
  EXPECT_EQ(sub.status, 301);
  EXPECT_EQ(sub.location, "/sub/");
  const auto empty = dir.lookup("/empty/");
  EXPECT_EQ(empty.status, 200);  // no index: listed
  EXPECT_TRUE(empty.listing);
  const auto with_query = dir.lookup("/sub", "a=1&b");
  EXPECT_EQ(with_query.location, "/sub/?a=1&b");
}

TEST_P(StaticDirTest, DotSegmentsNeverClimbAboveTheRoot) {
  const StaticDir dir = make();
  EXPECT_EQ(dir.lookup("/../outside/secret.txt").status, 400);
  EXPECT_EQ(dir.lookup("/sub/../../outside/secret.txt").status, 400);
  const auto back_in = dir.lookup("/sub/../a.txt");
  ASSERT_EQ(back_in.status, 200);
  EXPECT_EQ(read_all(back_in), "alpha");
  EXPECT_EQ(dir.lookup("/./a.txt").status, 200);
  EXPECT_EQ(dir.lookup("//a.txt").status, 200);
}

TEST_P(StaticDirTest, SymlinksInsideAreFollowedOutsideAreNot) {
  const StaticDir dir = make();
  const auto inside = dir.lookup("/inside");
  ASSERT_EQ(inside.status, 200);
  EXPECT_EQ(read_all(inside), "alpha");
  EXPECT_EQ(dir.lookup("/escape").status, 404);
  EXPECT_EQ(dir.lookup("/abs").status, 404);
}

TEST_P(StaticDirTest, HiddenFilesAre404ExceptWellKnown) {
  const StaticDir dir = make();
  EXPECT_EQ(dir.lookup("/.hidden").status, 404);
  EXPECT_EQ(dir.lookup("/.well-known/x.txt").status, 200);
}

TEST_P(StaticDirTest, SpecialFilesAreNotServedAndDoNotBlock) {
  const StaticDir dir = make();
  EXPECT_EQ(dir.lookup("/fifo").status, 404);  // opening must not wait for a writer
  EXPECT_EQ(dir.lookup("/missing").status, 404);
  EXPECT_EQ(dir.lookup("/a.txt/more").status, 404);
}

TEST_P(StaticDirTest, PrefixMountsAtASegmentBoundary) {
  const StaticDir dir = make("/static/");
  EXPECT_TRUE(dir.covers("/static"));
  EXPECT_TRUE(dir.covers("/static/a.txt"));
  EXPECT_FALSE(dir.covers("/staticx/a.txt"));
  EXPECT_FALSE(dir.covers("/"));
  EXPECT_EQ(dir.lookup("/static/a.txt").status, 200);
  EXPECT_EQ(dir.lookup("/static/../a.txt").status, 400);
}

TEST_P(StaticDirTest, MissingRootIsAClearError) {
  try {
    const StaticDir dir("/", (base_ / "nope").string(), {}, GetParam());
    FAIL();
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("nope"), std::string::npos);
  }
  EXPECT_THROW(StaticDir("/", (base_ / "root" / "a.txt").string(), {}, GetParam()), std::invalid_argument);
}

TEST_P(StaticDirTest, ListingOffMakesADirectoryWithoutIndexForbidden) {
  StaticOptions options;
  options.listing = false;
  const StaticDir dir = make("/", options);
  EXPECT_EQ(dir.lookup("/empty/").status, 403);
  EXPECT_EQ(dir.lookup("/").status, 200);  // the index is still served
}

TEST_P(StaticDirTest, HiddenOptionServesDotFiles) {
  StaticOptions options;
  options.hidden = true;
  const StaticDir dir = make("/", options);
  const auto hidden = dir.lookup("/.hidden");
  ASSERT_EQ(hidden.status, 200);
  EXPECT_EQ(read_all(hidden), "hidden");
}

TEST_P(StaticDirTest, FollowSymlinksOutsideIsOptIn) {
  StaticOptions options;
  options.follow_symlinks_outside = true;
  const StaticDir dir = make("/", options);
  const auto escape = dir.lookup("/escape");
  ASSERT_EQ(escape.status, 200);
  EXPECT_EQ(read_all(escape), "secret");
}

TEST_P(StaticDirTest, SymlinkedDirectoriesResolveBeneathTheRoot) {
  fs::create_directories(base_ / "outside" / "dir");
  write(base_ / "outside" / "dir" / "s.txt", "secret");
  fs::create_symlink("../outside/dir", base_ / "root" / "dirout");
  fs::create_symlink("sub", base_ / "root" / "dirin");
  fs::create_symlink("sub/../../outside/secret.txt", base_ / "root" / "dotdot");
  fs::create_symlink("loop", base_ / "root" / "loop");
  const StaticDir dir = make();
  EXPECT_EQ(dir.lookup("/dirout/s.txt").status, 404);
  EXPECT_EQ(dir.lookup("/dirout/").status, 404);
  EXPECT_EQ(dir.lookup("/dotdot").status, 404);
  EXPECT_EQ(dir.lookup("/loop").status, 404);
  const auto in = dir.lookup("/dirin/page.html");
  ASSERT_EQ(in.status, 200);
  EXPECT_EQ(read_all(in), "page");
}

TEST_P(StaticDirTest, CacheSeesAnEditedAndADeletedFileAfterRevalidation) {
  StaticOptions options;
  options.revalidate_after = std::chrono::milliseconds(0);  // check on every lookup
  const StaticDir dir = make("/", options);
  ASSERT_EQ(read_all(dir.lookup("/a.txt")), "alpha");
  {
    // A new file renamed over the old one (how editors and deploys replace files).
    write(base_ / "root" / "a.tmp", "changed!");
    fs::rename(base_ / "root" / "a.tmp", base_ / "root" / "a.txt");
  }
  EXPECT_EQ(read_all(dir.lookup("/a.txt")), "changed!");
  fs::remove(base_ / "root" / "a.txt");
  EXPECT_EQ(dir.lookup("/a.txt").status, 404);
}

TEST_P(StaticDirTest, CacheServesAHotFileWithoutReopeningIt) {
  const StaticDir dir = make();  // revalidate_after 1 s
  const auto first = dir.lookup("/a.txt");
  const auto second = dir.lookup("/a.txt");
  ASSERT_EQ(first.status, 200);
  EXPECT_EQ(first.file.get(), second.file.get()) << "the second lookup opened the file again";
  ASSERT_NE(dir.cache(), nullptr);
  EXPECT_GE(dir.cache()->size(), 1U);
}

TEST_P(StaticDirTest, InvalidOptionsAreRefused) {
  StaticOptions bad;
  bad.cache_control = "max-age=1\r\nX-Evil: 1";
  EXPECT_THROW((void)make("/", bad), std::invalid_argument);
}

INSTANTIATE_TEST_SUITE_P(Resolvers, StaticDirTest,
                         testing::Values(ResolveMode::kOpenat2, ResolveMode::kComponents),
                         [](const testing::TestParamInfo<ResolveMode>& param) {
                           return param.param == ResolveMode::kOpenat2 ? "Openat2" : "PerComponent";
                         });

}  // namespace
