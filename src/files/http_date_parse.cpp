#include "files/http_date_parse.hpp"

#include <array>
#include <chrono>
#include <cstdint>

namespace weft::files {
namespace {

constexpr std::array<std::string_view, 7> kDays{"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"};
constexpr std::array<std::string_view, 7> kLongDays{"Monday", "Tuesday",  "Wednesday", "Thursday",
                                                    "Friday", "Saturday", "Sunday"};
constexpr std::array<std::string_view, 12> kMonths{"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                   "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

// A cursor over the text; every take_* consumes on success only.
class Cursor {
 public:
  explicit Cursor(std::string_view text) noexcept : s_(text) {}
  [[nodiscard]] bool done() const noexcept { return s_.empty(); }
  bool take(std::string_view lit) noexcept {
    if (s_.substr(0, lit.size()) != lit) return false;
    s_.remove_prefix(lit.size());
    return true;
  }
  // Exactly `n` digits.
  bool digits(std::size_t n, int& out) noexcept {
    if (s_.size() < n) return false;
    int v = 0;
    for (std::size_t i = 0; i < n; ++i) {
      if (s_[i] < '0' || s_[i] > '9') return false;
      v = v * 10 + (s_[i] - '0');
    }
    out = v;
    s_.remove_prefix(n);
    return true;
  }
  template <std::size_t N>
  bool one_of(const std::array<std::string_view, N>& names, int& index) noexcept {
    for (std::size_t i = 0; i < N; ++i) {
      if (take(names[i])) {
        index = static_cast<int>(i);
        return true;
      }
    }
    return false;
  }

 private:
  std::string_view s_;
};

// The parts of a date as parsed; month is 0-based, weekday is checked for its name only.
struct Fields {
  int weekday = 0;
  int day = 0;
  int month = 0;
  int year = 0;
  int hour = 0;
  int minute = 0;
  int second = 0;
};

bool time_of_day(Cursor& c, Fields& f) noexcept {
  return c.digits(2, f.hour) && c.take(":") && c.digits(2, f.minute) && c.take(":") &&
         c.digits(2, f.second) && f.hour < 24 && f.minute < 60 &&
         f.second < 61;  // 60: a leap second, read as the next second
}

std::optional<std::time_t> to_time(const Fields& f) noexcept {
  if (f.year < 1970) return std::nullopt;
  using namespace std::chrono;
  const year_month_day ymd{std::chrono::year{f.year}, std::chrono::month{static_cast<unsigned>(f.month + 1)},
                           std::chrono::day{static_cast<unsigned>(f.day)}};
  if (!ymd.ok()) return std::nullopt;
  const auto days = static_cast<std::time_t>(sys_days(ymd).time_since_epoch().count());
  return days * 86400 + static_cast<std::time_t>(f.hour) * 3600 + static_cast<std::time_t>(f.minute) * 60 +
         f.second;
}

std::optional<std::time_t> imf_fixdate(std::string_view text) noexcept {
  Cursor c(text);
  Fields f;
  if (!(c.one_of(kDays, f.weekday) && c.take(", ") && c.digits(2, f.day) && c.take(" ") &&
        c.one_of(kMonths, f.month) && c.take(" ") && c.digits(4, f.year) && c.take(" ") &&
        time_of_day(c, f) && c.take(" GMT") && c.done())) {
    return std::nullopt;
  }
  return to_time(f);
}

std::optional<std::time_t> rfc850_date(std::string_view text) noexcept {
  Cursor c(text);
  Fields f;
  if (!(c.one_of(kLongDays, f.weekday) && c.take(", ") && c.digits(2, f.day) && c.take("-") &&
        c.one_of(kMonths, f.month) && c.take("-") && c.digits(2, f.year) && c.take(" ") &&
        time_of_day(c, f) && c.take(" GMT") && c.done())) {
    return std::nullopt;
  }
  // RFC 9110 5.6.7: a two-digit year more than 50 years in the future is in the past century.
  // With "now" in this century, 70-99 -> 19xx and 00-69 -> 20xx is that rule for 2020-2069.
  f.year += f.year >= 70 ? 1900 : 2000;
  return to_time(f);
}

std::optional<std::time_t> asctime_date(std::string_view text) noexcept {
  Cursor c(text);
  Fields f;
  if (!(c.one_of(kDays, f.weekday) && c.take(" ") && c.one_of(kMonths, f.month) && c.take(" ")))
    return std::nullopt;
  if (!(c.take(" ") ? c.digits(1, f.day) : c.digits(2, f.day))) return std::nullopt;
  if (!(c.take(" ") && time_of_day(c, f) && c.take(" ") && c.digits(4, f.year) && c.done())) {
    return std::nullopt;
  }
  return to_time(f);
}

}  // namespace

std::optional<std::time_t> parse_http_date(std::string_view text) noexcept {
  if (auto t = imf_fixdate(text)) return t;
  if (auto t = rfc850_date(text)) return t;
  return asctime_date(text);
}

}  // namespace weft::files
