// Tests of src/http/parser.cpp: every RFC 9112 rule weft enforces, the limits at and one past
// each bound, and split invariance (every split point, one byte at a time, a moving buffer).
#include "http/parser.hpp"

#include <gtest/gtest.h>

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "http/chunked_decoder.hpp"
#include "parse_description.hpp"

namespace weft::http {
namespace {

using namespace std::string_literals;
using namespace std::string_view_literals;
using fuzz::describe;

// ---- helpers ---------------------------------------------------------------------------------

// The final result of feeding `text` to a fresh parser in pieces that end at `cuts` (ascending
// offsets), each call seeing the whole prefix received so far, as a connection calls it.
std::string parse_with_cuts(std::string_view text, const std::vector<std::size_t>& cuts,
                            const ParserLimits& limits = {}) {
  RequestParser parser(limits);
  for (const std::size_t cut : cuts) {
    const ParseResult partial = parser.parse(text.substr(0, cut));
    if (partial.status != ParseStatus::kNeedMore) return describe(partial, text);
  }
  return describe(parser.parse(text), text);
}

std::string parse_whole(std::string_view text, const ParserLimits& limits = {}) {
  return parse_with_cuts(text, {}, limits);
}

std::vector<std::size_t> every_byte(std::size_t size) {
  std::vector<std::size_t> cuts;
  for (std::size_t i = 1; i < size; ++i) cuts.push_back(i);
  return cuts;
}

// Asserts that every split into two pieces and one-byte-at-a-time feeding give the same result as
// one call. Two-piece splits are quadratic in total, so they stop at 4 KiB inputs; byte-at-a-time
// is linear (that it stays fast on 16 KiB inputs is the check that re-parsing is not quadratic).
void expect_split_invariant(std::string_view text, const ParserLimits& limits = {}) {
  const std::string whole = parse_whole(text, limits);
  if (text.size() <= 4096) {
    for (std::size_t cut = 0; cut <= text.size(); ++cut) {
      ASSERT_EQ(parse_with_cuts(text, {cut}, limits), whole) << "split at " << cut;
    }
  }
  ASSERT_EQ(parse_with_cuts(text, every_byte(text.size()), limits), whole) << "one byte at a time";
}

// The error of parsing `text` (kNone if it parsed or needs more), after checking that splitting
// the bytes does not change the outcome.
ParseError error_of(std::string_view text, const ParserLimits& limits = {}) {
  expect_split_invariant(text, limits);
  RequestParser parser(limits);
  const ParseResult result = parser.parse(text);
  return result.status == ParseStatus::kError ? result.error : ParseError::kNone;
}

// A parsed head kept with its parser (the head lives in the parser).
struct Parsed {
  explicit Parsed(std::string_view text, const ParserLimits& limits = {}) : parser(limits) {
    result = parser.parse(text);
  }
  [[nodiscard]] bool complete() const { return result.status == ParseStatus::kComplete; }
  [[nodiscard]] const RequestHead& head() const { return parser.head(); }
  RequestParser parser;
  ParseResult result;
};

std::string request_with_header(std::string_view field_line) {
  return "GET / HTTP/1.1\r\nHost: example.com\r\n" + std::string(field_line) + "\r\n\r\n";
}

// ---- valid requests --------------------------------------------------------------------------

// The framing fields are recognised in any letter case, and only by their exact name: a name
// one byte off (an underscore for the hyphen, a suffix) is an ordinary field. A parser that
// matched such names loosely would read a body length a front end ignored (smuggling).
TEST(Parser, RecognisesFramingFieldNamesInAnyCaseAndOnlyExactly) {
  EXPECT_EQ(Parsed("GET / HTTP/1.1\r\nhOsT: a\r\n\r\n").head().host, "a");
  EXPECT_EQ(error_of("GET / HTTP/1.1\r\nHOST: a\r\nhost: b\r\n\r\n"), ParseError::kDuplicateHost);
  EXPECT_EQ(Parsed(request_with_header("CONTENT-length: 7")).head().content_length, 7U);
  EXPECT_EQ(Parsed(request_with_header("cOnNeCtIoN: CLOSE")).head().keep_alive, false);
  EXPECT_EQ(Parsed(request_with_header("Transfer-ENCODING: chunked")).head().chunked, true);
  EXPECT_EQ(Parsed(request_with_header("EXPECT: 100-continue")).head().expect_continue, true);
  for (const std::string_view near_miss :
       {"Content_Length: 7", "Content-Lengths: 7", "Content-Lengt: 7", "XContent-Length: 7",
        "Content-Length7: 7", "Transfer_Encoding: chunked", "Transfer-Encodinf: chunked",
        "Connection_: close", "Expect_: 1"}) {
    const Parsed p(request_with_header(near_miss));
    ASSERT_TRUE(p.complete()) << near_miss;
    EXPECT_FALSE(p.head().content_length.has_value()) << near_miss;
    EXPECT_FALSE(p.head().chunked) << near_miss;
    EXPECT_TRUE(p.head().keep_alive) << near_miss;
    EXPECT_FALSE(p.head().expect_continue) << near_miss;
  }
  const Parsed hosts("GET / HTTP/1.1\r\nHost: a\r\nHosts: b\r\nHost_: c\r\n\r\n");
  ASSERT_TRUE(hosts.complete());
  EXPECT_EQ(hosts.head().host, "a");
}

TEST(Parser, ParsesSimpleGet) {
  constexpr std::string_view text = "GET /index.html HTTP/1.1\r\nHost: example.com\r\n\r\n";
  const Parsed p(text);
  ASSERT_TRUE(p.complete());
  EXPECT_EQ(p.result.consumed, text.size());
  EXPECT_EQ(p.result.head, &p.parser.head());
  const RequestHead& h = p.head();
  EXPECT_EQ(h.method, Method::kGet);
  EXPECT_EQ(h.method_token, "GET");
  EXPECT_EQ(h.target, "/index.html");
  EXPECT_EQ(h.target_form, TargetForm::kOrigin);
  EXPECT_EQ(h.path, "/index.html");
  EXPECT_EQ(h.query, "");
  EXPECT_EQ(h.version_minor, 1);
  ASSERT_EQ(h.headers().size(), 1U);
  EXPECT_EQ(h.headers()[0].name, "Host");
  EXPECT_EQ(h.headers()[0].value, "example.com");
  EXPECT_EQ(h.host, "example.com");
  EXPECT_FALSE(h.content_length.has_value());
  EXPECT_FALSE(h.chunked);
  EXPECT_EQ(h.body_length(), 0U);
  EXPECT_TRUE(h.keep_alive);
  EXPECT_FALSE(h.expect_continue);
}

TEST(Parser, ViewsPointIntoTheBuffer) {
  const std::string text = "GET /a?b HTTP/1.1\r\nHost: h\r\n\r\n";
  const Parsed p(text);
  ASSERT_TRUE(p.complete());
  EXPECT_EQ(p.head().target.data(), text.data() + 4);
  EXPECT_EQ(p.head().headers()[0].value.data(), text.data() + 25);
}

TEST(Parser, NeedsMoreUntilTheEmptyLine) {
  constexpr std::string_view text = "GET / HTTP/1.1\r\nHost: h\r\n\r\n";
  RequestParser parser;
  EXPECT_EQ(parser.parse(text.substr(0, text.size() - 1)).status, ParseStatus::kNeedMore);
  EXPECT_EQ(parser.parse(text).status, ParseStatus::kComplete);
  EXPECT_EQ(RequestParser().parse("").status, ParseStatus::kNeedMore);
}

TEST(Parser, SplitsPathAndQueryRaw) {
  const Parsed p("GET /a%20b/c?x=1&y=%2F?z HTTP/1.1\r\nHost: h\r\n\r\n");
  ASSERT_TRUE(p.complete());
  EXPECT_EQ(p.head().path, "/a%20b/c");
  EXPECT_EQ(p.head().query, "x=1&y=%2F?z");
}

TEST(Parser, AcceptsEachImplementedMethod) {
  const std::vector<std::pair<std::string, Method>> methods = {
      {"GET", Method::kGet},     {"HEAD", Method::kHead},     {"POST", Method::kPost},
      {"PUT", Method::kPut},     {"DELETE", Method::kDelete}, {"OPTIONS", Method::kOptions},
      {"TRACE", Method::kTrace}, {"PATCH", Method::kPatch}};
  for (const auto& [token, method] : methods) {
    const std::string text = token + " / HTTP/1.1\r\nHost: h\r\n\r\n";
    const Parsed p(text);
    ASSERT_TRUE(p.complete()) << token;
    EXPECT_EQ(p.head().method, method);
    EXPECT_EQ(p.head().method_token, token);
    EXPECT_EQ(to_string(method), token);
  }
  EXPECT_EQ(to_string(Method::kConnect), "CONNECT");
}

TEST(Parser, AcceptsHttp10WithoutHost) {
  const Parsed p("GET / HTTP/1.0\r\n\r\n");
  ASSERT_TRUE(p.complete());
  EXPECT_EQ(p.head().version_minor, 0);
  EXPECT_EQ(p.head().host, "");
}

TEST(Parser, TrimsOptionalWhitespaceAroundFieldValues) {
  const Parsed p("GET / HTTP/1.1\r\nHost:h\r\nA: \t x y \t \r\nB:\r\nC:   \r\n\r\n");
  ASSERT_TRUE(p.complete());
  EXPECT_EQ(p.head().find("a"), "x y");
  EXPECT_EQ(p.head().find("B"), "");
  EXPECT_EQ(p.head().find("C"), "");
  EXPECT_EQ(p.head().host, "h");
}

TEST(Parser, FindsHeadersCaseInsensitivelyFirstMatchWins) {
  const Parsed p("GET / HTTP/1.1\r\nHost: h\r\nX-Thing: one\r\nx-thing: two\r\n\r\n");
  ASSERT_TRUE(p.complete());
  EXPECT_EQ(p.head().find("X-THING"), "one");
  EXPECT_EQ(p.head().find("x-thinG"), "one");
  EXPECT_EQ(p.head().find("x-thin"), std::nullopt);
  EXPECT_EQ(p.head().find("Accept"), std::nullopt);
  EXPECT_EQ(p.head().headers().size(), 3U);
}

TEST(Parser, CaseInsensitiveCompareIsAsciiOnly) {
  EXPECT_TRUE(detail::iequals("Content-LENGTH", "content-length"));
  EXPECT_FALSE(detail::iequals("@", "`"));  // differ only in bit 0x20, but not letters
  EXPECT_FALSE(detail::iequals("[", "{"));
  EXPECT_FALSE(detail::iequals("a", "ab"));
}

TEST(Parser, AcceptsObsTextAndHtabInFieldValues) {
  const Parsed p("GET / HTTP/1.1\r\nHost: h\r\nX: caf\xc3\xa9\tok\r\n\r\n");
  ASSERT_TRUE(p.complete());
  EXPECT_EQ(p.head().find("x"), "caf\xc3\xa9\tok");
}

TEST(Parser, SkipsLeadingEmptyLinesUpToTheLimit) {
  std::string text;
  for (int i = 0; i < 8; ++i) text += "\r\n";
  text += "GET / HTTP/1.1\r\nHost: h\r\n\r\n";
  const Parsed p(text);
  ASSERT_TRUE(p.complete());
  EXPECT_EQ(p.result.consumed, text.size());
  EXPECT_EQ(p.head().method_token.data(), text.data() + 16);
  EXPECT_EQ(error_of("\r\n" + text), ParseError::kTooManyEmptyLines);
}

TEST(Parser, RejectsBareLfEmptyLineBeforeRequestLine) {
  EXPECT_EQ(error_of("\nGET / HTTP/1.1\r\nHost: h\r\n\r\n"), ParseError::kBareLf);
}

TEST(Parser, DoesNotReadPastTheHead) {
  // The bytes after the empty line belong to the body or the next request: never inspected.
  const std::string head = "POST /p HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\n";
  const std::string text = head + "\n\0\x01 bad"s;
  const Parsed p(text);
  ASSERT_TRUE(p.complete());
  EXPECT_EQ(p.result.consumed, head.size());
  EXPECT_EQ(p.head().content_length, 5U);
}

TEST(Parser, ResultIsLatchedUntilReset) {
  RequestParser parser;
  const std::string_view bad = "GET / HTTP/1.1\r\nHost : h\r\n\r\n";
  EXPECT_EQ(parser.parse(bad).error, ParseError::kSpaceBeforeColon);
  EXPECT_EQ(parser.parse(bad).error, ParseError::kSpaceBeforeColon);
  parser.reset();
  const std::string_view good = "GET /x HTTP/1.1\r\nHost: h\r\n\r\n";
  const ParseResult first = parser.parse(good);
  ASSERT_EQ(first.status, ParseStatus::kComplete);
  const ParseResult again = parser.parse(good);
  EXPECT_EQ(describe(again, good), describe(first, good));
}

TEST(Parser, ReparsesWhenTheBufferMoves) {
  // A connection may grow its buffer by reallocation: every call gets a different address.
  const std::string text =
      "POST /upload?x=1 HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\nX-A: 1\r\nX-B: 2\r\n\r\n";
  RequestParser parser;
  std::vector<std::string> copies;  // all alive, so every address differs
  copies.reserve(text.size());
  for (std::size_t n = 1; n < text.size(); ++n) {
    copies.emplace_back(text.substr(0, n));
    ASSERT_EQ(parser.parse(copies.back()).status, ParseStatus::kNeedMore);
  }
  copies.emplace_back(text);
  const ParseResult result = parser.parse(copies.back());
  EXPECT_EQ(describe(result, copies.back()), parse_whole(text));
  EXPECT_EQ(result.head->target.data(), copies.back().data() + 5);
  // A complete head is rebuilt for a moved buffer too.
  const std::string moved = text;
  EXPECT_EQ(describe(parser.parse(moved), moved), describe(result, copies.back()));
  EXPECT_EQ(parser.head().target.data(), moved.data() + 5);
}

// ---- request line ----------------------------------------------------------------------------

TEST(Parser, RejectsDoubleSpaceBetweenMethodAndTarget) {
  EXPECT_EQ(error_of("GET  / HTTP/1.1\r\nHost: h\r\n\r\n"), ParseError::kBadRequestLine);
}

TEST(Parser, RejectsDoubleSpaceBetweenTargetAndVersion) {
  EXPECT_EQ(error_of("GET /  HTTP/1.1\r\nHost: h\r\n\r\n"), ParseError::kBadVersion);
}

TEST(Parser, RejectsSpaceInsideTarget) {
  EXPECT_EQ(error_of("GET /a b HTTP/1.1\r\nHost: h\r\n\r\n"), ParseError::kBadVersion);
}

TEST(Parser, RejectsTrailingSpaceAfterVersion) {
  EXPECT_EQ(error_of("GET / HTTP/1.1 \r\nHost: h\r\n\r\n"), ParseError::kBadVersion);
}

TEST(Parser, RejectsLeadingSpaceBeforeMethod) {
  EXPECT_EQ(error_of(" GET / HTTP/1.1\r\nHost: h\r\n\r\n"), ParseError::kBadRequestLine);
}

TEST(Parser, RejectsTabAsSeparator) {
  EXPECT_EQ(error_of("GET\t/ HTTP/1.1\r\nHost: h\r\n\r\n"), ParseError::kBadRequestLine);
  EXPECT_EQ(error_of("GET /\tHTTP/1.1\r\nHost: h\r\n\r\n"), ParseError::kBadRequestLine);
}

TEST(Parser, RejectsRequestLineWithoutVersion) {
  EXPECT_EQ(error_of("GET /\r\n\r\n"), ParseError::kBadRequestLine);  // HTTP/0.9
  EXPECT_EQ(error_of("GET\r\n\r\n"), ParseError::kBadRequestLine);
}

TEST(Parser, RejectsNonTokenCharacterInMethod) {
  EXPECT_EQ(error_of("G@T / HTTP/1.1\r\nHost: h\r\n\r\n"), ParseError::kBadRequestLine);
}

TEST(Parser, RejectsBareLfAfterRequestLine) {
  EXPECT_EQ(error_of("GET / HTTP/1.1\nHost: h\r\n\r\n"), ParseError::kBareLf);
}

TEST(Parser, RejectsBareCrInRequestLine) {
  EXPECT_EQ(error_of("GET / HTTP/1.1\rHost: h\r\n\r\n"), ParseError::kBareCr);
  EXPECT_EQ(error_of("GET /a\rb HTTP/1.1\r\nHost: h\r\n\r\n"), ParseError::kBareCr);
  EXPECT_EQ(error_of("GET / HTTP/1.1\r\r\nHost: h\r\n\r\n"), ParseError::kBareCr);
  EXPECT_EQ(error_of("\r\n\rGET / HTTP/1.1\r\nHost: h\r\n\r\n"), ParseError::kBareCr);
  EXPECT_EQ(status_code(ParseError::kBareCr), 400);
}

// RFC 9112 2.2: a bare CR makes the element invalid, so the answer need not wait for an LF that
// may never come (until the header timeout): the byte after the CR decides.
TEST(Parser, RejectsBareCrAsSoonAsTheByteAfterItArrives) {
  for (const std::string_view prefix :
       {"GET / HTTP/1.1\rX"sv, "GET /a\rb"sv, "G\rE"sv, "\rG"sv, "\r\n\r\r"sv,
        "GET / HTTP/1.1\r\nHost: h\rX"sv, "GET / HTTP/1.1\r\nHost: h\r\nX-A: 1\r\r"sv,
        "GET / HTTP/1.1\r\nHo\rst"sv}) {
    EXPECT_EQ(error_of(prefix), ParseError::kBareCr) << describe(RequestParser().parse(prefix), prefix);
  }
  // A CR that is the last byte so far may still be followed by its LF.
  for (const std::string_view prefix : {"GET / HTTP/1.1\r"sv, "\r"sv, "GET / HTTP/1.1\r\nHost: h\r"sv}) {
    EXPECT_EQ(RequestParser().parse(prefix).status, ParseStatus::kNeedMore) << prefix.size();
  }
}

// Whichever of a bare CR and a size limit the bytes reveal first is the answer, however they
// are split (error_of checks every split).
TEST(Parser, AnswersTheFirstRevealedOfABareCrAndALimit) {
  ParserLimits limits;
  limits.max_request_line = 20;
  limits.max_header_bytes = 20;
  EXPECT_EQ(error_of("GET /a\rbbbbbbbbbbbbbbbbbbbbbbbb HTTP/1.1\r\n", limits), ParseError::kBareCr);
  EXPECT_EQ(error_of("GET /aaaaaaaaaaaaaaaaaaaaaaaaa\rb HTTP/1.1\r\n", limits), ParseError::kTargetTooLong);
  EXPECT_EQ(error_of("GET /aaaaaaaaaaaaa\rb HTTP/1.1\r\n", limits), ParseError::kBareCr);  // 'b' is byte 20
  EXPECT_EQ(error_of("GET /aaaaaaaaaaaaaa\rb HTTP/1.1\r\n", limits), ParseError::kTargetTooLong);
  EXPECT_EQ(error_of("GET / HTTP/1.1\r\nX: \rvvvvvvvvvvvvvvvvvvvvvvvvvvv\r\n\r\n", limits),
            ParseError::kBareCr);
  EXPECT_EQ(error_of("GET / HTTP/1.1\r\nX: vvvvvvvvvvvvvvvvvvvvvvvvv\rv\r\n\r\n", limits),
            ParseError::kHeadersTooLarge);
  // A method too long is always revealed first: a CR ends the method.
  limits.max_method = 4;
  EXPECT_EQ(error_of("GETGET\rX / HTTP/1.1\r\n", limits), ParseError::kMethodTooLong);
  EXPECT_EQ(error_of("GETG\rX / HTTP/1.1\r\n", limits), ParseError::kBareCr);
}

TEST(Parser, RejectsUnknownMethodWith501) {
  EXPECT_EQ(error_of("BREW / HTTP/1.1\r\nHost: h\r\n\r\n"), ParseError::kUnknownMethod);
  EXPECT_EQ(status_code(ParseError::kUnknownMethod), 501);
}

TEST(Parser, TreatsMethodsCaseSensitively) {
  EXPECT_EQ(error_of("get / HTTP/1.1\r\nHost: h\r\n\r\n"), ParseError::kUnknownMethod);
}

TEST(Parser, RejectsMethodOverTheLimitWith501) {
  const std::string at_limit(32, 'M');  // a valid token, just unknown
  EXPECT_EQ(error_of(at_limit + " / HTTP/1.1\r\nHost: h\r\n\r\n"), ParseError::kUnknownMethod);
  const std::string over(33, 'M');
  EXPECT_EQ(error_of(over + " / HTTP/1.1\r\nHost: h\r\n\r\n"), ParseError::kMethodTooLong);
  EXPECT_EQ(status_code(ParseError::kMethodTooLong), 501);
  // Detected as soon as the 33rd token byte arrives, long before the line ends.
  EXPECT_EQ(RequestParser().parse(over).error, ParseError::kMethodTooLong);
  EXPECT_EQ(RequestParser().parse(at_limit).status, ParseStatus::kNeedMore);
}

TEST(Parser, RejectsOverlongMethodTokenWith501NotWith414) {
  const std::string method(9000, 'M');
  EXPECT_EQ(error_of(method + " / HTTP/1.1\r\nHost: h\r\n\r\n"), ParseError::kMethodTooLong);
}

// RFC 9110 2.5: a higher minor version is processed as the highest one implemented; 505 is for
// another major version.
TEST(Parser, ServesHigherMinorVersionsAsHttp11AndRefusesOtherMajorVersions) {
  EXPECT_EQ(error_of("GET / HTTP/1.0\r\n\r\n"), ParseError::kNone);
  EXPECT_EQ(error_of("GET / HTTP/1.1\r\nHost: h\r\n\r\n"), ParseError::kNone);
  for (const char* version : {"HTTP/1.2", "HTTP/1.9"}) {
    const Parsed p("GET / "s + version + "\r\nHost: h\r\n\r\n");
    ASSERT_TRUE(p.complete()) << version;
    EXPECT_EQ(p.head().version_minor, 1) << version;
    EXPECT_TRUE(p.head().keep_alive) << version;
  }
  EXPECT_EQ(error_of("GET / HTTP/1.2\r\n\r\n"), ParseError::kMissingHost);  // an HTTP/1.1 request
  EXPECT_EQ(error_of("POST / HTTP/1.2\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"), ParseError::kNone);
  EXPECT_EQ(error_of("GET / HTTP/2.0\r\nHost: h\r\n\r\n"), ParseError::kUnsupportedVersion);
  EXPECT_EQ(error_of("GET / HTTP/0.9\r\nHost: h\r\n\r\n"), ParseError::kUnsupportedVersion);
  EXPECT_EQ(error_of("GET / HTTP/3.1\r\nHost: h\r\n\r\n"), ParseError::kUnsupportedVersion);
  EXPECT_EQ(status_code(ParseError::kUnsupportedVersion), 505);
}

TEST(Parser, RejectsMalformedVersionWith400) {
  for (const char* version : {"HTTX/1.1", "HTTP/1.10", "http/1.1", "HTTP/1.", "HTTP/11", "HTTP/1,1",
                              "HTTP/a.1", "HTTP/1.1.1", "HTTP /1.1", "1.1"}) {
    EXPECT_EQ(error_of("GET / "s + version + "\r\nHost: h\r\n\r\n"), ParseError::kBadVersion) << version;
  }
  EXPECT_EQ(status_code(ParseError::kBadVersion), 400);
}

TEST(Parser, ChecksSyntaxBeforeVersionBeforeMethod) {
  EXPECT_EQ(error_of("BREW / HTTX/1.1\r\n\r\n"), ParseError::kBadVersion);
  EXPECT_EQ(error_of("BREW / HTTP/2.0\r\n\r\n"), ParseError::kUnsupportedVersion);
}

TEST(Parser, RejectsControlCharactersInTarget) {
  EXPECT_EQ(error_of("GET /a\x01 HTTP/1.1\r\nHost: h\r\n\r\n"), ParseError::kBadTarget);
  EXPECT_EQ(error_of("GET /a\x7f HTTP/1.1\r\nHost: h\r\n\r\n"), ParseError::kBadTarget);
  EXPECT_EQ(error_of("GET /a\0b HTTP/1.1\r\nHost: h\r\n\r\n"s), ParseError::kBadTarget);
}

TEST(Parser, RejectsFragmentInTarget) {
  EXPECT_EQ(error_of("GET /a#frag HTTP/1.1\r\nHost: h\r\n\r\n"), ParseError::kBadTarget);
}

// RFC 9112 3 + RFC 3986: bytes outside the request-target grammar make an invalid request-line
// (400). Browsers percent-encode non-ASCII and turn '\\' in a path into '/'.
TEST(Parser, RejectsBytesOutsideTheTargetGrammar) {
  for (const std::string_view target :
       {"/caf\xc3\xa9"sv, "/\xc0\xaf"sv, "/\x80"sv, "/\xff"sv, "/?q=caf\xc3\xa9"sv, "/path\\file"sv,
        "/a\\?b"sv, "\\"sv, "/a\"b"sv, "/a<b"sv, "/a>b"sv, "/?q=<script>"sv, "http://h/a\\b"sv,
        "http://h/\xc3\xa9"sv}) {
    EXPECT_EQ(error_of("GET " + std::string(target) + " HTTP/1.1\r\nHost: h\r\n\r\n"), ParseError::kBadTarget)
        << target;
  }
  EXPECT_EQ(error_of("OPTIONS http://h/\xc3\xa9 HTTP/1.1\r\nHost: h\r\n\r\n"), ParseError::kBadTarget);
}

// What RFC 3986 allows, and what browsers and curl send unencoded although it does not: '[', ']',
// '^', '|', '{', '}', '`' anywhere, '\\' in the query.
TEST(Parser, AcceptsTheTargetCharactersBrowsersSend) {
  for (const std::string_view target :
       {"/a-b.c_d~e/%41%c3%A9/!$&'()*+,;=:@/x?y=/?:@!$&'()*+,;="sv, "/caf%C3%A9"sv,
        "/a|b^c/[1]/{x}/`y`?q=[1]&r={a|b}^`c`"sv, "/search?path=C:\\dir\\file"sv, "/?\\"sv}) {
    const std::string text = "GET " + std::string(target) + " HTTP/1.1\r\nHost: h\r\n\r\n";
    const Parsed p(text);
    ASSERT_TRUE(p.complete()) << target << ": " << describe(p.result, text);
    EXPECT_EQ(p.head().target, target);
  }
}

TEST(Parser, AcceptsRequestLineExactlyAtTheLimit) {
  // "GET /" + a... + " HTTP/1.1\r\n" = 16 + n bytes.
  const std::string line = "GET /" + std::string(8192 - 16, 'a') + " HTTP/1.1\r\n";
  ASSERT_EQ(line.size(), 8192U);
  EXPECT_EQ(error_of(line + "Host: h\r\n\r\n"), ParseError::kNone);
}

TEST(Parser, RejectsRequestLineOnePastTheLimitWith414) {
  const std::string line = "GET /" + std::string(8192 - 15, 'a') + " HTTP/1.1\r\n";
  ASSERT_EQ(line.size(), 8193U);
  EXPECT_EQ(error_of(line + "Host: h\r\n\r\n"), ParseError::kTargetTooLong);
  EXPECT_EQ(status_code(ParseError::kTargetTooLong), 414);
}

TEST(Parser, RejectsOverlongTargetBeforeTheLineEnds) {
  const std::string prefix = "GET /" + std::string(8187, 'a');  // 8192 bytes, no LF yet
  EXPECT_EQ(RequestParser().parse(prefix.substr(0, 8191)).status, ParseStatus::kNeedMore);
  EXPECT_EQ(RequestParser().parse(prefix).error, ParseError::kTargetTooLong);
}

TEST(Parser, HonoursConfiguredRequestLineLimit) {
  ParserLimits limits;
  limits.max_request_line = 32;
  const std::string at = "GET /" + std::string(32 - 16, 'a') + " HTTP/1.1\r\nHost: h\r\n\r\n";
  const std::string past = "GET /" + std::string(32 - 15, 'a') + " HTTP/1.1\r\nHost: h\r\n\r\n";
  EXPECT_EQ(error_of(at, limits), ParseError::kNone);
  EXPECT_EQ(error_of(past, limits), ParseError::kTargetTooLong);
}

// ---- target forms ----------------------------------------------------------------------------

TEST(Parser, AcceptsAbsoluteFormAndItsAuthorityWinsOverHost) {
  const Parsed p("GET http://example.com:8080/a/b?c=d HTTP/1.1\r\nHost: other.org\r\n\r\n");
  ASSERT_TRUE(p.complete());
  EXPECT_EQ(p.head().target_form, TargetForm::kAbsolute);
  EXPECT_EQ(p.head().host, "example.com:8080");
  EXPECT_EQ(p.head().path, "/a/b");
  EXPECT_EQ(p.head().query, "c=d");
  EXPECT_EQ(p.head().find("host"), "other.org");
}

TEST(Parser, AcceptsHttpsAbsoluteFormCaseInsensitiveScheme) {
  const Parsed p("GET HTTPS://Example.COM/x HTTP/1.1\r\nHost: example.com\r\n\r\n");
  ASSERT_TRUE(p.complete());
  EXPECT_EQ(p.head().host, "Example.COM");
  EXPECT_EQ(p.head().path, "/x");
}

TEST(Parser, GivesAbsoluteFormWithoutPathTheRootPath) {
  const Parsed p("GET http://example.com HTTP/1.1\r\nHost: example.com\r\n\r\n");
  ASSERT_TRUE(p.complete());
  EXPECT_EQ(p.head().path, "/");
  EXPECT_EQ(p.head().query, "");
  const Parsed q("GET http://example.com?a=1 HTTP/1.1\r\nHost: example.com\r\n\r\n");
  ASSERT_TRUE(q.complete());
  EXPECT_EQ(q.head().path, "/");
  EXPECT_EQ(q.head().query, "a=1");
}

TEST(Parser, RejectsAbsoluteFormWithOtherScheme) {
  EXPECT_EQ(error_of("GET ftp://example.com/ HTTP/1.1\r\nHost: h\r\n\r\n"), ParseError::kBadTarget);
  EXPECT_EQ(error_of("GET example.com/ HTTP/1.1\r\nHost: h\r\n\r\n"), ParseError::kBadTarget);
}

TEST(Parser, RejectsAbsoluteFormWithEmptyHost) {
  EXPECT_EQ(error_of("GET http:///a HTTP/1.1\r\nHost: h\r\n\r\n"), ParseError::kBadTarget);
  EXPECT_EQ(error_of("GET http:// HTTP/1.1\r\nHost: h\r\n\r\n"), ParseError::kBadTarget);
}

TEST(Parser, RejectsAbsoluteFormWithUserinfo) {
  EXPECT_EQ(error_of("GET http://user:pw@example.com/ HTTP/1.1\r\nHost: h\r\n\r\n"), ParseError::kBadTarget);
}

TEST(Parser, StillRequiresHostWithAbsoluteForm) {
  EXPECT_EQ(error_of("GET http://example.com/ HTTP/1.1\r\n\r\n"), ParseError::kMissingHost);
}

TEST(Parser, AcceptsAuthorityFormForConnectOnly) {
  const Parsed p("CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n");
  ASSERT_TRUE(p.complete());
  EXPECT_EQ(p.head().method, Method::kConnect);
  EXPECT_EQ(p.head().target_form, TargetForm::kAuthority);
  EXPECT_EQ(p.head().host, "example.com:443");
  EXPECT_EQ(p.head().path, "");
  EXPECT_EQ(error_of("CONNECT [::1]:443 HTTP/1.1\r\nHost: h\r\n\r\n"), ParseError::kNone);
  EXPECT_EQ(error_of("GET example.com:443 HTTP/1.1\r\nHost: h\r\n\r\n"), ParseError::kBadTarget);
  EXPECT_EQ(error_of("CONNECT /a HTTP/1.1\r\nHost: h\r\n\r\n"), ParseError::kBadTarget);
  EXPECT_EQ(error_of("CONNECT example.com HTTP/1.1\r\nHost: h\r\n\r\n"), ParseError::kBadTarget);
  EXPECT_EQ(error_of("CONNECT example.com: HTTP/1.1\r\nHost: h\r\n\r\n"), ParseError::kBadTarget);
  EXPECT_EQ(error_of("CONNECT example.com:x1 HTTP/1.1\r\nHost: h\r\n\r\n"), ParseError::kBadTarget);
}

// weft is not a proxy: what follows a CONNECT head may be tunnel bytes, never a request.
TEST(Parser, NeverKeepsAConnectConnectionAlive) {
  const Parsed p(
      "CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\nConnection: keep-alive\r\n\r\n");
  ASSERT_TRUE(p.complete());
  EXPECT_FALSE(p.head().keep_alive);
}

TEST(Parser, AcceptsAsteriskFormForOptionsOnly) {
  const Parsed p("OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n");
  ASSERT_TRUE(p.complete());
  EXPECT_EQ(p.head().target_form, TargetForm::kAsterisk);
  EXPECT_EQ(p.head().path, "*");
  EXPECT_EQ(p.head().host, "h");
  EXPECT_EQ(error_of("GET * HTTP/1.1\r\nHost: h\r\n\r\n"), ParseError::kBadTarget);
}

// ---- field lines -----------------------------------------------------------------------------

TEST(Parser, RejectsSpaceBeforeColon) {
  EXPECT_EQ(error_of(request_with_header("X-A : 1")), ParseError::kSpaceBeforeColon);
  EXPECT_EQ(error_of(request_with_header("X-A\t: 1")), ParseError::kSpaceBeforeColon);
  EXPECT_EQ(error_of("GET / HTTP/1.1\r\nHost : h\r\n\r\n"), ParseError::kSpaceBeforeColon);
}

TEST(Parser, RejectsObsFold) {
  EXPECT_EQ(error_of("GET / HTTP/1.1\r\nHost: h\r\nX-A: 1\r\n  continued\r\n\r\n"), ParseError::kObsFold);
  EXPECT_EQ(error_of("GET / HTTP/1.1\r\nHost: h\r\nX-A: 1\r\n\tcontinued\r\n\r\n"), ParseError::kObsFold);
}

TEST(Parser, RejectsWhitespaceBeforeTheFirstField) {
  EXPECT_EQ(error_of("GET / HTTP/1.1\r\n Host: h\r\n\r\n"), ParseError::kObsFold);
}

TEST(Parser, RejectsCrInFieldLine) {
  EXPECT_EQ(error_of(request_with_header("X-A: 1\r2")), ParseError::kBareCr);
  EXPECT_EQ(error_of(request_with_header("X-A: 1\r")), ParseError::kBareCr);
  EXPECT_EQ(error_of(request_with_header("X\r-A: 1")), ParseError::kBareCr);
  EXPECT_EQ(error_of(request_with_header("\rX-A: 1")), ParseError::kBareCr);
}

TEST(Parser, RejectsBareLfEndingAFieldLine) {
  EXPECT_EQ(error_of("GET / HTTP/1.1\r\nHost: h\nX: 1\r\n\r\n"), ParseError::kBareLf);
  EXPECT_EQ(error_of("GET / HTTP/1.1\r\nHost: h\r\n\n"), ParseError::kBareLf);
}

TEST(Parser, RejectsNulInFieldValue) {
  EXPECT_EQ(error_of(request_with_header("X-A: 1\0"s + "2")), ParseError::kBadFieldValue);
}

TEST(Parser, RejectsOtherControlCharactersInFieldValueButHtab) {
  for (int c = 0; c < 0x20; ++c) {
    if (c == '\t' || c == '\r' || c == '\n') continue;
    std::string value = "a";  // not "a" + std::string(...): GCC 12 -O3 -Wrestrict false positive
    value += static_cast<char>(c);
    value += 'b';
    EXPECT_EQ(error_of(request_with_header("X-A: " + value)), ParseError::kBadFieldValue) << c;
  }
  EXPECT_EQ(error_of(request_with_header("X-A: a\x7f")), ParseError::kBadFieldValue);
  EXPECT_EQ(error_of(request_with_header("X-A: a\tb")), ParseError::kNone);
}

TEST(Parser, RejectsForbiddenByteAtAnyPositionOfALongValue) {
  // Values are screened eight bytes at a time: try every position of several words and the tail.
  for (const char bad : {'\0', '\x01', '\r', '\x1f', '\x7f'}) {
    for (std::size_t pos = 0; pos < 43; ++pos) {
      std::string value(43, 'v');
      value[pos] = bad;
      RequestParser parser;
      EXPECT_EQ(parser.parse(request_with_header("X-A: " + value)).error,
                bad == '\r' ? ParseError::kBareCr : ParseError::kBadFieldValue)
          << static_cast<int>(bad) << " at " << pos;
    }
  }
}

TEST(Parser, AcceptsEveryFieldValueByteInALongValue) {
  std::string value = "\t";
  for (int c = 0x20; c <= 0xff; ++c) {
    if (c != 0x7f) value += static_cast<char>(c);
  }
  value += "\tend";
  const std::string text = request_with_header("X-A: " + value);
  const Parsed p(text);
  ASSERT_TRUE(p.complete());
  EXPECT_EQ(p.head().find("X-A"), value.substr(2));  // leading HTAB and SP are OWS
}

TEST(Parser, RejectsForbiddenByteAtAnyPositionOfALongTarget) {
  for (const char bad : {'\0', '\x01', '\t', '\x7f', '#', '"', '<', '>', '\\', '\x80', '\xc3', '\xff'}) {
    for (std::size_t pos = 1; pos < 43; ++pos) {
      std::string target = "/" + std::string(42, 't');
      target[pos] = bad;
      RequestParser parser;
      EXPECT_EQ(parser.parse("GET " + target + " HTTP/1.1\r\nHost: h\r\n\r\n").error, ParseError::kBadTarget)
          << static_cast<int>(bad) << " at " << pos;
    }
  }
}

TEST(Parser, AcceptsEveryTargetByteInALongTarget) {
  std::string path = "/";
  for (int c = 0x21; c < 0x7f; ++c) {
    if (std::string_view("\"#<>?\\").find(static_cast<char>(c)) == std::string_view::npos) {
      path += static_cast<char>(c);
    }
  }
  const std::string target = path + "?q\\" + path.substr(1) + "?";
  const std::string text = "GET " + target + " HTTP/1.1\r\nHost: h\r\n\r\n";
  const Parsed p(text);
  ASSERT_TRUE(p.complete()) << describe(p.result, text);
  EXPECT_EQ(p.head().target, target);
  EXPECT_EQ(p.head().path, path);
  EXPECT_EQ(p.head().query, target.substr(path.size() + 1));
}

TEST(Parser, RejectsNonTokenCharactersInFieldName) {
  for (const char c : "()<>@,;\\\"/[]?={}\x01\x7f\x80"sv) {
    std::string line = "X";
    line += c;
    line += "A: 1";
    EXPECT_EQ(error_of(request_with_header(line)), ParseError::kBadFieldName) << static_cast<int>(c);
  }
  EXPECT_EQ(error_of(request_with_header("!#$%&'*+-.^_`|~09azAZ: 1")), ParseError::kNone);
}

TEST(Parser, RejectsFieldLineWithoutColon) {
  EXPECT_EQ(error_of(request_with_header("X-A")), ParseError::kBadFieldName);
}

TEST(Parser, RejectsEmptyFieldName) {
  EXPECT_EQ(error_of(request_with_header(": value")), ParseError::kEmptyFieldName);
}

TEST(Parser, AcceptsHeaderBlockExactlyAtTheLimit) {
  // Field section = "Host: h\r\n" (9) + "X: " value "\r\n" (5 + n) + "\r\n" (2).
  const std::string text = "GET / HTTP/1.1\r\nHost: h\r\nX: " + std::string(16384 - 16, 'v') + "\r\n\r\n";
  EXPECT_EQ(error_of(text), ParseError::kNone);
}

TEST(Parser, RejectsHeaderBlockOnePastTheLimitWith431) {
  const std::string text = "GET / HTTP/1.1\r\nHost: h\r\nX: " + std::string(16384 - 15, 'v') + "\r\n\r\n";
  EXPECT_EQ(error_of(text), ParseError::kHeadersTooLarge);
  EXPECT_EQ(status_code(ParseError::kHeadersTooLarge), 431);
}

TEST(Parser, RejectsOverlongHeaderBlockBeforeItEnds) {
  const std::string text = "GET / HTTP/1.1\r\nHost: h\r\nX: " + std::string(20000, 'v');
  EXPECT_EQ(RequestParser().parse(text).error, ParseError::kHeadersTooLarge);
}

TEST(Parser, HonoursConfiguredHeaderBlockLimit) {
  ParserLimits limits;
  limits.max_header_bytes = 11;  // "Host: h\r\n" + "\r\n"
  EXPECT_EQ(error_of("GET / HTTP/1.1\r\nHost: h\r\n\r\n", limits), ParseError::kNone);
  EXPECT_EQ(error_of("GET / HTTP/1.1\r\nHost: hh\r\n\r\n", limits), ParseError::kHeadersTooLarge);
}

std::string request_with_fields(std::size_t count) {
  std::string text = "GET / HTTP/1.1\r\nHost: h\r\n";
  for (std::size_t i = 1; i < count; ++i) text += "X-" + std::to_string(i) + ": v\r\n";
  return text + "\r\n";
}

TEST(Parser, AcceptsExactlyTheHeaderCountLimit) {
  const std::string text = request_with_fields(100);
  const Parsed p(text);
  ASSERT_TRUE(p.complete());
  EXPECT_EQ(p.head().headers().size(), 100U);
  EXPECT_EQ(p.head().headers()[99].name, "X-99");
  expect_split_invariant(text);
}

TEST(Parser, RejectsOneHeaderPastTheCountLimitWith431) {
  EXPECT_EQ(error_of(request_with_fields(101)), ParseError::kTooManyHeaders);
  EXPECT_EQ(status_code(ParseError::kTooManyHeaders), 431);
}

TEST(Parser, ClampsHeaderCountLimitToCapacity) {
  ParserLimits limits;
  limits.max_headers = 1000;
  EXPECT_EQ(error_of(request_with_fields(101), limits), ParseError::kTooManyHeaders);
  limits.max_headers = 3;
  EXPECT_EQ(error_of(request_with_fields(3), limits), ParseError::kNone);
  EXPECT_EQ(error_of(request_with_fields(4), limits), ParseError::kTooManyHeaders);
}

// ---- Host ------------------------------------------------------------------------------------

TEST(Parser, RejectsHttp11WithoutHost) {
  EXPECT_EQ(error_of("GET / HTTP/1.1\r\nAccept: */*\r\n\r\n"), ParseError::kMissingHost);
}

TEST(Parser, RejectsMoreThanOneHost) {
  EXPECT_EQ(error_of("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n"), ParseError::kDuplicateHost);
  EXPECT_EQ(error_of("GET / HTTP/1.1\r\nHost: a\r\nhost: a\r\n\r\n"), ParseError::kDuplicateHost);
  EXPECT_EQ(error_of("GET / HTTP/1.0\r\nHost: a\r\nHost: a\r\n\r\n"), ParseError::kDuplicateHost);
}

TEST(Parser, RejectsInvalidHostValue) {
  EXPECT_EQ(error_of("GET / HTTP/1.1\r\nHost: a b\r\n\r\n"), ParseError::kBadHost);
  EXPECT_EQ(error_of("GET / HTTP/1.1\r\nHost: user@h\r\n\r\n"), ParseError::kBadHost);
  EXPECT_EQ(error_of("GET / HTTP/1.1\r\nHost: h/path\r\n\r\n"), ParseError::kBadHost);
}

TEST(Parser, AcceptsHostWithPortAndIpv6) {
  EXPECT_EQ(error_of("GET / HTTP/1.1\r\nHost: example.com:8080\r\n\r\n"), ParseError::kNone);
  EXPECT_EQ(error_of("GET / HTTP/1.1\r\nHost: [::1]:8080\r\n\r\n"), ParseError::kNone);
}

// RFC 9110 4.2.1 via RFC 9112 3.3: when Host is the authority of the target URI, an empty host
// makes an invalid http URI.
TEST(Parser, RejectsAnEmptyHostWhenHostIsTheAuthority) {
  for (const char* host_line : {"Host:", "Host: ", "Host:\t \t", "Host: :8080", "Host::"}) {
    EXPECT_EQ(error_of("GET / HTTP/1.1\r\n"s + host_line + "\r\n\r\n"), ParseError::kEmptyHost) << host_line;
    EXPECT_EQ(error_of("OPTIONS * HTTP/1.1\r\n"s + host_line + "\r\n\r\n"), ParseError::kEmptyHost)
        << host_line;
    EXPECT_EQ(error_of("GET / HTTP/1.0\r\n"s + host_line + "\r\n\r\n"), ParseError::kEmptyHost) << host_line;
  }
  EXPECT_EQ(status_code(ParseError::kEmptyHost), 400);
  EXPECT_EQ(error_of("GET / HTTP/1.0\r\n\r\n"), ParseError::kNone);  // no Host: the default applies
}

// RFC 9112 3.2.2: with an absolute-form target, Host is ignored for the authority (a client with
// no authority for Host sends it empty), and CONNECT names its authority in the target.
TEST(Parser, AcceptsAnEmptyHostWhenTheTargetNamesTheAuthority) {
  const Parsed p("GET http://example.com/a HTTP/1.1\r\nHost:\r\n\r\n");
  ASSERT_TRUE(p.complete());
  EXPECT_EQ(p.head().host, "example.com");
  EXPECT_EQ(error_of("CONNECT example.com:443 HTTP/1.1\r\nHost:\r\n\r\n"), ParseError::kNone);
  EXPECT_EQ(error_of("GET http://:80/a HTTP/1.1\r\nHost: h\r\n\r\n"), ParseError::kBadTarget);
}

// ---- Content-Length --------------------------------------------------------------------------

std::optional<std::uint64_t> content_length_of(std::string_view field_lines,
                                               const ParserLimits& limits = {}) {
  const std::string text = "POST / HTTP/1.1\r\nHost: h\r\n" + std::string(field_lines) + "\r\n";
  const Parsed p(text, limits);
  return p.complete() ? p.head().content_length : std::nullopt;
}

TEST(Parser, ParsesContentLength) {
  EXPECT_EQ(content_length_of("Content-Length: 10\r\n"), 10U);
  EXPECT_EQ(content_length_of("content-length:0\r\n"), 0U);
  EXPECT_EQ(content_length_of("Content-Length: 007 \r\n"), 7U);
  const Parsed p("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 12\r\n\r\n");
  EXPECT_EQ(p.head().body_length(), 12U);
}

TEST(Parser, RejectsNonDigitContentLength) {
  for (const char* value : {"abc", "-1", "+1", "1 2", "0x10", "1.0", "1e3", ""}) {
    EXPECT_EQ(error_of(request_with_header("Content-Length: "s + value)), ParseError::kBadContentLength)
        << value;
  }
}

TEST(Parser, RejectsContentLengthOverflow) {
  EXPECT_EQ(error_of(request_with_header("Content-Length: 99999999999999999999999")),
            ParseError::kBadContentLength);
  EXPECT_EQ(error_of(request_with_header("Content-Length: 18446744073709551616")),
            ParseError::kBadContentLength);
  ParserLimits unbounded;
  unbounded.max_body = UINT64_MAX;
  EXPECT_EQ(content_length_of("Content-Length: 18446744073709551615\r\n", unbounded), UINT64_MAX);
}

TEST(Parser, RejectsAbsurdContentLengthAsTooLarge) {
  EXPECT_EQ(error_of(request_with_header("Content-Length: 18446744073709551615")), ParseError::kBodyTooLarge);
}

TEST(Parser, AcceptsIdenticalContentLengthsAsOne) {
  EXPECT_EQ(content_length_of("Content-Length: 5, 5\r\n"), 5U);
  EXPECT_EQ(content_length_of("Content-Length: 5,5,05\r\n"), 5U);
  EXPECT_EQ(content_length_of("Content-Length: 5\r\nContent-Length: 5\r\n"), 5U);
}

TEST(Parser, RejectsDifferingContentLengths) {
  EXPECT_EQ(error_of(request_with_header("Content-Length: 5, 6")), ParseError::kConflictingContentLength);
  EXPECT_EQ(error_of("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n"),
            ParseError::kConflictingContentLength);
  EXPECT_EQ(error_of(request_with_header("Content-Length: 5,")), ParseError::kBadContentLength);
  EXPECT_EQ(error_of(request_with_header("Content-Length: ,5")), ParseError::kBadContentLength);
}

TEST(Parser, AcceptsContentLengthExactlyAtTheBodyLimit) {
  EXPECT_EQ(content_length_of("Content-Length: 1048576\r\n"), 1048576U);
}

TEST(Parser, RejectsContentLengthOnePastTheBodyLimitWith413) {
  EXPECT_EQ(error_of(request_with_header("Content-Length: 1048577")), ParseError::kBodyTooLarge);
  EXPECT_EQ(status_code(ParseError::kBodyTooLarge), 413);
}

// ---- Transfer-Encoding -----------------------------------------------------------------------

bool chunked_of(std::string_view te_value) {
  const std::string text =
      "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: " + std::string(te_value) + "\r\n\r\n";
  const Parsed p(text);
  return p.complete() && p.head().chunked && !p.head().content_length && !p.head().body_length();
}

ParseError te_error(std::string_view te_value) {
  return error_of(request_with_header("Transfer-Encoding: " + std::string(te_value)));
}

TEST(Parser, AcceptsChunkedTransferEncoding) {
  EXPECT_TRUE(chunked_of("chunked"));
  EXPECT_TRUE(chunked_of("Chunked"));
  EXPECT_TRUE(chunked_of("  CHUNKED \t"));
  EXPECT_TRUE(chunked_of(", chunked,"));  // empty list elements are ignored (RFC 9110 5.6.1)
}

TEST(Parser, RejectsUnsupportedCodingBeforeChunkedWith501) {
  EXPECT_EQ(te_error("gzip, chunked"), ParseError::kUnsupportedTransferCoding);
  EXPECT_EQ(te_error("gzip;level=1, chunked"), ParseError::kUnsupportedTransferCoding);
  EXPECT_EQ(te_error("xchunked, chunked"), ParseError::kUnsupportedTransferCoding);
  EXPECT_EQ(error_of("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip\r\nTransfer-Encoding: "
                     "chunked\r\n\r\n"),
            ParseError::kUnsupportedTransferCoding);
  EXPECT_EQ(status_code(ParseError::kUnsupportedTransferCoding), 501);
}

TEST(Parser, RejectsTransferEncodingWithoutFinalChunkedWith400) {
  EXPECT_EQ(te_error("gzip"), ParseError::kBadTransferEncoding);
  EXPECT_EQ(te_error("identity"), ParseError::kBadTransferEncoding);
  EXPECT_EQ(te_error("xchunked"), ParseError::kBadTransferEncoding);
  EXPECT_EQ(te_error("chunkedx"), ParseError::kBadTransferEncoding);
  EXPECT_EQ(te_error("chunked, identity"), ParseError::kBadTransferEncoding);
  EXPECT_EQ(te_error("chunked, gzip"), ParseError::kBadTransferEncoding);
  EXPECT_EQ(error_of("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: "
                     "gzip\r\n\r\n"),
            ParseError::kBadTransferEncoding);
  EXPECT_EQ(status_code(ParseError::kBadTransferEncoding), 400);
}

TEST(Parser, RejectsChunkedTwice) {
  EXPECT_EQ(te_error("chunked, chunked"), ParseError::kBadTransferEncoding);
}

TEST(Parser, RejectsEmptyOrMalformedTransferEncoding) {
  EXPECT_EQ(te_error(""), ParseError::kBadTransferEncoding);
  EXPECT_EQ(te_error(" , "), ParseError::kBadTransferEncoding);
  EXPECT_EQ(te_error("chunked;x=1"), ParseError::kBadTransferEncoding);
  EXPECT_EQ(te_error("chun ked"), ParseError::kBadTransferEncoding);
  EXPECT_EQ(te_error("\"chunked\""), ParseError::kBadTransferEncoding);
}

TEST(Parser, RejectsContentLengthWithTransferEncoding) {
  EXPECT_EQ(error_of("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\nTransfer-Encoding: "
                     "chunked\r\n\r\n"),
            ParseError::kContentLengthWithTransferEncoding);
  EXPECT_EQ(error_of("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\nContent-Length: "
                     "5\r\n\r\n"),
            ParseError::kContentLengthWithTransferEncoding);
}

TEST(Parser, RejectsTransferEncodingInHttp10) {
  EXPECT_EQ(error_of("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n"),
            ParseError::kTransferEncodingInHttp10);
}

// ---- Connection and Expect -------------------------------------------------------------------

bool keep_alive_of(std::string_view version, std::string_view field_lines) {
  const std::string text =
      "GET / HTTP/" + std::string(version) + "\r\nHost: h\r\n" + std::string(field_lines) + "\r\n";
  const Parsed p(text);
  EXPECT_TRUE(p.complete()) << text;
  return p.head().keep_alive;
}

TEST(Parser, KeepsHttp11AliveUnlessClose) {
  EXPECT_TRUE(keep_alive_of("1.1", ""));
  EXPECT_TRUE(keep_alive_of("1.1", "Connection: keep-alive\r\n"));
  EXPECT_FALSE(keep_alive_of("1.1", "Connection: close\r\n"));
  EXPECT_FALSE(keep_alive_of("1.1", "Connection: Keep-Alive, CLOSE\r\n"));
  EXPECT_FALSE(keep_alive_of("1.1", "connection: upgrade\r\nConnection:  Close \r\n"));
  EXPECT_TRUE(keep_alive_of("1.1", "Connection: closed, xclose\r\n"));
}

TEST(Parser, KeepsHttp10AliveOnlyWithKeepAlive) {
  EXPECT_FALSE(keep_alive_of("1.0", ""));
  EXPECT_TRUE(keep_alive_of("1.0", "Connection: keep-alive\r\n"));
  EXPECT_TRUE(keep_alive_of("1.0", "Connection: foo, Keep-Alive\r\n"));
  EXPECT_FALSE(keep_alive_of("1.0", "Connection: keep-alive, close\r\n"));
  EXPECT_FALSE(keep_alive_of("1.0", "Connection: keep-alive\r\nConnection: close\r\n"));
}

TEST(Parser, SetsExpectContinue) {
  const Parsed p("PUT /f HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\nExpect: 100-Continue\r\n\r\n");
  ASSERT_TRUE(p.complete());
  EXPECT_TRUE(p.head().expect_continue);
  const Parsed q("PUT /f HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\n");
  ASSERT_TRUE(q.complete());
  EXPECT_FALSE(q.head().expect_continue);
}

TEST(Parser, IgnoresExpectContinueInHttp10) {
  const Parsed p("PUT /f HTTP/1.0\r\nContent-Length: 3\r\nExpect: 100-continue\r\n\r\n");
  ASSERT_TRUE(p.complete());
  EXPECT_FALSE(p.head().expect_continue);
}

TEST(Parser, RejectsOtherExpectationsWith417) {
  EXPECT_EQ(error_of(request_with_header("Expect: 200-ok")), ParseError::kUnsupportedExpectation);
  EXPECT_EQ(error_of(request_with_header("Expect: 100-continue, foo")), ParseError::kUnsupportedExpectation);
  EXPECT_EQ(error_of(request_with_header("Expect: 100-continue;x=1")), ParseError::kUnsupportedExpectation);
  EXPECT_EQ(status_code(ParseError::kUnsupportedExpectation), 417);
}

// ---- error mapping ---------------------------------------------------------------------------

TEST(Parser, MapsEveryErrorToAStatusAndReason) {
  for (int e = 1; e <= static_cast<int>(ParseError::kUnsupportedVersion); ++e) {
    const auto error = static_cast<ParseError>(e);
    const std::uint16_t code = status_code(error);
    EXPECT_TRUE(code == 400 || code == 413 || code == 414 || code == 417 || code == 431 || code == 501 ||
                code == 505)
        << e;
    EXPECT_FALSE(reason(error).empty()) << e;
  }
  EXPECT_EQ(status_code(ParseError::kNone), 0);
}

// ---- split invariance of whole connections ---------------------------------------------------

// Plays a connection: reveals `input` up to each cut in turn, parses heads, reads bodies
// (Content-Length or chunked) and pipelined requests, and writes down everything it learns.
std::vector<std::string> run_connection(std::string_view input, const std::vector<std::size_t>& cuts) {
  std::vector<std::string> transcript;
  std::size_t available = 0;
  std::size_t next_cut = 0;
  const auto reveal = [&] { available = next_cut < cuts.size() ? cuts[next_cut++] : input.size(); };
  reveal();
  RequestParser parser;
  ChunkedDecoder decoder;
  std::size_t start = 0;
  while (start < input.size()) {
    ParseResult head;
    while (true) {
      head = parser.parse(input.substr(start, available - start));
      if (head.status != ParseStatus::kNeedMore) break;
      if (available == input.size()) {
        transcript.emplace_back("eof in head");
        return transcript;
      }
      reveal();
    }
    transcript.push_back(describe(head, input));
    if (head.status == ParseStatus::kError) return transcript;

    std::size_t pos = start + head.consumed;
    std::string body;
    if (head.head->chunked) {
      decoder.reset();
      while (true) {
        const ChunkedResult chunk = decoder.decode(input.substr(pos, available - pos));
        pos += chunk.consumed;
        if (chunk.status == ChunkedStatus::kData) {
          body += chunk.data;
        } else if (chunk.status == ChunkedStatus::kDone) {
          break;
        } else if (chunk.status == ChunkedStatus::kError) {
          transcript.push_back("body error " + std::string(reason(chunk.error)));
          return transcript;
        } else if (available == input.size()) {
          transcript.emplace_back("eof in body");
          return transcript;
        } else {
          reveal();
        }
      }
    } else {
      const std::uint64_t length = *head.head->body_length();
      while (available - pos < length) {
        if (available == input.size()) {
          transcript.emplace_back("eof in body");
          return transcript;
        }
        reveal();
      }
      body = input.substr(pos, length);
      pos += length;
    }
    transcript.push_back("body '" + body + "' ends @" + std::to_string(pos));
    parser.reset();
    start = pos;
  }
  return transcript;
}

void expect_connection_split_invariant(std::string_view input) {
  const std::vector<std::string> whole = run_connection(input, {});
  for (std::size_t cut = 0; cut <= input.size(); ++cut) {
    ASSERT_EQ(run_connection(input, {cut}), whole) << "split at " << cut;
  }
  ASSERT_EQ(run_connection(input, every_byte(input.size())), whole) << "one byte at a time";
  // A few three-piece splits from a fixed linear congruential sequence.
  std::uint32_t seed = 12345;
  for (int i = 0; i < 200; ++i) {
    seed = seed * 1664525U + 1013904223U;
    std::size_t a = seed % (input.size() + 1);
    seed = seed * 1664525U + 1013904223U;
    std::size_t b = seed % (input.size() + 1);
    if (a > b) std::swap(a, b);
    ASSERT_EQ(run_connection(input, {a, b}), whole) << "split at " << a << ", " << b;
  }
}

TEST(ParserIncremental, SimpleGetIsSplitInvariant) {
  constexpr std::string_view text = "GET /index.html?q=1 HTTP/1.1\r\nHost: example.com\r\n\r\n";
  expect_split_invariant(text);
  expect_connection_split_invariant(text);
  EXPECT_EQ(run_connection(text, {}).back(), "body '' ends @" + std::to_string(text.size()));
}

TEST(ParserIncremental, ManyHeadersAreSplitInvariant) {
  const std::string text =
      "\r\nGET http://example.com:8080/a/b?c=d HTTP/1.1\r\n"
      "Host: ignored.example\r\n"
      "User-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0\r\n"
      "Accept: text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8\r\n"
      "Accept-Language: en-US,en;q=0.5\r\n"
      "Accept-Encoding: gzip, deflate, br\r\n"
      "Connection: keep-alive\r\n"
      "Cookie: a=b; c=d; e=\"f g\"\r\n"
      "Upgrade-Insecure-Requests: 1\r\n"
      "Sec-Fetch-Dest: document\r\n"
      "If-None-Match: \"abc\"\r\n"
      "Cache-Control: max-age=0\r\n"
      "X-Empty:\r\n"
      "X-Obs-Text: caf\xc3\xa9\r\n\r\n";
  expect_split_invariant(text);
  expect_connection_split_invariant(text);
  const Parsed p(text);
  ASSERT_TRUE(p.complete());
  EXPECT_EQ(p.head().headers().size(), 13U);
  EXPECT_EQ(p.head().host, "example.com:8080");
}

TEST(ParserIncremental, PostWithContentLengthIsSplitInvariant) {
  constexpr std::string_view text =
      "POST /submit HTTP/1.1\r\nHost: h\r\nContent-Type: text/plain\r\nContent-Length: 11\r\n\r\n"
      "hello world";
  expect_connection_split_invariant(text);
  EXPECT_EQ(run_connection(text, {}).back(), "body 'hello world' ends @" + std::to_string(text.size()));
}

TEST(ParserIncremental, ChunkedPostWithExtensionsAndTrailersIsSplitInvariant) {
  constexpr std::string_view chunked =
      "POST /upload HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\nExpect: 100-continue\r\n\r\n"
      "5;name=value;flag\r\nhello\r\n"
      "1 ; q=\"a b\"\r\n \r\n"
      "00005\r\nworld\r\n"
      "0;last\r\nX-Checksum: abc\r\nX-Other:\t1\r\n\r\n";
  expect_connection_split_invariant(chunked);
  const std::vector<std::string> transcript = run_connection(chunked, {});
  ASSERT_EQ(transcript.size(), 2U);
  EXPECT_EQ(transcript[1], "body 'hello world' ends @" + std::to_string(chunked.size()));
}

TEST(ParserIncremental, PipelinedRequestsAreSplitInvariant) {
  constexpr std::string_view text =
      "GET /first HTTP/1.1\r\nHost: h\r\n\r\n"
      "POST /second HTTP/1.1\r\nHost: h\r\nContent-Length: 4\r\n\r\nGET "  // body looks like a request
      "POST /third HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
      "3\r\nGET\r\n0\r\n\r\n"
      "\r\n"  // stray CRLF after a body, skipped
      "GET /fourth HTTP/1.0\r\nConnection: keep-alive\r\n\r\n";
  expect_connection_split_invariant(text);
  const std::vector<std::string> transcript = run_connection(text, {});
  ASSERT_EQ(transcript.size(), 8U);
  EXPECT_EQ(transcript[3].substr(0, 9), "body 'GET");
  EXPECT_EQ(transcript[5].substr(0, 9), "body 'GET");
  EXPECT_NE(transcript[6].find("path@"), std::string::npos);
  EXPECT_EQ(transcript[7], "body '' ends @" + std::to_string(text.size()));
}

TEST(ParserIncremental, PipelinedErrorIsSplitInvariant) {
  constexpr std::string_view text =
      "GET /ok HTTP/1.1\r\nHost: h\r\n\r\n"
      "GET /bad HTTP/1.1\r\nHost: h\r\nX: a\r\n b\r\n\r\n"
      "GET /never HTTP/1.1\r\nHost: h\r\n\r\n";
  expect_connection_split_invariant(text);
  EXPECT_EQ(run_connection(text, {}).back(),
            "error 400 " + std::string(reason(ParseError::kObsFold)) + " consumed=0");
}

TEST(ParserIncremental, ErrorsAreSplitInvariant) {
  // error_of checks every split and one byte at a time; these mix a limit with a later fault.
  ParserLimits limits;
  limits.max_request_line = 40;
  limits.max_method = 8;
  limits.max_header_bytes = 30;
  EXPECT_EQ(error_of("GET /aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\x01 HTTP/1.1\r\n", limits),
            ParseError::kTargetTooLong);
  EXPECT_EQ(error_of("G@TTTTTTTTTTTTT / HTTP/1.1\r\n", limits), ParseError::kBadRequestLine);
  EXPECT_EQ(error_of("GETGETGETGET / HTTP/1.1\r\n", limits), ParseError::kMethodTooLong);
  EXPECT_EQ(error_of("GETGETGE\n", limits), ParseError::kBareLf);
  EXPECT_EQ(error_of("GETGETGET\n", limits), ParseError::kMethodTooLong);
  EXPECT_EQ(error_of("GET / HTTP/1.1\r\nHost: h\r\nX: \x01 long value over the limit\r\n\r\n", limits),
            ParseError::kHeadersTooLarge);
  EXPECT_EQ(error_of("GET / HTTP/1.1\r\nHost: h\r\nX: \x01\r\n\r\n", limits), ParseError::kBadFieldValue);
}

}  // namespace
}  // namespace weft::http
