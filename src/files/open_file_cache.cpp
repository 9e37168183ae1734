#include "files/open_file_cache.hpp"

#include "files/fast_response.hpp"

#include <functional>

namespace weft::files {

FileEntry::~FileEntry() { delete fast.load(std::memory_order_acquire); }

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
  Shard& shard = shard_for(key);
  // The evicted entry is released after the lock: its descriptor may be closed by that release.
  std::shared_ptr<const FileEntry> evicted;
  const std::lock_guard lock(shard.mutex);
  if (const auto it = shard.index.find(key); it != shard.index.end()) {
    evicted = std::exchange(it->second->second, std::move(entry));
    shard.lru.splice(shard.lru.begin(), shard.lru, it->second);
    return;
  }
  if (shard.lru.size() >= per_shard_) {
    auto& victim = shard.lru.back();
    shard.index.erase(victim.first);
    evicted = std::move(victim.second);
    shard.lru.pop_back();
  }
  shard.lru.emplace_front(std::string(key), std::move(entry));
  shard.index.emplace(shard.lru.front().first, shard.lru.begin());
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

std::size_t OpenFileCache::size() const {
  std::size_t total = 0;
  for (Shard& shard : shards_) {
    const std::lock_guard lock(shard.mutex);
    total += shard.lru.size();
  }
  return total;
}

}  // namespace weft::files
