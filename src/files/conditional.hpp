#pragma once
/// \file
/// Validators and conditional requests for static files (RFC 9110 8.8 and 13): the strong ETag
/// weft generates, entity-tag list matching, and the precedence of RFC 9110 13.2.2. Internal,
/// not public API. Pure: no I/O, no lock; any thread.

#include <sys/stat.h>

#include <cstdint>
#include <ctime>
#include <optional>
#include <string>
#include <string_view>

namespace weft::files {

/// The current validators of the selected representation.
struct Validators {
  std::string_view etag;          ///< strong entity-tag with its quotes, e.g. "\"1a-4-17c...\""
  std::time_t last_modified = 0;  ///< seconds; never later than the response's Date
  /// RFC 8.8.2.2: the Last-Modified time is a strong validator only when the file has not been
  /// modified within the second it names (the mtime is at least 1 s before now). Used by If-Range.
  bool last_modified_strong = false;
};

/// The conditional fields of a request; each holds the field's value (several field lines
/// joined with ", ") or nullopt when absent.
struct Conditions {
  std::optional<std::string_view> if_match;
  std::optional<std::string_view> if_none_match;
  std::optional<std::string_view> if_modified_since;
  std::optional<std::string_view> if_unmodified_since;
};

/// What the preconditions decide.
enum class Precondition : std::uint8_t {
  kProceed,      ///< perform the method (then Range / If-Range)
  kNotModified,  ///< 304
  kFailed,       ///< 412
};

/// Evaluates `c` against `v` in the order of RFC 9110 13.2.2, for a representation that exists:
///  1. If-Match (strong comparison; "*" is true) false -> kFailed;
///  2. else If-Unmodified-Since (a valid HTTP-date) with last_modified later -> kFailed;
///  3. If-None-Match (weak comparison; "*" matches) matching -> kNotModified for GET/HEAD
///     (`get_or_head`), kFailed otherwise;
///  4. else, for GET/HEAD, If-Modified-Since (one valid HTTP-date) with last_modified earlier or
///     equal -> kNotModified;
///  5. kProceed.
/// An invalid date is ignored (the field counts as absent), as the RFC requires.
[[nodiscard]] Precondition evaluate_preconditions(const Conditions& c, const Validators& v, bool get_or_head);

/// RFC 9110 13.1.5: true when the If-Range value `if_range` matches: an entity-tag by strong
/// comparison, or an HTTP-date exactly equal to last_modified when that is strong. False for
/// anything else (a weak tag, a list, garbage): the Range is then ignored.
[[nodiscard]] bool if_range_holds(std::string_view if_range, const Validators& v);

/// True when the entity-tag list `list` ("*" or #entity-tag) holds `etag` (a strong tag with
/// quotes). `weak` selects the weak comparison (W/ ignored on both sides); strong comparison never
/// matches a W/ tag. "*" matches any etag. Parsing stops at the first malformed element.
[[nodiscard]] bool etag_list_matches(std::string_view list, std::string_view etag, bool weak);

/// The strong ETag of a file: "\"<inode>-<size>-<mtime in ns>\"" in lower-case hex, plus
/// "-<coding>" when `coding` (e.g. "br" for a precompressed variant) is not empty. Any change of
/// content through the file system changes size or mtime; a replaced file changes the inode.
[[nodiscard]] std::string make_etag(const struct stat& info, std::string_view coding = {});

}  // namespace weft::files
