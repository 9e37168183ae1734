// parser_bench: request-head parsing throughput of weft::http::RequestParser beside Boost.Beast's
// HTTP/1.1 parser, in one process and one run (issue 5, "Micro-benchmarks"). Goal: >= 2x Beast.
//
// Requests (each a complete head in one contiguous buffer, parsed in one call):
//   minimal  "GET / HTTP/1.1\r\nHost: example.com\r\n\r\n" (37 B, 1 field)
//   browser  a Chrome-style navigation request, 515 B, 10 fields
// Parsers, each doing what a server does per request:
//   weft          one RequestParser, reset() before each request (how a connection uses it)
//   beast         a fresh http::request_parser<http::empty_body> per request, fed with
//                 put(net::buffer(...), ec): how Beast is used (a parser cannot be reset). It
//                 copies every field into the message's basic_fields (one allocation each).
//   beast_views   the cheapest documented way to use Beast's parser: a class derived from
//                 http::basic_parser<true> that keeps string_views into the buffer in a reused
//                 array, as weft does (no allocation); fresh per request, as Beast requires.
// After each parse the benchmark reads back method, target, version, the Host value, the field
// count and every field's name and value (their total length), and hands them to
// benchmark::DoNotOptimize; all of it is inside the timed loop for every parser.
//
// Before any timing, every parser parses both requests once and the results are compared field
// by field; any disagreement or rejection prints a message and exits with status 1, as does a
// failed parse inside the loop. The ctest smoke run (parser_bench_smoke) relies on that.
//
//   build/release/bench/parser_bench                        # plain Google Benchmark run
//   bench/run_parser_bench                                  # 7 interleaved repetitions + table

#include <benchmark/benchmark.h>

#include <boost/asio/buffer.hpp>
#include <boost/beast/http.hpp>
#include <boost/version.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "http/parser.hpp"

namespace {

namespace http = boost::beast::http;
namespace net = boost::asio;

constexpr std::string_view kMinimal = "GET / HTTP/1.1\r\nHost: example.com\r\n\r\n";
constexpr std::string_view kBrowser =
    "GET /docs/guide/getting-started.html?lang=en HTTP/1.1\r\n"
    "Host: www.example.com\r\n"
    "Connection: keep-alive\r\n"
    "User-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/120.0.0.0 Safari/537.36\r\n"
    "Accept: text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,"
    "image/apng,*/*;q=0.8\r\n"
    "Accept-Encoding: gzip, deflate, br\r\n"
    "Accept-Language: en-US,en;q=0.9\r\n"
    "Referer: https://www.example.com/docs/\r\n"
    "Sec-Fetch-Dest: document\r\n"
    "Sec-Fetch-Mode: navigate\r\n"
    "Sec-Fetch-Site: same-origin\r\n"
    "\r\n";

bool g_failed = false;

// Beast 1.74 hands out boost::string_view (std::string_view only with BOOST_BEAST_USE_STD_STRING_VIEW).
std::string_view to_std(boost::beast::string_view s) noexcept { return {s.data(), s.size()}; }

// What every benchmark reads back from a parsed head, inside the timed loop.
struct ReadBack {
  std::string_view method;
  std::string_view target;
  int version = 0;  // 10 or 11
  std::string_view host;
  std::size_t field_count = 0;
  std::size_t field_bytes = 0;  // sum of every name and value length
};

void keep(ReadBack& r) {
  benchmark::DoNotOptimize(r.method);
  benchmark::DoNotOptimize(r.target);
  benchmark::DoNotOptimize(r.version);
  benchmark::DoNotOptimize(r.host);
  benchmark::DoNotOptimize(r.field_count);
  benchmark::DoNotOptimize(r.field_bytes);
}

// ---- weft ----

std::optional<ReadBack> weft_parse(weft::http::RequestParser& parser, std::string_view request) {
  parser.reset();
  const weft::http::ParseResult result = parser.parse(request);
  if (result.status != weft::http::ParseStatus::kComplete || result.consumed != request.size()) {
    return std::nullopt;
  }
  const weft::http::RequestHead& head = *result.head;
  ReadBack r;
  r.method = head.method_token;
  r.target = head.target;
  r.version = 10 + head.version_minor;
  r.host = head.find("Host").value_or("");
  r.field_count = head.header_count;
  for (const weft::http::Header& h : head.headers()) r.field_bytes += h.name.size() + h.value.size();
  return r;
}

// ---- Beast, as it is used: request_parser<empty_body>, fields copied into the message ----

std::optional<ReadBack> beast_parse(http::request_parser<http::empty_body>& parser,
                                    std::string_view request) {
  boost::beast::error_code ec;
  const std::size_t used = parser.put(net::buffer(request.data(), request.size()), ec);
  if (ec || !parser.is_done() || used != request.size()) return std::nullopt;
  const http::request<http::empty_body>& msg = parser.get();
  ReadBack r{to_std(msg.method_string()), to_std(msg.target()), static_cast<int>(msg.version()), {}, 0, 0};
  if (const auto host = msg.find(http::field::host); host != msg.end()) r.host = to_std(host->value());
  for (const auto& f : msg) {
    ++r.field_count;
    r.field_bytes += f.name_string().size() + f.value().size();
  }
  return r;
}

// ---- Beast without the message container: basic_parser keeping views, like weft ----

struct Field {
  http::field id;
  std::string_view name;
  std::string_view value;
};
constexpr std::size_t kFieldCapacity = weft::http::kHeaderCapacity;
using FieldArray = std::array<Field, kFieldCapacity>;

// Views point into the buffer given to put(), which must be the whole head in one buffer (it is
// here); the field array belongs to the caller and is reused, as weft's parser reuses its own.
class ViewParser final : public http::basic_parser<true> {
 public:
  explicit ViewParser(FieldArray& fields) noexcept : fields_(fields) {}

