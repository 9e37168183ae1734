#include "files/open_file_cache.hpp"

#include <gtest/gtest.h>

#include <atomic>
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
