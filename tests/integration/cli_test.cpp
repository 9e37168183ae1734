// The command-line contract of issue 3: help, version, and every CLI error as
// one stderr line with exit code 2 (usage) or 1 (runtime).

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <regex>
#include <string>

#include "support/files.hpp"
#include "support/http_client.hpp"
#include "support/process.hpp"

namespace weft::test {
namespace {

std::size_t line_count(const std::string& text) {
  return static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n'));
}

// One non-empty line on stderr, nothing on stdout, exit `code`; the line contains `needle`.
void expect_usage_error(const RunResult& result, int code, const std::string& needle) {
  ASSERT_TRUE(result.status.has_value()) << "weft did not exit; stderr: " << result.err;
  EXPECT_TRUE(result.status->exited) << "killed by signal " << result.status->signal
                                     << "; stderr: " << result.err;
  EXPECT_EQ(result.status->code, code) << result.err;
  EXPECT_EQ(line_count(result.err), 1U) << result.err;
  EXPECT_NE(result.err.find(needle), std::string::npos) << "stderr: " << result.err;
  EXPECT_EQ(result.out, "");
}

TEST(Cli, HelpExitsZeroAndListsEveryFlag) {
  const auto result = run_weft({"--help"});
  ASSERT_TRUE(result.status && result.status->exited);
  EXPECT_EQ(result.status->code, 0);
  for (const char* flag : {"ROOT",
                           "-b,--bind",
                           "-p,--port",
                           "-t,--threads",
                           "--loops",
                           "--exit-after",
                           "--shutdown-timeout",
                           "--drain-idle-grace",
                           "--access-log",
                           "--log-level",
                           "-h,--help",
                           "-V,--version",
                           "--max-request-line",
                           "--max-header-bytes",
                           "--max-headers",
                           "--max-body",
                           "--max-requests-per-connection",
                           "--max-connections",
                           "--max-queued",
                           "--send-buffer",
                           "--header-timeout",
                           "--body-timeout",
                           "--keepalive-timeout",
                           "--write-timeout",
                           "--user",
                           "--access-log-format"}) {
    EXPECT_NE(result.out.find(flag), std::string::npos) << "--help does not mention " << flag;
  }
  // Defaults from the contract are shown.
  EXPECT_NE(result.out.find("127.0.0.1"), std::string::npos);
  EXPECT_NE(result.out.find("7878"), std::string::npos);
  EXPECT_EQ(result.err, "");
}

TEST(Cli, ShortHelpFlagWorks) {
  const auto result = run_weft({"-h"});
  ASSERT_TRUE(result.status && result.status->exited);
  EXPECT_EQ(result.status->code, 0);
  EXPECT_NE(result.out.find("--threads"), std::string::npos);
}

TEST(Cli, VersionPrintsNameAndVersion) {
  for (const char* flag : {"--version", "-V"}) {
    const auto result = run_weft({flag});
    ASSERT_TRUE(result.status && result.status->exited) << flag;
    EXPECT_EQ(result.status->code, 0) << flag;
    EXPECT_EQ(result.out, std::string("weft ") + WEFT_VERSION + "\n") << flag;
  }
}

TEST(Cli, ZeroThreadsIsAUsageError) { expect_usage_error(run_weft({"--threads", "0"}), 2, "threads"); }

TEST(Cli, NonNumericPortIsAUsageError) { expect_usage_error(run_weft({"--port", "abc"}), 2, "port"); }

TEST(Cli, PortAboveRangeIsAUsageError) { expect_usage_error(run_weft({"--port", "70000"}), 2, "port"); }

TEST(Cli, NegativeThreadsIsAUsageError) { expect_usage_error(run_weft({"-t", "-3"}), 2, "threads"); }

TEST(Cli, BadDurationIsAUsageError) {
  expect_usage_error(run_weft({"--keepalive-timeout", "soon"}), 2, "keepalive-timeout");
  expect_usage_error(run_weft({"--shutdown-timeout", "-1"}), 2, "shutdown-timeout");
  expect_usage_error(run_weft({"--drain-idle-grace", "-0.5"}), 2, "drain-idle-grace");
}

TEST(Cli, BadSizeIsAUsageError) { expect_usage_error(run_weft({"--max-body", "1x"}), 2, "max-body"); }

TEST(Cli, BadLogLevelIsAUsageError) { expect_usage_error(run_weft({"--log-level", "loud"}), 2, "log-level"); }

TEST(Cli, BadBindAddressIsAUsageError) {
  expect_usage_error(run_weft({"--bind", "not-an-ip"}), 2, "not-an-ip");
}

TEST(Cli, UnknownFlagIsAUsageError) { expect_usage_error(run_weft({"--frobnicate"}), 2, "--frobnicate"); }

TEST(Cli, MissingOptionValueIsAUsageError) { expect_usage_error(run_weft({"--port"}), 2, "port"); }

TEST(Cli, BadSendBufferIsAUsageError) {
  expect_usage_error(run_weft({"--send-buffer", "lots"}), 2, "send-buffer");
  expect_usage_error(run_weft({"--send-buffer", "2147483648"}), 2, "send-buffer");
  expect_usage_error(run_weft({"--send-buffer", "-1"}), 2, "send-buffer");
}

TEST(Cli, TwoRootsIsAUsageError) { expect_usage_error(run_weft({"/tmp", "/var"}), 2, "/var"); }

TEST(Cli, MissingRootIsAnErrorNamingThePath) {
  const std::string missing = "/nonexistent/weft-root-" + std::to_string(::getpid());
  const auto result = run_weft({"--port", "0", missing});
  ASSERT_TRUE(result.status && result.status->exited) << result.err;
  EXPECT_NE(result.status->code, 0);
  EXPECT_EQ(result.status->code, 2);
  EXPECT_EQ(line_count(result.err), 1U) << result.err;
  EXPECT_NE(result.err.find(missing), std::string::npos) << result.err;
  EXPECT_EQ(result.out, "");
}

TEST(Cli, RootThatIsAFileIsAnError) {
  const auto result = run_weft({"--port", "0", WEFT_SITE_DIR "/hello.html"});
  ASSERT_TRUE(result.status && result.status->exited) << result.err;
  EXPECT_EQ(result.status->code, 2);
  EXPECT_EQ(line_count(result.err), 1U) << result.err;
  EXPECT_NE(result.err.find("hello.html"), std::string::npos) << result.err;
}

TEST(Cli, PortInUseIsARuntimeErrorNamingTheAddress) {
  // A listener of our own, without SO_REUSEPORT, so that weft's bind must fail.
  Fd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  ASSERT_TRUE(fd.valid());
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(::listen(fd.get(), 4), 0);
  socklen_t length = sizeof addr;
  ASSERT_EQ(::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&addr), &length), 0);
  const std::string port = std::to_string(ntohs(addr.sin_port));

