// weft --user against the real binary: started as root (as CI runs), weft binds, then runs as
// `nobody` before it serves (every thread, no capability left, root not within reach), and a
// wrong --user is one line and an exit code. The tests that need root skip, saying so, without it.

#include <grp.h>
#include <netinet/in.h>
#include <pwd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <regex>
#include <string>
#include <vector>

#include "support/clean_exit.hpp"
#include "support/fd.hpp"
#include "support/files.hpp"
#include "support/http_client.hpp"
#include "support/process.hpp"

namespace weft::test {
namespace {

namespace fs = std::filesystem;

const char* const kSetpriv = "/usr/bin/setpriv";  // util-linux

struct Nobody {
  uid_t uid = 0;
  gid_t gid = 0;
};

std::optional<Nobody> nobody() {
  const passwd* pw = ::getpwnam("nobody");
  if (pw == nullptr) return std::nullopt;
  return Nobody{pw->pw_uid, pw->pw_gid};
}

// "Name:" lines of a /proc status file, value with its tabs turned into single spaces.
std::map<std::string, std::string> status_fields(const std::string& path) {
  std::map<std::string, std::string> fields;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    const auto colon = line.find(':');
    if (colon == std::string::npos) continue;
    std::string value = line.substr(colon + 1);
    std::replace(value.begin(), value.end(), '\t', ' ');
    value.erase(0, value.find_first_not_of(' '));
    value.erase(value.find_last_not_of(' ') + 1);
    fields[line.substr(0, colon)] = value;
  }
  return fields;
}

// A loopback port below 1024 that is free now (only root may bind it), or 0.
std::uint16_t free_privileged_port() {
  for (std::uint16_t port = 1023; port >= 900; --port) {
    Fd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(port);
    if (fd.valid() && ::bind(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) return port;
  }
  return 0;
}

std::uint16_t port_in(const std::string& line) {
  static const std::regex url(R"(http://127\.0\.0\.1:([0-9]+)/)");
  std::smatch match;
  return std::regex_search(line, match, url) ? static_cast<std::uint16_t>(std::stoul(match[1].str())) : 0;
}

class UserAsRoot : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0)
      GTEST_SKIP() << "--user needs root to change users; this test runs as uid " << ::geteuid();
    const auto who = nobody();
    ASSERT_TRUE(who) << "no user 'nobody' on this machine";
    nobody_ = *who;
  }
  Nobody nobody_;
};

TEST_F(UserAsRoot, BindsAPrivilegedPortThenEveryThreadRunsAsNobodyWithoutCapabilities) {
  const std::uint16_t port = free_privileged_port();
  ASSERT_NE(port, 0) << "no free port from 900 to 1023 on 127.0.0.1";
  Process weft(weft_binary(),
               {"--port", std::to_string(port), "--loops", "2", "-t", "2", "--user", "nobody"});
  const auto line = weft.read_stdout_line(10s);
  ASSERT_TRUE(line) << weft.err();
  ASSERT_EQ(port_in(*line), port) << *line;

  const std::string uid = std::to_string(nobody_.uid);
  const std::string gid = std::to_string(nobody_.gid);
  // The process and each of its threads (loops, workers, the signal thread): real, effective,
  // saved and filesystem ids all nobody's, only nobody's group, and no capability at all.
  std::size_t threads = 0;
  for (const auto& task : fs::directory_iterator("/proc/" + std::to_string(weft.pid()) + "/task")) {
    auto fields = status_fields((task.path() / "status").string());
    ++threads;
    const std::string who = fields["Name"];
    EXPECT_EQ(fields["Uid"], uid + " " + uid + " " + uid + " " + uid) << who;
    EXPECT_EQ(fields["Gid"], gid + " " + gid + " " + gid + " " + gid) << who;
    EXPECT_EQ(fields["Groups"], gid) << who;
    for (const char* set : {"CapPrm", "CapEff", "CapAmb", "CapInh"}) {
      EXPECT_EQ(fields[set], "0000000000000000") << who << " " << set;
    }
  }
  EXPECT_GE(threads, 5U);  // main, 2 loops, 2 workers (and the signal thread)

  const auto response = get(port, "/");
  ASSERT_TRUE(response) << weft.err();
  EXPECT_EQ(response->status, 200);
  expect_clean_exit(weft);
}

