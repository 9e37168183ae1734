#include "http/http_date.hpp"

#include <algorithm>
#include <cstdint>
#include <limits>

namespace weft::http {

namespace {

constexpr std::int64_t kSecondsPerDay = 86'400;
constexpr std::string_view kDayNames = "SunMonTueWedThuFriSat";
constexpr std::string_view kMonthNames = "JanFebMarAprMayJunJulAugSepOctNovDec";
constexpr std::string_view kDatePrefix = "Date: ";
constexpr std::string_view kCrlf = "\r\n";

struct CivilDate {
  std::int64_t year;
  unsigned month;  // 1-12
  unsigned day;    // 1-31
};

// Howard Hinnant's days_from_civil inverse ("chrono-Compatible Low-Level Date Algorithms"):
// proleptic Gregorian calendar, eras of 400 years starting on 1 March so that the leap day is the
// last day of a year. `days` counts from 1970-01-01 and is >= 0 here.
[[nodiscard]] constexpr CivilDate civil_from_days(std::int64_t days) noexcept {
  days += 719'468;  // shift the epoch to 0000-03-01
  const std::int64_t era = days / 146'097;
  const std::int64_t doe = days - era * 146'097;                                     // [0, 146096]
  const std::int64_t yoe = (doe - doe / 1460 + doe / 36'524 - doe / 146'096) / 365;  // [0, 399]
  const std::int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);                  // [0, 365]
  const std::int64_t mp = (5 * doy + 2) / 153;                                       // [0, 11], March = 0
  const auto day = static_cast<unsigned>(doy - (153 * mp + 2) / 5 + 1);
  const auto month = static_cast<unsigned>(mp < 10 ? mp + 3 : mp - 9);
  return {yoe + era * 400 + (month <= 2 ? 1 : 0), month, day};
}

void put2(char* out, std::int64_t value) noexcept {
  out[0] = static_cast<char>('0' + value / 10);
  out[1] = static_cast<char>('0' + value % 10);
}

struct DateCache {
  std::time_t second = std::numeric_limits<std::time_t>::min();  // no second is cached yet
  std::array<char, kDatePrefix.size() + kHttpDateSize + kCrlf.size()> line{};
};

thread_local DateCache t_date_cache;

}  // namespace

std::array<char, kHttpDateSize> format_http_date(std::time_t t) noexcept {
  const std::int64_t seconds = std::clamp<std::int64_t>(t, 0, kMaxHttpDate);
  const std::int64_t days = seconds / kSecondsPerDay;
  const std::int64_t second_of_day = seconds % kSecondsPerDay;
  const CivilDate date = civil_from_days(days);
  const auto weekday = static_cast<std::size_t>((days + 4) % 7);  // 1970-01-01 was a Thursday

  // "Sun, 06 Nov 1994 08:49:37 GMT"
  //  0    5  8   12   17 20 23 26
  std::array<char, kHttpDateSize> out{};
  char* p = out.data();
  kDayNames.copy(p, 3, weekday * 3);
  p[3] = ',';
  p[4] = ' ';
  put2(p + 5, date.day);
  p[7] = ' ';
  kMonthNames.copy(p + 8, 3, static_cast<std::size_t>(date.month - 1) * 3);
  p[11] = ' ';
  put2(p + 12, date.year / 100);
  put2(p + 14, date.year % 100);
  p[16] = ' ';
  put2(p + 17, second_of_day / 3600);
  p[19] = ':';
  put2(p + 20, second_of_day / 60 % 60);
  p[22] = ':';
  put2(p + 23, second_of_day % 60);
  std::string_view(" GMT").copy(p + 25, 4);
  return out;
}

std::string_view date_line(std::time_t now) noexcept {
  DateCache& cache = t_date_cache;
  if (cache.second != now) {
    const auto date = format_http_date(now);
    char* p = cache.line.data();
    p += kDatePrefix.copy(p, kDatePrefix.size());
    p = std::copy(date.begin(), date.end(), p);
    kCrlf.copy(p, kCrlf.size());
    cache.second = now;
  }
  return {cache.line.data(), cache.line.size()};
}

std::string_view date_line() noexcept { return date_line(std::time(nullptr)); }

}  // namespace weft::http
