#pragma once
/// \file
/// OpenFileCache: a bounded map from a static directory's relative paths to what resolving them
/// gave (an open descriptor and its fstat, or the errno), so that a hot file costs no open and no
/// fstat per request (nginx's open_file_cache). Internal, not public API.
///
/// Thread safety: every member may be called from any thread at once. The map is split into
/// kShards shards, each behind its own mutex held only for a hash lookup and a list splice (never
/// across a system call), so loops rarely meet on a lock and never wait on I/O under one.
///
/// Freshness is the caller's job: StaticDir invalidates the entries of a path when inotify
/// reports a change there (dir_watch.hpp), and checks the others on use. Invalidation and
/// resolution race (a path resolved just before a change, stored just after the change was
/// reported, would stay stale), so every invalidation first advances a generation, and an entry
/// resolved under watch is stored only if the generation it started from is still current.

#include <sys/stat.h>

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>

#include "net/unique_fd.hpp"

namespace weft::files {

struct FastResponse;  // files/fast_response.hpp

/// What resolving one relative path gave. Immutable once stored, except `checked_ns` and the
/// lazily built `fast` answer.
struct FileEntry {
  FileEntry() = default;
  FileEntry(const FileEntry&) = delete;
  FileEntry& operator=(const FileEntry&) = delete;
  ~FileEntry();

  /// True when `now` (a stat of the path or of the descriptor) shows the same file in the same
  /// state as `info`: device, inode, type, size, and mtime and ctime to the nanosecond (ctime
  /// also moves on chmod, link and unlink, and cannot be set back by the writer).
  [[nodiscard]] bool same_as(const struct stat& now) const noexcept;
  /// For a regular file: one fstat of the descriptor still shows `info`, and the file still has
  /// a name (a file deleted or renamed over has none, and its ctime moved). Bytes read from the
  /// descriptor before this returned true are then the ones `info` describes (unless a write was
  /// under way).
  [[nodiscard]] bool descriptor_current() const noexcept;

  int error = 0;                              ///< 0: found (see info); else the errno
  std::shared_ptr<const net::UniqueFd> file;  ///< regular files only: shared with responses
  struct stat info {};                        ///< when error == 0
  /// Any change that could alter what the path names is reported by inotify (dir_watch.hpp),
  /// which invalidates the entry: it is used without a check. Else it is checked on use.
  bool watched = false;
  mutable std::atomic<std::int64_t> checked_ns{};  ///< steady-clock time it was last confirmed
  /// The answer to a plain GET of this file, rendered once (fast_response.hpp); owned, set once.
  mutable std::atomic<const FastResponse*> fast{nullptr};
};

class OpenFileCache {
 public:
  /// Shards; a power of two well above the usual number of loops.
  static constexpr std::size_t kShards = 16;

  /// Holds at most `capacity` entries (rounded up to a multiple of kShards; at least kShards),
  /// evicting the least recently used entry of a full shard.
  explicit OpenFileCache(std::size_t capacity);

  /// The entry for `key`, marked most recently used; null when absent.
  [[nodiscard]] std::shared_ptr<const FileEntry> find(std::string_view key) const;
  /// Stores `entry` for `key`, replacing any entry there.
  void store(std::string_view key, std::shared_ptr<const FileEntry> entry) const;
  /// Stores `entry` unless an invalidation began since generation() returned `since` (read
  /// before the path was resolved); false when it did not store.
  bool store_if_current(std::string_view key, std::shared_ptr<const FileEntry> entry,
                        std::uint64_t since) const;
  /// Drops the entry for `key`, if any.
  void erase(std::string_view key) const;

  /// Advances the generation, then drops the entry for `key` and every entry under `key` + '/'
  /// (a directory renamed or replaced changes what every path through it names).
  void invalidate(std::string_view key) const;
  /// Advances the generation, then drops every entry.
  void invalidate_all() const;
  /// Invalidations begun so far.
  [[nodiscard]] std::uint64_t generation() const noexcept {
    return generation_.load(std::memory_order_acquire);
  }

  /// Entries held now (a snapshot; for tests).
  [[nodiscard]] std::size_t size() const;

 private:
  struct Shard {
    using List = std::list<std::pair<std::string, std::shared_ptr<const FileEntry>>>;
    std::mutex mutex;
    List lru;                                                    // front: most recently used
    std::unordered_map<std::string_view, List::iterator> index;  // keys view into lru's strings
  };
  [[nodiscard]] Shard& shard_for(std::string_view key) const noexcept;
  bool store_locked(std::string_view key, std::shared_ptr<const FileEntry> entry,
                    const std::uint64_t* since) const;

  std::size_t per_shard_;
  mutable std::array<Shard, kShards> shards_;
  mutable std::atomic<std::uint64_t> generation_{0};
};

}  // namespace weft::files
