#include "files/static_dir.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>

namespace {

namespace fs = std::filesystem;
using weft::StaticOptions;
using weft::files::ResolveMode;
using weft::files::StaticDir;
using weft::files::Watching;

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

  [[nodiscard]] StaticDir make(const std::string& prefix = "/", StaticOptions options = {},
                               Watching watching = Watching::kAuto) const {
    return StaticDir(prefix, (base_ / "root").string(), std::move(options), GetParam(), watching);
  }

  // Replaces root/`relative` the way rsync and deploy tools do: a new file renamed over it.
  void replace(const std::string& relative, const std::string& text) const {
    write(base_ / "root" / (relative + ".tmp"), text);
    fs::rename(base_ / "root" / (relative + ".tmp"), base_ / "root" / relative);
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

// Without inotify (kOff, as when it is unavailable) every entry is checked on use: each kind of
// change is seen by the very next lookup.
TEST_P(StaticDirTest, UnwatchedEntriesSeeEveryChangeAtTheNextLookup) {
  const StaticDir dir = make("/", {}, Watching::kOff);
  EXPECT_EQ(dir.watch(), nullptr);
  ASSERT_EQ(read_all(dir.lookup("/a.txt")), "alpha");
  replace("a.txt", "replaced");
  EXPECT_EQ(read_all(dir.lookup("/a.txt")), "replaced");
  write(base_ / "root" / "a.txt", "grown in place");
  EXPECT_EQ(read_all(dir.lookup("/a.txt")), "grown in place");
  write(base_ / "root" / "a.txt", "GROWN IN PLACE");  // same size, new bytes, new mtime
  EXPECT_EQ(read_all(dir.lookup("/a.txt")), "GROWN IN PLACE");
  fs::resize_file(base_ / "root" / "a.txt", 5);
  EXPECT_EQ(read_all(dir.lookup("/a.txt")), "GROWN");
  ASSERT_EQ(read_all(dir.lookup("/inside")), "GROWN");
  fs::remove(base_ / "root" / "inside");
  fs::create_symlink("sub/page.html", base_ / "root" / "inside");
  EXPECT_EQ(read_all(dir.lookup("/inside")), "page");
  ASSERT_EQ(read_all(dir.lookup("/sub/page.html")), "page");
  fs::rename(base_ / "root" / "sub", base_ / "root" / "old-sub");
  fs::create_directories(base_ / "root" / "sub");
  write(base_ / "root" / "sub" / "page.html", "new tree");
  EXPECT_EQ(read_all(dir.lookup("/sub/page.html")), "new tree");
  fs::remove(base_ / "root" / "a.txt");
  EXPECT_EQ(dir.lookup("/a.txt").status, 404);
}

// With inotify, a watched entry is used without any check of its own; each lookup first
// applies the changes reported so far, so every kind of change is seen by the next lookup too.
TEST_P(StaticDirTest, WatchedEntriesSeeEveryChangeAtTheNextLookup) {
  const StaticDir dir = make();
  ASSERT_NE(dir.watch(), nullptr) << "inotify unavailable here";
  for (int round = 0; round < 20; ++round) {
    const std::string v = std::to_string(round);
    const auto first = dir.lookup("/sub/page.html");
    ASSERT_EQ(first.status, 200);
    EXPECT_TRUE(first.file->watched);
    EXPECT_EQ(dir.lookup("/sub/page.html").file.get(), first.file.get()) << "a hot file is not opened again";

    replace("sub/page.html", "replaced " + v);
    EXPECT_EQ(read_all(dir.lookup("/sub/page.html")), "replaced " + v);
    write(base_ / "root" / "sub" / "page.html", "grown in place " + v);
    EXPECT_EQ(read_all(dir.lookup("/sub/page.html")), "grown in place " + v);
    write(base_ / "root" / "sub" / "page.html", "GROWN IN PLACE " + v);  // same size
    EXPECT_EQ(read_all(dir.lookup("/sub/page.html")), "GROWN IN PLACE " + v);
    fs::resize_file(base_ / "root" / "sub" / "page.html", 5);
    EXPECT_EQ(read_all(dir.lookup("/sub/page.html")), "GROWN");
    // The directory renamed away and another put in its place.
    const std::string old = "old-sub-" + v;
    fs::rename(base_ / "root" / "sub", base_ / "root" / old);
    fs::create_directories(base_ / "root" / "sub");
    write(base_ / "root" / "sub" / "page.html", "new tree " + v);
    EXPECT_EQ(read_all(dir.lookup("/sub/page.html")), "new tree " + v);
    EXPECT_EQ(read_all(dir.lookup("/" + old + "/page.html")), "GROWN");
    fs::remove(base_ / "root" / "sub" / "page.html");
    EXPECT_EQ(dir.lookup("/sub/page.html").status, 404);
    write(base_ / "root" / "sub" / "page.html", "back " + v);
    EXPECT_EQ(read_all(dir.lookup("/sub/page.html")), "back " + v);
  }
  // A directory that gains an index.html stops being listed.
  EXPECT_TRUE(dir.lookup("/empty/").listing);
  write(base_ / "root" / "empty" / "index.html", "indexed");
  EXPECT_EQ(read_all(dir.lookup("/empty/")), "indexed");
  EXPECT_GE(dir.watch()->watches(), 2U);
}

// What inotify cannot vouch for is checked on use, so even with watching on it is seen at once.
TEST_P(StaticDirTest, PathsThroughSymlinksAndHardLinkedFilesAreCheckedOnUse) {
  fs::create_hard_link(base_ / "root" / "a.txt", base_ / "root" / "sub" / "twin.txt");
  const StaticDir dir = make();
  ASSERT_NE(dir.watch(), nullptr) << "inotify unavailable here";
  const auto link = dir.lookup("/inside");
  ASSERT_EQ(read_all(link), "alpha");
  EXPECT_FALSE(link.file->watched);
  const auto twin = dir.lookup("/sub/twin.txt");
  ASSERT_EQ(read_all(twin), "alpha");
  EXPECT_FALSE(twin.file->watched);
  EXPECT_EQ(dir.lookup("/escape").status, 404);
  EXPECT_TRUE(dir.lookup("/missing").file == nullptr);

  // Written through the other name, in a directory whose events say nothing of "sub/twin.txt".
  write(base_ / "root" / "a.txt", "ALPHA");
  EXPECT_EQ(read_all(dir.lookup("/sub/twin.txt")), "ALPHA");
  EXPECT_EQ(read_all(dir.lookup("/inside")), "ALPHA");
  fs::remove(base_ / "root" / "inside");
  fs::create_symlink("sub/page.html", base_ / "root" / "inside");
  EXPECT_EQ(read_all(dir.lookup("/inside")), "page");
}

// The check a prepared answer's bytes get (fast_response.cpp): the descriptor still shows the
// version the entry describes, and the file still has a name.
TEST_P(StaticDirTest, AnEntryKnowsWhenItsDescriptorNoLongerShowsItsVersion) {
  const StaticDir dir = make();
  auto found = dir.lookup("/a.txt");
  ASSERT_EQ(found.status, 200);
  EXPECT_TRUE(found.file->descriptor_current());
  write(base_ / "root" / "a.txt", "ALPHA");  // same size, same inode
  EXPECT_FALSE(found.file->descriptor_current());
  found = dir.lookup("/a.txt");
  EXPECT_TRUE(found.file->descriptor_current());
  replace("a.txt", "other");  // the old inode loses its name
  EXPECT_FALSE(found.file->descriptor_current());
  found = dir.lookup("/a.txt");
  EXPECT_TRUE(found.file->descriptor_current());
  fs::remove(base_ / "root" / "a.txt");
  EXPECT_FALSE(found.file->descriptor_current());
}

TEST_P(StaticDirTest, CacheServesAHotFileWithoutReopeningIt) {
  const StaticDir dir = make();
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
