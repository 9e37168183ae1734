#include "files/static_dir.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <stdexcept>
#include <system_error>
#include <vector>

#include "core/mime.hpp"
#include "files/beneath.hpp"
#include "files/fast_response.hpp"
#include "files/file_response.hpp"
#include "files/listing.hpp"
#include "files/negotiate.hpp"
#include "files/open_file.hpp"
#include "files/path.hpp"
#include "http/error_page.hpp"
#include "net/read_epoch.hpp"

namespace weft::files {
namespace {

constexpr std::string_view kIndex = "index.html";
constexpr std::string_view kNotFoundPage = "404.html";
constexpr std::string_view kAllow = "GET, HEAD, OPTIONS";
// The cache may use at most this fraction of the descriptor limit; connections need the rest.
constexpr rlim_t kCacheShareOfDescriptors = 8;

std::int64_t steady_ns() noexcept {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

std::string child(const std::string& relative, std::string_view name) {
  if (relative == ".") return std::string(name);
  std::string out = relative;
  out.push_back('/');
  out.append(name);
  return out;
}

Response error_response(int status, std::string_view detail) {
  Response r = Response::html(status, http::error_page(status, detail));
  add_nosniff(r);
  return r;
}

std::string_view detail_for(int status) noexcept {
  switch (status) {
    case 400:
      return "the path leads above the served directory";
    case 403:
      return "forbidden";
    case 503:
      return "the server is out of file descriptors; retry shortly";
    default:
      return "nothing here";
  }
}

std::size_t cache_capacity(std::size_t wanted) noexcept {
  rlimit lim{};
  if (::getrlimit(RLIMIT_NOFILE, &lim) != 0 || lim.rlim_max == RLIM_INFINITY) return wanted;
  // The server raises the soft limit to the hard one at start; size for that.
  return std::min<std::size_t>(wanted, static_cast<std::size_t>(lim.rlim_max / kCacheShareOfDescriptors));
}

}  // namespace

StaticDir::StaticDir(std::string prefix, const std::string& directory, StaticOptions options,
                     ResolveMode mode, Watching watching)
    : prefix_(std::move(prefix)), options_(std::move(options)) {
  while (!prefix_.empty() && prefix_.back() == '/') prefix_.pop_back();
  if (!prefix_.empty() && prefix_.front() != '/') {
    throw std::invalid_argument("static prefix must start with '/': " + prefix_);
  }
  for (const char c : options_.cache_control) {
    if ((static_cast<unsigned char>(c) < 0x20 && c != '\t') || c == 0x7f) {
      throw std::invalid_argument("StaticOptions::cache_control holds a control character");
    }
  }
  if (options_.max_listing_entries == 0) {
    throw std::invalid_argument("StaticOptions::max_listing_entries must be > 0");
  }
  if (options_.revalidate_after.count() < 0) {
    throw std::invalid_argument("StaticOptions::revalidate_after must be >= 0");
  }
  root_.reset(::open(directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!root_) {
    throw std::invalid_argument("cannot serve '" + directory + "': " + std::system_category().message(errno));
  }
  switch (mode) {
    case ResolveMode::kAuto:
      openat2_ = openat2_available(root_.get());
      break;
    case ResolveMode::kOpenat2:
      openat2_ = true;
      break;
    case ResolveMode::kComponents:
      openat2_ = false;
      break;
  }
  const std::size_t capacity = cache_capacity(options_.open_file_cache_entries);
  if (capacity > 0) cache_ = std::make_unique<OpenFileCache>(capacity);
  listing_endpoint_.dir = this;
  if (cache_ && watching == Watching::kAuto) {
    // A cached path needs its directories watched, so there are never more directories worth
    // watching than entries.
    watch_ = std::make_unique<DirWatch>(
        root_.get(), capacity, [this](std::optional<std::string_view> relative) { changed(relative); });
    if (!watch_->active()) watch_.reset();
  }
}

StaticDir::~StaticDir() = default;

bool StaticDir::covers(std::string_view path) const noexcept {
  if (path == "*") return true;
  if (prefix_.empty()) return true;
  if (path.substr(0, prefix_.size()) != prefix_) return false;
  return path.size() == prefix_.size() || path[prefix_.size()] == '/';
}

std::shared_ptr<const FileEntry> StaticDir::resolve(const std::string& relative) const {
  // Generation first, then the watches, then the resolution: a change after the watches exist
  // is reported, and a report after the generation was read keeps a stale result out.
  const std::uint64_t since = cache_ ? cache_->generation() : 0;
  const bool covered = watch_ && watch_->watch_path(relative);
  const Symlinks symlinks = options_.follow_symlinks_outside ? Symlinks::kFollowAnywhere : Symlinks::kBeneath;
  Opened opened = openat2_ ? open_beneath_openat2(root_.get(), relative, symlinks)
                           : open_beneath_by_components(root_.get(), relative, symlinks);
  auto entry = std::make_shared<FileEntry>();
  entry->error = opened.error;
  if (entry->error == 0 && ::fstat(opened.fd.get(), &entry->info) != 0) entry->error = errno;
  if (entry->error == 0 && S_ISREG(entry->info.st_mode)) {
    entry->file = std::make_shared<const net::UniqueFd>(std::move(opened.fd));
  }
  // Not watched, so checked on use: a path through a symlink (its target may change in any
  // directory), and a file with other names (written through one of them, in a directory that
  // need not be watched, it sends no event here).
  entry->watched = covered && !opened.via_symlink &&
                   (entry->error != 0 || !S_ISREG(entry->info.st_mode) || entry->info.st_nlink <= 1);
  entry->checked_ns.store(steady_ns(), std::memory_order_relaxed);
  if (cache_) {
    if (entry->watched) {
      (void)cache_->store_if_current(relative, entry, since);  // else: served once, not kept
    } else {
      cache_->store(relative, entry);
    }
  }
  return entry;
}

bool StaticDir::unchanged(const FileEntry& entry, const std::string& relative) const {
  // One fstatat, following symlinks freely: it only detects change. A path that now leads
  // elsewhere shows another inode and is resolved again, safely.
  struct stat now {};
  const int rc = ::fstatat(root_.get(), relative.c_str(), &now, 0);
  if (entry.error != 0) return rc != 0 && errno == entry.error;
  return rc == 0 && entry.same_as(now);
}

std::shared_ptr<const FileEntry> StaticDir::open(const std::string& relative) const {
  if (cache_) {
    if (auto cached = cache_->find(relative)) {
      if (cached->watched) return cached;  // dropped by changed() when its path changes
      const std::int64_t now = steady_ns();
      const std::int64_t age = now - cached->checked_ns.load(std::memory_order_relaxed);
      if (age < std::chrono::nanoseconds(options_.revalidate_after).count()) return cached;
      if (unchanged(*cached, relative)) {
        cached->checked_ns.store(now, std::memory_order_relaxed);
        return cached;
      }
    }
  }
  return resolve(relative);
}

void StaticDir::changed(std::optional<std::string_view> relative) const {
  if (!relative) {
    cache_->invalidate_all();
    return;
  }
  cache_->invalidate(*relative);
  // A precompressed sibling appearing or going changes the answer for the file itself (its
  // Vary field, the variants it offers), and that answer may be prepared.
  for (const Coding c : {Coding::kBrotli, Coding::kZstd, Coding::kGzip}) {
    const std::string_view suffix = coding_suffix(c);
    if (relative->size() > suffix.size() && relative->ends_with(suffix)) {
      cache_->invalidate(relative->substr(0, relative->size() - suffix.size()));
    }
  }
}

StaticDir::Lookup StaticDir::lookup(std::string_view path, std::string_view query) const {
  // Every change completed before the request arrived is applied to the cache first: once per
  // read of an event-loop thread (the requests of one read arrived together), else every time.
  if (watch_) {
    thread_local const StaticDir* checked_dir = nullptr;
    thread_local std::uint64_t checked_epoch = 0;
    const std::uint64_t epoch = net::read_epoch;
    if (epoch == 0 || checked_dir != this || checked_epoch != epoch) {
      watch_->catch_up();
      checked_dir = this;
      checked_epoch = epoch;
    }
  }
  Lookup result;
  if (path.size() < prefix_.size()) return result;
  const NormalizedPath norm = normalize_path(path.substr(prefix_.size()),
                                             options_.hidden ? HiddenFiles::kServe : HiddenFiles::kRefuse);
  if (norm.status != 200) {
    result.status = norm.status;
    return result;
  }
  std::shared_ptr<const FileEntry> entry = open(norm.relative);
  if (entry->error != 0) {
    result.status = status_for_errno(entry->error);
    return result;
  }
  if (S_ISREG(entry->info.st_mode)) {
    result.status = 200;
    result.file = std::move(entry);
    result.relative = norm.relative;
    return result;
  }
  if (!S_ISDIR(entry->info.st_mode)) return result;  // devices, FIFOs, sockets: 404

  if (!norm.trailing_slash) {
    // Built from the normalised path, never from the request's bytes, so it is always a
    // single-slash absolute path ("//host" cannot appear: no open redirect).
    result.status = 301;
    result.location = prefix_ + "/" + percent_encode_path(norm.relative);
    if (norm.relative != ".") result.location.push_back('/');
    if (!query.empty()) {
      result.location.push_back('?');
      result.location.append(query);
    }
    return result;
  }
  std::string index_path = child(norm.relative, kIndex);
  std::shared_ptr<const FileEntry> index = open(index_path);
  if (index->error == 0 && S_ISREG(index->info.st_mode)) {
    result.status = 200;
    result.file = std::move(index);
    result.relative = std::move(index_path);
    return result;
  }
  result.status = options_.listing ? 200 : 403;
  result.listing = options_.listing;
  result.relative = norm.relative;
  return result;
}

http::Route StaticDir::serve(const http::RequestHead& head, std::string_view path,
                             const Response& not_found) const {
  http::Route route;
  if (head.method == http::Method::kOptions) {
    route.response = Response(204);
    route.response.set_header("Allow", kAllow);
    add_nosniff(route.response);
    return route;
  }
  if (head.method != http::Method::kGet && head.method != http::Method::kHead) {
    route.response = error_response(405, "files can only be read");
    route.response.set_header("Allow", kAllow);
    return route;
  }
  Lookup found = lookup(path, head.query);
  switch (found.status) {
    case 200:
      if (found.listing) {
        route.kind = http::Route::Kind::kHandle;
        route.endpoint = &listing_endpoint_;
        return route;
      }
      if (const FastResponse* fast = fast_response(*this, found.relative, *found.file);
          fast != nullptr && is_plain_request(head, fast->has_variants)) {
        route.prepared = &fast->prepared;
        if (!fast->body_in_memory) route.body.push_back(fast->file_part);
        route.owner = std::move(found.file);  // keeps `prepared` alive until it is queued
        return route;
      }
      return file_response(*this, head, found.relative, std::move(found.file));
    case 301:
      route.response = Response::redirect(301, found.location);
      add_nosniff(route.response);
      return route;
    case 404:
      return not_found_route(head, path, not_found);
    default:
      route.response = error_response(found.status, detail_for(found.status));
      return route;
  }
}

http::Route StaticDir::not_found_route(const http::RequestHead& head, std::string_view path,
                                       const Response& not_found) const {
  if (options_.spa) {
    const std::string_view last = path.substr(path.rfind('/') + 1);
    if (last.find('.') == std::string_view::npos) {
      auto index = open(std::string(kIndex));
      if (index->error == 0 && S_ISREG(index->info.st_mode)) {
        return file_response(*this, head, std::string(kIndex), std::move(index));
      }
    }
  }
  auto page = open(std::string(kNotFoundPage));
  if (page->error == 0 && S_ISREG(page->info.st_mode)) {
    return plain_file_response(404, core::mime_type_for(kNotFoundPage), page);
  }
  http::Route route;
  route.response = not_found;  // a copy, to carry nosniff like every static response
  add_nosniff(route.response);
  return route;
}

Response StaticDir::list(const Request& request) const {
  const Lookup found = lookup(request.path(), request.query());
  if (found.status == 301) return Response::redirect(301, found.location);
  if (found.status != 200 || !found.listing) {
    // The directory changed between routing and now (an index appeared, it went away).
    const int status = found.status == 200 ? 409 : found.status;
    return error_response(status, status == 409 ? "the directory changed; reload" : detail_for(status));
  }
  const Symlinks symlinks = options_.follow_symlinks_outside ? Symlinks::kFollowAnywhere : Symlinks::kBeneath;
  Opened opened = openat2_ ? open_beneath_openat2(root_.get(), found.relative, symlinks)
                           : open_beneath_by_components(root_.get(), found.relative, symlinks);
  if (opened.error != 0) return error_response(status_for_errno(opened.error), "cannot read the directory");
  const std::unique_ptr<DIR, int (*)(DIR*)> dir(::fdopendir(opened.fd.get()), &::closedir);
  if (!dir) return error_response(status_for_errno(errno), "cannot read the directory");
  (void)opened.fd.release();  // the DIR owns it now

  Listing listing;
  listing.url_path = std::string(request.path());
  listing.has_parent = found.relative != ".";
  // readdir is safe here: this DIR stream belongs to this call alone.
  while (const dirent* ent = ::readdir(dir.get())) {  // NOLINT(concurrency-mt-unsafe)
    const std::string_view name = ent->d_name;
    if (name == "." || name == "..") continue;
    if (name.front() == '.' && !options_.hidden && name != ".well-known") continue;
    struct stat info {};
    if (::fstatat(::dirfd(dir.get()), ent->d_name, &info, AT_SYMLINK_NOFOLLOW) != 0) continue;
    if (S_ISLNK(info.st_mode)) {
      // Show a link as what a request for it would get, and not at all when that is a 404
      // (it leads outside the root, or nowhere).
      const auto target = open(child(found.relative, name));
      if (target->error != 0) continue;
      info = target->info;
    }
    if (!S_ISREG(info.st_mode) && !S_ISDIR(info.st_mode)) continue;
    if (listing.entries.size() >= options_.max_listing_entries) {
      listing.truncated = true;
      break;
    }
    listing.entries.push_back(ListingEntry{std::string(name), S_ISDIR(info.st_mode),
                                           static_cast<std::uint64_t>(info.st_size), info.st_mtim.tv_sec});
  }
  std::sort(listing.entries.begin(), listing.entries.end(), [](const ListingEntry& a, const ListingEntry& b) {
    if (a.directory != b.directory) return a.directory;
    return a.name < b.name;
  });

  const auto format = request.query_param("format");
  const auto accept = request.header("Accept");
  const bool json = (format && *format == "json") || (accept && prefers_json(*accept));
  Response response = json ? Response::bytes(200, render_listing_json(listing), kListingJsonType)
                           : Response::bytes(200, render_listing_html(listing), kListingHtmlType);
  response.set_header("Vary", "Accept");
  response.set_header("Cache-Control", "no-cache");
  add_nosniff(response);
  return response;
}

void StaticDir::ListingEndpoint::start(Request request, Reply reply) const noexcept {
  try {
    reply.send(dir->list(request));
  } catch (...) {
    // Reply's destructor answers 500 and logs.
  }
}

}  // namespace weft::files
