// fuzz_range's invariants (see checks.hpp). Input: flags bit 0 set -> the file size is the
// 16-bit seed (small sizes, where clamping and coalescing happen); else the first 8 data bytes
// (little-endian) are the size. The rest is the Range field value.
#include <sys/mman.h>

#include <algorithm>
#include <cstring>
#include <limits>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "checks.hpp"
#include "files/multipart.hpp"
#include "files/range.hpp"
#include "input.hpp"

namespace weft::fuzz {
namespace {

using files::ByteRange;
using files::RangeRequest;

constexpr std::uint64_t kMax = std::numeric_limits<std::uint64_t>::max();

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}
std::optional<std::uint64_t> number(std::string_view s) {  // saturating, like RFC 9110 14.1.2 asks
  if (s.empty()) return std::nullopt;
  std::uint64_t v = 0;
  for (const char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    const auto d = static_cast<std::uint64_t>(c - '0');
    v = v > (kMax - d) / 10 ? kMax : v * 10 + d;
  }
  return v;
}

struct Requested {
  std::uint64_t first = 0;
  std::uint64_t last = 0;  // inclusive
  std::size_t order = 0;
};

// RFC 9110 14.1.1 ranges-specifier = range-unit "=" range-set, read plainly (weft also allows OWS
// around the '=' and the whole value). kIgnore for anything invalid; the satisfiable specs.
struct Reading {
  RangeRequest::Outcome outcome = RangeRequest::Outcome::kIgnore;
  std::vector<Requested> specs;
};
Reading read(std::string_view value, std::uint64_t size) {
  Reading r;
  value = trim(value);
  const std::size_t eq = value.find('=');
  if (eq == std::string_view::npos) return r;
  std::string unit(trim(value.substr(0, eq)));
  std::transform(unit.begin(), unit.end(), unit.begin(),
                 [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c; });
  if (unit != "bytes" || size == 0) return r;
  std::string_view set = value.substr(eq + 1);
  std::size_t elements = 0;
  std::size_t order = 0;
  for (;;) {
    const std::size_t comma = set.find(',');
    const std::string_view e = trim(set.substr(0, comma));
    if (!e.empty()) {
      ++elements;
      const std::size_t dash = e.find('-');
      if (dash == std::string_view::npos) return {};
      const auto a = number(e.substr(0, dash));
      const auto b = number(e.substr(dash + 1));
      if (dash == 0) {  // suffix-range
        if (!b) return {};
        if (*b > 0) r.specs.push_back({size - std::min(*b, size), size - 1, order});
      } else {
        if (!a || (dash + 1 < e.size() && (!b || *b < *a))) return {};
        if (*a < size)
          r.specs.push_back({*a, dash + 1 < e.size() ? std::min(*b, size - 1) : size - 1, order});
      }
      ++order;
    }
    if (comma == std::string_view::npos) break;
    set.remove_prefix(comma + 1);
  }
  if (elements == 0) return {};
  r.outcome = r.specs.empty() ? RangeRequest::Outcome::kUnsatisfiable : RangeRequest::Outcome::kPartial;
  return r;
}

// Parts left when every two specs with at most kCoalesceGap bytes between them are merged.
std::size_t merged_parts(std::vector<Requested> specs) {
  std::sort(specs.begin(), specs.end(),
            [](const Requested& x, const Requested& y) { return x.first < y.first; });
  std::size_t parts = 0;
  std::uint64_t reach = 0;  // the last offset that still joins the current part
  for (const Requested& s : specs) {
    const std::uint64_t end =
        s.last > kMax - files::kCoalesceGap - 1 ? kMax : s.last + files::kCoalesceGap + 1;
    if (parts == 0 || s.first > reach) {
      ++parts;
      reach = end;
    } else {
      reach = std::max(reach, end);
    }
  }
  return parts;
}

std::shared_ptr<const net::UniqueFd> dummy_file() {
  static const auto file =
      std::make_shared<const net::UniqueFd>(::memfd_create("weft-fuzz-range", MFD_CLOEXEC));
  return file;
}

Failure check_multipart(const std::vector<ByteRange>& ranges, std::uint64_t size) {
  const std::string boundary = files::make_boundary();
  const std::vector<http::BodyPart> parts =
      files::multipart_body(dummy_file(), ranges, size, "text/plain", boundary);
  if (parts.size() != ranges.size() * 2 + 1) return "multipart: " + std::to_string(parts.size()) + " parts";
  for (std::size_t i = 0; i < ranges.size(); ++i) {
    const http::BodyPart& head = parts[2 * i];
    const http::BodyPart& data = parts[2 * i + 1];
    const ByteRange& r = ranges[i];
    const std::string expected = "\r\n--" + boundary +
                                 "\r\nContent-Type: text/plain\r\nContent-Range: bytes " +
                                 std::to_string(r.first) + "-" + std::to_string(r.first + r.length - 1) +
                                 "/" + std::to_string(size) + "\r\n\r\n";
    if (head.file || head.bytes != expected) return "multipart: part head " + std::to_string(i);
    if (!data.file || data.offset != r.first || data.length != r.length || data.size() != r.length) {
      return "multipart: part data " + std::to_string(i);
    }
  }
  if (parts.back().file || parts.back().bytes != "\r\n--" + boundary + "--\r\n")
    return "multipart: closing boundary";
  return std::nullopt;
}

}  // namespace