TEST_F(UserAsRoot, NoRequestIsServedAsRoot) {
  // A file only root may read: as nobody, weft cannot open it (403); the readable one is served.
  const fs::path root = fs::temp_directory_path() / ("weft-user-" + std::to_string(::getpid()));
  fs::remove_all(root);
  fs::create_directories(root);
  fs::permissions(root, fs::perms(0755));
  std::ofstream(root / "secret.txt") << "root only\n";
  std::ofstream(root / "public.txt") << "anyone\n";
  fs::permissions(root / "secret.txt", fs::perms(0600));
  fs::permissions(root / "public.txt", fs::perms(0644));
  {
    WeftServer weft({root.string(), "--user", "nobody:nogroup", "--log-level", "warn"});
    const auto secret = get(weft.port(), "/secret.txt");
    ASSERT_TRUE(secret) << weft.process().err();
    EXPECT_EQ(secret->status, 403) << secret->body;
    const auto open = get(weft.port(), "/public.txt");
    ASSERT_TRUE(open) << weft.process().err();
    EXPECT_EQ(open->status, 200);
    EXPECT_EQ(open->body, "anyone\n");
    expect_clean_exit(weft.process());
  }
  fs::remove_all(root);
}

// One line on stderr naming the problem, nothing on stdout, exit `code`.
void expect_one_line(Process& weft, int code, const std::string& needle) {
  const auto status = weft.wait_exit(10s);
  ASSERT_TRUE(status && status->exited) << weft.err();
  EXPECT_EQ(status->code, code) << weft.err();
  EXPECT_EQ(std::count(weft.err().begin(), weft.err().end(), '\n'), 1) << weft.err();
  EXPECT_NE(weft.err().find(needle), std::string::npos) << weft.err();
  EXPECT_EQ(weft.out(), "");
}

TEST(UserFlag, AnUnknownUserOrGroupIsAUsageError) {
  const struct {
    const char* spec;
    const char* needle;
  } cases[] = {
      {"no-such-user-weft", "weft: --user: no user 'no-such-user-weft'"},
      {"nobody:no-such-group-weft", "weft: --user: no group 'no-such-group-weft'"},
      {"nobody:", "expected NAME or NAME:GROUP"},
      {"a:b:c", "expected NAME or NAME:GROUP"},
      {"4000000", "has no passwd entry"},
  };
  for (const auto& c : cases) {
    Process weft(weft_binary(), {"--port", "0", "--user", c.spec});
    expect_one_line(weft, 2, c.needle);
  }
}

TEST(UserFlag, WithoutRootAnotherUserIsRefusedAndTheSameUserIsFine) {
  const auto who = nobody();
  ASSERT_TRUE(who) << "no user 'nobody' on this machine";
  if (::geteuid() != 0) GTEST_SKIP() << "setpriv needs root to start weft as nobody";
  ASSERT_EQ(::access(kSetpriv, X_OK), 0) << kSetpriv << " is missing (Debian package util-linux)";
  const std::vector<std::string> as_nobody = {"--reuid=" + std::to_string(who->uid),
                                              "--regid=" + std::to_string(who->gid),
                                              "--clear-groups",
                                              weft_binary(),
                                              "--port",
                                              "0",
                                              "--log-level",
                                              "warn"};
  {
    auto args = as_nobody;
    args.insert(args.end(), {"--user", "root"});
    Process weft(kSetpriv, args);
    expect_one_line(
        weft, 1,
        "weft: --user root: changing users needs root (weft runs as uid " + std::to_string(who->uid) + ")");
  }
  {
    // Already nobody: nothing to change, so it serves.
    auto args = as_nobody;
    args.insert(args.end(), {"--user", "nobody"});
    Process weft(kSetpriv, args);
    const auto line = weft.read_stdout_line(10s);
    ASSERT_TRUE(line) << weft.err();
    const auto response = get(port_in(*line), "/");
    ASSERT_TRUE(response) << weft.err();
    EXPECT_EQ(response->status, 200);
    expect_clean_exit(weft);
  }
}

}  // namespace
}  // namespace weft::test
