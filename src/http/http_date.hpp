#pragma once
/// \file
/// HTTP dates: IMF-fixdate formatting (RFC 9110 section 5.6.7) and the per-thread cached Date
/// field line the response writer puts in every response. Internal, not public API.
///
/// No locale, no time zone database, no allocation, no lock (glibc's gmtime_r takes the time zone
/// lock; the calendar arithmetic here does not).

#include <array>
#include <cstddef>
#include <ctime>
#include <string_view>

namespace weft::http {

/// Length of an IMF-fixdate: "Sun, 06 Nov 1994 08:49:37 GMT".
inline constexpr std::size_t kHttpDateSize = 29;

/// Latest time format_http_date can write: 9999-12-31 23:59:59 UTC (the year has four digits).
inline constexpr std::time_t kMaxHttpDate = 253'402'300'799;

/// `t` (seconds since the epoch, UTC) as an IMF-fixdate, e.g. 784111777 ->
/// "Sun, 06 Nov 1994 08:49:37 GMT". Not NUL-terminated. A `t` before 1970 is written as the epoch
/// and one after kMaxHttpDate as kMaxHttpDate. Any thread.
[[nodiscard]] std::array<char, kHttpDateSize> format_http_date(std::time_t t) noexcept;

/// The field line "Date: <IMF-fixdate of now>\r\n" from this thread's cache, formatted again only
/// when `now` is a different second from the cached one (so at most once per second for a clock
/// that moves forward). The view stays valid until this thread's next call with another second;
/// copy it before then. Any thread (each has its own cache).
[[nodiscard]] std::string_view date_line(std::time_t now) noexcept;

/// date_line(std::time(nullptr)): what the event loop calls for each response (std::time is a
/// vDSO call on Linux, no system call).
[[nodiscard]] std::string_view date_line() noexcept;

}  // namespace weft::http
