#pragma once
// An independent, deliberately simple reading of a chunked body (RFC 9112 section 7.1) under
// weft's rules (src/http/chunked_decoder.hpp): CRLF only, at most 16 hex digits per size,
// extensions of field-value bytes after optional whitespace and a ';', trailers as `token ":"
// value` lines, the limits of ParserLimits. Used by fuzz_chunked to check that the decoder's end
// of body is exact and its body right.

#include <cstddef>
#include <string>
#include <string_view>

#include "http/limits.hpp"

namespace weft::fuzz {

struct ReferenceChunked {
  bool complete = false;  ///< a whole, acceptable chunked body starts at the first byte
  std::string why;        ///< when not complete: the first rule it broke (or "incomplete")
  std::size_t consumed = 0;
  std::string body;
};

[[nodiscard]] ReferenceChunked reference_chunked(std::string_view data, const http::ParserLimits& limits);

}  // namespace weft::fuzz
