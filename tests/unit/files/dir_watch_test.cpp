#include "files/dir_watch.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using weft::files::DirWatch;

// A tree root/d/e/f.txt, root/top.txt, and what a DirWatch on root reports ("*": everything).
class DirWatchTest : public testing::Test {
 protected:
  void SetUp() override {
    base_ = fs::temp_directory_path() / ("weft-watch-" + std::to_string(::getpid()) + "-" +
                                         testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(base_);
    fs::create_directories(base_ / "root" / "d" / "e");
    write("d/e/f.txt", "f");
    write("top.txt", "top");
    root_ = ::open((base_ / "root").c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    ASSERT_GE(root_, 0);
  }
  void TearDown() override {
    ::close(root_);
    fs::remove_all(base_);
  }

  void write(const std::string& relative, const std::string& text) const {
    std::ofstream(base_ / "root" / relative, std::ios::trunc) << text;
  }
  [[nodiscard]] fs::path path(const std::string& relative) const { return base_ / "root" / relative; }

  DirWatch::Changed recorder() {
    return [this](std::optional<std::string_view> changed) {
      const std::lock_guard lock(mutex_);
      seen_.emplace_back(changed ? std::string(*changed) : "*");
      cv_.notify_all();
    };
  }
  // True once `relative` (or "*") has been reported, within 2 s; forgets what was reported.
  bool reported(const std::string& relative) {
    std::unique_lock lock(mutex_);
    const bool ok = cv_.wait_for(lock, 2s, [&] {
      return std::find(seen_.begin(), seen_.end(), relative) != seen_.end() ||
             std::find(seen_.begin(), seen_.end(), "*") != seen_.end();
    });
    seen_.clear();
    return ok;
  }

  fs::path base_;
  int root_ = -1;
  std::mutex mutex_;
  std::condition_variable cv_;
  std::vector<std::string> seen_;
};

TEST_F(DirWatchTest, WatchesEachDirectoryOnTheWayOnce) {
  DirWatch watch(root_, 16, recorder());
  ASSERT_TRUE(watch.active());
  EXPECT_EQ(watch.watches(), 1U);  // the root
  EXPECT_TRUE(watch.watch_path("d/e/f.txt"));
  EXPECT_EQ(watch.watches(), 3U);  // ., d, d/e
  EXPECT_TRUE(watch.watch_path("d/e/g.txt"));
  EXPECT_TRUE(watch.watch_path("d"));
  EXPECT_TRUE(watch.watch_path("top.txt"));
  EXPECT_EQ(watch.watches(), 3U);
  // The way ends at a missing name or a file: its directory reports it appearing.
  EXPECT_TRUE(watch.watch_path("missing/x/y.txt"));
  EXPECT_TRUE(watch.watch_path("top.txt/x"));
  EXPECT_EQ(watch.watches(), 3U);
}

TEST_F(DirWatchTest, ReportsEveryKindOfChangeToAWatchedPath) {
  // One file per kind, so that a late report of one change cannot pass for the next.
  for (const char* name : {"write", "rename", "truncate", "chmod", "utimes", "delete"})
    write(std::string("d/e/") + name, "v1");
  DirWatch watch(root_, 16, recorder());
  ASSERT_TRUE(watch.watch_path("d/e/f.txt"));

  write("d/e/write", "rewritten in place");
  EXPECT_TRUE(reported("d/e/write"));
  write("d/e/rename.tmp", "replacement");
  fs::rename(path("d/e/rename.tmp"), path("d/e/rename"));
  EXPECT_TRUE(reported("d/e/rename"));
  fs::resize_file(path("d/e/truncate"), 1);
  EXPECT_TRUE(reported("d/e/truncate"));
  fs::permissions(path("d/e/chmod"), fs::perms::owner_read);
  EXPECT_TRUE(reported("d/e/chmod"));
  const timespec times[2] = {{1'600'000'000, 0}, {1'600'000'000, 0}};
  ASSERT_EQ(::utimensat(AT_FDCWD, path("d/e/utimes").c_str(), times, 0), 0);
  EXPECT_TRUE(reported("d/e/utimes"));
  fs::remove(path("d/e/delete"));
  EXPECT_TRUE(reported("d/e/delete"));
  write("d/e/create", "new");
  EXPECT_TRUE(reported("d/e/create"));
  fs::create_symlink("f.txt", path("d/e/link"));
  EXPECT_TRUE(reported("d/e/link"));
}

TEST_F(DirWatchTest, ARenamedDirectoryIsReportedAndWatchedAgainUnderItsNewName) {
  DirWatch watch(root_, 16, recorder());
  ASSERT_TRUE(watch.watch_path("d/e/f.txt"));
  ASSERT_EQ(watch.watches(), 3U);
  fs::rename(path("d"), path("moved"));
  EXPECT_TRUE(reported("d"));  // stands for d/e/f.txt and everything else below d
  EXPECT_EQ(watch.watches(), 1U) << "the watches below the old name must go";
  EXPECT_TRUE(watch.watch_path("moved/e/f.txt"));
  EXPECT_EQ(watch.watches(), 3U);
  write("moved/e/f.txt", "edited after the move");
  EXPECT_TRUE(reported("moved/e/f.txt")) << "the event must carry the new name, not the old";
}

TEST_F(DirWatchTest, ADirectoryReplacedByAnotherIsReported) {
  DirWatch watch(root_, 16, recorder());
  ASSERT_TRUE(watch.watch_path("d/e/f.txt"));
  fs::create_directories(path("d2/e"));
  write("d2/e/f.txt", "other tree");
  ASSERT_TRUE(reported("d2"));
  fs::remove_all(path("d"));
  EXPECT_TRUE(reported("d"));
  fs::rename(path("d2"), path("d"));
  EXPECT_TRUE(reported("d"));
  EXPECT_TRUE(watch.watch_path("d/e/f.txt"));
  write("d/e/f.txt", "edited");
  EXPECT_TRUE(reported("d/e/f.txt"));
}

// catch_up() applies what is queued on the calling thread: a change is reported when it
// returns, however late the watch's own thread runs.
TEST_F(DirWatchTest, CatchUpReportsEveryQueuedChangeBeforeReturning) {
  DirWatch watch(root_, 16, recorder());
  ASSERT_TRUE(watch.watch_path("d/e/f.txt"));
  for (int i = 0; i < 200; ++i) {
    const std::string name = "d/e/n" + std::to_string(i);
    write(name, "x");
    watch.catch_up();
    const std::lock_guard lock(mutex_);
    EXPECT_NE(std::find(seen_.begin(), seen_.end(), name), seen_.end()) << name;
  }
}

TEST_F(DirWatchTest, RefusesPathsBeyondItsBound) {
  DirWatch watch(root_, 2, recorder());
  EXPECT_FALSE(watch.watch_path("d/e/f.txt")) << "., d and d/e need three watches";
  EXPECT_EQ(watch.watches(), 2U);
  EXPECT_TRUE(watch.watch_path("d/g.txt"));
  EXPECT_TRUE(watch.watch_path("top.txt"));
}

TEST_F(DirWatchTest, StopsAtOnceWhenDestroyed) {
  const auto start = std::chrono::steady_clock::now();
  {
    DirWatch watch(root_, 16, recorder());
    ASSERT_TRUE(watch.active());
  }
  EXPECT_LT(std::chrono::steady_clock::now() - start, 1s);
}

}  // namespace
