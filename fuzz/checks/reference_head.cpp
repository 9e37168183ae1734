#include "reference_head.hpp"

#include <algorithm>
#include <limits>
#include <vector>

namespace weft::fuzz {
namespace {

bool is_tchar(char c) {
  const bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
  return alnum || std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}
bool is_token(std::string_view s) { return !s.empty() && std::all_of(s.begin(), s.end(), is_tchar); }
bool is_vchar_or_obs(unsigned char u) { return (u > 0x20 && u != 0x7f); }
bool is_field_value(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) {
    const auto u = static_cast<unsigned char>(c);
    return c == ' ' || c == '\t' || is_vchar_or_obs(u);
  });
}
std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}
bool same_ci(std::string_view a, std::string_view b) {
  const auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; };
  return a.size() == b.size() &&
         std::equal(a.begin(), a.end(), b.begin(), [&](char x, char y) { return lower(x) == lower(y); });
}
std::vector<std::string_view> elements(std::string_view list) {
  std::vector<std::string_view> out;
  for (;;) {
    const std::size_t comma = list.find(',');
    out.push_back(trim(list.substr(0, comma)));
    if (comma == std::string_view::npos) return out;
    list.remove_prefix(comma + 1);
  }
}
std::optional<std::uint64_t> decimal(std::string_view s) {
  if (s.empty()) return std::nullopt;
  std::uint64_t v = 0;
  for (const char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    const auto d = static_cast<std::uint64_t>(c - '0');
    if (v > (std::numeric_limits<std::uint64_t>::max() - d) / 10) return std::nullopt;
    v = v * 10 + d;
  }
  return v;
}

ReferenceHead reject(std::string why) {
  ReferenceHead r;
  r.why = std::move(why);
  return r;
}

}  // namespace

ReferenceHead reference_head(std::string_view data, const http::ParserLimits& limits) {
  std::size_t pos = 0;
  std::size_t empty_lines = 0;
  while (data.substr(pos, 2) == "\r\n") {
    pos += 2;
    if (++empty_lines > limits.max_leading_empty_lines) return reject("too many empty lines");
  }
  // Lines end in CRLF; a CR or LF anywhere else is fatal.
  const auto next_line = [&](std::string_view& line) {
    const std::size_t end = data.find("\r\n", pos);
    if (end == std::string_view::npos) return false;
    line = data.substr(pos, end - pos);
    pos = end + 2;
    return true;
  };
  const auto has_bare_cr_lf = [](std::string_view line) {
    return line.find_first_of("\r\n") != std::string_view::npos;
  };

  std::string_view request_line;
  if (!next_line(request_line)) return reject("incomplete");
  if (has_bare_cr_lf(request_line)) return reject("bare CR or LF in the request line");
  if (request_line.size() + 2 > limits.max_request_line) return reject("request line too long");
  const std::size_t sp1 = request_line.find(' ');
  const std::size_t sp2 = sp1 == std::string_view::npos ? sp1 : request_line.find(' ', sp1 + 1);
  if (sp2 == std::string_view::npos || request_line.find(' ', sp2 + 1) != std::string_view::npos) {
    return reject("request line is not three parts");
  }
  const std::string_view method = request_line.substr(0, sp1);
  const std::string_view target = request_line.substr(sp1 + 1, sp2 - sp1 - 1);
  const std::string_view version = request_line.substr(sp2 + 1);
  if (!is_token(method) || method.size() > limits.max_method) return reject("bad method");
  if (target.empty() || !std::all_of(target.begin(), target.end(), [](char c) {
        return c != '#' && is_vchar_or_obs(static_cast<unsigned char>(c));
      })) {
    return reject("bad target");
  }
  ReferenceHead head;
  if (version == "HTTP/1.0") {
    head.version_minor = 0;
  } else if (version.size() == 8 && version.substr(0, 7) == "HTTP/1." && version[7] >= '1' &&
             version[7] <= '9') {
    head.version_minor = 1;  // HTTP/1.2 and later minor versions are read as HTTP/1.1
  } else {
    return reject("bad version");
  }

  const std::size_t fields_start = pos;
  int hosts = 0;
  bool te = false;
  std::vector<std::string_view> codings;
  bool conn_close = false;
  bool conn_keep_alive = false;
  bool expect_continue = false;
  for (;;) {
    std::string_view line;
    if (!next_line(line)) return reject("incomplete");
    if (has_bare_cr_lf(line)) return reject("bare CR or LF in a field line");
    if (pos - fields_start > limits.max_header_bytes) return reject("header block too large");
    if (line.empty()) break;
    const std::size_t colon = line.find(':');
    if (colon == std::string_view::npos || !is_token(line.substr(0, colon))) return reject("bad field name");
    const std::string_view name = line.substr(0, colon);
    const std::string_view raw_value = line.substr(colon + 1);
    if (!is_field_value(raw_value)) return reject("bad field value");
    if (++head.header_count > std::min(limits.max_headers, http::kHeaderCapacity)) {
      return reject("too many fields");
    }
    const std::string_view value = trim(raw_value);
    if (same_ci(name, "host")) {
      ++hosts;
    } else if (same_ci(name, "content-length")) {
      for (const std::string_view e : elements(value)) {
        const std::optional<std::uint64_t> n = decimal(e);
        if (!n) return reject("bad Content-Length");
        if (head.content_length && *head.content_length != *n) return reject("conflicting Content-Length");
        head.content_length = n;
      }
    } else if (same_ci(name, "transfer-encoding")) {
      te = true;
      bool any = false;
      for (const std::string_view e : elements(value)) {
        if (e.empty()) continue;
        any = true;
        codings.push_back(e);
      }
      if (!any) return reject("empty Transfer-Encoding");
    } else if (same_ci(name, "connection")) {
      for (const std::string_view e : elements(value)) {
        conn_close = conn_close || same_ci(e, "close");
        conn_keep_alive = conn_keep_alive || same_ci(e, "keep-alive");
      }
    } else if (same_ci(name, "expect")) {
      for (const std::string_view e : elements(value)) {
        if (e.empty()) continue;
        if (!same_ci(e, "100-continue")) return reject("unsupported expectation");
        expect_continue = true;
      }
    }
  }
  if (hosts > 1) return reject("several Host fields");
  if (head.version_minor == 1 && hosts == 0) return reject("no Host");
  if (te) {
    if (head.version_minor == 0) return reject("Transfer-Encoding in HTTP/1.0");
    if (head.content_length) return reject("Content-Length and Transfer-Encoding");
    // The only framing weft accepts: exactly one coding, chunked, without parameters.
    if (codings.size() != 1 || !same_ci(codings.front(), "chunked"))
      return reject("Transfer-Encoding not just chunked");
    head.chunked = true;
  }
  if (head.content_length && *head.content_length > limits.max_body) return reject("body too large");
  head.complete = true;
  head.consumed = pos;
  head.keep_alive = method != "CONNECT" && !conn_close && (head.version_minor == 1 || conn_keep_alive);
  head.expect_continue = expect_continue && head.version_minor == 1;
  return head;
}

}  // namespace weft::fuzz
