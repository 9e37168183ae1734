// The access log of the real binary in operation: SIGUSR1 reopens the file after logrotate
// renamed it, and --access-log-format writes clf, combined or json.

#include <signal.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <filesystem>
#include <optional>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

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

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

// The one line of `lines` that matches `pattern`, or a failure naming it.
::testing::AssertionResult has_line(const std::vector<std::string>& lines, const std::string& pattern) {
  const std::regex re(pattern);
  std::size_t matches = 0;
  for (const auto& line : lines) matches += std::regex_match(line, re) ? 1U : 0U;
  if (matches == 1) return ::testing::AssertionSuccess();
  std::string all;
  for (const auto& line : lines) all += "\n  " + line;
  return ::testing::AssertionFailure() << matches << " lines match " << pattern << "; the log:" << all;
}

const char* const kClfTime = R"(\[[0-9]{2}/[A-Z][a-z]{2}/[0-9]{4}:[0-9]{2}:[0-9]{2}:[0-9]{2} \+0000\])";

TEST(AccessLogFormats, CombinedRecordsRefererAndUserAgentOnEveryKindOfAnswer) {
  LogDir dir;
  const fs::path log = dir.path() / "access.log";
  WeftServer weft({"--loops", "1", "--access-log", log.string(), "--access-log-format", "combined"});
  const auto with = [](const std::string& referer, const std::string& agent) {
    return std::vector<std::string>{"Referer: " + referer, "User-Agent: " + agent};
  };
  // Answered on the loop (a fixed page), by a handler on the pool (the request waits for it with
  // copies of the fields), as a stream (logged when it ends), without the fields, and unparsable.
  ASSERT_TRUE(get(weft.port(), "/", with("http://ref.example/a", "agent-fixed/1.0")));
  ASSERT_TRUE(get(weft.port(), "/sleep?ms=1", with("http://ref.example/b", "agent \"quoted\"")));
  ASSERT_TRUE(get(weft.port(), "/events?n=1&ms=0", with("http://ref.example/c", "agent-stream")));
  ASSERT_TRUE(get(weft.port(), "/nope"));
  const std::string bad = raw_exchange(weft.port(), "BAD REQUEST\r\n\r\n");
  ASSERT_EQ(bad.rfind("HTTP/1.1 400", 0), 0U) << bad;
  expect_clean_exit(weft.process());

  const auto lines = lines_of(content_of(log));
  const std::string start = R"(127\.0\.0\.1 - - )" + std::string(kClfTime);
  EXPECT_TRUE(
      has_line(lines, start + R"( "GET / HTTP/1\.1" 200 [0-9]+ "http://ref\.example/a" "agent-fixed/1\.0")"));
  EXPECT_TRUE(has_line(lines, start + R"( "GET /sleep\?ms=1 HTTP/1\.1" 200 [0-9]+ "http://ref\.example/b" )"
                                      R"("agent \\x22quoted\\x22")"));
  EXPECT_TRUE(has_line(lines, start +
                                  R"( "GET /events\?n=1&ms=0 HTTP/1\.1" 200 [0-9]+ "http://ref\.example/c" )"
                                  R"("agent-stream")"));
  EXPECT_TRUE(has_line(lines, start + R"( "GET /nope HTTP/1\.1" 404 [0-9]+ "-" "-")"));
  EXPECT_TRUE(has_line(lines, start + R"( "- - HTTP/1\.1" 400 [0-9]+ "-" "-")"));
  EXPECT_EQ(lines.size(), 5U);
}

// A throwaway self-signed certificate for localhost (openssl's command line).
bool make_certificate(const fs::path& dir) {
  Process openssl("/usr/bin/openssl",
                  {"req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days",
                   "2", "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost", "-keyout",
                   (dir / "key.pem").string(), "-out", (dir / "cert.pem").string()});
  const auto status = openssl.wait_exit(20s);
  return status && status->exited && status->code == 0;
}

TEST(AccessLogFormats, JsonLinesNameTheSchemeAndProtocol) {
  ASSERT_EQ(::access("/usr/bin/openssl", X_OK), 0) << "run scripts/bootstrap (Debian package openssl)";
  ASSERT_EQ(::access("/usr/bin/curl", X_OK), 0) << "run scripts/bootstrap (Debian package curl)";
  LogDir dir;
  ASSERT_TRUE(make_certificate(dir.path()));
  const fs::path log = dir.path() / "access.log";
  WeftServer weft({"--loops", "1", "--access-log", log.string(), "--access-log-format", "json", "--tls-cert",
                   (dir.path() / "cert.pem").string(), "--tls-key", (dir.path() / "key.pem").string(),
                   "--http-redirect", "0"});
  const auto redirect_line = weft.process().read_stdout_line(5s);
  ASSERT_TRUE(redirect_line) << weft.process().err();
  static const std::regex redirect_url(R"(http://127\.0\.0\.1:([0-9]+)/)");
  std::smatch match;
  ASSERT_TRUE(std::regex_search(*redirect_line, match, redirect_url)) << *redirect_line;
  const auto redirect_port = static_cast<std::uint16_t>(std::stoul(match[1].str()));

  // HTTPS, through curl (certificate not checked: it is self-signed), which speaks HTTP/2 by ALPN;
  // then HTTP/1.1 with the name localhost, which curl sends as SNI (an address it does not).
  const std::string port = std::to_string(weft.port());
  Process curl("/usr/bin/curl",
               {"-q", "-sS", "--noproxy", "*", "--max-time", "8", "-k", "-o", "/dev/null", "-e",
                "https://ref.example/", "-A", "curl-json-test", "https://127.0.0.1:" + port + "/"});
  const auto curled = curl.wait_exit(10s);
  ASSERT_TRUE(curled && curled->exited && curled->code == 0) << curl.err();
  Process curl_sni("/usr/bin/curl",
                   {"-q", "-sS", "--noproxy", "*", "--max-time", "8", "-k", "-o", "/dev/null", "--http1.1",
                    "--tlsv1.2", "--tls-max", "1.2", "--resolve", "localhost:" + port + ":127.0.0.1",
                    "https://localhost:" + port + "/sni"});
  const auto curled_sni = curl_sni.wait_exit(10s);
  ASSERT_TRUE(curled_sni && curled_sni->exited && curled_sni->code == 0) << curl_sni.err();
  // Cleartext HTTP/1.0 on the redirect port.
  const auto redirected = roundtrip(redirect_port, "GET /x HTTP/1.0\r\nHost: localhost\r\n\r\n");
  ASSERT_TRUE(redirected);
  EXPECT_EQ(redirected->status, 308);
  expect_clean_exit(weft.process());

  const auto lines = lines_of(content_of(log));
  const std::string time = R"(\{"time":"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\+00:00",)";
  EXPECT_TRUE(
      has_line(lines, time + R"("remote_addr":"127\.0\.0\.1","method":"GET","target":"/",)"
                             R"("protocol":"HTTP/2\.0","scheme":"https","tls_version":"TLSv1\.3","sni":null,)"
                             R"("status":200,"bytes":[1-9][0-9]*,)"
                             R"("referer":"https://ref\.example/","user_agent":"curl-json-test"\})"));
  EXPECT_TRUE(has_line(
      lines, time + R"("remote_addr":"127\.0\.0\.1","method":"GET","target":"/sni",)"
                    R"("protocol":"HTTP/1\.1","scheme":"https","tls_version":"TLSv1\.2","sni":"localhost",)"
                    R"("status":404,"bytes":[1-9][0-9]*,"referer":null,"user_agent":"curl/[^"]+"\})"));
  EXPECT_TRUE(has_line(lines, time +
                                  R"("remote_addr":"127\.0\.0\.1","method":"GET","target":"/x",)"
                                  R"("protocol":"HTTP/1\.0","scheme":"http","tls_version":null,"sni":null,)"
                                  R"("status":308,"bytes":[1-9][0-9]*,)"
                                  R"("referer":null,"user_agent":null\})"));
  EXPECT_EQ(lines.size(), 3U);
}

}  // namespace
}  // namespace weft::test
