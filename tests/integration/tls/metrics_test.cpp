// The metrics listener (--metrics) of the real weft binary: counters that move by exactly what
// clients did (HTTPS with full and resumed handshakes, a HEAD, a 404, a redirect, a parse error,
// bytes both ways, a reload), scraped with curl and checked with promtool; the gauges
// (keep-alive connections, busy pool workers); what the listener answers besides /metrics; the
// command line.

#include <gtest/gtest.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <unistd.h>

#include "integration/tls/tls_fixture.hpp"
#include "support/clean_exit.hpp"
#include "support/deadline.hpp"
#include "support/http_client.hpp"

namespace weft::test {
namespace {

// The port of the metrics listener, from the stdout line "weft metrics on
// http://127.0.0.1:PORT/metrics" (after the listening line and any redirect line).
std::uint16_t metrics_port(WeftServer& weft) {
  static const std::regex url(R"(^weft metrics on http://127\.0\.0\.1:([0-9]+)/metrics$)");
  for (int i = 0; i < 3; ++i) {
    const auto line = weft.process().read_stdout_line(5s);
    if (!line) break;
    std::smatch match;
    if (std::regex_search(*line, match, url)) return static_cast<std::uint16_t>(std::stoul(match[1]));
  }
  ADD_FAILURE() << "no metrics line on stdout";
  return 0;
}

// One scrape with curl: the body, or "" when curl failed.
std::string scrape(std::uint16_t port) {
  const ToolRun run =
      run_tool("curl", {"-sS", "--max-time", "5", "http://127.0.0.1:" + std::to_string(port) + "/metrics"});
  EXPECT_TRUE(run.succeeded()) << run.err;
  return run.out;
}

// Every sample of a scrape: "name{labels}" -> value.
std::map<std::string, double> samples(const std::string& text) {
  std::map<std::string, double> found;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (line.empty() || line.front() == '#') continue;
    const std::size_t space = line.rfind(' ');
    found[line.substr(0, space)] = std::strtod(line.c_str() + space + 1, nullptr);
  }
  return found;
}

double value(const std::map<std::string, double>& s, const std::string& key) {
  const auto it = s.find(key);
  EXPECT_NE(it, s.end()) << key;
  return it == s.end() ? -1 : it->second;
}

// Scrapes until `pred` holds for a scrape (10 s at most); the last scrape's samples.
template <typename Pred>
std::map<std::string, double> scrape_until(std::uint16_t port, Pred pred) {
  const auto deadline = Clock::now() + 10s;
  std::map<std::string, double> s = samples(scrape(port));
  while (!pred(s) && Clock::now() < deadline) {
    std::this_thread::sleep_for(20ms);
    s = samples(scrape(port));
  }
  return s;
}

const std::string kRequests = R"(weft_http_requests_total{protocol="http/1.1",status=")";

// A request on a fresh TLS connection, read until weft closes: the plaintext answer.
std::string tls_exchange(std::uint16_t port, const TlsOptions& options, const std::string& request,
                         TlsSession* session = nullptr, bool* resumed = nullptr) {
  TlsClient client(port, options);
  EXPECT_TRUE(client.ok()) << client.handshake().error;
  if (resumed != nullptr) *resumed = client.handshake().session_reused;
  EXPECT_TRUE(client.send(request));
  const auto answer = client.read_until_close();
  EXPECT_TRUE(answer.has_value());
  if (session != nullptr) *session = client.session();
  return answer.value_or("");
}

