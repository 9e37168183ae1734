#pragma once
// An independent, deliberately simple reading of a request head under weft's strict rules of
// issue 3 (RFC 9112 with the choices listed in src/http/parser.hpp): split on CRLF, look at each
// line whole. It knows nothing of the parser's incremental state machine, so when both accept a
// head they must agree on where it ends and on its framing. It checks framing and syntax only (not
// Host or target details, nor the method list), so it may accept what the parser rightly rejects;
// the converse is the bug fuzz_parser looks for.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "http/limits.hpp"

namespace weft::fuzz {

struct ReferenceHead {
  bool complete = false;  ///< a whole, acceptable head starts at the first byte
  std::string why;        ///< when not complete: the first rule it broke (or "incomplete")
  std::size_t consumed = 0;
  std::size_t header_count = 0;
  int version_minor = 1;
  std::optional<std::uint64_t> content_length;
  bool chunked = false;
  bool keep_alive = true;
  bool expect_continue = false;
};

[[nodiscard]] ReferenceHead reference_head(std::string_view data, const http::ParserLimits& limits);

}  // namespace weft::fuzz
