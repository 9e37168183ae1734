#include "http/parser.hpp"

#include <algorithm>
#include <cstring>
#include <limits>

namespace weft::http {

namespace {

using detail::CharClass;
using detail::has_class;
using detail::iequals;
using detail::is_ows;
using detail::is_tchar;

constexpr std::string_view kRootPath = "/";

[[nodiscard]] std::string_view trim_ows(std::string_view s) noexcept {
  while (!s.empty() && is_ows(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_ows(s.back())) s.remove_suffix(1);
  return s;
}

// Calls fn(element) for each OWS-trimmed element of a comma-separated list (empty elements
// included), stopping at the first error fn returns. Quoted strings are not special: none of the
// fields weft interprets can hold a comma inside quotes and still be acceptable.
template <typename Fn>
[[nodiscard]] ParseError for_each_element(std::string_view list, Fn fn) noexcept {
  while (true) {
    const std::size_t comma = list.find(',');
    const ParseError error = fn(trim_ows(list.substr(0, comma)));
    if (error != ParseError::kNone || comma == std::string_view::npos) return error;
    list.remove_prefix(comma + 1);
  }
}

// uri-host [":" port] as far as the character set goes: reg-name, IPv4 and IP-literal bytes.
// No '@' (RFC 9110 4.2.4: userinfo in an http(s) URI is an error), '/', '?', '#' or whitespace.
[[nodiscard]] bool is_valid_host(std::string_view host) noexcept {
  return std::all_of(host.begin(), host.end(), [](char c) { return has_class(c, CharClass::kHost); });
}

[[nodiscard]] bool is_digit(char c) noexcept { return c >= '0' && c <= '9'; }

// Word-at-a-time ("SWAR") screens for the two long byte runs of a head: field values and the
// request-target. Each returns true when some byte of the 8-byte word *might* be invalid; the
// caller then checks that word byte by byte, so the screens only need to be exact in one
// direction (they are exact: the "has a byte less than n" trick is exact for n <= 128).
constexpr std::uint64_t kOnes = 0x0101010101010101ULL;
constexpr std::uint64_t kHighBits = 0x8080808080808080ULL;

[[nodiscard]] constexpr std::uint64_t has_byte_below(std::uint64_t word, std::uint8_t n) noexcept {
  return (word - kOnes * n) & ~word & kHighBits;
}
[[nodiscard]] constexpr std::uint64_t has_byte_equal(std::uint64_t word, std::uint8_t n) noexcept {
  return has_byte_below(word ^ (kOnes * n), 1);
}

// Compares one word of a field name, lowered by OR-ing 0x20 into every byte, with `lower`.
template <typename Word>
[[nodiscard]] bool lowered_word_equals(const char* name, const char* lower) noexcept {
  Word a = 0;
  Word b = 0;
  std::memcpy(&a, name, sizeof a);
  std::memcpy(&b, lower, sizeof b);
  return (a | static_cast<Word>(kOnes * 0x20)) == b;
}

// Whether the field name `name` (tchars only, already checked) equals `lower`, a lower-case
// name of letters and '-', ignoring case. Exact for such names: OR-ing 0x20 maps 'A'-'Z' onto
// 'a'-'z' and leaves '-' alone, and the only other byte it could map onto '-' is CR, never a
// tchar.
// The names weft looks for have 4 to 17 bytes: compared in words, the last one overlapping.
[[nodiscard]] bool name_is(std::string_view name, std::string_view lower) noexcept {
  const std::size_t n = name.size();
  if (n != lower.size()) return false;
  if (n < sizeof(std::uint32_t)) return detail::iequals(name, lower);
  if (n < sizeof(std::uint64_t)) {
    return lowered_word_equals<std::uint32_t>(name.data(), lower.data()) &&
           lowered_word_equals<std::uint32_t>(name.data() + n - 4, lower.data() + n - 4);
  }
  for (std::size_t i = 0; i + sizeof(std::uint64_t) < n; i += sizeof(std::uint64_t)) {
    if (!lowered_word_equals<std::uint64_t>(name.data() + i, lower.data() + i)) return false;
  }
  return lowered_word_equals<std::uint64_t>(name.data() + n - 8, lower.data() + n - 8);
}

// Whether every byte of `s` has class `cls`, screening 8 bytes at a time with `suspect`.
template <typename Suspect>
[[nodiscard]] bool all_of_class(std::string_view s, std::uint8_t cls, Suspect suspect) noexcept {
  std::size_t i = 0;
  for (; i + sizeof(std::uint64_t) <= s.size(); i += sizeof(std::uint64_t)) {
    std::uint64_t word = 0;
    std::memcpy(&word, s.data() + i, sizeof word);
    if (suspect(word) == 0) continue;
    for (std::size_t j = i; j < i + sizeof word; ++j) {
      if (!has_class(s[j], cls)) return false;
    }
  }
  for (; i < s.size(); ++i) {
    if (!has_class(s[i], cls)) return false;
  }
  return true;
}

// field-value bytes: HTAB, SP..'~', obs-text. Suspect: a byte below SP (HTAB included) or DEL.
[[nodiscard]] bool is_field_value(std::string_view s) noexcept {
  return all_of_class(s, CharClass::kFieldValue, [](std::uint64_t word) {
    return has_byte_below(word, 0x20) | has_byte_equal(word, 0x7f);
  });
}

// request-target bytes: '!'..'~' but '"', '#', '<' and '>' ('\' is judged by
// has_backslash_in_path). Suspect: SP or below, DEL, a high bit, or one of the four.
[[nodiscard]] bool is_target(std::string_view s) noexcept {
  return all_of_class(s, CharClass::kTarget, [](std::uint64_t word) {
    return has_byte_below(word, 0x21) | has_byte_equal(word, 0x7f) | (word & kHighBits) |
           has_byte_equal(word, '"') | has_byte_equal(word, '#') | has_byte_equal(word, '<') |
           has_byte_equal(word, '>');
  });
}

// A '\' before the query. Browsers turn it into '/' in a path (and send it as is in a query), so
// a raw one in the path comes from something else; some file systems and proxies read it as a
// separator, others not, which is the kind of disagreement a traversal or a cache key hides in.
[[nodiscard]] bool has_backslash_in_path(std::string_view target) noexcept {
  const void* backslash = std::memchr(target.data(), '\\', target.size());
  if (backslash == nullptr) return false;  // the usual case: one pass
  const auto at = static_cast<std::size_t>(static_cast<const char*>(backslash) - target.data());
  return target.substr(0, at).find('?') == std::string_view::npos;
}

// The empty host of an authority "host[:port]" (already checked by is_valid_host): "" or ":80".
[[nodiscard]] bool has_empty_host(std::string_view authority) noexcept {
  return authority.empty() || authority.front() == ':';
}

}  // namespace

std::uint16_t status_code(ParseError error) noexcept {
  switch (error) {
    case ParseError::kNone:
      return 0;
    case ParseError::kBareLf:
    case ParseError::kBareCr:
    case ParseError::kTooManyEmptyLines:
    case ParseError::kBadRequestLine:
    case ParseError::kBadTarget:
    case ParseError::kBadVersion:
    case ParseError::kObsFold:
    case ParseError::kSpaceBeforeColon:
    case ParseError::kEmptyFieldName:
    case ParseError::kBadFieldName:
    case ParseError::kBadFieldValue:
    case ParseError::kMissingHost:
    case ParseError::kDuplicateHost:
    case ParseError::kBadHost:
    case ParseError::kEmptyHost:
    case ParseError::kBadContentLength:
    case ParseError::kConflictingContentLength:
    case ParseError::kContentLengthWithTransferEncoding:
    case ParseError::kBadTransferEncoding:
    case ParseError::kTransferEncodingInHttp10:
    case ParseError::kBadChunkSize:
    case ParseError::kChunkSizeTooLong:
    case ParseError::kBadChunkExtension:
    case ParseError::kChunkExtensionsTooLong:
    case ParseError::kBadChunkFraming:
      return 400;
    case ParseError::kBodyTooLarge:
      return 413;
    case ParseError::kTargetTooLong:
      return 414;
    case ParseError::kUnsupportedExpectation:
      return 417;
    case ParseError::kTooManyHeaders:
    case ParseError::kHeadersTooLarge:
    case ParseError::kTrailersTooLarge:
      return 431;
    case ParseError::kMethodTooLong:
    case ParseError::kUnknownMethod:
    case ParseError::kUnsupportedTransferCoding:
      return 501;
    case ParseError::kUnsupportedVersion:
      return 505;
  }
  return 400;
}

std::string_view reason(ParseError error) noexcept {
  switch (error) {
    case ParseError::kNone:
      return "no error";
    case ParseError::kBareLf:
      return "line ends in LF without CR";
    case ParseError::kBareCr:
      return "CR not followed by LF";
    case ParseError::kTooManyEmptyLines:
      return "too many empty lines before the request line";
    case ParseError::kBadRequestLine:
      return "malformed request line";
    case ParseError::kBadTarget:
      return "invalid request target";
    case ParseError::kBadVersion:
      return "malformed HTTP version";
    case ParseError::kObsFold:
      return "obsolete line folding or whitespace before a field";
    case ParseError::kSpaceBeforeColon:
      return "whitespace between field name and colon";
    case ParseError::kEmptyFieldName:
      return "empty field name";
    case ParseError::kBadFieldName:
      return "invalid field name";
    case ParseError::kBadFieldValue:
      return "invalid character in field value";
    case ParseError::kMissingHost:
      return "missing Host";
    case ParseError::kDuplicateHost:
      return "more than one Host";
    case ParseError::kBadHost:
      return "invalid Host";
    case ParseError::kEmptyHost:
      return "empty host in Host";
    case ParseError::kBadContentLength:
      return "invalid Content-Length";
    case ParseError::kConflictingContentLength:
      return "conflicting Content-Length values";
    case ParseError::kContentLengthWithTransferEncoding:
      return "both Content-Length and Transfer-Encoding";
    case ParseError::kBadTransferEncoding:
      return "invalid Transfer-Encoding: chunked must be the final coding, once";
    case ParseError::kTransferEncodingInHttp10:
      return "Transfer-Encoding in an HTTP/1.0 request";
    case ParseError::kBadChunkSize:
      return "invalid chunk size";
    case ParseError::kChunkSizeTooLong:
      return "chunk size has too many digits";
    case ParseError::kBadChunkExtension:
      return "invalid chunk extension";
    case ParseError::kChunkExtensionsTooLong:
      return "chunk extensions too long";
    case ParseError::kBadChunkFraming:
      return "invalid chunked framing";
    case ParseError::kBodyTooLarge:
      return "request body too large";
    case ParseError::kTargetTooLong:
      return "request target too long";
    case ParseError::kUnsupportedExpectation:
      return "unsupported expectation";
    case ParseError::kTooManyHeaders:
      return "too many header fields";
    case ParseError::kHeadersTooLarge:
      return "header fields too large";
    case ParseError::kTrailersTooLarge:
      return "trailer fields too large";
    case ParseError::kMethodTooLong:
      return "method too long";
    case ParseError::kUnknownMethod:
      return "method not implemented";
    case ParseError::kUnsupportedTransferCoding:
      return "transfer coding not implemented";
    case ParseError::kUnsupportedVersion:
      return "HTTP version not supported";
  }
  return "bad request";
}

std::optional<std::string_view> RequestHead::find(std::string_view name) const noexcept {
  for (const Header& header : headers()) {
    if (iequals(header.name, name)) return header.value;
  }
  return std::nullopt;
}

RequestParser::RequestParser(const ParserLimits& limits) noexcept : limits_(limits) {
  limits_.max_headers = std::min(limits_.max_headers, kHeaderCapacity);
}

void RequestParser::reset() noexcept {
  base_ = nullptr;
  line_start_ = 0;
  scan_pos_ = 0;
  cr_scan_ = 0;
  fields_start_ = 0;
  empty_lines_ = 0;
  consumed_ = 0;
  phase_ = Phase::kEmptyLines;
  error_ = ParseError::kNone;
  host_count_ = 0;
  te_present_ = false;
  te_chunked_ = false;
  te_other_ = false;
  connection_close_ = false;
  connection_keep_alive_ = false;
  expect_other_ = false;
  expect_continue_ = false;
  // The header array is not cleared: only the first header_count entries are ever read.
  head_.method = Method::kGet;
  head_.method_token = {};
  head_.target = {};
  head_.target_form = TargetForm::kOrigin;
  head_.path = {};
  head_.query = {};
  head_.version_minor = 1;
  head_.header_count = 0;
  head_.host = {};
  head_.content_length.reset();
  head_.chunked = false;
  head_.keep_alive = true;
  head_.expect_continue = false;
}

ParseResult RequestParser::result() const noexcept {
  switch (phase_) {
    case Phase::kComplete:
      return {ParseStatus::kComplete, consumed_, ParseError::kNone, &head_};
    case Phase::kError:
      return {ParseStatus::kError, 0, error_, nullptr};
    case Phase::kEmptyLines:
    case Phase::kFields:
      break;
  }
  return {};
}

ParseResult RequestParser::parse(std::string_view buffer) noexcept {
  if (phase_ == Phase::kError) return result();
  if (base_ == nullptr) {
    base_ = buffer.data();  // the first call since reset(): nothing to start over
  } else if (buffer.data() != base_ || buffer.size() < scan_pos_) {
    // The buffer moved: views taken so far would dangle, so parse again from the first byte.
    // Equality of addresses is all that is compared. A buffer that shrank breaks the
    // contract; starting over at least keeps every read inside it.
    reset();
    base_ = buffer.data();
  }
  if (phase_ == Phase::kComplete) return result();

  while (true) {
    const std::size_t size = buffer.size();
    const void* lf_ptr =
        scan_pos_ < size ? std::memchr(buffer.data() + scan_pos_, '\n', size - scan_pos_) : nullptr;
    if (lf_ptr == nullptr) {
      scan_pos_ = size;
      const ParseError error = check_partial_line(buffer);
      if (error != ParseError::kNone) {
        phase_ = Phase::kError;
        error_ = error;
      }
      return result();
    }
    const auto lf = static_cast<std::size_t>(static_cast<const char*>(lf_ptr) - buffer.data());
    const ParseError error = on_line(buffer, lf);
    line_start_ = lf + 1;
    scan_pos_ = lf + 1;
    if (error != ParseError::kNone) {
      phase_ = Phase::kError;
      error_ = error;
      return result();
    }
    if (phase_ == Phase::kComplete) {
      consumed_ = lf + 1;
      return result();
    }
  }
}

namespace {

// Of a bare CR at `cr` (npos: none) and a size fault (`too_big`) that the byte at `size_byte`
// revealed, the fault the bytes revealed first; a tie goes to the bare CR. Both are judged by
// the position of the byte that reveals them, so the answer does not depend on how the bytes
// were split over calls.
[[nodiscard]] ParseError first_revealed(std::size_t cr, bool too_big, std::size_t size_byte,
                                        ParseError size_error) noexcept {
  if (cr != std::string_view::npos && (!too_big || cr + 1 <= size_byte)) return ParseError::kBareCr;
  return too_big ? size_error : ParseError::kNone;
}

}  // namespace

// The first bare CR of the current line among buffer[.., end): a CR at i with i + 1 < end (the
// byte after it is known and is not LF, since the line has no LF before `end`); npos if none.
// Resumes where the last search stopped.
std::size_t RequestParser::find_bare_cr(std::string_view buffer, std::size_t end) noexcept {
  const std::size_t from = std::max(cr_scan_, line_start_);
  if (end <= from + 1) return std::string_view::npos;
  const void* cr = std::memchr(buffer.data() + from, '\r', end - 1 - from);
  if (cr == nullptr) {
    cr_scan_ = end - 1;
    return std::string_view::npos;
  }
  return static_cast<std::size_t>(static_cast<const char*>(cr) - buffer.data());
}

// Split invariance: an unterminated line is only judged by predicates that the complete line
// would fail too, and that on_line checks first, in the same order (method run, then the first
// revealed of a bare CR and the length). Everything else waits for the LF.
ParseError RequestParser::check_partial_line(std::string_view buffer) noexcept {
  const std::size_t pending = buffer.size() - line_start_;
  if (phase_ == Phase::kEmptyLines) {  // the pending line may be the request line
    const std::size_t probe = std::min(pending, limits_.max_method + 1);
    std::size_t run = 0;
    while (run < probe && is_tchar(buffer[line_start_ + run])) ++run;
    if (run > limits_.max_method) return ParseError::kMethodTooLong;
    // The LF can come at buffer[size] at the earliest.
    return first_revealed(find_bare_cr(buffer, buffer.size()), pending + 1 > limits_.max_request_line,
                          line_start_ + limits_.max_request_line - 1, ParseError::kTargetTooLong);
  }
  if (phase_ == Phase::kFields) {
    return first_revealed(find_bare_cr(buffer, buffer.size()),
                          buffer.size() + 1 - fields_start_ > limits_.max_header_bytes,
                          fields_start_ + limits_.max_header_bytes - 1, ParseError::kHeadersTooLarge);
  }
  return ParseError::kNone;
}

// A complete line is searched for a bare CR only when it breaks a rule: every byte of a line that
// breaks none is a tchar, a target byte, a field-value byte or SP, and CR is none of these. The
// answer is the one check_partial_line gives for a prefix: a bare CR wins over every fault judged
// at the LF, and over a size fault revealed later than it. A method too long is always revealed
// first (a CR ends the method run).
ParseError RequestParser::on_line(std::string_view buffer, std::size_t lf) noexcept {
  const ParseError error = judge_line(buffer, lf);
  if (error == ParseError::kNone || error == ParseError::kMethodTooLong) return error;
  const std::size_t cr = find_bare_cr(buffer, lf);
  if (error == ParseError::kTargetTooLong) {
    return first_revealed(cr, true, line_start_ + limits_.max_request_line - 1, error);
  }
  if (error == ParseError::kHeadersTooLarge) {
    return first_revealed(cr, true, fields_start_ + limits_.max_header_bytes - 1, error);
  }
  return cr != std::string_view::npos ? ParseError::kBareCr : error;
}

ParseError RequestParser::judge_line(std::string_view buffer, std::size_t lf) noexcept {
  if (phase_ == Phase::kEmptyLines) {
    if (lf == line_start_ + 1 && buffer[line_start_] == '\r') {
      ++empty_lines_;
      return empty_lines_ > limits_.max_leading_empty_lines ? ParseError::kTooManyEmptyLines
                                                            : ParseError::kNone;
    }
    return on_request_line(buffer, lf);
  }
  // Phase::kFields: the size limit first, before anything looks inside the line.
  if (lf + 1 - fields_start_ > limits_.max_header_bytes) return ParseError::kHeadersTooLarge;
  if (lf == line_start_ || buffer[lf - 1] != '\r') return ParseError::kBareLf;
  const std::string_view line = buffer.substr(line_start_, lf - 1 - line_start_);
  if (line.empty()) {
    const ParseError error = on_end_of_head();
    if (error == ParseError::kNone) phase_ = Phase::kComplete;
    return error;
  }
  if (head_.header_count >= limits_.max_headers) return ParseError::kTooManyHeaders;
  return on_field_line(line);
}

ParseError RequestParser::on_request_line(std::string_view buffer, std::size_t lf) noexcept {
  const std::size_t raw_size = lf + 1 - line_start_;  // with CRLF
  // The method run is measured over the raw bytes, LF included, exactly as check_partial_line
  // measures it over a prefix.
  const std::size_t probe = std::min(raw_size, limits_.max_method + 1);
  std::size_t method_size = 0;
  while (method_size < probe && is_tchar(buffer[line_start_ + method_size])) ++method_size;
  if (method_size > limits_.max_method) return ParseError::kMethodTooLong;
  if (raw_size > limits_.max_request_line) return ParseError::kTargetTooLong;
  if (raw_size < 2 || buffer[lf - 1] != '\r') return ParseError::kBareLf;

  const std::string_view line = buffer.substr(line_start_, raw_size - 2);
  // CR is not a tchar, so method_size <= line.size().
  if (method_size == 0 || method_size == line.size() || line[method_size] != ' ') {
    return ParseError::kBadRequestLine;
  }
  const std::size_t target_start = method_size + 1;
  const std::size_t target_end = line.find(' ', target_start);
  if (target_end == std::string_view::npos || target_end == target_start) {
    return ParseError::kBadRequestLine;
  }
  const std::string_view target = line.substr(target_start, target_end - target_start);
  // RFC 9112 3.2: outside the request-target grammar, an invalid request-line (SHOULD be a 400).
  if (!is_target(target) || has_backslash_in_path(target)) return ParseError::kBadTarget;

  // HTTP-version = "HTTP/" DIGIT "." DIGIT, case-sensitive (RFC 9112 2.3).
  const std::string_view version = line.substr(target_end + 1);
  if (version.size() != 8 || version.substr(0, 5) != "HTTP/" || !is_digit(version[5]) || version[6] != '.' ||
      !is_digit(version[7])) {
    return ParseError::kBadVersion;
  }
  // RFC 9110 2.5: 505 is for a major version weft does not speak; a higher minor version of
  // HTTP/1 is processed as the highest minor version implemented, 1.1 (the response says
  // HTTP/1.1 in any case).
  if (version[5] != '1') return ParseError::kUnsupportedVersion;
  head_.version_minor = version[7] == '0' ? 0 : 1;

  head_.method_token = line.substr(0, method_size);
  const std::optional<Method> method = method_from_token(head_.method_token);
  if (!method) return ParseError::kUnknownMethod;
  head_.method = *method;
  head_.target = target;
  if (const ParseError error = on_target(); error != ParseError::kNone) return error;

  fields_start_ = lf + 1;
  phase_ = Phase::kFields;
  return ParseError::kNone;
}

// RFC 9112 3.2: origin-form for most requests, authority-form for CONNECT only, asterisk-form
// for OPTIONS only, absolute-form for any method.
ParseError RequestParser::on_target() noexcept {
  const std::string_view target = head_.target;
  const auto split_path_query = [this](std::string_view path_and_query) {
    const std::size_t question = path_and_query.find('?');
    head_.path = path_and_query.substr(0, question);
    head_.query =
        question == std::string_view::npos ? std::string_view{} : path_and_query.substr(question + 1);
  };

  if (head_.method == Method::kConnect) {
    const std::size_t colon = target.rfind(':');
    if (colon == std::string_view::npos || colon == 0 || colon + 1 == target.size() ||
        !is_valid_host(target)) {
      return ParseError::kBadTarget;
    }
    const std::string_view port = target.substr(colon + 1);
    if (!std::all_of(port.begin(), port.end(), is_digit)) return ParseError::kBadTarget;
    head_.target_form = TargetForm::kAuthority;
    head_.host = target;
    return ParseError::kNone;
  }
  if (target == "*") {
    if (head_.method != Method::kOptions) return ParseError::kBadTarget;
    head_.target_form = TargetForm::kAsterisk;
    head_.path = target;
    return ParseError::kNone;
  }
  if (target.front() == '/') {
    head_.target_form = TargetForm::kOrigin;
    split_path_query(target);
    return ParseError::kNone;
  }

  constexpr std::string_view kHttp = "http://";
  constexpr std::string_view kHttps = "https://";
  std::string_view rest;
  if (target.size() > kHttp.size() && iequals(target.substr(0, kHttp.size()), kHttp)) {
    rest = target.substr(kHttp.size());
  } else if (target.size() > kHttps.size() && iequals(target.substr(0, kHttps.size()), kHttps)) {
    rest = target.substr(kHttps.size());
  } else {
    return ParseError::kBadTarget;
  }
  const std::size_t authority_end = rest.find_first_of("/?");
  const std::string_view authority = rest.substr(0, authority_end);
  // RFC 9110 4.2.1: an http(s) URI with an empty host ("http:///", "http://:80/") is invalid and
  // must be rejected.
  if (authority.empty() || !is_valid_host(authority) || has_empty_host(authority)) {
    return ParseError::kBadTarget;
  }
  head_.target_form = TargetForm::kAbsolute;
  head_.host = authority;
  if (authority_end == std::string_view::npos) {
    head_.path = kRootPath;
  } else {
    split_path_query(rest.substr(authority_end));
    if (head_.path.empty()) head_.path = kRootPath;  // "http://h?q"
  }
  return ParseError::kNone;
}

ParseError RequestParser::on_field_line(std::string_view line) noexcept {
  // field-line = field-name ":" OWS field-value OWS (RFC 9112 5).
  if (is_ows(line.front())) return ParseError::kObsFold;
  std::size_t colon = 0;
  while (colon < line.size() && is_tchar(line[colon])) ++colon;
  if (colon == line.size()) return ParseError::kBadFieldName;
  if (line[colon] != ':') {
    return is_ows(line[colon]) ? ParseError::kSpaceBeforeColon : ParseError::kBadFieldName;
  }
  if (colon == 0) return ParseError::kEmptyFieldName;
  const std::string_view name = line.substr(0, colon);
  std::string_view value = line.substr(colon + 1);
  if (!is_field_value(value)) return ParseError::kBadFieldValue;
  value = trim_ows(value);
  head_.header_storage[head_.header_count] = {name, value};
  ++head_.header_count;

  // The fields that decide framing and connection handling; dispatch on length first.
  switch (name.size()) {
    case 4:
      if (name_is(name, "host")) {
        // RFC 9112 3.2: more than one Host, or an invalid one, is a 400.
        if (++host_count_ > 1) return ParseError::kDuplicateHost;
        if (!is_valid_host(value)) return ParseError::kBadHost;
        if (head_.target_form == TargetForm::kOrigin || head_.target_form == TargetForm::kAsterisk) {
          // Host is the target URI's authority here (RFC 9112 3.3), and an http(s) URI with an
          // empty host is invalid (RFC 9110 4.2.1). In absolute- and authority-form the target
          // names the authority and Host is ignored for it (RFC 9112 3.2.2).
          if (has_empty_host(value)) return ParseError::kEmptyHost;
          head_.host = value;
        }
      }
      break;
    case 6:
      if (name_is(name, "expect")) on_expect(value);
      break;
    case 10:
      if (name_is(name, "connection")) on_connection(value);
      break;
    case 14:
      if (name_is(name, "content-length")) return on_content_length(value);
      break;
    case 17:
      if (name_is(name, "transfer-encoding")) {
        // RFC 9112 6.1: Transfer-Encoding in HTTP/1.0 means faulty framing.
        if (head_.version_minor == 0) return ParseError::kTransferEncodingInHttp10;
        return on_transfer_encoding(value);
      }
      break;
    default:
      break;
  }
  return ParseError::kNone;
}

// Content-Length = 1*DIGIT; a list or repeated field with identical values is one value
// (RFC 9110 8.6); anything else is a 400.
ParseError RequestParser::on_content_length(std::string_view value) noexcept {
  return for_each_element(value, [this](std::string_view element) {
    if (element.empty()) return ParseError::kBadContentLength;
    std::uint64_t length = 0;
    for (const char c : element) {
      if (!is_digit(c)) return ParseError::kBadContentLength;
      const auto digit = static_cast<std::uint64_t>(c - '0');
      if (length > (std::numeric_limits<std::uint64_t>::max() - digit) / 10) {
        return ParseError::kBadContentLength;
      }
      length = length * 10 + digit;
    }
    if (head_.content_length && *head_.content_length != length) {
      return ParseError::kConflictingContentLength;
    }
    head_.content_length = length;
    return ParseError::kNone;
  });
}

// transfer-coding = token *( OWS ";" OWS transfer-parameter ), in a list that may span several
// field lines. Only a single, final "chunked" gives a body length (RFC 9112 6.3); a coding after
// chunked can never be repaired by a later field, so it fails here, the rest at the end of head.
ParseError RequestParser::on_transfer_encoding(std::string_view value) noexcept {
  te_present_ = true;
  bool any = false;
  const ParseError error = for_each_element(value, [this, &any](std::string_view element) {
    if (element.empty()) return ParseError::kNone;  // RFC 9110 5.6.1: empty elements are ignored
    any = true;
    std::size_t name_size = 0;
    while (name_size < element.size() && is_tchar(element[name_size])) ++name_size;
    const std::string_view params = trim_ows(element.substr(name_size));
    if (name_size == 0 || (!params.empty() && params.front() != ';')) {
      return ParseError::kBadTransferEncoding;
    }
    if (te_chunked_) return ParseError::kBadTransferEncoding;  // something after chunked
    if (iequals(element.substr(0, name_size), "chunked")) {
      if (!params.empty()) return ParseError::kBadTransferEncoding;  // chunked has no parameters
      te_chunked_ = true;
    } else {
      te_other_ = true;
    }
    return ParseError::kNone;
  });
  if (error != ParseError::kNone) return error;
  return any ? ParseError::kNone : ParseError::kBadTransferEncoding;
}

void RequestParser::on_connection(std::string_view value) noexcept {
  static_cast<void>(for_each_element(value, [this](std::string_view option) {
    if (iequals(option, "close")) connection_close_ = true;
    if (iequals(option, "keep-alive")) connection_keep_alive_ = true;
    return ParseError::kNone;
  }));
}

void RequestParser::on_expect(std::string_view value) noexcept {
  static_cast<void>(for_each_element(value, [this](std::string_view expectation) {
    if (expectation.empty()) return ParseError::kNone;
    if (iequals(expectation, "100-continue")) {
      expect_continue_ = true;
    } else {
      expect_other_ = true;
    }
    return ParseError::kNone;
  }));
}

ParseError RequestParser::on_end_of_head() noexcept {
  if (head_.version_minor == 1 && host_count_ == 0) return ParseError::kMissingHost;
  if (te_present_) {
    // RFC 9112 6.3: Content-Length with Transfer-Encoding "ought to be handled as an error";
    // chunked not final means the length cannot be determined: 400 and close.
    if (head_.content_length) return ParseError::kContentLengthWithTransferEncoding;
    if (!te_chunked_) return ParseError::kBadTransferEncoding;
    if (te_other_) return ParseError::kUnsupportedTransferCoding;  // RFC 9112 6.1: 501
  }
  if (expect_other_) return ParseError::kUnsupportedExpectation;
  if (head_.content_length && *head_.content_length > limits_.max_body) {
    return ParseError::kBodyTooLarge;
  }
  head_.chunked = te_chunked_;
  // RFC 9112 9.3: "close" wins; otherwise 1.1 persists and 1.0 only with "keep-alive". Never
  // after CONNECT: weft is not a proxy, and a client may start its tunnel right after the head
  // (RFC 9110 9.3.6), so what follows cannot be read as requests.
  head_.keep_alive = head_.method != Method::kConnect && !connection_close_ &&
                     (head_.version_minor == 1 || connection_keep_alive_);
  // RFC 9110 10.1.1: a 100-continue expectation in an HTTP/1.0 request is ignored.
  head_.expect_continue = expect_continue_ && head_.version_minor == 1;
  return ParseError::kNone;
}

}  // namespace weft::http
