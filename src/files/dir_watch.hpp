#pragma once
/// \file
/// DirWatch: inotify on the directories of a static tree whose paths the open-file cache holds,
/// so that a cached entry can be used without checking it and still be dropped before the
/// first request that follows a change of what its path names. Internal, not public API.
///
/// Why inotify: a cached entry must never outlive what its path names, yet checking the path
/// on every request (one fstatat and its path walk) cost 18% of the CPU time of a small
/// keep-alive request on bench/compare. A watched entry needs no check of its own: every
/// change to every watched path is queued, within the system call that makes it, on one
/// inotify queue, and catch_up() looks at that queue once per request and applies what is
/// there. The look is one epoll_wait with no timeout, the cheapest system call that can answer
/// (about 0.2 us here, half of FIONREAD); no cheaper way exists, since only a look taken after
/// the request arrived can see a change made just before. The thread only keeps the queue short
/// between requests: alone it would leave a window, since a loop can take a request before the
/// thread is scheduled after a change (in tests, a client that edits a file and then asks for
/// it got the previous version in several rounds out of thirty).
///
/// What inotify cannot report (a change on another machine of a network file system, a write
/// through a hard link in an unwatched directory) is left to a check per use: watch_path()
/// refuses those paths, and the caller checks them.
///
/// One inotify instance and one thread per static directory. Each event is reported as the
/// relative path it concerns; a directory's path stands for everything below it too. Watches
/// are added by the threads that resolve paths, before they resolve, and removed when their
/// directory goes away or is renamed.
///
/// Thread safety: watch_path(), catch_up() and watches() from any thread at once; `changed`
/// runs on whichever thread applies the event (the watch's own, or one in catch_up()), never
/// under the lock that watch_path() takes, one event batch at a time.

#include <atomic>
#include <cstddef>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <vector>

#include "net/unique_fd.hpp"

namespace weft::files {

class DirWatch {
 public:
  /// What changed: a relative path (NormalizedPath::relative form, "." for the root), or
  /// nullopt when anything may have (events were lost, or the watch stopped working).
  using Changed = std::function<void(std::optional<std::string_view>)>;

  /// Watches `root` (a directory descriptor the caller keeps open while this lives), holding at
  /// most `max_watches` watches. Inactive, never throwing, when inotify is unavailable (no
  /// instance left, no /proc) or the root is on a file system where inotify misses changes.
  DirWatch(int root, std::size_t max_watches, Changed changed);
  DirWatch(const DirWatch&) = delete;
  DirWatch& operator=(const DirWatch&) = delete;
  ~DirWatch();

  /// False when changes are not (or no longer) reported: watch_path() then always refuses.
  [[nodiscard]] bool active() const noexcept { return active_.load(std::memory_order_acquire); }

  /// Makes sure that, from now on, every change that could alter what `relative` names is
  /// reported: a change of its own entry or of the entry of any directory on the way. Watches
  /// each directory from the root to its parent, top-down. Call it before resolving the path.
  /// True when so: every directory on the way is watched, or the way ends at a name that does
  /// not exist or is not a directory (its parent reports it appearing). False when a directory
  /// cannot be watched (out of watches, no permission, a network or FUSE file system).
  [[nodiscard]] bool watch_path(std::string_view relative);

  /// Applies every change queued so far before returning (on this thread, if the watch's own
  /// has not yet): a change completed before the call has been reported through `changed` when
  /// it returns. One epoll_wait when nothing is queued.
  void catch_up();

  /// Watches held now (for tests).
  [[nodiscard]] std::size_t watches() const;

 private:
  void run();
  void drain_locked() noexcept;  // under drain_mutex_: reads and applies until the queue is empty
  [[nodiscard]] int add_locked(const std::string& directory);  // 0 or an errno
  void drop_locked(std::string_view directory);                // its watch and those below it
  void process(const char* events, std::size_t length);
  void fail() noexcept;

  std::string proc_root_;  // "/proc/self/fd/N": the root by its descriptor, wherever it moves
  std::size_t max_watches_;
  Changed changed_;
  net::UniqueFd inotify_;
  net::UniqueFd wake_;   // an eventfd: stop
  net::UniqueFd ready_;  // an epoll instance holding inotify_ alone: is anything queued?
  std::atomic<bool> active_{false};
  mutable std::mutex mutex_;
  std::map<std::string, int, std::less<>> by_path_;  // ordered: a directory's subtree is a range
  std::unordered_map<int, std::string> by_wd_;
  std::mutex drain_mutex_;         // one reader of the queue at a time: batches apply in order
  std::vector<char> buffer_;       // under drain_mutex_
  std::atomic<int> in_flight_{0};  // the thread is taking events off the queue or applying them
  std::thread thread_;
};

}  // namespace weft::files
