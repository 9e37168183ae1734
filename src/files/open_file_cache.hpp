#pragma once
/// \file
/// OpenFileCache: a bounded map from a static directory's relative paths to what resolving them
/// gave (an open descriptor and its fstat, or the errno), so that a hot file costs no open and no
/// fstat per request (nginx's open_file_cache). Internal, not public API.
///
/// Thread safety: every member may be called from any thread at once. The map is split into
/// kShards shards, each behind its own mutex held only for a hash lookup and a list splice (never
/// across a system call), so loops rarely meet on a lock and never wait on I/O under one.
/// Freshness is the caller's job (StaticDir re-checks an entry older than revalidate_after with
/// one fstatat and stores a new entry when the file changed).

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

  int error = 0;                                   ///< 0: found (see info); else the errno
  std::shared_ptr<const net::UniqueFd> file;       ///< regular files only: shared with responses
  struct stat info {};                             ///< when error == 0
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
  /// Drops the entry for `key`, if any.
  void erase(std::string_view key) const;
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

  std::size_t per_shard_;
  mutable std::array<Shard, kShards> shards_;
};

}  // namespace weft::files
