#pragma once
/// \file
/// The Range request field for bytes (RFC 9110 14.1-14.2): parsing, satisfiability, coalescing.
/// Internal, not public API. Pure: no I/O, no lock; allocates only the result; any thread. The
/// fuzz target fuzz_range drives parse_range.

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

namespace weft::files {

/// Parts of a multipart/byteranges answer at most; more (after coalescing) -> the whole file.
/// Anchor: the limit; nginx has max_ranges (unlimited by default), Apache
/// MaxRanges 200. Few legitimate clients ask for more than a handful.
inline constexpr std::size_t kMaxRangeParts = 16;

/// Ranges closer than this many bytes are merged into one part: a part's own header (boundary,
/// Content-Type, Content-Range) costs about this much, so sending the gap is cheaper (RFC 9110
/// 14.6 allows it). It also turns "0-0,2-2,4-4,..." into one part.
inline constexpr std::uint64_t kCoalesceGap = 80;

/// `length` bytes from offset `first` (length >= 1).
struct ByteRange {
  std::uint64_t first = 0;
  std::uint64_t length = 0;
  friend bool operator==(const ByteRange&, const ByteRange&) = default;
};

/// What to do with a Range field.
struct RangeRequest {
  enum class Outcome : std::uint8_t {
    kIgnore,         ///< send the whole representation (200): see parse_range
    kPartial,        ///< 206 with `ranges`
    kUnsatisfiable,  ///< 416 with `Content-Range: bytes */<size>`
  };
  Outcome outcome = Outcome::kIgnore;
  /// kPartial only: 1..kMaxRangeParts ranges, each within [0, size), none overlapping or closer
  /// than kCoalesceGap to another, in the order their first range-spec was requested (RFC 9110
  /// 15.3.7.2). One range -> a plain 206; several -> multipart/byteranges.
  std::vector<ByteRange> ranges;
};

/// Evaluates the value of a Range field (`header`, without the name) against a representation
/// of `file_size` bytes.
///  * kIgnore when the unit is not "bytes" (case-insensitive), when the value is not a valid
///    ranges-specifier (any invalid range-spec, e.g. "5-1", "x-", "1-2-3", an empty set),
///    when file_size is 0 (RFC 9110 14.2: MAY ignore), or when more than kMaxRangeParts parts
///    remain after coalescing.
///  * kUnsatisfiable when valid but no range-spec is satisfiable (every first-pos >= file_size,
///    every suffix-length 0).
///  * kPartial otherwise: "a-b" (b clamped to file_size-1), "a-" (to the end), "-n" (the last
///    n bytes, the whole file when n >= file_size). Numbers of any length are accepted
///    without overflow (a huge last-pos is the end; a huge first-pos is unsatisfiable).
/// OWS around commas and empty list elements are allowed (RFC 9110 5.6.1). Linear in the input
/// plus n log n for n range-specs.
[[nodiscard]] RangeRequest parse_range(std::string_view header, std::uint64_t file_size);

}  // namespace weft::files
