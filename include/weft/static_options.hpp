#pragma once
/// \file
/// weft::StaticOptions: how Server::static_dir serves one directory. A plain aggregate with safe
/// defaults (listing on, hidden files refused, symlinks kept inside the root, no Cache-Control);
/// Server::static_dir validates it and throws std::invalid_argument naming the bad field.
///
/// What a static directory always does, whatever the options (docs/DESIGN.md): GET and HEAD (OPTIONS
/// answers 204 with Allow, any other method 405 with `Allow: GET, HEAD, OPTIONS`); paths are
/// percent-decoded once, dot segments normalised, never above the root (400), and opened with
/// openat2(RESOLVE_BENEATH) relative to the root; strong ETag and Last-Modified with
/// If-Match / If-None-Match / If-Modified-Since / If-Unmodified-Since (RFC 9110 13.2.2) and
/// Range / If-Range (RFC 9110 14, at most 16 parts); Content-Type from the extension and
/// `X-Content-Type-Options: nosniff`; index.html for a directory, 301 to add its slash;
/// ROOT/404.html as the not-found page when it exists.

#include <chrono>
#include <cstddef>
#include <string>

namespace weft {

struct StaticOptions {
  /// A directory without index.html gets an HTML listing (or JSON for `Accept: application/json`
  /// or `?format=json`). Off: 403. The listing is built on a pool worker, not on a loop.
  bool listing = true;
  /// Serve names that start with '.' (and list them). Off: 404, except /.well-known/ (RFC 8615).
  bool hidden = false;
  /// Follow symlinks whose target lies outside the root. Off: such a link is 404 (and unlisted).
  bool follow_symlinks_outside = false;
  /// Value of Cache-Control on files (200, 206, 304); empty = none. No control characters.
  std::string cache_control;
  /// Single-page application: a GET for a missing path whose last segment has no '.' serves
  /// /index.html (status 200) instead of 404.
  bool spa = false;
  /// Serve f.br, f.zst or f.gz in place of f when the client accepts that coding (highest q,
  /// then br > zst > gz), with Content-Encoding and `Vary: Accept-Encoding`.
  bool precompressed = true;
  /// Open-file and metadata cache entries at most (each may hold one descriptor); 0 = no cache.
  /// Anchor: nginx `open_file_cache max=1000` in the usual tuning guides. Lowered at start to
  /// an eighth of RLIMIT_NOFILE so that the cache cannot starve connections of descriptors.
  std::size_t open_file_cache_entries = 1024;
  /// Cached entries are kept fresh by inotify on the directories on the way to them, for one
  /// cheap system call per request: an edited, replaced or deleted file, a renamed directory or
  /// a retargeted symlink is seen by the next request. Entries inotify cannot vouch for (a path
  /// through a symlink, a file with several hard links, a network or FUSE file system, more
  /// directories than cache entries, inotify unavailable) are checked with one fstatat when
  /// older than this; 0 (the default) checks them on every use, so that they too are seen by
  /// the next request. A larger value saves that fstatat on such trees, at nginx's price for
  /// `open_file_cache_valid` (60 s by default): within it, a file edited in place may be sent
  /// with its old length and validators.
  std::chrono::milliseconds revalidate_after{0};
  /// Entries shown in one listing at most (the rest is cut, and the page says so). Anchor:
  /// miniserve and static-web-server list everything; a bound keeps one request's work finite.
  std::size_t max_listing_entries = 10000;
};

}  // namespace weft
