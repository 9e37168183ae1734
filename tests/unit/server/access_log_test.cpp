// Tests of src/server/access_log.cpp: the three line formats and their escaping, and reopening
// the sink while loops write to it.
#include "server/access_log.hpp"

#include <gtest/gtest.h>

#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <iterator>
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

// The lines one AccessLogBuffer writes for `entries` in `format`, at the epoch.
std::string lines_of(AccessLogFormat format, const std::vector<AccessLogBuffer::Entry>& entries) {
  TempDir dir;
  const fs::path log = dir.path() / "access.log";
  {
    const AccessLogSink sink(log.string(), format);
    AccessLogBuffer buffer(sink);
    for (const auto& entry : entries) buffer.add(entry, 0);
  }  // the buffer flushes when it goes
  std::ifstream in(log);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

AccessLogBuffer::Entry plain_get() {
  return {"127.0.0.1:50312", "GET", "/index.html", 1, 200, 187, {}, {}, false};
}

TEST(AccessLogFormat, ClfIsTheCommonLogFormat) {
  auto head = plain_get();
  head.method = "HEAD";
  head.bytes = 0;
  head.version_minor = 0;
  head.peer = "[::1]:4000";
  head.referer = "ignored in clf";
  EXPECT_EQ(lines_of(AccessLogFormat::clf, {plain_get(), head}),
            "127.0.0.1 - - [01/Jan/1970:00:00:00 +0000] \"GET /index.html HTTP/1.1\" 200 187\n"
            "::1 - - [01/Jan/1970:00:00:00 +0000] \"HEAD /index.html HTTP/1.0\" 200 -\n");
}

TEST(AccessLogFormat, CombinedAddsRefererAndUserAgentEscapedAsNginxDoes) {
  auto entry = plain_get();
  entry.referer = "https://example.com/\"quoted\"\\back";
  entry.user_agent = "agent\tTAB\x7f\xff\xc3\xa9";
  auto bare = plain_get();
  bare.status = 404;
  bare.method = "-";
  bare.target = "-";
  EXPECT_EQ(lines_of(AccessLogFormat::combined, {entry, bare}),
            "127.0.0.1 - - [01/Jan/1970:00:00:00 +0000] \"GET /index.html HTTP/1.1\" 200 187 "
            "\"https://example.com/\\x22quoted\\x22\\x5Cback\" \"agent\\x09TAB\\x7F\\xFF\\xC3\\xA9\"\n"
            "127.0.0.1 - - [01/Jan/1970:00:00:00 +0000] \"- - HTTP/1.1\" 404 187 \"-\" \"-\"\n");
}

TEST(AccessLogFormat, JsonHasEveryFieldAndIsValidWhateverTheClientSent) {
  auto entry = plain_get();
  entry.https = true;
  entry.tls_version = "TLSv1.3";
  entry.server_name = "example.com";
  entry.referer = "a\"b\\c\x01\n";
  // Well-formed UTF-8 stays (e, euro, an emoji); anything else becomes \u00HH: a lone 0xff, an
  // overlong '/', a surrogate, a sequence cut short, and DEL.
  entry.user_agent = "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80|\xff|\xc0\xaf|\xed\xa0\x80|\xe2\x82|\x7f";
  auto head = plain_get();
  head.method = "HEAD";
  head.bytes = 0;
  head.version_minor = 0;
  head.peer = "[::1]:4000";
  EXPECT_EQ(
      lines_of(AccessLogFormat::json, {entry, head}),
      "{\"time\":\"1970-01-01T00:00:00+00:00\",\"remote_addr\":\"127.0.0.1\",\"method\":\"GET\","
      "\"target\":\"/index.html\",\"protocol\":\"HTTP/1.1\",\"scheme\":\"https\",\"tls_version\":\"TLSv1.3\","
      "\"sni\":\"example.com\",\"status\":200,"
      "\"bytes\":187,\"referer\":\"a\\\"b\\\\c\\u0001\\u000A\",\"user_agent\":"
      "\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80|\\u00FF|\\u00C0\\u00AF|\\u00ED\\u00A0\\u0080|\\u00E2\\u0082|"
      "\\u007F\"}\n"
      "{\"time\":\"1970-01-01T00:00:00+00:00\",\"remote_addr\":\"::1\",\"method\":\"HEAD\","
      "\"target\":\"/index.html\",\"protocol\":\"HTTP/1.0\",\"scheme\":\"http\",\"tls_version\":null,"
      "\"sni\":null,\"status\":200,"
      "\"bytes\":0,\"referer\":null,\"user_agent\":null}\n");
}

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
