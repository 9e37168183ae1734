#pragma once
// LoopCounters: what one event loop has counted for the metrics listener (requests, bytes, TLS
// handshakes, request durations, its connections). Written only by the loop's own thread, read
// by the thread that answers a scrape: every field is an atomic used with relaxed order, and a
// write is a load and a store (no locked read-modify-write: there is one writer), so counting
// costs a few plain instructions and no lock on the request path. Each block starts on its own
// cache line, so loops never share one.

#include <array>
#include <atomic>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace weft::http {

/// The protocol of a connection or an answer, as the metrics name it.
enum class Protocol : std::uint8_t {
  kHttp1,  ///< HTTP/1.0 and HTTP/1.1
  kH2,     ///< HTTP/2 (over TLS or cleartext)
};
inline constexpr std::size_t kProtocolCount = 2;

/// The label value of `p` (ALPN's names).
[[nodiscard]] constexpr std::string_view protocol_name(Protocol p) noexcept {
  switch (p) {
    case Protocol::kHttp1:
      return "http/1.1";
    case Protocol::kH2:
      return "h2";
  }
  return "unknown";
}

/// Upper bounds, in seconds, of the request-duration histogram's buckets (Prometheus' defaults).
inline constexpr std::array<double, 11> kDurationBounds{0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
                                                        0.5,   1.0,  2.5,   5.0,  10.0};

struct alignas(64) LoopCounters {
  using Counter = std::atomic<std::uint64_t>;

  /// Adds `n` to a counter of this loop (its thread only).
  static void add(Counter& c, std::uint64_t n = 1) noexcept {
    c.store(c.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
  }
  static void set(Counter& c, std::uint64_t v) noexcept { c.store(v, std::memory_order_relaxed); }
  [[nodiscard]] static std::uint64_t get(const Counter& c) noexcept {
    return c.load(std::memory_order_relaxed);
  }

  /// Counts one answer: its status class (1xx..5xx; anything else is put with the nearest) and
  /// protocol, and, when `seconds` >= 0, its duration.
  void answered(Protocol protocol, int status, double seconds) noexcept {
    const int cls = status < 100 ? 1 : status >= 600 ? 5 : status / 100;
    add(requests[static_cast<std::size_t>(protocol)][static_cast<std::size_t>(cls - 1)]);
    if (seconds < 0) return;
    std::size_t i = 0;
    while (i < kDurationBounds.size() && seconds > kDurationBounds[i]) ++i;
    add(duration_buckets[i]);
    add(duration_sum_ns, static_cast<std::uint64_t>(std::llround(seconds * 1e9)));
  }

  /// Answers by protocol and status class (index 0 = 1xx).
  std::array<std::array<Counter, 5>, kProtocolCount> requests{};
  /// Answers timed, by bucket: [i] counts durations in (bound[i-1], bound[i]]; the last, above
  /// every bound. Not cumulative (the rendering adds them up).
  std::array<Counter, kDurationBounds.size() + 1> duration_buckets{};
  Counter duration_sum_ns{0};
  /// Bytes of HTTP read from clients and written to them (before encryption under TLS).
  Counter received_bytes{0};
  Counter sent_bytes{0};
  Counter tls_full{0};     ///< TLS handshakes completed with a full key exchange
  Counter tls_resumed{0};  ///< TLS handshakes that resumed a session (a ticket)
  Counter accepted{0};     ///< connections accepted
  /// Gauges the loop publishes once per turn.
  Counter open{0};  ///< connections open
  Counter idle{0};  ///< of those, waiting between requests (keep-alive)
};

}  // namespace weft::http
