#pragma once
/// \file
/// Directory listings: the entries of one directory and the two renderings (an HTML page and
/// JSON). Internal, not public API. Pure: no I/O; allocates the result; any thread (a listing
/// is built on a pool worker).
///
/// Every name is shown as text (HTML-escaped, invalid UTF-8 replaced by U+FFFD) and linked
/// percent-encoded byte for byte, so a name holding '<', '&', '"', '#', '%', '?', ':' or
/// spaces is displayed as it is and its link names exactly that file.

#include <cstdint>
#include <ctime>
#include <string>
#include <string_view>
#include <vector>

namespace weft::files {

struct ListingEntry {
  std::string name;  ///< the directory entry's name, raw bytes
  bool directory = false;
  std::uint64_t size = 0;  ///< files only
  std::time_t modified = 0;
};

struct Listing {
  std::string url_path;               ///< decoded URL path of the directory, ending in '/', e.g. "/docs/a b/"
  bool has_parent = false;            ///< the directory is below the mount point: link "../"
  std::vector<ListingEntry> entries;  ///< directories first, then by name (byte order)
  bool truncated = false;             ///< entries were cut at StaticOptions::max_listing_entries
};

/// Content types of the two renderings.
inline constexpr std::string_view kListingHtmlType = "text/html; charset=utf-8";
inline constexpr std::string_view kListingJsonType = "application/json";

/// A complete, self-contained HTML page: name, size (human units), modification time (UTC) in a
/// table sortable by clicking a column head (a few lines of inline script; `#sort=size-desc` in
/// the URL sorts on load), a parent link, breadcrumbs, light and dark colours
/// (prefers-color-scheme), a narrow-screen layout. No external asset.
[[nodiscard]] std::string render_listing_html(const Listing& listing);

/// {"path": url_path, "truncated": bool, "entries": [{"name", "href", "type": "file"|"directory",
///  "size", "mtime" (seconds since the epoch), "modified" (RFC 3339 UTC)}]}, valid UTF-8.
[[nodiscard]] std::string render_listing_json(const Listing& listing);

/// `text` with every invalid UTF-8 sequence (overlong forms, surrogates, code points above
/// U+10FFFF, truncated sequences) replaced by U+FFFD.
[[nodiscard]] std::string sanitize_utf8(std::string_view text);

/// "0 B", "999 B", "1.0 KiB", "12 KiB", "1.5 GiB": one decimal below 10 units, none above.
[[nodiscard]] std::string human_size(std::uint64_t bytes);

/// "2024-05-01 12:34" (UTC) and "2024-05-01T12:34:56Z" for `t`.
[[nodiscard]] std::string short_utc_time(std::time_t t);
[[nodiscard]] std::string rfc3339_utc_time(std::time_t t);

}  // namespace weft::files
