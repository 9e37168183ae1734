#include "files/open_file_cache.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <cstdint>
#include <string>
#include <thread>
#include <vector>

namespace {

using weft::files::FileEntry;
using weft::files::OpenFileCache;

std::shared_ptr<const FileEntry> entry(int error) {
  auto e = std::make_shared<FileEntry>();
  e->error = error;
  return e;
}

TEST(OpenFileCache, FindsWhatWasStoredAndReplaces) {
  const OpenFileCache cache(64);
  EXPECT_EQ(cache.find("a"), nullptr);
  cache.store("a", entry(1));
  ASSERT_NE(cache.find("a"), nullptr);
  EXPECT_EQ(cache.find("a")->error, 1);
  cache.store("a", entry(2));
  EXPECT_EQ(cache.find("a")->error, 2);
  EXPECT_EQ(cache.size(), 1U);
  cache.erase("a");
  EXPECT_EQ(cache.find("a"), nullptr);
}

TEST(OpenFileCache, StaysWithinItsCapacityEvictingTheLeastRecentlyUsed) {
  const OpenFileCache cache(OpenFileCache::kShards);  // one entry per shard
  for (int i = 0; i < 1000; ++i) cache.store("k" + std::to_string(i), entry(i));
  EXPECT_LE(cache.size(), OpenFileCache::kShards);
  EXPECT_NE(cache.find("k999"), nullptr);  // the latest is in
}

TEST(OpenFileCache, InvalidateDropsThePathAndEverythingBelowIt) {
  const OpenFileCache cache(64);
  for (const char* key : {"a", "a/b", "a/b/c.txt", "ab", "a-b", "a.txt", "b/a"}) cache.store(key, entry(0));
  const std::uint64_t before = cache.generation();
  cache.invalidate("a");
  EXPECT_GT(cache.generation(), before);
  for (const char* gone : {"a", "a/b", "a/b/c.txt"}) EXPECT_EQ(cache.find(gone), nullptr) << gone;
  for (const char* kept : {"ab", "a-b", "a.txt", "b/a"}) EXPECT_NE(cache.find(kept), nullptr) << kept;
  cache.invalidate_all();
  EXPECT_EQ(cache.size(), 0U);
}

// A path resolved before a change was reported must not be stored after the report dropped the
// path's entry: it would stay, stale, until the next change.
TEST(OpenFileCache, AnEntryResolvedBeforeAnInvalidationIsNotStored) {
  const OpenFileCache cache(64);
  const std::uint64_t since = cache.generation();
  EXPECT_TRUE(cache.store_if_current("f", entry(1), since));
  ASSERT_NE(cache.find("f"), nullptr);
  const std::uint64_t again = cache.generation();
  cache.invalidate("elsewhere");  // any invalidation: the generation is the whole cache's
  EXPECT_FALSE(cache.store_if_current("f", entry(2), again));
  EXPECT_EQ(cache.find("f")->error, 1);
  EXPECT_TRUE(cache.store_if_current("f", entry(3), cache.generation()));
  EXPECT_EQ(cache.find("f")->error, 3);
}

TEST(OpenFileCache, InvalidationRacingStoresNeverLeavesAStaleEntry) {
  // A resolver reads the generation, "resolves" (the version it read), stores if current; an
  // invalidator publishes a new version, then invalidates. Afterwards the cache holds either
  // nothing or the last version.
  const OpenFileCache cache(64);
  std::atomic<int> version{0};
  std::atomic<bool> stop{false};
  std::thread resolver([&] {
    while (!stop.load()) {
      const std::uint64_t since = cache.generation();
      const int seen = version.load();
      (void)cache.store_if_current("k", entry(seen), since);
    }
  });
  for (int v = 1; v <= 2000; ++v) {
    version.store(v);
    cache.invalidate("k");
  }
  stop.store(true);
  resolver.join();
  const auto left = cache.find("k");
  if (left) {
    EXPECT_EQ(left->error, 2000);
  }
}

TEST(OpenFileCache, ConcurrentUseFromManyThreads) {
  const OpenFileCache cache(128);
  std::atomic<int> found{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&cache, &found, t] {
      for (int i = 0; i < 2000; ++i) {
        const std::string key = "k" + std::to_string((i * 7 + t) % 300);
        if (cache.find(key)) {
          found.fetch_add(1, std::memory_order_relaxed);
        } else {
          cache.store(key, entry(i));
        }
        if (i % 97 == 0) cache.erase(key);
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_LE(cache.size(), 128U);
  EXPECT_GT(found.load(), 0);
}

}  // namespace
