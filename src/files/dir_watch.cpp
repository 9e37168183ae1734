#include "files/dir_watch.hpp"

#include <poll.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <system_error>
#include <utility>
#include <vector>

namespace weft::files {
namespace {

// The changes that can alter what a path names or what its file holds. IN_MODIFY comes with
// every write (the file is then invalid at once, not only at close); IN_CLOSE_WRITE also covers
// writes through a shared mapping, which send no IN_MODIFY; IN_ATTRIB covers chmod, utimes and
// link counts; the rest are entries appearing, going and moving, and the directory itself.
constexpr std::uint32_t kEvents = IN_MODIFY | IN_CLOSE_WRITE | IN_ATTRIB | IN_CREATE | IN_DELETE |
                                  IN_MOVED_FROM | IN_MOVED_TO | IN_DELETE_SELF | IN_MOVE_SELF;

// File systems whose changes need not pass through this kernel (other clients of a network
// file system, the server of a FUSE one): inotify would stay silent about them.
bool changes_unseen_by_inotify(const struct statfs& fs) noexcept {
  switch (static_cast<std::uint32_t>(fs.f_type)) {
    case 0x6969U:      // NFS
    case 0x517BU:      // SMB
    case 0xFF534D42U:  // CIFS
    case 0xFE534D42U:  // SMB2
    case 0x65735546U:  // FUSE (sshfs, virtiofs, ...)
    case 0x00C36400U:  // Ceph
    case 0x01021997U:  // 9p
    case 0x5346414FU:  // AFS
    case 0x6B414653U:  // kAFS
    case 0x73757245U:  // Coda
    case 0x7461636FU:  // OCFS2
    case 0x01161970U:  // GFS2
    case 0x0BD00BD0U:  // Lustre
    case 0x47504653U:  // GPFS
    case 0x786F4256U:  // vboxsf
      return true;
    default:
      return false;
  }
}

std::string child(std::string_view directory, std::string_view name) {
  if (directory == ".") return std::string(name);
  std::string out(directory);
  out.push_back('/');
  out.append(name);
  return out;
}

}  // namespace

DirWatch::DirWatch(int root, std::size_t max_watches, Changed changed)
    : proc_root_("/proc/self/fd/" + std::to_string(root)),
      max_watches_(max_watches),
      changed_(std::move(changed)),
      buffer_(std::size_t{16} * 1024) {
  inotify_.reset(::inotify_init1(IN_NONBLOCK | IN_CLOEXEC));
  wake_.reset(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC));
  ready_.reset(::epoll_create1(EPOLL_CLOEXEC));
  if (!inotify_ || !wake_ || !ready_ || max_watches_ == 0) return;
  epoll_event interest{};
  interest.events = EPOLLIN;
  if (::epoll_ctl(ready_.get(), EPOLL_CTL_ADD, inotify_.get(), &interest) != 0) return;
  {
    const std::lock_guard lock(mutex_);
    if (add_locked(".") != 0) return;
  }
  active_.store(true, std::memory_order_release);
  try {
    thread_ = std::thread([this] { run(); });
  } catch (const std::system_error&) {
    active_.store(false, std::memory_order_release);
  }
}

DirWatch::~DirWatch() {
  if (thread_.joinable()) {
    const std::uint64_t one = 1;
    while (::write(wake_.get(), &one, sizeof one) < 0 && errno == EINTR) {
    }
    thread_.join();
  }
}

bool DirWatch::watch_path(std::string_view relative) {
  if (!active()) return false;
  const std::lock_guard lock(mutex_);
  std::string directory = ".";
  std::size_t from = 0;
  for (;;) {
    if (by_path_.find(directory) == by_path_.end()) {
      if (const int err = add_locked(directory); err != 0) {
        // A name on the way that is missing or no directory: its parent, watched, reports when
        // that changes. Anything else leaves the path unwatched.
        return directory != "." && (err == ENOENT || err == ENOTDIR);
      }
    }
    const std::size_t slash = relative.find('/', from);
    if (slash == std::string_view::npos) return true;
    directory.assign(relative.substr(0, slash));
    from = slash + 1;
  }
}

std::size_t DirWatch::watches() const {
  const std::lock_guard lock(mutex_);
  return by_path_.size();
}

int DirWatch::add_locked(const std::string& directory) {
  if (by_path_.size() >= max_watches_) return ENOSPC;
  const std::string path = directory == "." ? proc_root_ : proc_root_ + "/" + directory;
  struct statfs fs {};
  if (::statfs(path.c_str(), &fs) != 0) return errno;
  if (changes_unseen_by_inotify(fs)) return EREMOTE;
  // The root is reached through its /proc link, which must be followed; below it a symlink is
  // not watched (a path through one is checked on use instead: its target can change anywhere).
  const std::uint32_t follow = directory == "." ? 0U : static_cast<std::uint32_t>(IN_DONT_FOLLOW);
  const int wd =
      ::inotify_add_watch(inotify_.get(), path.c_str(), kEvents | IN_ONLYDIR | IN_EXCL_UNLINK | follow);
  if (wd < 0) return errno;
  if (const auto known = by_wd_.find(wd); known != by_wd_.end()) {
    // The same directory already watched under another name: it was moved there and the event
    // saying so is still on its way. The old name no longer leads to it.
    by_path_.erase(known->second);
    known->second = directory;
  } else {
    by_wd_.emplace(wd, directory);
  }
  by_path_.insert_or_assign(directory, wd);
  return 0;
}