TEST(Metrics, CountersMoveByWhatClientsDidAndPromtoolAcceptsTheText) {
  WeftServer weft(https_args({"--metrics", "127.0.0.1:0", "--http-redirect", "0"}));
  const auto redirect = redirect_port(weft);
  ASSERT_TRUE(redirect);
  const std::uint16_t mport = metrics_port(weft);
  ASSERT_NE(mport, 0);
  const auto before = samples(scrape(mport));

  TlsOptions tls = trusting();
  tls.min_version = tls.max_version = "1.3";
  const std::string get = "GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n";
  const std::string head = "HEAD / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n";
  const std::string missing = "GET /nope HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n";
  const std::string to_https = "GET /x HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n";
  const std::string garbage = "NOT HTTP\r\n\r\n";
  std::size_t received = 0;
  std::size_t sent = 0;

  TlsSession session;
  std::string answer = tls_exchange(weft.port(), tls, get, &session);  // full handshake, 200
  EXPECT_EQ(answer.rfind("HTTP/1.1 200 ", 0), 0U) << answer;
  received += get.size();
  sent += answer.size();
  ASSERT_TRUE(session);
  TlsOptions again = tls;
  again.session = session;
  bool resumed = false;
  answer = tls_exchange(weft.port(), again, missing, nullptr, &resumed);  // resumed, 404
  EXPECT_TRUE(resumed);
  EXPECT_EQ(answer.rfind("HTTP/1.1 404 ", 0), 0U) << answer;
  received += missing.size();
  sent += answer.size();
  answer = tls_exchange(weft.port(), tls, head);  // full handshake, 200 without a body
  EXPECT_EQ(answer.rfind("HTTP/1.1 200 ", 0), 0U) << answer;
  EXPECT_EQ(answer.find("\r\n\r\n") + 4, answer.size());
  received += head.size();
  sent += answer.size();
  answer = raw_exchange(*redirect, to_https);  // cleartext, 308
  EXPECT_EQ(answer.rfind("HTTP/1.1 308 ", 0), 0U) << answer;
  received += to_https.size();
  sent += answer.size();
  answer = raw_exchange(*redirect, garbage);  // 400, not timed
  EXPECT_EQ(answer.rfind("HTTP/1.1 400 ", 0), 0U) << answer;
  received += garbage.size();
  sent += answer.size();

  // The last connections close on weft's side a moment after the client saw the end.
  const auto after = scrape_until(mport, [](const auto& s) {
    const auto it = s.find("weft_connections_open");
    return it != s.end() && it->second == 0;
  });
  const auto moved = [&](const std::string& key) { return value(after, key) - value(before, key); };
  EXPECT_EQ(moved(kRequests + "1xx\"}"), 0);
  EXPECT_EQ(moved(kRequests + "2xx\"}"), 2);
  EXPECT_EQ(moved(kRequests + "3xx\"}"), 1);
  EXPECT_EQ(moved(kRequests + "4xx\"}"), 2);
  EXPECT_EQ(moved(kRequests + "5xx\"}"), 0);
  EXPECT_EQ(moved("weft_http_request_duration_seconds_count"), 4);
  EXPECT_EQ(moved("weft_http_request_duration_seconds_bucket{le=\"+Inf\"}"), 4);
  EXPECT_EQ(moved("weft_tls_handshakes_total{kind=\"full\"}"), 2);
  EXPECT_EQ(moved("weft_tls_handshakes_total{kind=\"resumed\"}"), 1);
  EXPECT_EQ(moved("weft_connections_accepted_total"), 5);
  EXPECT_EQ(moved("weft_received_bytes_total"), static_cast<double>(received));
  EXPECT_EQ(moved("weft_sent_bytes_total"), static_cast<double>(sent));
  EXPECT_EQ(value(after, "weft_connections_idle"), 0);
  EXPECT_EQ(value(after, "weft_pool_threads"), 2);
  EXPECT_EQ(value(after, "weft_pool_queued_jobs"), 0);
  EXPECT_EQ(value(after, "weft_reloads_total"), 0);
  EXPECT_EQ(value(after, "weft_build_info{version=\"" WEFT_VERSION "\"}"), 1);
  EXPECT_GT(value(after, "weft_uptime_seconds"), value(before, "weft_uptime_seconds"));

  // SIGHUP reloads the certificates: counted.
  weft.process().send_signal(SIGHUP);
  const auto reloaded = scrape_until(mport, [](const auto& s) {
    const auto it = s.find("weft_reloads_total");
    return it != s.end() && it->second == 1;
  });
  EXPECT_EQ(value(reloaded, "weft_reloads_total"), 1);
  EXPECT_EQ(value(reloaded, "weft_reload_failures_total"), 0);

  // promtool reads the exposition from stdin.
  if (find_program("promtool").empty()) {
    expect_clean_exit(weft.process());
    GTEST_SKIP() << "promtool is not installed (Debian package prometheus)";
  }
  char path[] = "/tmp/weft-metrics-XXXXXX";
  const int fd = ::mkstemp(path);
  ASSERT_GE(fd, 0);
  const std::string text = scrape(mport);
  ASSERT_EQ(::write(fd, text.data(), text.size()), static_cast<ssize_t>(text.size()));
  ::close(fd);
  const ToolRun check = run_tool("sh", {"-c", "promtool check metrics < " + std::string(path)});
  ::unlink(path);
  EXPECT_TRUE(check.succeeded()) << check.out << check.err << text;
  expect_clean_exit(weft.process());
}

