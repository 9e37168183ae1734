// systemd socket activation against the real binary: systemd-socket-activate (Debian's systemd
// package; scripts/bootstrap installs it, so its absence is a failure) binds a loopback port,
// waits for a connection, then runs weft with the socket as descriptor 3 and LISTEN_FDS,
// LISTEN_PID and LISTEN_FDNAMES set, exactly as systemd does for a .socket unit.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <future>
#include <optional>
#include <string>
#include <vector>

#include "support/clean_exit.hpp"
#include "support/http_client.hpp"
#include "support/process.hpp"

namespace weft::test {
namespace {

const char* const kActivate = "/usr/bin/systemd-socket-activate";

// A loopback port that was free a moment ago (systemd-socket-activate binds it by number).
std::uint16_t free_port() {
  Fd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  if (!fd.valid() || ::bind(fd.get(), reinterpret_cast<sockaddr*>(&addr), len) != 0 ||
      ::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    return 0;
  }
  return ntohs(addr.sin_port);
}

// The socket inode a descriptor of `pid` refers to ("socket:[123]"), or "".
std::string fd_target(pid_t pid, int fd) {
  std::error_code ec;
  const auto target =
      std::filesystem::read_symlink("/proc/" + std::to_string(pid) + "/fd/" + std::to_string(fd), ec);
  return ec ? std::string() : target.string();
}

// How many descriptors of `pid` refer to `target`.
std::size_t descriptors_on(pid_t pid, const std::string& target) {
  std::size_t n = 0;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/fd", ec)) {
    std::error_code link_ec;
    if (std::filesystem::read_symlink(entry.path(), link_ec).string() == target) ++n;
  }
  return n;
}

class SocketActivation : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(::access(kActivate, X_OK), 0)
        << kActivate << " is missing: run scripts/bootstrap (it installs the Debian package systemd)";
  }

  // systemd-socket-activate on the given loopback ports, running weft with `weft_args`; returns
  // once it listens (its stderr says so for every port).
  std::unique_ptr<Process> activate(const std::vector<std::uint16_t>& ports,
                                    const std::vector<std::string>& activate_args,
                                    const std::vector<std::string>& weft_args) {
    std::vector<std::string> args;
    for (const std::uint16_t port : ports) args.push_back("--listen=127.0.0.1:" + std::to_string(port));
    args.insert(args.end(), activate_args.begin(), activate_args.end());
    args.push_back(weft_binary());
    args.insert(args.end(), weft_args.begin(), weft_args.end());
    auto process = std::make_unique<Process>(kActivate, args);
    for (const std::uint16_t port : ports) {
      EXPECT_TRUE(process->wait_for_stderr("127.0.0.1:" + std::to_string(port), 10s))
          << "systemd-socket-activate did not listen on " << port << "; stderr: " << process->err();
    }
    return process;
  }
};

TEST_F(SocketActivation, EveryLoopServesTheInheritedSocketAndNothingIsBound) {
  const std::uint16_t port = free_port();
  ASSERT_NE(port, 0);
  // --bind names an address this machine does not have: binding it would fail, so a served
  // request proves that weft used the socket it was given.
  auto weft = activate({port}, {"--fdname=web"},
                       {"--loops", "3", "--bind", "192.0.2.1", "--port", "80", "--log-level", "warn"});
  // The first connection is what makes systemd-socket-activate start weft.
  const auto first = get(port, "/");
  ASSERT_TRUE(first) << weft->err();
  EXPECT_EQ(first->status, 200);
  const auto line = weft->read_stdout_line(5s);
  ASSERT_TRUE(line) << weft->err();
  EXPECT_NE(line->find("weft listening on http://127.0.0.1:" + std::to_string(port) + "/"), std::string::npos)
      << *line;
  EXPECT_NE(line->find("socket from systemd 'web'"), std::string::npos) << *line;
  EXPECT_NE(line->find("3 loops"), std::string::npos) << *line;

  // Descriptor 3 stays (it is systemd's), and each of the three loops watches its own duplicate.
  const std::string socket = fd_target(weft->pid(), 3);
  ASSERT_EQ(socket.rfind("socket:", 0), 0U) << socket;
  EXPECT_EQ(descriptors_on(weft->pid(), socket), 4U);

  // Many connections at once: every one is answered, whichever loop wins each accept.
  std::vector<std::future<std::optional<HttpResponse>>> answers;
  for (int i = 0; i < 40; ++i) {
    answers.push_back(std::async(std::launch::async, [port] { return get(port, "/"); }));
  }
  for (auto& answer : answers) {
    const auto response = answer.get();
    ASSERT_TRUE(response) << weft->err();
    EXPECT_EQ(response->status, 200);
  }
  // A loop that lost a race blocked in accept4 would never see the drain: the exit proves none did.
  expect_clean_exit(*weft);
}

