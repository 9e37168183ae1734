// The access log of the real binary in operation: SIGUSR1 reopens the file after logrotate
// renamed it, and --access-log-format writes clf, combined or json.

#include <signal.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <filesystem>
#include <optional>
#include <string>

#include "support/clean_exit.hpp"
#include "support/deadline.hpp"
#include "support/files.hpp"
#include "support/http_client.hpp"
#include "support/process.hpp"

namespace weft::test {
namespace {

namespace fs = std::filesystem;

// A fresh directory for one test's log files, removed afterwards.
class LogDir {
 public:
  LogDir() {
    static int counter = 0;
    path_ = fs::temp_directory_path() /
            ("weft-access-log-" + std::to_string(::getpid()) + "-" + std::to_string(++counter));
    fs::remove_all(path_);
    fs::create_directories(path_);
  }
  ~LogDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  LogDir(const LogDir&) = delete;
  LogDir& operator=(const LogDir&) = delete;
  [[nodiscard]] const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

// True once the file at `path` holds `text` (loops flush their lines within a second).
bool file_gets(const fs::path& path, const std::string& text, milliseconds timeout = 5s) {
  return wait_for(
      [&] {
        const auto content = read_file(path.string());
        return content && content->find(text) != std::string::npos;
      },
      timeout);
}

std::string content_of(const fs::path& path) { return read_file(path.string()).value_or(""); }

TEST(AccessLogReopen, Sigusr1SendsNewLinesToANewFileAfterARename) {
  LogDir dir;
  const fs::path log = dir.path() / "access.log";
  const fs::path rotated = dir.path() / "access.log.1";
  WeftServer weft({"--loops", "2", "--access-log", log.string()});
  ASSERT_TRUE(get(weft.port(), "/before-rotation"));
  ASSERT_TRUE(file_gets(log, "/before-rotation")) << content_of(log);

  // logrotate: rename, then tell the server.
  fs::rename(log, rotated);
  weft.process().send_signal(SIGUSR1);
  ASSERT_TRUE(
      weft.process().wait_for_stderr("SIGUSR1 received: access log " + log.string() + " reopened", 5s))
      << weft.process().err();
  for (int i = 0; i < 8; ++i) ASSERT_TRUE(get(weft.port(), "/after-rotation-" + std::to_string(i)));
  for (int i = 0; i < 8; ++i) {
    EXPECT_TRUE(file_gets(log, "/after-rotation-" + std::to_string(i))) << content_of(log);
  }
  EXPECT_EQ(content_of(log).find("/before-rotation"), std::string::npos) << content_of(log);
  EXPECT_EQ(content_of(rotated).find("/after-rotation"), std::string::npos) << content_of(rotated);
  EXPECT_NE(content_of(rotated).find("/before-rotation"), std::string::npos);
  expect_clean_exit(weft.process());
}

TEST(AccessLogReopen, AFileThatCannotBeReopenedLeavesTheOldOneInUse) {
  LogDir dir;
  const fs::path sub = dir.path() / "logs";
  fs::create_directories(sub);
  const fs::path log = sub / "access.log";
  WeftServer weft({"--loops", "1", "--access-log", log.string()});
  // The directory goes away under the server (its file with it): the path cannot be opened.
  const fs::path moved = dir.path() / "logs-moved";
  fs::rename(sub, moved);
  weft.process().send_signal(SIGUSR1);
  ASSERT_TRUE(
      weft.process().wait_for_stderr("cannot reopen the access log, still writing to the old file", 5s))
      << weft.process().err();
  EXPECT_NE(weft.process().err().find(log.string()), std::string::npos) << weft.process().err();
  ASSERT_TRUE(get(weft.port(), "/still-logged"));
  EXPECT_TRUE(file_gets(moved / "access.log", "/still-logged")) << content_of(moved / "access.log");
  expect_clean_exit(weft.process());
}

TEST(AccessLogReopen, Sigusr1WithoutALogFileIsHarmless) {
  WeftServer weft({"--loops", "1", "--access-log", "off"});
  weft.process().send_signal(SIGUSR1);
  ASSERT_TRUE(weft.process().wait_for_stderr("SIGUSR1 received: no access-log file to reopen", 5s))
      << weft.process().err();
  const auto response = get(weft.port(), "/");
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 200);
  expect_clean_exit(weft.process());
}

}  // namespace
}  // namespace weft::test
