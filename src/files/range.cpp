#include "files/range.hpp"

#include <algorithm>
#include <limits>
#include <optional>

namespace weft::files {
namespace {

constexpr std::uint64_t kInfinite = std::numeric_limits<std::uint64_t>::max();

bool is_ows(char c) noexcept { return c == ' ' || c == '\t'; }
bool is_digit(char c) noexcept { return c >= '0' && c <= '9'; }

std::string_view trim(std::string_view s) noexcept {
  while (!s.empty() && is_ows(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_ows(s.back())) s.remove_suffix(1);
  return s;
}

// 1*DIGIT, saturating at kInfinite (RFC 9110 14.1.2: anticipate large numerals). nullopt when
// empty or not all digits.
std::optional<std::uint64_t> parse_number(std::string_view s) noexcept {
  if (s.empty()) return std::nullopt;
  std::uint64_t value = 0;
  for (const char c : s) {
    if (!is_digit(c)) return std::nullopt;
    const auto digit = static_cast<std::uint64_t>(c - '0');
    value = value > (kInfinite - digit) / 10 ? kInfinite : value * 10 + digit;
  }
  return value;
}

struct Spec {
  std::uint64_t first = 0;
  std::uint64_t last = 0;  // inclusive
  std::size_t order = 0;   // position in the request
};

}  // namespace

RangeRequest parse_range(std::string_view header, std::uint64_t file_size) {
  RangeRequest result;
  header = trim(header);
  const std::size_t eq = header.find('=');
  if (eq == std::string_view::npos) return result;
  const std::string_view unit = trim(header.substr(0, eq));
  if (unit.size() != 5) return result;
  for (std::size_t i = 0; i < unit.size(); ++i) {
    if ((unit[i] | 0x20) != "bytes"[i]) return result;
  }
  if (file_size == 0) return result;

  std::vector<Spec> specs;
  bool any_spec = false;
  std::string_view rest = header.substr(eq + 1);
  while (true) {
    const std::size_t comma = rest.find(',');
    const std::string_view item = trim(rest.substr(0, comma));
    if (!item.empty()) {
      any_spec = true;
      const std::size_t dash = item.find('-');
      if (dash == std::string_view::npos) return result;
      const std::string_view left = item.substr(0, dash);
      const std::string_view right = item.substr(dash + 1);
      if (left.empty()) {  // suffix-range
        const auto n = parse_number(right);
        if (!n) return result;
        if (*n > 0) {
          const std::uint64_t take = std::min(*n, file_size);
          specs.push_back({file_size - take, file_size - 1, specs.size()});
        }
      } else {
        const auto first = parse_number(left);
        if (!first) return result;
        std::uint64_t last = kInfinite;
        if (!right.empty()) {
          const auto l = parse_number(right);
          if (!l || *l < *first) return result;  // invalid range-spec: the whole field is invalid
          last = *l;
        }
        if (*first < file_size) specs.push_back({*first, std::min(last, file_size - 1), specs.size()});
      }
    }
    if (comma == std::string_view::npos) break;
    rest.remove_prefix(comma + 1);
  }
  if (!any_spec) return result;  // "bytes=" or "bytes=,": an empty range-set is invalid
  if (specs.empty()) {
    result.outcome = RangeRequest::Outcome::kUnsatisfiable;
    return result;
  }

  // Coalesce: sort by offset, merge what overlaps or is closer than kCoalesceGap; each merged
  // part remembers the earliest request position among its members.
  std::vector<Spec> by_offset = specs;
  std::sort(by_offset.begin(), by_offset.end(),
            [](const Spec& a, const Spec& b) { return a.first < b.first; });
  std::vector<Spec> merged;
  for (const Spec& s : by_offset) {
    if (!merged.empty()) {
      Spec& back = merged.back();
      const std::uint64_t reach =
          back.last > kInfinite - kCoalesceGap - 1 ? kInfinite : back.last + kCoalesceGap + 1;
      if (s.first <= reach) {
        back.last = std::max(back.last, s.last);
        back.order = std::min(back.order, s.order);
        continue;
      }
    }
    merged.push_back(s);
  }
  if (merged.size() > kMaxRangeParts) return result;
  std::sort(merged.begin(), merged.end(), [](const Spec& a, const Spec& b) { return a.order < b.order; });
  result.outcome = RangeRequest::Outcome::kPartial;
  result.ranges.reserve(merged.size());
  for (const Spec& s : merged) result.ranges.push_back({s.first, s.last - s.first + 1});
  return result;
}

}  // namespace weft::files