TEST_F(SocketActivation, TwoInheritedSocketsAreBothServed) {
  const std::uint16_t a = free_port();
  const std::uint16_t b = free_port();
  ASSERT_TRUE(a != 0 && b != 0 && a != b);
  auto weft = activate({a, b}, {}, {"--loops", "2", "--log-level", "warn"});
  const auto on_a = get(a, "/");
  ASSERT_TRUE(on_a) << weft->err();
  EXPECT_EQ(on_a->status, 200);
  const auto on_b = get(b, "/nope");
  ASSERT_TRUE(on_b) << weft->err();
  EXPECT_EQ(on_b->status, 404);
  const auto first = weft->read_stdout_line(5s);
  const auto second = weft->read_stdout_line(5s);
  ASSERT_TRUE(first && second) << weft->out();
  EXPECT_NE(first->find("weft listening on http://127.0.0.1:" + std::to_string(a) + "/"), std::string::npos)
      << *first;
  EXPECT_NE(second->find("weft also listening on http://127.0.0.1:" + std::to_string(b) + "/"),
            std::string::npos)
      << *second;
  expect_clean_exit(*weft);
}

TEST_F(SocketActivation, ADatagramSocketIsRefusedInOneLine) {
  const std::uint16_t port = free_port();
  ASSERT_NE(port, 0);
  auto weft = activate({port}, {"--datagram"}, {"--log-level", "warn"});
  // A datagram is what starts weft on a datagram socket.
  Fd udp(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(port);
  ASSERT_EQ(::sendto(udp.get(), "x", 1, 0, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 1);
  const auto status = weft->wait_exit(10s);
  ASSERT_TRUE(status && status->exited) << weft->err();
  EXPECT_EQ(status->code, 1) << weft->err();
  const std::string line = "weft: cannot start on the sockets systemd passed: descriptor 3 is not a TCP";
  EXPECT_NE(weft->err().find(line), std::string::npos) << weft->err();
  // Only that line comes from weft (systemd-socket-activate's own lines come before it).
  std::size_t weft_lines = 0;
  for (std::size_t at = 0; at < weft->err().size(); at = weft->err().find('\n', at) + 1) {
    if (weft->err().compare(at, 6, "weft: ") == 0) ++weft_lines;
    if (weft->err().find('\n', at) == std::string::npos) break;
  }
  EXPECT_EQ(weft_lines, 1U) << weft->err();
  EXPECT_EQ(weft->out(), "");
}

TEST(SocketActivationEnvironment, VariablesMeantForAnotherProcessAreIgnored) {
  // LISTEN_PID names another process (inherited from a parent that was activated): weft binds
  // its own port as usual.
  WeftServer weft({"--log-level", "warn"}, {"LISTEN_PID=1", "LISTEN_FDS=1", "LISTEN_FDNAMES=web"});
  const auto response = get(weft.port(), "/");
  ASSERT_TRUE(response) << weft.process().err();
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(weft.listening_line().find("systemd"), std::string::npos) << weft.listening_line();
  expect_clean_exit(weft.process());
}

TEST(SocketActivationEnvironment, ABadHandOverIsOneLineAndExitOne) {
  // sh opens descriptor 3 (or not), sets the variables for its own pid, and becomes weft.
  struct Case {
    const char* setup;
    const char* count;
    const char* needle;
  };
  const Case cases[] = {
      {"exec 3</dev/null", "1", "descriptor 3 is not a socket"},
      {"exec 3</dev/null", "2", "descriptor 4 is not open"},
      {"exec 3</dev/null", "x", "LISTEN_FDS: expected a number"},
  };
  for (const Case& c : cases) {
    const std::string script = std::string(c.setup) + "; export LISTEN_PID=$$ LISTEN_FDS=" + c.count +
                               "; exec \"$0\" --port 0 --log-level warn";
    Process weft("/bin/sh", {"-c", script, weft_binary()});
    const auto status = weft.wait_exit(10s);
    ASSERT_TRUE(status && status->exited) << c.needle << ": " << weft.err();
    EXPECT_EQ(status->code, 1) << weft.err();
    EXPECT_EQ(std::count(weft.err().begin(), weft.err().end(), '\n'), 1) << weft.err();
    EXPECT_NE(weft.err().find(c.needle), std::string::npos) << weft.err();
    EXPECT_EQ(weft.out(), "");
  }
}

}  // namespace
}  // namespace weft::test