void DirWatch::drop_locked(std::string_view directory) {
  const auto remove = [this](std::map<std::string, int, std::less<>>::iterator it) {
    ::inotify_rm_watch(inotify_.get(), it->second);  // its IN_IGNORED finds no mapping: ignored
    by_wd_.erase(it->second);
    return by_path_.erase(it);
  };
  if (const auto it = by_path_.find(directory); it != by_path_.end()) remove(it);
  // Everything below: the keys from "directory/" up to "directory0" ('0' follows '/').
  std::string low(directory);
  low.push_back('/');
  std::string high(directory);
  high.push_back('0');
  for (auto it = by_path_.lower_bound(low); it != by_path_.end() && it->first < high;) it = remove(it);
}

void DirWatch::catch_up() {
  if (!active()) return;
  // Nothing queued and nothing being applied: every change so far has been applied. (The
  // thread counts itself in before it takes events off the queue, so a queue found empty
  // while it holds them shows as in_flight_.) An event is queued, and the epoll instance made
  // ready, within the system call that made the change. epoll_wait with no timeout is the
  // cheapest way to ask: about half the cost of FIONREAD on the inotify descriptor.
  epoll_event ready{};
  if (::epoll_wait(ready_.get(), &ready, 1, 0) == 0 && in_flight_.load(std::memory_order_seq_cst) == 0)
    return;
  const std::lock_guard lock(drain_mutex_);
  drain_locked();
}

void DirWatch::drain_locked() noexcept {
  try {
    for (;;) {
      const ssize_t n = ::read(inotify_.get(), buffer_.data(), buffer_.size());
      if (n > 0) {
        process(buffer_.data(), static_cast<std::size_t>(n));
        continue;
      }
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && errno == EAGAIN) return;
      fail();
      return;
    }
  } catch (...) {  // out of memory, events taken off the queue and lost: trust nothing
    fail();
  }
}

void DirWatch::run() {
  while (active()) {
    std::array<pollfd, 2> fds{{{inotify_.get(), POLLIN, 0}, {wake_.get(), POLLIN, 0}}};
    if (::poll(fds.data(), fds.size(), -1) < 0) {
      if (errno == EINTR) continue;
      fail();
      return;
    }
    if (fds[1].revents != 0) return;
    in_flight_.fetch_add(1, std::memory_order_seq_cst);
    {
      const std::lock_guard lock(drain_mutex_);
      drain_locked();
    }
    in_flight_.fetch_sub(1, std::memory_order_seq_cst);
  }
}

void DirWatch::process(const char* events, std::size_t length) {
  std::vector<std::string> paths;
  bool everything = false;
  {
    const std::lock_guard lock(mutex_);
    for (std::size_t at = 0; at + sizeof(inotify_event) <= length;) {
      inotify_event ev{};
      std::memcpy(&ev, events + at, sizeof ev);
      const char* name = events + at + sizeof ev;
      at += sizeof ev + ev.len;
      if ((ev.mask & IN_Q_OVERFLOW) != 0) {
        everything = true;
        continue;
      }
      const auto known = by_wd_.find(ev.wd);
      if (known == by_wd_.end()) continue;  // a watch already dropped, with what lay below it
      std::string directory = known->second;
      if ((ev.mask & IN_IGNORED) != 0) {  // the directory is gone
        by_path_.erase(directory);
        by_wd_.erase(known);
      } else if ((ev.mask & (IN_DELETE_SELF | IN_MOVE_SELF)) != 0) {
        // The root is used through its descriptor: moving it changes no path below it.
        if (directory == "." && (ev.mask & IN_DELETE_SELF) == 0) continue;
        drop_locked(directory);
      } else if (ev.len > 0 && name[0] != '\0') {
        // An entry of the directory: a file, or a directory whose watches no longer match
        // their names if it moved.
        directory = child(directory, name);
        drop_locked(directory);
      }
      // (An event without a name concerns the directory itself, e.g. its permissions.)
      if (directory == ".") everything = true;
      if (paths.empty() || paths.back() != directory) paths.push_back(std::move(directory));
    }
  }
  // After the watches are dropped: a thread that resolves a path from now on watches anew.
  if (everything) {
    changed_(std::nullopt);
    return;
  }
  for (const std::string& path : paths) changed_(path);
}

void DirWatch::fail() noexcept {
  active_.store(false, std::memory_order_release);
  try {
    changed_(std::nullopt);
  } catch (...) {  // NOLINT(bugprone-empty-catch): nothing left to tell
  }
}

}  // namespace weft::files
