#include "http/chunked_decoder.hpp"

#include <algorithm>
#include <cstring>

namespace weft::http {

namespace {

using detail::is_field_value_char;
using detail::is_ows;
using detail::is_tchar;

// The value of a hex digit, or -1.
[[nodiscard]] int hex_value(char c) noexcept {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

ChunkedDecoder::ChunkedDecoder(const ParserLimits& limits) noexcept
    : max_body_(limits.max_body),
      max_extensions_(limits.max_chunk_extensions),
      max_trailer_bytes_(limits.max_trailer_bytes) {}

void ChunkedDecoder::reset() noexcept {
  state_ = State::kSizeStart;
  error_ = ParseError::kNone;
  chunk_size_ = 0;
  size_digits_ = 0;
  chunk_left_ = 0;
  body_size_ = 0;
  extension_bytes_ = 0;
  trailer_bytes_ = 0;
}

ChunkedResult ChunkedDecoder::decode(std::string_view input) noexcept {
  if (state_ == State::kDone) return {ChunkedStatus::kDone, 0, {}, ParseError::kNone};
  if (state_ == State::kError) return {ChunkedStatus::kError, 0, {}, error_};
  std::size_t i = 0;
  while (i < input.size()) {
    if (state_ == State::kData) {
      // chunk_left_ > 0 here: a zero size never enters kData.
      const auto take = static_cast<std::size_t>(std::min<std::uint64_t>(chunk_left_, input.size() - i));
      chunk_left_ -= take;
      if (chunk_left_ == 0) state_ = State::kDataCr;
      return {ChunkedStatus::kData, i + take, input.substr(i, take), ParseError::kNone};
    }
    const ParseError error = step(input[i]);
    ++i;
    if (error != ParseError::kNone) {
      state_ = State::kError;
      error_ = error;
      return {ChunkedStatus::kError, i, {}, error};
    }
    if (state_ == State::kDone) return {ChunkedStatus::kDone, i, {}, ParseError::kNone};
  }
  return {ChunkedStatus::kNeedMore, i, {}, ParseError::kNone};
}

InPlaceResult ChunkedDecoder::decode_in_place(std::span<char> buffer) noexcept {
  std::size_t in = 0;
  std::size_t out = 0;
  while (true) {
    const ChunkedResult result = decode(std::string_view(buffer.data() + in, buffer.size() - in));
    in += result.consumed;
    if (result.status != ChunkedStatus::kData) return {result.status, out, in, result.error};
    // Data never lies before `out`: framing only ever shrinks the output.
    std::memmove(buffer.data() + out, result.data.data(), result.data.size());
    out += result.data.size();
  }
}

// One framing byte (never chunk data). Returns the error it causes, if any.
ParseError ChunkedDecoder::step(char c) noexcept {
  switch (state_) {
    case State::kSizeStart: {
      const int digit = hex_value(c);
      if (digit < 0) return ParseError::kBadChunkSize;
      chunk_size_ = static_cast<std::uint64_t>(digit);
      size_digits_ = 1;
      state_ = State::kSize;
      return ParseError::kNone;
    }
    case State::kSize: {
      const int digit = hex_value(c);
      if (digit >= 0) {
        // Bounding the digits bounds the value: 16 hex digits always fit in 64 bits.
        if (size_digits_ == kMaxChunkSizeDigits) return ParseError::kChunkSizeTooLong;
        chunk_size_ = (chunk_size_ << 4U) | static_cast<std::uint64_t>(digit);
        ++size_digits_;
        return ParseError::kNone;
      }
      if (c == '\r') {
        state_ = State::kSizeLf;
        return ParseError::kNone;
      }
      if (c == '\n') return ParseError::kBareLf;
      if (c == ';' || is_ows(c)) {
        if (++extension_bytes_ > max_extensions_) return ParseError::kChunkExtensionsTooLong;
        state_ = c == ';' ? State::kExtNameStart : State::kSizeWs;
        return ParseError::kNone;
      }
      return ParseError::kBadChunkSize;
    }
    case State::kSizeWs:
    case State::kExtNameStart:
    case State::kExtName:
    case State::kExtNameWs:
    case State::kExtValueStart:
    case State::kExtToken:
    case State::kExtQuoted:
    case State::kExtQuotedPair:
    case State::kExtQuotedEnd:
      return step_extension(c);
    case State::kSizeLf:
      if (c != '\n') return ParseError::kBareCr;
      if (chunk_size_ == 0) {
        state_ = State::kTrailerStart;
        return ParseError::kNone;
      }
      // Invariant: body_size_ <= max_body_, so the subtraction cannot wrap.
      if (chunk_size_ > max_body_ - body_size_) return ParseError::kBodyTooLarge;
      body_size_ += chunk_size_;
      chunk_left_ = chunk_size_;
      chunk_size_ = 0;
      size_digits_ = 0;
      state_ = State::kData;
      return ParseError::kNone;
    case State::kDataCr:
      if (c == '\r') {
        state_ = State::kDataLf;
        return ParseError::kNone;
      }
      return c == '\n' ? ParseError::kBareLf : ParseError::kBadChunkFraming;
    case State::kDataLf:
      if (c != '\n') return ParseError::kBareCr;
      state_ = State::kSizeStart;
      return ParseError::kNone;
    case State::kTrailerStart:
      if (c == '\r') {
        state_ = State::kFinalLf;
        return ParseError::kNone;
      }
      if (c == '\n') return ParseError::kBareLf;
      if (++trailer_bytes_ > max_trailer_bytes_) return ParseError::kTrailersTooLarge;
      if (is_ows(c)) return ParseError::kObsFold;
      if (c == ':') return ParseError::kEmptyFieldName;
      if (!is_tchar(c)) return ParseError::kBadFieldName;
      state_ = State::kTrailerName;
      return ParseError::kNone;
    case State::kTrailerName:
      if (++trailer_bytes_ > max_trailer_bytes_) return ParseError::kTrailersTooLarge;
      if (is_tchar(c)) return ParseError::kNone;
      if (c == ':') {
        state_ = State::kTrailerValue;
        return ParseError::kNone;
      }
      return is_ows(c) ? ParseError::kSpaceBeforeColon : ParseError::kBadFieldName;
    case State::kTrailerValue:
      if (++trailer_bytes_ > max_trailer_bytes_) return ParseError::kTrailersTooLarge;
      if (c == '\r') {
        state_ = State::kTrailerLf;
        return ParseError::kNone;
      }
      if (c == '\n') return ParseError::kBareLf;
      return is_field_value_char(c) ? ParseError::kNone : ParseError::kBadFieldValue;
    case State::kTrailerLf:
      if (++trailer_bytes_ > max_trailer_bytes_) return ParseError::kTrailersTooLarge;
      if (c != '\n') return ParseError::kBareCr;
      state_ = State::kTrailerStart;
      return ParseError::kNone;
    case State::kFinalLf:
      if (c != '\n') return ParseError::kBareCr;
      state_ = State::kDone;
      return ParseError::kNone;
    case State::kData:
    case State::kDone:
    case State::kError:
      break;  // decode() never steps in these states
  }
  return ParseError::kNone;
}

// One byte of the chunk extensions after a size (RFC 9112 7.1.1):
//   chunk-ext = *( BWS ";" BWS chunk-ext-name [ BWS "=" BWS chunk-ext-val ] )
//   chunk-ext-name = token; chunk-ext-val = token / quoted-string
// weft ignores extensions, but not their syntax: a size line that parses here but that another
// reader would end elsewhere, or read another size from, is how a smuggled request hides. Every
// byte but the CR that ends the line counts towards max_chunk_extensions.
ParseError ChunkedDecoder::step_extension(char c) noexcept {
  if (c == '\n') return ParseError::kBareLf;
  if (c == '\r') {
    // The line may end after a whole name or value, not after ';', '=' or BWS.
    if (state_ != State::kExtName && state_ != State::kExtToken && state_ != State::kExtQuotedEnd) {
      return ParseError::kBadChunkExtension;
    }
    state_ = State::kSizeLf;
    return ParseError::kNone;
  }
  if (++extension_bytes_ > max_extensions_) return ParseError::kChunkExtensionsTooLong;
  switch (state_) {
    case State::kExtNameStart:
      if (is_tchar(c)) {
        state_ = State::kExtName;
      } else if (!is_ows(c)) {
        return ParseError::kBadChunkExtension;  // e.g. an empty name: ";;" or ";="
      }
      return ParseError::kNone;
    case State::kExtName:
      return is_tchar(c) ? ParseError::kNone : after_extension_part(c, true);
    case State::kExtNameWs:
      return after_extension_part(c, true);
    case State::kExtValueStart:
      if (c == '"') {
        state_ = State::kExtQuoted;
      } else if (is_tchar(c)) {
        state_ = State::kExtToken;
      } else if (!is_ows(c)) {
        return ParseError::kBadChunkExtension;
      }
      return ParseError::kNone;
    case State::kExtToken:
      return is_tchar(c) ? ParseError::kNone : after_extension_part(c, false);
    case State::kExtQuoted:
      // qdtext = HTAB / SP / VCHAR but '"' and '\' / obs-text
      if (c == '"') {
        state_ = State::kExtQuotedEnd;
      } else if (c == '\\') {
        state_ = State::kExtQuotedPair;
      } else if (!is_field_value_char(c)) {
        return ParseError::kBadChunkExtension;
      }
      return ParseError::kNone;
    case State::kExtQuotedPair:
      // quoted-pair = "\" ( HTAB / SP / VCHAR / obs-text )
      if (!is_field_value_char(c)) return ParseError::kBadChunkExtension;
      state_ = State::kExtQuoted;
      return ParseError::kNone;
    case State::kSizeWs:
    case State::kExtQuotedEnd:
      return after_extension_part(c, false);
    default:
      break;  // step() only calls this in the states above
  }
  return ParseError::kBadChunkExtension;
}

// The byte after a size, a name or a value: BWS, then ';' for the next extension, or '=' for a
// value when `value_may_follow` (after a name).
ParseError ChunkedDecoder::after_extension_part(char c, bool value_may_follow) noexcept {
  if (is_ows(c)) {
    state_ = value_may_follow ? State::kExtNameWs : State::kSizeWs;
  } else if (c == ';') {
    state_ = State::kExtNameStart;
  } else if (c == '=' && value_may_follow) {
    state_ = State::kExtValueStart;
  } else {
    return ParseError::kBadChunkExtension;
  }
  return ParseError::kNone;
}

}  // namespace weft::http
