// Hostile bytes: many connections send mutated requests (random inserts and deletes, CR, LF,
// NUL, colons, huge Content-Length and chunk sizes, duplicated headers, pipelines, truncation)
// for a fixed time. Every byte weft sends back must be a well-formed response; afterwards the
// server must be alive, answer correctly, and exit 0 (under ASan: no leak, no error).
#include <gtest/gtest.h>
#include <sys/socket.h>

#include <atomic>
#include <map>
#include <mutex>
#include <random>
#include <thread>

#include "support/clean_exit.hpp"
#include "support/files.hpp"
#include "support/stress.hpp"

namespace weft::stress {
namespace {

constexpr int kThreads = 8;
constexpr auto kDuration = 8s;
constexpr auto kIdleRead = 150ms;  // a connection that says nothing for this long is done with

const std::vector<std::string>& templates() {
  static const std::vector<std::string> t = {
      "GET / HTTP/1.1\r\nHost: a\r\n\r\n",
      "GET /sleep?ms=1 HTTP/1.1\r\nHost: a\r\nAccept: */*\r\n\r\n",
      "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello",
      "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\nT: v\r\n\r\n",
      "HEAD /nope HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
      "GET http://a/?x=%41 HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
      "OPTIONS * HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\nhi",
  };
  return t;
}

std::string mutate(std::string s, std::mt19937_64& rng) {
  const auto pick = [&](std::size_t n) { return n == 0 ? 0 : static_cast<std::size_t>(rng() % n); };
  static const std::vector<std::string> specials = {
      "\r", "\n",   "\r\n", std::string(1, '\0'), ":",   " ",   "\t", ",",
      ";",  "\x7f", "\xff", "\r\n\r\n",           "%00", "/../"};
  const std::size_t mutations = 1 + pick(4);
  for (std::size_t m = 0; m < mutations; ++m) {
    switch (pick(11)) {
      case 0:
        s.insert(pick(s.size() + 1), 1, static_cast<char>(rng()));
        break;
      case 1:
        if (!s.empty()) s.erase(pick(s.size()), 1 + pick(8));
        break;
      case 2:
        s.insert(pick(s.size() + 1), specials[pick(specials.size())]);
        break;
      case 3: {  // duplicate a header line
        const std::size_t start = s.find("\r\n");
        const std::size_t end = start == std::string::npos ? start : s.find("\r\n", start + 2);
        if (end != std::string::npos) s.insert(end, s.substr(start, end - start));
        break;
      }
      case 4:
        if (const std::size_t at = s.find("Content-Length: "); at != std::string::npos) {
          static const std::vector<std::string> huge = {
              "99999999999999999999", "18446744073709551615", "-1", "1048577", "5, 6", "0x10", "4294967296"};
          s.replace(at + 16, s.find("\r\n", at) - at - 16, huge[pick(huge.size())]);
        } else {
          s.insert(s.find("\r\n") + 2, "Content-Length: 18446744073709551615\r\n");
        }
        break;
      case 5:
        if (const std::size_t at = s.find("\r\n\r\n5\r\n"); at != std::string::npos) {
          s.replace(at + 4, 1, pick(2) == 0 ? "ffffffffffffffff" : "fffffffffffffffff0");
        } else {
          s.insert(s.find("\r\n") + 2, "Transfer-Encoding: chunked\r\n");
        }
        break;
      case 6:
        if (!s.empty()) s[pick(s.size())] ^= static_cast<char>(1U << pick(8));
        break;
      case 7:
        s.resize(pick(s.size() + 1));
        break;
      case 8: {  // a pipeline
        const std::string one = s;
        for (std::size_t i = 0, n = 1 + pick(4); i < n; ++i) s += one;
        break;
      }
      case 9:
        s.insert(s.find("\r\n") == std::string::npos ? 0 : s.find("\r\n") + 2,
                 "X-Big: " + std::string(1000 + pick(20000), 'x') + "\r\n");
        break;
      default:
        s.insert(pick(s.size() + 1), s.substr(pick(s.size()), pick(16)));
        break;
    }
  }
  return s;
}

struct Tally {
  std::mutex mutex;
  std::map<int, long> statuses;
  long connections = 0;
  long bytes_sent = 0;
  std::vector<std::string> bad;  // malformed output, with the input that caused it
};

void attack(std::uint16_t port, std::uint64_t seed, Clock::time_point until, Tally& tally) {
  std::mt19937_64 rng(seed);
  while (Clock::now() < until) {
    const std::string input = mutate(templates()[rng() % templates().size()], rng);
    std::vector<Fd> conn = open_connections(port, 1);
    if (conn.empty()) continue;
    const int fd = conn.front().get();
    // In one piece, or cut in two with a pause between.
    const std::size_t cut =
        rng() % 2 == 0 ? input.size() : static_cast<std::size_t>(rng() % (input.size() + 1));
    (void)send_all(fd, std::string_view(input).substr(0, cut), 500ms);
    if (cut < input.size()) {
      std::this_thread::sleep_for(5ms);
      (void)send_all(fd, std::string_view(input).substr(cut), 500ms);
    }
    std::string received;
    for (;;) {  // until close, or quiet for kIdleRead
      const Drained d = read_until_close(fd, kIdleRead);
      received += d.bytes;
      if (d.closed || d.bytes.empty()) break;
    }
    const bool head_only = input.starts_with("HEAD");
    const Responses r = split_responses(received, head_only);
    std::lock_guard lock(tally.mutex);
    ++tally.connections;
    tally.bytes_sent += static_cast<long>(input.size());
    for (const int status : r.statuses) ++tally.statuses[status];
    const bool statuses_ok =
        std::all_of(r.statuses.begin(), r.statuses.end(), [](int s) { return s >= 100 && s <= 599; });
    if ((!r.rest.empty() && !head_only) || !statuses_ok) {
      if (tally.bad.size() < 5)
        tally.bad.push_back("sent " + std::to_string(input.size()) +
                            " bytes, got: " + received.substr(0, 300));
    }
  }
}

TEST(HostileBytes, MutatedRequestsOnManyConnectionsLeaveTheServerAliveAndCorrect) {
  test::WeftServer server({"--header-timeout", "2", "--body-timeout", "2", "--log-level", "error"});
  Tally tally;
  const auto until = Clock::now() + kDuration;
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back(attack, server.port(), 0x5eed0000U + static_cast<std::uint64_t>(i), until,
                         std::ref(tally));
  }
  for (std::thread& t : threads) t.join();