  const auto result = run_weft({"--port", port});
  ASSERT_TRUE(result.status.has_value()) << "weft started on a port in use";
  EXPECT_TRUE(result.status->exited) << "signal " << result.status->signal << "; stderr: " << result.err;
  EXPECT_EQ(result.status->code, 1) << result.err;
  EXPECT_EQ(line_count(result.err), 1U) << result.err;
  EXPECT_NE(result.err.find("127.0.0.1:" + port), std::string::npos) << result.err;
  EXPECT_EQ(result.out, "");
}

TEST(Cli, ListeningLineNamesTheUrlSiteLoopsAndThreads) {
  WeftServer server({"--loops", "2", "--threads", "3"});
  EXPECT_EQ(server.listening_line(), "weft listening on http://127.0.0.1:" + std::to_string(server.port()) +
                                         "/ (built-in site, 2 loops, 3 threads)");
}

TEST(Cli, ListeningLineDefaultsToFourThreadsAndCpuCountLoops) {
  WeftServer server;
  const long cpus = ::sysconf(_SC_NPROCESSORS_ONLN);
  ASSERT_GT(cpus, 0);
  const std::regex expected(
      R"(weft listening on http://127\.0\.0\.1:[0-9]+/ \(built-in site, ([0-9]+) loops?, 4 threads\))");
  std::smatch match;
  ASSERT_TRUE(std::regex_match(server.listening_line(), match, expected)) << server.listening_line();
  EXPECT_EQ(match[1].str(), std::to_string(cpus));
}

TEST(Cli, ListeningLineNamesTheRootDirectory) {
  const auto dir = std::filesystem::temp_directory_path() / ("weft-root-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  {
    WeftServer server({"--loops", "1", "--threads", "1", dir.string()});
    EXPECT_EQ(server.listening_line(), "weft listening on http://127.0.0.1:" + std::to_string(server.port()) +
                                           "/ (serving " + dir.string() + ", 1 loop, 1 thread)");
  }
  std::filesystem::remove_all(dir);
}

TEST(Cli, AccessLogOffByDefaultWhenStdoutIsAPipe) {
  WeftServer server({"--loops", "1"});
  const auto response = get(server.port(), "/");
  ASSERT_TRUE(response);
  server.process().send_signal(SIGTERM);
  const auto status = server.process().wait_exit(5s);
  ASSERT_TRUE(status && status->exited);
  // Only the listening line: no access-log line on stdout.
  EXPECT_EQ(line_count(server.process().out()), 1U) << server.process().out();
}

TEST(Cli, AccessLogToStdoutComesAfterTheListeningLine) {
  WeftServer server({"--loops", "1", "--access-log", "-"});
  const auto response = get(server.port(), "/");
  ASSERT_TRUE(response);
  server.process().send_signal(SIGTERM);
  const auto status = server.process().wait_exit(5s);
  ASSERT_TRUE(status && status->exited);
  EXPECT_EQ(status->code, 0);
  // WeftServer consumed the listening line; the log line follows it.
  EXPECT_NE(server.process().out().find("\"GET / HTTP/1.1\" 200 "), std::string::npos)
      << server.process().out();
  EXPECT_EQ(server.process().out().rfind("weft listening on ", 0), 0U);
}

TEST(Cli, AccessLogToAFileInCommonLogFormat) {
  const auto path =
      std::filesystem::temp_directory_path() / ("weft-access-" + std::to_string(::getpid()) + ".log");
  std::filesystem::remove(path);
  {
    WeftServer server({"--loops", "1", "--access-log", path.string()});
    const auto response = get(server.port(), "/nope");
    ASSERT_TRUE(response);
    server.process().send_signal(SIGTERM);
    const auto status = server.process().wait_exit(5s);
    ASSERT_TRUE(status && status->exited);
    EXPECT_EQ(status->code, 0);
  }
  const auto log = read_file(path.string());
  std::filesystem::remove(path);
  ASSERT_TRUE(log.has_value()) << "no access log written at " << path;
  // 127.0.0.1 - - [26/Nov/2025:13:04:05 +0000] "GET /nope HTTP/1.1" 404 206
  const std::regex clf(R"(^127\.0\.0\.1 - - \[[^\]]+\] "GET /nope HTTP/1\.1" 404 [0-9]+.*\n)");
  EXPECT_TRUE(std::regex_search(*log, clf)) << *log;
}

}  // namespace
}  // namespace weft::test
