#pragma once
/// \file
/// Parsing of HTTP-date (RFC 9110 5.6.7) for If-Modified-Since, If-Unmodified-Since and
/// If-Range. Internal, not public API. Pure: no locale, no time zone, no allocation; any thread.

#include <ctime>
#include <optional>
#include <string_view>

namespace weft::files {

/// Seconds since the epoch for an HTTP-date in any of the three forms a recipient MUST accept:
///   IMF-fixdate  "Sun, 06 Nov 1994 08:49:37 GMT"
///   rfc850-date  "Sunday, 06-Nov-94 08:49:37 GMT"  (two-digit year: 70-99 -> 19xx, else 20xx,
///                                                   RFC 9110's 50-year rule for 2020-2069)
///   asctime      "Sun Nov  6 08:49:37 1994"
/// The day name must be a valid name but is not checked against the date. nullopt for anything
/// else: a list ("a, b"), trailing bytes, an impossible date (Feb 30), a year before 1970.
[[nodiscard]] std::optional<std::time_t> parse_http_date(std::string_view text) noexcept;

}  // namespace weft::files
