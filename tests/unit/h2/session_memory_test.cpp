#include "h2/session_memory.hpp"

#include <gtest/gtest.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <thread>
#include <vector>

namespace weft::h2 {
namespace {

void* take(nghttp2_mem& m, std::size_t n) { return m.malloc(n, m.mem_user_data); }
void give(nghttp2_mem& m, void* p) { m.free(p, m.mem_user_data); }

void fill(void* p, std::size_t n, unsigned char seed) {
  auto* bytes = static_cast<unsigned char*>(p);
  for (std::size_t i = 0; i < n; ++i) bytes[i] = static_cast<unsigned char>(seed + i);
}

bool holds(const void* p, std::size_t n, unsigned char seed) {
  const auto* bytes = static_cast<const unsigned char*>(p);
  for (std::size_t i = 0; i < n; ++i) {
    if (bytes[i] != static_cast<unsigned char>(seed + i)) return false;
  }
  return true;
}

TEST(SessionMemory, EverySizeIsUsableAlignedAndReusedAfterItsFree) {
  nghttp2_mem& m = *caching_session_memory();
  for (std::size_t n : {1UL, 63UL, 64UL, 65UL, 96UL, 100UL, 500UL, 1024UL, 1025UL, 4096UL, 20000UL}) {
    void* p = take(m, n);
    ASSERT_NE(p, nullptr) << n;
    EXPECT_EQ(reinterpret_cast<std::uintptr_t>(p) % 16, 0U) << n;
    fill(p, n, static_cast<unsigned char>(n));
    EXPECT_TRUE(holds(p, n, static_cast<unsigned char>(n))) << n;
    give(m, p);
    if (n <= 1024) {
      // The cache hands the block just freed to the next request of its class.
      void* again = take(m, n);
      EXPECT_EQ(again, p) << n;
      give(m, again);
    }
  }
  give(m, nullptr);  // as free(NULL)
}

TEST(SessionMemory, CallocZeroesAReusedBlockAndRefusesAnOverflowingCount) {
  nghttp2_mem& m = *caching_session_memory();
  void* dirty = take(m, 200);
  std::memset(dirty, 0xAB, 200);
  give(m, dirty);
  auto* zeroed = static_cast<unsigned char*>(m.calloc(20, 10, m.mem_user_data));
  ASSERT_NE(zeroed, nullptr);
  for (std::size_t i = 0; i < 200; ++i) ASSERT_EQ(zeroed[i], 0) << i;
  give(m, zeroed);
  EXPECT_EQ(m.calloc(static_cast<std::size_t>(-1) / 2, 4, m.mem_user_data), nullptr);
}

TEST(SessionMemory, ReallocKeepsTheBytesAcrossClassesAndIntoMallocsOwn) {
  nghttp2_mem& m = *caching_session_memory();
  void* p = m.realloc(nullptr, 10, m.mem_user_data);  // as malloc
  ASSERT_NE(p, nullptr);
  fill(p, 10, 7);
  std::size_t kept = 10;
  for (std::size_t n : {60UL, 64UL, 90UL, 300UL, 1024UL, 3000UL, 70000UL, 100UL}) {
    p = m.realloc(p, n, m.mem_user_data);
    ASSERT_NE(p, nullptr) << n;
    ASSERT_TRUE(holds(p, std::min(kept, n), 7)) << "grown or shrunk to " << n;
    fill(p, n, 7);
    kept = n;
  }
  give(m, p);
}

TEST(SessionMemory, ABlockFreedOnAnotherThreadServesThatThread) {
  nghttp2_mem& m = *caching_session_memory();
  void* p = take(m, 128);
  fill(p, 128, 3);
  void* reused = nullptr;
  std::thread other([&] {
    EXPECT_TRUE(holds(p, 128, 3));
    give(m, p);
    reused = take(m, 128);
    give(m, reused);
  });
  other.join();  // its cache is released as it exits
  EXPECT_EQ(reused, p);
}

TEST(SessionMemory, ManyBlocksOfOneClassOutliveTheCacheBound) {
  // Far more than one class keeps: the rest go back to malloc, and all stay distinct and whole.
  nghttp2_mem& m = *caching_session_memory();
  std::vector<void*> blocks;
  for (int i = 0; i < 2000; ++i) {
    blocks.push_back(take(m, 64));
    fill(blocks.back(), 64, static_cast<unsigned char>(i));
  }
  for (int i = 0; i < 2000; ++i)
    ASSERT_TRUE(holds(blocks[static_cast<std::size_t>(i)], 64, static_cast<unsigned char>(i)));
  for (void* p : blocks) give(m, p);
  for (int round = 0; round < 3; ++round) {
    blocks.clear();
    for (int i = 0; i < 2000; ++i) blocks.push_back(take(m, 64));
    for (void* p : blocks) give(m, p);
  }
}

}  // namespace
}  // namespace weft::h2
