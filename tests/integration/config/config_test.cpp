// `weft --config FILE` and `weft --check-config FILE` against the real binary: sites chosen by
// Host with their headers and redirects, several listeners (one of them HTTPS), the checks and
// their FILE:LINE:COL lines, the packaged example, and SIGHUP reloads (under load: no request
// fails, and the answers switch).
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <mutex>
#include <optional>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "support/deadline.hpp"
#include "support/files.hpp"
#include "support/http_client.hpp"
#include "support/process.hpp"
#include "support/tls_certs.hpp"
#include "support/tls_client.hpp"

namespace weft::test {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

class WeftConfig : public ::testing::Test {
 protected:
  WeftConfig()
      : dir_(fs::temp_directory_path() / ("weft-config-" + std::to_string(::getpid()) + "-" +
                                          ::testing::UnitTest::GetInstance()->current_test_info()->name())) {
    fs::remove_all(dir_);
    for (const char* site : {"a", "b", "c"}) {
      fs::create_directories(dir_ / site);
      std::ofstream(dir_ / site / "index.html") << "site " << site << "\n";
    }
  }
  ~WeftConfig() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  WeftConfig(const WeftConfig&) = delete;
  WeftConfig& operator=(const WeftConfig&) = delete;
  WeftConfig(WeftConfig&&) = delete;
  WeftConfig& operator=(WeftConfig&&) = delete;

  [[nodiscard]] std::string root(const char* site) const { return (dir_ / site).string(); }
  // Writes the file whole and then renames it over `name`, as an editor or a deployment would:
  // a reload never reads half of it.
  std::string write(const std::string& text, const std::string& name = "weft.toml") {
    const fs::path tmp = dir_ / (name + ".new");
    std::ofstream(tmp) << text;
    fs::rename(tmp, dir_ / name);
    return (dir_ / name).string();
  }

  fs::path dir_;
};

// The body of GET / with `Host: host`, or "" (and a failure) without an answer.
std::string body_for(std::uint16_t port, const std::string& host,
                     std::optional<HttpResponse>* out = nullptr) {
  Client client(port);
  client.send("GET / HTTP/1.1\r\nHost: " + host + "\r\nConnection: close\r\n\r\n");
  auto response = client.read_response();
  if (out != nullptr) *out = response;
  return response ? response->body : std::string();
}

std::uint16_t port_of(const std::string& line) {
  static const std::regex port(R"(://[^ ]*:([0-9]+)/)");
  std::smatch m;
  if (!std::regex_search(line, m, port)) return 0;
  return static_cast<std::uint16_t>(std::stoi(m[1]));
}

TEST_F(WeftConfig, TheMinimalFileServesItsSite) {
  // As written in the README, but on a free port (--port 0 replaces the first listener's).
  const std::string file = write(
      "[[listen]]\nbind = \"127.0.0.1\"\nport = 8080\n[[site]]\nhosts = [\"a.test\"]\n"
      "root = \"" +
      root("a") + "\"\n");
  WeftServer weft({"--config", file});
  EXPECT_EQ(body_for(weft.port(), "a.test"), "site a\n");
  EXPECT_EQ(body_for(weft.port(), "other.test"), "site a\n");  // the first site is the default
}

TEST_F(WeftConfig, SitesAreChosenByHostWithTheirHeadersAndRedirects) {
  const std::string file = write(
      "[[listen]]\nport = 0\n"
      "[[site]]\nhosts = [\"a.test\"]\nroot = \"" +
      root("a") +
      "\"\n"
      "[[site]]\nhosts = [\"b.test\", \"*.b.test\"]\nroot = \"" +
      root("b") +
      "\"\n"
      "cache-control = \"max-age=60\"\n"
      "[[site.headers]]\nprefix = \"/\"\nfields = { X-Site = \"b\" }\n"
      "[[site.redirect]]\npath = \"/old\"\nto = \"https://b.test/new\"\nstatus = 308\n"
      "[[site]]\nhosts = [\"c.test\"]\nroot = \"" +
      root("c") + "\"\nno-listing = true\n");
  WeftServer weft({"--config", file});
  EXPECT_EQ(body_for(weft.port(), "a.test"), "site a\n");
  std::optional<HttpResponse> b;
  EXPECT_EQ(body_for(weft.port(), "www.B.test:8080", &b), "site b\n");
  ASSERT_TRUE(b);
  EXPECT_EQ(b->header("X-Site"), "b");
  EXPECT_EQ(b->header("Cache-Control"), "max-age=60");
  EXPECT_EQ(body_for(weft.port(), "b.test"), "site b\n");
  EXPECT_EQ(body_for(weft.port(), "c.test"), "site c\n");
  EXPECT_EQ(body_for(weft.port(), "x.y.b.test"), "site a\n");  // wildcards match one label

  Client client(weft.port());
  client.send("POST /old HTTP/1.1\r\nHost: b.test\r\nContent-Length: 0\r\n\r\n");
  const auto moved = client.read_response();
  ASSERT_TRUE(moved);
  EXPECT_EQ(moved->status, 308);
  EXPECT_EQ(moved->header("Location"), "https://b.test/new");
  // c.test has no listing: a directory without index.html is 403 there, a listing on a.test.
  fs::create_directories(dir_ / "c" / "empty");
  fs::create_directories(dir_ / "a" / "empty");
  client.send("GET /empty/ HTTP/1.1\r\nHost: c.test\r\n\r\n");
  const auto refused = client.read_response();
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->status, 403);
  client.send("GET /empty/ HTTP/1.1\r\nHost: a.test\r\n\r\n");
  const auto listing = client.read_response();
  ASSERT_TRUE(listing);
  EXPECT_EQ(listing->status, 200);
}

