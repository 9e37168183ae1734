#include "files/beneath.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <fstream>
#include <string>
#include <utility>

namespace {

namespace fs = std::filesystem;
using weft::files::open_beneath_by_components;
using weft::files::open_beneath_openat2;
using weft::files::Opened;
using weft::files::Symlinks;

// The fallback resolver, called directly (as on a kernel without openat2), and compared with
// openat2 on the same tree.
class Beneath : public testing::Test {
 protected:
  void SetUp() override {
    base_ = fs::temp_directory_path() / ("weft-beneath-" + std::to_string(::getpid()) + "-" +
                                         testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(base_);
    fs::create_directories(base_ / "root" / "d" / "e");
    fs::create_directories(base_ / "out");
    std::ofstream(base_ / "root" / "d" / "e" / "f.txt") << "inside";
    std::ofstream(base_ / "out" / "secret") << "secret";
    fs::create_symlink("e/f.txt", base_ / "root" / "d" / "rel");
    fs::create_symlink("../d/e", base_ / "root" / "d" / "updown");
    fs::create_symlink("../../out/secret", base_ / "root" / "d" / "escape");
    fs::create_symlink((base_ / "root" / "d" / "e" / "f.txt").string(), base_ / "root" / "absolute");
    fs::create_symlink("../out", base_ / "root" / "outdir");
    fs::create_symlink("self", base_ / "root" / "self");
    fs::create_symlink("/proc/self/root/etc/passwd", base_ / "root" / "magic");
    root_ = ::open((base_ / "root").c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    ASSERT_GE(root_, 0);
  }
  void TearDown() override {
    ::close(root_);
    fs::remove_all(base_);
  }

  static std::string content(const Opened& o) {
    std::string out(64, '\0');
    const ssize_t n = ::pread(o.fd.get(), out.data(), out.size(), 0);
    out.resize(n > 0 ? static_cast<std::size_t>(n) : 0);
    return out;
  }

  // Both resolvers give the same errno (or the same content).
  void expect_both(const std::string& path, int error, const std::string& text = {}) {
    const Opened fallback = open_beneath_by_components(root_, path, Symlinks::kBeneath);
    EXPECT_EQ(fallback.error, error) << "fallback: " << path;
    const Opened kernel = open_beneath_openat2(root_, path, Symlinks::kBeneath);
    if (kernel.error != ENOSYS) {
      EXPECT_EQ(kernel.error, error) << "openat2: " << path;
    }
    if (error == 0) {
      EXPECT_EQ(content(fallback), text) << path;
    }
  }

  fs::path base_;
  int root_ = -1;
};

TEST_F(Beneath, FollowsSymlinksThatStayInside) {
  expect_both("d/e/f.txt", 0, "inside");
  expect_both("d/rel", 0, "inside");
  expect_both("d/updown/f.txt", 0, "inside");
}

TEST_F(Beneath, RefusesEverySymlinkThatLeaves) {
  expect_both("d/escape", EXDEV);
  expect_both("absolute", EXDEV);  // absolute links are refused even when they point inside
  expect_both("outdir/secret", EXDEV);
  expect_both("magic", EXDEV);
  expect_both("self", ELOOP);
}

TEST_F(Beneath, ReportsMissingAndNotADirectory) {
  expect_both("nope", ENOENT);
  expect_both("d/e/f.txt/x", ENOTDIR);
}

TEST_F(Beneath, OpensTheRootAndDirectories) {
  const Opened root = open_beneath_by_components(root_, ".", Symlinks::kBeneath);
  ASSERT_EQ(root.error, 0);
  struct stat info {};
  ASSERT_EQ(::fstat(root.fd.get(), &info), 0);
  EXPECT_TRUE(S_ISDIR(info.st_mode));
  EXPECT_EQ(open_beneath_by_components(root_, "d/e", Symlinks::kBeneath).error, 0);
}

// What a path names can change outside its own directories only through a symlink: the
// open-file cache watches the directories of the other paths and checks these on use.
TEST_F(Beneath, BothResolversSayWhenTheyWentThroughASymlink) {
  for (const auto& [path, via] : {std::pair<std::string, bool>{"d/e/f.txt", false},
                                  {"nope", false},
                                  {"d/e/f.txt/x", false},
                                  {"d/rel", true},
                                  {"d/updown/f.txt", true},
                                  {"d/escape", true},
                                  {"self", true}}) {
    EXPECT_EQ(open_beneath_by_components(root_, path, Symlinks::kBeneath).via_symlink, via)
        << "fallback: " << path;
    const Opened kernel = open_beneath_openat2(root_, path, Symlinks::kBeneath);
    if (kernel.error != ENOSYS) {
      EXPECT_EQ(kernel.via_symlink, via) << "openat2: " << path;
    }
  }
  const Opened kernel = open_beneath_openat2(root_, "d/rel", Symlinks::kBeneath);
  if (kernel.error != ENOSYS) {
    EXPECT_EQ(content(kernel), "inside");  // the second try opens it
  }
}

TEST_F(Beneath, FollowAnywhereLeavesTheRootOnPurpose) {
  const Opened o = open_beneath_by_components(root_, "d/escape", Symlinks::kFollowAnywhere);
  ASSERT_EQ(o.error, 0);
  EXPECT_EQ(content(o), "secret");
}

}  // namespace
