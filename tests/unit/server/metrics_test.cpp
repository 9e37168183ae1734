// The metrics' text rendering (Prometheus exposition 0.0.4) and the per-loop counting rules.

#include "server/metrics.hpp"

#include <gtest/gtest.h>

#include <sstream>
#include <string>
#include <vector>

namespace weft::server {
namespace {

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

std::vector<std::string> lines_starting(const std::string& text, const std::string& prefix) {
  std::vector<std::string> found;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (line.rfind(prefix, 0) == 0) found.push_back(line);
  }
  return found;
}

TEST(MetricsRender, LabelValuesEscapeBackslashQuoteAndNewline) {
  EXPECT_EQ(escape_label_value("plain 1.0"), "plain 1.0");
  EXPECT_EQ(escape_label_value(R"(a\b)"), R"(a\\b)");
  EXPECT_EQ(escape_label_value(R"(say "hi")"), R"(say \"hi\")");
  EXPECT_EQ(escape_label_value("two\nlines"), R"(two\nlines)");
  MetricsSnapshot s;
  s.version = "1.0\"\n\\x";
  EXPECT_TRUE(contains(render_metrics(s), "weft_build_info{version=\"1.0\\\"\\n\\\\x\"} 1\n"));
}

TEST(MetricsRender, HistogramBucketsAreCumulativeAndEndWithInfSumAndCount) {
  http::LoopCounters loop;
  loop.answered(http::Protocol::kHttp1, 200, 0.001);  // le 0.005
  loop.answered(http::Protocol::kHttp1, 200, 0.005);  // le 0.005: a bound is inclusive
  loop.answered(http::Protocol::kHttp1, 200, 0.3);    // le 0.5
  loop.answered(http::Protocol::kHttp1, 200, 60.0);   // +Inf only
  loop.answered(http::Protocol::kHttp1, 400, -1);     // counted, not timed
  MetricsSnapshot s;
  s.add(loop);
  const std::string text = render_metrics(s);
  const std::vector<std::string> buckets = lines_starting(text, "weft_http_request_duration_seconds_bucket");
  const std::vector<std::string> expected{
      R"(weft_http_request_duration_seconds_bucket{le="0.005"} 2)",
      R"(weft_http_request_duration_seconds_bucket{le="0.01"} 2)",
      R"(weft_http_request_duration_seconds_bucket{le="0.025"} 2)",
      R"(weft_http_request_duration_seconds_bucket{le="0.05"} 2)",
      R"(weft_http_request_duration_seconds_bucket{le="0.1"} 2)",
      R"(weft_http_request_duration_seconds_bucket{le="0.25"} 2)",
      R"(weft_http_request_duration_seconds_bucket{le="0.5"} 3)",
      R"(weft_http_request_duration_seconds_bucket{le="1"} 3)",
      R"(weft_http_request_duration_seconds_bucket{le="2.5"} 3)",
      R"(weft_http_request_duration_seconds_bucket{le="5"} 3)",
      R"(weft_http_request_duration_seconds_bucket{le="10"} 3)",
      R"(weft_http_request_duration_seconds_bucket{le="+Inf"} 4)",
  };
  EXPECT_EQ(buckets, expected);
  EXPECT_TRUE(contains(text, "weft_http_request_duration_seconds_sum 60.306\n")) << text;
  EXPECT_TRUE(contains(text, "weft_http_request_duration_seconds_count 4\n"));
  EXPECT_TRUE(contains(text, "# TYPE weft_http_request_duration_seconds histogram\n"));
  EXPECT_TRUE(contains(text, R"(weft_http_requests_total{protocol="http/1.1",status="2xx"} 4)"));
  EXPECT_TRUE(contains(text, R"(weft_http_requests_total{protocol="http/1.1",status="4xx"} 1)"));
}

TEST(MetricsRender, LoopsAreSummedAndEveryFamilyHasHelpAndType) {
  http::LoopCounters a;
  http::LoopCounters b;
  a.answered(http::Protocol::kHttp1, 101, 0);
  b.answered(http::Protocol::kHttp1, 503, 0);
  b.answered(http::Protocol::kHttp1, 302, 0);
  http::LoopCounters::add(a.received_bytes, 100);
  http::LoopCounters::add(b.received_bytes, 23);
  http::LoopCounters::add(a.sent_bytes, 7);
  http::LoopCounters::add(a.tls_full, 2);
  http::LoopCounters::add(b.tls_resumed, 3);
  http::LoopCounters::add(b.accepted, 5);
  http::LoopCounters::set(a.open, 4);
  http::LoopCounters::set(b.open, 1);
  http::LoopCounters::set(b.idle, 2);
  MetricsSnapshot s;
  s.add(a);
  s.add(b);
  s.pool_threads = 4;
  s.pool_busy = 1;
  s.pool_queued = 9;
  s.pool_wakeups = 11;
  s.pool_spin_hits = 12;
  s.pool_spin_misses = 13;
  s.pool_spin_preemptions = 14;
  s.pool_spins_capped = 15;
  s.pool_spins_backed_off = 16;
  s.reloads = 2;
  s.reload_failures = 1;
  s.uptime_seconds = 1.5;
  s.version = "0.1.0";
  const std::string text = render_metrics(s);
  for (const char* line : {
           R"(weft_http_requests_total{protocol="http/1.1",status="1xx"} 1)",
           R"(weft_http_requests_total{protocol="http/1.1",status="3xx"} 1)",
           R"(weft_http_requests_total{protocol="http/1.1",status="5xx"} 1)",
           "weft_received_bytes_total 123",
           "weft_sent_bytes_total 7",
           R"(weft_tls_handshakes_total{kind="full"} 2)",
           R"(weft_tls_handshakes_total{kind="resumed"} 3)",
           "weft_connections_accepted_total 5",
           "weft_connections_open 5",
           "weft_connections_idle 2",
           "weft_pool_threads 4",
           "weft_pool_busy_threads 1",
           "weft_pool_queued_jobs 9",
           "weft_pool_wakeups_total 11",
           R"(weft_pool_spins_total{outcome="hit"} 12)",
           R"(weft_pool_spins_total{outcome="miss"} 13)",
           R"(weft_pool_spins_total{outcome="preempted"} 14)",
           R"(weft_pool_spins_skipped_total{reason="capped"} 15)",
           R"(weft_pool_spins_skipped_total{reason="backed_off"} 16)",
           "weft_reloads_total 2",
           "weft_reload_failures_total 1",
           "weft_uptime_seconds 1.5",
           R"(weft_build_info{version="0.1.0"} 1)",
       }) {
    EXPECT_TRUE(contains(text, std::string(line) + "\n")) << line;
  }
  // Each sample's family was announced with HELP and TYPE just before its first sample.
  std::istringstream in(text);
  std::string announced;
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("# TYPE ", 0) == 0) {
      announced = line.substr(7, line.find(' ', 7) - 7);
      continue;
    }
    if (line.rfind("# HELP ", 0) == 0) continue;
    ASSERT_FALSE(announced.empty()) << line;
    EXPECT_EQ(line.rfind(announced, 0), 0U) << line << " under " << announced;
  }
  EXPECT_EQ(text.back(), '\n');
}

TEST(MetricsCounting, StatusClassesOutsideTheRangeGoToTheNearest) {
  http::LoopCounters loop;
  loop.answered(http::Protocol::kHttp1, 99, -1);
  loop.answered(http::Protocol::kHttp1, 600, -1);
  loop.answered(http::Protocol::kHttp1, 599, -1);
  EXPECT_EQ(http::LoopCounters::get(loop.requests[0][0]), 1U);
  EXPECT_EQ(http::LoopCounters::get(loop.requests[0][4]), 2U);
  std::uint64_t timed = 0;
  for (const auto& bucket : loop.duration_buckets) timed += http::LoopCounters::get(bucket);
  EXPECT_EQ(timed, 0U);
}

}  // namespace
}  // namespace weft::server
