#pragma once
/// \file
/// Percent-decoding of request-target components (RFC 3986 section 2.1). Internal, not public API.
///
/// Two flavours, because the two callers want different failure behaviour:
///  * decode_path is strict: the server routes on its result, so an ambiguous path is refused
///    (the caller answers 400) rather than guessed at.
///  * decode_query_component is lenient, as the WHATWG application/x-www-form-urlencoded parser
///    that browsers use: a malformed escape is kept as it is, '+' means space. A handler asking
///    for a query parameter gets the best reading of it, never an error.
/// Both decode exactly once: "%252F" becomes "%2F", not "/".
/// Pure functions: any thread; they allocate only the returned string.

#include <optional>
#include <string>
#include <string_view>

namespace weft::core {

/// Decodes every %XX escape (hex digits in either case) of the raw path `raw` once.
/// "%2F" becomes '/' (the router then sees a segment boundary there; weft does not keep an
/// encoded slash apart from a literal one). '+' stays '+' (it means space only in queries).
/// Returns std::nullopt, for a 400, when an escape is malformed ("%G1", a '%' with fewer than two
/// characters after it) or when the result would hold a NUL byte ("%00" or a raw NUL).
[[nodiscard]] std::optional<std::string> decode_path(std::string_view raw);

/// False when `raw` holds neither '%' nor NUL: then decode_path(raw) would be `raw` itself, and
/// the caller can use it as it is, without a copy.
[[nodiscard]] bool needs_decoding(std::string_view raw) noexcept;

/// Decodes one name or value of a query string ("a+b%21" -> "a b!"): '+' becomes a space, a valid
/// %XX escape becomes its byte (%00 included), anything else (a '%' not followed by two hex
/// digits) is copied unchanged. Never fails.
[[nodiscard]] std::string decode_query_component(std::string_view raw);

}  // namespace weft::core
