#include "files/open_file_cache.hpp"

#include "files/fast_response.hpp"

#include <unistd.h>

#include <functional>
#include <vector>

namespace weft::files {

FileEntry::~FileEntry() { delete fast.load(std::memory_order_acquire); }

bool FileEntry::same_as(const struct stat& now) const noexcept {
  return now.st_dev == info.st_dev && now.st_ino == info.st_ino && now.st_mode == info.st_mode &&
         now.st_size == info.st_size && now.st_mtim.tv_sec == info.st_mtim.tv_sec &&
         now.st_mtim.tv_nsec == info.st_mtim.tv_nsec && now.st_ctim.tv_sec == info.st_ctim.tv_sec &&
         now.st_ctim.tv_nsec == info.st_ctim.tv_nsec;
}

bool FileEntry::descriptor_current() const noexcept {
  if (error != 0 || !file) return false;
  struct stat now {};
  return ::fstat(file->get(), &now) == 0 && now.st_nlink > 0 && same_as(now);
}

OpenFileCache::OpenFileCache(std::size_t capacity)
    : per_shard_(capacity / kShards + (capacity % kShards != 0 ? 1 : 0)) {
  if (per_shard_ == 0) per_shard_ = 1;
}

OpenFileCache::Shard& OpenFileCache::shard_for(std::string_view key) const noexcept {
  return shards_[std::hash<std::string_view>{}(key) % kShards];
}

std::shared_ptr<const FileEntry> OpenFileCache::find(std::string_view key) const {
  Shard& shard = shard_for(key);
  const std::lock_guard lock(shard.mutex);
  const auto it = shard.index.find(key);
  if (it == shard.index.end()) return nullptr;
  shard.lru.splice(shard.lru.begin(), shard.lru, it->second);
  return it->second->second;
}

void OpenFileCache::store(std::string_view key, std::shared_ptr<const FileEntry> entry) const {
  (void)store_locked(key, std::move(entry), nullptr);
}

bool OpenFileCache::store_if_current(std::string_view key, std::shared_ptr<const FileEntry> entry,
                                     std::uint64_t since) const {
  return store_locked(key, std::move(entry), &since);
}

bool OpenFileCache::store_locked(std::string_view key, std::shared_ptr<const FileEntry> entry,
                                 const std::uint64_t* since) const {
  Shard& shard = shard_for(key);
  // The evicted entry is released after the lock: its descriptor may be closed by that release.
  std::shared_ptr<const FileEntry> evicted;
  const std::lock_guard lock(shard.mutex);
  // Read under the lock: an invalidation advances the generation before it takes this lock to
  // erase, so either this sees the new generation or the erase comes after the store.
  if (since != nullptr && generation_.load(std::memory_order_acquire) != *since) return false;
  if (const auto it = shard.index.find(key); it != shard.index.end()) {
    evicted = std::exchange(it->second->second, std::move(entry));
    shard.lru.splice(shard.lru.begin(), shard.lru, it->second);
    return true;
  }
  if (shard.lru.size() >= per_shard_) {
    auto& victim = shard.lru.back();
    shard.index.erase(victim.first);
    evicted = std::move(victim.second);
    shard.lru.pop_back();
  }
  shard.lru.emplace_front(std::string(key), std::move(entry));
  shard.index.emplace(shard.lru.front().first, shard.lru.begin());
  return true;
}

void OpenFileCache::erase(std::string_view key) const {
  Shard& shard = shard_for(key);
  std::shared_ptr<const FileEntry> evicted;
  const std::lock_guard lock(shard.mutex);
  const auto it = shard.index.find(key);
  if (it == shard.index.end()) return;
  const Shard::List::iterator node = it->second;
  evicted = std::move(node->second);
  shard.index.erase(it);  // before the node whose string the key views
  shard.lru.erase(node);
}

void OpenFileCache::invalidate(std::string_view key) const {
  generation_.fetch_add(1, std::memory_order_acq_rel);
  erase(key);
  // Entries below it lie in any shard. Released after each shard's lock, as in store().
  std::vector<std::shared_ptr<const FileEntry>> dropped;
  for (Shard& shard : shards_) {
    const std::lock_guard lock(shard.mutex);
    for (auto it = shard.lru.begin(); it != shard.lru.end();) {
      const std::string& name = it->first;
      if (name.size() > key.size() && name[key.size()] == '/' && name.compare(0, key.size(), key) == 0) {
        dropped.push_back(std::move(it->second));
        shard.index.erase(name);
        it = shard.lru.erase(it);
      } else {
        ++it;
      }
    }
  }
}

void OpenFileCache::invalidate_all() const {
  generation_.fetch_add(1, std::memory_order_acq_rel);
  for (Shard& shard : shards_) {
    Shard::List dropped;
    {
      const std::lock_guard lock(shard.mutex);
      shard.index.clear();
      dropped.swap(shard.lru);
    }
  }
}

std::size_t OpenFileCache::size() const {
  std::size_t total = 0;
  for (Shard& shard : shards_) {
    const std::lock_guard lock(shard.mutex);
    total += shard.lru.size();
  }
  return total;
}

}  // namespace weft::files
