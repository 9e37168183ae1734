#pragma once
/// \file
/// HTTP/1.1 request-head parser (RFC 9112 sections 2-7, RFC 9110 fields): bytes in, result out.
/// Internal, not public API.
///
/// Pure: no I/O, no allocation, no exceptions; every view it returns points into the caller's
/// buffer. Used by the connection state machine (loop thread); one RequestParser per connection,
/// not shared between threads.
///
/// weft's reading of RFC 9112, where the RFC leaves a choice:
///  * Line endings in the head are CRLF only; a bare LF is a 400, never accepted as a line end
///    (RFC 9112 section 2.2 allows it; strict closes a request-smuggling door). A bare CR (a CR
///    not followed by LF) makes its element invalid (RFC 9112 2.2): 400 as soon as the byte after
///    it arrives, whether or not the line is complete, so a head that can never become valid is
///    not held until the header timeout.
///  * Up to ParserLimits::max_leading_empty_lines CRLFs before the request line are skipped.
///  * HTTP-version: a major version other than 1 is a 505; HTTP/1.2 to HTTP/1.9 are served as
///    HTTP/1.1, the highest minor version weft implements (RFC 9110 2.5), so version_minor is 0
///    or 1.
///  * obs-fold, whitespace before the colon and whitespace before the first field are 400.
///  * Transfer-Encoding: 400 whenever the body length cannot be determined (chunked absent, not
///    last, repeated, with parameters, an empty or malformed list, with Content-Length, in an
///    HTTP/1.0 request); 501 when chunked is last but another coding precedes it ("gzip, chunked").
///  * The request-target is held to the RFC 3986 characters (unreserved, sub-delims, ':', '@',
///    '/', '?', '%'), plus the ones browsers and curl send unencoded although RFC 3986 does not
///    allow them: '[', ']', '^', '|', '{', '}', '`' anywhere, and '\' in the query only (a
///    browser turns '\' in a path into '/', so one that arrives raw was not sent by a browser).
///    Rejected (400): controls, SP, DEL, '#' (a fragment is never sent), '"', '<', '>', and every
///    byte from 0x80 (browsers percent-encode UTF-8). Raw, not decoded. Absolute-form accepts the
///    http and https schemes only.
///  * Host: an empty host (an empty Host value, or one that is only ":port") is a 400 when Host
///    supplies the authority (origin- and asterisk-form): an http(s) URI with an empty host is
///    invalid (RFC 9110 4.2.1, RFC 9112 3.3). In absolute- and authority-form the target carries
///    the authority and Host is not used for it (RFC 9112 3.2.2), so an empty Host is allowed
///    there; an absolute-form target with an empty host is a 400.
///  * CONNECT never keeps the connection: weft is not a proxy, and what a client sends after a
///    CONNECT head may already be tunnel bytes (keep_alive is false).
///  * Precedence within one request line: method too long (501), then whichever of a bare CR
///    (400) and line too long (414) the bytes reveal first, then syntax (400), version (505),
///    unknown method (501), target form (400). Field lines are judged as they arrive (bare CR
///    400 or size 431, whichever the bytes reveal first, then count 431, then syntax 400 and
///    Host / Content-Length / Transfer-Encoding faults that no later line can repair); the rest
///    when the empty line arrives, in this order: missing Host (400), Content-Length with
///    Transfer-Encoding (400), chunked not final (400), another coding before chunked (501),
///    Expect (417), body size (413).
///
/// Every error means: answer with status_code(error) and close the connection (the framing of
/// anything after the bad head is unknown).

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

#include "core/ascii.hpp"
#include "http/limits.hpp"
#include "http/method.hpp"

namespace weft::http {

/// Why a request (head or chunked body) was rejected. Each value maps to one status code
/// (status_code) and a short reason (reason). After any error the connection must be closed.
enum class ParseError : std::uint8_t {
  kNone,  ///< no error

