#pragma once
// A parse result as text, for comparing two results (fuzz_parser's split invariance, the
// parser's unit tests): every field of the head, with each view given as its position in the
// buffer, so two results over copies of the same bytes describe equal only if they point at
// the same places.

#include <string>
#include <string_view>

#include "http/parser.hpp"

namespace weft::fuzz {

/// Where `view` lies: "@offset+size" inside `buffer`, the quoted text otherwise (static storage),
/// "null" for a view that points nowhere.
[[nodiscard]] std::string where(std::string_view view, std::string_view buffer);

/// Everything `result` says: status, consumed, error code and reason, or the whole head.
[[nodiscard]] std::string describe(const http::ParseResult& result, std::string_view buffer);

}  // namespace weft::fuzz
