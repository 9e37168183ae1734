// HTTP/2 under attack: 1,000 legitimate h2c connections x 10 streams (h2load, prior knowledge)
// are served while raw-frame attackers run, over and over on new connections, a rapid reset
// flood (HEADERS + RST_STREAM on a pool handler, CVE-2023-44487) and a CONTINUATION flood (a
// header block that never ends, CVE-2024-27316). Every legitimate request must get its 200 and
// its bytes; every attacking connection must get GOAWAY ENHANCE_YOUR_CALM and be closed; weft's
// descriptors and RSS come back afterwards and it exits cleanly (no sanitizer report).
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <mutex>
#include <sstream>
#include <thread>

#include "support/clean_exit.hpp"
#include "support/files.hpp"
#include "support/stress.hpp"

namespace weft::stress {
namespace {

constexpr std::size_t kLegitConnections = 1000;
constexpr std::size_t kStreamsPerConnection = 10;
constexpr std::size_t kAttackThreads = 2;  // per kind of attack
constexpr std::uint32_t kEnhanceYourCalm = 11;
// Only catches a hang: timings are never asserted (the machine is shared and noisy).
constexpr auto kLoadBound = 40s;
constexpr auto kAttackConnectionBound = 10s;

constexpr std::uint8_t kHeaders = 1;
constexpr std::uint8_t kRstStream = 3;
constexpr std::uint8_t kSettings = 4;
constexpr std::uint8_t kGoaway = 7;
constexpr std::uint8_t kContinuationFrame = 9;
constexpr std::uint8_t kEndStream = 1;
constexpr std::uint8_t kEndHeaders = 4;

std::string frame(std::uint8_t type, std::uint8_t flags, std::uint32_t sid, std::string_view payload) {
  std::string f;
  f.reserve(9 + payload.size());
  const std::size_t n = payload.size();
  f.push_back(static_cast<char>((n >> 16) & 0xFF));
  f.push_back(static_cast<char>((n >> 8) & 0xFF));
  f.push_back(static_cast<char>(n & 0xFF));
  f.push_back(static_cast<char>(type));
  f.push_back(static_cast<char>(flags));
  for (int shift = 24; shift >= 0; shift -= 8) f.push_back(static_cast<char>((sid >> shift) & 0xFF));
  f.append(payload);
  return f;
}

// HPACK literal field without indexing (RFC 7541 6.2.2), short values only. `index` names a
// static-table entry (1 :authority, 4 :path); 0: the name follows as a literal.
std::string literal(std::uint8_t index, std::string_view name, std::string_view value) {
  std::string out(1, static_cast<char>(index));
  if (index == 0) out.append(1, static_cast<char>(name.size())).append(name);
  out.append(1, static_cast<char>(value.size())).append(value);
  return out;
}

// :method GET (static 2), :scheme http (static 6), :path, :authority.
std::string get_block(std::string_view path) {
  return std::string("\x82\x86") + literal(4, {}, path) + literal(1, {}, "localhost");
}

std::string preface() { return std::string("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n") + frame(kSettings, 0, 0, {}); }

enum class Attack : std::uint8_t { kRapidReset, kContinuation };

struct AttackResult {
  bool goaway = false;
  std::uint32_t code = 0;
  bool closed = false;
  std::uint64_t frames_sent = 0;
};

// The next frames an attacker sends: a batch of opened-and-reset streams, or more of the header
// block that never ends.
std::string attack_bytes(Attack kind, std::uint32_t& next_sid) {
  std::string out;
  if (kind == Attack::kRapidReset) {
    for (int i = 0; i < 50 && next_sid < 0x7FFF0000U; ++i, next_sid += 2) {
      out += frame(kHeaders, kEndStream | kEndHeaders, next_sid, get_block("/sleep?ms=2000"));
      out += frame(kRstStream, 0, next_sid, std::string("\0\0\0\x08", 4));  // CANCEL
    }
    return out;
  }
  const std::string filler = literal(0, "x-filler", std::string(100, 'a'));
  for (int i = 0; i < 20; ++i) out += frame(kContinuationFrame, 0, 1, filler);
  return out;
}

// Consumes the complete frames at the start of `in`: only a GOAWAY matters to an attacker.
void take_frames(std::string& in, AttackResult& result) {
  const auto byte = [&in](std::size_t i) {
    return static_cast<std::uint32_t>(static_cast<unsigned char>(in[i]));
  };
  while (in.size() >= 9) {
    const std::size_t length = (byte(0) << 16) | (byte(1) << 8) | byte(2);
    if (in.size() < 9 + length) return;
    if (byte(3) == kGoaway && length >= 8) {
      result.goaway = true;
      result.code = (byte(13) << 24) | (byte(14) << 16) | (byte(15) << 8) | byte(16);
    }
    in.erase(0, 9 + length);
  }
}

// One attacking connection: it attacks until the server says GOAWAY (then only reads) and
// ends when the server has closed it or the bound has passed.
AttackResult attack_once(std::uint16_t port, Attack kind) {
  AttackResult result;
  std::vector<Fd> fds = open_connections(port, 1);
  if (fds.empty()) return result;
  const int fd = fds.front().get();
  std::string pending = preface();
  std::uint32_t next_sid = 1;
  if (kind == Attack::kContinuation) pending += frame(kHeaders, kEndStream, 1, get_block("/"));
  std::string in;
  const auto give_up = Clock::now() + kAttackConnectionBound;
  while (!result.closed && Clock::now() < give_up) {
    pollfd p{fd, static_cast<short>(POLLIN | (result.goaway ? 0 : POLLOUT)), 0};
    if (::poll(&p, 1, 50) <= 0) continue;
    if ((p.revents & (POLLIN | POLLHUP | POLLERR)) != 0) {
      char buffer[16384];
      const ssize_t n = ::recv(fd, buffer, sizeof buffer, 0);
      if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
        result.closed = true;
      } else if (n > 0) {
        in.append(buffer, static_cast<std::size_t>(n));
        take_frames(in, result);
      }
    }
    if (!result.goaway && !result.closed && (p.revents & POLLOUT) != 0) {
      if (pending.empty()) {
        pending = attack_bytes(kind, next_sid);
        result.frames_sent += kind == Attack::kRapidReset ? 100 : 20;
      }
      const ssize_t n = ::send(fd, pending.data(), pending.size(), MSG_NOSIGNAL);
      if (n > 0) {
        pending.erase(0, static_cast<std::size_t>(n));
      } else if (n < 0 && errno != EAGAIN && errno != EINTR) {
        // Closed under our feet: the GOAWAY may still wait in the receive queue.
        const Drained rest = read_until_close(fd, 1s);
        in += rest.bytes;
        take_frames(in, result);
        result.closed = true;
      }
    }
  }
  return result;
}

// "(1234)" after `label` in h2load's summary: the exact count behind a rounded figure.
std::uint64_t exact_after(const std::string& text, const std::string& label) {
  const std::size_t at = text.find(label);
  if (at == std::string::npos) return 0;
  const std::size_t open = text.find('(', at);
  std::uint64_t value = 0;
  if (open != std::string::npos)
    (void)std::from_chars(text.data() + open + 1, text.data() + text.size(), value);
  return value;
}

std::uint64_t count_before(const std::string& text, const std::string& label) {
  const std::size_t at = text.find(label);
  if (at == std::string::npos) return 0;
  std::size_t start = at;
  while (start > 0 && text[start - 1] >= '0' && text[start - 1] <= '9') --start;
  std::uint64_t value = 0;
  (void)std::from_chars(text.data() + start, text.data() + at, value);
  return value;
}

struct Load {
  std::string summary;
  std::vector<double> latencies_ms;
  bool finished = false;
};

Load run_h2load(const std::string& h2load, std::uint16_t port, std::size_t connections, std::size_t streams,
                const std::string& log_file) {
  const std::string base = "http://127.0.0.1:" + std::to_string(port);
  test::Process p(
      h2load, {"-n", std::to_string(connections * streams), "-c", std::to_string(connections), "-m",
               std::to_string(streams), "-t", "1", "--log-file", log_file, base + "/", base + "/sleep?ms=0"});
  Load load;
  const auto status = p.wait_exit(kLoadBound);
  load.finished = status && status->exited && status->code == 0;
  load.summary = p.out() + p.err();
  // One line per request: start (µs since the epoch), status, duration (µs).
  if (const auto log = test::read_file(log_file)) {
    std::istringstream lines(*log);
    long long start = 0;
    int code = 0;
    long long duration = 0;
    while (lines >> start >> code >> duration)
      load.latencies_ms.push_back(static_cast<double>(duration) / 1000.0);
  }
  std::remove(log_file.c_str());
  return load;
}

TEST(H2Attack, ThousandConnectionsOfTenStreamsAreServedWhileRapidResetAndContinuationFloodsAreClosed) {
  const std::string h2load = test::find_in_path("h2load");
  if (h2load.empty()) GTEST_SKIP() << "no h2load (nghttp2-client)";
  ASSERT_GE(raise_fd_limit(4 * kLegitConnections + 512), 2 * kLegitConnections + 256);
  // RSS is measured: an ASan weft gets a small quarantine, which the warm-up fills.
  test::WeftServer server({"--log-level", "error", "--max-connections", "4096"},
                          {"ASAN_OPTIONS=quarantine_size_mb=4"});
  const std::uint16_t port = server.port();
  const pid_t pid = server.process().pid();

  // The bytes each legitimate request must get, from HTTP/1.1.
  const auto page = test::get(port, "/");
  const auto sleep = test::get(port, "/sleep?ms=0");
  ASSERT_TRUE(page && page->status == 200 && sleep && sleep->status == 200);
  const std::size_t requests = kLegitConnections * kStreamsPerConnection;
  const std::uint64_t want_data = (requests / 2) * (page->body.size() + sleep->body.size());

  const std::string log_file = "/tmp/weft-h2-stress-" + std::to_string(::getpid()) + ".log";
  // Warm-up at the same scale: the allocator's and the loops' high water marks are the baseline.
  const Load warm = run_h2load(h2load, port, kLegitConnections, kStreamsPerConnection, log_file);
  ASSERT_TRUE(warm.finished) << warm.summary;
  ASSERT_TRUE(wait_for([&] { return open_fds(pid) < 64; }, 10s))
      << open_fds(pid) << " descriptors after the warm-up";
  const std::size_t fds_before = open_fds(pid);
  const long rss_before = rss_kib(pid);

  std::atomic<bool> stop{false};
  std::mutex mutex;
  std::vector<AttackResult> resets;
  std::vector<AttackResult> continuations;
  std::vector<std::thread> attackers;
  for (std::size_t i = 0; i < 2 * kAttackThreads; ++i) {
    const Attack kind = i % 2 == 0 ? Attack::kRapidReset : Attack::kContinuation;
    attackers.emplace_back([&, kind] {
      do {  // at least one connection each, however fast the legitimate load ends
        const AttackResult r = attack_once(port, kind);
        const std::lock_guard lock(mutex);
        (kind == Attack::kRapidReset ? resets : continuations).push_back(r);
      } while (!stop);
    });
  }
  // Right bytes, not only the right count: a few whole answers compared while the attack runs.
  std::atomic<int> wrong_bytes{0};
  std::thread checker([&] {
    for (int i = 0; i < 10 && !stop; ++i) {
      test::Process curl("/usr/bin/curl", {"-sS", "--max-time", "10", "--http2-prior-knowledge",
                                           "http://127.0.0.1:" + std::to_string(port) + "/"});
      const auto status = curl.wait_exit(15s);
      if (!status || status->code != 0 || curl.out() != page->body) ++wrong_bytes;
    }
  });

  const Load load = run_h2load(h2load, port, kLegitConnections, kStreamsPerConnection, log_file);
  checker.join();
  stop = true;
  for (std::thread& t : attackers) t.join();

  EXPECT_TRUE(load.finished) << load.summary;
  EXPECT_EQ(count_before(load.summary, " succeeded"), requests) << load.summary;
  EXPECT_EQ(count_before(load.summary, " 2xx"), requests) << load.summary;
  const std::size_t data_at = load.summary.find("traffic:");
  ASSERT_NE(data_at, std::string::npos) << load.summary;
  const std::string traffic = load.summary.substr(data_at, load.summary.find('\n', data_at) - data_at);
  const std::size_t data_label = traffic.rfind(',');
  ASSERT_NE(data_label, std::string::npos) << traffic;
  EXPECT_EQ(exact_after(traffic.substr(data_label), ""), want_data) << traffic;
  EXPECT_EQ(wrong_bytes.load(), 0);
  EXPECT_EQ(load.latencies_ms.size(), requests);

  std::size_t reset_calm = 0;
  std::size_t continuation_calm = 0;
  std::uint64_t reset_frames = 0;
  std::uint64_t continuation_frames = 0;
  for (const AttackResult& r : resets) {
    EXPECT_TRUE(r.goaway && r.closed)
        << "a rapid-reset connection: GOAWAY " << r.goaway << ", closed " << r.closed;
    if (r.goaway && r.code == kEnhanceYourCalm && r.closed) ++reset_calm;
    reset_frames += r.frames_sent;
  }
  for (const AttackResult& r : continuations) {
    EXPECT_TRUE(r.goaway && r.closed)
        << "a CONTINUATION connection: GOAWAY " << r.goaway << ", closed " << r.closed;
    if (r.goaway && r.code == kEnhanceYourCalm && r.closed) ++continuation_calm;
    continuation_frames += r.frames_sent;
  }
  EXPECT_GT(resets.size(), 0U);
  EXPECT_GT(continuations.size(), 0U);
  EXPECT_EQ(reset_calm, resets.size());
  EXPECT_EQ(continuation_calm, continuations.size());

  // Everything comes back: descriptors to the baseline, RSS near it.
  EXPECT_TRUE(wait_for([&] { return open_fds(pid) <= fds_before; }, 10s))
      << open_fds(pid) << " descriptors, " << fds_before << " before";
  const long rss_after = rss_kib(pid);
  EXPECT_LT(rss_after - rss_before, 32 * 1024) << rss_before << " KiB -> " << rss_after << " KiB";

  report("h2 legit requests (1,000 conns x 10 streams, attacked)", std::to_string(load.latencies_ms.size()));
  report("h2 legit latency p50 / p99 / max ms", std::to_string(percentile(load.latencies_ms, 50)) + " / " +
                                                    std::to_string(percentile(load.latencies_ms, 99)) +
                                                    " / " +
                                                    std::to_string(percentile(load.latencies_ms, 100)));
  report("h2 legit latency p99 ms unattacked (warm-up)", std::to_string(percentile(warm.latencies_ms, 99)));
  report("rapid-reset connections closed with ENHANCE_YOUR_CALM",
         std::to_string(reset_calm) + " of " + std::to_string(resets.size()) + " (" +
             std::to_string(reset_frames) + " frames generated)");
  report("CONTINUATION-flood connections closed with ENHANCE_YOUR_CALM",
         std::to_string(continuation_calm) + " of " + std::to_string(continuations.size()) + " (" +
             std::to_string(continuation_frames) + " frames generated)");
  report("weft descriptors / RSS KiB before -> after",
         std::to_string(fds_before) + " -> " + std::to_string(open_fds(pid)) + " / " +
             std::to_string(rss_before) + " -> " + std::to_string(rss_after));
  expect_clean_exit(server.process());
}

}  // namespace
}  // namespace weft::stress