  // -- 400 Bad Request: request line
  kBareLf,             ///< a line of the head or of chunked framing ends in LF without CR
  kBareCr,             ///< a CR not followed by LF in the head or in chunked framing
  kTooManyEmptyLines,  ///< more than max_leading_empty_lines CRLFs before the request line
  kBadRequestLine,     ///< not `method SP request-target SP HTTP-version` with single SPs
  kBadTarget,          ///< forbidden byte in the target, or a form the method does not allow
  kBadVersion,         ///< HTTP-version not `HTTP/` DIGIT `.` DIGIT (e.g. HTTX/1.1, HTTP/1.10)
  // -- 400 Bad Request: field lines (head and trailers)
  kObsFold,           ///< a field line starts with SP/HTAB (obs-fold, or space before 1st field)
  kSpaceBeforeColon,  ///< whitespace between field name and colon
  kEmptyFieldName,    ///< a field line starts with ':'
  kBadFieldName,      ///< a non-tchar in the field name, or no colon
  kBadFieldValue,     ///< CR, LF, NUL or another CTL (except HTAB) in a field value
  // -- 400 Bad Request: message framing and routing
  kMissingHost,                        ///< HTTP/1.1 request without Host
  kDuplicateHost,                      ///< more than one Host field line
  kBadHost,                            ///< Host (or the target's authority) is not `host [":" port]`
  kEmptyHost,                          ///< Host supplies the authority, and its host is empty
  kBadContentLength,                   ///< Content-Length not 1*DIGIT, empty, or above 2^64-1
  kConflictingContentLength,           ///< Content-Length values differ
  kContentLengthWithTransferEncoding,  ///< both Content-Length and Transfer-Encoding
  kBadTransferEncoding,                ///< chunked absent, not last, twice, or a malformed list
  kTransferEncodingInHttp10,           ///< Transfer-Encoding in an HTTP/1.0 request
  // -- 400 Bad Request: chunked body
  kBadChunkSize,            ///< chunk size missing or not hex
  kChunkSizeTooLong,        ///< more than kMaxChunkSizeDigits hex digits
  kBadChunkExtension,       ///< a chunk extension that is not `;name[=value]` (token, quoted)
  kChunkExtensionsTooLong,  ///< chunk extensions of one body over max_chunk_extensions
  kBadChunkFraming,         ///< chunk data not followed by CRLF

  kBodyTooLarge,               ///< 413: Content-Length or chunked total over max_body
  kTargetTooLong,              ///< 414: request line over max_request_line
  kUnsupportedExpectation,     ///< 417: Expect other than 100-continue
  kTooManyHeaders,             ///< 431: more than max_headers field lines
  kHeadersTooLarge,            ///< 431: field section over max_header_bytes
  kTrailersTooLarge,           ///< 431: trailer section over max_trailer_bytes
  kMethodTooLong,              ///< 501: method token over max_method
  kUnknownMethod,              ///< 501: valid token, but not a method weft implements
  kUnsupportedTransferCoding,  ///< 501: a coding other than chunked before the final chunked
  kUnsupportedVersion,         ///< 505: well-formed version other than HTTP/1.0 and HTTP/1.1
};

/// The HTTP status code to answer `error` with (0 for kNone).
[[nodiscard]] std::uint16_t status_code(ParseError error) noexcept;

/// A short human-readable reason for `error` (e.g. "whitespace between field name and colon"), for the
/// response body and the log. Static storage.
[[nodiscard]] std::string_view reason(ParseError error) noexcept;

/// The form of a request-target (RFC 9112 section 3.2).
enum class TargetForm : std::uint8_t {
  kOrigin,     ///< "/path?query" (everything but CONNECT and OPTIONS *)
  kAbsolute,   ///< "http://authority/path?query" (proxies; weft serves it as origin)
  kAuthority,  ///< "host:port" (CONNECT only)
  kAsterisk,   ///< "*" (OPTIONS only)
};

/// One field line, views into the request buffer. `value` has no leading or trailing OWS.
struct Header {
  std::string_view name;
  std::string_view value;
};

/// A parsed request head. Every view points into the buffer given to RequestParser::parse and is
/// valid while that buffer is alive and unmoved.
struct RequestHead {
  Method method = Method::kGet;
  std::string_view method_token;  ///< the raw method token, e.g. "GET"
  std::string_view target;        ///< the raw request-target, not decoded
  TargetForm target_form = TargetForm::kOrigin;
  /// Path part of the target, raw: "/a%20b" for "/a%20b?x=1"; "/" for "http://h" (static
  /// storage); "*" for the asterisk form; empty for the authority form.
  std::string_view path;
  std::string_view query;          ///< after the first '?', raw; empty when there is none
  std::uint8_t version_minor = 1;  ///< 0 for HTTP/1.0, 1 for HTTP/1.1 (and HTTP/1.2-1.9)