TEST_F(WeftConfig, SeveralListenersEachWithItsOwnCertificates) {
  const TlsCerts& certs = tls_certs();
  const std::string file = write(
      "[[listen]]\nport = 0\n"
      "[[listen]]\nport = 0\ntls-cert = \"" +
      certs.ecdsa.cert + "\"\ntls-key = \"" + certs.ecdsa.key +
      "\"\n"
      "[[site]]\nroot = \"" +
      root("a") + "\"\n");
  WeftServer weft({"--config", file});
  EXPECT_EQ(weft.listening_line().find("http://127.0.0.1:"), weft.listening_line().find("http://"));
  const auto also = weft.process().read_stdout_line(5s);
  ASSERT_TRUE(also) << weft.process().err();
  EXPECT_NE(also->find("weft also listening on https://127.0.0.1:"), std::string::npos) << *also;
  const std::uint16_t https_port = port_of(*also);
  ASSERT_NE(https_port, 0);
  EXPECT_EQ(body_for(weft.port(), "a.test"), "site a\n");
  TlsOptions options;
  options.sni = "localhost";
  options.ca_file = certs.ca;
  TlsClient tls(https_port, options);
  ASSERT_TRUE(tls.ok()) << tls.handshake().alert;
  EXPECT_EQ(tls.handshake().verify_result, 0);
  ASSERT_TRUE(tls.send("GET / HTTP/1.1\r\nHost: a.test\r\n\r\n"));
  const auto answer = tls.read_response();
  ASSERT_TRUE(answer);
  EXPECT_EQ(answer->body, "site a\n");
}

TEST_F(WeftConfig, CheckConfigAcceptsAGoodFile) {
  const std::string file = write(
      "max-connections = 100\n[[listen]]\nport = 8080\n[[listen]]\nport = 8081\n"
      "[[site]]\nhosts = [\"a.test\"]\nroot = \"" +
      root("a") + "\"\n");
  const RunResult run = run_weft({"--check-config", file});
  ASSERT_TRUE(run.status && run.status->exited) << run.err;
  EXPECT_EQ(run.status->code, 0) << run.err;
  EXPECT_EQ(run.out, "weft: " + file + ": configuration OK\n");
  EXPECT_EQ(run.err, "");
}

