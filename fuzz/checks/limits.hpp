#pragma once
// The "small limits" profile of the fuzz checks (flag bit 2 of input.hpp): every bound of the
// parser and decoder within reach of a short input, so the fuzzer reaches the 413/414/431/501
// paths and their edges as easily as the syntax paths.

#include "http/limits.hpp"

namespace weft::fuzz {

[[nodiscard]] inline http::ParserLimits small_limits() noexcept {
  http::ParserLimits l;
  l.max_request_line = 48;
  l.max_method = 7;
  l.max_header_bytes = 96;
  l.max_headers = 4;
  l.max_leading_empty_lines = 1;
  l.max_body = 64;
  l.max_chunk_extensions = 12;
  l.max_trailer_bytes = 24;
  return l;
}

}  // namespace weft::fuzz