  std::array<Header, kHeaderCapacity> header_storage{};  ///< the first header_count are valid
  std::size_t header_count = 0;

  // Derived framing and connection management.
  /// The authority of an absolute- or authority-form target if there is one (RFC 9112 3.2.2:
  /// it wins over Host), else the Host value; empty for HTTP/1.0 without Host.
  std::string_view host;
  std::optional<std::uint64_t> content_length;  ///< set iff Content-Length was present
  bool chunked = false;  ///< Transfer-Encoding: chunked; the body goes to ChunkedDecoder
  /// RFC 9112 9.3: 1.1 unless "close"; 1.0 only with "keep-alive"; never after CONNECT.
  bool keep_alive = true;
  bool expect_continue = false;  ///< HTTP/1.1 with Expect: 100-continue

  /// The field lines in arrival order.
  [[nodiscard]] std::span<const Header> headers() const noexcept {
    return {header_storage.data(), header_count};
  }

  /// The value of the first field named `name` (ASCII case-insensitive); std::nullopt if none.
  [[nodiscard]] std::optional<std::string_view> find(std::string_view name) const noexcept;

  /// Body length when it is known from the head: Content-Length, or 0 when there is neither
  /// Content-Length nor chunked (RFC 9112 6.3 rule 7); std::nullopt for a chunked body.
  [[nodiscard]] std::optional<std::uint64_t> body_length() const noexcept {
    if (chunked) return std::nullopt;
    return content_length.value_or(0);
  }
};

enum class ParseStatus : std::uint8_t {
  kNeedMore,  ///< the head is not complete; call parse again with more bytes
  kComplete,  ///< the head is complete; see consumed and head
  kError,     ///< the request is rejected; see error; close the connection after answering
};

struct ParseResult {
  ParseStatus status = ParseStatus::kNeedMore;
  /// kComplete: bytes of the head, counting skipped empty lines and the final CRLF; the body (or
  /// the next request) starts at buffer[consumed]. 0 otherwise.
  std::size_t consumed = 0;
  ParseError error = ParseError::kNone;  ///< kError: why
  const RequestHead* head = nullptr;     ///< kComplete: the parser's head; else nullptr
};

/// Incremental parser for one request head at a time (loop thread; one per connection).
class RequestParser {
 public:
  explicit RequestParser(const ParserLimits& limits = {}) noexcept;

  /// Parses the bytes received so far for the current request.
  ///
  /// `buffer` starts at the request's first byte and holds everything received so far; each call
  /// passes the same bytes again, possibly followed by more (bytes already passed must not
  /// change). Any way of splitting the bytes over calls gives the same final result. Work is
  /// linear in the bytes as long as the buffer does not move between calls (a moved buffer,
  /// detected by its address, is re-parsed from the start: amortised linear for a geometrically
  /// growing buffer). Bytes after the head (body, pipelined requests) are never read.
  ///
  /// Returns kNeedMore, kComplete (consumed, head) or kError (error; the connection must close).
  /// Once kComplete or kError, further calls return the same result until reset().
  [[nodiscard]] ParseResult parse(std::string_view buffer) noexcept;

  /// Forgets the current request; the next parse starts a new request at buffer[0].
  void reset() noexcept;

  /// The head of the last kComplete parse (views into that buffer). After kError, what was
  /// parsed before the fault stays readable (version_minor is the request's once its request line
  /// parsed, 1 before that: use it to choose the error response's version); the rest is partial.
  [[nodiscard]] const RequestHead& head() const noexcept { return head_; }

 private:
  enum class Phase : std::uint8_t { kEmptyLines, kFields, kComplete, kError };