TEST_F(WeftConfig, CheckConfigPrintsEveryErrorWithItsPlaceAndExits2) {
  const std::string file = write(
      "max-conections = 100\nthreads = 0\n[[listen]]\nport = 8080\n[[listen]]\nport = 8080\n"
      "[[site]]\nhosts = [\"a.test\"]\nroot = \"" +
      (dir_ / "none").string() + "\"\n");
  const RunResult run = run_weft({"--check-config", file});
  ASSERT_TRUE(run.status && run.status->exited) << run.err;
  EXPECT_EQ(run.status->code, 2);
  EXPECT_EQ(run.out, "");
  EXPECT_EQ(run.err, "weft: " + file + ":1:1: unknown key 'max-conections'\n" +  //
                         "weft: " + file +
                         ":2:11: threads: expected a whole number of at least 1, got '0'\n" +
                         "weft: " + file + ":9:8: root '" + (dir_ / "none").string() + "' does not exist\n");
  // Types and places fixed, the clash is what is left.
  const std::string clash = write("[[listen]]\nport = 8080\n[[listen]]\nport = 8080\n");
  const RunResult second = run_weft({"--check-config", clash});
  ASSERT_TRUE(second.status && second.status->exited);
  EXPECT_EQ(second.status->code, 2);
  EXPECT_EQ(second.err,
            "weft: " + clash + ":3:1: port 8080 is already used by the [[listen]] at " + clash + ":1:1\n");
  // --config refuses to start with the same lines.
  const RunResult start = run_weft({"--config", clash});
  ASSERT_TRUE(start.status && start.status->exited);
  EXPECT_EQ(start.status->code, 2);
  EXPECT_EQ(start.err, second.err);
}

TEST_F(WeftConfig, CheckConfigLoadsTheCertificates) {
  const TlsCerts& certs = tls_certs();
  const std::string file = write("[[listen]]\nport = 8080\n[[listen]]\nport = 8443\ntls-cert = \"" +
                                 certs.garbage + "\"\ntls-key = \"" + certs.ecdsa.key + "\"\n");
  const RunResult run = run_weft({"--check-config", file});
  ASSERT_TRUE(run.status && run.status->exited) << run.err;
  EXPECT_EQ(run.status->code, 2);
  EXPECT_TRUE(run.err.starts_with("weft: " + file + ":3:1: ")) << run.err;
  EXPECT_NE(run.err.find(certs.garbage), std::string::npos) << run.err;
  EXPECT_EQ(std::count(run.err.begin(), run.err.end(), '\n'), 1) << run.err;
}

TEST_F(WeftConfig, ThePackagedExampleIsValid) {
  // As installed, but with its document root here (/usr/share/weft/www exists once the package is).
  auto text = read_file(WEFT_SOURCE_DIR "/packaging/weft.toml");
  ASSERT_TRUE(text);
  const std::string installed_root = "/usr/share/weft/www";
  ASSERT_NE(text->find(installed_root), std::string::npos);
  for (std::size_t at = text->find(installed_root); at != std::string::npos;
       at = text->find(installed_root, at))
    text->replace(at, installed_root.size(), root("a"));
  const std::string file = write(*text);
  const RunResult run = run_weft({"--check-config", file});
  ASSERT_TRUE(run.status && run.status->exited) << run.err;
  EXPECT_EQ(run.status->code, 0) << run.err;
  EXPECT_EQ(run.err, "");
}

// A keep-alive client that asks for / of a.test without pause and counts what it gets.
class Load {
 public:
  explicit Load(std::uint16_t port) : port_(port), thread_([this] { run(); }) {}
  ~Load() { stop(); }
  Load(const Load&) = delete;
  Load& operator=(const Load&) = delete;
  Load(Load&&) = delete;
  Load& operator=(Load&&) = delete;

