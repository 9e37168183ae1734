#include "files/static_dir.hpp"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <vector>

namespace weft::files {
namespace {

constexpr std::string_view kIndex = "index.html";

int open_beneath(int dir, const std::string& relative) {
  open_how how{};
  // O_NONBLOCK: opening a FIFO someone left in the tree must not block a loop.
  how.flags = O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK;
  how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
  return static_cast<int>(::syscall(SYS_openat2, dir, relative.c_str(), &how, sizeof how));
}

int status_for_errno(int err) {
  switch (err) {
    case EACCES:
    case EPERM:
      return 403;
    default:
      return 404;  // ENOENT, ENOTDIR, EXDEV (escapes the root), ELOOP, ...
  }
}

}  // namespace

StaticDir::StaticDir(std::string prefix, const std::string& directory) : prefix_(std::move(prefix)) {
  while (!prefix_.empty() && prefix_.back() == '/') prefix_.pop_back();
  if (!prefix_.empty() && prefix_.front() != '/') {
    throw std::invalid_argument("static prefix must start with '/': " + prefix_);
  }
  root_.reset(::open(directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!root_) {
    throw std::invalid_argument("cannot serve '" + directory + "': " + std::strerror(errno));
  }
}

bool StaticDir::covers(std::string_view path) const noexcept {
  if (prefix_.empty()) return true;
  if (path.substr(0, prefix_.size()) != prefix_) return false;
  return path.size() == prefix_.size() || path[prefix_.size()] == '/';
}

StaticDir::Lookup StaticDir::lookup(std::string_view path) const {
  Lookup result;
  std::string_view rest = path.substr(prefix_.size());
  // Normalise dot segments into a relative path.
  std::vector<std::string_view> segments;
  while (!rest.empty()) {
    const std::size_t slash = rest.find('/');
    const std::string_view seg = rest.substr(0, slash);
    rest = slash == std::string_view::npos ? std::string_view() : rest.substr(slash + 1);
    if (seg.empty() || seg == ".") continue;
    if (seg == "..") {
      if (segments.empty()) {
        result.status = 400;  // climbs above the root
        return result;
      }
      segments.pop_back();
      continue;
    }
    if (seg.front() == '.' && seg != ".well-known") return result;  // hidden: 404 (RFC 8615 is served)
    segments.push_back(seg);
  }
  std::string relative;
  for (const std::string_view seg : segments) {
    if (!relative.empty()) relative.push_back('/');
    relative.append(seg);
  }
  if (relative.empty()) relative = ".";

  net::UniqueFd fd(open_beneath(root_.get(), relative));
  if (!fd) {
    result.status = status_for_errno(errno);
    return result;
  }
  if (::fstat(fd.get(), &result.info) != 0) {
    result.status = 404;
    return result;
  }
  if (S_ISDIR(result.info.st_mode)) {
    if (path.empty() || path.back() != '/') {
      result.status = 301;
      result.location = std::string(path) + "/";
      return result;
    }
    net::UniqueFd index(open_beneath(fd.get(), std::string(kIndex)));
    if (!index || ::fstat(index.get(), &result.info) != 0 || !S_ISREG(result.info.st_mode)) {
      result.status = 403;  // a directory without an index (listings: issue 4)
      return result;
    }
    fd = std::move(index);
  } else if (!S_ISREG(result.info.st_mode)) {
    return result;  // devices, FIFOs, sockets: 404
  }
  result.status = 200;
  result.file = std::move(fd);
  return result;
}

}  // namespace weft::files
