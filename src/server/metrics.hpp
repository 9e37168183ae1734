#pragma once
// The metrics listener's answer: the loops' counter blocks (http/loop_counters.hpp) summed at
// scrape time, with the pool's and the server's figures, rendered in the Prometheus text
// exposition format 0.0.4.

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "http/loop_counters.hpp"
#include "weft/thread_pool.hpp"

namespace weft::server {

/// The Content-Type of a rendered answer.
inline constexpr std::string_view kMetricsContentType = "text/plain; version=0.0.4; charset=utf-8";

/// Every figure of one scrape.
struct MetricsSnapshot {
  std::array<std::array<std::uint64_t, 5>, http::kProtocolCount> requests{};
  std::array<std::uint64_t, http::kDurationBounds.size() + 1> duration_buckets{};  // not cumulative
  double duration_sum_seconds = 0;
  std::uint64_t received_bytes = 0;
  std::uint64_t sent_bytes = 0;
  std::uint64_t tls_full = 0;
  std::uint64_t tls_resumed = 0;
  std::uint64_t accepted = 0;
  std::uint64_t open = 0;
  std::uint64_t idle = 0;
  std::uint64_t pool_threads = 0;
  std::uint64_t pool_busy = 0;
  std::uint64_t pool_queued = 0;
  std::uint64_t pool_wakeups = 0;           // sleeping workers woken for a job
  std::uint64_t pool_spin_hits = 0;         // idle polls that found a job
  std::uint64_t pool_spin_misses = 0;       // ... whose window passed without one
  std::uint64_t pool_spin_preemptions = 0;  // ... during which the worker lost its CPU
  std::uint64_t pool_spins_capped = 0;      // polls not started: as many pollers as CPUs to spare
  std::uint64_t pool_spins_backed_off = 0;  // polls not started: recent ones did not pay
  std::uint64_t reloads = 0;
  std::uint64_t reload_failures = 0;
  double uptime_seconds = 0;
  std::string version;

  /// Adds one loop's counters.
  void add(const http::LoopCounters& loop) noexcept;
};

/// `value` escaped for a label value: backslash, double quote and line feed.
[[nodiscard]] std::string escape_label_value(std::string_view value);

/// The text exposition of `s`: every family with its HELP and TYPE lines.
[[nodiscard]] std::string render_metrics(const MetricsSnapshot& s);

/// What the metrics listener reads, owned by the Server: shared by every thread, fixed once the
/// loops run (the counters' addresses), or atomic.
struct MetricsSources {
  std::vector<const http::LoopCounters*> loops;  ///< the site's loops (not the metrics loop)
  const ThreadPool* pool = nullptr;
  std::atomic<std::uint64_t> reloads{0};
  std::atomic<std::uint64_t> reload_failures{0};
  std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();

  /// Sums and renders now (any thread).
  [[nodiscard]] std::string render() const;
};

}  // namespace weft::server
