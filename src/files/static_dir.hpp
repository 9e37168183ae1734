#pragma once
/// \file
/// StaticDir: the files under one directory, served at one URL prefix (Server::static_dir;
/// docs/DESIGN.md). Internal, not public API.
///
/// Safety: the path arrives percent-decoded once (NUL and bad escapes already refused with 400);
/// normalize_path removes dot segments and refuses to climb above the root (400) or to name a
/// hidden file (404, unless StaticOptions::hidden; /.well-known/ is served); the result is
/// opened relative to a descriptor of the root with openat2(RESOLVE_BENEATH |
/// RESOLVE_NO_MAGICLINKS), or, where the kernel lacks openat2, by the per-component walk of
/// beneath.hpp, so that no symlink and no concurrent rename leads outside the root (404).
///
/// Speed and freshness: resolutions are kept in an OpenFileCache (descriptor + fstat, or the
/// errno), so a hot file costs no open and no fstat. A cached entry must never outlive what its
/// path names: an answer with one version's length or ETag and another's bytes would be kept by
/// browsers and CDNs under that ETag, and an old version would be served after a deploy. So
/// inotify watches the directories on the way to every cached path (DirWatch), and each
/// request first applies the changes reported so far (one epoll_wait when there are none), which
/// drops the entries they concern: whatever changed before a request arrived is seen by it. A
/// path inotify cannot vouch for (through a symlink, a file with several links, a network file
/// system, out of watches) is checked with one fstatat on every use instead
/// (StaticOptions::revalidate_after). The prepared answer of a file lives in its entry and goes
/// with it.
///
/// Thread safety: after construction every const member may run on any thread at once (the
/// loops call serve(), pool workers call list()). Not movable: the listing handler refers to it.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "exchange/endpoint.hpp"
#include "files/dir_watch.hpp"
#include "files/open_file_cache.hpp"
#include "http/connection_host.hpp"
#include "http/parser.hpp"
#include "net/unique_fd.hpp"
#include "weft/reply.hpp"
#include "weft/request.hpp"
#include "weft/response.hpp"
#include "weft/static_options.hpp"

namespace weft::files {

/// How paths are opened; kAuto probes openat2 once, at construction.
enum class ResolveMode : std::uint8_t {
  kAuto,
  kOpenat2,     ///< openat2 (fails with ENOSYS where the kernel lacks it)
  kComponents,  ///< the per-component fallback, forced (tests)
};

/// Whether cached entries are kept fresh by inotify; kOff checks every entry on use, as when
/// inotify is unavailable (tests).
enum class Watching : std::uint8_t { kAuto, kOff };

class StaticDir {
 public:
  /// `prefix`: URL path it is mounted at ("/" or "/assets"); `directory`: the root. Throws
  /// std::invalid_argument when the directory cannot be opened (the message names it and says
  /// why) or `options` is invalid (cache_control with a control character, no listing entries).
  StaticDir(std::string prefix, const std::string& directory, StaticOptions options = {},
            ResolveMode mode = ResolveMode::kAuto, Watching watching = Watching::kAuto);
  StaticDir(const StaticDir&) = delete;
  StaticDir& operator=(const StaticDir&) = delete;
  ~StaticDir();

  /// The prefix without a trailing slash ("" for "/").
  [[nodiscard]] const std::string& prefix() const noexcept { return prefix_; }
  [[nodiscard]] const StaticOptions& options() const noexcept { return options_; }

  /// The Server field value of prepared answers (Config::server_name); set before serving.
  void set_server_name(std::string name) { server_name_ = std::move(name); }
  [[nodiscard]] const std::string& server_name() const noexcept { return server_name_; }
  /// True when `path` lies under the prefix (on a segment boundary), or is "*" (OPTIONS *).
  [[nodiscard]] bool covers(std::string_view path) const noexcept;
  /// Whether paths are opened with openat2 (else the per-component walk).
  [[nodiscard]] bool uses_openat2() const noexcept { return openat2_; }
  /// The cache, or null when StaticOptions::open_file_cache_entries is 0.
  [[nodiscard]] const OpenFileCache* cache() const noexcept { return cache_.get(); }
  /// The inotify watch keeping the cache fresh, or null (no cache, kOff, or inotify unavailable).
  [[nodiscard]] const DirWatch* watch() const noexcept { return watch_.get(); }

  struct Lookup {
    int status = 404;  ///< 200, 301 (add a slash), 400, 403 (no permission; no listing), 404, 503
    std::shared_ptr<const FileEntry> file;  ///< 200 unless `listing`: the open regular file
    std::string relative;                   ///< 200: the file's relative path (or the directory's)
    bool listing = false;                   ///< 200: a directory without index.html, to be listed
    std::string location;                   ///< 301: where to (prefix + encoded path + '/' [+ query])
  };

  /// Resolves decoded `path` (covered by the prefix). `query` (raw, without '?') is appended to
  /// a 301's Location.
  [[nodiscard]] Lookup lookup(std::string_view path, std::string_view query = {}) const;

  /// The entry for `relative` (a NormalizedPath::relative), from the cache when fresh.
  [[nodiscard]] std::shared_ptr<const FileEntry> open(const std::string& relative) const;

  /// How to answer `head` for decoded `path` (covered by the prefix): 200/206/304/412/416 for a
  /// file, 301, a listing (a handler route: built by list() on a pool worker), 204 for OPTIONS,
  /// 405, or errors; `not_found` (the server's 404 response) when ROOT/404.html does not exist.
  /// Loop threads, concurrently; never throws but std::bad_alloc.
  [[nodiscard]] http::Route serve(const http::RequestHead& head, std::string_view path,
                                  const Response& not_found) const;

  /// The listing of the directory `request` names (HTML, or JSON for `Accept: application/json`
  /// or `?format=json`); an error response when it is no longer a listable directory. Any thread.
  [[nodiscard]] Response list(const Request& request) const;

 private:
  std::string server_name_ = "weft";
  [[nodiscard]] std::shared_ptr<const FileEntry> resolve(const std::string& relative) const;
  [[nodiscard]] bool unchanged(const FileEntry& entry, const std::string& relative) const;
  void changed(std::optional<std::string_view> relative) const;  // DirWatch's report
  [[nodiscard]] http::Route not_found_route(const http::RequestHead& head, std::string_view path,
                                            const Response& not_found) const;

  std::string prefix_;  // without a trailing slash; "" for "/"
  StaticOptions options_;
  net::UniqueFd root_;
  bool openat2_ = true;
  std::unique_ptr<OpenFileCache> cache_;
  // Directory listings are built on a pool worker (a large directory takes a while to read).
  struct ListingEndpoint final : exchange::Endpoint {
    const StaticDir* dir = nullptr;
    void start(Request request, Reply reply) const noexcept override;
  };
  ListingEndpoint listing_endpoint_;
  std::unique_ptr<DirWatch> watch_;  // last: its thread, which uses cache_, stops first
};

}  // namespace weft::files
