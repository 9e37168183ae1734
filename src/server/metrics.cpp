#include "server/metrics.hpp"

#include <charconv>
#include <cstdio>

#include "pool/thread_pool_probe.hpp"

namespace weft::server {
namespace {

using Counters = http::LoopCounters;

// A finite value as Go's strconv formats it for Prometheus: the shortest text that reads back
// as the same double.
void append_number(std::string& out, double v) {
  std::array<char, 32> buf{};
  const auto [end, ec] = std::to_chars(buf.data(), buf.data() + buf.size(), v);
  out.append(buf.data(), ec == std::errc() ? end : buf.data());
}

void append_number(std::string& out, std::uint64_t v) {
  std::array<char, 24> buf{};
  const auto [end, ec] = std::to_chars(buf.data(), buf.data() + buf.size(), v);
  out.append(buf.data(), ec == std::errc() ? end : buf.data());
}

void family(std::string& out, std::string_view name, std::string_view type, std::string_view help) {
  out.append("# HELP ").append(name).append(" ").append(help).append("\n");
  out.append("# TYPE ").append(name).append(" ").append(type).append("\n");
}

template <typename T>
void sample(std::string& out, std::string_view name, std::string_view labels, T value) {
  out.append(name);
  if (!labels.empty()) out.append("{").append(labels).append("}");
  out.append(" ");
  append_number(out, value);
  out.append("\n");
}

template <typename T>
void single(std::string& out, std::string_view name, std::string_view type, std::string_view help, T value) {
  family(out, name, type, help);
  sample(out, name, {}, value);
}

}  // namespace

void MetricsSnapshot::add(const http::LoopCounters& loop) noexcept {
  for (std::size_t p = 0; p < requests.size(); ++p) {
    for (std::size_t c = 0; c < requests[p].size(); ++c) requests[p][c] += Counters::get(loop.requests[p][c]);
  }
  for (std::size_t i = 0; i < duration_buckets.size(); ++i)
    duration_buckets[i] += Counters::get(loop.duration_buckets[i]);
  duration_sum_seconds += static_cast<double>(Counters::get(loop.duration_sum_ns)) / 1e9;
  received_bytes += Counters::get(loop.received_bytes);
  sent_bytes += Counters::get(loop.sent_bytes);
  tls_full += Counters::get(loop.tls_full);
  tls_resumed += Counters::get(loop.tls_resumed);
  accepted += Counters::get(loop.accepted);
  open += Counters::get(loop.open);
  idle += Counters::get(loop.idle);
}

std::string escape_label_value(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (const char c : value) {
    switch (c) {
      case '\\':
        out += "\\\\";
        break;
      case '"':
        out += "\\\"";
        break;
      case '\n':
        out += "\\n";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string render_metrics(const MetricsSnapshot& s) {
  std::string out;
  out.reserve(4096);

  family(out, "weft_http_requests_total", "counter",
         "HTTP answers sent, by protocol and status class (1xx to 5xx).");
  for (std::size_t p = 0; p < s.requests.size(); ++p) {
    const std::string protocol = escape_label_value(http::protocol_name(static_cast<http::Protocol>(p)));
    for (std::size_t c = 0; c < s.requests[p].size(); ++c) {
      const std::string labels = "protocol=\"" + protocol + "\",status=\"" + std::to_string(c + 1) + "xx\"";
      sample(out, "weft_http_requests_total", labels, s.requests[p][c]);
    }
  }

  constexpr std::string_view kDuration = "weft_http_request_duration_seconds";
  family(out, kDuration, "histogram",
         "Time from a request's complete head to its answer queued (answers to a request that "
         "never arrived whole, such as a parse error, are not timed).");
  std::uint64_t cumulative = 0;
  std::string bucket = std::string(kDuration) + "_bucket";
  for (std::size_t i = 0; i < http::kDurationBounds.size(); ++i) {
    cumulative += s.duration_buckets[i];
    std::string le = "le=\"";
    append_number(le, http::kDurationBounds[i]);
    le += "\"";
    sample(out, bucket, le, cumulative);
  }
  cumulative += s.duration_buckets.back();
  sample(out, bucket, "le=\"+Inf\"", cumulative);
  sample(out, std::string(kDuration) + "_sum", {}, s.duration_sum_seconds);
  sample(out, std::string(kDuration) + "_count", {}, cumulative);

  single(out, "weft_received_bytes_total", "counter",
         "Bytes of HTTP read from clients (after decryption under TLS).", s.received_bytes);
  single(out, "weft_sent_bytes_total", "counter",
         "Bytes of HTTP written to clients (before encryption under TLS).", s.sent_bytes);
  single(out, "weft_connections_accepted_total", "counter", "Client connections accepted.", s.accepted);
  single(out, "weft_connections_open", "gauge", "Client connections open.", s.open);
  single(out, "weft_connections_idle", "gauge", "Open connections waiting between requests (keep-alive).",
         s.idle);

  family(out, "weft_tls_handshakes_total", "counter",
         "TLS handshakes completed, full (a key exchange) or resumed (a session ticket).");
  sample(out, "weft_tls_handshakes_total", "kind=\"full\"", s.tls_full);
  sample(out, "weft_tls_handshakes_total", "kind=\"resumed\"", s.tls_resumed);

  single(out, "weft_pool_threads", "gauge", "Worker threads of the handler pool.", s.pool_threads);
  single(out, "weft_pool_busy_threads", "gauge", "Pool workers running a job.", s.pool_busy);
  single(out, "weft_pool_queued_jobs", "gauge", "Jobs waiting for a pool worker.", s.pool_queued);
  single(out, "weft_pool_wakeups_total", "counter", "Sleeping pool workers woken to run a job.",
         s.pool_wakeups);
  family(out, "weft_pool_spins_total", "counter",
         "Idle pool workers' polls for a job before sleeping, by how they ended: a job came (hit), none "
         "came (miss), the worker lost its CPU meanwhile (preempted).");
  sample(out, "weft_pool_spins_total", "outcome=\"hit\"", s.pool_spin_hits);
  sample(out, "weft_pool_spins_total", "outcome=\"miss\"", s.pool_spin_misses);
  sample(out, "weft_pool_spins_total", "outcome=\"preempted\"", s.pool_spin_preemptions);
  family(out, "weft_pool_spins_skipped_total", "counter",
         "Idle pool workers that slept at once: as many others polled as there are CPUs to spare "
         "(capped), or recent polls did not pay (backed_off).");
  sample(out, "weft_pool_spins_skipped_total", "reason=\"capped\"", s.pool_spins_capped);
  sample(out, "weft_pool_spins_skipped_total", "reason=\"backed_off\"", s.pool_spins_backed_off);

  single(out, "weft_reloads_total", "counter", "Reloads (certificates, configuration) that took effect.",
         s.reloads);
  single(out, "weft_reload_failures_total", "counter", "Reloads that failed (the previous state stayed).",
         s.reload_failures);
  single(out, "weft_uptime_seconds", "gauge", "Seconds since the server started.", s.uptime_seconds);

  family(out, "weft_build_info", "gauge", "The weft version serving; always 1.");
  sample(out, "weft_build_info", "version=\"" + escape_label_value(s.version) + "\"", std::uint64_t{1});
  return out;
}

std::string MetricsSources::render() const {
  MetricsSnapshot s;
  for (const http::LoopCounters* loop : loops) s.add(*loop);
  if (pool != nullptr) {
    s.pool_threads = pool->size();
    s.pool_busy = pool->busy();
    s.pool_queued = pool->queued();
    const detail::ThreadPoolCounters c = detail::ThreadPoolProbe::counters(*pool);
    s.pool_wakeups = c.wakeups;
    s.pool_spin_hits = c.spin_hits;
    s.pool_spin_misses = c.spin_misses;
    s.pool_spin_preemptions = c.spin_preemptions;
    s.pool_spins_capped = c.spins_capped;
    s.pool_spins_backed_off = c.spins_backed_off;
  }
  s.reloads = reloads.load(std::memory_order_relaxed);
  s.reload_failures = reload_failures.load(std::memory_order_relaxed);
  s.uptime_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  s.version = WEFT_VERSION;
  return render_metrics(s);
}

}  // namespace weft::server