  [[nodiscard]] ParseError check_partial_line(std::string_view buffer) noexcept;
  [[nodiscard]] std::size_t find_bare_cr(std::string_view buffer, std::size_t end) noexcept;
  [[nodiscard]] ParseError on_line(std::string_view buffer, std::size_t lf) noexcept;
  [[nodiscard]] ParseError judge_line(std::string_view buffer, std::size_t lf) noexcept;
  [[nodiscard]] ParseError on_request_line(std::string_view buffer, std::size_t lf) noexcept;
  [[nodiscard]] ParseError on_field_line(std::string_view line) noexcept;
  [[nodiscard]] ParseError on_end_of_head() noexcept;
  [[nodiscard]] ParseError on_target() noexcept;
  [[nodiscard]] ParseError on_content_length(std::string_view value) noexcept;
  [[nodiscard]] ParseError on_transfer_encoding(std::string_view value) noexcept;
  void on_connection(std::string_view value) noexcept;
  void on_expect(std::string_view value) noexcept;
  [[nodiscard]] ParseResult result() const noexcept;

  ParserLimits limits_;

  // Scan state. Invariant: buffer[line_start_, scan_pos_) holds no LF; everything before
  // line_start_ has been parsed into the fields below.
  const char* base_ = nullptr;  // buffer.data() of the previous call, to notice a moved buffer
  std::size_t line_start_ = 0;
  std::size_t scan_pos_ = 0;
  // buffer[line_start_, cr_scan_) holds no bare CR: where the search for one resumes.
  std::size_t cr_scan_ = 0;
  std::size_t fields_start_ = 0;  // first byte after the request line
  std::size_t empty_lines_ = 0;
  std::size_t consumed_ = 0;
  Phase phase_ = Phase::kEmptyLines;
  ParseError error_ = ParseError::kNone;

  // Facts gathered from the field lines, judged at the end of the head.
  std::uint8_t host_count_ = 0;
  bool te_present_ = false;
  bool te_chunked_ = false;  // chunked seen; it is last, since a coding after it fails at once
  bool te_other_ = false;    // a coding other than chunked seen
  bool connection_close_ = false;
  bool connection_keep_alive_ = false;
  bool expect_other_ = false;
  bool expect_continue_ = false;

  RequestHead head_;
};

namespace detail {

/// Character classes shared by the parser and the chunked decoder.
struct CharClass {
  static constexpr std::uint8_t kTchar = 1;       // RFC 9110 5.6.2 token
  static constexpr std::uint8_t kFieldValue = 2;  // VCHAR / obs-text / SP / HTAB
  static constexpr std::uint8_t kTarget = 4;      // request-target bytes weft accepts ('\' too)
  static constexpr std::uint8_t kHost = 8;        // reg-name / IP-literal / ':' port
};

inline constexpr std::array<std::uint8_t, 256> kCharClasses = [] {
  std::array<std::uint8_t, 256> table{};
  for (unsigned c = 0; c < 256; ++c) {
    const bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    const bool digit = c >= '0' && c <= '9';
    const std::string_view tchar_symbols = "!#$%&'*+-.^_`|~";
    const std::string_view host_symbols = "-._~!$&'()*+,;=%:[]";
    std::uint8_t bits = 0;
    if (alpha || digit || tchar_symbols.find(static_cast<char>(c)) != std::string_view::npos) {
      bits |= CharClass::kTchar;
    }
    if (c == '\t' || (c >= 0x20 && c != 0x7f)) bits |= CharClass::kFieldValue;
    // RFC 3986 and what browsers send unencoded (see the file comment); '\' is refused in the
    // path separately. Not: CTL, SP, '"', '#', '<', '>', DEL, 0x80-0xFF.
    const std::string_view target_excluded = "\"#<>";
    if (c > 0x20 && c < 0x7f && target_excluded.find(static_cast<char>(c)) == std::string_view::npos) {
      bits |= CharClass::kTarget;
    }
    if (alpha || digit || host_symbols.find(static_cast<char>(c)) != std::string_view::npos) {
      bits |= CharClass::kHost;
    }
    table[c] = bits;
  }
  return table;
}();

[[nodiscard]] constexpr bool has_class(char c, std::uint8_t cls) noexcept {
  return (kCharClasses[static_cast<unsigned char>(c)] & cls) != 0;
}
[[nodiscard]] constexpr bool is_tchar(char c) noexcept { return has_class(c, CharClass::kTchar); }
[[nodiscard]] constexpr bool is_field_value_char(char c) noexcept {
  return has_class(c, CharClass::kFieldValue);
}
[[nodiscard]] constexpr bool is_ows(char c) noexcept { return c == ' ' || c == '\t'; }

using core::iequals;

}  // namespace detail

}  // namespace weft::http
