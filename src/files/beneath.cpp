#include "files/beneath.hpp"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <climits>
#include <deque>
#include <iterator>
#include <vector>

namespace weft::files {
namespace {

// Linux's own limit on symlinks in one resolution (MAXSYMLINKS).
constexpr int kMaxSymlinks = 40;

Opened failure(int err) {
  Opened o;
  o.error = err == 0 ? EIO : err;
  return o;
}

Opened success(int fd) {
  Opened o;
  o.fd.reset(fd);
  return o;
}

void push_front_components(std::deque<std::string>& todo, std::string_view path) {
  std::vector<std::string> parts;
  while (!path.empty()) {
    const std::size_t slash = path.find('/');
    parts.emplace_back(path.substr(0, slash));
    path = slash == std::string_view::npos ? std::string_view() : path.substr(slash + 1);
  }
  todo.insert(todo.begin(), std::make_move_iterator(parts.begin()), std::make_move_iterator(parts.end()));
}

}  // namespace

Opened open_beneath_openat2(int root, const std::string& relative, Symlinks symlinks) {
  open_how how{};
  how.flags = static_cast<std::uint64_t>(kOpenFlags);
  how.resolve = RESOLVE_NO_MAGICLINKS | RESOLVE_NO_SYMLINKS;
  if (symlinks == Symlinks::kBeneath) how.resolve |= RESOLVE_BENEATH;
  long fd = ::syscall(SYS_openat2, root, relative.c_str(), &how, sizeof how);
  const bool via_symlink = fd < 0 && errno == ELOOP;
  if (via_symlink) {
    how.resolve &= ~static_cast<std::uint64_t>(RESOLVE_NO_SYMLINKS);
    fd = ::syscall(SYS_openat2, root, relative.c_str(), &how, sizeof how);
  }
  Opened opened = fd < 0 ? failure(errno) : success(static_cast<int>(fd));
  opened.via_symlink = via_symlink;
  return opened;
}

namespace {

// The walk of open_beneath_by_components under kBeneath; counts the symlinks it followed.
Opened walk_beneath(int root, std::string_view relative, int& links) {
  std::deque<std::string> todo;
  push_front_components(todo, relative);
  std::vector<net::UniqueFd> dirs;  // the directories walked into; back() is the current one
  const auto current = [&] { return dirs.empty() ? root : dirs.back().get(); };
  net::UniqueFd last;     // O_PATH descriptor of a final non-directory
  std::string last_name;  // its name in current()
  struct stat last_info {};

  while (!todo.empty()) {
    std::string name = std::move(todo.front());
    todo.pop_front();
    if (name.empty() || name == ".") continue;
    if (name == "..") {
      if (dirs.empty()) return failure(EXDEV);
      dirs.pop_back();
      continue;
    }
    net::UniqueFd fd(::openat(current(), name.c_str(), O_PATH | O_NOFOLLOW | O_CLOEXEC));
    if (!fd) return failure(errno);
    struct stat info {};
    if (::fstat(fd.get(), &info) != 0) return failure(errno);
    if (S_ISLNK(info.st_mode)) {
      if (++links > kMaxSymlinks) return failure(ELOOP);
      std::array<char, PATH_MAX> target{};
      const ssize_t n = ::readlinkat(fd.get(), "", target.data(), target.size());
      if (n < 0) return failure(errno);
      if (n == 0 || static_cast<std::size_t>(n) >= target.size()) return failure(ENAMETOOLONG);
      const std::string_view link(target.data(), static_cast<std::size_t>(n));
      if (link.front() == '/') return failure(EXDEV);
      push_front_components(todo, link);
      continue;
    }
    if (S_ISDIR(info.st_mode)) {
      dirs.push_back(std::move(fd));
      continue;
    }
    if (!todo.empty()) {
      // "file/more": the walk must end here, unless only "." segments follow (a symlink
      // target like "f/." is still not a directory).
      return failure(ENOTDIR);
    }
    last = std::move(fd);
    last_name = std::move(name);
    last_info = info;
  }

  if (!last) {
    const int fd = ::openat(current(), ".", kOpenFlags);
    return fd < 0 ? failure(errno) : success(fd);
  }
  const int fd = ::openat(current(), last_name.c_str(), kOpenFlags | O_NOFOLLOW);
  if (fd < 0) return failure(errno);
  Opened opened = success(fd);
  struct stat now {};
  if (::fstat(fd, &now) != 0 || now.st_ino != last_info.st_ino || now.st_dev != last_info.st_dev) {
    return failure(ENOENT);  // replaced between the walk and the open
  }
  return opened;
}

}  // namespace

Opened open_beneath_by_components(int root, std::string_view relative, Symlinks symlinks) {
  if (symlinks == Symlinks::kFollowAnywhere) {
    const std::string path(relative.empty() ? "." : relative);
    const int fd = ::openat(root, path.c_str(), kOpenFlags);
    Opened opened = fd < 0 ? failure(errno) : success(fd);
    opened.via_symlink = true;
    return opened;
  }
  int links = 0;
  Opened opened = walk_beneath(root, relative, links);
  opened.via_symlink = links > 0;
  return opened;
}

bool openat2_available(int root) {
  const Opened probe = open_beneath_openat2(root, ".", Symlinks::kBeneath);
  return probe.error != ENOSYS && probe.error != EPERM;
}

}  // namespace weft::files
