// sd_notify against the real binary: the test owns the AF_UNIX datagram socket that NOTIFY_SOCKET
// names (as systemd does for a Type=notify service) and reads what weft tells it: READY=1 once it
// serves, RELOADING=1 then READY=1 around a SIGHUP, STOPPING=1 when the drain begins.

#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <charconv>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <optional>
#include <regex>
#include <string>

#include "support/clean_exit.hpp"
#include "support/fd.hpp"
#include "support/http_client.hpp"
#include "support/process.hpp"

namespace weft::test {
namespace {

// The receiving end of NOTIFY_SOCKET: a filesystem path under the temporary directory, or an
// abstract name.
class NotifySocket {
 public:
  explicit NotifySocket(bool abstract) {
    static int counter = 0;
    const std::string name = "weft-notify-" + std::to_string(::getpid()) + "-" + std::to_string(++counter);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    socklen_t len = 0;
    if (abstract) {
      value_ = "@" + name;
      std::memcpy(addr.sun_path + 1, name.data(), name.size());
      len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + 1 + name.size());
    } else {
      path_ = (std::filesystem::temp_directory_path() / (name + ".sock")).string();
      std::filesystem::remove(path_);
      value_ = path_;
      std::memcpy(addr.sun_path, path_.data(), path_.size());
      len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + path_.size() + 1);
    }
    fd_.reset(::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    if (!fd_.valid() || ::bind(fd_.get(), reinterpret_cast<sockaddr*>(&addr), len) != 0) {
      throw std::runtime_error("cannot bind the notify socket " + value_);
    }
  }
  ~NotifySocket() {
    if (!path_.empty()) std::filesystem::remove(path_);
  }
  NotifySocket(const NotifySocket&) = delete;
  NotifySocket& operator=(const NotifySocket&) = delete;

  [[nodiscard]] std::string env() const { return "NOTIFY_SOCKET=" + value_; }

  // The next datagram, or nullopt when none came within `timeout`.
  std::optional<std::string> next(milliseconds timeout) {
    pollfd pfd{fd_.get(), POLLIN, 0};
    if (::poll(&pfd, 1, static_cast<int>(timeout.count())) != 1) return std::nullopt;
    char buffer[4096];
    const ssize_t n = ::recv(fd_.get(), buffer, sizeof buffer, 0);
    if (n < 0) return std::nullopt;
    return std::string(buffer, static_cast<std::size_t>(n));
  }

 private:
  Fd fd_;
  std::string path_;
  std::string value_;
};

std::uint16_t port_in(const std::string& text) {
  static const std::regex url(R"(http://127\.0\.0\.1:([0-9]+)/)");
  std::smatch match;
  unsigned port = 0;
  if (!std::regex_search(text, match, url)) return 0;
  std::from_chars(match[1].first.base(), match[1].second.base(), port);
  return static_cast<std::uint16_t>(port);
}

TEST(SdNotify, ReadyWhenServingThenReloadingAndReadyAroundSighupThenStopping) {
  NotifySocket notify(false);
  Process weft(weft_binary(), {"--port", "0", "--loops", "2", "--log-level", "warn"}, {notify.env()});
  const auto ready = notify.next(10s);
  ASSERT_TRUE(ready) << "no READY=1; stderr: " << weft.err();
  EXPECT_EQ(ready->rfind("READY=1\n", 0), 0U) << *ready;
  EXPECT_NE(ready->find("STATUS=weft listening on http://127.0.0.1:"), std::string::npos) << *ready;
  // READY=1 means serving: a request sent at once, before anything else is read, is answered.
  const std::uint16_t port = port_in(*ready);
  ASSERT_NE(port, 0) << *ready;
  const auto response = get(port, "/");
  ASSERT_TRUE(response) << weft.err();
  EXPECT_EQ(response->status, 200);
  EXPECT_FALSE(notify.next(100ms)) << "READY=1 was sent twice";

  weft.send_signal(SIGHUP);
  const auto reloading = notify.next(5s);
  ASSERT_TRUE(reloading) << weft.err();
  static const std::regex reloading_message("RELOADING=1\nMONOTONIC_USEC=([0-9]+)");
  std::smatch match;
  ASSERT_TRUE(std::regex_match(*reloading, match, reloading_message)) << *reloading;
  // CLOCK_MONOTONIC is the machine's, the same for weft and for the test.
  timespec now{};
  ::clock_gettime(CLOCK_MONOTONIC, &now);
  const std::uint64_t now_usec =
      static_cast<std::uint64_t>(now.tv_sec) * 1'000'000 + static_cast<std::uint64_t>(now.tv_nsec) / 1000;
  const std::uint64_t sent_usec = std::stoull(match[1].str());
  EXPECT_LE(sent_usec, now_usec);
  EXPECT_LT(now_usec - sent_usec, 10'000'000U);
  const auto ready_again = notify.next(5s);
  ASSERT_TRUE(ready_again) << weft.err();
  EXPECT_EQ(ready_again->rfind("READY=1\n", 0), 0U) << *ready_again;

  weft.send_signal(SIGTERM);
  const auto stopping = notify.next(5s);
  ASSERT_TRUE(stopping) << weft.err();
  EXPECT_EQ(*stopping, "STOPPING=1");
  const auto status = weft.wait_exit(10s);
  ASSERT_TRUE(status && status->exited) << weft.err();
  EXPECT_EQ(status->code, 0) << weft.err();
  EXPECT_FALSE(notify.next(100ms)) << "STOPPING=1 was sent twice";
}

TEST(SdNotify, AnAbstractNameAndAStopWithoutASignal) {
  NotifySocket notify(true);
  Process weft(weft_binary(), {"--port", "0", "--exit-after", "1", "--log-level", "warn"}, {notify.env()});
  const auto ready = notify.next(10s);
  ASSERT_TRUE(ready) << "no READY=1; stderr: " << weft.err();
  EXPECT_EQ(ready->rfind("READY=1\n", 0), 0U) << *ready;
  const auto response = get(port_in(*ready), "/");
  ASSERT_TRUE(response) << weft.err();
  // --exit-after 1: weft stops by itself, and says so.
  const auto stopping = notify.next(10s);
  ASSERT_TRUE(stopping) << weft.err();
  EXPECT_EQ(*stopping, "STOPPING=1");
  const auto status = weft.wait_exit(10s);
  ASSERT_TRUE(status && status->exited);
  EXPECT_EQ(status->code, 0) << weft.err();
}

TEST(SdNotify, ABadOrAbsentNotifySocketWarnsAndServesAnyway) {
  const std::string missing = (std::filesystem::temp_directory_path() / "weft-no-such-notify.sock").string();
  std::filesystem::remove(missing);
  for (const auto& [value, needle] :
       {std::pair<std::string, std::string>{"relative/notify.sock", "neither"},
        std::pair<std::string, std::string>{missing, "cannot tell systemd 'READY=1'"}}) {
    WeftServer weft({"--log-level", "warn"}, {"NOTIFY_SOCKET=" + value});
    const auto response = get(weft.port(), "/");
    ASSERT_TRUE(response) << weft.process().err();
    EXPECT_EQ(response->status, 200);
    EXPECT_TRUE(weft.process().wait_for_stderr(needle, 5s)) << weft.process().err();
    EXPECT_NE(weft.process().err().find("NOTIFY_SOCKET"), std::string::npos) << weft.process().err();
    expect_clean_exit(weft.process());
  }
}

}  // namespace
}  // namespace weft::test