  void stop() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }
  [[nodiscard]] long ok() const { return ok_; }
  [[nodiscard]] long failed() const { return failed_; }
  [[nodiscard]] std::string last_failure() const {
    const std::lock_guard lock(mutex_);
    return last_failure_;
  }
  [[nodiscard]] std::string last_body() const {
    const std::lock_guard lock(mutex_);
    return last_body_;
  }

 private:
  void run() {
    while (!stop_) {
      std::optional<Client> client;
      try {
        client.emplace(port_);
      } catch (const std::exception& e) {
        fail(e.what());
        continue;
      }
      // Up to 50 requests a connection, then a new one: reloads meet connections at every age.
      for (int i = 0; i < 50 && !stop_; ++i) {
        if (!client->send("GET / HTTP/1.1\r\nHost: a.test\r\n\r\n")) {
          fail("send failed");
          break;
        }
        const auto response = client->read_response(5s);
        if (!response || response->status < 200 || response->status > 299) {
          fail(response ? "status " + std::to_string(response->status) : "no response");
          break;
        }
        ++ok_;
        const std::lock_guard lock(mutex_);
        last_body_ = response->body;
      }
    }
  }
  void fail(const std::string& why) {
    ++failed_;
    const std::lock_guard lock(mutex_);
    last_failure_ = why;
  }

  std::uint16_t port_;
  std::atomic<bool> stop_{false};
  std::atomic<long> ok_{0};
  std::atomic<long> failed_{0};
  mutable std::mutex mutex_;
  std::string last_failure_;
  std::string last_body_;
  std::thread thread_;
};

TEST_F(WeftConfig, TwentyReloadsUnderLoadFailNoRequestAndSwitchTheSites) {
  // Two files that send a.test to different roots, with different header fields.
  const auto config = [this](const char* site) {
    return std::string("[[listen]]\nport = 0\n[[site]]\nhosts = [\"a.test\"]\nroot = \"") + root(site) +
           "\"\n[[site.headers]]\nfields = { X-Config = \"" + site + "\" }\n";
  };
  const std::string file = write(config("a"));
  WeftServer weft({"--config", file, "--loops", "2", "--threads", "2"});
  Load first(weft.port());
  Load second(weft.port());
  for (int i = 0; i < 20; ++i) {
    const char* next = i % 2 == 0 ? "b" : "a";
    write(config(next));
    weft.process().send_signal(SIGHUP);
    // The switch is seen by a fresh request, with the new site's header field.
    const std::string expected = std::string("site ") + next + "\n";
    std::optional<HttpResponse> answer;
    (void)wait_for([&] { return body_for(weft.port(), "a.test", &answer) == expected; }, 10s);
    ASSERT_TRUE(answer) << "reload " << i;
    ASSERT_EQ(answer->body, expected) << "reload " << i << "\n" << weft.process().err();
    EXPECT_EQ(answer->header("X-Config"), next);
  }
  first.stop();
  second.stop();
  EXPECT_EQ(first.failed() + second.failed(), 0) << first.last_failure() << " " << second.last_failure();
  EXPECT_GT(first.ok() + second.ok(), 100);
  std::cout << "[ figures  ] 20 reloads under load: " << first.ok() + second.ok()
            << " requests answered 2xx, " << first.failed() + second.failed() << " failed\n";
}

TEST_F(WeftConfig, AFileThatFailsToLoadKeepsTheConfigurationInForce) {
  const std::string file =
      write("[[listen]]\nport = 0\n[[site]]\nhosts = [\"a.test\"]\nroot = \"" + root("a") + "\"\n");
  WeftServer weft({"--config", file});
  EXPECT_EQ(body_for(weft.port(), "a.test"), "site a\n");
  write("[[listen]]\nport = 0\n[[site]]\nhosts = [\"a.test\"]\nroot = \"" + root("b") +
        "\"\nspa = \"yes\"\n");
  weft.process().send_signal(SIGHUP);
  ASSERT_TRUE(weft.process().wait_for_stderr(file + " not reloaded, keeping the configuration in force: " +
                                                 file + ":6:7: spa: expected true or false",
                                             10s))
      << weft.process().err();
  EXPECT_EQ(body_for(weft.port(), "a.test"), "site a\n");
  // A root that went away: the library refuses the sites, the old ones stay.
  write("[[listen]]\nport = 0\n[[site]]\nhosts = [\"a.test\"]\nroot = \"" + root("c") + "\"\n");
  fs::remove_all(dir_ / "c");
  weft.process().send_signal(SIGHUP);
  ASSERT_TRUE(weft.process().wait_for_stderr(file + ":5:8: root '" + root("c") + "' does not exist", 10s))
      << weft.process().err();
  EXPECT_EQ(body_for(weft.port(), "a.test"), "site a\n");
  // Fixed: it loads.
  write("[[listen]]\nport = 0\n[[site]]\nhosts = [\"a.test\"]\nroot = \"" + root("b") + "\"\n");
  weft.process().send_signal(SIGHUP);
  ASSERT_TRUE(weft.process().wait_for_stderr(file + " reloaded (1 site)", 10s)) << weft.process().err();
  EXPECT_EQ(body_for(weft.port(), "a.test"), "site b\n");
}

