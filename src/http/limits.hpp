#pragma once
/// \file
/// Bounds of the HTTP/1.1 request parser and chunked decoder (internal, not public API).
///
/// Every field has a default and the anchor it came from; `weft::Config` fills a ParserLimits
/// from its run-time settings. Crossing a bound is a protocol error with the status named on the
/// field, and the connection closes afterwards.

#include <cstddef>
#include <cstdint>

namespace weft::http {

/// Capacity of RequestHead's header array (no heap). `ParserLimits::max_headers` is clamped to it.
/// Anchor: h2o, hyper and cpp-httplib all stop at 100 fields.
inline constexpr std::size_t kHeaderCapacity = 100;

/// A chunk size is a uint64_t, so at most 16 hex digits; a 17th digit (even a leading zero) is
/// rejected with 400 before it can overflow.
inline constexpr std::size_t kMaxChunkSizeDigits = 16;

struct ParserLimits {
  /// Request line, counted with its CRLF. Longer -> 414 (the target is what grows), unless the
  /// method token alone is already too long (-> 501, see max_method).
  /// Anchor: cpp-httplib 8 KiB; RFC 9112 section 3 asks to support at least 8000 octets.
  std::size_t max_request_line = std::size_t{8} * 1024;

  /// Method token. Longer -> 501 as soon as the (max_method + 1)th token byte arrives.
  /// Anchor: RFC 9112 section 3, "a method longer than any that it implements SHOULD [get] 501";
  /// the longest registered methods are 17 bytes.
  std::size_t max_method = 32;

  /// Field section: every field line with its CRLF plus the final empty line (the request line
  /// is not counted). Larger -> 431.
  /// Anchor: lighttpd 8 KiB, nginx 1 KiB + 4 x 8 KiB.
  std::size_t max_header_bytes = std::size_t{16} * 1024;

  /// Field lines. More -> 431. Clamped to kHeaderCapacity. Anchor: h2o, hyper, cpp-httplib.
  std::size_t max_headers = kHeaderCapacity;

  /// Empty lines (CRLF) skipped before the request line. More -> 400.
  /// Anchor: RFC 9112 section 2.2 asks to ignore "at least one"; some clients send a stray CRLF
  /// after a POST body.
  std::size_t max_leading_empty_lines = 8;

  /// Body bytes. A Content-Length above it -> 413 when the head completes; a chunked body -> 413
  /// from the decoder as soon as a chunk size would take the total above it.
  /// Anchor: nginx client_max_body_size 1m, Boost.Beast body_limit 1 MiB.
  std::uint64_t max_body = std::size_t{1024} * 1024;

  /// Chunk-extension bytes (from the ';' or BWS after a chunk size up to its CR), summed over one
  /// body so that many tiny chunks cannot each carry a large extension. More -> 400.
  /// Anchor: hyper caps the sum of chunk extensions per body (16 KiB); weft checks their grammar,
  /// then ignores them.
  std::size_t max_chunk_extensions = std::size_t{4} * 1024;

  /// Trailer section bytes: the field lines after the last chunk, with their CRLFs, not counting
  /// the final empty line. More -> 431. Anchor: weft discards trailers; 4 KiB is generous.
  std::size_t max_trailer_bytes = std::size_t{4} * 1024;
};

}  // namespace weft::http