  std::string_view method;
  std::string_view target;
  int version = 0;
  std::size_t field_count = 0;
  [[nodiscard]] const FieldArray& fields() const noexcept { return fields_; }

 private:
  using error_code = boost::beast::error_code;
  using string_view = boost::beast::string_view;

  void on_request_impl(http::verb, string_view method_str, string_view target_str, int v,
                       error_code&) override {
    method = to_std(method_str);
    target = to_std(target_str);
    version = v;
  }
  void on_response_impl(int, string_view, int, error_code& ec) override {
    ec = http::error::bad_version;  // never called: isRequest == true
  }
  void on_field_impl(http::field id, string_view name, string_view value, error_code& ec) override {
    if (field_count == fields_.size()) {
      ec = http::error::header_limit;
      return;
    }
    fields_[field_count++] = Field{id, to_std(name), to_std(value)};
  }
  void on_header_impl(error_code&) override {}
  void on_body_init_impl(const boost::optional<std::uint64_t>&, error_code&) override {}
  std::size_t on_body_impl(string_view body, error_code&) override { return body.size(); }
  void on_chunk_header_impl(std::uint64_t, string_view, error_code&) override {}
  std::size_t on_chunk_body_impl(std::uint64_t, string_view body, error_code&) override {
    return body.size();
  }
  void on_finish_impl(error_code&) override {}

  FieldArray& fields_;
};

std::optional<ReadBack> beast_views_parse(ViewParser& parser, std::string_view request) {
  boost::beast::error_code ec;
  const std::size_t used = parser.put(net::buffer(request.data(), request.size()), ec);
  if (ec || !parser.is_done() || used != request.size()) return std::nullopt;
  ReadBack r{parser.method, parser.target, parser.version, {}, parser.field_count, 0};
  bool host_seen = false;
  for (std::size_t i = 0; i < parser.field_count; ++i) {
    const Field& f = parser.fields()[i];
    if (!host_seen && f.id == http::field::host) {
      r.host = f.value;
      host_seen = true;
    }
    r.field_bytes += f.name.size() + f.value.size();
  }
  return r;
}

// ---- the three benchmarks ----

void finish(benchmark::State& state, std::string_view request) {
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * static_cast<benchmark::IterationCount>(request.size()));
}

void skip(benchmark::State& state, const char* what) {
  std::fprintf(stderr, "parser_bench: FAILED %s\n", what);
  g_failed = true;
  state.SkipWithError(what);
}

void bm_weft(benchmark::State& state, std::string_view request) {
  weft::http::RequestParser parser;
  for (auto _ : state) {
    std::optional<ReadBack> r = weft_parse(parser, request);
    if (!r) {
      skip(state, "weft rejected the request");
      return;
    }
    keep(*r);
  }
  finish(state, request);
}

void bm_beast(benchmark::State& state, std::string_view request) {
  for (auto _ : state) {
    http::request_parser<http::empty_body> parser;
    std::optional<ReadBack> r = beast_parse(parser, request);
    if (!r) {
      skip(state, "beast rejected the request");
      return;
    }
    keep(*r);
  }
  finish(state, request);
}

void bm_beast_views(benchmark::State& state, std::string_view request) {
  FieldArray fields;  // reused, like weft's header array; never read beyond field_count
  for (auto _ : state) {
    ViewParser parser(fields);
    std::optional<ReadBack> r = beast_views_parse(parser, request);
    if (!r) {
      skip(state, "beast_views rejected the request");
      return;
    }
    keep(*r);
  }
  finish(state, request);
}