TEST_F(WeftConfig, AReloadSaysWhichSettingsWaitForARestart) {
  const auto config = [this](const std::string& top, const char* site) {
    return top + "[[listen]]\nport = 0\n[[site]]\nhosts = [\"a.test\"]\nroot = \"" + root(site) + "\"\n";
  };
  const std::string file = write(config("", "a"));
  WeftServer weft({"--config", file});
  const std::string warning = "SIGHUP: " + file + " changed settings beyond the sites";
  // Sites only: they switch, and nothing waits.
  write(config("", "b"));
  weft.process().send_signal(SIGHUP);
  ASSERT_TRUE(weft.process().wait_for_stderr(file + " reloaded (1 site)", 10s)) << weft.process().err();
  EXPECT_EQ(body_for(weft.port(), "a.test"), "site b\n");
  EXPECT_EQ(weft.process().err().find(warning), std::string::npos) << weft.process().err();
  // A timeout too: the sites still switch, and the timeout is said to wait for a restart.
  write(config("keepalive-timeout = 5\n", "a"));
  weft.process().send_signal(SIGHUP);
  ASSERT_TRUE(weft.process().wait_for_stderr(warning, 10s)) << weft.process().err();
  EXPECT_EQ(body_for(weft.port(), "a.test"), "site a\n");
}

TEST_F(WeftConfig, AReloadOpensAndClosesListeners) {
  const auto config = [this](int listeners) {
    std::string text;
    for (int i = 0; i < listeners; ++i) text += "[[listen]]\nport = 0\n";
    return text + "[[site]]\nroot = \"" + root("a") + "\"\n";
  };
  const std::string file = write(config(1));
  WeftServer weft({"--config", file});
  const std::string main = "http://127.0.0.1:" + std::to_string(weft.port()) + "/";

  write(config(2));
  weft.process().send_signal(SIGHUP);
  ASSERT_TRUE(weft.process().wait_for_stderr("SIGHUP: listening on " + main + ", http://127.0.0.1:", 10s))
      << weft.process().err();
  std::smatch m;
  const std::string err = weft.process().err();
  ASSERT_TRUE(std::regex_search(err, m, std::regex(", http://127.0.0.1:([0-9]+)/")));
  const auto added = static_cast<std::uint16_t>(std::stoi(m[1]));
  EXPECT_EQ(body_for(added, "a.test"), "site a\n");
  // A keep-alive connection of the listener that a reload closes goes on.
  Client kept(added);
  kept.send("GET / HTTP/1.1\r\nHost: a.test\r\n\r\n");
  const auto before = kept.read_response();
  ASSERT_TRUE(before);
  EXPECT_EQ(before->body, "site a\n");

  write(config(1));
  weft.process().send_signal(SIGHUP);
  ASSERT_TRUE(weft.process().wait_for_stderr("SIGHUP: listening on " + main + "\n", 10s))
      << weft.process().err();
  EXPECT_TRUE(wait_for(
      [added] {
        try {
          Client refused(added, "127.0.0.1", 500ms);
          return false;
        } catch (const std::exception&) {
          return true;
        }
      },
      10s));
  kept.send("GET / HTTP/1.1\r\nHost: a.test\r\n\r\n");
  const auto after = kept.read_response();
  ASSERT_TRUE(after);
  EXPECT_EQ(after->body, "site a\n");
  EXPECT_EQ(body_for(weft.port(), "a.test"), "site a\n");
}

}  // namespace
}  // namespace weft::test