Failure check_range(Bytes bytes) {
  const Input in = Input::from(bytes);
  std::string_view value = in.data;
  std::uint64_t size = in.seed;
  if (!in.flag(0)) {
    size = 0;
    const std::size_t n = std::min<std::size_t>(8, value.size());
    std::memcpy(&size, value.data(), n);
    value.remove_prefix(n);
  }
  const RangeRequest result = files::parse_range(value, size);
  const Reading ref = read(value, size);

  if (result.outcome != RangeRequest::Outcome::kPartial && !result.ranges.empty())
    return "ranges without kPartial";
  if (ref.outcome != result.outcome) {
    // The one allowed difference: too many parts after coalescing -> the whole file.
    const bool too_many = ref.outcome == RangeRequest::Outcome::kPartial &&
                          result.outcome == RangeRequest::Outcome::kIgnore &&
                          merged_parts(ref.specs) > files::kMaxRangeParts;
    if (!too_many) {
      return "outcome " + std::to_string(static_cast<int>(result.outcome)) + ", the grammar says " +
             std::to_string(static_cast<int>(ref.outcome));
    }
  }
  if (result.outcome != RangeRequest::Outcome::kPartial) return std::nullopt;

  const std::vector<ByteRange>& ranges = result.ranges;
  if (ranges.empty() || ranges.size() > files::kMaxRangeParts)
    return std::to_string(ranges.size()) + " parts";
  for (const ByteRange& r : ranges) {
    if (r.length == 0 || r.first >= size || r.length > size - r.first) return "a range outside the file";
  }
  std::vector<ByteRange> sorted = ranges;
  std::sort(sorted.begin(), sorted.end(),
            [](const ByteRange& a, const ByteRange& b) { return a.first < b.first; });
  for (std::size_t i = 1; i < sorted.size(); ++i) {
    const std::uint64_t prev_end = sorted[i - 1].first + sorted[i - 1].length;  // one past
    if (sorted[i].first < prev_end + files::kCoalesceGap)
      return "two ranges overlap or are closer than kCoalesceGap";
  }
  // Every satisfiable spec is covered by one range; every range starts and ends on a spec's
  // edge; ranges come in the order of their earliest spec.
  std::vector<std::size_t> earliest(ranges.size(), SIZE_MAX);
  for (const Requested& s : ref.specs) {
    bool covered = false;
    for (std::size_t i = 0; i < ranges.size(); ++i) {
      if (s.first >= ranges[i].first && s.last <= ranges[i].first + ranges[i].length - 1) {
        covered = true;
        earliest[i] = std::min(earliest[i], s.order);
      }
    }
    if (!covered) return "a requested range is not sent";
  }
  for (std::size_t i = 0; i < ranges.size(); ++i) {
    const std::uint64_t last = ranges[i].first + ranges[i].length - 1;
    const bool starts = std::any_of(ref.specs.begin(), ref.specs.end(),
                                    [&](const Requested& s) { return s.first == ranges[i].first; });
    const bool ends =
        std::any_of(ref.specs.begin(), ref.specs.end(), [&](const Requested& s) { return s.last == last; });
    if (!starts || !ends) return "a range that no spec starts or ends";
    if (i > 0 && earliest[i] < earliest[i - 1]) return "ranges not in request order";
  }
  return check_multipart(ranges, size);
}

}  // namespace weft::fuzz