// ---- start-up agreement check (outside timing) ----

using Fields = std::vector<std::pair<std::string, std::string>>;

struct Parsed {
  ReadBack read;
  Fields fields;
};

std::string describe(const Parsed& p) {
  std::string s = std::string(p.read.method) + " " + std::string(p.read.target) + " v" +
                  std::to_string(p.read.version) + " host=" + std::string(p.read.host) +
                  " fields=" + std::to_string(p.read.field_count) + "/" + std::to_string(p.read.field_bytes) +
                  "B:";
  for (const auto& [name, value] : p.fields) s += " [" + name + ": " + value + "]";
  return s;
}

bool same(const Parsed& a, const Parsed& b) {
  return a.read.method == b.read.method && a.read.target == b.read.target &&
         a.read.version == b.read.version && a.read.host == b.read.host &&
         a.read.field_count == b.read.field_count && a.read.field_bytes == b.read.field_bytes &&
         a.fields == b.fields;
}

// Parses `request` with all three parsers (weft twice, to exercise reset()) and compares them
// with weft's result, and weft's field count with `fields_expected`.
bool check(const char* label, std::string_view request, std::size_t fields_expected) {
  std::vector<std::pair<const char*, std::optional<Parsed>>> results;

  weft::http::RequestParser weft_parser;
  (void)weft_parse(weft_parser, request);
  std::optional<Parsed> weft_result;
  if (std::optional<ReadBack> r = weft_parse(weft_parser, request)) {
    weft_result = Parsed{*r, {}};
    for (const auto& h : weft_parser.head().headers()) weft_result->fields.emplace_back(h.name, h.value);
  }
  results.emplace_back("weft", std::move(weft_result));

  http::request_parser<http::empty_body> beast_parser;
  std::optional<Parsed> beast_result;
  if (std::optional<ReadBack> r = beast_parse(beast_parser, request)) {
    beast_result = Parsed{*r, {}};
    for (const auto& f : beast_parser.get()) {
      beast_result->fields.emplace_back(to_std(f.name_string()), to_std(f.value()));
    }
  }
  results.emplace_back("beast", std::move(beast_result));

  FieldArray fields;
  ViewParser view_parser(fields);
  std::optional<Parsed> views_result;
  if (std::optional<ReadBack> r = beast_views_parse(view_parser, request)) {
    views_result = Parsed{*r, {}};
    for (std::size_t i = 0; i < view_parser.field_count; ++i) {
      views_result->fields.emplace_back(fields[i].name, fields[i].value);
    }
  }
  results.emplace_back("beast_views", std::move(views_result));

  bool ok = true;
  for (const auto& [name, result] : results) {
    if (!result) {
      std::fprintf(stderr, "parser_bench: %s rejected the %s request\n", name, label);
      ok = false;
    } else if (results.front().second && !same(*result, *results.front().second)) {
      std::fprintf(stderr, "parser_bench: %s and weft disagree on the %s request:\n  weft: %s\n  %s: %s\n",
                   name, label, describe(*results.front().second).c_str(), name, describe(*result).c_str());
      ok = false;
    }
  }
  if (ok && results.front().second->read.field_count != fields_expected) {
    std::fprintf(stderr, "parser_bench: the %s request should have %zu fields\n", label, fields_expected);
    ok = false;
  }
  return ok;
}

}  // namespace

int main(int argc, char** argv) {
  if (!check("minimal", kMinimal, 1) || !check("browser", kBrowser, 10)) {
    std::fprintf(stderr, "parser_bench: start-up agreement check failed; not benchmarking\n");
    return 1;
  }

  for (const auto& [label, request] : {std::pair{"minimal", kMinimal}, std::pair{"browser", kBrowser}}) {
    const std::string prefix = std::string("parse/") + label + "/";
    benchmark::RegisterBenchmark((prefix + "weft").c_str(), bm_weft, request);
    benchmark::RegisterBenchmark((prefix + "beast").c_str(), bm_beast, request);
    benchmark::RegisterBenchmark((prefix + "beast_views").c_str(), bm_beast_views, request);
  }

  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 2;
  benchmark::AddCustomContext("boost_version", BOOST_LIB_VERSION);
  benchmark::AddCustomContext("minimal_bytes", std::to_string(kMinimal.size()));
  benchmark::AddCustomContext("browser_bytes", std::to_string(kBrowser.size()));
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  if (g_failed) {
    std::fprintf(stderr, "parser_bench: a parser rejected a request inside the loop (see above)\n");
    return 1;
  }
  return 0;
}
