// fuzz_parser's invariants (see checks.hpp).
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "checks.hpp"
#include "http/method.hpp"
#include "http/parser.hpp"
#include "input.hpp"
#include "limits.hpp"
#include "parse_description.hpp"
#include "reference_head.hpp"

namespace weft::fuzz {
namespace {

using http::ParseResult;
using http::ParseStatus;
using http::RequestParser;

bool inside(std::string_view view, std::string_view buffer) {
  const std::less_equal<const char*> le;
  return le(buffer.data(), view.data()) && le(view.data() + view.size(), buffer.data() + buffer.size());
}

// The invariants of one final result over `buffer` (the whole input).
Failure check_result(const ParseResult& r, std::string_view buffer, const http::ParserLimits& limits) {
  const ReferenceHead ref = reference_head(buffer, limits);
  if (r.status == ParseStatus::kNeedMore) {
    if (r.consumed != 0 || r.head != nullptr) return "need-more with consumed or head";
    if (ref.complete)
      return "need-more, but a complete valid head of " + std::to_string(ref.consumed) + " bytes is there";
    return std::nullopt;
  }
  if (r.status == ParseStatus::kError) {
    const int status = http::status_code(r.error);
    if (r.error == http::ParseError::kNone || r.consumed != 0 || r.head != nullptr)
      return "malformed error result";
    if (status != 400 && status != 413 && status != 414 && status != 417 && status != 431 && status != 501 &&
        status != 505) {
      return "error with status " + std::to_string(status);
    }
    return std::nullopt;
  }
  const http::RequestHead& h = *r.head;
  const std::string_view head_bytes = buffer.substr(0, r.consumed);
  if (r.consumed < 4 || r.consumed > buffer.size() ||
      head_bytes.substr(head_bytes.size() - 4) != "\r\n\r\n") {
    return "complete, but consumed=" + std::to_string(r.consumed) + " does not end at an empty line";
  }
  if (h.content_length && h.chunked) return "both Content-Length and chunked";
  if (h.chunked && h.version_minor != 1) return "chunked in HTTP/1.0";
  if (h.version_minor > 1) return "version_minor " + std::to_string(h.version_minor);
  if (h.header_count > limits.max_headers || h.header_count > http::kHeaderCapacity)
    return "too many headers";
  if (h.content_length && *h.content_length > limits.max_body) return "Content-Length over max_body";
  if (to_string(h.method) != h.method_token) return "method token does not match the method";
  for (const std::string_view v : {h.method_token, h.target, h.query, h.host}) {
    if (!v.empty() && !inside(v, head_bytes)) return "a view points outside the head";
  }
  if (h.path != "/" && !h.path.empty() && !inside(h.path, head_bytes)) return "path points outside the head";
  for (const http::Header& f : h.headers()) {
    if (!inside(f.name, head_bytes) || (!f.value.empty() && !inside(f.value, head_bytes))) {
      return "a field points outside the head";
    }
    if (f.name.empty()) return "empty field name";
    for (const char c : f.name) {
      if (!http::detail::is_tchar(c)) return "non-token field name";
    }
    for (const char c : f.value) {
      if (!http::detail::is_field_value_char(c)) return "CTL in a field value";
    }
    if (!f.value.empty() && (http::detail::is_ows(f.value.front()) || http::detail::is_ows(f.value.back()))) {
      return "field value not trimmed";
    }
  }
  // Never accept what the strict reading rejects, and agree on the framing.
  if (!ref.complete) return "accepted a head the strict rules reject: " + ref.why;
  if (ref.consumed != r.consumed)
    return "head ends at " + std::to_string(r.consumed) + ", strict reading says " +
           std::to_string(ref.consumed);
  if (ref.header_count != h.header_count || ref.content_length != h.content_length ||
      ref.chunked != h.chunked || ref.version_minor != h.version_minor || ref.keep_alive != h.keep_alive ||
      ref.expect_continue != h.expect_continue) {
    return "framing differs from the strict reading";
  }
  return std::nullopt;
}

// The result of parsing `data` at `cuts`, with the same buffer growing; the bytes not yet
// "received" are poisoned so that reading them is an ASan report. Also checks latching.
Failure parse_growing(std::string_view data, const std::vector<std::size_t>& cuts,
                      const http::ParserLimits& limits, std::string& out) {
  ExactCopy copy(data);
  const std::string_view all = copy.view();
  RequestParser parser(limits);
  ParseResult r;
  for (const std::size_t cut : cuts) {
    {
      const Poison tail(all.data() + cut, all.size() - cut);
      r = parser.parse(all.substr(0, cut));
    }
    if (r.status != ParseStatus::kNeedMore) break;
  }
  if (cuts.empty()) r = parser.parse(all);
  out = describe(r, all);
  if (r.status != ParseStatus::kNeedMore) {
    const std::string again = describe(parser.parse(all), all);
    if (again != out) return "result not latched: " + out + " then " + again;
  }
  return std::nullopt;
}

// The same, each call with the prefix in a new allocation (the buffer moves every time).
std::string parse_moving(std::string_view data, const std::vector<std::size_t>& cuts,
                         const http::ParserLimits& limits) {
  RequestParser parser(limits);
  std::unique_ptr<ExactCopy> previous;
  for (const std::size_t cut : cuts) {
    auto copy = std::make_unique<ExactCopy>(data.substr(0, cut));  // allocated before the old one is freed
    const ParseResult r = parser.parse(copy->view());
    if (r.status != ParseStatus::kNeedMore || cut == data.size()) return describe(r, copy->view());
    previous = std::move(copy);
  }
  ExactCopy whole(data);
  return describe(parser.parse(whole.view()), whole.view());
}

}  // namespace

Failure check_parser(Bytes bytes) {
  const Input in = Input::from(bytes);
  const http::ParserLimits limits = in.small_limits() ? small_limits() : http::ParserLimits{};
  const std::string_view data = in.data;

  ExactCopy whole(data);
  RequestParser parser(limits);
  const ParseResult r = parser.parse(whole.view());
  if (Failure f = check_result(r, whole.view(), limits)) return "whole: " + *f;
  const std::string expected = describe(r, whole.view());

  std::string pieces;
  if (Failure f = parse_growing(data, in.cuts(), limits, pieces)) return f;
  if (pieces != expected) return "split changes the result: whole " + expected + " / pieces " + pieces;
  if (in.split_mode() == SplitMode::kRandomMoving) {
    const std::string moving = parse_moving(data, in.cuts(), limits);
    if (moving != expected)
      return "moving buffer changes the result: whole " + expected + " / moving " + moving;
  }

  // reset() gives a fresh parser: the same bytes parse the same again.
  parser.reset();
  const std::string after_reset = describe(parser.parse(whole.view()), whole.view());
  if (after_reset != expected) return "reset parser differs: " + expected + " / " + after_reset;
  return std::nullopt;
}

}  // namespace weft::fuzz
