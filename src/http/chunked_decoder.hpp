#pragma once
/// \file
/// Incremental decoder of the chunked transfer coding (RFC 9112 section 7.1) of a request body.
/// Internal, not public API.
///
/// Pure: no I/O, no allocation, no exceptions. A byte-level state machine, so the body may be
/// split anywhere over calls and every byte is looked at once. Chunk extensions are held to
/// their grammar (RFC 9112 7.1.1:
/// `*( BWS ";" BWS token [ BWS "=" BWS ( token / quoted-string ) ] )`), bounded and ignored;
/// trailer fields are validated like header fields (token name, colon without whitespace before
/// it, no CTL but HTAB in the value, no obs-fold), bounded and discarded. Framing lines end in
/// CRLF only: a bare LF is a 400, and so is a bare CR, as soon as the byte after it arrives.
/// Every error means: answer with status_code(error) and close the connection.

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "http/limits.hpp"
#include "http/parser.hpp"

namespace weft::http {

enum class ChunkedStatus : std::uint8_t {
  kNeedMore,  ///< every input byte was consumed; call again with the next bytes
  kData,      ///< `data` holds body bytes; call again with the input after `consumed`
  kDone,      ///< the body ended; the next request starts at input[consumed]
  kError,     ///< see error; close the connection after answering
};

struct ChunkedResult {
  ChunkedStatus status = ChunkedStatus::kNeedMore;
  /// Input bytes used by this call (framing and data); for kDone, the body ends exactly here.
  std::size_t consumed = 0;
  /// kData: body bytes, a non-empty view into the input that ends at input[consumed].
  std::string_view data;
  ParseError error = ParseError::kNone;  ///< kError: why
};

struct InPlaceResult {
  ChunkedStatus status = ChunkedStatus::kNeedMore;  ///< kNeedMore, kDone or kError; never kData
  std::size_t decoded = 0;                          ///< body bytes now at buffer[0, decoded)
  std::size_t consumed = 0;  ///< input bytes used; for kDone the body ends at buffer[consumed]
  ParseError error = ParseError::kNone;
};

/// Decodes one chunked body (loop thread; one per connection, reset() between bodies).
class ChunkedDecoder {
 public:
  /// Uses max_body, max_chunk_extensions and max_trailer_bytes of `limits`.
  explicit ChunkedDecoder(const ParserLimits& limits = {}) noexcept;

  /// Decodes from `input`, the bytes that follow what earlier calls consumed.
  ///
  /// Stops at the first of: the end of a run of chunk data (kData, zero-copy view into input),
  /// the end of the body (kDone, consumed = exact end of the body, never beyond), an error
  /// (kError), or the end of input (kNeedMore, consumed == input.size()). The caller keeps
  /// calling with input.substr(consumed) while it gets kData. Any split of the body over calls
  /// gives the same data, the same end and the same error. After kDone or kError further calls
  /// return the same status with consumed == 0, until reset().
  /// Errors: 400 for bad size, extension or framing (kMaxChunkSizeDigits hex digits at most),
  /// 413 when a chunk size would take the body over max_body (before its data arrives), 431 for
  /// trailers over max_trailer_bytes.
  [[nodiscard]] ChunkedResult decode(std::string_view input) noexcept;

  /// decode() in a loop that moves the data of `buffer` down to its front, over the framing
  /// (the model of picohttpparser's phr_decode_chunked). Returns the status, how many body bytes
  /// are now at buffer[0, decoded) and how many input bytes were used. On kNeedMore all input was
  /// used: keep buffer[0, decoded), append new bytes right after it and call again on the new
  /// bytes only.
  [[nodiscard]] InPlaceResult decode_in_place(std::span<char> buffer) noexcept;

  /// Prepares for a new body.
  void reset() noexcept;

  /// Body bytes announced by the chunk sizes so far (for the done body: its decoded length).
  [[nodiscard]] std::uint64_t body_size() const noexcept { return body_size_; }

 private:
  enum class State : std::uint8_t {
    kSizeStart,      // first hex digit of a chunk size
    kSize,           // more hex digits, ';', BWS or CR
    kSizeWs,         // BWS that must lead to ';' (after the size, or after a value)
    kExtNameStart,   // after ';': BWS, then the first byte of the name
    kExtName,        // more of the name, BWS, '=', ';' or CR
    kExtNameWs,      // BWS after a name: more BWS, '=' or ';'
    kExtValueStart,  // after '=': BWS, then a token or a quoted-string
    kExtToken,       // more of a token value, BWS, ';' or CR
    kExtQuoted,      // inside a quoted-string value
    kExtQuotedPair,  // the byte after a '\' in a quoted-string
    kExtQuotedEnd,   // after the closing quote: BWS, ';' or CR
    kSizeLf,         // LF after the size line
    kData,           // chunk data, chunk_left_ bytes to go
    kDataCr,         // CR after chunk data
    kDataLf,         // LF after chunk data
    kTrailerStart,   // start of a trailer field line, or CR of the final empty line
    kTrailerName,    // field name, until ':'
    kTrailerValue,   // field value, until CR
    kTrailerLf,      // LF after a trailer field line
    kFinalLf,        // LF of the final empty line
    kDone,
    kError,
  };

  [[nodiscard]] ParseError step(char c) noexcept;
  [[nodiscard]] ParseError step_extension(char c) noexcept;
  [[nodiscard]] ParseError after_extension_part(char c, bool value_may_follow) noexcept;

  std::uint64_t max_body_;
  std::size_t max_extensions_;
  std::size_t max_trailer_bytes_;

  State state_ = State::kSizeStart;
  ParseError error_ = ParseError::kNone;
  std::uint64_t chunk_size_ = 0;  // the size being read
  std::size_t size_digits_ = 0;
  std::uint64_t chunk_left_ = 0;  // data bytes left in the current chunk
  std::uint64_t body_size_ = 0;
  std::size_t extension_bytes_ = 0;  // over the whole body
  std::size_t trailer_bytes_ = 0;
};

}  // namespace weft::http
