// Tests of src/server/access_log.cpp: reopening the sink while loops write to it.
#include "server/access_log.hpp"

#include <gtest/gtest.h>

#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace weft::server {
namespace {

namespace fs = std::filesystem;

class TempDir {
 public:
  TempDir() {
    static int counter = 0;
    path_ = fs::temp_directory_path() /
            ("weft-access-unit-" + std::to_string(::getpid()) + "-" + std::to_string(++counter));
    fs::remove_all(path_);
    fs::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  [[nodiscard]] const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

TEST(AccessLogSink, ReopenWhileThreadsWriteLosesAndSplitsNoLine) {
  TempDir dir;
  const fs::path log = dir.path() / "access.log";
  const AccessLogSink sink(log.string());
  constexpr int kWriters = 4;
  constexpr int kLines = 2000;
  std::atomic<bool> go{false};
  std::vector<std::thread> writers;
  for (int w = 0; w < kWriters; ++w) {
    writers.emplace_back([&, w] {
      while (!go.load()) std::this_thread::yield();
      for (int i = 0; i < kLines; ++i) {
        // A padded line, so a line cut between two files would show.
        sink.write("writer-" + std::to_string(w) + " line-" + std::to_string(i) + " " +
                   std::string(100, 'x') + "\n");
      }
    });
  }
  go = true;
  // Rotate ten times while they write: rename, then reopen.
  for (int r = 1; r <= 10; ++r) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
    fs::rename(log, dir.path() / ("access.log." + std::to_string(r)));
    sink.reopen();
  }
  for (auto& t : writers) t.join();

  static const std::regex whole("writer-[0-9] line-[0-9]+ x{100}");
  std::set<std::string> seen;
  std::size_t total = 0;
  for (const auto& entry : fs::directory_iterator(dir.path())) {
    std::ifstream in(entry.path());
    std::string line;
    while (std::getline(in, line)) {
      ++total;
      EXPECT_TRUE(std::regex_match(line, whole)) << line;
      seen.insert(line.substr(0, line.rfind(' ')));
    }
  }
  EXPECT_EQ(total, std::size_t{kWriters} * kLines);
  EXPECT_EQ(seen.size(), std::size_t{kWriters} * kLines);
  // The last rotation's file got what came after it (the writers were still at it, or had finished).
  EXPECT_TRUE(fs::exists(log));
}

TEST(AccessLogSink, ReopenOfStdoutOrOffDoesNothing) {
  const AccessLogSink off("");
  EXPECT_NO_THROW(off.reopen());
  EXPECT_FALSE(off.enabled());
  const AccessLogSink out("-");
  EXPECT_NO_THROW(out.reopen());
  EXPECT_TRUE(out.enabled());
}

TEST(AccessLogSink, ReopenThatFailsThrowsNamingThePathAndKeepsWriting) {
  TempDir dir;
  const fs::path sub = dir.path() / "logs";
  fs::create_directories(sub);
  const AccessLogSink sink((sub / "access.log").string());
  fs::rename(sub, dir.path() / "moved");
  try {
    sink.reopen();
    ADD_FAILURE() << "reopened a path whose directory is gone";
  } catch (const std::system_error& e) {
    EXPECT_NE(std::string(e.what()).find((sub / "access.log").string()), std::string::npos) << e.what();
  }
  sink.write("still here\n");
  std::ifstream in(dir.path() / "moved" / "access.log");
  std::string line;
  ASSERT_TRUE(std::getline(in, line));
  EXPECT_EQ(line, "still here");
}

}  // namespace
}  // namespace weft::server
