// The hostile-client tests over HTTPS. Slowloris: TLS connections that complete their handshake
// and then trickle a head one byte per record, beside raw connections that never send a
// ClientHello and ones that stop half-way through it; legitimate HTTPS clients (a full handshake
// each) must still be served, and every slow connection must be dropped at its header deadline.
// Drain: HTTPS requests in flight on the pool and keep-alive HTTPS clients, then SIGTERM: every
// in-flight request gets its whole answer, no answer is cut, and weft exits 0.
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/socket.h>

#include <atomic>
#include <memory>
#include <mutex>
#include <system_error>
#include <thread>

#include "support/clean_exit.hpp"
#include "support/stress.hpp"
#include "support/tls_certs.hpp"
#include "support/tls_client.hpp"

namespace weft::stress {
namespace {

using test::TlsClient;
using test::TlsOptions;

constexpr std::size_t kSlowTls = 300;    // handshake done, head trickled
constexpr std::size_t kSilent = 300;     // TCP only: no ClientHello at all
constexpr std::size_t kHalfHello = 300;  // half a ClientHello, then nothing
constexpr auto kHeaderTimeout = 3s;
constexpr std::size_t kMinLegitRequests = 100;
constexpr auto kLegitEvery = 10ms;
constexpr auto kTrickleEvery = 200ms;

std::vector<std::string> https_flags() {
  const test::TlsCerts& certs = test::tls_certs();
  return {"--tls-cert", certs.ecdsa.cert, "--tls-key", certs.ecdsa.key, "--log-level", "error"};
}

TlsOptions trusting() {
  TlsOptions options;
  options.sni = "localhost";
  options.ca_file = test::tls_certs().ca;
  return options;
}

TEST(TlsSlowloris, HttpsClientsAreServedWhileSlowHeadsAndStalledHandshakesAreDroppedAtTheDeadline) {
  if (!test::openssl_cli_available()) GTEST_SKIP() << "no openssl command to make the certificates";
  ASSERT_GE(raise_fd_limit(kSlowTls + kSilent + kHalfHello + 512), kSlowTls + kSilent + kHalfHello + 256);
  std::vector<std::string> args = https_flags();
  args.insert(args.end(), {"--header-timeout", "3"});
  test::WeftServer server(args);
  const std::uint16_t port = server.port();

  const auto opened = Clock::now();
  // Slow TLS heads: each handshake completes (the header deadline runs from accept and covers
  // the handshake), then the head starts and never ends.
  std::vector<std::unique_ptr<TlsClient>> slow;
  std::vector<Clock::time_point> started;
  for (std::size_t i = 0; i < kSlowTls; ++i) {
    auto client = std::make_unique<TlsClient>(port, trusting());
    ASSERT_TRUE(client->ok()) << client->handshake().error;
    ASSERT_TRUE(client->send("GET / HTTP/1.1\r\nHost: slow\r\nX-Slow: "));
    started.push_back(Clock::now());
    slow.push_back(std::move(client));
  }
  std::vector<Fd> raw = open_connections(port, kSilent + kHalfHello);
  ASSERT_EQ(raw.size(), kSilent + kHalfHello);
  const std::string hello = test::client_hello_bytes(trusting());
  for (std::size_t i = kSilent; i < raw.size(); ++i) {
    ASSERT_TRUE(send_all(raw[i].get(), hello.substr(0, hello.size() / 2)));
  }
  const auto raw_opened = Clock::now();

  std::vector<double> latencies;
  std::atomic<int> not_ok{0};
  std::atomic<bool> stop{false};
  std::thread legit([&] {
    while (!stop || latencies.size() < kMinLegitRequests) {
      const auto t0 = Clock::now();
      const auto response = test::tls_request(port, trusting(), "GET", "/");
      latencies.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
      if (!response || response->status != 200) ++not_ok;
      std::this_thread::sleep_for(kLegitEvery);
    }
  });

  // Watch every slow descriptor (TLS and raw alike) until it is closed.
  struct Watched {
    int fd;
    Clock::time_point earliest;  // the deadline cannot have passed before this
    Clock::time_point latest;    // ... and must have passed by this
    Clock::time_point closed{};
  };
  std::vector<Watched> watched;
  for (std::size_t i = 0; i < slow.size(); ++i)
    watched.push_back({slow[i]->fd(), opened + kHeaderTimeout, started[i] + kHeaderTimeout});
  for (const Fd& fd : raw)
    watched.push_back({fd.get(), opened + kHeaderTimeout, raw_opened + kHeaderTimeout});

  std::size_t open = watched.size();
  auto next_trickle = Clock::now() + kTrickleEvery;
  const auto give_up = Clock::now() + kHeaderTimeout + 6s;
  while (open > 0 && Clock::now() < give_up) {
    std::vector<pollfd> fds;
    std::vector<std::size_t> index;
    for (std::size_t i = 0; i < watched.size(); ++i) {
      if (watched[i].closed == Clock::time_point{}) {
        fds.push_back({watched[i].fd, POLLIN | POLLRDHUP, 0});
        index.push_back(i);
      }
    }
    if (::poll(fds.data(), fds.size(), 20) > 0) {
      for (std::size_t j = 0; j < fds.size(); ++j) {
        if (fds[j].revents == 0) continue;
        Watched& w = watched[index[j]];
        const bool closed = index[j] < slow.size() ? slow[index[j]]->closed_within(200ms)
                                                   : read_until_close(w.fd, 200ms).closed;
        if (!closed) continue;
        w.closed = Clock::now();
        --open;
      }
    }
    if (Clock::now() >= next_trickle) {
      for (std::size_t i = 0; i < slow.size(); ++i) {
        if (watched[i].closed == Clock::time_point{}) (void)slow[i]->send("a");
      }
      next_trickle += kTrickleEvery;
    }
  }
  stop = true;
  legit.join();

  EXPECT_EQ(open, 0U) << "slow connections still open well after the header deadline";
  double min_early = 0;
  double max_late = 0;
  for (const Watched& w : watched) {
    if (w.closed == Clock::time_point{}) continue;
    min_early = std::min(min_early, std::chrono::duration<double, std::milli>(w.closed - w.earliest).count());
    max_late = std::max(max_late, std::chrono::duration<double, std::milli>(w.closed - w.latest).count());
  }
  EXPECT_GE(min_early, -50.0) << "a slow connection was dropped before its header deadline";
  EXPECT_LE(max_late, 3000.0) << "a slow connection outlived its header deadline by more than 3 s";
  EXPECT_EQ(not_ok.load(), 0) << "legitimate HTTPS requests that did not get 200";
  const double p50 = percentile(latencies, 50);
  const double p99 = percentile(latencies, 99);
  // A full handshake per request under the sanitizers; a loop stalled by the slow connections
  // would show as seconds.
  EXPECT_LT(p99, 500.0);
  report("tls slowloris legit latency", "p50 " + std::to_string(p50) + " ms, p99 " + std::to_string(p99) +
                                            " ms over " + std::to_string(latencies.size()) +
                                            " HTTPS requests (a handshake each) beside " +
                                            std::to_string(watched.size()) + " slow connections");
  report("tls slowloris drop", std::to_string(watched.size() - open) + " of " +
                                   std::to_string(watched.size()) + " dropped (" + std::to_string(kSlowTls) +
                                   " slow heads, " + std::to_string(kSilent) + " silent, " +
                                   std::to_string(kHalfHello) + " half ClientHellos), at most " +
                                   std::to_string(max_late) + " ms after their deadline");
  expect_clean_exit(server.process());
}

TEST(TlsDrain, InFlightHttpsRequestsFinishNoAnswerIsCutAndExitIsClean) {
  if (!test::openssl_cli_available()) GTEST_SKIP() << "no openssl command to make the certificates";
  constexpr int kSleepers = 20;
  constexpr int kKeepAlive = 4;
  std::vector<std::string> args = https_flags();
  args.insert(args.end(), {"-t", "32", "--shutdown-timeout", "10"});
  test::WeftServer server(args);
  const std::uint16_t port = server.port();

  // Keep-alive HTTPS clients: every answer must arrive whole, or the connection must close
  // before an answer starts (it was idle: the request was never read).
  std::atomic<bool> stop{false};
  std::atomic<long> complete{0};
  std::atomic<long> cut{0};
  std::vector<std::thread> clients;
  for (int c = 0; c < kKeepAlive; ++c) {
    clients.emplace_back([&] {
      while (!stop) {
        std::unique_ptr<TlsClient> connected;
        try {
          connected = std::make_unique<TlsClient>(port, trusting());
        } catch (const std::system_error&) {
          return;  // the listener is gone: the drain has begun
        }
        TlsClient& client = *connected;
        if (!client.ok()) return;
        for (;;) {
          if (!client.send("GET / HTTP/1.1\r\nHost: a\r\n\r\n")) break;
          const auto response = client.read_response(5s);
          if (!response) {
            // Nothing at all is fine (closed idle); a partial answer is not.
            if (!client.pending().empty()) ++cut;
            break;
          }
          if (response->status == 200 && response->body.size() == 176) {
            ++complete;
          } else {
            ++cut;
          }
          if (response->connection_has("close")) break;
        }
      }
    });
  }
  std::this_thread::sleep_for(500ms);

  std::vector<std::unique_ptr<TlsClient>> sleepers;
  for (int i = 0; i < kSleepers; ++i) {
    auto client = std::make_unique<TlsClient>(port, trusting());
    ASSERT_TRUE(client->ok()) << client->handshake().error;
    ASSERT_TRUE(client->send("GET /sleep?ms=1500 HTTP/1.1\r\nHost: a\r\n\r\n"));
    sleepers.push_back(std::move(client));
  }
  std::this_thread::sleep_for(300ms);
  const auto signalled = Clock::now();
  server.process().send_signal(SIGTERM);

  int sleepers_ok = 0;
  for (auto& client : sleepers) {
    const auto response = client->read_response(8s);
    if (response && response->status == 200 && response->connection_has("close") && client->closed_within(3s))
      ++sleepers_ok;
  }
  const auto status = server.process().wait_exit(12s);
  const double exit_s = std::chrono::duration<double>(Clock::now() - signalled).count();
  stop = true;
  for (std::thread& t : clients) t.join();

  ASSERT_TRUE(status && status->exited) << "weft did not exit within the drain deadline";
  EXPECT_EQ(status->code, 0);
  EXPECT_LT(exit_s, 10.0);
  EXPECT_EQ(sleepers_ok, kSleepers) << "in-flight HTTPS requests that did not get their whole answer";
  EXPECT_EQ(cut.load(), 0) << "HTTPS answers cut or wrong";
  EXPECT_GT(complete.load(), 50);
  report("tls drain", std::to_string(kSleepers) + " HTTPS /sleep in flight + " + std::to_string(kKeepAlive) +
                          " keep-alive HTTPS clients; exit 0 after " + std::to_string(exit_s) + " s; " +
                          std::to_string(sleepers_ok) + " sleepers answered; " +
                          std::to_string(complete.load()) + " keep-alive answers complete, " +
                          std::to_string(cut.load()) + " cut");
}

}  // namespace
}  // namespace weft::stress
