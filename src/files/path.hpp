#pragma once
/// \file
/// Pure path handling for static directories: the request path (already percent-decoded once,
/// below the mount prefix) to a relative path that can only name something under the root, and
/// the reverse (a relative path to a safe URL). Internal, not public API. No I/O, no lock, no
/// exception but std::bad_alloc; any thread. The fuzz target fuzz_path drives normalize_path.

#include <cstdint>
#include <string>
#include <string_view>

namespace weft::files {

/// Whether names that start with '.' may be served.
enum class HiddenFiles : std::uint8_t {
  kRefuse,  ///< 404, except the segment ".well-known" (RFC 8615)
  kServe,
};

/// The result of normalize_path.
struct NormalizedPath {
  /// 200: `relative` names the target; 400: the path climbs above the root, does not start with
  /// '/', or holds a NUL byte; 404: a hidden segment (see HiddenFiles).
  int status = 400;
  /// 200 only: segments joined by '/', none empty, "." or "..", no leading or trailing '/';
  /// "." for the root itself. Never absolute, so openat(root, relative) stays below root as far
  /// as the path text goes (symlinks are the resolver's job).
  std::string relative;
  /// 200 only: the path ended in '/' or in a dot segment ("/a/.", "/a/b/.."): a directory is
  /// wanted as is; without it a directory gets a 301 to the slashed URL. False for "".
  bool trailing_slash = false;
};

/// Normalises `decoded`, the decoded request path below the mount prefix: "" (the mount point
/// itself, no slash) or a string starting with '/'. Empty and "." segments are dropped (so "//"
/// and "/./" collapse), ".." removes the previous segment and is a 400 when there is none
/// (RFC 3986 5.2.4 would clamp at the root; weft refuses, as nginx does). Every other byte is
/// an ordinary name byte: '\\', ';', '%', bytes >= 0x80 (overlong UTF-8 "\xC0\xAE" is not '.').
/// Linear in the input; the result is never longer than the input.
[[nodiscard]] NormalizedPath normalize_path(std::string_view decoded,
                                            HiddenFiles hidden = HiddenFiles::kRefuse);

/// `name` with every byte outside RFC 3986 unreserved (A-Z a-z 0-9 - . _ ~) as %XX (upper-case
/// hex): safe in an href, a Location or a JSON string, and never read as a scheme or authority.
[[nodiscard]] std::string percent_encode(std::string_view name);

/// `relative` (as NormalizedPath::relative) with each segment percent-encoded, '/' kept; "" for ".".
[[nodiscard]] std::string percent_encode_path(std::string_view relative);

}  // namespace weft::files
