// Tests of src/http/chunked_decoder.cpp: RFC 9112 7.1 framing, bounds at and one past each limit,
// the exact end of the body, and split invariance (every split point, one byte at a time).
#include "http/chunked_decoder.hpp"

#include <gtest/gtest.h>

#include <cstddef>
#include <ostream>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace weft::http {
namespace {

using namespace std::string_literals;

// What decoding `input` yields when it is revealed up to each cut in turn: the body, and how it
// ended ("done @N", "error <reason> @N" or "need-more"), N being an offset in `input`.
struct Decoded {
  std::string body;
  std::string outcome;
  bool operator==(const Decoded&) const = default;
};

std::ostream& operator<<(std::ostream& out, const Decoded& d) {
  return out << "body '" << d.body << "' " << d.outcome;
}

Decoded decode_with_cuts(std::string_view input, const std::vector<std::size_t>& cuts,
                         const ParserLimits& limits = {}) {
  ChunkedDecoder decoder(limits);
  Decoded decoded;
  std::size_t available = 0;
  std::size_t next_cut = 0;
  const auto reveal = [&] { available = next_cut < cuts.size() ? cuts[next_cut++] : input.size(); };
  reveal();
  std::size_t pos = 0;
  while (true) {
    const ChunkedResult result = decoder.decode(input.substr(pos, available - pos));
    pos += result.consumed;
    switch (result.status) {
      case ChunkedStatus::kData:
        EXPECT_FALSE(result.data.empty());
        EXPECT_EQ(result.data.data() + result.data.size(), input.data() + pos);  // zero-copy
        decoded.body += result.data;
        break;
      case ChunkedStatus::kDone:
        EXPECT_EQ(decoder.body_size(), decoded.body.size());
        decoded.outcome = "done @" + std::to_string(pos);
        return decoded;
      case ChunkedStatus::kError:
        decoded.outcome = "error " + std::string(reason(result.error)) + " @" + std::to_string(pos);
        return decoded;
      case ChunkedStatus::kNeedMore:
        EXPECT_EQ(pos, available);
        if (available == input.size()) {
          decoded.outcome = "need-more";
          return decoded;
        }
        reveal();
        break;
    }
  }
}

std::vector<std::size_t> every_byte(std::size_t size) {
  std::vector<std::size_t> cuts;
  for (std::size_t i = 1; i < size; ++i) cuts.push_back(i);
  return cuts;
}

// Decodes `input` in one call and asserts that two-piece splits and one byte at a time give the
// same body, end and error.
Decoded decode(std::string_view input, const ParserLimits& limits = {}) {
  const Decoded whole = decode_with_cuts(input, {}, limits);
  // Two-piece splits are quadratic in total: every one for small inputs, a stride for large ones.
  const std::size_t stride = input.size() <= 1024 ? 1 : 97;
  for (std::size_t cut = 0; cut <= input.size(); cut += stride) {
    EXPECT_EQ(decode_with_cuts(input, {cut}, limits), whole) << "split at " << cut;
  }
  EXPECT_EQ(decode_with_cuts(input, every_byte(input.size()), limits), whole) << "one byte at a time";
  return whole;
}

std::string done_at(std::size_t offset) { return "done @" + std::to_string(offset); }

std::string error_at(ParseError error, std::size_t offset) {
  return "error " + std::string(reason(error)) + " @" + std::to_string(offset);
}

// The error of decoding `input`, or kNone.
ParseError error_of(std::string_view input, const ParserLimits& limits = {}) {
  decode(input, limits);  // for the split checks
  ChunkedDecoder decoder(limits);
  std::size_t pos = 0;
  while (true) {
    const ChunkedResult result = decoder.decode(input.substr(pos));
    pos += result.consumed;
    if (result.status == ChunkedStatus::kError) return result.error;
    if (result.status != ChunkedStatus::kData) return ParseError::kNone;
  }
}

// ---- valid bodies ----------------------------------------------------------------------------

TEST(ChunkedDecoder, DecodesSingleChunk) {
  constexpr std::string_view body = "5\r\nhello\r\n0\r\n\r\n";
  EXPECT_EQ(decode(body), (Decoded{"hello", done_at(body.size())}));
}

TEST(ChunkedDecoder, DecodesEmptyBody) { EXPECT_EQ(decode("0\r\n\r\n"), (Decoded{"", done_at(5)})); }

TEST(ChunkedDecoder, DecodesManyChunksWithMixedCaseHex) {
  const std::string big(0x1f, 'z');
  const std::string body =
      "a\r\n0123456789\r\nA\r\nabcdefghij\r\n1F\r\n" + big + "\r\n1f\r\n" + big + "\r\n0\r\n\r\n";
  EXPECT_EQ(decode(body), (Decoded{"0123456789abcdefghij" + big + big, done_at(body.size())}));
}

TEST(ChunkedDecoder, AcceptsLeadingZerosInSizes) {
  constexpr std::string_view body = "0005\r\nhello\r\n000\r\n\r\n";
  EXPECT_EQ(decode(body), (Decoded{"hello", done_at(body.size())}));
}

TEST(ChunkedDecoder, ReportsTheExactEndOfTheBody) {
  // The next pipelined request starts right after the final CRLF, and is never decoded.
  constexpr std::string_view body = "3\r\nGET\r\n0\r\n\r\n";
  const std::string input = std::string(body) + "GET / HTTP/1.1\r\nHost: h\r\n\r\n";
  EXPECT_EQ(decode(input), (Decoded{"GET", done_at(body.size())}));
}

TEST(ChunkedDecoder, NeedsMoreUntilTheFinalCrlf) {
  EXPECT_EQ(decode("5\r\nhello\r\n0\r\n").outcome, "need-more");
  EXPECT_EQ(decode("5\r\nhello\r\n0\r\nX: 1\r\n").outcome, "need-more");
  EXPECT_EQ(decode("5\r\nhel"), (Decoded{"hel", "need-more"}));
  EXPECT_EQ(decode(""), (Decoded{"", "need-more"}));
}

TEST(ChunkedDecoder, IgnoresChunkExtensions) {
  constexpr std::string_view body =
      "5;name=value;flag\r\nhello\r\n6 ;a=\"q ; s\"\r\n world\r\n0;last\r\n\r\n";
  EXPECT_EQ(decode(body), (Decoded{"hello world", done_at(body.size())}));
}

TEST(ChunkedDecoder, DiscardsTrailers) {
  constexpr std::string_view body = "2\r\nhi\r\n0\r\nX-Checksum: abc\r\nX-Empty:\r\nX-Tab:\t1\r\n\r\n";
  EXPECT_EQ(decode(body), (Decoded{"hi", done_at(body.size())}));
}

TEST(ChunkedDecoder, DecodesInPlace) {
  std::string buffer = "5;x\r\nhello\r\n6\r\n world\r\n0\r\nT: 1\r\n\r\nNEXT";
  ChunkedDecoder decoder;
  const InPlaceResult result = decoder.decode_in_place(buffer);
  EXPECT_EQ(result.status, ChunkedStatus::kDone);
  EXPECT_EQ(buffer.substr(0, result.decoded), "hello world");
  EXPECT_EQ(buffer.substr(result.consumed), "NEXT");
}

// The caller pattern of decode_in_place: keep the decoded prefix, append new bytes right after it.
std::string decode_in_place_with_cuts(std::string_view input, const std::vector<std::size_t>& cuts) {
  ChunkedDecoder decoder;
  std::string buffer;
  std::size_t decoded = 0;
  std::size_t revealed = 0;
  for (std::size_t i = 0; i <= cuts.size(); ++i) {
    const std::size_t end = i < cuts.size() ? cuts[i] : input.size();
    buffer += input.substr(revealed, end - revealed);
    revealed = end;
    const InPlaceResult result = decoder.decode_in_place(std::span(buffer).subspan(decoded));
    decoded += result.decoded;
    if (result.status == ChunkedStatus::kDone) {
      return buffer.substr(0, decoded) + "|" + buffer.substr(decoded - result.decoded + result.consumed) +
             "|" + std::string(input.substr(revealed));
    }
    if (result.status == ChunkedStatus::kError) return "error " + std::string(reason(result.error));
    EXPECT_EQ(result.consumed, buffer.size() - (decoded - result.decoded));
    buffer.resize(decoded);
  }
  return "need-more " + buffer;
}

TEST(ChunkedDecoder, DecodesInPlaceAtEverySplit) {
  constexpr std::string_view input = "5;x\r\nhello\r\n1\r\n \r\n5\r\nworld\r\n0\r\nT: 1\r\n\r\nNEXT";
  EXPECT_EQ(decode_in_place_with_cuts(input, {}), "hello world|NEXT|");
  for (std::size_t cut = 0; cut <= input.size(); ++cut) {
    const std::string result = decode_in_place_with_cuts(input, {cut});
    // The leftover may still be partly unread input: join the last two parts.
    const std::size_t bar = result.find('|');
    ASSERT_NE(bar, std::string::npos) << result;
    EXPECT_EQ(result.substr(0, bar), "hello world") << cut;
    std::string rest = result.substr(bar + 1);
    rest.erase(rest.find('|'), 1);
    EXPECT_EQ(rest, "NEXT") << cut;
  }
  const std::string one_by_one = decode_in_place_with_cuts(input, every_byte(input.size()));
  EXPECT_EQ(one_by_one.substr(0, one_by_one.find('|')), "hello world");
}

TEST(ChunkedDecoder, LatchesDoneAndErrorUntilReset) {
  ChunkedDecoder decoder;
  EXPECT_EQ(decoder.decode("0\r\n\r\nmore").consumed, 5U);
  const ChunkedResult again = decoder.decode("more");
  EXPECT_EQ(again.status, ChunkedStatus::kDone);
  EXPECT_EQ(again.consumed, 0U);
  decoder.reset();
  EXPECT_EQ(decoder.decode("x").error, ParseError::kBadChunkSize);
  EXPECT_EQ(decoder.decode("0\r\n\r\n").error, ParseError::kBadChunkSize);
  EXPECT_EQ(decoder.decode("0\r\n\r\n").consumed, 0U);
  decoder.reset();
  EXPECT_EQ(decoder.decode("3\r\nabc").data, "abc");
  EXPECT_EQ(decoder.body_size(), 3U);
}

// ---- chunk size ------------------------------------------------------------------------------

TEST(ChunkedDecoder, RejectsNonHexSize) {
  EXPECT_EQ(error_of("x\r\n"), ParseError::kBadChunkSize);
  EXPECT_EQ(error_of("\r\n"), ParseError::kBadChunkSize);
  EXPECT_EQ(error_of("-1\r\n"), ParseError::kBadChunkSize);
  EXPECT_EQ(error_of("0x5\r\nhello\r\n"), ParseError::kBadChunkSize);
  EXPECT_EQ(error_of(" 5\r\nhello\r\n"), ParseError::kBadChunkSize);
  EXPECT_EQ(error_of("5g\r\nhello\r\n"), ParseError::kBadChunkSize);
  EXPECT_EQ(status_code(ParseError::kBadChunkSize), 400);
}

TEST(ChunkedDecoder, AcceptsSixteenHexDigits) {
  constexpr std::string_view body = "0000000000000005\r\nhello\r\n0000000000000000\r\n\r\n";
  EXPECT_EQ(decode(body), (Decoded{"hello", done_at(body.size())}));
}

TEST(ChunkedDecoder, RejectsSeventeenHexDigits) {
  EXPECT_EQ(error_of("00000000000000005\r\nhello\r\n"), ParseError::kChunkSizeTooLong);
  EXPECT_EQ(error_of("10000000000000000\r\n"), ParseError::kChunkSizeTooLong);
  EXPECT_EQ(error_of("FFFFFFFFFFFFFFFFF\r\n"), ParseError::kChunkSizeTooLong);
  EXPECT_EQ(decode("FFFFFFFFFFFFFFFFFFFFFFFF\r\n").outcome, error_at(ParseError::kChunkSizeTooLong, 17));
  EXPECT_EQ(status_code(ParseError::kChunkSizeTooLong), 400);
}

TEST(ChunkedDecoder, RejectsLargestSizeAsTooLargeWithoutOverflow) {
  EXPECT_EQ(error_of("FFFFFFFFFFFFFFFF\r\n"), ParseError::kBodyTooLarge);
  ParserLimits unbounded;
  unbounded.max_body = UINT64_MAX;
  EXPECT_EQ(decode("FFFFFFFFFFFFFFFF\r\nabc", unbounded), (Decoded{"abc", "need-more"}));
}

// ---- framing ---------------------------------------------------------------------------------

TEST(ChunkedDecoder, RejectsBareLfAfterSize) {
  EXPECT_EQ(error_of("5\nhello\r\n0\r\n\r\n"), ParseError::kBareLf);
  EXPECT_EQ(error_of("5;ext\nhello\r\n0\r\n\r\n"), ParseError::kBareLf);
}

// A bare CR anywhere in the framing is an error at the byte after it: never held for more input.
TEST(ChunkedDecoder, RejectsBareCrAtTheByteAfterIt) {
  EXPECT_EQ(decode("5\rhello\r\n0\r\n\r\n").outcome, error_at(ParseError::kBareCr, 3));
  EXPECT_EQ(decode("5;a=b\rh").outcome, error_at(ParseError::kBareCr, 7));
  EXPECT_EQ(decode("5;a=\"b\"\r\r").outcome, error_at(ParseError::kBareCr, 9));
  EXPECT_EQ(decode("5\r\nhello\rX").outcome, error_at(ParseError::kBareCr, 10));
  EXPECT_EQ(decode("0\r\nX: 1\rY").outcome, error_at(ParseError::kBareCr, 9));
  EXPECT_EQ(decode("0\r\n\rX").outcome, error_at(ParseError::kBareCr, 5));
  EXPECT_EQ(decode("5\r").outcome, "need-more");  // the LF may still come
}

TEST(ChunkedDecoder, RejectsMissingCrlfAfterData) {
  EXPECT_EQ(decode("5\r\nhelloX\r\n0\r\n\r\n"),
            (Decoded{"hello", error_at(ParseError::kBadChunkFraming, 9)}));
  EXPECT_EQ(error_of("5\r\nhello world\r\n0\r\n\r\n"), ParseError::kBadChunkFraming);
  EXPECT_EQ(error_of("5\r\nhello\rX0\r\n\r\n"), ParseError::kBareCr);
  EXPECT_EQ(status_code(ParseError::kBadChunkFraming), 400);
}

TEST(ChunkedDecoder, RejectsBareLfAfterData) {
  EXPECT_EQ(error_of("5\r\nhello\n0\r\n\r\n"), ParseError::kBareLf);
}

TEST(ChunkedDecoder, RejectsBadFinalLine) {
  EXPECT_EQ(error_of("0\r\n\n"), ParseError::kBareLf);
  EXPECT_EQ(error_of("0\r\n\rX"), ParseError::kBareCr);
}

// ---- chunk extensions ------------------------------------------------------------------------

TEST(ChunkedDecoder, RejectsWhitespaceAfterSizeWithoutExtension) {
  EXPECT_EQ(error_of("5 \r\nhello\r\n0\r\n\r\n"), ParseError::kBadChunkExtension);
  EXPECT_EQ(error_of("5 x\r\nhello\r\n0\r\n\r\n"), ParseError::kBadChunkExtension);
}

TEST(ChunkedDecoder, RejectsControlCharacterInExtension) {
  EXPECT_EQ(error_of("5;a\x01\r\nhello\r\n0\r\n\r\n"), ParseError::kBadChunkExtension);
  EXPECT_EQ(error_of("5;a\0b\r\nhello\r\n0\r\n\r\n"s), ParseError::kBadChunkExtension);
  EXPECT_EQ(error_of("5;a\rb\r\nhello\r\n0\r\n\r\n"), ParseError::kBareCr);
  EXPECT_EQ(error_of("5;a=\"\x01\"\r\nhello\r\n0\r\n\r\n"), ParseError::kBadChunkExtension);
  EXPECT_EQ(error_of("5;a=\"\x7f\"\r\nhello\r\n0\r\n\r\n"), ParseError::kBadChunkExtension);
}

// RFC 9112 7.1.1: chunk-ext = *( BWS ";" BWS chunk-ext-name [ BWS "=" BWS chunk-ext-val ] ),
// chunk-ext-name = token, chunk-ext-val = token / quoted-string.
TEST(ChunkedDecoder, AcceptsExtensionsOfTheGrammar) {
  for (const std::string_view ext :
       {";a", ";a=b", ";a;b;c", ";a=b;c=d", " ;a", " \t; \ta \t= \tb", ";a=\"\"", ";a=\"b c;d=e\"",
        ";a=\"q\\\"uote\\\\\"", ";a=\"caf\xc3\xa9\t!\"", ";!#$%&'*+-.^_`|~09azAZ=!#$%&'*+-.^_`|~09azAZ",
        ";a=\"x\";b", ";a=\"x\" ;b", ";a ;b", ";a=b ;c", ";a=\"\\\xff\""}) {
    const std::string body = "5" + std::string(ext) + "\r\nhello\r\n0" + std::string(ext) + "\r\n\r\n";
    EXPECT_EQ(decode(body), (Decoded{"hello", done_at(body.size())})) << ext;
  }
}

TEST(ChunkedDecoder, RejectsExtensionsOutsideTheGrammar) {
  for (const std::string_view ext : {";",           ";;",
                                     ";;a",         ";=b",
                                     "; =b",        ";a=",
                                     ";a= ",        ";a=;b",
                                     ";bad[=x",     ";a[",
                                     ";a=b[",       ";a=b=c",
                                     ";a b",        ";a=b c",
                                     ";a=\"b\"c",   ";a=\"b",
                                     ";a=\"b\\",    ";a ",
                                     ";a=b ",       ";a=\"b\" ",
                                     ";a\"b\"",     ";a=\"b\"\"c\"",
                                     ";a@b",        ";a=b@c",
                                     ";a=\"b\r\"",  ";\xc3\xa9",
                                     ";a=\xc3\xa9", ",a",
                                     " ",           " a",
                                     " ;"}) {
    const std::string body = "5" + std::string(ext) + "\r\nhello\r\n0\r\n\r\n";
    const ParseError error = error_of(body);
    EXPECT_TRUE(error == ParseError::kBadChunkExtension || error == ParseError::kBadChunkSize) << ext;
    EXPECT_EQ(status_code(error), 400) << ext;
  }
  EXPECT_EQ(error_of("5;\r\nhello\r\n0\r\n\r\n"), ParseError::kBadChunkExtension);
  EXPECT_EQ(error_of("5;bad[=x\r\nhello\r\n0\r\n\r\n"), ParseError::kBadChunkExtension);
  EXPECT_EQ(error_of("5\r\nhello\r\n0;\r\n\r\n"), ParseError::kBadChunkExtension);  // the last chunk too
  EXPECT_EQ(error_of("5;a=\"b\nc\"\r\nhello\r\n"), ParseError::kBareLf);
}

TEST(ChunkedDecoder, AcceptsExtensionsExactlyAtTheLimit) {
  ParserLimits limits;
  limits.max_chunk_extensions = 10;
  EXPECT_EQ(error_of("1;123456789\r\na\r\n0\r\n\r\n", limits), ParseError::kNone);
  EXPECT_EQ(error_of("1;12345\r\na\r\n0;123\r\n\r\n", limits), ParseError::kNone);  // 6 + 4
  EXPECT_EQ(error_of("1 \t ;567890\r\na\r\n0\r\n\r\n", limits), ParseError::kNone);
}

TEST(ChunkedDecoder, RejectsExtensionsOnePastTheLimit) {
  ParserLimits limits;
  limits.max_chunk_extensions = 10;
  EXPECT_EQ(error_of("1;1234567890\r\na\r\n0\r\n\r\n", limits), ParseError::kChunkExtensionsTooLong);
  // Summed over the body: many small extensions count together.
  EXPECT_EQ(error_of("1;12345\r\na\r\n0;1234\r\n\r\n", limits), ParseError::kChunkExtensionsTooLong);
  EXPECT_EQ(error_of("1 \t ;5678901\r\na\r\n0\r\n\r\n", limits), ParseError::kChunkExtensionsTooLong);
  EXPECT_EQ(error_of("1" + std::string(11, ' ') + ";\r\n", limits), ParseError::kChunkExtensionsTooLong);
  EXPECT_EQ(error_of("1;" + std::string(5000, 'x') + "\r\n"), ParseError::kChunkExtensionsTooLong);
}

// ---- trailers --------------------------------------------------------------------------------

TEST(ChunkedDecoder, AcceptsTrailersExactlyAtTheLimit) {
  ParserLimits limits;
  limits.max_trailer_bytes = 10;
  EXPECT_EQ(error_of("0\r\nX: 12345\r\n\r\n", limits), ParseError::kNone);
  EXPECT_EQ(error_of("0\r\nA: 1\r\nB:\r\n\r\n", limits), ParseError::kNone);  // 6 + 4
}

TEST(ChunkedDecoder, RejectsTrailersOnePastTheLimitWith431) {
  ParserLimits limits;
  limits.max_trailer_bytes = 10;
  EXPECT_EQ(error_of("0\r\nX: 123456\r\n\r\n", limits), ParseError::kTrailersTooLarge);
  EXPECT_EQ(error_of("0\r\nA: 1\r\nB: \r\n\r\n", limits), ParseError::kTrailersTooLarge);
  EXPECT_EQ(error_of("0\r\nX: " + std::string(5000, 'v') + "\r\n\r\n"), ParseError::kTrailersTooLarge);
  EXPECT_EQ(status_code(ParseError::kTrailersTooLarge), 431);
}

TEST(ChunkedDecoder, ValidatesTrailerFieldsLikeHeaders) {
  EXPECT_EQ(error_of("0\r\nX : 1\r\n\r\n"), ParseError::kSpaceBeforeColon);
  EXPECT_EQ(error_of("0\r\n X: 1\r\n\r\n"), ParseError::kObsFold);
  EXPECT_EQ(error_of("0\r\nX: 1\r\n 2\r\n\r\n"), ParseError::kObsFold);
  EXPECT_EQ(error_of("0\r\n: 1\r\n\r\n"), ParseError::kEmptyFieldName);
  EXPECT_EQ(error_of("0\r\nX(: 1\r\n\r\n"), ParseError::kBadFieldName);
  EXPECT_EQ(error_of("0\r\nX\r\n\r\n"), ParseError::kBadFieldName);
  EXPECT_EQ(error_of("0\r\nX: a\x01\r\n\r\n"), ParseError::kBadFieldValue);
  EXPECT_EQ(error_of("0\r\nX: a\0\r\n\r\n"s), ParseError::kBadFieldValue);
  EXPECT_EQ(error_of("0\r\nX: a\rb\r\n\r\n"), ParseError::kBareCr);
  EXPECT_EQ(error_of("0\r\nX: 1\n\r\n"), ParseError::kBareLf);
}

// ---- body limit ------------------------------------------------------------------------------

TEST(ChunkedDecoder, AcceptsBodyExactlyAtTheLimit) {
  ParserLimits limits;
  limits.max_body = 10;
  constexpr std::string_view body = "4\r\n0123\r\n6\r\n456789\r\n0\r\n\r\n";
  EXPECT_EQ(decode(body, limits), (Decoded{"0123456789", done_at(body.size())}));
}

TEST(ChunkedDecoder, RejectsBodyOnePastTheLimitWith413BeforeTheData) {
  ParserLimits limits;
  limits.max_body = 10;
  EXPECT_EQ(error_of("b\r\n", limits), ParseError::kBodyTooLarge);  // no data needed
  EXPECT_EQ(decode("4\r\n0123\r\n7\r\n4567890\r\n0\r\n\r\n", limits),
            (Decoded{"0123", error_at(ParseError::kBodyTooLarge, 12)}));
  EXPECT_EQ(error_of("100001\r\n"), ParseError::kBodyTooLarge);  // default 1 MiB
  EXPECT_EQ(status_code(ParseError::kBodyTooLarge), 413);
}

// ---- split invariance ------------------------------------------------------------------------

TEST(ChunkedDecoder, IsSplitInvariantOnAFullBody) {
  const std::string body =
      "5;name=value;flag\r\nhello\r\n"
      "1 ; q=\"a b\"\r\n \r\n"
      "00005\r\nworld\r\n"
      "1A\r\nabcdefghijklmnopqrstuvwxyz\r\n"
      "0;last\r\nX-Checksum: abc\r\nX-Other:\t1\r\n\r\n"
      "GET /next HTTP/1.1\r\n";
  const Decoded d = decode(body);  // asserts every split and one byte at a time
  EXPECT_EQ(d.body, "hello worldabcdefghijklmnopqrstuvwxyz");
  EXPECT_EQ(d.outcome, done_at(body.find("GET /next")));
}

TEST(ChunkedDecoder, IsSplitInvariantOnErrors) {
  EXPECT_EQ(decode("5\r\nhello\r\n5\r\nworld\n").outcome, error_at(ParseError::kBareLf, 19));
  EXPECT_EQ(decode("3\r\nabc\r\n0\r\nX: 1\r\nY : 2\r\n\r\n").outcome,
            error_at(ParseError::kSpaceBeforeColon, 19));
}

}  // namespace
}  // namespace weft::http