  std::string histogram;
  for (const auto& [status, count] : tally.statuses)
    histogram += " " + std::to_string(status) + "x" + std::to_string(count);
  report("hostile bytes", std::to_string(tally.connections) + " connections, " +
                              std::to_string(tally.bytes_sent) + " bytes in " +
                              std::to_string(kDuration.count()) + " s; responses:" + histogram);
  for (const std::string& b : tally.bad) ADD_FAILURE() << "malformed output: " << b;
  EXPECT_GT(tally.connections, 100);

  // Alive and correct afterwards.
  ASSERT_TRUE(server.process().running());
  const auto hello = test::get(server.port(), "/");
  ASSERT_TRUE(hello.has_value());
  EXPECT_EQ(hello->status, 200);
  EXPECT_EQ(hello->body, test::read_file(std::string(WEFT_SITE_DIR) + "/hello.html").value_or("?"));
  test::Client pipelined(server.port());
  pipelined.send(test::make_request("GET", "/") + test::make_request("GET", "/nope") +
                 test::make_request("GET", "/sleep?ms=1", {"Connection: close"}));
  for (const int expected : {200, 404, 200}) {
    const auto reply = pipelined.read_response();
    ASSERT_TRUE(reply.has_value());
    EXPECT_EQ(reply->status, expected);
  }
  expect_clean_exit(server.process());
}

}  // namespace
}  // namespace weft::stress