TEST(Metrics, GaugesShowKeepAliveConnectionsAndBusyWorkers) {
  WeftServer weft({"--metrics", "127.0.0.1:0", "--loops", "2", "--threads", "2"});
  const std::uint16_t mport = metrics_port(weft);
  ASSERT_NE(mport, 0);
  {
    Client keep(weft.port());
    ASSERT_TRUE(keep.send(make_request("GET", "/")));
    const auto response = keep.read_response();
    ASSERT_TRUE(response);
    EXPECT_EQ(response->status, 200);
    auto s = scrape_until(mport, [](const auto& m) {
      const auto it = m.find("weft_connections_idle");
      return it != m.end() && it->second == 1;
    });
    EXPECT_EQ(value(s, "weft_connections_open"), 1);
    EXPECT_EQ(value(s, "weft_connections_idle"), 1);

    // A /sleep handler holds a worker while it sleeps.
    Client sleeper(weft.port());
    ASSERT_TRUE(sleeper.send(make_request("GET", "/sleep?ms=3000", {"Connection: close"})));
    s = scrape_until(mport, [](const auto& m) {
      const auto it = m.find("weft_pool_busy_threads");
      return it != m.end() && it->second == 1;
    });
    EXPECT_EQ(value(s, "weft_pool_busy_threads"), 1);
    EXPECT_EQ(value(s, "weft_connections_open"), 2);
    EXPECT_EQ(value(s, "weft_connections_idle"), 1);
    const auto slept = sleeper.read_response(10s);
    ASSERT_TRUE(slept);
    EXPECT_EQ(slept->status, 200);
  }
  // The worker flags itself idle after its answer has left: it may come a moment later.
  const auto s = scrape_until(mport, [](const auto& m) {
    const auto open = m.find("weft_connections_open");
    const auto busy = m.find("weft_pool_busy_threads");
    return open != m.end() && open->second == 0 && busy != m.end() && busy->second == 0;
  });
  EXPECT_EQ(value(s, "weft_connections_open"), 0);
  EXPECT_EQ(value(s, "weft_connections_idle"), 0);
  EXPECT_EQ(value(s, "weft_pool_busy_threads"), 0);
  // The /sleep answer took its 3 s: timed in the buckets above 2.5 s only.
  EXPECT_EQ(value(s, "weft_http_request_duration_seconds_bucket{le=\"2.5\"}"), 1);
  EXPECT_EQ(value(s, "weft_http_request_duration_seconds_bucket{le=\"5\"}"), 2);
  expect_clean_exit(weft.process());
}

TEST(Metrics, TheListenerServesOnlyMetricsAndTheSiteDoesNot) {
  WeftServer weft({"--metrics", "127.0.0.1:0", "--loops", "1"});
  const std::uint16_t mport = metrics_port(weft);
  ASSERT_NE(mport, 0);
  const auto metrics = get(mport, "/metrics");
  ASSERT_TRUE(metrics);
  EXPECT_EQ(metrics->status, 200);
  EXPECT_EQ(metrics->header("Content-Type"), "text/plain; version=0.0.4; charset=utf-8");
  EXPECT_NE(metrics->body.find("# TYPE weft_http_requests_total counter\n"), std::string::npos);
  const auto head = request(mport, "HEAD", "/metrics");
  ASSERT_TRUE(head);
  EXPECT_EQ(head->status, 200);
  EXPECT_TRUE(head->body.empty());
  EXPECT_EQ(head->header("Content-Type"), "text/plain; version=0.0.4; charset=utf-8");
  const auto root = get(mport, "/");  // the site's page is not there
  ASSERT_TRUE(root);
  EXPECT_EQ(root->status, 404);
  const auto post = request(mport, "POST", "/metrics");
  ASSERT_TRUE(post);
  EXPECT_EQ(post->status, 405);
  EXPECT_EQ(post->header("Allow"), "GET, HEAD");
  // The main listener's limits apply: a head over --max-header-bytes is 431.
  const auto big = get(mport, "/metrics", {"X-Big: " + std::string(20000, 'a')});
  ASSERT_TRUE(big);
  EXPECT_EQ(big->status, 431);
  // And the site knows nothing of /metrics.
  const auto site = get(weft.port(), "/metrics");
  ASSERT_TRUE(site);
  EXPECT_EQ(site->status, 404);
  // Scrapes are not counted: only the site's one request is.
  const auto s = samples(scrape(mport));
  EXPECT_EQ(value(s, kRequests + "4xx\"}"), 1);
  EXPECT_EQ(value(s, kRequests + "2xx\"}"), 0);
  expect_clean_exit(weft.process());
}

TEST(Metrics, CommandLineErrorsAreUsageErrors) {
  for (const char* bad : {"127.0.0.1", "localhost:9100", "::1:9100", "127.0.0.1:70000", "[::1]9100", ""}) {
    SCOPED_TRACE(bad);
    const RunResult run = run_weft({"--metrics", bad});
    ASSERT_TRUE(run.status);
    EXPECT_EQ(run.status->code, 2);
    EXPECT_NE(run.err.find("--metrics"), std::string::npos) << run.err;
  }
  const RunResult clash = run_weft({"--port", "18099", "--metrics", "127.0.0.1:18099"});
  ASSERT_TRUE(clash.status);
  EXPECT_EQ(clash.status->code, 2);
  EXPECT_NE(clash.err.find("metrics port must differ from port"), std::string::npos) << clash.err;
  const RunResult help = run_weft({"--help"});
  EXPECT_NE(help.out.find("--metrics ADDR:PORT"), std::string::npos);
}

}  // namespace
}  // namespace weft::test
